/**
 * The preview shows kernel patches, which are tab-indented: a tab written raw moves the
 * terminal's cursor past what the line was measured as, and the row wrapped and scrolled the
 * screen's title away (t54 N2). Tabs are spaces to the next multiple of 8, lines are cut by
 * terminal cells, and a soft hyphen (a cell for the terminal, none for ink) shows as "-".
 */
import React from "react";
import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import { PreviewPane } from "../../src/tui/preview-pane.js";
import { cellWidth, cutCells, expandTabs, printable } from "../../src/tui/cells.js";
import { loadPreview } from "../../src/tui/use-preview.js";
import { Stack } from "../../src/queue/stack.js";
import { cleanup, makeRepo, write } from "../helpers/repo.js";
import { makeTheme } from "../../src/tui/theme.js";

const theme = makeTheme({ NO_COLOR: "1" });

describe("the preview's lines in a terminal's cells", () => {
  it("expands tabs to 8-cell stops, counting wide characters as two, and cuts by cells", () => {
    expect(expandTabs("+\tif (x)\t{")).toBe("+       if (x)  {");
    expect(expandTabs("日本\tx")).toBe("日本    x");
    expect(cutCells("日本語のテキスト", 7)).toBe("日本語…");
    expect(cellWidth(cutCells("日本語のテキスト", 7))).toBeLessThanOrEqual(7);
    expect(cutCells("short", 10)).toBe("short");
    expect(printable("co\xadoperate")).toBe("co-operate");
  });

  it("never writes a row wider than the pane for a tab-indented patch with a tabbed message", async () => {
    const dir = makeRepo({ "a.txt": "a\n" });
    try {
      const stack = await Stack.init({ tree: dir });
      await stack.newPatch("tabs", { message: "Tabbed\tsubject\n\nBody line\twith\ttabs\tthat\tgo\tquite\tfar\tto\tthe\tright\tside" });
      write(
        dir,
        "t.c",
        "int f(int x)\n{\n\tif (x) {\n\t\t\t\t\treturn deeply_nested_call(aaaaaaaaaa, bbbbbbbbbbbb, cccccccccc, dddddddddd);\n\t}\n}\n",
      );
      await stack.add(["t.c"]);
      await stack.refresh();
      const lines = await loadPreview(stack, "tabs", { applied: true, isTop: true, pending: 0, width: 60 });
      expect(lines.some((l) => l.text.includes("\t"))).toBe(false);
      expect(lines.some((l) => l.text === "+       if (x) {")).toBe(true);
      const width = 60;
      const { lastFrame, unmount } = render(
        <PreviewPane preview={{ name: "tabs", lines }} offset={0} height={30} width={width} focused={true} theme={theme} />,
      );
      const rows = lastFrame()!.split("\n");
      unmount();
      // One row per line (nothing wrapped), none wider than the pane.
      expect(rows.length).toBeLessThanOrEqual(30);
      for (const row of rows) expect(cellWidth(row), row).toBeLessThanOrEqual(width);
      expect(rows.some((row) => row.startsWith("+                                       return deeply_ne"))).toBe(true);
    } finally {
      cleanup(dir);
    }
  });
});

describe("the build and boot log pane (t57 N10)", () => {
  it("shows the guest's serial output as the preview shows a patch: escapes in caret notation, tabs as spaces, cut to the pane", async () => {
    const { LogPane } = await import("../../src/tui/log-pane.js");
    const job = {
      kind: "boot" as const,
      title: "build + boot",
      progress: "booting native",
      running: false,
      log: [
        "pq: note\tcol\tcol\tcol\tcol\tcol\tcol\tcol\tcol\tcol\tcol\tcol\tend",
        "\x1b]0;PWNED-TITLE\x07\x1b[41mred\x1b[0m \x1b[2J after clear",
      ],
      cells: [],
      states: [],
      error: null,
    };
    const width = 50;
    const { lastFrame, unmount } = render(<LogPane job={job} width={width} height={10} theme={theme} />);
    const frame = lastFrame()!;
    unmount();
    expect(frame).not.toContain("\x1b]0");
    expect(frame).not.toContain("\x1b[2J");
    expect(frame).toContain("^[]0;PWNED-TITLE^G^[[41mred");
    for (const row of frame.split("\n")) expect(cellWidth(row), row).toBeLessThanOrEqual(width);
  });
});
