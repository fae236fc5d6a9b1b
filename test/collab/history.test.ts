import { execFileSync, spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFilePatch, gitBlobId } from "../../src/patch/index.js";
import { renderRangeDiff } from "../../src/collab/range-diff.js";
import { cleanup, makeRepo, pq, write } from "../helpers/repo.js";
import { annAndBobShareP, editLine, lines, ok, setIdentity, world } from "./shared-helpers.js";

const A = lines(40);
const set = (text: string, at: number, value: string) => text.replace(`line ${at}\n`, `${value}\n`);
const mod = (before: string, after: string) => createFilePatch({ oldPath: "a.c", newPath: "a.c", oldContent: before, newContent: after });
const patchText = (subject: string, diff: string) => `From: Ann Example <ann@example.org>\nSubject: ${subject}\n\n${diff}`;

let tree: string;
beforeAll(() => {
  tree = makeRepo({ "a.c": A, "b.c": lines(10, "bee") });
});
afterAll(() => cleanup(tree));

describe("pq log of a patch edited on a machine whose clock is behind (collab-8 C5)", () => {
  it("lists every version above the one it was made from, not by commit date", async () => {
    const skewed = makeRepo({ "a.c": A });
    try {
      await ok(skewed, "init", "--shared");
      const queue = join(skewed, "patches");
      setIdentity(queue, "Ann Example", "ann@example.org");
      write(queue, "p1.patch", patchText("one", mod(A, set(A, 5, "five"))));
      write(queue, "series", "p1.patch\n");
      await ok(skewed, "commit", "-m", "add p1");
      const qgit = (args: string[], env: NodeJS.ProcessEnv = {}) =>
        execFileSync("git", ["-C", queue, ...args], { env: { ...process.env, ...env } });
      // Cy's clock is two hours behind: on a branch of his own, his edit is dated before the version it was made from.
      const past = new Date(Date.now() - 2 * 3600_000).toISOString();
      qgit(["checkout", "-q", "-b", "cy"]);
      write(queue, "p1.patch", patchText("one", mod(A, set(set(A, 5, "five"), 30, "thirty"))));
      qgit(["commit", "-qam", "cy: line 30"], { GIT_AUTHOR_DATE: past, GIT_COMMITTER_DATE: past });
      qgit(["checkout", "-q", "-"]);
      write(queue, "p1.patch", patchText("one", mod(A, set(set(A, 5, "five"), 22, "twenty-two"))));
      qgit(["commit", "-qam", "bob: line 22"]);
      // As a sync merges them (the merge's result taken by hand here).
      qgit(["merge", "-q", "-s", "ours", "-m", "merge cy", "cy"]);
      const log = JSON.parse((await ok(skewed, "log", "p1.patch", "--json")).out) as { message: string }[];
      expect(log.at(-1)!.message).toBe("add p1");
      expect(log.map((e) => e.message).sort()).toEqual(["add p1", "bob: line 22", "cy: line 30", "merge cy"]);
      expect((await ok(skewed, "log", "p1.patch", "-p")).out).toMatch(/add p1\n\np1\.patch: first version\n$/);
      // -p is text to read; with --json it is refused, not printed as text (collab-17 F7).
      const both = await pq(skewed, "log", "p1.patch", "-p", "--json");
      expect([both.code, both.err]).toEqual([2, expect.stringContaining("pq log -p and --json do not combine")]);
    } finally {
      cleanup(skewed);
    }
  });
});

describe("pq log -p: the change of the change", () => {
  it("shows each version of a patch as an interdiff of its post-images", async () => {
    await ok(tree, "init", "--shared");
    const queue = join(tree, "patches");
    setIdentity(queue, "Ann Example", "ann@example.org");
    const v1 = set(A, 5, "five");
    const v2 = set(v1, 20, "twenty");
    const v3 = v2.replace("five\n", "FIVE\n");
    write(queue, "p1.patch", patchText("one", mod(A, v1)));
    write(queue, "series", "p1.patch\n");
    await ok(tree, "commit", "-m", "add p1");
    write(queue, "p1.patch", patchText("one", mod(A, v2)));
    await ok(tree, "commit", "-m", "p1: also line 20");
    write(queue, "p1.patch", patchText("one", mod(A, v3)));
    await ok(tree, "commit", "-m", "p1: five in capitals");
    const ids = execFileSync("git", ["-C", queue, "log", "--format=%H %aD", "--", "p1.patch"], { encoding: "utf8" })
      .trim()
      .split("\n")
      .map((l) => [l.slice(0, 40), l.slice(41)]);

    const r = await ok(tree, "log", "p1.patch", "-p");
    const entry = (i: number, message: string) =>
      `commit ${ids[i][0]}\nAuthor: Ann Example <ann@example.org>\nDate:   ${ids[i][1]}\n\n    ${message}\n\n`;
    const expected =
      entry(0, "p1: five in capitals") +
      `diff --git a/a.c b/a.c\nindex ${gitBlobId(v2).slice(0, 12)}..${gitBlobId(v3).slice(0, 12)} 100644\n--- a/a.c\n+++ b/a.c\n` +
      "@@ -2,7 +2,7 @@ line 1\n line 2\n line 3\n line 4\n-five\n+FIVE\n line 6\n line 7\n line 8\n" +
      entry(1, "p1: also line 20") +
      `diff --git a/a.c b/a.c\nindex ${gitBlobId(v1).slice(0, 12)}..${gitBlobId(v2).slice(0, 12)} 100644\n--- a/a.c\n+++ b/a.c\n` +
      "@@ -17,7 +17,7 @@ line 16\n line 17\n line 18\n line 19\n-line 20\n+twenty\n line 21\n line 22\n line 23\n" +
      entry(2, "add p1") +
      "p1.patch: first version\n";
    expect(r.out).toBe(expected);

    // The same last change as a range-diff of two revisions of the queue repository.
    const rd = await ok(tree, "range-diff", "HEAD~1", "HEAD");
    expect(rd.out).toBe(
      "1: p1.patch ! 1: p1.patch\n" +
        `    diff --git a/a.c b/a.c\n    index ${gitBlobId(v2).slice(0, 12)}..${gitBlobId(v3).slice(0, 12)} 100644\n    --- a/a.c\n    +++ b/a.c\n` +
        "    @@ -2,7 +2,7 @@ line 1\n     line 2\n     line 3\n     line 4\n    -five\n    +FIVE\n     line 6\n     line 7\n     line 8\n",
    );
    // A rename keeps the patch's history, and a change made with it shows as an interdiff.
    await ok(tree, "rename", "p1.patch", "p1-five.patch");
    write(queue, "p1-five.patch", patchText("one", mod(A, v3.replace("line 21\n", "twenty-one\n"))));
    await ok(tree, "commit", "-m", "p1: renamed, line 21");
    const followed = await ok(tree, "log", "p1-five.patch", "-p");
    expect(followed.out.match(/^commit /gm)?.length).toBe(4);
    expect(followed.out).toContain("    p1: renamed, line 21\n\np1.patch renamed to p1-five.patch\ndiff --git a/a.c b/a.c\n");
    expect(followed.out).toContain("-line 21\n+twenty-one\n");
    expect(followed.out).toContain("p1.patch: first version\n");
    // The whole queue's log, newest first, with a subject line per commit.
    const all = await ok(tree, "log", "--json");
    expect(JSON.parse(all.out).map((e: { message: string }) => e.message)).toEqual([
      "p1: renamed, line 21",
      "p1: five in capitals",
      "p1: also line 20",
      "add p1",
      "pq: start the shared queue",
    ]);
  });
});

describe("pq range-diff's text of names outside ASCII (collab-17 F15)", () => {
  it("writes a name as its UTF-8 bytes, as the rest of the output is bytes", () => {
    const text = renderRangeDiff([{ old: null, new: { index: 2, name: "ünïcode.patch" }, status: ">", moved: false }]);
    expect(Buffer.from(text, "latin1").toString("utf8")).toContain("2: ünïcode.patch");
  });

  it("keeps an interdiff's last line as it is: its CR and trailing blanks are the patch's (t67 N3)", () => {
    const p = { index: 1, name: "p.patch" };
    const text = renderRangeDiff([{ old: p, new: p, status: "!", moved: false, interdiff: "-b\r\n+c \r\n" }]);
    expect(text.endsWith("    -b\r\n    +c \r\n")).toBe(true);
  });
});

describe("pq range-diff", () => {
  it("pairs by name and by content, and shows moved, changed, renamed, dropped and added patches", async () => {
    const t = makeRepo({ "a.c": A, "b.c": lines(10, "bee") });
    await ok(t, "init");
    const bee = lines(10, "bee");
    const p1 = patchText("one", mod(A, set(A, 5, "five")));
    const p1b = patchText("one", mod(A, set(set(A, 5, "five"), 6, "six")));
    const p2 = patchText(
      "two",
      createFilePatch({ oldPath: "b.c", newPath: "b.c", oldContent: bee, newContent: bee.replace("bee 2\n", "two\n") }),
    );
    const p3 = patchText("three", mod(set(A, 5, "five"), set(set(A, 5, "five"), 30, "thirty")));
    const old = patchText("old", mod(set(set(A, 5, "five"), 30, "thirty"), set(set(set(A, 5, "five"), 30, "thirty"), 35, "old")));
    const nw = patchText(
      "new",
      mod(set(set(set(A, 5, "five"), 6, "six"), 30, "thirty"), set(set(set(set(A, 5, "five"), 6, "six"), 30, "thirty"), 38, "new")),
    );
    const dirA = join(t, "qa");
    const dirB = join(t, "qb");
    write(dirA, "series", "p1.patch\np2.patch\np3.patch\nold.patch\n");
    Object.entries({ "p1.patch": p1, "p2.patch": p2, "p3.patch": p3, "old.patch": old }).forEach(([n, c]) => write(dirA, n, c));
    write(dirB, "series", "p2.patch\np1.patch\np3-renamed.patch\nnew.patch\n");
    Object.entries({ "p1.patch": p1b, "p2.patch": p2, "p3-renamed.patch": p3, "new.patch": nw }).forEach(([n, c]) => write(dirB, n, c));
    const r = await ok(t, "range-diff", "qa", "qb");
    const v1 = set(A, 5, "five");
    const v2 = set(v1, 6, "six");
    expect(r.out).toBe(
      [
        "2: p2.patch  = 1: p2.patch (moved)",
        "1: p1.patch  ! 2: p1.patch",
        "    diff --git a/a.c b/a.c",
        `    index ${gitBlobId(v1).slice(0, 12)}..${gitBlobId(v2).slice(0, 12)} 100644`,
        "    --- a/a.c",
        "    +++ b/a.c",
        "    @@ -3,7 +3,7 @@ line 2",
        "     line 3",
        "     line 4",
        "     five",
        "    -line 6",
        "    +six",
        "     line 7",
        "     line 8",
        "     line 9",
        "3: p3.patch  = 3: p3-renamed.patch",
        "4: old.patch < -: -----",
        "-: --------- > 4: new.patch",
        "",
      ].join("\n"),
    );
    cleanup(t);
  });
});

describe("pq log -p of a patch a merge carried a rename of (collab-17 F6)", () => {
  it("shows the merge's change against the side that had it, not a first version", async () => {
    const w = world();
    try {
      const { ann, bob } = await annAndBobShareP(w);
      await ok(ann.tree, "rename", "P.patch", "P2.patch");
      await ok(ann.tree, "commit", "-m", "rename P");
      await ok(ann.tree, "sync");
      editLine(bob.tree, "a.c", 12, "twelve bob");
      await ok(bob.tree, "refresh");
      await ok(bob.tree, "commit", "-m", "P: line 12");
      await ok(bob.tree, "sync");
      const log = (await ok(bob.tree, "log", "P2.patch", "-p")).out;
      const merge = log.slice(0, log.indexOf("\ncommit ", 1));
      expect(merge).toContain("pq sync: merge");
      expect(merge).not.toContain("first version");
      expect(merge).toContain("+twelve bob");
    } finally {
      cleanup(w.root);
    }
  }, 60_000);
});

/** A tree with a shared queue whose history is made with plain git, as a colleague's pushes make it. */
async function withQueueHistory(
  run: (q: { tree: string; queue: string; commit: (message: string) => void }) => Promise<void>,
): Promise<void> {
  const tree = makeRepo({ "a.c": A });
  try {
    await ok(tree, "init", "--shared");
    const queue = join(tree, "patches");
    setIdentity(queue, "Ann Example", "ann@example.org");
    const commit = (message: string) => {
      execFileSync("git", ["-C", queue, "add", "-A"]);
      execFileSync("git", ["-C", queue, "commit", "-qm", message]);
    };
    await run({ tree, queue, commit });
  } finally {
    cleanup(tree);
  }
}

describe("pq log -p into a reader that leaves", () => {
  it("ends with 141, as git does, when the reader goes while it still writes; stderr stays quiet", () =>
    withQueueHistory(async ({ tree, queue, commit }) => {
      write(queue, "series", "p1.patch\n");
      // Twenty versions of one patch: log -p writes each interdiff as it reads the next version.
      for (let i = 1; i <= 20; i++) {
        write(queue, "p1.patch", patchText("one", mod(A, set(A, i, `version ${i}`))));
        commit(`version ${i}`);
      }
      const piped = spawnSync("bash", ["-c", `"$0" log -p | head -1 >/dev/null; echo "\${PIPESTATUS[0]}"`, resolve("bin/pq")], {
        cwd: tree,
        encoding: "utf8",
      });
      expect(piped.stderr).toBe("");
      expect(piped.stdout.trim()).toBe("141");
    }));
});

describe("a queue's history holding what pq refuses (t60 N11)", () => {
  it("log -p says that version cannot be shown and goes on; range-diff refuses its unsafe path as a bad patch, not a git failure", () =>
    withQueueHistory(async ({ tree, queue, commit }) => {
      write(queue, "p1.patch", patchText("one", mod(A, set(A, 5, "five"))));
      write(queue, "series", "p1.patch\n");
      commit("p1");
      write(queue, "evil.patch", "Subject: evil\n\n---\n--- /dev/null\n+++ b/../../esc\n@@ -0,0 +1 @@\n+x\n");
      write(queue, "series", "p1.patch\nevil.patch\n../../x.patch\n");
      commit("evil state");
      execFileSync("git", ["-C", queue, "rm", "-q", "evil.patch"]);
      write(queue, "series", "p1.patch\n");
      commit("clean again");
      const log = await pq(tree, "log", "-p");
      expect([log.code, log.err]).toEqual([0, ""]);
      expect(log.out).toContain("(this version cannot be shown: ");
      expect(log.out).toContain("    p1\n"); // the commits before it are still shown
      const range = await pq(queue, "range-diff", "HEAD~2", "HEAD~1");
      expect(range.code).toBe(7);
      expect(range.err).toContain('path "../../esc" leaves the tree');
    }));
});

describe("pq log -p of a patch with UTF-8 text and name (t64 N10)", () => {
  it("writes the interdiff's bytes as they are, and the name as its UTF-8", () =>
    withQueueHistory(async ({ tree, queue, commit }) => {
      // write() writes bytes (latin1): the text as its UTF-8 bytes.
      const utf8 = (text: string) => Buffer.from(text, "utf8").toString("latin1");
      write(queue, "series", utf8("über.patch\n"));
      for (const [i, text] of ["x 日本", "x 日本語"].entries()) {
        write(queue, "über.patch", utf8(patchText("wide", mod(A, set(A, 5, text)))));
        commit(`v${i + 1}`);
      }
      const log = await ok(tree, "log", "über.patch", "-p");
      expect(log.out).toContain("-x 日本\n+x 日本語\n");
      expect(log.out).toContain("über.patch: first version\n");
    }));
});
