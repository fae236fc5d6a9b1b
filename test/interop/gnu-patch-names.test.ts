import { execFileSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeRepo, pq, snapshot, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

/**
 * Plain diffs whose ---/+++ names contain spaces: GNU patch (and so quilt and dpkg-source,
 * which build Debian's trees with it) ends such a name at the first space unless a TAB
 * follows the name. Debian's python3.11 series has one; pq must make the same tree.
 */
describe("file names with spaces in plain diffs (real GNU patch)", () => {
  const cases: Record<string, string> = {
    "no TAB: the name ends at the space": "--- /dev/null\n+++ b/News Dir/entry one.rst\n@@ -0,0 +1 @@\n+new entry\n",
    "TAB after the name: the whole name": "--- /dev/null\n+++ b/News Dir/entry two.rst\t2023-07-18 16:13:51.000000000 +0000\n@@ -0,0 +1 @@\n+second\n",
    "space and a timestamp, no TAB": "--- a/plain.txt 2023-07-18 16:13:51.000000000 +0000\n+++ b/plain.txt 2023-07-18 16:13:51.000000000 +0000\n@@ -1 +1 @@\n-old\n+new\n",
  };
  for (const [what, patch] of Object.entries(cases)) {
    it(what, async () => {
      const gnu = makeRepo({ "plain.txt": "old\n" });
      const mine = makeRepo({ "plain.txt": "old\n" });
      dirs.push(gnu, mine);
      execFileSync("patch", ["-p1", "-s", "-f"], { cwd: gnu, input: patch });
      write(mine, "p.diff", patch);
      await pq(mine, "init");
      expect((await pq(mine, "import", "p.diff", "--push")).code).toBe(0);
      const [a, b] = [snapshot(gnu), snapshot(mine)];
      delete b["p.diff"];
      for (const k of Object.keys(b)) if (k.startsWith("patches/")) delete b[k];
      expect(b).toEqual(a);
    });
  }
});

/**
 * A git rename whose "rename from/to" lines name other paths than its diff --git and
 * ---/+++ lines (a diff made with a path prefix, as Debian's qemu has for a submodule):
 * GNU patch goes by ---/+++, or by the diff --git line when there are none.
 */
describe("renames whose rename from/to lines disagree with the other names (real GNU patch)", () => {
  const base = { "sub/ci/old.yml": "name: one\nversion: 35\nend\n", "sub/ci/pure.yml": "kept\n" };
  const cases: Record<string, string> = {
    "with hunks": "diff --git a/sub/ci/old.yml b/sub/ci/new.yml\nsimilarity index 80%\nrename from ci/old.yml\nrename to ci/new.yml\n--- a/sub/ci/old.yml\n+++ b/sub/ci/new.yml\n@@ -1,3 +1,3 @@\n name: one\n-version: 35\n+version: 37\n end\n",
    "a pure rename": "diff --git a/sub/ci/pure.yml b/sub/ci/moved.yml\nsimilarity index 100%\nrename from ci/pure.yml\nrename to ci/moved.yml\n",
  };
  for (const [what, patch] of Object.entries(cases)) {
    it(what, async () => {
      const gnu = makeRepo(base);
      const mine = makeRepo(base);
      dirs.push(gnu, mine);
      execFileSync("patch", ["-p1", "-s", "-f"], { cwd: gnu, input: patch });
      write(mine, "p.diff", patch);
      await pq(mine, "init");
      expect((await pq(mine, "import", "p.diff", "--push")).code).toBe(0);
      const [a, b] = [snapshot(gnu), snapshot(mine)];
      delete b["p.diff"];
      for (const k of Object.keys(b)) if (k.startsWith("patches/")) delete b[k];
      expect(b).toEqual(a);
    });
  }
});
