/**
 * Stack edge cases a black-box tester found (findings/stack-3.md): edits that keep a file's
 * size and mtime (cp -p, rsync -a, tar x, touch -r) are edits, as git's index knows from the
 * ctime and inode; refresh FILE of a deleted file; fold over a file the top patch creates.
 */
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { basename, join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, git, makeRepo, pq, read, write } from "../helpers/repo.js";
import { Stack } from "../../src/queue/stack.js";
import type { PqError } from "../../src/errors.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

/** A path next to the tree (a saved mail, an export's output), removed after the test. */
function besideTree(tree: string, stem: string, ext = ""): string {
  const path = join(tree, "..", `${stem}-${Date.now()}${ext}`);
  dirs.push(path);
  return path;
}

/** A repository with these files and a pq stack, cleaned up after the test. */
async function stackTree(files: Record<string, string>): Promise<string> {
  const tree = makeRepo(files);
  dirs.push(tree);
  await pq(tree, "init");
  return tree;
}

/** A new top patch holding these edits, refreshed. */
async function patchWith(tree: string, name: string, edits: Record<string, string>, message = name): Promise<void> {
  await pq(tree, "new", name, "-m", message);
  for (const [path, content] of Object.entries(edits)) write(tree, path, content);
  await pq(tree, "refresh");
}

/** Lines "1" to "n", one a line. */
const lines = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}\n`).join("");

/** A new patch that replaces `from` by `to` in `path`, refreshed. */
async function patchReplacing(tree: string, name: string, path: string, from: string, to: string): Promise<void> {
  await pq(tree, "new", name);
  write(tree, path, read(tree, path).replace(from, to));
  await pq(tree, "refresh");
}

/** Rewrites `path` with the same number of bytes and puts its old mtime back. */
function sneakyEdit(tree: string, path: string, from: string, to: string): void {
  const full = join(tree, path);
  const before = statSync(full);
  const text = read(tree, path).replace(from, to);
  expect(text.length).toBe(before.size);
  writeFileSync(full, text);
  utimesSync(full, before.atime, before.mtime);
}

describe("an edit that keeps size and mtime", () => {
  it("shows in status and refresh, and pop refuses over it", async () => {
    const tree = await stackTree({ "a.txt": "one\ntwo\nthree\n" });
    await pq(tree, "new", "p", "-m", "msg");
    write(tree, "a.txt", "ONE\ntwo\nthree\n");
    expect((await pq(tree, "refresh")).code).toBe(0);
    expect((await pq(tree, "status")).out).not.toContain("a.txt");
    sneakyEdit(tree, "a.txt", "two", "TWO");
    expect((await pq(tree, "status")).out).toContain("a.txt");
    const pop = await pq(tree, "pop");
    expect(pop.code).toBe(5);
    expect(read(tree, "a.txt")).toBe("ONE\nTWO\nthree\n");
    expect((await pq(tree, "refresh")).out).toContain("refreshed p");
    expect(read(join(tree, "patches"), "p")).toContain("+TWO");
  });

  it("is not overwritten by a push that reuses a cached result", async () => {
    const tree = await stackTree({ "a.txt": "one\ntwo\nthree\neight\n" });
    await patchWith(tree, "p", { "a.txt": "ONE\ntwo\nthree\neight\n" }, "msg");
    await pq(tree, "pop");
    await pq(tree, "status");
    sneakyEdit(tree, "a.txt", "eight", "EIGHT");
    const push = await pq(tree, "push");
    expect(push.code, push.out + push.err + read(tree, "a.txt")).toBe(5);
    expect(read(tree, "a.txt")).toBe("one\ntwo\nthree\nEIGHT\n");
    expect(existsSync(join(tree, ".pq", "backups")) ? readdirSync(join(tree, ".pq", "backups")) : []).toEqual([]);
  });
});

describe("pq refresh FILE of a file deleted with rm (stack-3 #2)", () => {
  it("writes the deletion into the patch, not only into pq's state", async () => {
    const tree = await stackTree({ "a.txt": "one\n", "b.txt": "alpha\nbeta\n" });
    await patchWith(tree, "p", { "a.txt": "ONE\n" }, "msg");
    rmSync(join(tree, "b.txt"));
    const r = await pq(tree, "refresh", "b.txt");
    expect(r.out).toContain("refreshed p: b.txt (the patch's files: a.txt, b.txt)");
    expect(read(join(tree, "patches"), "p")).toContain("diff --git a/b.txt b/b.txt\ndeleted file mode 100644");
    // Popped and pushed again, the deletion is still the patch's.
    await pq(tree, "pop");
    expect(existsSync(join(tree, "b.txt"))).toBe(true);
    await pq(tree, "push");
    expect(existsSync(join(tree, "b.txt"))).toBe(false);
  });
});

describe("pq refresh FILE of a file with no change that the patch does not have (t126 N6)", () => {
  it("takes nothing: the patch is unchanged, its file list too, and no operation is logged", async () => {
    const tree = await stackTree({ "a.txt": "one\n", "s.txt": "s\n" });
    await patchWith(tree, "p", { "a.txt": "ONE\n" }, "msg");
    const before = read(join(tree, "patches"), "p");
    const logged = (await pq(tree, "oplog", "--json")).out;
    const r = await pq(tree, "refresh", "s.txt");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("p is unchanged");
    expect(read(join(tree, "patches"), "p")).toBe(before);
    expect((await pq(tree, "files", "p")).out).not.toContain("s.txt");
    expect((await pq(tree, "oplog", "--json")).out).toBe(logged);
    // Changed afterwards, the same command takes it.
    write(tree, "s.txt", "S\n");
    expect((await pq(tree, "refresh", "s.txt")).out).toContain("refreshed p: s.txt (the patch's files: a.txt, s.txt)");
  });
});

describe("pq refresh --short, as hg qrefresh --short (t129 N6)", () => {
  it("takes the changes of the patch's own files (and those named), leaving other edits unrefreshed", async () => {
    const tree = await stackTree({ "a.txt": "one\n", "b.txt": "bee\n", "c.txt": "sea\n" });
    await patchWith(tree, "p", { "a.txt": "ONE\n" }, "msg");
    write(tree, "a.txt", "ONE!\n");
    write(tree, "b.txt", "BEE\n");
    write(tree, "c.txt", "SEA\n");
    const r = await pq(tree, "refresh", "--short", "c.txt");
    expect(r.code, r.err).toBe(0);
    const patch = read(join(tree, "patches"), "p");
    expect(patch).toContain("+ONE!");
    expect(patch).toContain("+SEA");
    expect(patch).not.toContain("BEE");
    expect((await pq(tree, "status")).out).toContain("b.txt");
  });
});

describe("pq fold of a patch changing a file the top patch creates (stack-3 #3)", () => {
  it("keeps the creation: the folded patch creates the file with both changes, and pops", async () => {
    const tree = await stackTree({ "a.txt": "one\n" });
    await pq(tree, "new", "p1", "-m", "p1");
    write(tree, "n.txt", "n1\n");
    await pq(tree, "add", "n.txt");
    await pq(tree, "refresh");
    await patchWith(tree, "p2", { "n.txt": "n1\nn2\n" }, "p2");
    await pq(tree, "pop");
    expect((await pq(tree, "fold", "p2")).code).toBe(0);
    expect(read(join(tree, "patches"), "p1")).toContain("new file mode 100644");
    expect(read(join(tree, "patches"), "p1")).toContain("+n1\n+n2\n");
    expect((await pq(tree, "pop")).code).toBe(0);
    expect(existsSync(join(tree, "n.txt"))).toBe(false);
    expect((await pq(tree, "push")).code).toBe(0);
    expect(read(tree, "n.txt")).toBe("n1\nn2\n");
  });
});

describe("pq fold of a patch that applies only with fuzz on the top (t129 N4)", () => {
  it("says which hunk went in with fuzz, as push says it", async () => {
    const text = Array.from({ length: 20 }, (_, i) => `${i + 1}\n`).join("");
    const tree = await stackTree({ "a.txt": text });
    await patchWith(tree, "p1", { "a.txt": text }, "p1");
    // p2 changes line 10 with line 8 as context; p1 then changes line 8, so p2 goes in with fuzz.
    await patchWith(tree, "p2", { "a.txt": text.replace("10\n", "ten\n") }, "p2");
    await pq(tree, "pop");
    write(tree, "a.txt", text.replace("8\n", "eight\n").replace("12\n", "twelve\n"));
    await pq(tree, "refresh");
    const r = await pq(tree, "fold", "p2");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/p2 did not apply exactly: a\.txt: Hunk #1 succeeded at \d+ with fuzz 2\./);
    expect(read(tree, "a.txt")).toContain("ten\n");
  });
});

describe("why --merge cannot help a patch edited by hand over a file the patches below made (t130 N1)", () => {
  it("is said the same, true way at the first push: the tree's file is the blob it names", async () => {
    const text = Array.from({ length: 20 }, (_, i) => `${i + 1}\n`).join("");
    const tree = await stackTree({ "c.c": text });
    await patchWith(tree, "p1", { "c.c": text.replace("3\n", "three\n") }, "p1");
    await patchWith(tree, "p2", { "c.c": text.replace("3\n", "three\n").replace("15\n", "fifteen\n") }, "p2");
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    // By hand: a context line the file never had.
    write(join(tree, "patches"), "p2", read(join(tree, "patches"), "p2").replace(" 14\n", " fourteen\n"));
    for (const attempt of [1, 2]) {
      const r = await pq(tree, "push", "-a");
      expect(r.code, `${attempt}`).toBe(6);
      expect(r.err, `${attempt}`).toContain("it names either: was it edited by hand?");
      expect(r.err).not.toContain("git does not have the blob");
      await pq(tree, "pop", "-a");
    }
  });
});

describe("a content-only patch and the file's mode (stack-3 #5)", () => {
  it("keeps the executable bit upstream gave the file, and does not set one from the index line", async () => {
    const tree = await stackTree({ "a.txt": "one\ntwo\n", "b.txt": "alpha\n" });
    await patchWith(tree, "p", { "a.txt": "ONE\ntwo\n" }, "p");
    expect(read(join(tree, "patches"), "p")).toMatch(/^index [0-9a-f]+\.\.[0-9a-f]+ 100644$/m);
    await pq(tree, "pop");
    chmodSync(join(tree, "a.txt"), 0o755);
    git(tree, "commit", "-qam", "upstream makes a.txt executable");
    expect((await pq(tree, "push")).code).toBe(0);
    expect(statSync(join(tree, "a.txt")).mode & 0o111).not.toBe(0);
    expect(git(tree, "status", "--short", "a.txt")).toBe(" M a.txt\n");
    expect(git(tree, "diff", "a.txt")).not.toContain("mode");
    // A colleague's patch made where the file was executable does not make ours so.
    await pq(tree, "pop");
    write(
      join(tree, "patches"),
      "x755",
      "diff --git a/b.txt b/b.txt\nindex 0000000..1111111 100755\n--- a/b.txt\n+++ b/b.txt\n@@ -1 +1 @@\n-alpha\n+ALPHA\n",
    );
    write(join(tree, "patches"), "series", "p\nx755\n");
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect(statSync(join(tree, "b.txt")).mode & 0o111).toBe(0);
  });
});

describe("a file with NUL bytes that a patch carries as text hunks (t55 N1)", () => {
  it("stays text hunks when a refresh or a remove rewrites the patch, so GNU patch and quilt still apply it; a new binary file is git's binary form", async () => {
    const tree = await stackTree({ "a.txt": lines(10) });
    // As Debian's vim CVE-2023-4781.patch adds its crash reproducer: a text hunk with a NUL, which GNU patch applies.
    const poc = "ab\0cd\n\xffxy\n";
    const patchText =
      "Subject: poc\n\n--- /dev/null\n+++ b/poc.bin\n@@ -0,0 +1,2 @@\n+ab\0cd\n+\xffxy\n--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n";
    writeFileSync(join(tree, "poc.patch"), patchText, "latin1");
    expect((await pq(tree, "import", "poc.patch", "--push")).code).toBe(0);
    expect(readFileSync(join(tree, "poc.bin"), "latin1")).toBe(poc);
    write(tree, "a.txt", read(tree, "a.txt").replace("\n5\n", "\nfive\n"));
    write(tree, "b.txt", "new\n");
    expect((await pq(tree, "add", "b.txt")).code).toBe(0);
    expect((await pq(tree, "refresh")).code).toBe(0);
    const refreshed = readFileSync(join(tree, "patches", "poc.patch"), "latin1");
    expect(refreshed).not.toContain("GIT binary patch");
    expect(refreshed).toContain("+++ b/poc.bin\n@@ -0,0 +1,2 @@\n+ab\0cd\n+\xffxy\n");
    expect(refreshed).toContain("+five\n");
    // GNU patch applies the refreshed patch, as it applied the imported one.
    expect((await pq(tree, "pop")).code).toBe(0);
    execFileSync("patch", ["-p1", "-s", "-i", join(tree, "patches", "poc.patch")], { cwd: tree });
    expect(readFileSync(join(tree, "poc.bin"), "latin1")).toBe(poc);
    git(tree, "checkout", "--", "a.txt");
    rmSync(join(tree, "poc.bin"));
    rmSync(join(tree, "b.txt"));
    expect((await pq(tree, "push")).code).toBe(0);
    expect((await pq(tree, "remove", "b.txt")).code).toBe(0);
    expect(readFileSync(join(tree, "patches", "poc.patch"), "latin1")).toContain("+ab\0cd\n");
    // A binary file the patch did not carry as text is written as git writes it.
    writeFileSync(join(tree, "new.bin"), Buffer.from("\x00\x01new", "latin1"));
    expect((await pq(tree, "add", "new.bin")).code).toBe(0);
    expect((await pq(tree, "refresh")).code).toBe(0);
    const last = readFileSync(join(tree, "patches", "poc.patch"), "latin1");
    expect(last).toMatch(/diff --git a\/new.bin b\/new.bin\nnew file mode 100644\nindex 0{40}\.\.[0-9a-f]{40}\nGIT binary patch\n/);
    expect(last).toContain("+ab\0cd\n");
  });
});

describe("files with NUL bytes carried as text hunks, in more shapes (t57 N6)", () => {
  it("a hunk that does not show the NUL stays text through a refresh, and a fold keeps the folded patch's NUL hunk text", async () => {
    const tree = await stackTree({ "other.txt": lines(10) });
    // data.bin starts with NULs; the quilt patch (diff -a) changes one of its text lines only.
    const data = "MAGIC\0\0\x01header\n" + Array.from({ length: 40 }, (_, i) => `text line ${i + 1}\n`).join("");
    writeFileSync(join(tree, "data.bin"), data, "latin1");
    git(tree, "add", "data.bin");
    git(tree, "commit", "-qm", "data");
    const queue = join(tree, "patches");
    writeFileSync(
      join(queue, "mod-data.patch"),
      "--- a/data.bin\n+++ b/data.bin\n@@ -29,3 +29,3 @@\n text line 28\n-text line 29\n+text line twenty-nine\n text line 30\n",
      "latin1",
    );
    writeFileSync(join(queue, "add-poc.patch"), "--- /dev/null\n+++ b/poc.bin\n@@ -0,0 +1,2 @@\n+crash\0input\n+\xffend\n", "latin1");
    writeFileSync(join(queue, "series"), "mod-data.patch\nadd-poc.patch\n");
    expect((await pq(tree, "push")).code).toBe(0);
    write(tree, "other.txt", read(tree, "other.txt").replace("\n5\n", "\nfive\n"));
    expect((await pq(tree, "add", "other.txt")).code).toBe(0);
    expect((await pq(tree, "refresh")).code).toBe(0);
    const refreshed = readFileSync(join(queue, "mod-data.patch"), "latin1");
    expect(refreshed).not.toContain("GIT binary patch");
    expect(refreshed).toContain("+text line twenty-nine\n");
    expect((await pq(tree, "fold", "add-poc.patch")).code).toBe(0);
    const folded = readFileSync(join(queue, "mod-data.patch"), "latin1");
    expect(folded).not.toContain("GIT binary patch");
    expect(folded).toContain("+crash\0input\n");
    // And GNU patch applies it, from the tree as HEAD has it.
    expect((await pq(tree, "pop")).code).toBe(0);
    execFileSync("patch", ["-p1", "-s", "-i", join(queue, "mod-data.patch")], { cwd: tree });
    expect(readFileSync(join(tree, "poc.bin"), "latin1")).toBe("crash\0input\n\xffend\n");
    expect(readFileSync(join(tree, "data.bin"), "latin1")).toContain("text line twenty-nine\n");
  });
});

describe("a binary patch over a binary that changed since (stack-3 #4)", () => {
  it("does not apply: its pre-image (the index line's blob) is checked, as git apply does", async () => {
    const tree = makeRepo({ "a.txt": "one\n" });
    dirs.push(tree);
    writeFileSync(join(tree, "small.bin"), Buffer.from("\x00\x01\x02base", "latin1"));
    git(tree, "add", "small.bin");
    git(tree, "commit", "-qm", "bin");
    await pq(tree, "init");
    await pq(tree, "new", "p", "-m", "p");
    writeFileSync(join(tree, "small.bin"), Buffer.from("\x00\x01\x02mine-version", "latin1"));
    await pq(tree, "refresh");
    expect(read(join(tree, "patches"), "p")).toContain("GIT binary patch");
    await pq(tree, "pop");
    writeFileSync(join(tree, "small.bin"), Buffer.from("\x00\x01\x02upstream-changed", "latin1"));
    git(tree, "commit", "-qam", "upstream changes the binary");
    const dry = await pq(tree, "push", "--dry-run");
    expect(dry.code).toBe(6);
    const push = await pq(tree, "push");
    expect(push.code).toBe(6);
    expect(push.err).toContain("small.bin: the binary patch does not fit this file");
    expect(push.err).toContain("pq push --merge cannot help here (a binary file cannot be merged)");
    expect(dry.err).toContain("small.bin: the binary patch does not fit this file");
    // --merge has no lines to merge: refused the same way, not a "conflict" whose refresh would empty the patch (interop-5 #24).
    const merge = await pq(tree, "push", "--merge");
    expect(merge.code).toBe(6);
    expect(merge.err).not.toContain("conflict markers");
    expect((await pq(tree, "applied")).out).toBe("");
    expect(readFileSync(join(tree, "small.bin"), "latin1")).toBe("\x00\x01\x02upstream-changed");
    // --force keeps the binary change whole in a .rej, and refresh refuses to drop it unsaid (dry-6 #5).
    const dryForced = await pq(tree, "push", "--force", "--dry-run");
    expect(dryForced.out).toContain("small.bin: the binary patch does not fit this file");
    expect(dryForced.out).toContain("rejects it would write: small.bin.rej");
    expect((await pq(tree, "push", "--force")).code).toBe(6);
    const rej = read(tree, "small.bin.rej");
    expect(rej).toMatch(/^diff --git a\/small.bin b\/small.bin\nindex [0-9a-f]{40}\.\.[0-9a-f]{40} 100644\nGIT binary patch\n/);
    expect((await pq(tree, "refresh")).code).toBe(5);
    expect(read(join(tree, "patches"), "p")).toContain("GIT binary patch");
    // The .rej is a patch git apply takes on the file it was made from.
    writeFileSync(join(tree, "small.bin"), Buffer.from("\x00\x01\x02base", "latin1"));
    git(tree, "apply", "small.bin.rej");
    expect(readFileSync(join(tree, "small.bin"), "latin1")).toBe("\x00\x01\x02mine-version");
    expect((await pq(tree, "undo", "--force")).code).toBe(0);
    expect((await pq(tree, "applied")).out).toBe("");
    // On the file it was made from, it applies.
    git(tree, "reset", "-q", "--hard", "HEAD~1");
    expect((await pq(tree, "push")).code).toBe(0);
    expect(readFileSync(join(tree, "small.bin"), "latin1")).toBe("\x00\x01\x02mine-version");
  });
});

describe("pq undo of a push after the patch was committed by hand (stack-3 #8)", () => {
  it("refuses as pop does, instead of leaving the commit reverted in the tree", async () => {
    const tree = await stackTree({ "a.txt": "one\ntwo\n" });
    await patchWith(tree, "p", { "a.txt": "ONE\ntwo\n" }, "msg");
    await pq(tree, "pop");
    await pq(tree, "push");
    git(tree, "commit", "-qam", "committed by hand");
    expect((await pq(tree, "pop")).code).toBe(12);
    const undo = await pq(tree, "undo");
    expect(undo.code).toBe(12);
    expect(undo.err).toContain("HEAD has commits that change a.txt");
    expect(read(tree, "a.txt")).toBe("ONE\ntwo\n");
    expect(git(tree, "status", "--short", "a.txt")).toBe("");
  });

  it("refuses too when a lower applied patch changes the same file, and so does the redo of a pop (undo-5 #1)", async () => {
    const tree = await stackTree({ "a.txt": "one\ntwo\nthree\n" });
    await patchWith(tree, "p1", { "a.txt": "ONE\ntwo\nthree\n" });
    await patchWith(tree, "p2", { "a.txt": "ONE\ntwo\nTHREE\n" });
    await pq(tree, "pop");
    await pq(tree, "push");
    git(tree, "commit", "-qam", "committed by hand");
    expect((await pq(tree, "pop")).code).toBe(12);
    const undo = await pq(tree, "undo");
    expect(undo.code).toBe(12);
    expect(undo.err).toContain("undo would leave those commits reverted");
    expect(git(tree, "status", "--short", "a.txt")).toBe("");
    // The redo of a pop is a pop.
    git(tree, "reset", "-q", "HEAD~1");
    expect((await pq(tree, "pop")).code).toBe(0);
    expect((await pq(tree, "undo")).code).toBe(0);
    git(tree, "commit", "-qam", "committed by hand again");
    const redo = await pq(tree, "redo");
    expect(redo.code).toBe(12);
    expect(git(tree, "status", "--short", "a.txt")).toBe("");
  });

  it("the undo of a pop after a commit changed the popped file refuses, --force too, and names the goto that works (t117 N1)", async () => {
    const tree = await stackTree({ "a.txt": lines(10) });
    await patchWith(tree, "p", { "a.txt": lines(10).replace("8\n", "eight\n") });
    await pq(tree, "pop");
    write(tree, "a.txt", lines(10).replace("2\n", "two upstream\n"));
    git(tree, "commit", "-qam", "upstream");
    for (const args of [["undo"], ["undo", "--force"]]) {
      const undo = await pq(tree, ...args);
      expect(undo.code).toBe(12);
      expect(undo.err).toContain("HEAD has commits that change a.txt since pop p: undo would write it as it was before those commits");
      expect(undo.err).toContain("pq goto p makes that move over HEAD as it is now");
    }
    expect(read(tree, "a.txt")).toBe(lines(10).replace("2\n", "two upstream\n"));
    expect((await pq(tree, "goto", "p")).code).toBe(0);
    expect(read(tree, "a.txt")).toBe(lines(10).replace("2\n", "two upstream\n").replace("8\n", "eight\n"));
  });

  it("names a patch whose name starts with a dash after --, so that the goto it names works word for word (t119 N11)", async () => {
    const tree = await stackTree({ "a.txt": lines(10) });
    expect((await pq(tree, "new", "--", "-dash")).code).toBe(0);
    write(tree, "a.txt", lines(10).replace("8\n", "eight\n"));
    expect((await pq(tree, "refresh")).code).toBe(0);
    await pq(tree, "pop");
    write(tree, "a.txt", lines(10).replace("2\n", "two upstream\n"));
    git(tree, "commit", "-qam", "upstream");
    const undo = await pq(tree, "undo");
    expect(undo.code).toBe(12);
    const advice = /  (pq goto .*) makes that move/.exec(undo.err)?.[1];
    expect(advice).toBe("pq goto -- -dash");
    expect((await pq(tree, ...advice!.split(" ").slice(1))).code).toBe(0);
    expect((await pq(tree, "top")).out.trim()).toBe("-dash");
  });
});

describe("a message from $EDITOR that pq would cut (stack-3 #7)", () => {
  it("is refused as -m is, and the text is saved where the refusal says", async () => {
    const tree = await stackTree({ "a.txt": "one\n" });
    await pq(tree, "new", "p", "-m", "p");
    const before = read(join(tree, "patches"), "p");
    const script = join(tree, "..", `editor-${Date.now()}.sh`);
    writeFileSync(script, `#!/bin/sh\nprintf 'Subject: subj\\n\\nbody\\n---\\nafter text that must not be lost\\n' > "$1"\n`, {
      mode: 0o755,
    });
    process.env.EDITOR = script;
    try {
      for (const cmd of [
        ["header", "-e"],
        ["refresh", "-e"],
      ]) {
        const r = await pq(tree, ...cmd);
        expect(r.code, cmd.join(" ")).toBe(2);
        expect(r.err).toContain('is "---", which ends a patch\'s description');
        const saved = /your text is saved in (\S+)/.exec(r.err)![1];
        expect(readFileSync(saved, "utf8")).toContain("after text that must not be lost");
        rmSync(saved);
        expect(read(join(tree, "patches"), "p")).toBe(before);
      }
    } finally {
      delete process.env.EDITOR;
      rmSync(script);
    }
  });
});

describe("a message whose lines start with # (#define, #123), edited in $EDITOR (t54 N4)", () => {
  it("keeps them when the editor saves the text unchanged: the template's comments take another character", async () => {
    const tree = await stackTree({ "a.txt": "one\n" });
    await pq(tree, "new", "p", "-m", "Subject here\n\nThe fix:\n#define FOO 1 is needed\n#123 is the bug report\nend");
    const before = read(join(tree, "patches"), "p");
    const script = join(tree, "..", `editor-${Date.now()}.sh`);
    // Saves the file as given, and keeps a copy of what it was given.
    writeFileSync(script, `#!/bin/sh\ncp "$1" "$1.seen"; cp "$1" ${join(tree, "..", "seen-by-editor")}\n`, { mode: 0o755 });
    process.env.EDITOR = script;
    try {
      for (const cmd of [
        ["header", "-e"],
        ["refresh", "-e"],
      ]) {
        expect((await pq(tree, ...cmd)).code, cmd.join(" ")).toBe(0);
        expect(read(join(tree, "patches"), "p"), cmd.join(" ")).toContain("#define FOO 1 is needed\n#123 is the bug report\nend");
        expect(readFileSync(join(tree, "..", "seen-by-editor"), "utf8")).toMatch(/^; Lines starting with ';' are ignored/m);
      }
      expect(read(join(tree, "patches"), "p")).toBe(before);
    } finally {
      delete process.env.EDITOR;
      rmSync(script);
    }
  });
});

describe("a header field added in pq header -e's editor (t117 N5)", () => {
  it("is kept in the message where pq keeps such a field (Origin:), and otherwise said not kept, not dropped without a word", async () => {
    const tree = await stackTree({ "a.txt": "one\n" });
    await pq(tree, "new", "p", "-m", "Fix the frobnicator");
    const script = join(tree, "..", `editor-${Date.now()}.sh`);
    writeFileSync(
      script,
      `#!/bin/sh\nsed -i 's/^Subject: .*/&\\nCc: Bob <bob@example.org>\\nOrigin: upstream, https:\\/\\/example.org\\/x/' "$1"\n`,
      { mode: 0o755 },
    );
    process.env.EDITOR = script;
    try {
      const r = await pq(tree, "header", "-e");
      expect(r.code).toBe(0);
      expect(r.err).toContain(`"Cc: Bob <bob@example.org>" was not kept: write it in the message (below the subject) to keep it`);
      expect(r.err).not.toContain("Origin:");
      expect(read(join(tree, "patches"), "p")).toContain("Origin: upstream, https://example.org/x");
    } finally {
      delete process.env.EDITOR;
      rmSync(script);
    }
  });
});

describe("a message edited in $EDITOR while another pq changes the stack (tui-8 T8, T9)", () => {
  it("refresh -e refuses when the top moved or its header changed meanwhile, header -e when the header changed; the text is kept", async () => {
    const tree = await stackTree({ "a.txt": lines(10) });
    await pq(tree, "new", "p1", "-m", "first patch");
    write(tree, "a.txt", lines(10).replace("2\n", "two\n"));
    await pq(tree, "refresh");
    await pq(tree, "new", "p2", "-m", "second patch");
    write(tree, "a.txt", read(tree, "a.txt").replace("8\n", "eight\n"));
    await pq(tree, "refresh");
    const p1 = read(join(tree, "patches"), "p1");
    const p2 = read(join(tree, "patches"), "p2");
    // The editor is a script that does what another terminal would do meanwhile, then saves.
    const script = join(tree, "..", `editor-${Date.now()}.sh`);
    const editor = (meanwhile: string) =>
      writeFileSync(script, `#!/bin/sh\n${meanwhile}\nsed -i "1s/.*/Subject: typed in the editor/" "$1"\n`, { mode: 0o755 });
    const bin = resolve("bin/pq");
    process.env.EDITOR = script;
    try {
      editor(`'${bin}' pop >/dev/null`);
      const moved = await pq(tree, "refresh", "-e");
      expect(moved.code).toBe(12);
      expect(moved.err).toContain("the top patch is p1 now, not p2, whose message was edited");
      expect(readFileSync(/your text is saved in (\S+)/.exec(moved.err)![1], "utf8")).toContain("typed in the editor");
      expect(read(join(tree, "patches"), "p1")).toBe(p1);
      await pq(tree, "push");
      editor(`'${bin}' header p2 -m "renamed elsewhere" >/dev/null`);
      for (const cmd of [
        ["refresh", "-e"],
        ["header", "-e", "p2"],
      ]) {
        const changed = await pq(tree, ...cmd);
        expect(changed.code, cmd.join(" ")).toBe(12);
        expect(changed.err).toContain("p2's message or author changed while the editor was open");
        expect(changed.err).toContain("your text is saved in");
        expect(read(join(tree, "patches"), "p2")).toContain("Subject: renamed elsewhere");
        await pq(tree, "header", "p2", "-m", "second patch");
      }
      expect(read(join(tree, "patches"), "p2")).toBe(p2);
    } finally {
      delete process.env.EDITOR;
      rmSync(script);
    }
  });
});

describe("pq rebase --abort after series edits made while it was stopped (stack-3 #9)", () => {
  it("puts the queue back as it was; the patches made meanwhile go to the trash", async () => {
    const tree = makeRepo({ "a.txt": "one\ntwo\n", "b.txt": "alpha\nbeta\n" });
    dirs.push(tree);
    git(tree, "checkout", "-qb", "up");
    write(tree, "b.txt", "ALPHA-up\nbeta\n");
    git(tree, "commit", "-qam", "upstream");
    git(tree, "checkout", "-q", "main");
    await pq(tree, "init");
    await patchWith(tree, "fb", { "b.txt": "ALPHA-mine\nbeta\n" }, "fb");
    const queueBefore = readdirSync(join(tree, "patches")).sort();
    const seriesBefore = read(join(tree, "patches"), "series");
    write(tree, "../zwei.diff", "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+zwei\n");
    expect((await pq(tree, "rebase", "up")).code).toBe(6);
    // A rename of a patch the rebase carries is refused while it is stopped (stack-6 #5); an import is not.
    expect((await pq(tree, "rename", "fb", "fb2")).code).toBe(12);
    expect((await pq(tree, "import", join(tree, "../zwei.diff"))).code).toBe(0);
    expect((await pq(tree, "rebase", "--abort")).code).toBe(0);
    expect(readdirSync(join(tree, "patches")).sort()).toEqual(queueBefore);
    expect(read(join(tree, "patches"), "series")).toBe(seriesBefore);
    expect(readdirSync(join(tree, ".pq", "trash")).some((f) => f.endsWith("zwei.diff"))).toBe(true);
    expect((await pq(tree, "rename", "fb", "fb2")).code).toBe(0);
  });
});

describe("pop's way out of a hand commit, followed (stack-3 #12)", () => {
  it("leaves git's index clean: a mixed reset, not --soft", async () => {
    const tree = await stackTree({ "a.txt": "one\ntwo\n" });
    await patchWith(tree, "p", { "a.txt": "ONE\ntwo\n" }, "msg");
    const below = git(tree, "rev-parse", "HEAD").trim();
    git(tree, "commit", "-qam", "by hand");
    const refused = await pq(tree, "pop");
    // The commit named, as the pull's way out names its own (t102 N8).
    expect(refused.err).toContain(`git reset ${below.slice(0, 12)} (a mixed reset to the commit below them`);
    git(tree, "reset", "-q", "HEAD~1");
    expect((await pq(tree, "pop")).code).toBe(0);
    expect(git(tree, "status", "--short", "a.txt")).toBe("");
  });
});

describe("an mbox round trip through pq (stack-3 #13)", () => {
  it("keeps a '>From ' line of a message as it is, as git am does", async () => {
    const tree = await stackTree({ "a.txt": "one\n" });
    await patchWith(tree, "p", { "a.txt": "ONE\n" }, "subject\n\nFrom now on we do X.\n>From quoted already\nend");
    const mbox = join(tree, "..", `mb-${Date.now()}.mbox`);
    expect((await pq(tree, "export", "--mbox", mbox)).code).toBe(0);
    const other = makeRepo({ "a.txt": "one\n" });
    dirs.push(other);
    await pq(other, "init");
    expect((await pq(other, "import", "--mbox", mbox)).code).toBe(0);
    rmSync(mbox);
    const name = read(join(other, "patches"), "series").split("\n")[0];
    const header = (await pq(other, "header", "--json", name)).out;
    expect(JSON.parse(header).body).toBe("From now on we do X.\n>From quoted already\nend");
  });
});

describe("a tracked symlink no patch touches (stack-3 #6, #10)", () => {
  it("re-pointed or deleted, it is left out of the refresh and said, not a refusal, and pop keeps it a link", async () => {
    const tree = makeRepo({ "a.txt": "one\n", "b.txt": "bee\n" });
    dirs.push(tree);
    symlinkSync("a.txt", join(tree, "link"));
    git(tree, "add", "link");
    git(tree, "commit", "-qm", "link");
    await pq(tree, "init");
    await pq(tree, "new", "p", "-m", "p");
    write(tree, "a.txt", "ONE\n");
    rmSync(join(tree, "link"));
    symlinkSync("b.txt", join(tree, "link"));
    const named = await pq(tree, "refresh", "a.txt");
    expect(named.code, named.err).toBe(0);
    expect(named.out).toContain("left out (symlinks or other non-files; pq's patches hold regular files only): link");
    expect((await pq(tree, "status")).code).toBe(0);
    // Deleted: not recorded as a regular file's deletion.
    rmSync(join(tree, "link"));
    const r = await pq(tree, "refresh");
    expect(r.out).toContain("left out (symlinks");
    expect(read(join(tree, "patches"), "p")).not.toContain("b/link");
    git(tree, "checkout", "link");
    expect((await pq(tree, "pop")).code).toBe(0);
    expect(lstatSync(join(tree, "link")).isSymbolicLink()).toBe(true);
  });

  it("held as a plain file where git makes no links (core.symlinks=false), re-pointed, it stays a link: left out, and finish keeps it (t99 N1)", async () => {
    const tree = makeRepo({ "a.txt": "one\n", "b.txt": "bee\n" });
    dirs.push(tree);
    symlinkSync("a.txt", join(tree, "link"));
    git(tree, "add", "link");
    git(tree, "commit", "-qm", "link");
    // As a clone with core.symlinks=false checks it out: a file holding the target's name.
    git(tree, "config", "core.symlinks", "false");
    rmSync(join(tree, "link"));
    git(tree, "checkout", "link");
    expect(lstatSync(join(tree, "link")).isFile()).toBe(true);
    await pq(tree, "init");
    await pq(tree, "new", "p", "-m", "p");
    write(tree, "a.txt", "ONE\n");
    writeFileSync(join(tree, "link"), "b.txt");
    const r = await pq(tree, "refresh");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("left out (symlinks or other non-files; pq's patches hold regular files only): link");
    expect(read(join(tree, "patches"), "p")).not.toContain("link");
    // Named, it is left out the same way; pq add refuses it, as it refuses a link (t101 N2).
    const named = await pq(tree, "refresh", "link");
    expect(named.code, named.err).toBe(0);
    expect(named.out).toContain("left out (symlinks or other non-files; pq's patches hold regular files only): link");
    const add = await pq(tree, "add", "link");
    expect(add.code).toBe(7);
    expect(add.err).toContain("link is a symlink in git, which this checkout holds as a plain file (core.symlinks = false)");
    expect(read(join(tree, "patches"), "p")).not.toContain("link");
    expect((await pq(tree, "finish", "-a")).code).toBe(0);
    expect(git(tree, "ls-tree", "HEAD", "link")).toMatch(/^120000 blob /);
  });
});

describe("pq add of a file inside a path the stack has as a file (stack-3 #11)", () => {
  it("is refused at once, with a way that works, instead of wedging refresh and pop", async () => {
    const tree = await stackTree({ "a.txt": "one\n", "b.txt": "alpha\n" });
    await pq(tree, "new", "A", "-m", "A");
    git(tree, "rm", "-q", "b.txt");
    await pq(tree, "refresh");
    await pq(tree, "new", "B", "-m", "B");
    write(tree, "b.txt/x", "x\n");
    const add = await pq(tree, "add", "b.txt/x");
    expect(add.code).toBe(7);
    expect(add.err).toContain("b.txt/x is inside b.txt, which the applied patches have as a file");
    rmSync(join(tree, "b.txt"), { recursive: true });
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
  });
});

describe("series edits that change nothing (stack-3 #15)", () => {
  it("are refused as nothing to do, so the next undo takes back the command the user meant", async () => {
    const tree = await stackTree({ "a.txt": "one\n" });
    await pq(tree, "new", "p1");
    await pq(tree, "new", "p2");
    await pq(tree, "pop");
    const reorder = await pq(tree, "reorder", "p2", "--first");
    expect([reorder.code, reorder.err]).toEqual([12, expect.stringContaining("p2 is already there; nothing was moved")]);
    const rename = await pq(tree, "rename", "p1", "p1");
    expect([rename.code, rename.err]).toEqual([12, expect.stringContaining("p1 is already called p1")]);
    expect((await pq(tree, "undo")).out).toContain("undid pop p2");
  });
});

describe("pq reorder --first of an applied patch (t149 N5)", () => {
  it("is refused as applied, naming the pop that makes it the next to push, as --last is", async () => {
    const tree = await stackTree({ "a.txt": "one\n" });
    for (const name of ["A", "B", "C"]) await pq(tree, "new", name);
    await pq(tree, "goto", "A");
    const first = await pq(tree, "reorder", "A", "--first");
    expect([first.code, first.err]).toEqual([12, expect.stringContaining("A is applied; only unapplied patches are reordered")]);
    expect(first.err).toContain("pq pop -a makes A the next patch to push, which is first of the unapplied ones");
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    expect((await pq(tree, "series")).out).toBe("A\nB\nC\n");
  });
});

describe("operation names of many patches (stack-3 #15)", () => {
  it("name the first and last and the count, not every patch", async () => {
    const tree = await stackTree({ "a.txt": "one\n" });
    for (const n of ["p1", "p2", "p3", "p4", "p5"]) await pq(tree, "new", n);
    await pq(tree, "pop", "-a");
    expect((await pq(tree, "delete", "p1", "p2", "p3", "p4", "p5")).code).toBe(0);
    expect((await pq(tree, "oplog")).out).toContain("delete p1..p5 (5)");
  });
});

describe("a file where a queue directory is expected (stack-3 #15)", () => {
  it("import --quilt FILE and export --dir FILE are usage errors (exit 2), not the operating system's", async () => {
    const tree = await stackTree({ "a.txt": "one\n" });
    await pq(tree, "new", "p");
    for (const args of [
      ["import", "--quilt", "a.txt"],
      ["export", "--dir", "a.txt"],
      ["export", "--quilt", "a.txt"],
    ]) {
      const r = await pq(tree, ...args);
      expect([r.code, r.err], args.join(" ")).toEqual([2, expect.stringContaining("a.txt is a file")]);
    }
  });
});

describe("pq build and pq boot where there is nothing to build (readme-4 #7, #15)", () => {
  it("refuse a tree without build.json (12, as ci does), and boot refuses a --timeout that is no positive number (2)", async () => {
    const tree = await stackTree({ "a.txt": "a\n" });
    for (const cmd of ["build", "boot"]) {
      const r = await pq(tree, cmd);
      expect([cmd, r.code]).toEqual([cmd, 12]);
      expect(r.err).toContain("has no build.json: pq builds and boots trees that describe their build in one");
      expect(r.err).not.toContain("ENOENT");
    }
    for (const timeout of ["abc", "-1", "0"]) {
      const r = await pq(tree, "boot", "--timeout", timeout);
      expect([timeout, r.code]).toEqual([timeout, 2]);
      expect(r.err).toContain("--timeout takes a positive number of seconds");
      expect(r.err).not.toContain("NaN");
    }
    // Beyond what Node's timers hold, every boot was a hang after 1 ms, and remembered so (ci-17 F5).
    for (const cmd of [["boot"], ["ci", "--run", "true"], ["bisect", "--run", "true"]]) {
      const r = await pq(tree, ...cmd, "--timeout", "2200000");
      expect([cmd[0], r.code]).toEqual([cmd[0], 2]);
      expect(r.err).toContain("--timeout 2200000 is longer than pq can wait (2147483 seconds, about 24 days)");
    }
  });
});

describe("a queue directory removed behind pq's back (readme-4 #18)", () => {
  it("is named by every command (exit 13, not a crash), and pq restore-queue writes back every file pq wrote", async () => {
    const tree = await stackTree({ "a.txt": "one\ntwo\n" });
    await patchWith(tree, "first", { "a.txt": "one\ntwo\nthree\n" });
    await patchWith(tree, "second", { "a.txt": "one\ntwo\nthree\nfour\n" });
    expect((await pq(tree, "pop")).code).toBe(0);
    const queue = join(tree, "patches");
    const before = { series: read(queue, "series"), first: read(queue, "first"), second: read(queue, "second") };
    git(tree, "clean", "-fdq");
    for (const cmd of [["status"], ["series"], ["pop"], ["push"]]) {
      const r = await pq(tree, ...cmd);
      expect([cmd[0], r.code]).toEqual([cmd[0], 13]);
      expect(r.err).toContain(
        "patches is missing (git clean -fd or -fdx removes an untracked queue, and git stash -u takes it into the stash)",
      );
      expect(r.err).toContain("pq restore-queue");
    }
    const restored = await pq(tree, "restore-queue");
    expect(restored.code).toBe(0);
    expect(restored.out).toContain("restored 3 file(s)");
    expect({ series: read(queue, "series"), first: read(queue, "first"), second: read(queue, "second") }).toEqual(before);
    expect((await pq(tree, "restore-queue")).out).toContain("nothing to restore");
    expect((await pq(tree, "push")).code).toBe(0);
    expect(read(tree, "a.txt")).toBe("one\ntwo\nthree\nfour\n");
  });

  it("a stack held open (the TUI's) refuses too; restore-queue brings back the series in effect, not one an undone operation wrote (tui-8 T13, T17)", async () => {
    const tree = await stackTree({ "a.txt": "one\ntwo\n" });
    await patchWith(tree, "first", { "a.txt": "one\ntwo\nthree\n" });
    expect((await pq(tree, "pop")).code).toBe(0);
    const queue = join(tree, "patches");
    const series = read(queue, "series");
    const held = await Stack.open({ tree });
    git(tree, "clean", "-fdq");
    const refused = await held.newPatch("after-clean").then(
      () => null,
      (e: unknown) => e as PqError,
    );
    expect(refused?.code).toBe("damaged");
    expect(refused?.message).toContain("patches is missing");
    expect(existsSync(queue)).toBe(false);
    // A series made by hand meanwhile, a patch made in it and undone, the series removed again.
    mkdirSync(queue);
    write(queue, "series", "");
    expect((await pq(tree, "new", "extra")).code).toBe(0);
    expect((await pq(tree, "undo")).code).toBe(0);
    rmSync(join(queue, "series"));
    expect((await pq(tree, "restore-queue")).out).toContain("series");
    expect(read(queue, "series")).toBe(series);
    // git clean -fdx takes .pq/ too: a held stack says so, not ENOENT.
    git(tree, "clean", "-fdxq");
    const gone = await held.pop().then(
      () => null,
      (e: unknown) => e as PqError,
    );
    expect(gone?.message).toMatch(/patches is missing|no pq stack/);
  });
});

describe("smaller things a README reader met (readme-4 #1, #2, #4, #6)", () => {
  it("push of the top is nothing to do; a lower one names goto; -m counts the lines typed; GIT_AUTHOR_* names the author; an import of many is named by its first and last", async () => {
    const tree = await stackTree({ "a.txt": "one\ntwo\nthree\n" });
    await patchWith(tree, "first", { "a.txt": "ONE\ntwo\nthree\n" });
    await patchWith(tree, "second", { "a.txt": "ONE\ntwo\nTHREE\n" });
    const top = await pq(tree, "push", "second");
    expect([top.code, top.out.trim()]).toEqual([0, "nothing to push: the top is already second"]);
    const lower = await pq(tree, "push", "first");
    expect(lower.code).toBe(12);
    expect(lower.err).toContain("pq goto first pops back to it");
    const typed = await pq(tree, "header", "second", "-m", "subject\n\nbody one\nbody two\ndiff --git a/x b/x\n");
    expect(typed.code).toBe(2);
    expect(typed.err).toContain('line 5 of the message ("diff --git a/x b/x")');
    const saved = { name: process.env.GIT_AUTHOR_NAME, email: process.env.GIT_AUTHOR_EMAIL };
    process.env.GIT_AUTHOR_NAME = "Env Author";
    process.env.GIT_AUTHOR_EMAIL = "env.author@example.org";
    try {
      expect((await pq(tree, "new", "third", "-m", "third")).code).toBe(0);
      // One of the two set: it, and the other from git's configuration, as git commit takes them (t62 N4).
      delete process.env.GIT_AUTHOR_EMAIL;
      process.env.GIT_AUTHOR_NAME = "Only Name";
      expect((await pq(tree, "new", "fourth", "-m", "fourth")).code).toBe(0);
      expect(read(join(tree, "patches"), "fourth")).toContain(`From: Only Name <${git(tree, "config", "user.email").trim()}>\n`);
    } finally {
      for (const [key, value] of [
        ["GIT_AUTHOR_NAME", saved.name],
        ["GIT_AUTHOR_EMAIL", saved.email],
      ] as const)
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
    }
    expect(read(join(tree, "patches"), "third")).toMatch(/^From: Env Author <env\.author@example\.org>$/m);
    const files = ["x1", "x2", "x3", "x4", "x5"].map((n) => {
      const file = join(tree, "..", `${n}-${Date.now()}.patch`);
      writeFileSync(file, `--- a/${n}.txt\n+++ b/${n}.txt\n@@ -0,0 +1 @@\n+${n}\n`);
      dirs.push(file);
      return file;
    });
    expect((await pq(tree, "import", ...files)).code).toBe(0);
    expect((await pq(tree, "oplog", "-n", "1")).out).toMatch(/import x1-\d+\.patch\.\.x5-\d+\.patch \(5\)/);
  });
});

describe("a patch to a file the tree does not have (stack-4 #13)", () => {
  it("says there is no such file to patch, and asks about -pN, instead of listing every hunk as failed", async () => {
    const tree = await stackTree({ "a.txt": "one\n" });
    const file = join(tree, "..", `missing-${Date.now()}.patch`);
    writeFileSync(
      file,
      "--- a/src/gone.c\n+++ b/src/gone.c\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n@@ -10,2 +10,2 @@\n ten\n-eleven\n+ELEVEN\n",
    );
    dirs.push(file);
    expect((await pq(tree, "import", file)).code).toBe(0);
    const r = await pq(tree, "push");
    expect(r.code).toBe(6);
    expect(r.err).toContain("src/gone.c: no such file to patch");
    expect(r.err).toContain("-pN");
    expect(r.err).not.toContain("Hunk #2 FAILED");
  });
});

describe("a push that fails on one hunk (interop-17 F9)", () => {
  it("names, as GNU patch does, the hunks that went in with an offset or fuzz beside the one that failed, in the dry run and the push", async () => {
    const numbers = Array.from({ length: 40 }, (_, i) => `${i + 1}\n`).join("");
    const tree = await stackTree({ "f.txt": numbers });
    const file = join(tree, "..", `fuzzed-${Date.now()}.patch`);
    writeFileSync(
      file,
      "--- a/f.txt\n+++ b/f.txt\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+FIVE\n 6\n 7\n 8\n@@ -30,7 +30,7 @@\n 30\n 31\n 32\n-33\n+THIRTY-THREE\n 34\n 35\n 36\n",
    );
    dirs.push(file);
    expect((await pq(tree, "import", file)).code).toBe(0);
    // The base drifts: a line above both hunks, hunk 1's outer context changed, hunk 2's line changed.
    writeFileSync(join(tree, "f.txt"), "extra\n" + numbers.replace("2\n", "two\n").replace("33\n", "changed\n"));
    git(tree, "commit", "-qam", "drift");
    for (const args of [["push", "--dry-run"], ["push"]]) {
      const r = await pq(tree, ...args);
      expect([args.join(" "), r.code]).toEqual([args.join(" "), 6]);
      expect(r.err).toContain("f.txt: Hunk #1 succeeded at 3 with fuzz 1 (offset 1 line).\n  f.txt: Hunk #2 FAILED at 30.");
    }
  });
});

describe("a patch that turns a directory into a file (interop-17 F8)", () => {
  it("is refused naming the patch and what it does, in the push and its dry run, nothing changed", async () => {
    const tree = await stackTree({ "d/y": "y\n", "a.txt": "a\n" });
    const file = join(tree, "..", `dir-to-file-${Date.now()}.patch`);
    writeFileSync(file, "--- a/d/y\n+++ /dev/null\n@@ -1 +0,0 @@\n-y\n--- /dev/null\n+++ b/d\n@@ -0,0 +1 @@\n+now a file\n");
    dirs.push(file);
    expect((await pq(tree, "import", "-n", "to-file.patch", file)).code).toBe(0);
    for (const args of [["push", "--dry-run"], ["push"]]) {
      const r = await pq(tree, ...args);
      expect([args.join(" "), r.code]).toEqual([args.join(" "), 7]);
      expect(r.err).toContain(
        "to-file.patch turns the directory d into a file (it deletes d/y and makes d): pq does not apply a patch that changes a directory into a file",
      );
      expect(r.err).not.toContain("pq add");
      expect(read(tree, "d/y")).toBe("y\n");
    }
  });
});

describe("pq status over applied patches committed by hand (readme-4 #10)", () => {
  it("says HEAD's commits change the applied patches' files, as pop would refuse, in text and --json", async () => {
    const tree = await stackTree({ "a.txt": "one\ntwo\n" });
    await patchWith(tree, "first", { "a.txt": "one\nTWO\n" });
    expect((await pq(tree, "status", "--json")).out).not.toContain("committedUnder");
    git(tree, "commit", "-q", "-a", "-m", "committed by hand");
    const r = await pq(tree, "status");
    expect(r.code).toBe(0);
    expect(r.out).toContain("HEAD has commits that change a.txt, which the applied patches change too");
    expect(JSON.parse((await pq(tree, "status", "--json")).out).committedUnder).toEqual(["a.txt"]);
    expect((await pq(tree, "pop")).code).toBe(12);
    // --force refused the same way leaves no backup behind (t44 N11).
    write(tree, "a.txt", "one\nTWO, edited\n");
    expect((await pq(tree, "pop", "--force")).code).toBe(12);
    expect(existsSync(join(tree, ".pq", "backups")) ? readdirSync(join(tree, ".pq", "backups")) : []).toEqual([]);
  });
});

describe("the applied patches' changes gone from the tree (git reset --hard: t44 N2)", () => {
  it("are said as such by status; refresh refuses to make the top patch revert them (--force does), and pop -a, push -a put them back", async () => {
    const tree = await stackTree({ "a.txt": "one\ntwo\n", "b.txt": "bee\n" });
    await patchWith(tree, "p1", { "a.txt": "one\nTWO\n" });
    await patchWith(tree, "p2", { "b.txt": "BEE\n" });
    git(tree, "reset", "-q", "--hard");
    const status = await pq(tree, "status");
    expect(status.out).toContain(
      "the applied patches' changes to a.txt, b.txt are gone from the tree, each as it was below the stack (a git reset --hard, git checkout or git stash?): pq pop -a, then pq push -a, puts them back",
    );
    expect(JSON.parse((await pq(tree, "status", "--json")).out).changesGone).toEqual({ files: ["a.txt", "b.txt"], patches: ["p1"] });
    const before = read(join(tree, "patches"), "p2");
    const refused = await pq(tree, "refresh");
    expect(refused.code).toBe(5);
    expect(refused.err).toContain("a refresh would make p2 revert p1");
    expect(read(join(tree, "patches"), "p2")).toBe(before);
    // The files are as the pop leaves them: nothing to lose, no refusal (t49 N1: it advised the refresh above).
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect([read(tree, "a.txt"), read(tree, "b.txt")]).toEqual(["one\nTWO\n", "BEE\n"]);
    expect((await pq(tree, "status", "--json")).out).not.toContain("changesGone");
    // Only the top patch's own change undone by hand is an edit like any other: refreshed away.
    write(tree, "b.txt", "bee\n");
    expect((await pq(tree, "status", "--json")).out).not.toContain("changesGone");
    expect((await pq(tree, "refresh")).code).toBe(0);
    // Reverting a lower patch's change on purpose, with nothing else of the stack left in the tree: --force.
    write(tree, "a.txt", "one\ntwo\n");
    expect((await pq(tree, "refresh")).code).toBe(5);
    expect((await pq(tree, "refresh", "--force")).code).toBe(0);
    expect(read(join(tree, "patches"), "p2")).toContain("-TWO\n+two\n");
  });

  it("a top patch that sets a lower patch's line back, or deletes a file one made, while the rest stays, is an edit like any other (t45 N1)", async () => {
    const tree = await stackTree({ "a.txt": "one\ntwo\n", "b.txt": "bee\n" });
    await patchWith(tree, "p1", { "a.txt": "ONE\nTWO\n", "made.txt": "made\n" });
    await pq(tree, "refresh", "made.txt");
    await patchWith(tree, "p2", { "b.txt": "BEE\n" });
    write(tree, "a.txt", "ONE\ntwo\n");
    rmSync(join(tree, "made.txt"));
    expect((await pq(tree, "status")).out).not.toContain("gone from the tree");
    const r = await pq(tree, "refresh");
    expect(r.code, r.err).toBe(0);
    const p2 = read(join(tree, "patches"), "p2");
    expect(p2).toContain("-TWO\n+two\n");
    expect(p2).toContain("deleted file mode");
  });
});

describe("the top patch's changes all gone from the tree, with nothing below it (t90 N1)", () => {
  it("are said by status; refresh refuses to take them out of the patch (--force does); pop and push put them back", async () => {
    const tree = await stackTree({ "a.txt": "one\ntwo\n", "b.txt": "bee\n" });
    await patchWith(tree, "p1", { "a.txt": "one\nTWO\n", "b.txt": "BEE\n" });
    git(tree, "reset", "-q", "--hard");
    expect((await pq(tree, "status")).out).toContain(
      "p1's changes to a.txt, b.txt are all gone from the tree, each as it was below the stack (a git reset --hard, git checkout or git stash?): pq pop, then pq push, puts them back; a refresh would take them out of p1, and refuses",
    );
    expect(JSON.parse((await pq(tree, "status", "--json")).out).changesGone).toEqual({
      files: ["a.txt", "b.txt"],
      patches: [],
      topOnly: true,
    });
    const before = read(join(tree, "patches"), "p1");
    const refused = await pq(tree, "refresh");
    expect([refused.code, refused.err]).toEqual([5, expect.stringContaining("a refresh would take them out of p1")]);
    expect(refused.err).toContain("pq refresh --force takes them out of p1");
    expect(read(join(tree, "patches"), "p1")).toBe(before);
    expect((await pq(tree, "pop")).code).toBe(0);
    expect((await pq(tree, "push")).code).toBe(0);
    expect([read(tree, "a.txt"), read(tree, "b.txt")]).toEqual(["one\nTWO\n", "BEE\n"]);
    // A refresh of another file named on the command line takes that file alone: the patch keeps
    // its changes to the files whose changes are gone (t92 N2: they were taken out, exit 0).
    git(tree, "reset", "-q", "--hard");
    write(tree, "c.txt", "sea\n");
    const named = await pq(tree, "refresh", "c.txt");
    expect(named.code).toBe(0);
    const withC = read(join(tree, "patches"), "p1");
    expect(withC).toContain("+TWO\n");
    expect(withC).toContain("+BEE\n");
    expect(withC).toContain("+sea\n");
    expect((await pq(tree, "status")).out).toContain("p1's changes to a.txt, b.txt are all gone from the tree");
    expect((await pq(tree, "undo")).code).toBe(0);
    expect(read(join(tree, "patches"), "p1")).toBe(before);
    rmSync(join(tree, "c.txt"));
    expect((await pq(tree, "pop")).code).toBe(0);
    expect((await pq(tree, "push")).code).toBe(0);
    // Part of it undone by hand is an edit like any other.
    write(tree, "a.txt", "one\ntwo\n");
    expect((await pq(tree, "status")).out).not.toContain("gone from the tree");
    expect((await pq(tree, "refresh")).code).toBe(0);
  });
});

describe("a lower patch's file checked out while other work stays (t96 N3)", () => {
  it("is said by status, refused by refresh with pq revert as the way, and pq revert puts it back", async () => {
    const tree = await stackTree({ "a.txt": "one\ntwo\n", "b.txt": "bee\n" });
    await patchWith(tree, "p1", { "a.txt": "one\nTWO\n" });
    await patchWith(tree, "p2", { "b.txt": "BEE\n" });
    write(tree, "b.txt", "BEE\nmore work\n");
    git(tree, "checkout", "--", "a.txt");
    expect((await pq(tree, "status")).out).toContain(
      "p1's changes to a.txt are gone from the tree, each file as it was below the stack (a git checkout -- FILE?)",
    );
    const before = read(join(tree, "patches"), "p2");
    const refused = await pq(tree, "refresh");
    expect([refused.code, refused.err]).toEqual([
      5,
      expect.stringContaining("pq revert a.txt puts it back as the applied patches have it"),
    ]);
    expect(read(join(tree, "patches"), "p2")).toBe(before);
    expect((await pq(tree, "revert", "a.txt")).code).toBe(0);
    expect(read(tree, "a.txt")).toBe("one\nTWO\n");
    expect((await pq(tree, "refresh")).code).toBe(0);
    expect(read(join(tree, "patches"), "p2")).toContain("+more work");
    expect(read(join(tree, "patches"), "p2")).not.toContain("a.txt");
  });
});

describe("a file both a lower and the top patch change, checked out (t97 N1)", () => {
  it("is refused as a checkout, with pq revert as the way", async () => {
    const tree = await stackTree({ "a.txt": "one\ntwo\nthree\n", "b.txt": "bee\n" });
    await patchWith(tree, "p1", { "a.txt": "ONE\ntwo\nthree\n" });
    await patchWith(tree, "p2", { "a.txt": "ONE\ntwo\nTHREE\n", "b.txt": "BEE\n" });
    write(tree, "b.txt", "BEE\nmore\n");
    git(tree, "checkout", "--", "a.txt");
    const refused = await pq(tree, "refresh");
    expect([refused.code, refused.err]).toEqual([5, expect.stringContaining("pq revert a.txt puts it back")]);
    expect((await pq(tree, "revert", "a.txt")).code).toBe(0);
    expect(read(tree, "a.txt")).toBe("ONE\ntwo\nTHREE\n");
  });
});

describe("the only patch's changes gone, with a file it makes left by the reset (t92 N1)", () => {
  it("is said and refused all the same, for a new file and for a rename", async () => {
    const tree = await stackTree({ "a.txt": "one\ntwo\n" });
    await patchWith(tree, "p1", { "a.txt": "one\nTWO\n", "new.txt": "new\n" });
    await pq(tree, "refresh", "new.txt");
    git(tree, "reset", "-q", "--hard");
    expect(read(tree, "new.txt")).toBe("new\n");
    expect((await pq(tree, "status")).out).toContain("p1's changes to a.txt are all gone from the tree");
    const refused = await pq(tree, "refresh");
    expect([refused.code, refused.err]).toEqual([5, expect.stringContaining("a refresh would take them out of p1")]);
    expect((await pq(tree, "pop")).code).toBe(0);
    const moved = await stackTree({ "a.txt": "one\ntwo\n" });
    await pq(moved, "new", "mv");
    git(moved, "mv", "a.txt", "c.txt");
    expect((await pq(moved, "refresh")).code).toBe(0);
    git(moved, "reset", "-q", "--hard");
    expect((await pq(moved, "refresh")).code).toBe(5);
    expect(read(join(moved, "patches"), "mv")).toContain("rename from a.txt");
  });
});

describe("the applied patches' changes gone, with a file one of them creates (untracked: a reset --hard keeps it, t49 N1)", () => {
  it.each([
    ["reset", "-q", "--hard"],
    ["stash", "-q"],
  ])("after git %s, status says so, refresh refuses, and pop -a, push -a put them back", async (...args) => {
    const tree = await stackTree({ "a.txt": "one\ntwo\n" });
    await patchWith(tree, "p1", { "a.txt": "one\nTWO\n" });
    await patchWith(tree, "p2", { "n.txt": "new\n" });
    expect((await pq(tree, "refresh", "n.txt")).code).toBe(0);
    const p2 = read(join(tree, "patches"), "p2");
    git(tree, ...args);
    expect(read(tree, "n.txt")).toBe("new\n");
    expect(JSON.parse((await pq(tree, "status", "--json")).out).changesGone).toEqual({ files: ["a.txt"], patches: ["p1"] });
    // The refresh had made p2 revert p1 without a word.
    expect((await pq(tree, "refresh")).code).toBe(5);
    expect(read(join(tree, "patches"), "p2")).toBe(p2);
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect([read(tree, "a.txt"), read(tree, "n.txt")]).toEqual(["one\nTWO\n", "new\n"]);
    expect((await pq(tree, "status", "--json")).out).not.toContain("changesGone");
  });
});

describe("the applied patches' changes gone, then an edit made over them (t50 N11: one edit switched the guard off)", () => {
  it("are still said as gone, with the edited files named; refresh refuses; pop -a --force saves the edit, push -a puts the changes back", async () => {
    const tree = await stackTree({ "a.txt": lines(10), "b.txt": lines(10) });
    await patchWith(tree, "p1", { "a.txt": lines(10).replace("3\n", "three\n"), "b.txt": lines(10).replace("7\n", "seven\n") });
    await patchWith(tree, "p2", { "a.txt": lines(10).replace("3\n", "three\n").replace("9\n", "nine\n") });
    git(tree, "reset", "-q", "--hard");
    write(tree, "b.txt", `${lines(10)}11\n`);
    const status = JSON.parse((await pq(tree, "status", "--json")).out);
    expect(status.changesGone).toEqual({ files: ["a.txt", "b.txt"], patches: ["p1"], edited: ["b.txt"] });
    const p2 = read(join(tree, "patches"), "p2");
    const refused = await pq(tree, "refresh");
    expect(refused.code).toBe(5);
    expect(refused.err).toContain("with edits since in b.txt");
    expect(read(join(tree, "patches"), "p2")).toBe(p2);
    const pop = await pq(tree, "pop", "-a", "--force");
    expect(pop.code, pop.err).toBe(0);
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect([read(tree, "a.txt"), read(tree, "b.txt")]).toEqual([
      lines(10).replace("3\n", "three\n").replace("9\n", "nine\n"),
      lines(10).replace("7\n", "seven\n"),
    ]);
  });
});

describe("an applied patch whose series line was deleted by hand (t44 N3)", () => {
  it("is named by status; push, new, fold and finish refuse with the way on; pop works, and with the line back all do", async () => {
    const tree = await stackTree({ "a.txt": lines(20) });
    for (const n of [1, 2, 3]) await patchReplacing(tree, `p${n}`, "a.txt", `${n * 5 - 2}\n`, `p${n}-line\n`);
    await pq(tree, "pop");
    const series = read(join(tree, "patches"), "series");
    write(join(tree, "patches"), "series", series.replace(/^p2\n/m, ""));
    expect((await pq(tree, "status")).out).toContain("p2 is applied, but the series no longer lists it: put the line back, or pq pop -a");
    expect((await pq(tree, "status")).out).toContain("after a git pull of a shared queue, pq sync takes a colleague's delete or rename");
    for (const args of [
      ["push", "-a"],
      ["new", "p4"],
      ["fold", "p3"],
      ["finish", "-a"],
    ]) {
      const r = await pq(tree, ...args);
      expect([args.join(" "), r.code]).toEqual([args.join(" "), 12]);
      expect(r.err).toContain(
        "p2 is applied, but the series no longer lists it (a hand edit of the series, a git pull of the queue, or another tree using the queue directory, whose .pq/backups may hold its version?)",
      );
    }
    expect((await pq(tree, "applied")).out).toBe("p1\np2\n");
    expect(existsSync(join(tree, "patches", "p4"))).toBe(false);
    write(join(tree, "patches"), "series", series);
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect((await pq(tree, "applied")).out).toBe("p1\np2\np3\n");
    // Deleted again and popped past it, as the refusal says: the series is the user's to edit then.
    write(join(tree, "patches"), "series", series.replace(/^p2\n/m, ""));
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect((await pq(tree, "applied")).out).toBe("p1\np3\n");
    // An applied patch whose file is gone too (a git pull of a colleague's delete): said as that, not "changed" (t45 N5).
    rmSync(join(tree, "patches", "p3"));
    const gone = (await pq(tree, "status")).out;
    expect(gone).toContain(
      "p3, applied, has no file in the queue any more (a git pull of a colleague's delete or rename, or a delete by hand?)",
    );
    expect(gone).not.toContain("p3 changed in the queue");
  });

  it("says which unapplied patches have no file, where a push -a would stop (t143 N3), and its way out works", async () => {
    const tree = await stackTree({ "a.txt": lines(20) });
    for (const n of [1, 2, 3]) await patchReplacing(tree, `p${n}`, "a.txt", `${n * 5 - 2}\n`, `p${n}-line\n`);
    await pq(tree, "pop", "-a");
    rmSync(join(tree, "patches", "p2"));
    rmSync(join(tree, "patches", "p3"));
    const said = await pq(tree, "status");
    expect(said.code).toBe(0);
    expect(said.out).toContain(
      "p2, p3, unapplied, have no patch file in the queue (a delete by hand, or git clean of an untracked queue?): a push stops there; pq restore-queue writes back a patch file pq wrote, or pq delete p2 p3 takes them out of the series",
    );
    expect(JSON.parse((await pq(tree, "status", "--json")).out).unappliedMissing).toEqual(["p2", "p3"]);
    expect((await pq(tree, "delete", "p3")).code).toBe(0);
    expect((await pq(tree, "status")).out).toContain("p2, unapplied, has no patch file in the queue");
    expect((await pq(tree, "restore-queue")).code).toBe(0);
    expect((await pq(tree, "status")).out).not.toContain("no patch file");
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect((await pq(tree, "applied")).out).toBe("p1\np2\n");
    // One the selected guards keep out is skipped by a push -a, missing or not: not said to stop it (t147 N4).
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    expect((await pq(tree, "guard", "p2", "+never")).code).toBe(0);
    rmSync(join(tree, "patches", "p2"));
    expect((await pq(tree, "status")).out).not.toContain("no patch file");
  });
});

describe("an applied patch whose header alone was edited by hand (t145 N18)", () => {
  it("is refreshed with that header and the tree's changes, as quilt refreshes it; a change to its diff is still refused", async () => {
    const tree = await stackTree({ "a.txt": lines(20) });
    await patchReplacing(tree, "fix.patch", "a.txt", "3\n", "three\n");
    const queue = join(tree, "patches");
    expect((await pq(tree, "header", "-m", "fix three\n\nForwarded: no")).code).toBe(0);
    write(queue, "fix.patch", read(queue, "fix.patch").replace("Forwarded: no", "Forwarded: https://example.org/fwd"));
    write(tree, "a.txt", read(tree, "a.txt").replace("10\n", "ten\n"));
    const refreshed = await pq(tree, "refresh");
    expect([refreshed.code, refreshed.err]).toEqual([0, ""]);
    const text = read(queue, "fix.patch");
    expect(text).toContain("Forwarded: https://example.org/fwd");
    expect(text).toContain("+three");
    expect(text).toContain("+ten");
    // Its undo puts the hand-edited header back with the old diff, and the redo the refresh (t146 N4).
    const undo = await pq(tree, "undo");
    expect([undo.code, undo.err]).toEqual([0, ""]);
    expect(read(queue, "fix.patch")).toContain("Forwarded: https://example.org/fwd");
    expect(read(queue, "fix.patch")).not.toContain("+ten");
    expect((await pq(tree, "redo")).code).toBe(0);
    expect(read(queue, "fix.patch")).toBe(text);
    // A hand edit of the diff is another version: refused as before, with the way that keeps both.
    write(queue, "fix.patch", read(queue, "fix.patch").replace("+ten", "+TEN"));
    write(tree, "a.txt", read(tree, "a.txt").replace("12\n", "twelve\n"));
    const refused = await pq(tree, "refresh");
    expect(refused.code).toBe(5);
    expect(refused.err).toContain("then pq pop -a and pq goto NAME apply the new version, yours on top of it");
  });
});

describe("an applied patch whose file changed in the queue (a pull, a hand edit: t44 N7)", () => {
  it("is not overwritten by fold, committed in its old version by finish, hidden by header, nor exported unsaid", async () => {
    const tree = await stackTree({ "a.txt": lines(20) });
    for (const n of [1, 2, 3]) await patchReplacing(tree, `p${n}`, "a.txt", `${n * 5 - 2}\n`, `p${n}-line\n`);
    await pq(tree, "pop");
    const queue = join(tree, "patches");
    write(queue, "p2", read(queue, "p2").replace("+p2-line\n", "+p2-HANDEDIT\n"));
    const edited = read(queue, "p2");
    const fold = await pq(tree, "fold", "p3");
    expect(fold.code).toBe(5);
    expect(fold.err).toContain(
      "p2 changed in the queue since it was pushed (a pull, or an edit by hand); the fold would rewrite it from the tree",
    );
    expect(fold.err).toContain("pq goto p1, then pq push back up, applies the queue's version");
    const finish = await pq(tree, "finish", "-a");
    expect(finish.code).toBe(5);
    expect(finish.err).toContain("finish would commit the version that was applied, not the queue's");
    expect(git(tree, "log", "--oneline").trim().split("\n")).toHaveLength(1);
    const exported = await pq(tree, "export", "--dir", besideTree(tree, "out"));
    expect(exported.err).toContain("note: p2 changed in the queue since it was pushed: the export has the version applied in this tree");
    // A new message keeps the change a change: status says it, and refresh still refuses to overwrite it.
    expect((await pq(tree, "header", "-m", "new message")).code).toBe(0);
    expect(read(queue, "p2")).toContain("+p2-HANDEDIT\n");
    expect((await pq(tree, "status")).out).toContain("p2 changed in the queue since it was pushed");
    write(tree, "a.txt", read(tree, "a.txt").replace("18\n", "eighteen\n"));
    expect((await pq(tree, "refresh")).code).toBe(5);
    expect(read(queue, "p2")).toContain("+p2-HANDEDIT\n");
    expect(read(queue, "p2")).not.toBe(edited);
    // As the advice says: the queue's version applied, then the fold takes it.
    write(tree, "a.txt", read(tree, "a.txt").replace("eighteen\n", "18\n"));
    expect((await pq(tree, "goto", "p1")).code).toBe(0);
    expect((await pq(tree, "push")).code).toBe(0);
    expect((await pq(tree, "fold", "p3")).code).toBe(0);
    expect(read(queue, "p2")).toContain("+p2-HANDEDIT\n");
    expect(read(queue, "p2")).toContain("+p3-line\n");
  });
});

describe("files the applied patches create, removed by git clean -fd (t44 N6)", () => {
  it("are said to be gone, with pq revert to put them back, by status (not 'pq refresh to keep them')", async () => {
    const tree = await stackTree({ "a.txt": "a\n" });
    await pq(tree, "new", "p");
    write(tree, "new.txt", "new\n");
    write(tree, "sub/dir/deep.txt", "deep\n");
    await pq(tree, "add", "new.txt", "sub/dir/deep.txt");
    await pq(tree, "refresh");
    git(tree, "clean", "-fdq", "-e", "patches");
    expect(existsSync(join(tree, "new.txt"))).toBe(false);
    expect((await pq(tree, "status")).out).toContain(
      "new.txt, sub/dir/deep.txt, which the applied patches leave in the tree, are gone from it (git clean -fd, or moved?): pq revert FILES puts them back",
    );
    expect((await pq(tree, "revert", "new.txt", "sub/dir/deep.txt")).code).toBe(0);
    expect([read(tree, "new.txt"), read(tree, "sub/dir/deep.txt")]).toEqual(["new\n", "deep\n"]);
    expect((await pq(tree, "pop")).code).toBe(0);
  });

  it("are no edit a pop refuses over: the pop removes them anyway (t49 N1), and push makes them again", async () => {
    const tree = await stackTree({ "a.txt": "a\n" });
    await pq(tree, "new", "p");
    write(tree, "new.txt", "new\n");
    await pq(tree, "add", "new.txt");
    await pq(tree, "refresh");
    git(tree, "clean", "-fdq", "-e", "patches");
    const pop = await pq(tree, "pop");
    expect(pop.code, pop.err).toBe(0);
    expect((await pq(tree, "push")).code).toBe(0);
    expect(read(tree, "new.txt")).toBe("new\n");
  });
});

describe("git mv A B, then an edit of B, taken by pq refresh (t44 N1)", () => {
  it("leaves nothing staged: pop and push go round, and git's index is HEAD's after the pop", async () => {
    const tree = await stackTree({ "moveme.txt": lines(30) });
    await pq(tree, "new", "ren");
    git(tree, "mv", "moveme.txt", "moved.txt");
    write(tree, "moved.txt", read(tree, "moved.txt").replace("25\n", "twenty-five\n"));
    const refreshed = await pq(tree, "refresh");
    expect(refreshed.code).toBe(0);
    expect(refreshed.err).not.toContain("stays staged");
    expect(git(tree, "diff", "--cached", "--name-status")).toBe("");
    // Written as the rename it is, with the edit as its one hunk, as git diff -M writes it.
    const patch = read(join(tree, "patches"), "ren");
    expect(patch).toContain("diff --git a/moveme.txt b/moved.txt\nrename from moveme.txt\nrename to moved.txt\n");
    expect(patch).toContain("-25\n+twenty-five\n");
    expect(patch).not.toContain("new file mode");
    expect((await pq(tree, "pop")).code).toBe(0);
    expect(git(tree, "status", "--porcelain", "--untracked-files=no")).toBe("");
    expect((await pq(tree, "push")).code).toBe(0);
    expect(read(tree, "moved.txt")).toContain("twenty-five\n");
    expect(existsSync(join(tree, "moveme.txt"))).toBe(false);
    // A version staged on purpose after the move (git add of an edit, then another edit) stays staged, and said.
    await pq(tree, "pop");
    await pq(tree, "new", "ren2");
    git(tree, "mv", "moveme.txt", "moved.txt");
    write(tree, "moved.txt", read(tree, "moved.txt").replace("5\n", "five\n"));
    git(tree, "add", "moved.txt");
    write(tree, "moved.txt", read(tree, "moved.txt").replace("6\n", "six\n"));
    const apart = await pq(tree, "refresh");
    expect(apart.err).toContain("a different version staged in git's index stays staged");
    expect(apart.err).toContain("moved.txt");
    expect(apart.err).not.toContain("moveme.txt");
  });
});

/** A clone of a repository of `files` with p1 (a.txt line 3) and p2 (b.txt line 5) applied. */
async function cloneWithPatches(files: Record<string, string>): Promise<{ up: string; tree: string }> {
  const up = makeRepo(files);
  dirs.push(up);
  const tree = `${up}-clone`;
  dirs.push(tree);
  execFileSync("git", ["clone", "-q", up, tree]);
  await pq(tree, "init");
  await patchReplacing(tree, "p1", "a.txt", "\n3\n", "\nthree\n");
  await patchReplacing(tree, "p2", "b.txt", "\n5\n", "\nfive\n");
  return { up, tree };
}

/**
 * A clone of a repository with p1 (a.txt line 3) and p2 (b.txt line 5) applied, and an upstream
 * commit not fetched yet that changes a.txt line 18 and c.txt line 10; `base` is the clone's HEAD.
 */
async function cloneWithPatchesUnderUpstream(): Promise<{ up: string; tree: string; base: string }> {
  const { up, tree } = await cloneWithPatches({ "a.txt": lines(20), "b.txt": lines(20), "c.txt": lines(20) });
  write(up, "a.txt", read(up, "a.txt").replace("\n18\n", "\neighteen upstream\n"));
  write(up, "c.txt", read(up, "c.txt").replace("\n10\n", "\nten upstream\n"));
  git(up, "commit", "-qam", "upstream");
  return { up, tree, base: git(tree, "rev-parse", "HEAD").trim() };
}

/** The pull's way out as status words it, step by step, with the files the pop saved copied back over the tree. */
async function followPullAdvice(tree: string, base: string, head: string, status: string): Promise<void> {
  expect(status).toContain(`git reset ${base.slice(0, 12)} (a mixed reset back to the commit they were pushed on`);
  git(tree, "reset", "-q", base);
  const pop = await pq(tree, "pop", "-a", "--force");
  expect(pop.code).toBe(0);
  expect(status).toContain(`git reset ${head.slice(0, 12)} (HEAD forward again`);
  git(tree, "reset", "-q", head);
  const restore = /git restore -- (.*?) \(HEAD's version/.exec(status)![1];
  execFileSync("sh", ["-c", `git restore -- ${restore}`], { cwd: tree });
  expect(status).toContain("pq push -a --merge (the patches onto HEAD");
  expect((await pq(tree, "push", "-a", "--merge")).code).toBe(0);
  expect(status).toContain("copy back a file whose diff is your edits alone");
  const saved = /saved in (\S+)/.exec(pop.out + pop.err)![1];
  execFileSync("sh", ["-c", `cp -R ${saved}/. .`], { cwd: tree });
}

describe("HEAD moved under the applied patches (git pull --rebase --autostash: t44 N4)", () => {
  it("is told from the patches committed by hand; refresh refuses to take HEAD's change, and the advice carries the patches onto HEAD", async () => {
    const { up, tree, base } = await cloneWithPatchesUnderUpstream();
    git(tree, "-c", "rebase.autoStash=true", "pull", "-q", "--rebase");
    const head = git(tree, "rev-parse", "HEAD").trim();
    const status = (await pq(tree, "status")).out;
    expect(status).toContain("HEAD moved under the applied patches");
    expect(status).toContain(`git reset ${base.slice(0, 12)} (a mixed reset back to the commit they were pushed on`);
    expect(status).not.toContain("committed by hand");
    const pop = await pq(tree, "pop", "-a");
    expect(pop.code).toBe(12);
    expect(pop.err).toContain("HEAD moved under the applied patches");
    const refresh = await pq(tree, "refresh");
    expect(refresh.code).toBe(12);
    expect(refresh.err).toContain("a refresh would take their changes into p2");
    expect(read(join(tree, "patches"), "p2")).not.toContain("upstream");
    await followPullAdvice(tree, base, head, status);
    expect(git(tree, "rev-parse", "HEAD").trim()).toBe(head);
    expect(read(tree, "a.txt")).toContain("\nthree\n");
    expect(read(tree, "a.txt")).toContain("\neighteen upstream\n");
    expect(read(tree, "c.txt")).toContain("\nten upstream\n");
    expect((await pq(tree, "status")).out).not.toContain("unrefreshed");
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    expect(read(tree, "a.txt")).toBe(read(up, "a.txt"));
  });

  it("where HEAD took some of a patch's lines, the advice carries the patches over and keeps the user's unrefreshed edits (t115 N3, t116 N4)", async () => {
    const { up, tree, base } = await cloneWithPatchesUnderUpstream();
    await pq(tree, "goto", "p1");
    write(tree, "a.txt", read(tree, "a.txt").replace("\n12\n", "\ntwelve\n"));
    await pq(tree, "refresh");
    await pq(tree, "push", "-a");
    write(up, "a.txt", read(up, "a.txt").replace("\n3\n", "\nthree\n"));
    git(up, "commit", "-qam", "upstream takes line 3 of p1");
    write(tree, "a.txt", read(tree, "a.txt").replace("\n7\n", "\nseven mine\n"));
    write(tree, "b.txt", read(tree, "b.txt").replace("\n9\n", "\nnine mine\n"));
    git(tree, "-c", "rebase.autoStash=true", "pull", "-q", "--rebase");
    const head = git(tree, "rev-parse", "HEAD").trim();
    const status = (await pq(tree, "status")).out;
    expect(status).toContain("git restore -- a.txt (HEAD's version");
    await followPullAdvice(tree, base, head, status);
    const upstream = read(up, "a.txt");
    expect(read(tree, "a.txt")).toBe(upstream.replace("\n7\n", "\nseven mine\n").replace("\n12\n", "\ntwelve\n"));
    expect(read(tree, "b.txt")).toBe(lines(20).replace("\n5\n", "\nfive\n").replace("\n9\n", "\nnine mine\n"));
    // What is left to refresh is the user's edits alone; p1 keeps its other line and reverts none of HEAD's.
    const diff = (await pq(tree, "diff", "-z")).out;
    expect(diff).toContain("+seven mine");
    expect(diff).toContain("+nine mine");
    expect(diff).not.toMatch(/^[-+](three|twelve|five|eighteen upstream)$/m);
    const p1 = read(join(tree, "patches"), "p1");
    expect(p1).toContain("+twelve");
    expect(p1).not.toContain("-three");
  });

  it("the patches committed by hand over a pull: the reset named goes back to the pull's commit, not below it (t119 N7)", async () => {
    const { tree } = await cloneWithPatchesUnderUpstream();
    git(tree, "-c", "rebase.autoStash=true", "pull", "-q", "--rebase");
    const pulled = git(tree, "rev-parse", "HEAD").trim();
    // The author git writes in this clone is the hand commit's (see committedHere).
    git(tree, "config", "user.name", "Test Author");
    git(tree, "config", "user.email", "author@example.org");
    git(tree, "commit", "-qam", "the patches, by hand");
    const status = (await pq(tree, "status")).out;
    expect(status).toContain(`committed by hand (git commit -a, or some of their lines: git add -p)? git reset ${pulled.slice(0, 12)}`);
    git(tree, "reset", "-q", pulled);
    expect(git(tree, "status", "-sb").split("\n")[0]).not.toContain("behind");
    expect((await pq(tree, "status")).out).toContain("HEAD moved under the applied patches");
  });

  it("a pulled commit that is exactly a patch, by another author, is a pull, not a hand commit whose reset the next pull undoes (t119 N1)", async () => {
    const { up, tree } = await cloneWithPatches({ "a.txt": lines(20), "b.txt": lines(20) });
    write(up, "a.txt", read(up, "a.txt").replace("\n3\n", "\nthree\n"));
    execFileSync("git", ["-c", "user.name=Uma Upstream", "-c", "user.email=uma@example.org", "commit", "-qam", "upstream takes p1"], {
      cwd: up,
    });
    git(tree, "-c", "rebase.autoStash=true", "pull", "-q", "--rebase");
    const status = (await pq(tree, "status")).out;
    expect(status).toContain("HEAD moved under the applied patches");
    expect(status).not.toContain("committed by hand");
  });

  it("a pulled commit that took all of a patch and more lines of its file is a pull, not the patches committed by hand", async () => {
    const { up, tree, base } = await cloneWithPatchesUnderUpstream();
    write(up, "a.txt", read(up, "a.txt").replace("\n3\n", "\nthree\n"));
    git(up, "commit", "-qam", "upstream takes p1");
    git(tree, "-c", "rebase.autoStash=true", "pull", "-q", "--rebase");
    const head = git(tree, "rev-parse", "HEAD").trim();
    const status = (await pq(tree, "status")).out;
    expect(status).toContain("HEAD moved under the applied patches");
    expect(status).not.toContain("committed by hand");
    await followPullAdvice(tree, base, head, status);
    expect(read(tree, "a.txt")).toBe(read(up, "a.txt"));
    expect((await pq(tree, "status")).out).toContain("pq goto p1 and pq refresh");
  });
});

describe("HEAD moved and the patches' changes gone with it (git fetch, git reset --hard origin/main: t45 N2)", () => {
  it("is advised a reset --keep back, pop -a --force, push -a and the rebase, which put everything where it belongs", async () => {
    const { up, tree, base } = await cloneWithPatchesUnderUpstream();
    write(tree, "notes.txt", "mine\n");
    git(tree, "fetch", "-q");
    git(tree, "reset", "-q", "--hard", "origin/HEAD");
    const head = git(tree, "rev-parse", "HEAD").trim();
    const status = (await pq(tree, "status")).out;
    expect(status).toContain(
      `the tree holds none of their changes (a git reset --hard or checkout -f?): git reset --keep ${base.slice(0, 12)} (back to the commit they were pushed on; your other edits stay), pq pop -a --force, pq push -a, then pq rebase ${head.slice(0, 12)}`,
    );
    // pop --force and rebase, tried first, say the same (t46).
    const pop = await pq(tree, "pop", "-a", "--force");
    expect(pop.code).toBe(12);
    expect(pop.err).toContain("the tree holds none of their changes");
    const rebase = await pq(tree, "rebase", head);
    expect(rebase.code).toBe(12);
    expect(rebase.err).toContain("HEAD moved under the applied patches since they were pushed");
    expect(rebase.err).not.toContain("pq refresh them");
    git(tree, "reset", "-q", "--keep", base);
    expect((await pq(tree, "pop", "-a", "--force")).code).toBe(0);
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect((await pq(tree, "rebase", head)).code).toBe(0);
    expect(read(tree, "a.txt")).toContain("\nthree\n");
    expect(read(tree, "a.txt")).toContain("\neighteen upstream\n");
    expect(read(tree, "b.txt")).toContain("\nfive\n");
    expect(read(tree, "c.txt")).toContain("\nten upstream\n");
    expect(read(tree, "notes.txt")).toBe("mine\n");
  });
});

describe("HEAD moved to a branch beside the one the patches were pushed on (git checkout -f)", () => {
  it("is advised to check that one out again, not a reset that would take the branch's own commits off it", async () => {
    const tree = await stackTree({ "a.txt": lines(20) });
    git(tree, "branch", "other", "HEAD");
    write(tree, "a.txt", read(tree, "a.txt").replace("\n2\n", "\ntwo on main\n"));
    git(tree, "commit", "-qam", "main moves on");
    const base = git(tree, "rev-parse", "HEAD").trim();
    await patchReplacing(tree, "p1", "a.txt", "\n10\n", "\nten\n");
    git(tree, "checkout", "-q", "-f", "other");
    write(tree, "a.txt", read(tree, "a.txt").replace("\n18\n", "\neighteen on other\n"));
    git(tree, "commit", "-qam", "other's own");
    const status = (await pq(tree, "status")).out;
    expect(status).toContain("HEAD moved under the applied patches");
    expect(status).toContain(
      `HEAD does not hold ${base.slice(0, 12)}, the commit they were pushed on: after a checkout of another branch, check that one out again`,
    );
    // The only reset said is the rewrite's way, which ends with the branch back where it is (t102 N4).
    const head = git(tree, "rev-parse", "HEAD").trim().slice(0, 12);
    expect(status.match(/git reset/g)?.length).toBe(2);
    expect(status).toContain(`git reset --keep ${head}, then pq push -a`);
  });
});

describe("git mv under status.renames=false, and two files swapped with git mv (t46 N4)", () => {
  it("is unstaged by the refresh all the same (the staged versions are HEAD's), and written as a rename", async () => {
    const tree = await stackTree({ "moveme.txt": lines(30), "a.txt": lines(10), "b.txt": lines(20) });
    git(tree, "config", "status.renames", "false");
    git(tree, "config", "diff.renames", "false");
    await pq(tree, "new", "ren");
    git(tree, "mv", "moveme.txt", "moved.txt");
    write(tree, "moved.txt", read(tree, "moved.txt").replace("25\n", "twenty-five\n"));
    git(tree, "mv", "a.txt", "tmp.txt");
    git(tree, "mv", "b.txt", "a.txt");
    git(tree, "mv", "tmp.txt", "b.txt");
    write(tree, "a.txt", read(tree, "a.txt").replace("15\n", "fifteen\n"));
    const refreshed = await pq(tree, "refresh");
    expect(refreshed.err).not.toContain("stays staged");
    expect(read(join(tree, "patches"), "ren")).toContain("rename from moveme.txt\nrename to moved.txt\n");
    expect(git(tree, "diff", "--cached", "--name-only")).toBe("");
    expect((await pq(tree, "pop")).code).toBe(0);
    expect(git(tree, "status", "--porcelain", "--untracked-files=no")).toBe("");
    expect((await pq(tree, "push")).code).toBe(0);
    expect(read(tree, "a.txt")).toContain("fifteen\n");
  });
});

describe("pq diff of an unrefreshed git mv (t46 N6)", () => {
  it("with -z, a refreshed rename moved on again is the move since the refresh, from its refreshed name (t52 N15)", async () => {
    const tree = await stackTree({ "a.txt": lines(20) });
    await patchReplacing(tree, "p1", "a.txt", "\n2\n", "\ntwo\n");
    git(tree, "mv", "a.txt", "g.txt");
    expect((await pq(tree, "refresh")).code).toBe(0);
    renameSync(join(tree, "g.txt"), join(tree, "h.txt"));
    for (const args of [
      ["diff", "-z"],
      ["diff", "-z", "h.txt"],
      ["diff", "-z", "g.txt"],
    ]) {
      const z = (await pq(tree, ...args)).out;
      // It had been g.txt deleted and h.txt made whole, where pq diff and refresh write the rename.
      expect(z, args.join(" ")).toContain("diff --git a/g.txt b/h.txt\nsimilarity index 100%\nrename from g.txt\nrename to h.txt\n");
      expect(z, args.join(" ")).not.toMatch(/new file mode|deleted file mode|a\.txt/);
    }
    expect((await pq(tree, "diff")).out).toContain("rename from a.txt\nrename to h.txt\n");
  });

  it("shows the rename as a refresh writes it, for either name and with -z", async () => {
    const tree = await stackTree({ "a.txt": lines(20) });
    await patchReplacing(tree, "p1", "a.txt", "\n2\n", "\ntwo\n");
    git(tree, "mv", "a.txt", "z.txt");
    write(tree, "z.txt", read(tree, "z.txt").replace("\n5\n", "\nfive\n"));
    for (const name of ["z.txt", "a.txt"]) {
      const d = (await pq(tree, "diff", name)).out;
      expect(d).toContain("diff --git a/a.txt b/z.txt\nrename from a.txt\nrename to z.txt\n");
      expect(d).not.toContain("new file mode");
    }
    const z = (await pq(tree, "diff", "-z")).out;
    expect(z).toContain("rename from a.txt\nrename to z.txt\n");
    expect(z).toContain("-5\n+five\n");
    expect(z).not.toContain("+two");
    // A pop over the move names it as one, with refresh as the way, not git clean and revert (t46 N7).
    const pop = await pq(tree, "pop");
    expect(pop.code).toBe(5);
    expect(pop.err).toContain(
      "a.txt was moved with git mv to z.txt: pq refresh takes the move into p1 (as a rename), or git mv puts it back",
    );
    expect(pop.err).not.toContain("git clean");
    // Popped anyway: the staged deletion of a.txt goes with it, so the push that follows is not refused over it (t46 N7).
    expect((await pq(tree, "pop", "--force")).code).toBe(0);
    expect((await pq(tree, "push")).code).toBe(0);
    expect(read(tree, "a.txt")).toContain("\ntwo\n");
    expect(read(tree, "z.txt")).toContain("\nfive\n");
  });
});

describe("a mode staged with git update-index --chmod, then an edit (t47 N1)", () => {
  it("stays staged, said so, and is not lost by the refresh", async () => {
    const tree = await stackTree({ "a.txt": lines(10) });
    await pq(tree, "new", "p1");
    git(tree, "update-index", "--chmod=+x", "a.txt");
    write(tree, "a.txt", read(tree, "a.txt").replace("5\n", "five\n"));
    const r = await pq(tree, "refresh");
    expect(r.code).toBe(0);
    expect(r.err).toContain("a different version staged in git's index stays staged");
    expect(git(tree, "ls-files", "-s", "a.txt")).toMatch(/^100755 /);
  });

  it("also when another changed file has the same content at HEAD (two empty files: t48 N1)", async () => {
    const tree = await stackTree({ "pkg/__init__.py": "", "lib/__init__.py": "", "a.txt": "a\n" });
    await pq(tree, "new", "p1");
    git(tree, "update-index", "--chmod=+x", "pkg/__init__.py");
    write(tree, "pkg/__init__.py", "# edited\n");
    write(tree, "lib/__init__.py", "# edited too\n");
    const r = await pq(tree, "refresh");
    expect(r.err).toContain("a different version staged in git's index stays staged");
    expect(git(tree, "ls-files", "-s", "pkg/__init__.py")).toMatch(/^100755 /);
  });
});

describe("git rm --cached of a file a patch changes, then pop (t48 N3)", () => {
  it("stays staged: the user's untracking is no git mv's leftover", async () => {
    const tree = await stackTree({ "a.txt": lines(10) });
    await patchReplacing(tree, "p1", "a.txt", "5\n", "five\n");
    git(tree, "rm", "-q", "--cached", "a.txt");
    // A refresh leaves it staged too, and says so (t48 N2: it unstaged it and said "unchanged").
    const refreshed = await pq(tree, "refresh");
    expect(refreshed.err).toContain("stays staged");
    expect(git(tree, "status", "--porcelain", "--", "a.txt")).toContain("D  a.txt");
    expect((await pq(tree, "pop", "--force")).code).toBe(0);
    expect(git(tree, "status", "--porcelain", "--", "a.txt")).toContain("D  a.txt");
  });
});

describe("a popped patch's lines staged in git's index (t112)", () => {
  /** A 20-line file d.txt and p1 changing lines 2 and 18 (two hunks), refreshed. */
  async function twoHunks(): Promise<{ tree: string; below: string; patched: string; firstHunk: string }> {
    const below = lines(20);
    const tree = await stackTree({ "d.txt": below });
    const firstHunk = below.replace("2\n", "two\n");
    const patched = firstHunk.replace("18\n", "eighteen\n");
    await patchWith(tree, "p1", { "d.txt": patched });
    return { tree, below, patched, firstHunk };
  }
  const staged = (tree: string, path: string) => git(tree, "show", `:${path}`);

  it("part of it (git add -p of one hunk) is unstaged with the pop, and undo stages it again (N2)", async () => {
    const { tree, patched, firstHunk } = await twoHunks();
    write(tree, "d.txt", firstHunk);
    git(tree, "add", "d.txt");
    write(tree, "d.txt", patched);
    expect((await pq(tree, "pop")).code).toBe(0);
    expect(git(tree, "diff", "--cached", "--name-only")).toBe("");
    expect(git(tree, "status", "--porcelain", "--untracked-files=no")).toBe("");
    expect((await pq(tree, "undo")).code).toBe(0);
    expect(staged(tree, "d.txt")).toBe(firstHunk);
    expect(read(tree, "d.txt")).toBe(patched);
  });

  it("with an edit staged on top, pop --force saves the staged version and unstages it (N1)", async () => {
    const { tree, patched } = await twoHunks();
    const edited = patched.replace("10\n", "mine\n");
    write(tree, "d.txt", edited);
    git(tree, "add", "d.txt");
    const r = await pq(tree, "pop", "--force");
    expect(r.code).toBe(0);
    expect(git(tree, "diff", "--cached", "--name-only")).toBe("");
    const saved = /and (\S+-pop-staged)/.exec(r.out)?.[1];
    expect(saved).toBeDefined();
    expect(read(saved!, "d.txt")).toBe(edited);
  });

  it("a change staged and then taken out of the tree refuses the pop; --force saves and unstages it (N9)", async () => {
    const { tree, patched } = await twoHunks();
    const stagedOnly = patched.replace("10\n", "staged only\n");
    write(tree, "d.txt", stagedOnly);
    git(tree, "add", "d.txt");
    write(tree, "d.txt", patched);
    const r = await pq(tree, "pop");
    expect(r.code).toBe(5);
    expect(r.err).toContain("git's index has a version of d.txt staged with a change the work tree does not have");
    expect(r.err).toContain("pq pop --force saves the staged version in .pq/backups");
    expect(staged(tree, "d.txt")).toBe(stagedOnly);
    expect(read(tree, "d.txt")).toBe(patched);
    const forced = await pq(tree, "pop", "--force");
    expect(forced.code).toBe(0);
    expect(git(tree, "diff", "--cached", "--name-only")).toBe("");
    expect(read(/saved in (\S+-pop-staged)/.exec(forced.out)![1], "d.txt")).toBe(stagedOnly);
    // Staged alone again, the push refuses it; its way out, followed word for word, keeps it (not git stash, whose pop dropped it).
    const mine = lines(20).replace("10\n", "mine\n");
    write(tree, "d.txt", mine);
    git(tree, "add", "d.txt");
    write(tree, "d.txt", lines(20));
    const push = await pq(tree, "push");
    expect(push.code).toBe(5);
    expect(push.err).toContain(
      "git diff --cached -- d.txt > staged.diff keeps them, git restore --staged -- d.txt drops them from the index; then pq push (git apply --cached staged.diff stages them again)",
    );
    execFileSync("sh", ["-c", "git diff --cached -- d.txt > staged.diff && git restore --staged -- d.txt"], { cwd: tree });
    expect((await pq(tree, "push")).code).toBe(0);
    git(tree, "apply", "--cached", "staged.diff");
    expect(staged(tree, "d.txt")).toBe(mine);
    expect(read(tree, "d.txt")).toBe(patched);
  });

  it("run in a folder below the tree's top, a refusal whose commands name files from the top says to go up first, and they work from there (t116 N3)", async () => {
    const tree = await stackTree({ "top.txt": lines(5), "dir/f.txt": lines(5) });
    await patchWith(tree, "p1", { "top.txt": lines(5).replace("1\n", "p1\n"), "dir/f.txt": lines(5).replace("1\n", "p1\n") });
    expect((await pq(tree, "pop")).code).toBe(0);
    const mine = lines(5).replace("5\n", "mine\n");
    write(tree, "top.txt", mine);
    write(tree, "dir/f.txt", mine);
    git(tree, "add", "top.txt", "dir/f.txt");
    write(tree, "top.txt", lines(5));
    write(tree, "dir/f.txt", lines(5));
    const below = await pq(join(tree, "dir"), "push");
    expect(below.code).toBe(5);
    const advice = below.err.split("\n").map((l) => l.trim());
    const note = advice.findIndex((l) => l === `(the commands below name files from the tree's top: cd ${tree} first)`);
    expect(note).toBeGreaterThan(0);
    expect(advice[note + 1]).toContain("git diff --cached -- dir/f.txt top.txt > staged.diff keeps them");
    // At the top, no such note; the commands as written, from the top, keep both staged changes.
    expect((await pq(tree, "push")).err).not.toContain("the commands below name files from the tree's top");
    execFileSync(
      "sh",
      ["-c", "cd .. && git diff --cached -- dir/f.txt top.txt > staged.diff && git restore --staged -- dir/f.txt top.txt"],
      {
        cwd: join(tree, "dir"),
      },
    );
    expect((await pq(join(tree, "dir"), "push")).code).toBe(0);
    git(tree, "apply", "--cached", "staged.diff");
    expect(staged(tree, "top.txt")).toBe(mine);
    expect(staged(tree, "dir/f.txt")).toBe(mine);
  });

  it("a git commit of some of a lower patch's hunks is taken as the patches committed by hand, whose way out works (N3)", async () => {
    const { tree, patched, firstHunk } = await twoHunks();
    write(tree, "b.txt", "b\n");
    git(tree, "add", "b.txt");
    git(tree, "commit", "-qm", "b");
    await patchWith(tree, "p2", { "b.txt": "B\n" });
    const base = git(tree, "rev-parse", "HEAD").trim();
    write(tree, "d.txt", firstHunk);
    git(tree, "add", "d.txt");
    write(tree, "d.txt", patched);
    git(tree, "commit", "-qm", "part of p1 by hand");
    const status = await pq(tree, "status");
    expect(status.out + status.err).toContain(
      `were the patches committed by hand (git commit -a, or some of their lines: git add -p)? git reset ${base.slice(0, 12)}`,
    );
    expect(status.out + status.err).not.toContain("git apply -R");
    git(tree, "reset", "-q", base);
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    expect(git(tree, "status", "--porcelain", "--untracked-files=no")).toBe("");
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect(read(tree, "d.txt")).toBe(patched);
  });

  it("finish takes the patches' own content staged with git add; another staged change is named with a way out that works (N4)", async () => {
    const { tree, patched } = await twoHunks();
    git(tree, "add", "d.txt");
    expect((await pq(tree, "finish", "p1")).code).toBe(0);
    expect(git(tree, "show", "HEAD:d.txt")).toBe(patched);
    expect(git(tree, "status", "--porcelain", "--untracked-files=no")).toBe("");
    await patchWith(tree, "p2", { "d.txt": patched.replace("5\n", "five\n") });
    write(tree, "other.txt", "mine\n");
    git(tree, "add", "other.txt");
    const r = await pq(tree, "finish", "p2");
    expect(r.code).toBe(5);
    expect(r.err).toContain("the git index has staged changes: other.txt");
    expect(r.err).toContain("git restore --staged -- other.txt; the work tree keeps them");
    git(tree, "restore", "--staged", "--", "other.txt");
    expect((await pq(tree, "finish", "p2")).code).toBe(0);
    expect(read(tree, "other.txt")).toBe("mine\n");
  });

  it("a push over an assume-unchanged file's edit names the bit, whose way out works (N7)", async () => {
    const { tree, below } = await twoHunks();
    await pq(tree, "pop");
    git(tree, "update-index", "--assume-unchanged", "d.txt");
    const edited = below.replace("10\n", "mine\n");
    write(tree, "d.txt", edited);
    const r = await pq(tree, "push");
    expect(r.code).toBe(5);
    expect(r.err).toContain("git's index marks it assume-unchanged");
    expect(r.err).toContain("git update-index --no-assume-unchanged -- d.txt");
    git(tree, "update-index", "--no-assume-unchanged", "--", "d.txt");
    await pq(tree, "new", "mine");
    expect((await pq(tree, "refresh")).out).toContain("refreshed mine: d.txt");
  });

  it("a file added with git add -N is unstaged once the refresh takes it: a pop leaves git status clean (N5)", async () => {
    const tree = await stackTree({ "a.txt": "a\n" });
    await pq(tree, "new", "p1");
    write(tree, "n.txt", "new\n");
    git(tree, "add", "-N", "n.txt");
    expect((await pq(tree, "refresh")).out).toContain("refreshed p1: n.txt");
    expect(git(tree, "ls-files", "--", "n.txt")).toBe("");
    expect((await pq(tree, "pop")).code).toBe(0);
    expect(git(tree, "status", "--porcelain", "--untracked-files=no")).toBe("");
  });

  it("pq remove says when a file's unrefreshed changes, staged or not, go with it (N10)", async () => {
    const { tree, patched } = await twoHunks();
    git(tree, "add", "d.txt");
    expect((await pq(tree, "remove", "d.txt")).out).toBe("removed d.txt from p1\n");
    expect((await pq(tree, "undo")).code).toBe(0);
    write(tree, "d.txt", patched.replace("10\n", "mine\n"));
    const r = await pq(tree, "remove", "d.txt");
    expect(r.out).toContain("the unrefreshed changes to d.txt went too (pq undo brings them back)");
    expect((await pq(tree, "undo")).code).toBe(0);
    expect(read(tree, "d.txt")).toBe(patched.replace("10\n", "mine\n"));
  });

  it("a pulled commit holding part of a patch and a change of its own elsewhere is a pull, not a hand commit (t115 N2)", async () => {
    const { tree, firstHunk } = await twoHunks();
    const origin = besideTree(tree, "origin");
    git(tree, "clone", "-q", tree, origin);
    write(origin, "d.txt", firstHunk);
    write(origin, "e.txt", "upstream\n");
    git(origin, "add", "d.txt", "e.txt");
    git(origin, "commit", "-qm", "upstream takes p1's first hunk and adds e.txt");
    git(tree, "fetch", "-q", origin, "HEAD:refs/remotes/origin/main");
    git(tree, "stash", "-q");
    git(tree, "merge", "-q", "--ff-only", "origin/main");
    git(tree, "stash", "pop", "-q");
    expect(read(origin, "d.txt")).toBe(firstHunk);
    const status = await pq(tree, "status");
    expect(status.out + status.err).toContain("HEAD moved under the applied patches");
    expect(status.out + status.err).not.toContain("committed by hand");
  });

  it("a change of the user's own staged alone, none of the popped lines, stays staged through the pop (t115 N1)", async () => {
    const { tree, below } = await twoHunks();
    await pq(tree, "pop");
    /** `mine` staged alone, round the push as push's refusal says, then the pop: it stays staged. */
    const stagedThroughPop = async (mine: string) => {
      write(tree, "d.txt", mine);
      git(tree, "add", "d.txt");
      write(tree, "d.txt", below);
      execFileSync("sh", ["-c", "git diff --cached -- d.txt > staged.diff && git restore --staged -- d.txt"], { cwd: tree });
      expect((await pq(tree, "push")).code).toBe(0);
      git(tree, "apply", "--cached", "staged.diff");
      expect((await pq(tree, "pop")).code).toBe(0);
      expect(staged(tree, "d.txt")).toBe(mine);
      expect(read(tree, "d.txt")).toBe(below);
    };
    await stagedThroughPop(below.replace("10\n", "mine\n"));
    // On the line next to one of the patch's, which a three-way merge calls a conflict (t116 N1).
    git(tree, "restore", "--staged", "d.txt");
    await stagedThroughPop(below.replace("3\n", "mine\n"));
  });

  it("another author's commit of part of a patch, pulled with no remote branch, is a pull, not a hand commit (t116 N5)", async () => {
    const { tree, patched, firstHunk } = await twoHunks();
    write(tree, "d.txt", firstHunk);
    execFileSync("git", ["commit", "-qam", "upstream took p1's first hunk"], {
      cwd: tree,
      env: { ...process.env, GIT_AUTHOR_EMAIL: "up@example.org" },
    });
    write(tree, "d.txt", patched);
    const status = await pq(tree, "status");
    expect(status.out + status.err).toContain("HEAD moved under the applied patches");
    git(tree, "reset", "-q", "HEAD~1");
    write(tree, "d.txt", firstHunk);
    git(tree, "commit", "-qam", "mine, by hand");
    write(tree, "d.txt", patched);
    expect((await pq(tree, "status")).out).toContain("were the patches committed by hand");
  });

  it("an undo of the push (and a redo of a pop) unstages the patch's staged content as the pop does (N8)", async () => {
    const { tree } = await twoHunks();
    await pq(tree, "new", "p2");
    write(tree, "n.txt", "new\n");
    expect((await pq(tree, "refresh", "n.txt")).code).toBe(0);
    await pq(tree, "pop");
    expect((await pq(tree, "push")).code).toBe(0);
    git(tree, "add", "d.txt", "n.txt");
    expect((await pq(tree, "undo")).code).toBe(0);
    // n.txt goes from the index with p2; d.txt, p1's (still applied), stays staged.
    expect(git(tree, "diff", "--cached", "--name-only")).toBe("d.txt\n");
    expect(existsSync(join(tree, "n.txt"))).toBe(false);
    git(tree, "restore", "--staged", "d.txt");
    expect((await pq(tree, "pop")).code).toBe(0);
    expect((await pq(tree, "undo")).code).toBe(0);
    git(tree, "add", "d.txt");
    expect((await pq(tree, "redo")).code).toBe(0);
    expect(git(tree, "diff", "--cached", "--name-only")).toBe("");
  });
});

describe("git mv to a name with a space (t46 N3)", () => {
  it("is a rename too: the old name's deletion is in the patch, and pop puts it back", async () => {
    const tree = await stackTree({ "a.txt": lines(10) });
    await pq(tree, "new", "mv");
    git(tree, "mv", "a.txt", "a b.txt");
    expect((await pq(tree, "refresh")).out).toContain("refreshed mv: a b.txt, a.txt");
    expect(read(join(tree, "patches"), "mv")).toContain("rename from a.txt\nrename to a b.txt\n");
    expect((await pq(tree, "pop")).code).toBe(0);
    expect(read(tree, "a.txt")).toBe(lines(10));
    expect(existsSync(join(tree, "a b.txt"))).toBe(false);
    expect(git(tree, "status", "--porcelain", "--untracked-files=no")).toBe("");
  });
});

describe("a patch that renames a file onto one the tree has (t49 N2)", () => {
  it.each(["tracked", "untracked"])(
    "is refused as git apply refuses it (%s there), dry run and push alike, nothing written; two files swapped still push",
    async (kind) => {
      const tree = await stackTree({ "a.txt": lines(10), "s.txt": "s\n", "t.txt": "t\n" });
      await pq(tree, "new", "rn");
      git(tree, "mv", "a.txt", "z.txt");
      expect((await pq(tree, "refresh")).code).toBe(0);
      await pq(tree, "pop");
      write(tree, "z.txt", "my z\n");
      if (kind === "tracked") {
        git(tree, "add", "z.txt");
        git(tree, "commit", "-qm", "z");
      }
      // It replaced z.txt without a trace in the patch; an untracked one was called the patch's base, to commit.
      for (const args of [["push", "--dry-run"], ["push"]]) {
        const r = await pq(tree, ...args);
        expect(r.code).toBe(6);
        expect(r.err).toContain("z.txt: the patch renames a.txt to this name, but the tree already has a file there");
        expect(r.err).not.toContain("git add and commit");
        // For a file HEAD has, moving it away is an edit the next push refuses (t50 N2): its removal committed, or a patch below.
        expect(r.err).toContain("if HEAD has it, commit its removal (git rm -- z.txt, git commit) or make that a patch below this one");
      }
      expect(read(tree, "z.txt")).toBe("my z\n");
      expect(read(tree, "a.txt")).toBe(lines(10));
      expect((await pq(tree, "applied")).out).toBe("");
      // A swap: each name is moved away in the same patch.
      await pq(tree, "delete", "rn");
      rmSync(join(tree, "z.txt"));
      await pq(tree, "new", "swap");
      git(tree, "mv", "s.txt", "x.tmp");
      git(tree, "mv", "t.txt", "s.txt");
      git(tree, "mv", "x.tmp", "t.txt");
      write(tree, "t.txt", "s, moved\n");
      expect((await pq(tree, "refresh")).code).toBe(0);
      expect((await pq(tree, "pop")).code).toBe(0);
      const push = await pq(tree, "push");
      expect(push.code, push.err).toBe(0);
      expect([read(tree, "s.txt"), read(tree, "t.txt")]).toEqual(["t\n", "s, moved\n"]);
    },
  );
});

describe("a patch that creates a file the tree already has (readme-4 #17)", () => {
  it("says the file is there and to move it away, not to commit it; dry run and push agree; nothing is written", async () => {
    const tree = await stackTree({ "a.txt": "one\n" });
    await pq(tree, "new", "adds-b", "-m", "adds b");
    write(tree, "b.txt", "new\n");
    await pq(tree, "add", "b.txt");
    await pq(tree, "refresh");
    await pq(tree, "pop");
    write(tree, "b.txt", "mine\n");
    const dry = await pq(tree, "push", "--dry-run");
    expect(dry.code).toBe(6);
    expect(dry.err).toContain("b.txt: the patch creates this file, but the tree already has one");
    const r = await pq(tree, "push");
    expect(r.code).toBe(6);
    expect(r.err).toContain("b.txt: the patch creates this file, but the tree already has one");
    expect(r.err).toContain("move yours away");
    // Not the advice for an edited file (committing it would not help), nor --force or --merge.
    expect(r.err).not.toContain("git add and commit");
    expect(r.err).not.toContain("--force");
    expect(read(tree, "b.txt")).toBe("mine\n");
    expect((await pq(tree, "applied")).out).toBe("");
    // The very content the patch makes (a leftover of an earlier push): said so.
    write(tree, "b.txt", "new\n");
    expect((await pq(tree, "push")).err).toContain("already has it with the very content the patch makes");
    rmSync(join(tree, "b.txt"));
    expect((await pq(tree, "push")).code).toBe(0);
    expect(read(tree, "b.txt")).toBe("new\n");
  });
});

describe("pq push --dry-run with nothing to push (undo-5 #2)", () => {
  it("refuses as the push would (exit 12), and -a says there is nothing to push", async () => {
    const tree = await stackTree({ "a.txt": "one\n" });
    await patchWith(tree, "p", { "a.txt": "ONE\n" });
    const real = await pq(tree, "push");
    const dry = await pq(tree, "push", "--dry-run");
    expect(dry.code).toBe(real.code);
    expect(dry.code).toBe(12);
    expect(dry.err).toBe(real.err);
    const all = await pq(tree, "push", "--dry-run", "-a");
    expect(all.code).toBe(0);
    expect(all.out).toBe("nothing to push (dry run: nothing was written)\n");
  });
});

describe("a damaged binary patch (interop-5 #18)", () => {
  it("is refused naming the patch and the file, with what to do", async () => {
    const tree = makeRepo({ "a.txt": "one\n" });
    dirs.push(tree);
    writeFileSync(join(tree, "blob.bin"), Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 37) % 256)));
    git(tree, "add", "blob.bin");
    git(tree, "commit", "-qm", "Add binary blob");
    const text = git(tree, "format-patch", "-1", "--binary", "--stdout");
    git(tree, "reset", "-q", "--hard", "HEAD~1");
    const lines = text.split("\n");
    const at = lines.findIndex((l) => l.startsWith("literal ")) + 2;
    lines[at] = lines[at].slice(0, 10) + (lines[at][10] === "!" ? "#" : "!") + lines[at].slice(11);
    const file = besideTree(tree, "damaged", ".patch");
    writeFileSync(file, lines.join("\n"));
    await pq(tree, "init");
    expect((await pq(tree, "import", file)).code).toBe(0);
    const r = await pq(tree, "push");
    expect(r.code).toBe(7);
    expect(r.err).toContain("Add-binary-blob.patch: blob.bin: damaged binary patch data");
    expect(r.err).toContain("get it again");
    expect(existsSync(join(tree, "blob.bin"))).toBe(false);
  });
});

describe("pq finish of a patch whose date git cannot read (interop-5 #25)", () => {
  it("names the patch and the way to fix the date, and changes nothing", async () => {
    const tree = await stackTree({ "a.txt": "one\n" });
    const file = besideTree(tree, "d5", ".patch");
    writeFileSync(
      file,
      "From: Ada Tester <ada@example.org>\nDate: Tue, 14 Nov 23 21:13 +0000\nSubject: [PATCH] d5\n\n---\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-one\n+ONE\n",
    );
    await pq(tree, "import", "-n", "d5.patch", file);
    expect((await pq(tree, "push")).code).toBe(0);
    const head = git(tree, "rev-parse", "HEAD");
    const r = await pq(tree, "finish", "d5.patch");
    expect(r.code).toBe(12);
    expect(r.err).toContain("d5.patch has a date git cannot read (Tue, 14 Nov 23 21:13 +0000)");
    expect(r.err).toContain("pq header -e d5.patch");
    expect(git(tree, "rev-parse", "HEAD")).toBe(head);
    expect((await pq(tree, "applied")).out).toBe("d5.patch\n");
  });
});

describe("a change staged in git's index that the work tree does not have (dry-6 #15)", () => {
  it("push and its dry run refuse it, and refresh never unstages a staged version the patch did not take", async () => {
    const tree = await stackTree({ "a.txt": lines(30) });
    await pq(tree, "new", "p1");
    write(tree, "a.txt", lines(30).replace("10\n", "ten\n"));
    expect((await pq(tree, "refresh")).code).toBe(0);
    expect((await pq(tree, "pop")).code).toBe(0);
    // Staged, then the work tree put back to HEAD's: only the index has the change.
    write(tree, "a.txt", lines(30) + "staged only\n");
    git(tree, "add", "a.txt");
    write(tree, "a.txt", lines(30));
    for (const args of [["push", "--dry-run"], ["push"]]) {
      const r = await pq(tree, ...args);
      expect(r.code, args.join(" ")).toBe(5);
      expect(r.err).toContain("a.txt, which p1 changes, has a change staged in git's index that the work tree does not have");
    }
    expect(git(tree, "diff", "--cached")).toContain("+staged only");
    git(tree, "restore", "--staged", "a.txt");
    expect((await pq(tree, "push")).code).toBe(0);
    // Staged, then edited again: the patch takes the work tree's version; the staged one stays.
    write(tree, "a.txt", lines(30).replace("10\n", "ten\n").replace("20\n", "twenty\n"));
    git(tree, "add", "a.txt");
    write(tree, "a.txt", lines(30).replace("10\n", "ten\n").replace("25\n", "twenty-five\n"));
    const refreshed = await pq(tree, "refresh");
    expect(refreshed.code).toBe(0);
    expect(refreshed.err).toContain("a different version staged in git's index stays staged");
    expect(read(join(tree, "patches"), "p1")).toContain("+twenty-five");
    expect(git(tree, "diff", "--cached")).toContain("+twenty");
    // Staged as the work tree has it: in the patch now, so unstaged as before.
    git(tree, "add", "a.txt");
    expect((await pq(tree, "refresh")).code).toBe(0);
    expect(git(tree, "diff", "--cached")).toBe("");
  });
});

describe("dry runs say what the push will say (dry-6 #2, #14)", () => {
  it("a file merged three-way is named as merged, by the dry run and the push; a .rej written over is named", async () => {
    const tree = await stackTree({ "a.txt": lines(40) });
    await pq(tree, "new", "p1");
    write(tree, "a.txt", lines(40).replace("10\n", "ten\n"));
    await pq(tree, "refresh");
    await pq(tree, "pop");
    write(tree, "a.txt", lines(40).replace("8\n", "eight\n").replace("12\n", "twelve\n"));
    git(tree, "commit", "-qam", "context moves");
    const dry = await pq(tree, "push", "--dry-run", "--merge", "--fuzz", "0");
    expect(dry.out).toContain("a.txt: merged three-way (its hunks did not fit; review the result)");
    expect(dry.out).not.toContain("FAILED");
    const push = await pq(tree, "push", "--merge", "--fuzz", "0");
    expect(push.code).toBe(0);
    expect(push.out).toContain("a.txt: merged three-way (its hunks did not fit; review the result)");
    expect((await pq(tree, "pop", "--force")).code).toBe(0);
    git(tree, "reset", "-q", "--hard");
    write(tree, "a.txt", lines(40).replace("10\n", "TEN\n"));
    git(tree, "commit", "-qam", "the same line changes");
    write(tree, "a.txt.rej", "my notes\n");
    const forced = await pq(tree, "push", "--force");
    expect(forced.code).toBe(6);
    expect(forced.out).toContain("a.txt.rej was written over: a file of that name was there already (pq undo of the push brings it back)");
    expect((await pq(tree, "undo", "--force")).code).toBe(0);
    expect(read(tree, "a.txt.rej")).toBe("my notes\n");
  });

  it("a forced push says each hunk once and that its .rej goes; pop and undo keep a .rej edited since in the backup they name (t145 N1, N2, N3, N12, N16)", async () => {
    const tree = await stackTree({ "a.txt": lines(60) });
    await pq(tree, "new", "p1");
    write(tree, "a.txt", lines(60).replace("5\n", "FIVE\n").replace("50\n", "FIFTY\n"));
    await pq(tree, "refresh");
    await pq(tree, "pop");
    write(tree, "a.txt", `new\n${lines(60).replace("50\n", "50 upstream\n")}`);
    git(tree, "commit", "-qam", "upstream");
    const forced = await pq(tree, "push", "--force");
    expect(forced.code).toBe(6);
    expect(forced.out.match(/a\.txt: Hunk #1 succeeded at/g)).toHaveLength(1);
    expect(forced.out).toContain("a.txt: Hunk #2 FAILED");
    // delete's way names the pop that works for a forced patch (t146 N9).
    expect((await pq(tree, "delete", "p1")).err).toContain("pq pop -a --force, then pq delete p1");
    // Its changes taken out of the tree: status names the pop and push that work for a forced patch (t145 N2).
    git(tree, "checkout", "--", "a.txt");
    expect((await pq(tree, "status")).out).toContain("pq pop --force, then pq push --force, puts them back");
    // As written: taken away with the patch, no backup.
    expect((await pq(tree, "pop", "--force")).code).toBe(0);
    expect(existsSync(join(tree, "a.txt.rej"))).toBe(false);
    expect(existsSync(join(tree, ".pq/backups"))).toBe(false);
    // Edited since (notes on how to fix it): in the pop's backup.
    expect((await pq(tree, "push", "--force")).code).toBe(6);
    write(tree, "a.txt.rej", `${read(tree, "a.txt.rej")}my notes\n`);
    const popped = await pq(tree, "pop", "--force");
    expect(popped.code).toBe(0);
    const saved = /saved in (\S+)/.exec(popped.out)?.[1];
    expect(saved, popped.out).toBeDefined();
    expect(read(saved!, "a.txt.rej")).toContain("my notes\n");
    expect(existsSync(join(tree, "a.txt.rej"))).toBe(false);
    // The undo of a forced push whose .rej was edited: an edit since, not a commit (t145 N12); --force saves it.
    expect((await pq(tree, "push", "--force")).code).toBe(6);
    write(tree, "a.txt.rej", `${read(tree, "a.txt.rej")}more notes\n`);
    const undo = await pq(tree, "undo");
    expect(undo.code).toBe(5);
    expect(undo.err).toContain("1 file(s) changed since that operation: a.txt.rej");
    const forcedUndo = await pq(tree, "undo", "--force");
    expect(forcedUndo.code, forcedUndo.err).toBe(0);
    const kept = /saved in (\S+)/.exec(forcedUndo.out)?.[1];
    expect(read(kept!, "a.txt.rej")).toContain("more notes\n");
    expect(existsSync(join(tree, "a.txt.rej"))).toBe(false);
    // The push's advice, word for word (t145 N16: the .rej's removal was left unsaid, and the refresh refused).
    const again = await pq(tree, "push", "--force");
    expect(again.out).toContain("p1 needs a refresh: apply the rejected hunks by hand and delete a.txt.rej, then pq refresh");
    write(tree, "a.txt", read(tree, "a.txt").replace("50 upstream\n", "FIFTY\n"));
    rmSync(join(tree, "a.txt.rej"));
    const refreshed = await pq(tree, "refresh");
    expect([refreshed.code, refreshed.err]).toEqual([0, ""]);
  });

  it("a hunk that matches only with line endings set aside is not called exact (dry-6 #6)", async () => {
    const tree = await stackTree({ "a.txt": lines(10) });
    await pq(tree, "new", "p1");
    write(tree, "a.txt", lines(10).replace("5\n", "five\n"));
    await pq(tree, "refresh");
    await pq(tree, "pop");
    write(tree, "a.txt", lines(10).replace(/\n/g, "\r\n"));
    git(tree, "commit", "-qam", "CRLF now");
    const said = "a.txt: Hunk #1 succeeded at 2 (different line endings: its added lines take the file's CRLF).";
    expect((await pq(tree, "push", "--dry-run")).out).toContain(said);
    // In --json too: its own fate, not "exact" beside the line-ending note.
    const hunk = JSON.parse((await pq(tree, "push", "--dry-run", "--json")).out).pushed[0].files[0].hunks[0];
    expect(hunk).toMatchObject({ status: "eol", eol: "crlf", offset: 0, fuzz: 0 });
    expect((await pq(tree, "push")).out).toContain(said);
    expect(read(tree, "a.txt")).toBe(lines(10).replace(/\n/g, "\r\n").replace("5\r\n", "five\r\n"));
    // Said again at the next push: such a result is not reused silently.
    await pq(tree, "pop");
    expect((await pq(tree, "push")).out).toContain(said);
    // The patch file, LF, does not apply as it is: status says so and refresh rewrites it in the file's endings (verify-6 N7).
    const status = await pq(tree, "status");
    expect(status.out).toContain(
      "p1 applied only with its line endings set aside: its patch file does not apply as it is; pq refresh rewrites it",
    );
    expect(JSON.parse((await pq(tree, "status", "--json")).out).inexact).toEqual([{ name: "p1", reason: "eol" }]);
    const refresh = await pq(tree, "refresh");
    expect(refresh.out).not.toContain("unchanged");
    expect(read(tree, "patches/p1")).toContain("+five\r\n");
    expect((await pq(tree, "status")).out).not.toContain("applied only");
    await pq(tree, "pop");
    expect(spawnSync("git", ["apply", "--check", "patches/p1"], { cwd: tree }).status).toBe(0);
  });

  it("push --merge merges from a pre-image pq made, which git never stored (stack-6 #16)", async () => {
    const tree = await stackTree({ "a.c": lines(50) });
    await patchReplacing(tree, "p1", "a.c", "10\n", "10 p1\n");
    await patchReplacing(tree, "p2", "a.c", "30\n", "30 p2\n");
    await patchReplacing(tree, "p3", "a.c", "13\n", "13 p3\n");
    await pq(tree, "goto", "p2");
    // p1 changes again inside p3's context: p3's index line names a version only pq has.
    write(tree, "a.c", read(tree, "a.c").replace("10 p1\n", "10 p1 fixed\n"));
    expect((await pq(tree, "refresh", "-p", "p1", "a.c")).code).toBe(0);
    const plain = await pq(tree, "push", "--fuzz", "0");
    expect(plain.code).toBe(6);
    expect(plain.err).toContain("pq push --merge tries a three-way merge");
    const merged = await pq(tree, "push", "--merge", "--fuzz", "0");
    expect(merged.code, merged.err).toBe(0);
    expect(merged.out).toContain("a.c: merged three-way");
    expect(read(tree, "a.c")).toBe(lines(50).replace("10\n", "10 p1 fixed\n").replace("13\n", "13 p3\n").replace("30\n", "30 p2\n"));
    // The merged patch's file does not apply as it is: status says so and refresh rewrites it (verify-7 V10).
    expect((await pq(tree, "status")).out).toContain("p3 applied only by a three-way merge");
    expect((await pq(tree, "refresh")).out).not.toContain("unchanged");
    await pq(tree, "pop");
    expect((await pq(tree, "push", "--fuzz", "0")).code).toBe(0);
  });

  it("a patch pushed with fuzz is rewritten by the next refresh, as quilt's refresh does (verify-6 N7)", async () => {
    const tree = await stackTree({ "a.txt": lines(20) });
    await patchReplacing(tree, "p1", "a.txt", "10\n", "ten\n");
    await pq(tree, "pop");
    write(tree, "a.txt", lines(20).replace("7\n", "seven\n"));
    git(tree, "commit", "-qam", "upstream changes the context");
    expect((await pq(tree, "push")).out).toContain("with fuzz 1");
    expect((await pq(tree, "status")).out).toContain("p1 applied only with fuzz");
    expect((await pq(tree, "refresh")).out).not.toContain("unchanged");
    expect(read(tree, "patches/p1")).toContain(" seven\n");
    await pq(tree, "pop");
    expect(spawnSync("patch", ["-p1", "--dry-run", "-F0", "-i", "patches/p1"], { cwd: tree }).status).toBe(0);
  });

  it("with an edit of another file in the tree, status names the patch's files for the refresh, which leaves that edit out (t119 N4)", async () => {
    const tree = await stackTree({ "a.txt": lines(20), "other.txt": "mine\n" });
    await patchReplacing(tree, "p1", "a.txt", "10\n", "ten\n");
    await pq(tree, "pop");
    write(tree, "a.txt", lines(20).replace("7\n", "seven\n"));
    git(tree, "commit", "-qam", "upstream changes the context");
    expect((await pq(tree, "push")).code).toBe(0);
    write(tree, "other.txt", "mine, edited\n");
    const advice = /p1 applied only with fuzz: its patch file does not apply as it is; (pq refresh .*) rewrites it/.exec(
      (await pq(tree, "status")).out,
    )?.[1];
    expect(advice).toBe("pq refresh a.txt");
    // From a folder below the top, the files are named from the top: a cd there first (t125 N3).
    mkdirSync(join(tree, "sub"));
    expect((await pq(join(tree, "sub"), "status")).out).toContain(`; cd ${tree}, then pq refresh a.txt rewrites it`);
    const refreshed = await pq(tree, ...advice!.split(" ").slice(1));
    expect(refreshed.out).toContain("refreshed p1: no changes taken, the patch written anew for this tree (the patch's files: a.txt)");
    expect(refreshed.out).toContain("left unrefreshed (not named; pq refresh without FILES takes every change): other.txt");
    expect(read(tree, "patches/p1")).toContain(" seven\n");
    expect(read(tree, "patches/p1")).not.toContain("other.txt");
    expect(read(tree, "other.txt")).toBe("mine, edited\n");
    expect((await pq(tree, "status")).out).toContain("unrefreshed changes: other.txt");
  });
});

describe("a push that stops part way says what it applied first (dry-6 #1, #7, #10)", () => {
  it("prints the applied patches' fuzz before the refusal, in the dry run and the push, and --json has them in the error", async () => {
    const tree = await stackTree({ "a.txt": lines(40) });
    for (const [name, from, to] of [
      ["p1", "10\n", "ten\n"],
      ["p2", "25\n", "twenty-five\n"],
      ["p3", "35\n", "thirty-five\n"],
    ]) {
      await patchReplacing(tree, name, "a.txt", from, to);
    }
    await pq(tree, "pop", "-a");
    write(tree, "a.txt", lines(40).replace("7\n", "seven\n").replace("36\n", "X\n"));
    git(tree, "commit", "-qam", "upstream");
    const dry = await pq(tree, "push", "-a", "--dry-run");
    const push = await pq(tree, "push", "-a");
    for (const [r, verb] of [
      [dry, "would apply"],
      [push, "applying"],
    ] as const) {
      expect(r.code).toBe(6);
      expect(r.out).toContain(`${verb} p1\n  a.txt: Hunk #1 succeeded at 7 with fuzz 1.`);
      expect(r.out).toContain(`${verb} p2`);
      expect(r.err).toContain("p3 does not apply (2 patch(es) before it");
    }
    await pq(tree, "pop", "-a");
    for (const args of [
      ["push", "-a", "--json"],
      ["push", "-a", "--json", "--dry-run"],
    ]) {
      const r = await pq(tree, ...args);
      const json = JSON.parse(r.out);
      expect(json).toMatchObject({ error: "apply-failed", exitCode: 6, patch: "p3", file: "a.txt", hunk: 1 });
      expect(json.pushed.map((p: { name: string }) => p.name)).toEqual(["p1", "p2"]);
      if (args.includes("--dry-run")) expect(json.dryRun).toBe(true);
      else await pq(tree, "pop", "-a");
    }
  });

  it("a missing patch file stops the dry run where it stops the push", async () => {
    const tree = await stackTree({ "f.txt": lines(10) });
    for (const [name, from, to] of [
      ["p1", "5\n", "five\n"],
      ["p2", "8\n", "eight\n"],
    ]) {
      await patchReplacing(tree, name, "f.txt", from, to);
    }
    await pq(tree, "pop", "-a");
    rmSync(join(tree, "patches", "p2"));
    const dry = await pq(tree, "push", "-a", "--dry-run");
    expect(dry.code).toBe(3);
    expect(dry.out).toContain("would apply p1");
    expect(dry.err).toContain("is missing (1 patch(es) before it would be applied; the top would be p1)");
    expect(dry.err).toContain("pq restore-queue");
    expect((await pq(tree, "applied")).out).toBe("");
    const push = await pq(tree, "push", "-a");
    expect(push.code).toBe(3);
    expect(push.out).toContain("applying p1");
    expect((await pq(tree, "applied")).out).toBe("p1\n");
  });
});

describe("refusals carry what they are about as data (dry-6 #12)", () => {
  it("an unknown patch, a held lock and an unsafe path name the patch, the pid and the path in --json", async () => {
    const tree = await stackTree({ "a.txt": "a\n" });
    await pq(tree, "new", "p1");
    await pq(tree, "pop");
    expect(JSON.parse((await pq(tree, "push", "nosuch", "--json")).out)).toMatchObject({ error: "not-found", patch: "nosuch" });
    const sleeper = spawn("sleep", ["30"]);
    try {
      writeFileSync(join(tree, ".pq", "lock"), `${sleeper.pid}\n`);
      expect(JSON.parse((await pq(tree, "push", "--json")).out)).toMatchObject({ error: "locked", pid: sleeper.pid });
    } finally {
      sleeper.kill();
      rmSync(join(tree, ".pq", "lock"), { force: true });
    }
    write(join(tree, "patches"), "unsafe", "--- a/../x\n+++ b/../x\n@@ -0,0 +1 @@\n+x\n");
    writeFileSync(join(tree, "patches", "series"), "p1\nunsafe\n");
    const unsafe = JSON.parse((await pq(tree, "push", "-a", "--json")).out);
    expect(unsafe).toMatchObject({ error: "unsafe-path", patch: "unsafe", path: "../x" });
  });
});

describe("a dry run names what a patch does besides its hunks (dry-6 #13)", () => {
  it("renames, mode changes, binary changes and deletions, in the report and in --json", async () => {
    const tree = await stackTree({ "a.txt": "1\n2\n3\n4\n5\n6\n", "s.sh": "echo\n" });
    writeFileSync(join(tree, "bin"), Buffer.from("A\0B", "latin1"));
    git(tree, "add", "bin");
    git(tree, "commit", "-qm", "bin");
    const rename = besideTree(tree, "ren", ".patch");
    writeFileSync(rename, "Rename a\n\ndiff --git a/a.txt b/b.txt\nsimilarity index 100%\nrename from a.txt\nrename to b.txt\n");
    expect((await pq(tree, "import", "-n", "ren", rename)).code).toBe(0);
    expect((await pq(tree, "push")).code).toBe(0);
    await pq(tree, "new", "mode");
    chmodSync(join(tree, "s.sh"), 0o755);
    await pq(tree, "refresh");
    await pq(tree, "new", "binary");
    writeFileSync(join(tree, "bin"), Buffer.from("A\0C", "latin1"));
    await pq(tree, "refresh");
    await pq(tree, "pop", "-a");
    const dry = await pq(tree, "push", "-a", "--dry-run");
    expect(dry.out).toContain("would apply ren\n  b.txt: renamed from a.txt\n");
    expect(dry.out).toContain("would apply mode\n  s.sh: mode 100644 -> 100755\n");
    expect(dry.out).toContain("would apply binary\n  bin: binary content changed\n");
    // A copy whose source is missing names the source (dry-6 #16).
    const copy = besideTree(tree, "cp", ".patch");
    writeFileSync(
      copy,
      "Copy\n\ndiff --git a/gone b/copy\nsimilarity index 90%\ncopy from gone\ncopy to copy\n--- a/gone\n+++ b/copy\n@@ -1,2 +1,2 @@\n 1\n-2\n+two\n",
    );
    expect((await pq(tree, "import", "-n", "cp", copy)).code).toBe(0);
    expect((await pq(tree, "push", "cp", "--dry-run")).err).toContain("copy: the copy source gone does not exist");
    await pq(tree, "delete", "cp");
    const json = JSON.parse((await pq(tree, "push", "-a", "--dry-run", "--json")).out);
    expect(json.pushed.map((p: { files: { change?: unknown }[] }) => p.files[0].change)).toEqual([
      { kind: "rename", from: "a.txt" },
      { kind: "modify", mode: ["100644", "100755"] },
      { kind: "modify", binary: true },
    ]);
  });
});

describe("git's index follows revert, remove and refresh -p (safe-6 #7, #12)", () => {
  it("a staged change leaves the index with the change revert or remove drops, and comes back with undo; refresh -p unstages what it took", async () => {
    const tree = await stackTree({ "f.txt": "a\nb\nc\n", "g.txt": "x\n" });
    await pq(tree, "new", "p1");
    write(tree, "f.txt", "a\nb\nc\nA\n");
    await pq(tree, "refresh");
    write(tree, "f.txt", "a\nb\nc\nA\nB\n");
    git(tree, "add", "f.txt");
    expect((await pq(tree, "revert", "f.txt")).code).toBe(0);
    expect(git(tree, "diff", "--cached")).toBe("");
    expect((await pq(tree, "undo")).code).toBe(0);
    expect(git(tree, "diff", "--cached")).toContain("+B");
    git(tree, "reset", "-q");
    write(tree, "g.txt", "x\nG\n");
    await pq(tree, "refresh");
    git(tree, "add", "f.txt");
    expect((await pq(tree, "remove", "f.txt")).code).toBe(0);
    expect(git(tree, "diff", "--cached")).toBe("");
    // refresh -p PATCH FILE: the staged change goes into the lower patch and leaves the index.
    await pq(tree, "new", "p2");
    write(tree, "g.txt", "x\nG\nG2\n");
    await pq(tree, "refresh");
    write(tree, "g.txt", "x\nGG\nG2\n");
    git(tree, "add", "g.txt");
    expect((await pq(tree, "refresh", "-p", "p1", "g.txt")).code).toBe(0);
    expect(git(tree, "diff", "--cached")).toBe("");
    await pq(tree, "pop", "-a");
    expect(git(tree, "status", "--porcelain", "--", "f.txt", "g.txt")).toBe("");
  });
});

describe("pq finish after the patches were committed by hand (safe-6 #11)", () => {
  it("refuses as pop does, instead of a commit that reverts the hand commit's other lines", async () => {
    const tree = await stackTree({ "f.txt": "a\n" });
    await pq(tree, "new", "p1", "-m", "add l1");
    write(tree, "f.txt", "a\nl1\n");
    await pq(tree, "refresh");
    write(tree, "f.txt", "a\nl1\nmine\n");
    const below = git(tree, "rev-parse", "HEAD").trim();
    git(tree, "commit", "-qam", "my work");
    const head = git(tree, "rev-parse", "HEAD");
    const r = await pq(tree, "finish", "p1");
    expect(r.code).toBe(12);
    expect(r.err).toContain("HEAD has commits that change f.txt, which the patches to finish change too");
    expect(r.err).toContain(`git reset ${below.slice(0, 12)} (a mixed reset to the commit below them`);
    expect(r.err).not.toContain("pq uncommit"); // uncommit cannot take a commit the applied patch sits on (stack-6 #17e)
    expect(git(tree, "rev-parse", "HEAD")).toBe(head);
    // The finish that was refused, whole (t119 N3: "then pq finish" alone is a usage error).
    expect(r.err).toContain("then pq finish p1");
    expect((await pq(tree, "finish", "-a")).err).toContain("then pq finish -a");
  });
});

describe("pq status while another pq changes the stack (safe-6 #2)", () => {
  it("says an operation is under way, and does not call the patch changed in the queue", async () => {
    const tree = await stackTree({ "a.txt": "a\n" });
    await pq(tree, "new", "p1");
    write(tree, "a.txt", "a\nb\n");
    await pq(tree, "refresh");
    // Mid-refresh: the new patch file is written, the state not yet, and the other pq holds the lock.
    write(join(tree, "patches"), "p1", read(join(tree, "patches"), "p1") + "a note\n");
    // Another Node process stands for the other pq (a pid that runs anything else is a stale lock: verify-6 N9).
    const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"]);
    try {
      writeFileSync(join(tree, ".pq", "lock"), `${sleeper.pid}\n`);
      const status = await pq(tree, "status");
      expect(status.out).toContain(`another pq (pid ${sleeper.pid}) is changing the stack now`);
      expect(status.out).not.toContain("changed in the queue");
      const json = JSON.parse((await pq(tree, "status", "--json")).out);
      expect(json.busy).toEqual({ pid: sleeper.pid });
      expect(json.topChangedInQueue).toBeUndefined();
    } finally {
      sleeper.kill();
      rmSync(join(tree, ".pq", "lock"), { force: true });
    }
    expect((await pq(tree, "status")).out).toContain("changed in the queue");
    const other = spawn("sleep", ["30"]);
    try {
      writeFileSync(join(tree, ".pq", "lock"), `${other.pid}\n`);
      expect((await pq(tree, "status")).out).not.toContain("another pq");
    } finally {
      other.kill();
      rmSync(join(tree, ".pq", "lock"), { force: true });
    }
  });
});

describe("pop of a patch whose content was staged (safe-6 #7)", () => {
  it("takes exactly that staged content out of the index with it, and undo stages it again", async () => {
    const tree = await stackTree({ "f.txt": "a\n" });
    await pq(tree, "new", "p1");
    write(tree, "f.txt", "a\nA\n");
    write(tree, "n.txt", "N\n");
    await pq(tree, "add", "n.txt");
    await pq(tree, "refresh");
    git(tree, "add", "f.txt", "n.txt");
    expect((await pq(tree, "pop")).code).toBe(0);
    expect(git(tree, "status", "--porcelain", "--", "f.txt", "n.txt")).toBe("");
    expect((await pq(tree, "undo")).code).toBe(0);
    expect(git(tree, "status", "--porcelain", "--", "f.txt", "n.txt")).toBe("M  f.txt\nA  n.txt\n");
  });
});

describe("patches pq writes anew (stack-6 #7, #12)", () => {
  it("lose the X-Committer: uncommit kept, and a -p0 entry becomes -p1 when rewritten with a/ b/ paths", async () => {
    const tree = await stackTree({ "src/a.c": Array.from({ length: 30 }, (_, i) => `line ${i + 1}\n`).join("") });
    // An uncommitted commit by someone else keeps its committer...
    write(tree, "src/a.c", read(tree, "src/a.c").replace("line 20\n", "line 20 mine\n"));
    git(tree, "add", "src/a.c");
    execFileSync("git", ["commit", "-qm", "my commit"], {
      cwd: tree,
      env: {
        ...process.env,
        GIT_COMMITTER_NAME: "Old Committer",
        GIT_COMMITTER_EMAIL: "old@example.org",
        GIT_COMMITTER_DATE: "2019-01-01T00:00:00+0000",
      },
    });
    expect((await pq(tree, "uncommit")).code).toBe(0);
    const name = (await pq(tree, "top")).out.trim();
    expect(read(join(tree, "patches"), name)).toContain("X-Committer: Old Committer");
    // ...until its message changes: a new commit, made as the user.
    expect((await pq(tree, "header", name, "-m", "reworded")).code).toBe(0);
    expect(read(join(tree, "patches"), name)).not.toContain("X-Committer:");
    // A -p0 patch above one that refresh -p changes so that it no longer applies as it is (its context line
    // changed: fuzz) is rewritten with a/ b/ paths: its entry becomes -p1. (Moved by an offset only, a plain
    // diff keeps its bytes and its -p0: verify-8 W7.)
    await pq(tree, "pop", "-a");
    const p0 = besideTree(tree, "p0", ".patch");
    writeFileSync(
      p0,
      "--- src/a.c.orig\n+++ src/a.c\n@@ -5,7 +5,7 @@\n line 5\n line 6\n line 7\n-line 8\n+line eight\n line 9\n line 10\n line 11\n",
    );
    await pq(tree, "push", "-a");
    expect((await pq(tree, "import", "-p0", "-n", "p0.patch", p0)).code).toBe(0);
    expect((await pq(tree, "push")).code).toBe(0);
    write(tree, "src/a.c", read(tree, "src/a.c").replace("line 5\n", "line 5 changed\n"));
    expect((await pq(tree, "refresh", "-p", name, "src/a.c")).code).toBe(0);
    expect(read(join(tree, "patches"), "series")).not.toContain("-p0");
    await pq(tree, "pop", "-a");
    expect((await pq(tree, "push", "-a")).code).toBe(0);
  });
});

describe("pq fold into a quilt patch (t55 N2)", () => {
  it("rewrites a -p0 patch's series entry with its diff (a/ b/ paths: -p1), and gives a patch with no header none", async () => {
    const tree = await stackTree({ "f.txt": lines(20), "g.txt": lines(20) });
    const queue = join(tree, "patches");
    writeFileSync(join(queue, "p0.patch"), "Description: old -p0 patch\n\n--- f.txt.orig\n+++ f.txt\n@@ -2 +2 @@\n-2\n+two\n");
    writeFileSync(join(queue, "top.patch"), "--- a/g.txt\n+++ b/g.txt\n@@ -14 +14 @@\n-14\n+fourteen\n");
    writeFileSync(join(queue, "bare.patch"), "--- a/f.txt\n+++ b/f.txt\n@@ -9 +9 @@\n-9\n+nine\n");
    writeFileSync(join(queue, "bare2.patch"), "--- a/g.txt\n+++ b/g.txt\n@@ -3 +3 @@\n-3\n+three\n");
    writeFileSync(join(queue, "series"), "p0.patch -p0\ntop.patch\nbare.patch\nbare2.patch\n");
    expect((await pq(tree, "push")).code).toBe(0);
    expect((await pq(tree, "fold", "top.patch")).code).toBe(0);
    expect(read(queue, "p0.patch")).toContain("--- a/f.txt\n");
    // It had kept "p0.patch -p0" over a diff written for -p1: neither pq nor quilt could push the queue.
    expect(read(queue, "series")).toBe("p0.patch\nbare.patch\nbare2.patch\n");
    expect((await pq(tree, "push")).code).toBe(0);
    expect((await pq(tree, "fold", "bare2.patch")).code).toBe(0);
    // Neither patch had a header: the result has none (it had been an empty "Subject: " line).
    expect(read(queue, "bare.patch")).toMatch(/^diff --git a\/f.txt b\/f.txt\n/);
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect(read(tree, "f.txt")).toBe(lines(20).replace("\n2\n", "\ntwo\n").replace("\n9\n", "\nnine\n"));
    expect(read(tree, "g.txt")).toBe(lines(20).replace("\n3\n", "\nthree\n").replace("\n14\n", "\nfourteen\n"));
  });
});

describe("non-ASCII file names in git's index and commits (verify-6 N11)", () => {
  it("finish commits them under their UTF-8 names, refresh unstages them, and a rebase carries them", async () => {
    const tree = await stackTree({ "ünï.txt": "one\n" });
    await pq(tree, "new", "p1", "-m", "p1");
    write(tree, "ünï.txt", "one\ntwo\n");
    git(tree, "add", "ünï.txt");
    expect((await pq(tree, "refresh")).code).toBe(0);
    expect(git(tree, "diff", "--cached", "--name-only")).toBe("");
    expect((await pq(tree, "finish", "-a")).code).toBe(0);
    // (the helper reads git's output as latin1: decoded here as the UTF-8 it is)
    expect(
      Buffer.from(git(tree, "-c", "core.quotePath=false", "show", "--name-only", "--format=", "HEAD"), "latin1").toString("utf8"),
    ).toBe("ünï.txt\n");
    expect(git(tree, "status", "--porcelain", "--", ".", ":!patches")).toBe("");
    // A rebase onto an upstream that changes a non-ASCII file and adds one.
    git(tree, "branch", "upstream", "HEAD");
    await pq(tree, "new", "p2", "-m", "p2");
    write(tree, "ünï.txt", "ONE\ntwo\n");
    await pq(tree, "refresh");
    const wt = besideTree(tree, "up");
    git(tree, "worktree", "add", "-q", wt, "upstream");
    write(wt, "ünï.txt", "one\ntwo\nthree\n");
    write(wt, "nëw.txt", "new\n");
    git(wt, "add", "-A");
    git(wt, "commit", "-qm", "upstream");
    expect((await pq(tree, "rebase", "upstream")).code).toBe(0);
    expect(read(tree, "ünï.txt")).toBe("ONE\ntwo\nthree\n");
    expect(read(tree, "nëw.txt")).toBe("new\n");
    expect(git(tree, "diff", "--cached", "--name-only")).toBe("");
  });
});

describe("push --force of a patch that creates a binary file the tree has (verify-6 N4)", () => {
  it("keeps the binary file in a .rej, so refresh refuses to drop it", async () => {
    const tree = await stackTree({ "a.txt": "a\n" });
    await pq(tree, "new", "pb");
    writeFileSync(join(tree, "b.bin"), Buffer.from("A\0B", "latin1"));
    await pq(tree, "add", "b.bin");
    await pq(tree, "refresh");
    await pq(tree, "pop");
    writeFileSync(join(tree, "b.bin"), Buffer.from("X\0Y", "latin1"));
    expect((await pq(tree, "push", "--force")).code).toBe(6);
    expect(read(tree, "b.bin.rej")).toContain("GIT binary patch");
    expect((await pq(tree, "refresh")).code).toBe(5);
    expect(read(join(tree, "patches"), "pb")).toContain("GIT binary patch");
  });
});

describe("fold gathers the messages' trailers into one block at the end (stack-6 #4)", () => {
  /** Two patches on a.c, each with its message and author; the second folded into the first. Returns the result's text. */
  async function foldTwo(top: [string, string, string], folded: [string, string, string]): Promise<string> {
    const tree = await stackTree({ "a.c": "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n" });
    for (const [[name, message, author], [line, replacement]] of [
      [top, ["2\n", "two\n"]],
      [folded, ["9\n", "nine\n"]],
    ] as const) {
      await pq(tree, "new", name, "-m", message, "-u", author);
      write(tree, "a.c", read(tree, "a.c").replace(line, replacement));
      await pq(tree, "refresh");
    }
    await pq(tree, "pop");
    expect((await pq(tree, "fold", folded[0])).code).toBe(0);
    return read(join(tree, "patches"), top[0]);
  }

  it("in the kernel's order: the co-author's Co-developed-by and sign-off, then the submitter's", async () => {
    const text = await foldTwo(
      ["p1", "p1 subject\n\np1 body\n\nSigned-off-by: Alice A <alice@example.org>", "Alice A <alice@example.org>"],
      ["p2", "p2 subject\n\np2 body\n\nSigned-off-by: Bob B <bob@example.org>", "Bob B <bob@example.org>"],
    );
    expect(text).toContain(
      "p1 body\n\n* * *\n\np2 subject\n\np2 body\n\nCo-developed-by: Bob B <bob@example.org>\nSigned-off-by: Bob B <bob@example.org>\nSigned-off-by: Alice A <alice@example.org>\n",
    );
  });

  it("with a top patch that has no trailers, and a co-author who did not sign off: one block, which git reads whole (readme-15 F8)", async () => {
    // Bob's patch, signed off by Alice (who passed it on), not by Bob.
    const text = await foldTwo(
      ["top", "top change", "Alice A <alice@example.org>"],
      ["bobs", "bob's change\n\nSigned-off-by: Alice A <alice@example.org>", "Bob B <bob@example.org>"],
    );
    expect(text).toContain(
      "Subject: top change\n\nbob's change\n\nCo-developed-by: Bob B <bob@example.org>\nSigned-off-by: Alice A <alice@example.org>\n",
    );
    const message = text.slice(text.indexOf("Subject: top change\n\n") + "Subject: top change\n\n".length, text.indexOf("\ndiff --git"));
    const parsed = execFileSync("git", ["interpret-trailers", "--parse"], { input: message, encoding: "utf8" });
    expect(parsed).toBe("Co-developed-by: Bob B <bob@example.org>\nSigned-off-by: Alice A <alice@example.org>\n");
  });
  it("a folded patch's subject shaped like a trailer (mm: fix leak) stays its message, in fold order (t122 N2)", async () => {
    const text = await foldTwo(
      ["top", "x86: base change", "Alice A <alice@example.org>"],
      ["one", "mm: fix leak in foo", "Mia M <mia@example.org>"],
    );
    expect(text).toContain("Subject: x86: base change\n\nmm: fix leak in foo\n\nCo-developed-by: Mia M <mia@example.org>\n");
  });

  it("with a folded trailer's continuation line and a maintainer's [note] line: still one block (verify-16 F5)", async () => {
    for (const [trailers, parsed] of [
      [
        'Fixes: 0123456789ab ("a long subject\n continued")\nSigned-off-by: Bob B <bob@example.org>',
        'Fixes: 0123456789ab ("a long subject continued")\nCo-developed-by: Bob B <bob@example.org>\nSigned-off-by: Bob B <bob@example.org>\nSigned-off-by: Alice A <alice@example.org>\n',
      ],
      [
        "Signed-off-by: Bob B <bob@example.org>\n[cy: reworded]\nSigned-off-by: Cy C <cy@example.org>",
        "Co-developed-by: Bob B <bob@example.org>\nSigned-off-by: Bob B <bob@example.org>\nSigned-off-by: Cy C <cy@example.org>\nSigned-off-by: Alice A <alice@example.org>\n",
      ],
    ]) {
      const text = await foldTwo(
        ["top", "top change\n\nSigned-off-by: Alice A <alice@example.org>", "Alice A <alice@example.org>"],
        ["bobs", `bob's change\n\n${trailers}`, "Bob B <bob@example.org>"],
      );
      const message = text.slice(text.indexOf("Subject: top change\n\n") + "Subject: top change\n\n".length, text.indexOf("\ndiff --git"));
      expect(execFileSync("git", ["interpret-trailers", "--parse"], { input: message, encoding: "utf8" })).toBe(parsed);
    }
  });
});

describe("refusals that say what they mean (verify-6 N9)", () => {
  it("a series line naming a directory, and an unsafe patch after applied ones", async () => {
    const tree = await stackTree({ "a.txt": lines(10) });
    await patchReplacing(tree, "p1", "a.txt", "3\n", "three\n");
    await pq(tree, "pop");
    write(tree, "patches/evil", "--- a/../x\n+++ b/../x\n@@ -1 +1 @@\n-a\n+b\n");
    write(tree, "patches/series", "p1\nevil\n");
    const partial = await pq(tree, "push", "-a");
    expect(partial.code).toBe(7);
    expect(partial.err).toContain("(1 patch(es) before it were applied; the top is now p1)");
    expect(partial.err).not.toContain("nothing was changed (");
    await pq(tree, "pop", "-a");
    write(tree, "patches/sub/inner.patch", "");
    write(tree, "patches/series", "sub\n");
    const dir = await pq(tree, "push");
    expect(dir.code).toBe(3);
    expect(dir.err).toContain("sub in the series is a directory, not a patch file");
  });
});

describe("a long push asks git ahead (the staged paths, HEAD's blobs) and still refuses what it must", () => {
  it("40 patches: an edit since HEAD and a staged change to files the 38th patch first changes are refused, the push stays whole", async () => {
    const files: Record<string, string> = {};
    for (let i = 1; i <= 40; i++) files[`f${i}.txt`] = lines(10);
    const tree = await stackTree(files);
    for (let i = 1; i <= 40; i++) {
      await pq(tree, "new", `p${i}`);
      write(tree, `f${i}.txt`, lines(10).replace("5\n", `five ${i}\n`));
      expect((await pq(tree, "refresh")).code).toBe(0);
    }
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    // Without the push cache every patch is applied, and git is asked ahead after the 32nd.
    rmSync(join(tree, ".pq", "pushcache.log"));
    // An edit to a file no applied patch changes, since HEAD: the patch would take it as its base.
    write(tree, "f38.txt", lines(10) + "edited by hand\n");
    const edited = await pq(tree, "push", "-a");
    expect(edited.code).toBe(5);
    expect(edited.err).toContain("f38.txt, which p38 also changes");
    expect((await pq(tree, "applied")).out).toBe("");
    // Staged, the work tree as HEAD has it.
    git(tree, "add", "f38.txt");
    write(tree, "f38.txt", lines(10));
    const staged = await pq(tree, "push", "-a");
    expect(staged.code).toBe(5);
    expect(staged.err).toContain("f38.txt, which p38 changes, has a change staged in git's index that the work tree does not have");
    git(tree, "restore", "--staged", "f38.txt");
    const pushed = await pq(tree, "push", "-a");
    expect(pushed.code).toBe(0);
    expect((await pq(tree, "applied")).out.split("\n").filter(Boolean)).toHaveLength(40);
  });
});

describe("a file name with a backslash (verify-12 F6)", () => {
  it("refresh refuses to take it (no push would take the patch back) and takes the rest once it is left out", async () => {
    const tree = await stackTree({ "back\\slash": lines(20), plain: lines(20) });
    await pq(tree, "new", "p1");
    write(tree, "back\\slash", lines(20).replace("5\n", "five\n"));
    write(tree, "plain", lines(20).replace("5\n", "five\n"));
    const refused = await pq(tree, "refresh");
    expect(refused.code).toBe(7);
    expect(refused.err).toContain('the file name "back\\\\slash" (changed in the tree) contains a backslash, which pq push refuses');
    expect(read(join(tree, "patches"), "p1")).not.toContain("five");
    // pq diff of another file shows it (verify-13 N4: refused over the file it was not asked for).
    const other = await pq(tree, "diff", "plain");
    expect(other.code).toBe(0);
    expect(other.out).toContain("+five");
    expect((await pq(tree, "diff", "back\\slash")).code).toBe(7);
    // Named by hand, or by a patch: the advice is about the backslash, not about leaving the tree (verify-13 N5).
    const added = await pq(tree, "add", "back\\slash");
    expect(added.code).toBe(7);
    expect(added.err).toContain("pq takes no file name with a backslash (a directory separator on Windows): rename the file (git mv)");
    expect(added.err).not.toContain("name a file of the working tree");
    git(tree, "checkout", "--", "back\\slash");
    expect((await pq(tree, "refresh")).code).toBe(0);
    expect((await pq(tree, "pop")).code).toBe(0);
    expect((await pq(tree, "push")).code).toBe(0);
    expect(read(tree, "plain")).toContain("five");
  });
});

describe("an option's value that starts with '-' (t23 F11)", () => {
  it("is taken as the value, as git takes `git commit -m -x`", async () => {
    const dir = makeRepo({ "a.c": "a\n" });
    dirs.push(dir);
    expect((await pq(dir, "init")).code).toBe(0);
    const dashed = await pq(dir, "new", "-m", "-dash", "p1");
    expect(dashed.code).toBe(0);
    expect((await pq(dir, "new", "--message", "-weird", "--", "-dash.patch")).code).toBe(0);
    expect((await pq(dir, "series")).out.split("\n").filter(Boolean)).toEqual(["p1", "-dash.patch"]);
    expect(read(dir, "patches/p1")).toContain("Subject: -dash\n");
    expect(read(dir, "patches/-dash.patch")).toContain("Subject: -weird\n");
    // "--=x" is a message, not the end of the options.
    expect((await pq(dir, "new", "-m", "--=x", "p3")).code).toBe(0);
    expect(read(dir, "patches/p3")).toContain("Subject: --=x\n");
  });

  it("a message option with no word after it, before -- or an option, is refused and changes nothing (t25 F7)", async () => {
    const dir = makeRepo({ "a.c": "a\n" });
    dirs.push(dir);
    expect((await pq(dir, "init")).code).toBe(0);
    expect((await pq(dir, "new", "-m", "kept", "p1")).code).toBe(0);
    for (const argv of [
      ["new", "q1", "-m", "--", "-y"],
      ["header", "p1", "-m"],
      ["refresh", "-m", "-s"],
      ["header", "p1", "-m", "--json"],
    ]) {
      const r = await pq(dir, ...argv);
      expect([argv, r.code, r.err]).toEqual([argv, 2, expect.stringContaining("-m needs the message as the next word")]);
    }
    expect((await pq(dir, "series")).out).toBe("p1\n");
    expect(read(dir, "patches/p1")).toContain("Subject: kept\n");
    // An empty message, said so, is one.
    expect((await pq(dir, "header", "p1", "-m", "")).code).toBe(0);
  });

  it("--tree naming a directory that is not there is refused, not taken as the stack around it (t25 F5)", async () => {
    const dir = makeRepo({ "a.c": "a\n" });
    dirs.push(dir);
    expect((await pq(dir, "init")).code).toBe(0);
    expect((await pq(dir, "new", "p1")).code).toBe(0);
    const r = await pq(dir, "--tree", "typo-dir", "pop", "-a");
    expect([r.code, r.err]).toEqual([3, expect.stringContaining("typo-dir does not exist")]);
    expect((await pq(dir, "applied")).out).toBe("p1\n");
  });
});

describe("a refresh whose message, edit or sign-off gives the text the patch file holds (t36 F2)", () => {
  it("says unchanged, leaves the file byte for byte and logs nothing", async () => {
    const tree = await stackTree({ "a.txt": "one\n" });
    git(tree, "config", "user.name", "Ann Example");
    git(tree, "config", "user.email", "ann@example.org");
    await pq(tree, "new", "p", "-m", "the message");
    write(tree, "a.txt", "one\ntwo\n");
    expect((await pq(tree, "refresh")).out).toContain("refreshed p: a.txt");
    const script = join(tree, "..", `editor-${Date.now()}.sh`);
    writeFileSync(script, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    dirs.push(script);
    process.env.EDITOR = script;
    try {
      for (const [args, changes] of [
        [["refresh", "-m", "the message"], false],
        [["refresh", "-e"], false],
        [["refresh", "-s"], true],
        [["refresh", "-s"], false],
        [["refresh"], false],
      ] as const) {
        const before = read(join(tree, "patches"), "p");
        const logged = read(tree, ".pq/oplog").split("\n").length;
        const r = await pq(tree, ...args);
        expect(r.code, args.join(" ")).toBe(0);
        if (changes) {
          expect(r.out, args.join(" ")).toContain("refreshed p");
          expect(read(join(tree, "patches"), "p")).toContain("Signed-off-by: Ann Example <ann@example.org>");
        } else {
          expect(r.out.trim(), args.join(" ")).toBe("p is unchanged (nothing to refresh; the patch file was left as it is)");
          expect(read(join(tree, "patches"), "p"), args.join(" ")).toBe(before);
          expect(read(tree, ".pq/oplog").split("\n").length, args.join(" ")).toBe(logged);
        }
      }
    } finally {
      delete process.env.EDITOR;
    }
  });
});

describe("moves git mv cannot stage (t46 N5, t50 N3, N10)", () => {
  it("a file the top patch renamed, moved again with mv, is still a rename, to its new name (the new name untracked is taken)", async () => {
    const tree = await stackTree({ "a.txt": lines(20) });
    await pq(tree, "new", "mv");
    git(tree, "mv", "a.txt", "z.txt");
    expect((await pq(tree, "refresh")).code).toBe(0);
    // z.txt is untracked (the refresh unstaged the move): git mv refuses it, mv is the way.
    renameSync(join(tree, "z.txt"), join(tree, "y.txt"));
    write(tree, "y.txt", read(tree, "y.txt").replace("5\n", "five\n"));
    const taken = await pq(tree, "refresh");
    expect(taken.code).toBe(0);
    // An untracked file taken is said, as a pq add would be (t53: a scratch file went in without a word).
    expect(taken.out).toContain("taken, untracked, as where a file moved with mv went (the most alike, as git pairs a move): y.txt");
    const patch = read(join(tree, "patches"), "mv");
    // It had been a deletion of a.txt alone (y.txt left out as untracked), or a deletion and a whole new file.
    expect(patch).toContain("rename from a.txt\nrename to y.txt\n");
    expect(patch).toContain("-5\n+five\n");
    expect(patch).not.toContain("z.txt");
    expect((await pq(tree, "pop")).code).toBe(0);
    expect(read(tree, "a.txt")).toBe(lines(20));
    expect(existsSync(join(tree, "y.txt"))).toBe(false);
    expect((await pq(tree, "push")).code).toBe(0);
    expect(read(tree, "y.txt")).toBe(lines(20).replace("5\n", "five\n"));
  });

  it("an editor's copy beside the moved file (y.txt~, .orig) is never taken as its new name, nor two equally alike files (t52)", async () => {
    const tree = await stackTree({ "a.txt": lines(20) });
    await pq(tree, "new", "mv");
    git(tree, "mv", "a.txt", "z.txt");
    expect((await pq(tree, "refresh")).code).toBe(0);
    renameSync(join(tree, "z.txt"), join(tree, "y.txt"));
    write(tree, "y.txt~", lines(20));
    write(tree, "z.txt.orig", lines(20));
    const r = await pq(tree, "refresh");
    expect(r.code).toBe(0);
    const patch = read(join(tree, "patches"), "mv");
    expect(patch).toContain("rename from a.txt\nrename to y.txt\n");
    expect(patch).not.toContain("y.txt~");
    expect(patch).not.toContain(".orig");
    // Two copies alike, neither clearly the move: no guess (the deletion is written, the files stay untracked).
    await pq(tree, "undo");
    renameSync(join(tree, "y.txt"), join(tree, "one.txt"));
    write(tree, "two.txt", lines(20));
    expect((await pq(tree, "refresh")).code).toBe(0);
    expect(read(join(tree, "patches"), "mv")).not.toMatch(/rename to (one|two)\.txt/);
  });

  it.each(["creates", "renames"])(
    "fold of a move of a file the patch below %s writes the one change they make together (t52 N13)",
    async (how) => {
      const tree = await stackTree({ "a.txt": lines(20) });
      await pq(tree, "new", "p1");
      if (how === "creates") {
        write(tree, "f.txt", lines(30));
        expect((await pq(tree, "refresh", "f.txt")).code).toBe(0);
      } else {
        git(tree, "mv", "a.txt", "f.txt");
        expect((await pq(tree, "refresh")).code).toBe(0);
      }
      await pq(tree, "new", "p2");
      renameSync(join(tree, "f.txt"), join(tree, "g.txt"));
      expect((await pq(tree, "refresh")).code).toBe(0);
      const after = read(tree, "g.txt");
      expect((await pq(tree, "pop")).code).toBe(0);
      expect((await pq(tree, "fold", "p2")).code).toBe(0);
      const p1 = read(join(tree, "patches"), "p1");
      // It wrote a rename from f.txt, which nothing below has: the next push refused the patch.
      expect(p1).not.toContain("f.txt");
      expect(p1).toContain(how === "creates" ? "diff --git a/g.txt b/g.txt\nnew file mode 100644" : "rename from a.txt\nrename to g.txt\n");
      expect((await pq(tree, "pop")).code).toBe(0);
      const push = await pq(tree, "push");
      expect(push.code, push.err).toBe(0);
      expect(read(tree, "g.txt")).toBe(after);
    },
  );

  it("a file the top patch creates, moved with mv, is the patch's new file under its new name (t52 N8: the patch was left empty)", async () => {
    const tree = await stackTree({ "a.txt": "a\n" });
    await pq(tree, "new", "make");
    write(tree, "f.txt", lines(12));
    expect((await pq(tree, "refresh", "f.txt")).code).toBe(0);
    renameSync(join(tree, "f.txt"), join(tree, "h.txt"));
    expect((await pq(tree, "refresh")).code).toBe(0);
    const patch = read(join(tree, "patches"), "make");
    expect(patch).toContain("diff --git a/h.txt b/h.txt\nnew file mode 100644");
    expect(patch).not.toContain("f.txt");
  });

  it("a renamed file moved on while another file takes its name: the rename follows it, the other is new (t52 N16)", async () => {
    const tree = await stackTree({ "r.txt": lines(30) });
    await pq(tree, "new", "mv");
    git(tree, "mv", "r.txt", "s.txt");
    expect((await pq(tree, "refresh")).code).toBe(0);
    renameSync(join(tree, "s.txt"), join(tree, "t.txt"));
    write(tree, "s.txt", "brand new s\n");
    expect((await pq(tree, "refresh")).code).toBe(0);
    const patch = read(join(tree, "patches"), "mv");
    // It kept the rename to s.txt (now another file) and left the moved t.txt out.
    expect(patch).toContain("rename from r.txt\nrename to t.txt\n");
    expect(patch).toContain("diff --git a/s.txt b/s.txt\nnew file mode 100644");
  });

  it("a push of a move of a lower patch's file that no longer fits says --merge can help, and it does (t52 N14)", async () => {
    const tree = await stackTree({ "a.txt": "a\n" });
    const c = Array.from({ length: 40 }, (_, i) => `int v${i + 1};\n`).join("");
    await pq(tree, "new", "p1");
    write(tree, "f.c", c);
    expect((await pq(tree, "refresh", "f.c")).code).toBe(0);
    await pq(tree, "new", "p2");
    renameSync(join(tree, "f.c"), join(tree, "g.c"));
    write(tree, "g.c", c.replace("int v9;", "int v9_p2;"));
    expect((await pq(tree, "refresh")).code).toBe(0);
    expect((await pq(tree, "pop")).code).toBe(0);
    write(tree, "f.c", c.replace("int v10;", "int v10_p1;"));
    expect((await pq(tree, "refresh")).code).toBe(0);
    const push = await pq(tree, "push");
    expect(push.code).toBe(6);
    // It said "git does not have the blob": the base is recorded under the file's old name.
    expect(push.err).toContain("pq push --merge tries a three-way merge");
    expect((await pq(tree, "push", "--merge")).err).not.toContain("cannot help");
  });

  it("a fold writes no rename between files less than half alike (t53 N3: a 0% rename onto a reused name)", async () => {
    const tree = await stackTree({ "a.txt": lines(30) });
    await pq(tree, "new", "p1");
    git(tree, "mv", "a.txt", "q.txt");
    expect((await pq(tree, "refresh")).code).toBe(0);
    await pq(tree, "new", "p2");
    renameSync(join(tree, "q.txt"), join(tree, "c.txt"));
    write(tree, "q.txt", "brand new q\n");
    expect((await pq(tree, "refresh", "c.txt", "q.txt")).code).toBe(0);
    expect((await pq(tree, "pop")).code).toBe(0);
    expect((await pq(tree, "fold", "p2")).code).toBe(0);
    expect(read(join(tree, "patches"), "p1")).not.toContain("rename to q.txt");
    expect((await pq(tree, "pop")).code).toBe(0);
    expect((await pq(tree, "push")).code).toBe(0);
    expect([read(tree, "c.txt"), read(tree, "q.txt")]).toEqual([lines(30), "brand new q\n"]);
  });

  it("a file a lower patch created, moved with mv in the top one, is a rename", async () => {
    const tree = await stackTree({ "a.txt": "a\n" });
    await pq(tree, "new", "make");
    write(tree, "made.txt", lines(10));
    expect((await pq(tree, "refresh", "made.txt")).code).toBe(0);
    await pq(tree, "new", "move");
    renameSync(join(tree, "made.txt"), join(tree, "moved.txt"));
    // An untracked file of another size by far is never read as a candidate (t52 N19: a 3 GB disk image made refresh and status fail).
    writeFileSync(join(tree, "disk.img"), "");
    truncateSync(join(tree, "disk.img"), 3 * 1024 ** 3);
    expect((await pq(tree, "status")).code).toBe(0);
    expect((await pq(tree, "refresh")).code).toBe(0);
    rmSync(join(tree, "disk.img"));
    expect(read(join(tree, "patches"), "move")).toContain("similarity index 100%\nrename from made.txt\nrename to moved.txt\n");
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    expect(existsSync(join(tree, "moved.txt"))).toBe(false);
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect(read(tree, "moved.txt")).toBe(lines(10));
  });
});

describe("a patch to a file outside git's sparse checkout (t99 N2)", () => {
  it("is refused as outside the checkout, with the way to widen it, not as unrefreshed changes no stash or refresh can find", async () => {
    const tree = await stackTree({ "in/i.txt": "i\n", "out/o.txt": "o\n" });
    await patchWith(tree, "p1", { "in/i.txt": "i\nI\n" });
    await patchWith(tree, "p2", { "out/o.txt": "o\nO\n" });
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    // git takes a file out of the work tree only when its index entry is known current.
    git(tree, "update-index", "-q", "--refresh");
    git(tree, "sparse-checkout", "set", "in");
    expect(existsSync(join(tree, "out/o.txt"))).toBe(false);
    const r = await pq(tree, "push", "-a");
    expect(r.code).toBe(12);
    expect(r.err).toContain("out/o.txt, which p2 changes, is outside git's sparse checkout");
    expect(r.err).toContain("git sparse-checkout add DIR");
    git(tree, "sparse-checkout", "disable");
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect(read(tree, "out/o.txt")).toBe("o\nO\n");
  });
});

describe("pq finish of patches whose changes a git stash took (t102 N7)", () => {
  it("is refused with the way back, and after git stash pop it finishes", async () => {
    const tree = await stackTree({ "a.txt": "one\n", "b.txt": "bee\n" });
    await patchWith(tree, "p1", { "a.txt": "ONE\n" });
    await patchWith(tree, "p2", { "b.txt": "BEE\n" });
    git(tree, "stash", "-q");
    const head = git(tree, "rev-parse", "HEAD");
    const r = await pq(tree, "finish", "p1");
    expect(r.code).toBe(5);
    expect(r.err).toContain("p1's changes to a.txt are gone from the tree");
    expect(r.err).toContain("git stash pop puts them back");
    expect(git(tree, "rev-parse", "HEAD")).toBe(head);
    git(tree, "stash", "pop", "-q");
    expect((await pq(tree, "finish", "p1")).code).toBe(0);
    expect(git(tree, "status", "--porcelain", "--", "a.txt")).toBe("");
    // A file the patch makes, gone (git clean -fd): refused too, and pq revert puts it back (t103 N3).
    await patchWith(tree, "p3", { "new.txt": "new\n" });
    await pq(tree, "add", "new.txt");
    await pq(tree, "refresh");
    rmSync(join(tree, "new.txt"));
    const made = await pq(tree, "finish", "-a");
    expect(made.code).toBe(5);
    expect(made.err).toContain("p3's changes to new.txt are gone from the tree");
    expect((await pq(tree, "revert", "new.txt")).code).toBe(0);
    expect((await pq(tree, "finish", "-a")).code).toBe(0);
    expect(git(tree, "status", "--porcelain", "--", "new.txt")).toBe("");
  });
});

describe("git's conflicts in the tree: a git stash pop that stopped (t102 N3)", () => {
  it("status names the unmerged file, and a refresh refuses git's markers, in the index or not, unless --force", async () => {
    const tree = await stackTree({ "a.txt": "one\ntwo\n" });
    await patchWith(tree, "p1", { "a.txt": "ONE\ntwo\n" });
    git(tree, "stash", "-q");
    write(tree, "a.txt", "uno\ntwo\n");
    git(tree, "commit", "-qam", "upstream");
    expect(() => git(tree, "stash", "pop", "-q")).toThrow();
    expect(read(tree, "a.txt")).toMatch(/^<<<<<<< Updated upstream\n/);
    expect((await pq(tree, "status")).out).toContain("unresolved conflicts in git's index: a.txt");
    // pq diff shows what a refresh would take, markers and all, as git diff does.
    expect((await pq(tree, "diff")).out).toContain("+<<<<<<< Updated upstream");
    const unmerged = await pq(tree, "refresh");
    expect(unmerged.code).toBe(6);
    expect(unmerged.err).toContain("a.txt has unresolved conflicts in git's index");
    // A mixed reset clears git's record of the conflict; the markers are still in the file.
    git(tree, "reset", "-q");
    const marked = await pq(tree, "refresh");
    expect(marked.code).toBe(6);
    expect(marked.err).toContain("a.txt holds conflict markers (<<<<<<< ======= >>>>>>>) that p1 does not have yet");
    expect(read(join(tree, "patches"), "p1")).not.toContain("<<<<<<<");
    expect((await pq(tree, "refresh", "--force")).code).toBe(0);
    expect(read(join(tree, "patches"), "p1")).toContain("+<<<<<<< Updated upstream");
  });
});

describe("git clean -fdx (t102 N5)", () => {
  it("leaves .pq/ alone, so pq restore-queue writes the untracked queue back, unapplied patches too; git add -A and git status do not see .pq", async () => {
    const tree = await stackTree({ "a.txt": "one\n", "b.txt": "bee\n" });
    await patchWith(tree, "p1", { "a.txt": "ONE\n" });
    await patchWith(tree, "p2", { "b.txt": "BEE\n" });
    const queue = { p1: read(join(tree, "patches"), "p1"), p2: read(join(tree, "patches"), "p2"), series: "p1\np2\n" };
    expect((await pq(tree, "pop")).code).toBe(0);
    expect(git(tree, "status", "--porcelain")).toBe(" M a.txt\n?? patches/\n");
    git(tree, "clean", "-fdxq");
    expect(existsSync(join(tree, "patches"))).toBe(false);
    expect(existsSync(join(tree, ".pq", "state.json"))).toBe(true);
    expect((await pq(tree, "restore-queue")).code).toBe(0);
    for (const [name, text] of Object.entries(queue)) expect(read(join(tree, "patches"), name)).toBe(text);
    expect((await pq(tree, "push")).code).toBe(0);
    git(tree, "add", "-A");
    expect(git(tree, "status", "--porcelain")).toBe("M  a.txt\nM  b.txt\nA  patches/p1\nA  patches/p2\nA  patches/series\n");
  });

  it("a killed restore-queue's or init's temporary files are swept by the next one (t110 N1)", async () => {
    const tree = await stackTree({ "a.txt": "one\n" });
    await patchWith(tree, "p1", { "a.txt": "ONE\n" });
    git(tree, "clean", "-fdxq");
    const gone = spawnSync("true").pid!;
    write(tree, `patches/p1.tmp-${gone}`, "half");
    write(tree, `patches/series.tmp-${gone}`, "half");
    write(tree, "patches/notes.txt.tmp-1", "not pq's: kept");
    expect((await pq(tree, "restore-queue")).code).toBe(0);
    expect(readdirSync(join(tree, "patches")).sort()).toEqual(["notes.txt.tmp-1", "p1", "series"]);
    const other = makeRepo({ "b.txt": "b\n" });
    dirs.push(other);
    write(other, `patches/series.tmp-${gone}`, "half");
    expect((await pq(other, "init")).code).toBe(0);
    expect(readdirSync(join(other, "patches"))).toEqual(["series"]);
  });

  it("where .git/info/exclude cannot be written, pq init says .pq/ is not kept from it, and leaves no marker (t103 N4)", async () => {
    const repo = makeRepo({ "a.txt": "a\n" });
    dirs.push(repo);
    rmSync(join(repo, ".git", "info", "exclude"), { force: true });
    mkdirSync(join(repo, ".git", "info", "exclude"), { recursive: true });
    const r = await pq(repo, "init");
    expect(r.code).toBe(0);
    expect(r.out).toContain("note: .git/info/exclude could not be written, so pq's .pq/ is not kept from git clean -fdx");
    expect(existsSync(join(repo, ".pq", ".git"))).toBe(false);
  });

  it("with two queues, restore-queue writes back each queue's own files only (t103 N2)", async () => {
    const tree = await stackTree({ "f.c": "a\n", "g.c": "x\n" });
    await patchWith(tree, "a1", { "f.c": "a\nc\n" });
    expect((await pq(tree, "new", "a2")).code).toBe(0);
    expect((await pq(tree, "guard", "a2", "+exp")).code).toBe(0);
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    expect((await pq(tree, "queue", "create", "q2")).code).toBe(0);
    expect((await pq(tree, "queue", "switch", "q2")).code).toBe(0);
    await patchWith(tree, "b1", { "g.c": "x\nz\n" });
    const first = read(join(tree, "patches"), "series");
    git(tree, "clean", "-fdxq");
    expect((await pq(tree, "restore-queue")).code).toBe(0);
    expect(readdirSync(join(tree, "patches-q2")).sort()).toEqual(["b1", "series"]);
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    expect((await pq(tree, "queue", "switch", "patches")).code).toBe(0);
    expect((await pq(tree, "restore-queue")).code).toBe(0);
    expect(read(join(tree, "patches"), "series")).toBe(first);
    expect(readdirSync(join(tree, "patches")).sort()).toEqual(["a1", "a2", "series"]);
  });

  it("after queue delete --purge and a new queue in the same directory, restore-queue writes back the new queue's files only (t105 N3)", async () => {
    const tree = await stackTree({ "f.c": "a\n", "g.c": "x\n" });
    expect((await pq(tree, "queue", "create", "q2")).code).toBe(0);
    expect((await pq(tree, "queue", "switch", "q2")).code).toBe(0);
    await patchWith(tree, "old1", { "g.c": "x\ny\n" });
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    expect((await pq(tree, "queue", "switch", "patches")).code).toBe(0);
    expect((await pq(tree, "queue", "delete", "--purge", "q2")).code).toBe(0);
    expect((await pq(tree, "queue", "create", "q2")).code).toBe(0);
    expect((await pq(tree, "queue", "switch", "q2")).code).toBe(0);
    await patchWith(tree, "new1", { "f.c": "a\nb\n" });
    git(tree, "clean", "-fdxq");
    const r = await pq(tree, "restore-queue");
    expect(r.code).toBe(0);
    expect(readdirSync(join(tree, "patches-q2")).sort()).toEqual(["new1", "series"]);
    expect(read(join(tree, "patches-q2"), "series")).toBe("new1\n");
  });

  it("in a tree below the repository's top, and for a stack made before the guard (put in place at the next command)", async () => {
    const repo = makeRepo({ "sub/a.txt": "one\n" });
    dirs.push(repo);
    const tree = join(repo, "sub");
    expect((await pq(tree, "init")).code).toBe(0);
    expect(read(repo, ".git/info/exclude")).toContain("\n.pq/\n");
    // As an older pq left it: no guard, no line.
    rmSync(join(tree, ".pq", ".git"), { recursive: true });
    write(repo, ".git/info/exclude", "");
    await patchWith(tree, "p1", { "a.txt": "ONE\n" });
    expect(existsSync(join(tree, ".pq", ".git", "HEAD"))).toBe(true);
    expect(read(repo, ".git/info/exclude")).toContain(".pq/\n");
    // The tree moved inside the repository, its line gone: the next command puts it back, and
    // git add -A passes .pq by (t103 N1).
    expect((await pq(tree, "pop")).code).toBe(0);
    git(repo, "mv", "sub", "lib");
    git(repo, "commit", "-qm", "moved");
    const moved = join(repo, "lib");
    write(repo, ".git/info/exclude", "");
    expect((await pq(moved, "status")).code).toBe(0);
    git(repo, "add", "-A");
    expect(git(repo, "diff", "--cached", "--name-only")).toBe("lib/patches/p1\nlib/patches/series\n");
    git(repo, "reset", "-q");
    git(repo, "clean", "-fdxq");
    expect((await pq(moved, "restore-queue")).code).toBe(0);
    expect((await pq(moved, "push")).code).toBe(0);
    expect(read(moved, "a.txt")).toBe("ONE\n");
  });
});

describe("git reset --hard HEAD~1 of a commit below the applied stack (t102 N2)", () => {
  it("is said as HEAD moved back, with a way out that works, not as a root commit taken over from quilt", async () => {
    const tree = await stackTree({ "a.txt": "one\n", "b.txt": "bee\n" });
    write(tree, "b.txt", "bee\nextra\n");
    git(tree, "commit", "-qam", "second");
    const base = git(tree, "rev-parse", "HEAD").trim();
    await patchWith(tree, "p1", { "a.txt": "ONE\n" });
    await patchWith(tree, "p2", { "b.txt": "BEE\nextra\n", "new.txt": "new\n" });
    await pq(tree, "add", "new.txt");
    await pq(tree, "refresh");
    git(tree, "reset", "-q", "--hard", "HEAD~1");
    const status = (await pq(tree, "status")).out;
    expect(status).toContain(`HEAD moved back from ${base.slice(0, 12)}, the commit they were pushed on`);
    expect(status).toContain(`git reset --keep ${base.slice(0, 12)} puts HEAD and the tree back there`);
    expect(status).toContain("once HEAD is back on the commit they were pushed on (above), pq pop -a");
    const pop = await pq(tree, "pop", "-a", "--force");
    expect(pop.code).toBe(12);
    expect(pop.err).toContain(`HEAD moved back from ${base.slice(0, 12)}`);
    expect(pop.err).not.toContain("quilt");
    // The way out it gives.
    git(tree, "reset", "-q", "--keep", base);
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect(read(tree, "b.txt")).toBe("BEE\nextra\n");
    expect(read(tree, "a.txt")).toBe("ONE\n");
    // The other way out: the commit dropped from under the patches, followed word for word (t105 N1).
    git(tree, "reset", "-q", "--hard", "HEAD~1");
    const older = git(tree, "rev-parse", "HEAD").trim();
    const drop = (await pq(tree, "status")).out;
    expect(drop).toContain(
      `to drop those commits from under the patches instead: git reset --keep ${base.slice(0, 12)}, pq pop -a (--force if it refuses over your edits: they are backed up), git status (it refreshes git's index, which --keep checks), git reset --keep ${older.slice(0, 12)}, then pq push -a`,
    );
    git(tree, "reset", "-q", "--keep", base);
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    git(tree, "status", "--short");
    git(tree, "reset", "-q", "--keep", older);
    const pushed = await pq(tree, "push", "-a");
    expect(pushed.code, pushed.err).toBe(0);
    expect(read(tree, "b.txt")).toBe("BEE\n");
    expect(read(tree, "a.txt")).toBe("ONE\n");
  });
});

describe("git rebase -i that drops a commit below the applied stack (t102 N4)", () => {
  // Far from the patches' lines, and next to them (t107 N1: git apply -R had needed that context).
  for (const [where, at] of [
    ["apart from the patches' lines", 12],
    ["two lines from a patch's line", 3],
  ] as const)
    it(`is given a way out that keeps the rebase, which works word for word: the dropped lines ${where}`, async () => {
      const bees = lines(12);
      const tree = await stackTree({ "a.txt": "one\n", "b.txt": bees });
      const dropped = bees.replace(`${at}\n`, `${at}\nextra\n`);
      write(tree, "b.txt", dropped);
      git(tree, "commit", "-qam", "second");
      write(tree, "a.txt", "one\nmore\n");
      git(tree, "commit", "-qam", "third");
      await patchWith(tree, "p1", { "b.txt": dropped.replace("1\n", "ONE\n") });
      await patchWith(tree, "p2", { "a.txt": "ONE\nmore\n" });
      const base = git(tree, "rev-parse", "HEAD").trim().slice(0, 12);
      execFileSync("git", ["rebase", "-q", "-i", "--autostash", "HEAD~2"], {
        cwd: tree,
        env: { ...process.env, GIT_SEQUENCE_EDITOR: "sed -i '1s/^pick/drop/'", GIT_EDITOR: "true" },
        stdio: "ignore",
      });
      const head = git(tree, "rev-parse", "HEAD").trim().slice(0, 12);
      const out = (await pq(tree, "status")).out;
      expect(out).toContain(
        `to carry them onto ${head}: git stash (the tree's changes, the patches' among them), git reset --keep ${base}, git stash pop (stopped on a conflict: resolve it, git reset -q to clear git's conflict record and stage nothing, git stash drop, and go on), pq pop -a (--force if it refuses over your edits: they are backed up), git status (it refreshes git's index, which --keep checks), git reset --keep ${head}, then pq push -a`,
      );
      git(tree, "stash", "-q");
      git(tree, "reset", "-q", "--keep", base);
      git(tree, "stash", "pop", "-q");
      expect((await pq(tree, "pop", "-a")).code).toBe(0);
      git(tree, "status", "--short");
      git(tree, "reset", "-q", "--keep", head);
      expect((await pq(tree, "push", "-a")).code).toBe(0);
      expect(read(tree, "b.txt")).toBe(bees.replace("1\n", "ONE\n"));
      expect(read(tree, "a.txt")).toBe("ONE\nmore\n");
      expect((await pq(tree, "status")).out).not.toContain("HEAD");
    });
});

describe("a push of a patch whose changes are already in the tree (t102 N6)", () => {
  it("says so, with pq delete, instead of --force and --merge, which would only empty it", async () => {
    const tree = await stackTree({ "a.txt": "one\ntwo\nthree\n" });
    await patchWith(tree, "p1", { "a.txt": "ONE\ntwo\nthree\n" });
    const mbox = join(tree, "..", `${basename(tree)}.mbox`);
    dirs.push(mbox);
    expect((await pq(tree, "export", "--mbox", mbox)).code).toBe(0);
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    git(tree, "am", "-q", mbox);
    const r = await pq(tree, "push");
    expect(r.code).toBe(6);
    expect(r.err).toContain("p1's changes are already in the tree (it applies in reverse");
    expect(r.err).toContain("pq delete p1 drops it from the queue");
    expect(r.err).not.toContain("pq push --force");
    // One that makes a file, committed so by git am: not "remove it" (t109 N5).
    expect((await pq(tree, "delete", "p1")).code).toBe(0);
    await patchWith(tree, "p2", { "new.txt": "new\n" });
    await pq(tree, "add", "new.txt");
    await pq(tree, "refresh");
    expect((await pq(tree, "export", "--mbox", mbox, "--force")).code).toBe(0);
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    git(tree, "am", "-q", mbox);
    const made = await pq(tree, "push");
    expect(made.code).toBe(6);
    expect(made.err).toContain("p2's changes are already in the tree");
    expect(made.err).not.toContain("remove it (or git rm it)");
  });
});

describe("push, pop and fold over the patches' changes gone from the tree (t102 N1)", () => {
  it("say the changes are gone and how to put them back, not pq refresh, which refuses then", async () => {
    const tree = await stackTree({ "a.txt": lines(30), "b.txt": lines(10) });
    const p1 = lines(30).replace("3\n", "three\n");
    await patchWith(tree, "p1", { "a.txt": p1 });
    await patchWith(tree, "p2", { "b.txt": lines(10).replace("2\n", "two\n") });
    await patchWith(tree, "p3", { "a.txt": p1.replace("25\n", "twenty-five\n") });
    // The pop of p3 would put back p1's a.txt over the stashed-away one.
    git(tree, "stash", "-q");
    const pop = await pq(tree, "pop");
    expect(pop.code).toBe(5);
    expect(pop.err).toContain("the applied patches' changes to a.txt are gone from the tree, each as it was below the stack");
    expect(pop.err).toContain("the pop would take that for an edit");
    expect(pop.err).not.toContain("pq refresh");
    git(tree, "stash", "pop", "-q");
    expect((await pq(tree, "pop")).code).toBe(0);
    git(tree, "stash", "-q");
    const push = await pq(tree, "push");
    expect(push.code).toBe(5);
    expect(push.err).toContain("after git stash, git stash pop puts them back; else pq revert a.txt does");
    expect(push.err).not.toContain("pq refresh");
    git(tree, "stash", "pop", "-q");
    git(tree, "checkout", "--", "a.txt");
    const fold = await pq(tree, "fold", "p3");
    expect(fold.code).toBe(5);
    expect(fold.err).toContain("the applied patches' changes to a.txt are gone from the tree");
    expect((await pq(tree, "revert", "a.txt")).code).toBe(0);
    expect((await pq(tree, "push")).code).toBe(0);
    expect(read(tree, "a.txt")).toBe(p1.replace("25\n", "twenty-five\n"));
  });
});

describe("the forced pop a refusal names (t119 N2)", () => {
  it("is the pop that was refused: -a for pop -a, the target for goto, not the top patch alone", async () => {
    const tree = await stackTree({ "a.txt": "a\n", "b.txt": "b\n" });
    await patchWith(tree, "p1", { "a.txt": "A\n" });
    await patchWith(tree, "p2", { "b.txt": "B\n" });
    write(tree, "a.txt", "A\nmine\n");
    const all = await pq(tree, "pop", "-a");
    expect(all.code).toBe(5);
    expect(all.err).toContain("or pq pop --force -a to pop anyway");
    const goto = await pq(tree, "goto", "0");
    expect(goto.err).toContain("or pq pop --force -a to pop anyway");
    expect((await pq(tree, "pop", "--force", "-a")).code).toBe(0);
    expect((await pq(tree, "applied")).out).toBe("");
  });
});

describe("pq reorder NAME --before NAME (t122 N7)", () => {
  it("is refused as --after NAME is, with patches applied or not, and the series stays", async () => {
    const tree = await stackTree({ "a.txt": "a\n" });
    for (const n of ["a", "b", "c"]) expect((await pq(tree, "new", n, "-m", n)).code).toBe(0);
    expect((await pq(tree, "goto", "a")).code).toBe(0);
    for (const applied of [true, false]) {
      if (!applied) expect((await pq(tree, "pop", "-a")).code).toBe(0);
      for (const where of ["--before", "--after"]) {
        const r = await pq(tree, "reorder", "c", where, "c");
        expect([r.code, r.err.split("\n")[0]]).toEqual([2, "pq: cannot move c relative to itself"]);
      }
      expect((await pq(tree, "series")).out).toBe("a\nb\nc\n");
    }
  });
});

describe("pq reorder over applied patches (t130 N2)", () => {
  it("names the goto that makes the move possible, followed word for word, for a move up and a move down", async () => {
    const tree = await stackTree({ "a.txt": "a\n" });
    for (const n of ["p1", "p2", "p3", "p4"]) expect((await pq(tree, "new", n, "-m", n)).code).toBe(0);
    // p4 applied (the top), moved before p2: the goto must go below p2.
    const up = await pq(tree, "reorder", "p4", "--before", "p2");
    expect([up.code, up.err]).toEqual([12, expect.stringContaining("pq goto p1, then pq reorder p4 --before p2")]);
    expect((await pq(tree, "goto", "p1")).code).toBe(0);
    expect((await pq(tree, "reorder", "p4", "--before", "p2")).code).toBe(0);
    expect((await pq(tree, "series")).out).toBe("p1\np4\np2\np3\n");
    // Unapplied, moved below the top: the goto that takes the top down far enough.
    expect((await pq(tree, "goto", "p2")).code).toBe(0);
    const down = await pq(tree, "reorder", "p3", "--first");
    expect(down.code).toBe(12);
    const below = await pq(tree, "reorder", "p3", "--before", "p4");
    expect([below.code, below.err]).toEqual([12, expect.stringContaining("pq goto p1, then pq reorder p3 --before p4")]);
    expect((await pq(tree, "goto", "p1")).code).toBe(0);
    expect((await pq(tree, "reorder", "p3", "--before", "p4")).code).toBe(0);
    expect((await pq(tree, "series")).out).toBe("p1\np3\np4\np2\n");
    // Where it already is, said so first, applied or not (t133 N8).
    expect((await pq(tree, "goto", "p4")).code).toBe(0);
    const there = await pq(tree, "reorder", "p3", "--after", "p1");
    expect([there.code, there.err]).toEqual([12, expect.stringContaining("p3 is already there; nothing was moved")]);
    // --first of an applied patch: popped below it, it is the next to push already (t134 N2).
    const first = await pq(tree, "reorder", "p3", "--first");
    expect([first.code, first.err]).toEqual([12, expect.stringContaining("pq goto p1 makes p3 the next patch to push")]);
    expect((await pq(tree, "goto", "p1")).code).toBe(0);
    expect((await pq(tree, "next")).out.trim()).toBe("p3");
  });
});

describe("pq fold of an applied patch (t122 N3)", () => {
  it("names ways that work word for word, and refuses the top patch itself as usage", async () => {
    const tree = await stackTree({ "f.txt": lines(10) });
    for (const [n, from, to] of [
      ["p1", "2\n", "two\n"],
      ["p2", "9\n", "nine\n"],
    ]) {
      expect((await pq(tree, "new", n, "-m", n)).code).toBe(0);
      write(tree, "f.txt", read(tree, "f.txt").replace(from, to));
      expect((await pq(tree, "refresh")).code).toBe(0);
    }
    const self = await pq(tree, "fold", "p2");
    expect([self.code, self.err.split("\n")[0]]).toEqual([2, "pq: p2 is the top patch, which a fold takes other patches into"]);
    const r = await pq(tree, "fold", "p1");
    expect(r.code).toBe(12);
    const way = /to fold p1 into p2: (.*) \(where p2 applies without p1\)/.exec(r.err)?.[1];
    expect(way).toBe("pq pop -a, pq push --move p2, then pq fold p1");
    for (const command of way!.replace(", then ", ", ").split(", "))
      expect((await pq(tree, ...command.split(" ").slice(1))).code, command).toBe(0);
    expect((await pq(tree, "series")).out).toBe("p2\n");
    expect(read(tree, "f.txt")).toBe(lines(10).replace("2\n", "two\n").replace("9\n", "nine\n"));
    expect(read(join(tree, "patches"), "p2")).toMatch(/\+two\n[\s\S]*\+nine\n/);
  });
});

describe("pq guard -- NAME of a patch whose name starts with a dash (t125 N13)", () => {
  it("is that patch, as pq's advice names it, not a guard set on the top patch; a guard after -- still is one", async () => {
    const tree = await stackTree({ "a.txt": "a\n" });
    expect((await pq(tree, "new", "low")).code).toBe(0);
    expect((await pq(tree, "new", "--", "-g")).code).toBe(0);
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    expect((await pq(tree, "guard", "--", "-g", "+xen")).out).toBe("-g: +xen\n");
    expect((await pq(tree, "guard", "--", "-g")).out).toBe("-g: +xen\n");
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect((await pq(tree, "guard", "low", "--", "-native")).out).toBe("low: -native\n");
    // With no patch of that name, the word is a guard on the top patch, as in hg.
    expect((await pq(tree, "guard", "--", "-other")).out).toBe("low: -other\n");
  });
});

describe("the top patch's changes gone with a file it made (t125 N15)", () => {
  it("a git checkout with a git clean -fd is refused by refresh as a reset is, and pop and push put it all back", async () => {
    const tree = await stackTree({ a: "a\n" });
    expect((await pq(tree, "new", "p1")).code).toBe(0);
    write(tree, "a", "a\n1\n");
    write(tree, "newf", "n\n");
    expect((await pq(tree, "add", "newf")).code).toBe(0);
    expect((await pq(tree, "refresh")).code).toBe(0);
    const before = read(join(tree, "patches"), "p1");
    git(tree, "checkout", "--", "a");
    git(tree, "clean", "-fdq", "-e", "patches");
    // Naming the made file alone is refused too (t126 N2: it was taken out of the patch).
    for (const args of [["refresh"], ["refresh", "a", "newf"], ["refresh", "newf"]]) {
      const r = await pq(tree, ...args);
      expect([r.code, r.err.split("\n")[0]], args.join(" ")).toEqual([
        5,
        expect.stringContaining("p1's changes to a, newf are all gone from the tree"),
      ]);
      expect(read(join(tree, "patches"), "p1")).toBe(before);
    }
    expect((await pq(tree, "pop")).code).toBe(0);
    expect((await pq(tree, "push")).code).toBe(0);
    expect([read(tree, "a"), read(tree, "newf")]).toEqual(["a\n1\n", "n\n"]);
    // A file it made, deleted alone, is a deletion the refresh takes.
    rmSync(join(tree, "newf"));
    expect((await pq(tree, "refresh")).code).toBe(0);
    expect(read(join(tree, "patches"), "p1")).not.toContain("newf");
  });
});

describe("options after -- (t125 N16)", () => {
  it("are said to be names there, and a word that holds an option's letter is echoed as typed", async () => {
    const tree = await stackTree({ "a.txt": "a\n" });
    const r = await pq(tree, "new", "--", "-dash", "-m", "d");
    expect(r.code).toBe(2);
    expect(r.err).toContain("pq: Unknown arguments: -m, d\n");
    expect(r.err).toContain("every word after -- is a name: options go before it (pq new -m MSG -- -fix)");
    expect((await pq(tree, "new", "-m", "d", "--", "-dash")).code).toBe(0);
  });
});

describe("fold of a DEP-3 patch into another (t125 N14)", () => {
  it("keeps the folded patch's DEP-3 fields as fields, not lines of the Description", async () => {
    const tree = await stackTree({ a: "a\n", b: "b\n" });
    const d4 = besideTree(tree, "d4", ".patch");
    const d5 = besideTree(tree, "d5", ".patch");
    writeFileSync(d4, "Description: first thing\nAuthor: Ann <ann@example.org>\n\n--- a/a\n+++ b/a\n@@ -1 +1,2 @@\n a\n+1\n");
    writeFileSync(
      d5,
      "Description: second thing\nAuthor: Bob <bob@example.org>\nOrigin: upstream, http://example.org/2\nForwarded: not-needed\n\n--- a/b\n+++ b/b\n@@ -1 +1,2 @@\n b\n+2\n",
    );
    expect((await pq(tree, "import", "-n", "d5.patch", d5)).code).toBe(0);
    expect((await pq(tree, "import", "-n", "d4.patch", d4, "--push")).code).toBe(0);
    expect((await pq(tree, "fold", "d5.patch")).code).toBe(0);
    const header = read(join(tree, "patches"), "d4.patch").split("\n\n")[0];
    expect(header).toBe(
      "Description: first thing\n second thing\n .\n Co-developed-by: Bob <bob@example.org>\nAuthor: Ann <ann@example.org>\nOrigin: upstream, http://example.org/2\nForwarded: not-needed",
    );
  });
});
