import { chmodSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, git, makeRepo, pq, read, snapshot, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

const lines = (tag: string, n = 30) => Array.from({ length: n }, (_, i) => `${tag} ${i + 1}\n`).join("");
const edit = (text: string, from: string, to: string) => {
  if (!text.includes(from)) throw new Error(`no ${from}`);
  return text.replace(from, to);
};

/** p1: a.c lines 5 and 10; p2: b.c line 10; p3: a.c line 6 and c.c line 15; p4 (top): d.c line 3 and b.c line 20. */
async function fourPatches(): Promise<string> {
  const dir = makeRepo({ "a.c": lines("a"), "b.c": lines("b"), "c.c": lines("c"), "d.c": lines("d") });
  dirs.push(dir);
  await pq(dir, "init");
  const step = async (name: string, edits: [string, string, string][]) => {
    await pq(dir, "new", name, "-m", `Patch ${name}`);
    for (const [f, from, to] of edits) write(dir, f, edit(read(dir, f), from, to));
    expect((await pq(dir, "refresh")).code).toBe(0);
  };
  await step("p1", [["a.c", "a 5\n", "a five\n"], ["a.c", "a 10\n", "a ten\n"]]);
  await step("p2", [["b.c", "b 10\n", "b ten\n"]]);
  await step("p3", [["a.c", "a 6\n", "a six\n"], ["c.c", "c 15\n", "c fifteen\n"]]);
  await step("p4", [["d.c", "d 3\n", "d three\n"], ["b.c", "b 20\n", "b twenty\n"]]);
  return dir;
}

/** The work tree's files without the queue directory (patch files change by design). */
const tree = (dir: string) => Object.fromEntries(Object.entries(snapshot(dir)).filter(([p]) => !p.startsWith("patches/")));
const patchText = (dir: string, name: string) => read(join(dir, "patches"), name);

describe("pq absorb", () => {
  it("routes hunks in 3 files to 3 lower patches, leaves ambiguous hunks in the tree, and every patch pushes cleanly", async () => {
    const dir = await fourPatches();
    write(dir, "a.c", edit(edit(edit(read(dir, "a.c"), "a five\na six\n", "a FIVE\na SIX\n"), "a ten\n", "a TEN\n"), "a 18\n", "a eighteen\n"));
    write(dir, "b.c", edit(read(dir, "b.c"), "b ten\n", "b TEN\nb more\n"));
    write(dir, "c.c", edit(read(dir, "c.c"), "c fifteen\n", "c FIFTEEN\nc more\n"));
    const edited = tree(dir);
    const p4 = patchText(dir, "p4");

    const dry = await pq(dir, "absorb", "--dry-run");
    expect(dry.out).toBe(
      [
        // A chunk of as many new lines as old, each old line a patch's, goes line by line (stack-6 #13):
        // line 6 to p3; line 5 is next to p3's change, which p1 alone cannot hold.
        "left in the tree: a.c:5 (-1 +1): touches lines next to a change a patch above p1 makes, so it cannot go into p1 alone",
        "would absorb a.c:6 (-1 +1) into p3",
        "would absorb a.c:10 (-1 +1) into p1",
        "left in the tree: a.c:18 (-1 +1): touches lines no applied patch added",
        "would absorb b.c:10 (-1 +2) into p2",
        "would absorb c.c:15 (-1 +2) into p3",
        "",
      ].join("\n"),
    );
    expect(tree(dir)).toEqual(edited);

    const r = await pq(dir, "absorb");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("absorbed a.c:10 (-1 +1) into p1\n");
    // The tree is exactly as the user left it; only the ambiguous hunks are still unrefreshed.
    expect(tree(dir)).toEqual(edited);
    expect(patchText(dir, "p1")).toContain("-a 10\n+a TEN\n");
    expect(patchText(dir, "p2")).toContain("-b 10\n+b TEN\n+b more\n");
    expect(patchText(dir, "p3")).toContain("-c 15\n+c FIFTEEN\n+c more\n");
    // p4's b.c hunk moved down a line: it is rewritten against its new context.
    expect(r.out).toContain("refreshed p4 (its context changed below it: rewritten against the new one)\n");
    const noIndex = (t: string) => t.replace(/^index .*\n/gm, "");
    expect(noIndex(patchText(dir, "p4"))).toBe(noIndex(p4).replace("@@ -17,7 +17,7 @@", "@@ -18,7 +18,7 @@"));
    expect((await pq(dir, "top")).out).toBe("p4\n");
    const diff = (await pq(dir, "diff")).out;
    expect(diff).toContain("-a five\n+a FIVE\n");
    expect(diff).not.toContain("+a SIX");
    expect(patchText(dir, "p3")).toContain("-a 6\n+a SIX\n");
    expect(diff).toContain("-a 18\n+a eighteen\n");
    expect(diff).not.toContain("TEN");

    // Every patch pops and pushes exactly, without offsets.
    await pq(dir, "refresh");
    const top = tree(dir);
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    expect(read(dir, "a.c")).toBe(lines("a"));
    const pushed = await pq(dir, "push", "-a");
    expect(pushed.code).toBe(0);
    expect(pushed.out).not.toMatch(/offset|fuzz/);
    expect(tree(dir)).toEqual(top);
  });

  it("refresh -p PATCH FILES puts the named files' changes into a lower patch", async () => {
    const dir = await fourPatches();
    write(dir, "d.c", edit(read(dir, "d.c"), "d 20\n", "d twenty\n"));
    write(dir, "b.c", edit(read(dir, "b.c"), "b 2\n", "b two\n"));
    const edited = tree(dir);
    const r = await pq(dir, "refresh", "-p", "p2", "d.c");
    expect(r.code).toBe(0);
    expect(r.out).toBe("absorbed d.c:20 (-1 +1) into p2\n");
    // Logged (and named in refusals) as the command the user typed.
    expect((await pq(dir, "oplog", "-n", "1")).out).toContain("refresh -p p2");
    expect(tree(dir)).toEqual(edited);
    expect(patchText(dir, "p2")).toContain("-d 20\n+d twenty\n");
    expect(patchText(dir, "p2")).not.toContain("b two");
    expect((await pq(dir, "status")).out).toContain("b.c");
    expect((await pq(dir, "refresh", "-p", "p2", "zzz.c")).err).toContain("no unrefreshed changes in zzz.c");
    // A file git tracks, unchanged and in no patch, is no new file (verify-14 F8).
    write(dir, "tracked.c", "t\n");
    git(dir, "add", "tracked.c");
    git(dir, "commit", "-qm", "tracked");
    const unchanged = await pq(dir, "refresh", "-p", "p2", "tracked.c");
    expect([unchanged.code, unchanged.err]).toEqual([2, "pq: no unrefreshed changes in tracked.c\n"]);
    expect((await pq(dir, "refresh", "-p", "nope", "b.c")).code).toBe(3);
    // A change to lines only a later patch has (p4's "b twenty") cannot go into p1: refused, nothing written.
    write(dir, "b.c", edit(read(dir, "b.c"), "b twenty\n", "b TWENTY\n"));
    const queueBefore = snapshot(join(dir, "patches"));
    const treeBefore = tree(dir);
    const misfit = await pq(dir, "refresh", "-p", "p1", "b.c");
    expect(misfit.code).toBe(6);
    expect(misfit.err).toContain("none of the changes went into p1");
    expect(snapshot(join(dir, "patches"))).toEqual(queueBefore);
    expect(tree(dir)).toEqual(treeBefore);
  });

  it("is one transaction: one oplog entry, and one pq undo puts every patch back with the user's edits untouched", async () => {
    const dir = await fourPatches();
    write(dir, "b.c", edit(read(dir, "b.c"), "b ten\n", "b TEN\n"));
    write(dir, "c.c", edit(read(dir, "c.c"), "c fifteen\n", "c FIFTEEN\n"));
    const edited = tree(dir);
    const before = snapshot(join(dir, "patches"));
    const entries = async () => (JSON.parse((await pq(dir, "oplog", "--json")).out) as unknown[]).length;
    const logged = await entries();
    expect((await pq(dir, "absorb")).code).toBe(0);
    expect(await entries()).toBe(logged + 1);
    expect(patchText(dir, "p2")).toContain("+b TEN\n");
    expect(tree(dir)).toEqual(edited);
    // No --force needed: absorb wrote nothing to the tree outside its transaction.
    const undo = await pq(dir, "undo");
    expect(undo.err).toBe("");
    expect(undo.code).toBe(0);
    expect(snapshot(join(dir, "patches"))).toEqual(before);
    expect(tree(dir)).toEqual(edited);
    expect((await pq(dir, "top")).out).toBe("p4\n");
  });

  it("an edit two lines from an upper patch's change is merged into its patch; one that touches it stays, and is not logged", async () => {
    const dir = makeRepo({ f: Array.from({ length: 20 }, (_, i) => `${i + 1}\n`).join("") });
    dirs.push(dir);
    await pq(dir, "init");
    await pq(dir, "new", "p1");
    write(dir, "f", read(dir, "f").replace("\n5\n", "\nfive\n"));
    await pq(dir, "refresh");
    await pq(dir, "new", "p2");
    write(dir, "f", read(dir, "f").replace("\n7\n", "\nseven\n"));
    await pq(dir, "refresh");
    // Line 5 is p1's; the hunk's context holds p2's "seven", so it is merged three ways into p1's version.
    write(dir, "f", read(dir, "f").replace("\nfive\n", "\nFIVE\n"));
    const dry = await pq(dir, "absorb", "--dry-run");
    expect(dry.out).toContain("into p1");
    expect(dry.out).not.toContain("left in the tree");
    const real = await pq(dir, "absorb");
    expect(real.code).toBe(0);
    expect(real.out).not.toContain("left in the tree");
    expect(read(join(dir, "patches"), "p1")).toContain("+FIVE");
    expect(read(join(dir, "patches"), "p2")).not.toContain("+FIVE"); // context only
    expect((await pq(dir, "status")).out).not.toContain("unrefreshed");
    // p2 now changes line 6 too: an edit of line 5 touches its change and cannot be separated.
    await pq(dir, "goto", "p2");
    write(dir, "f", read(dir, "f").replace("\n6\n", "\nsix\n"));
    await pq(dir, "refresh");
    write(dir, "f", read(dir, "f").replace("\nFIVE\n", "\nFive\n"));
    const left = await pq(dir, "absorb");
    expect(left.out).toContain("left in the tree: f:5");
    expect((await pq(dir, "oplog", "-n", "1")).out).toContain("refresh p2");
    expect(read(dir, "f")).toContain("Five");
  });
});

describe("an edit next to an upper patch's change (stack-3 #15)", () => {
  it("is left in the tree with the reason: the line next to it belongs to a patch above", async () => {
    const tree = makeRepo({ "n.txt": Array.from({ length: 40 }, (_, i) => `${i + 1}\n`).join("") });
    dirs.push(tree);
    const p = (...a: string[]) => pq(tree, ...a);
    await p("init");
    await p("new", "p1");
    write(tree, "n.txt", read(tree, "n.txt").replace(/^5$/m, "five"));
    await p("refresh");
    await p("new", "p2");
    write(tree, "n.txt", read(tree, "n.txt").replace(/^6$/m, "six"));
    await p("refresh");
    write(tree, "n.txt", read(tree, "n.txt").replace(/^five$/m, "FIVE"));
    const r = await p("absorb");
    expect(r.out).toContain("touches lines next to a change a patch above p1 makes, so it cannot go into p1 alone");
    expect(read(tree, "n.txt")).toContain("FIVE");
  });
});

describe("absorb and refresh -p over changes they do not move (stack-6 #8)", () => {
  it("name a mode change as left in the tree, and refuse a created or deleted file as a refusal (12), not a bad patch", async () => {
    const dir = makeRepo({ "a.c": Array.from({ length: 50 }, (_, i) => `line ${i + 1}\n`).join("") });
    expect((await pq(dir, "init")).code).toBe(0);
    await pq(dir, "new", "p1", "-m", "p1");
    write(dir, "n.c", "new file\n");
    await pq(dir, "add", "n.c");
    write(dir, "a.c", read(dir, "a.c").replace("line 5\n", "line five\n"));
    await pq(dir, "refresh");
    await pq(dir, "new", "p2", "-m", "p2");
    write(dir, "a.c", read(dir, "a.c").replace("line 40\n", "line forty\n"));
    await pq(dir, "refresh");
    chmodSync(join(dir, "a.c"), 0o755);
    expect((await pq(dir, "absorb", "--dry-run")).out).toContain("a.c:0 (-0 +0): only its mode changed");
    rmSync(join(dir, "n.c"));
    const r = await pq(dir, "refresh", "-p", "p1", "n.c");
    expect(r.code).toBe(12);
    expect(r.err).toContain("n.c: the file is created, deleted or binary");
    cleanup(dir);
  });
});

describe("a patch absorb rewrites above the one it changed (verify-8 W3)", () => {
  it("is not called inexact: its file applies as it is", async () => {
    const dir = makeRepo({ "a.c": lines("line", 40) });
    dirs.push(dir);
    await pq(dir, "init");
    await pq(dir, "new", "p1");
    write(dir, "a.c", edit(read(dir, "a.c"), "line 10\n", "line 10 p1\n"));
    await pq(dir, "refresh");
    await pq(dir, "new", "p2");
    write(dir, "a.c", edit(read(dir, "a.c"), "line 13\n", "line 13 p2\n"));
    await pq(dir, "refresh");
    write(dir, "a.c", edit(read(dir, "a.c"), "line 10 p1\n", "line 10 p1 FIX\n"));
    const r = await pq(dir, "absorb");
    expect(r.out).toContain("refreshed p2 (its context changed below it");
    expect(JSON.parse((await pq(dir, "status", "--json")).out).inexact).toBeUndefined();
  });
});

describe("a quilt-style patch above the one refresh -p changes (verify-8 W7)", () => {
  it("keeps its bytes while it applies as it is, offsets and all", async () => {
    const dir = makeRepo({ "a.c": lines("line", 60) });
    dirs.push(dir);
    const quilt = (subject: string, at: number, from: string, to: string) =>
      `Description: ${subject}\n\nIndex: t/a.c\n===================================================================\n--- t.orig/a.c\n+++ t/a.c\n@@ -${at},3 +${at},3 @@\n line ${at}\n-${from}\n+${to}\n line ${at + 2}\n`;
    write(dir, "debian/patches/01-low.patch", quilt("low", 9, "line 10", "line ten"));
    write(dir, "debian/patches/02-high.patch", quilt("high", 39, "line 40", "line forty"));
    write(dir, "debian/patches/series", "01-low.patch\n02-high.patch\n");
    await pq(dir, "init", "--queue", "debian/patches");
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    const high = read(dir, "debian/patches/02-high.patch");
    write(dir, "a.c", edit(read(dir, "a.c"), "line ten\n", "line ten\nline ten and a half\n"));
    const r = await pq(dir, "refresh", "-p", "01-low.patch", "a.c");
    expect(r.code, r.err).toBe(0);
    expect(r.out).not.toContain("refreshed 02-high.patch");
    expect(read(dir, "debian/patches/02-high.patch")).toBe(high);
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    expect((await pq(dir, "push", "-a")).code).toBe(0);
  });
});

describe("a hunk an upper patch would not apply over (verify-8 W9)", () => {
  it("stays in the tree with why, and the other hunks still go in", async () => {
    const dir = makeRepo({ "a.c": lines("line", 40) });
    dirs.push(dir);
    await pq(dir, "init");
    await pq(dir, "new", "p1");
    write(dir, "a.c", edit(edit(read(dir, "a.c"), "line 21\n", "line 21 p1\n"), "line 3\n", "line 3 p1\n"));
    await pq(dir, "refresh");
    await pq(dir, "new", "p2");
    // One hunk of p2 spans lines 17-24: line 21 is in its middle.
    write(dir, "a.c", edit(edit(read(dir, "a.c"), "line 17\n", "line 17 p2\n"), "line 24\n", "line 24 p2\n"));
    await pq(dir, "refresh");
    write(dir, "a.c", edit(edit(read(dir, "a.c"), "line 21 p1\n", "line 21 p1 FIX\n"), "line 3 p1\n", "line 3 p1 FIX\n"));
    const r = await pq(dir, "absorb");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("absorbed a.c:3 (-1 +1) into p1");
    expect(r.out).toContain("left in the tree: a.c:21 (-1 +1): p2, a patch above p1, would no longer apply over it");
    expect(patchText(dir, "p1")).toContain("+line 3 p1 FIX\n");
    expect(read(dir, "a.c")).toContain("line 21 p1 FIX\n");
    // refresh -p of that hunk alone moves nothing, and says so (verify-9 X7).
    const none = await pq(dir, "refresh", "-p", "p1", "a.c");
    expect(none.code).toBe(6);
    expect(none.err).toContain("none of the changes went into p1: p2, a patch above p1, would no longer apply over it");
  });
});
