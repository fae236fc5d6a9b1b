import { describe, expect, it } from "vitest";
import { classify, diffstat, formatDiffstat, wordSegments } from "../../src/tui/diff-view.js";
import { windowStart } from "../../src/tui/series-pane.js";
import { cellWidth, fit } from "../../src/tui/cells.js";
import { parseMouse } from "../../src/tui/use-terminal.js";
import { makeTheme } from "../../src/tui/theme.js";
import { displaySubject, shortAuthor } from "../../src/tui/use-headers.js";

const DIFF = [
  "diff --git a/a.c b/a.c",
  "--- a/a.c",
  "+++ b/a.c",
  "@@ -1,4 +1,4 @@",
  " int x;",
  "-int size = 10;",
  "-int old_only;",
  "+int size = 20;",
  " int y;",
  "diff --git a/new.txt b/new.txt",
  "new file mode 100644",
  "--- /dev/null",
  "+++ b/new.txt",
  "@@ -0,0 +1,2 @@",
  "+one",
  "+two",
  "",
].join("\n");

describe("diff view", () => {
  it("classifies lines and pairs removed with added lines", () => {
    const lines = classify(DIFF);
    expect(lines.map((l) => l.kind)).toEqual([
      "file",
      "meta",
      "meta",
      "hunk",
      "ctx",
      "del",
      "del",
      "add",
      "ctx",
      "file",
      "meta",
      "meta",
      "meta",
      "hunk",
      "add",
      "add",
    ]);
    expect(lines[5].pair).toBe(7);
    expect(lines[7].pair).toBe(5);
    expect(lines[6].pair).toBeUndefined();
  });

  it("highlights the words that changed, on both sides", () => {
    const lines = classify(DIFF);
    const cache = new Map();
    const del = wordSegments(lines, 5, cache)!;
    const add = wordSegments(lines, 7, cache)!;
    expect(del.filter((s) => s.changed).map((s) => s.text)).toEqual(["10"]);
    expect(add.filter((s) => s.changed).map((s) => s.text)).toEqual(["20"]);
    expect(del.map((s) => s.text).join("")).toBe("int size = 10;");
    expect(wordSegments(lines, 6, cache)).toBeNull();
  });

  it("counts a diffstat per file", () => {
    const stats = diffstat(classify(DIFF));
    expect(stats).toEqual([
      { path: "a.c", added: 1, removed: 2 },
      { path: "new.txt", added: 2, removed: 0 },
    ]);
    expect(formatDiffstat(stats, 60).at(-1)).toBe(" 2 files changed, 3 insertions(+), 2 deletions(-)");
    // git quotes a non-ASCII name: the diffstat shows the name (its bytes), not the octal escapes.
    const quoted =
      'diff --git "a/\\321\\204.txt" "b/\\321\\204.txt"\nnew file mode 100644\n--- /dev/null\n+++ "b/\\321\\204.txt"\n@@ -0,0 +1 @@\n+x\n';
    expect(diffstat(classify(quoted)).map((s) => Buffer.from(s.path, "latin1").toString("utf8"))).toEqual(["ф.txt"]);
  });
});

describe("terminal cells", () => {
  it("measures and cuts wide characters as two cells", () => {
    expect(cellWidth("p8-ünïcode-文件")).toBe(15);
    expect(fit("p8-ünïcode-文件", 15)).toBe("p8-ünïcode-文件");
    expect(fit("p8-ünïcode-文件", 14)).toBe("p8-ünïcode-文…");
    expect(fit("ab", 4)).toBe("ab  ");
  });
});

describe("tui helpers", () => {
  it("keeps the cursor inside the window, moving it as little as possible", () => {
    expect(windowStart(0, 0, 10, 5)).toBe(0);
    expect(windowStart(15, 0, 10, 100)).toBe(6);
    expect(windowStart(3, 6, 10, 100)).toBe(3);
    expect(windowStart(8, 6, 10, 100)).toBe(6);
    expect(windowStart(99, 0, 10, 100)).toBe(90);
    expect(windowStart(9_999, 9_000, 30, 10_000)).toBe(9_970);
  });

  it("reads SGR mouse wheel reports", () => {
    expect(parseMouse("[<64;10;5M")).toEqual({ wheel: "up", x: 10, y: 5 });
    expect(parseMouse("\x1b[<65;120;7M")).toEqual({ wheel: "down", x: 120, y: 7 });
    expect(parseMouse("[<0;3;4m")).toEqual({ wheel: null, x: 3, y: 4 });
    expect(parseMouse("j")).toBeNull();
  });

  it("turns colours off under NO_COLOR", () => {
    expect(makeTheme({ NO_COLOR: "1" }).color("red")).toBeUndefined();
    expect(makeTheme({}).color("red")).toBe("red");
  });

  it("shortens authors and subjects for the list", () => {
    expect(shortAuthor("Ada Example <ada@example.org>")).toBe("Ada Example");
    expect(shortAuthor('"Ex, Ada" <ada@example.org>')).toBe("Ex, Ada");
    expect(displaySubject("[PATCH 3/7] mm: fix it")).toBe("mm: fix it");
  });
});
