import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, git, makeRepo, pq, read, snapshot, tempDir, write } from "../helpers/repo.js";

/** Patches whose paths need care: a file where a directory would go, and a copy of a file the same patch changes. */
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(cleanup));
const repo = (files: Record<string, string>) => {
  const d = makeRepo(files);
  dirs.push(d);
  return d;
};

/** A git diff of the index against HEAD, made in a scratch clone of `tree` by `change`. */
function gitDiff(tree: string, change: (clone: string) => void): string {
  const clone = join(tempDir("pq-paths-clone-"), "c");
  dirs.push(clone);
  git(tree, "clone", "-q", tree, clone);
  change(clone);
  git(clone, "add", "-A");
  return git(clone, "diff", "--cached", "-C", "--find-copies-harder");
}

describe("a file under a path that is a file", () => {
  it("is refused before anything is written, by push and push --dry-run alike (exit 7), and the stack stays usable", async () => {
    const tree = repo({ "a.txt": "one\n", "b.txt": "alpha\n" });
    await pq(tree, "init");
    const diff =
      "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-one\n+ONE\n" +
      "diff --git a/b.txt/x b/b.txt/x\nnew file mode 100644\n--- /dev/null\n+++ b/b.txt/x\n@@ -0,0 +1 @@\n+x\n";
    write(tree, "under.diff", diff);
    expect((await pq(tree, "import", join(tree, "under.diff"))).code).toBe(0);
    const before = snapshot(tree);
    for (const args of [["push", "--dry-run"], ["push"]]) {
      const r = await pq(tree, ...args);
      expect(r.code, r.err).toBe(7);
      expect(r.err).toContain("b.txt/x would be created inside b.txt, a file in the tree");
    }
    expect(snapshot(tree)).toEqual(before);
    expect((await pq(tree, "series")).code).toBe(0);
  });

  it("a patch that turns a file into a directory is refused: it could never be popped", async () => {
    const tree = repo({ "a.txt": "one\n", "b.txt": "alpha\n" });
    await pq(tree, "init");
    const diff = gitDiff(tree, (c) => {
      git(c, "rm", "-q", "b.txt");
      write(c, "b.txt/x", "x\n");
    });
    expect(diff).toContain("deleted file mode");
    write(tree, "file2dir.diff", diff);
    await pq(tree, "import", join(tree, "file2dir.diff"));
    const before = snapshot(tree);
    const r = await pq(tree, "push");
    expect(r.code).toBe(7);
    expect(r.err).toContain("a file this patch also changes");
    expect(snapshot(tree)).toEqual(before);
    expect((await pq(tree, "status")).code).toBe(0);
  });

  it("new files in new and existing directories, beside files of similar names, are still created", async () => {
    const tree = repo({ "src/a.c": "a\n", "b.txt": "alpha\n" });
    await pq(tree, "init");
    await pq(tree, "new", "nested.patch");
    write(tree, "src/deep/new.c", "new\n");
    write(tree, "b.txt.d/x", "x\n");
    expect((await pq(tree, "add", "src/deep/new.c", "b.txt.d/x")).code).toBe(0);
    expect((await pq(tree, "refresh")).code).toBe(0);
    expect((await pq(tree, "pop")).code).toBe(0);
    const r = await pq(tree, "push");
    expect(r.code, r.err).toBe(0);
    expect(read(tree, "src/deep/new.c")).toBe("new\n");
  });
});

describe("a copy of a file the same patch changes", () => {
  it("copies the file as it was before the patch, as git apply and GNU patch do", async () => {
    const numbers = Array.from({ length: 30 }, (_, i) => `${i + 1}\n`).join("");
    const tree = repo({ "big.txt": numbers });
    await pq(tree, "init");
    const diff = gitDiff(tree, (c) => {
      write(c, "copy.txt", numbers.replace("3\n", "three\n"));
      write(c, "big.txt", numbers.replace("20\n", "twenty\n"));
    });
    expect(diff).toContain("copy from big.txt");
    write(tree, "copy.diff", diff);
    await pq(tree, "import", join(tree, "copy.diff"));
    const pushed = await pq(tree, "push");
    expect(pushed.code, pushed.err).toBe(0);
    const gnu = repo({ "big.txt": numbers });
    expect(spawnSync("patch", ["-p1"], { cwd: gnu, input: diff }).status).toBe(0);
    expect(read(tree, "copy.txt")).toBe(read(gnu, "copy.txt"));
    expect(read(tree, "copy.txt")).toBe(numbers.replace("3\n", "three\n"));
    expect(read(tree, "big.txt")).toBe(numbers.replace("20\n", "twenty\n"));
    expect((await pq(tree, "pop")).code).toBe(0);
    expect(read(tree, "big.txt")).toBe(numbers);
  });
});

describe("a submodule (gitlink) in a patch", () => {
  it("is refused (exit 7) instead of applied as a file change that does nothing", async () => {
    const tree = repo({ "a.txt": "a\n" });
    await pq(tree, "init");
    write(tree, "gl.diff", "Subject: s\n\ndiff --git a/a.txt b/a.txt\nold mode 100644\nnew mode 160000\n");
    await pq(tree, "import", join(tree, "gl.diff"));
    const r = await pq(tree, "push");
    expect([r.code, r.err]).toEqual([7, expect.stringContaining("is a submodule")]);
  });
});

describe("a file inside a submodule (t113 N2, N3, N4)", () => {
  /** A superproject with the submodule sub (a.txt), and a clone of it where sub is not checked out. */
  function superproject(): { checkedOut: string; clone: string } {
    const sub = repo({ "a.txt": "subA\n" });
    const checkedOut = repo({ "f.txt": "top\n" });
    git(checkedOut, "-c", "protocol.file.allow=always", "submodule", "add", "-q", sub, "sub");
    git(checkedOut, "commit", "-qm", "sub");
    const clone = tempDir("pq-superclone-");
    dirs.push(clone);
    git(clone, "clone", "-q", checkedOut, ".");
    return { checkedOut, clone };
  }
  const refusal = (path: string) => expect.stringContaining(`${path} is inside the submodule sub, a repository of its own`);

  it("is refused at push, dry run too, where the submodule is not checked out: finish made it a folder of the superproject", async () => {
    const { clone } = superproject();
    const mail = tempDir("pq-insub-");
    dirs.push(mail);
    write(
      mail,
      "insub.diff",
      "diff --git a/sub/new.txt b/sub/new.txt\nnew file mode 100644\n--- /dev/null\n+++ b/sub/new.txt\n@@ -0,0 +1 @@\n+hello\n",
    );
    await pq(clone, "init");
    expect((await pq(clone, "import", join(mail, "insub.diff"))).code).toBe(0);
    for (const args of [["push", "--dry-run"], ["push"]]) {
      const r = await pq(clone, ...args);
      expect([r.code, r.err]).toEqual([7, refusal("sub/new.txt")]);
    }
    await pq(clone, "delete", "insub.diff");
    await pq(clone, "new", "p");
    write(clone, "sub/y", "y\n");
    for (const args of [
      ["refresh", "sub/y"],
      ["add", "sub/y"],
    ])
      expect(await pq(clone, ...args)).toMatchObject({ code: 7, err: refusal("sub/y") });
    expect(git(clone, "ls-tree", "HEAD", "sub")).toMatch(/^160000 commit /);
  });

  it("is refused by refresh, add and push where it is checked out, in pq's words", async () => {
    const { checkedOut: tree } = superproject();
    await pq(tree, "init");
    await pq(tree, "new", "p");
    write(tree, "sub/a.txt", "subA\nedit\n");
    for (const args of [
      ["refresh", "sub/a.txt"],
      ["add", "sub/a.txt"],
    ])
      expect(await pq(tree, ...args)).toMatchObject({ code: 7, err: refusal("sub/a.txt") });
    git(join(tree, "sub"), "checkout", "-q", "a.txt");
    await pq(tree, "delete", "p");
    const mail = tempDir("pq-insub-");
    dirs.push(mail);
    write(mail, "edit.diff", "diff --git a/sub/a.txt b/sub/a.txt\n--- a/sub/a.txt\n+++ b/sub/a.txt\n@@ -1 +1,2 @@\n subA\n+added\n");
    await pq(tree, "import", join(mail, "edit.diff"));
    expect(await pq(tree, "push")).toMatchObject({ code: 7, err: refusal("sub/a.txt") });
  });
});

describe("a file inside a git repository nested in the tree, not a submodule (t113 N1)", () => {
  it("is refused by refresh (named, from inside it too) and add; a plain refresh leaves the repository out", async () => {
    const tree = repo({ "f.txt": "top\n" });
    const nested = join(tree, "nested");
    spawnSync("git", ["init", "-q", nested]);
    write(nested, "n.txt", "n\n");
    git(nested, "add", "n.txt");
    git(nested, "commit", "-qm", "nested");
    await pq(tree, "init");
    await pq(tree, "new", "p1");
    write(nested, "n.txt", "n\nnn\n");
    const runs: [string, string[]][] = [
      [nested, ["--tree", tree, "refresh", "n.txt"]],
      [tree, ["refresh", "nested/n.txt"]],
    ];
    for (const [cwd, args] of runs)
      expect(await pq(cwd, ...args)).toMatchObject({
        code: 7,
        err: expect.stringContaining("nested/n.txt is inside nested, a git repository of its own"),
      });
    expect((await pq(tree, "add", "nested/n.txt")).code).toBe(7);
    // Run inside it, pq does not work on the enclosing tree's stack, as git works on that repository (t113 N9).
    const inside = await pq(nested, "refresh");
    expect(inside.code).toBe(3);
    expect(inside.err).toContain(`no pq stack in ${nested}, a git repository of its own`);
    expect(inside.err).toContain(`pq --tree ${tree} works on the enclosing tree's`);
    // An empty .git folder is no repository to git, nor to pq (t119 N8).
    mkdirSync(join(tree, "empty", ".git"), { recursive: true });
    expect((await pq(join(tree, "empty"), "top")).code).toBe(0);
    write(tree, "f.txt", "TOP\n");
    expect((await pq(tree, "refresh")).out).toContain("refreshed p1: f.txt\n");
    expect(read(join(tree, "patches"), "p1")).not.toContain("nested/n.txt");
  });

  it("the stack's own repositories are its: in a shared queue's directory and in .pq/ pq works on the tree's stack", async () => {
    const tree = repo({ "f.txt": "top\n" });
    expect((await pq(tree, "init", "--shared")).code).toBe(0);
    await pq(tree, "new", "p1");
    for (const dir of ["patches", ".pq"]) expect(await pq(join(tree, dir), "series")).toMatchObject({ code: 0, out: "p1\n" });
  });
});
