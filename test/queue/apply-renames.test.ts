/**
 * A patch whose file patches remove and write the same name (two files swapped by renames, a
 * chain of renames, a deletion and a rename onto the deleted name) applies as git apply applies
 * it: every old file is read and removed before the new ones are written (t69 N4: the second
 * rename of a swap removed what the first had written, and one file's content was lost).
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { applyText } from "../../src/collab/simulate.js";
import { cleanup, git, makeRepo, pq, snapshot, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

const rename = (from: string, to: string) => `diff --git a/${from} b/${to}\nsimilarity index 100%\nrename from ${from}\nrename to ${to}\n`;

const CASES: [string, Record<string, string>, string][] = [
  ["two files swapped by renames", { A: "AAA\n", B: "BBB\n" }, rename("A", "B") + rename("B", "A")],
  ["a chain of renames", { A: "AAA\n", B: "BBB\n" }, rename("A", "B") + rename("B", "C")],
  [
    "a deletion and a rename onto the deleted name",
    { A: "AAA\n", B: "BBB\n" },
    "diff --git a/B b/B\ndeleted file mode 100644\n--- a/B\n+++ /dev/null\n@@ -1 +0,0 @@\n-BBB\n" + rename("A", "B"),
  ],
  [
    "a deletion and a new file of the same name (t71 N2)",
    { A: "AAA\n", B: "BBB\n" },
    "diff --git a/A b/A\ndeleted file mode 100644\n--- a/A\n+++ /dev/null\n@@ -1 +0,0 @@\n-AAA\n" +
      "diff --git a/A b/A\nnew file mode 100644\n--- /dev/null\n+++ b/A\n@@ -0,0 +1 @@\n+new A\n",
  ],
];

/** The tree git apply makes of `files` with `diff` applied: the reference. */
function gitApplied(files: Record<string, string>, diff: string): Record<string, string> {
  const dir = makeRepo(files);
  dirs.push(dir);
  execFileSync("git", ["apply", "--index"], { cwd: dir, input: diff });
  return snapshot(dir);
}

describe("a patch that removes and writes the same name (t69 N4)", () => {
  for (const [what, files, diff] of CASES) {
    it(`${what}: push gives git apply's tree, pop the tree before it, and a sync's simulation agrees`, async () => {
      const expected = gitApplied(files, diff);
      const dir = makeRepo(files);
      dirs.push(dir);
      expect((await pq(dir, "init")).code).toBe(0);
      const mail = tempDir();
      dirs.push(mail);
      write(mail, "swap.patch", `Subject: ${what}\n\n---\n${diff}`);
      expect((await pq(dir, "import", join(mail, "swap.patch"))).code).toBe(0);
      const before = snapshot(dir);
      const dry = await pq(dir, "push", "--dry-run");
      expect(dry.code, dry.err).toBe(0);
      const pushed = await pq(dir, "push");
      expect(pushed.code, pushed.err).toBe(0);
      const tree = Object.fromEntries(Object.entries(snapshot(dir)).filter(([p]) => !p.startsWith("patches/")));
      expect(tree).toEqual(expected);
      // Nothing for a refresh to take: the tree is the patch's result.
      expect((await pq(dir, "refresh")).out).toContain("unchanged");
      expect((await pq(dir, "pop")).code).toBe(0);
      expect(snapshot(dir)).toEqual(before);
      expect(git(dir, "status", "--porcelain")).toBe("?? patches/\n");
      // The sync's simulation of the same patch over the same files.
      const simulated = await applyText(diff, async (p) => files[p] ?? null);
      expect(simulated.ok).toBe(true);
      const after = Object.fromEntries([...simulated.post].filter(([, c]) => c !== null));
      const kept = Object.fromEntries(Object.entries(files).filter(([p]) => !simulated.post.has(p)));
      expect({ ...kept, ...after }).toEqual(expected);
    });
  }
});

describe("a patch that makes one name twice: two renames onto it (t77 N3)", () => {
  it("is refused as a bad patch that names the two makers, by push and its dry run alike, and nothing changes", async () => {
    const files = { A: "AAA\n", B: "BBB\n" };
    const dir = makeRepo(files);
    dirs.push(dir);
    expect((await pq(dir, "init")).code).toBe(0);
    const mail = tempDir();
    dirs.push(mail);
    write(mail, "double.patch", `Subject: two renames onto D\n\n---\n${rename("A", "D")}${rename("B", "D")}`);
    expect((await pq(dir, "import", join(mail, "double.patch"))).code).toBe(0);
    const before = snapshot(dir);
    for (const args of [["push", "--dry-run"], ["push"]]) {
      const r = await pq(dir, ...args);
      expect([r.code, r.err], args.join(" ")).toEqual([7, expect.stringContaining("double.patch makes D twice (renamed from A, then renamed from B)")]);
      expect(r.err).toContain("edit the patch so that one file patch makes D");
      expect(r.err).not.toContain("already has a file there");
    }
    expect(snapshot(dir)).toEqual(before);
  });
});
