import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PqError } from "../../src/errors.js";
import { Stack } from "../../src/queue/stack.js";
import { processAlive } from "../../src/tree/lock.js";
import { cleanup, git, makeRepo, pq, read, snapshot, tempDir, write, expectPqError } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

function repo(files: Record<string, string>): string {
  const d = makeRepo(files);
  dirs.push(d);
  return d;
}

const lines = (n: number, tag = "line") => Array.from({ length: n }, (_, i) => `${tag} ${i + 1}\n`).join("");


describe("stack basics", () => {
  it("new, edit, refresh, pop, push round-trips bytes exactly", async () => {
    const dir = repo({ "a.c": lines(20), "crlf.txt": "one\r\ntwo\r\nthree\r\n" });
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("first", { message: "First change\n\nWhy it matters." });
    write(dir, "a.c", lines(20).replace("line 5\n", "line five\n"));
    write(dir, "crlf.txt", "one\r\n2\r\nthree\r\n");
    const refreshed = await stack.refresh();
    expect(refreshed.files).toEqual(["a.c", "crlf.txt"]);
    const after = snapshot(dir);
    const text = read(join(dir, "patches"), "first");
    expect(text).toContain("Subject: First change");
    expect(text).toContain("diff --git a/a.c b/a.c");
    expect(text).toContain("+2\r\n");

    const popped = await stack.pop();
    expect(popped.popped).toEqual(["first"]);
    expect(read(dir, "a.c")).toBe(lines(20));
    expect(read(dir, "crlf.txt")).toBe("one\r\ntwo\r\nthree\r\n");
    const pushed = await stack.push();
    expect(pushed.pushed.map((p) => p.name)).toEqual(["first"]);
    expect(snapshot(dir)).toEqual(after);
    // The patch pq wrote is one real git accepts.
    await stack.pop();
    git(dir, "apply", "--check", join(dir, "patches", "first"));
  });

  it("a push reused from the cache reports the offsets the first one found", async () => {
    const dir = repo({ "a.c": lines(30) });
    const stack = await Stack.init({ tree: dir });
    // A patch written for a file two lines shorter at the top: it applies 2 lines further down.
    write(join(dir, "patches"), "moved.patch", "--- a/a.c\n+++ b/a.c\n@@ -8,3 +8,3 @@\n line 10\n-line 11\n+line eleven\n line 12\n");
    write(join(dir, "patches"), "series", "moved.patch\n");
    const first = await stack.push();
    expect(first.pushed[0]).toMatchObject({ cached: false, notes: ["a.c: Hunk #1 succeeded at 10 (offset 2 lines)."] });
    await stack.pop();
    const again = await stack.push();
    expect(again.pushed[0]).toMatchObject({ cached: true, notes: ["a.c: Hunk #1 succeeded at 10 (offset 2 lines)."] });
  });

  it("creates, deletes and renames files, and restores them on pop", async () => {
    const dir = repo({ "old.txt": "old\n", "gone.txt": "bye\n", "keep.txt": "k\n" });
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("files");
    write(dir, "new.txt", "fresh\n");
    git(dir, "rm", "-q", "gone.txt");
    await stack.add(["new.txt"]);
    await stack.refresh();
    const text = read(join(dir, "patches"), "files");
    expect(text).toContain("new file mode 100644");
    expect(text).toContain("deleted file mode 100644");
    await stack.pop();
    expect(existsSync(join(dir, "new.txt"))).toBe(false);
    expect(read(dir, "gone.txt")).toBe("bye\n");
    await stack.push();
    expect(read(dir, "new.txt")).toBe("fresh\n");
    expect(existsSync(join(dir, "gone.txt"))).toBe(false);
  });

  it("pop removes the directories it empties and keeps those that still hold a file (one it writes, or an untracked one)", async () => {
    const dir = repo({ "src/old.c": "old\n", "keep/a.c": "a\n" });
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("dirs");
    write(dir, "new/deep/er/n.c", "new\n"); // a directory chain only this patch makes
    write(dir, "src/made.c", "made\n"); // beside a file the patch changes
    write(dir, "src/old.c", "changed\n");
    write(dir, "keep/sub/k.c", "k\n"); // keep/sub will also hold an untracked file
    await stack.refresh({ files: ["new/deep/er/n.c", "src/made.c", "src/old.c", "keep/sub/k.c"] });
    await stack.pop();
    write(dir, "keep/sub/untracked.txt", "mine\n");
    await stack.push();
    await stack.pop();
    expect(existsSync(join(dir, "new"))).toBe(false);
    expect(existsSync(join(dir, "src/made.c"))).toBe(false);
    expect(read(dir, "src/old.c")).toBe("old\n");
    expect(existsSync(join(dir, "keep/sub/k.c"))).toBe(false);
    expect(read(dir, "keep/sub/untracked.txt")).toBe("mine\n");
    expect(read(dir, "keep/a.c")).toBe("a\n");
    expect(git(dir, "status", "--porcelain")).toBe("?? keep/sub/\n?? patches/\n");
  });

  it("refresh refuses a file made where the base has a directory, and a directory made where it has a file, changing nothing (no patch pq could not apply again)", async () => {
    const dir = repo({ "d/inside.c": "in a directory\n", "f": "a file\n" });
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("swap");
    const empty = read(join(dir, "patches"), "swap");
    git(dir, "rm", "-q", "d/inside.c");
    write(dir, "d", "now a file\n");
    const toFile = await expectPqError(stack.refresh({ files: ["d"] }), "unsupported");
    expect(toFile.message).toBe("d is made where the directory of d/inside.c was: pq's patches do not turn a directory into a file (such a patch could not be applied again); nothing was changed");
    expect(read(join(dir, "patches"), "swap")).toBe(empty);
    rmSync(join(dir, "d"));
    git(dir, "checkout", "-q", "HEAD", "--", "d");
    git(dir, "rm", "-q", "f");
    write(dir, "f/in.c", "now a directory\n");
    const toDirectory = await expectPqError(stack.refresh({ files: ["f/in.c"] }), "unsupported");
    expect(toDirectory.message).toContain("f/in.c is made in f, a directory where the tree below this patch has a file: pq's patches do not turn a file into a directory");
    expect(read(join(dir, "patches"), "swap")).toBe(empty);
  });

  it("refresh refuses a file made where HEAD has a submodule, changing nothing (verify-16 F9: a patch no clone could push)", async () => {
    const sub = repo({ "s.txt": "s\n" });
    const dir = repo({ "a.c": "a\n" });
    git(dir, "-c", "protocol.file.allow=always", "submodule", "add", "-q", sub, "sub");
    git(dir, "commit", "-qm", "a submodule");
    expect((await pq(dir, "init")).code).toBe(0);
    expect((await pq(dir, "new", "p1")).code).toBe(0);
    const empty = read(join(dir, "patches"), "p1");
    rmSync(join(dir, "sub"), { recursive: true, force: true });
    write(dir, "sub", "now a file\n");
    write(dir, "a.c", "a2\n");
    const r = await pq(dir, "refresh", "sub", "a.c");
    expect([r.code, r.err]).toEqual([7, expect.stringContaining("sub is made where HEAD has a submodule: pq's patches do not turn a submodule into a file")]);
    expect(read(join(dir, "patches"), "p1")).toBe(empty);
  });

  it("status reports a tracked directory replaced by a file (verify-14 F9: it stopped on ENOTDIR, exit 14)", async () => {
    const dir = repo({ "a.c": "a\n", "d/f.txt": "f\n" });
    expect((await pq(dir, "init")).code).toBe(0);
    expect((await pq(dir, "new", "p1")).code).toBe(0);
    write(dir, "a.c", "a2\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    rmSync(join(dir, "d"), { recursive: true });
    write(dir, "d", "now a file\n");
    const status = await pq(dir, "status");
    expect([status.code, status.err]).toEqual([0, ""]);
    expect(status.out).toContain("unrefreshed changes: d/f.txt");
    // The path it lists can be named (verify-16 G4: each of these stopped on ENOTDIR, exit 14).
    for (const args of [["diff", "d/f.txt"], ["diff", "-z", "d/f.txt"], ["add", "d/f.txt"], ["patches", "d/f.txt"]]) {
      const r = await pq(dir, ...args);
      expect([args.join(" "), r.code]).toEqual([args.join(" "), 0]);
      expect(r.err).not.toContain("not a directory");
    }
    // Reverting the deletion would need d back as a directory: said so, nothing changed.
    const revert = await pq(dir, "revert", "d/f.txt");
    expect([revert.code, revert.err]).toEqual([5, expect.stringContaining("d is a file, and revert d/f.txt would create d/f.txt inside it")]);
    // pq add took d/f.txt into p1, whose deletion is unrefreshed: pop refuses as over any unrefreshed change.
    const pop = await pq(dir, "pop");
    expect([pop.code, pop.err]).toEqual([5, expect.stringContaining("unrefreshed changes in 1 file(s) that the patches to pop touch: d/f.txt")]);
  });

  it("refresh FILE refuses a file that is neither in the tree nor below the patch (a patch name, quilt's habit), changing nothing", async () => {
    const dir = repo({ "a.txt": "a\n" });
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("one.patch");
    write(dir, "a.txt", "A\n");
    await stack.refresh();
    await stack.newPatch("two.patch");
    write(dir, "a.txt", "AA\n");
    const queueBefore = read(join(dir, "patches"), "two.patch");
    const stateBefore = read(dir, ".pq/state.json");
    for (const name of ["one.patch", "missing.c"]) {
      const e = await stack.refresh({ files: [name] }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(PqError);
      expect((e as PqError).code).toBe("not-found");
      expect((e as PqError).message).toContain(`${name}: no such file in the tree`);
      if (name === "one.patch") expect((e as PqError).details.join("\n")).toContain("pq goto one.patch, then pq refresh");
    }
    expect(read(join(dir, "patches"), "two.patch")).toBe(queueBefore);
    expect(read(dir, ".pq/state.json")).toBe(stateBefore);
    // A file deleted from the tree that exists below is a deletion to take; a file pq add named first is taken,
    // and named alone it is taken alone: a.txt's edit stays unrefreshed (as hg's qrefresh FILES and git commit FILES).
    await stack.add(["later.c"]);
    expect(await stack.refresh({ files: ["later.c"] })).toMatchObject({ files: ["later.c"], notTaken: ["a.txt"] });
    rmSync(join(dir, "a.txt"));
    expect((await stack.refresh({ files: ["a.txt"] })).files).toContain("a.txt");
  });

  it("refresh takes edits to files a lower patch created (untracked in git)", async () => {
    const dir = repo({ "a.txt": "a\n" });
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("creates");
    write(dir, "new.h", "v1\n");
    await stack.refresh({ files: ["new.h"] });
    await stack.newPatch("edits");
    write(dir, "new.h", "v2\n");
    expect((await stack.refresh()).files).toEqual(["new.h"]);
    await stack.pop();
    expect(read(dir, "new.h")).toBe("v1\n");
  });

  it("refresh reports untracked files it did not take, and add takes them", async () => {
    const dir = repo({ "a.txt": "a\n" });
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("p");
    write(dir, "stray.txt", "x\n");
    const r = await stack.refresh();
    expect(r.files).toEqual([]);
    expect(r.untracked).toContain("stray.txt");
    await stack.add(["stray.txt"]);
    expect((await stack.refresh()).files).toEqual(["stray.txt"]);
  });

  it("in a tree that is a subdirectory of its repository, refresh takes changed files and reports untracked ones, both as tree paths", async () => {
    const root = repo({ "outside.txt": "o\n", "sub/a.txt": "a\n", "sub/d/b.txt": "b\n" });
    const dir = join(root, "sub");
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("p");
    write(dir, "d/b.txt", "b changed\n");
    write(dir, "d/stray.txt", "x\n");
    write(root, "outside.txt", "o changed\n");
    write(root, "outside-stray.txt", "y\n");
    const r = await stack.refresh();
    expect(r.files).toEqual(["d/b.txt"]);
    expect(r.untracked).toEqual(["d/stray.txt"]);
  });
});

describe("never lose work", () => {
  it("a push that does not apply leaves the tree byte-for-byte and names file and hunk", async () => {
    const dir = repo({ "a.txt": lines(30) });
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("good");
    write(dir, "a.txt", lines(30).replace("line 2\n", "line two\n"));
    await stack.refresh();
    await stack.newPatch("bad");
    write(dir, "a.txt", read(dir, "a.txt").replace("line 20\n", "line twenty\n"));
    await stack.refresh();
    await stack.pop({ all: true });
    // Change the base under the queue so "bad" no longer applies.
    write(dir, "a.txt", lines(30).replace(/line 1[5-9]\n|line 2[0-5]\n/g, "changed\n"));
    git(dir, "commit", "-qam", "upstream moved");
    const before = snapshot(dir);
    const err = await expectPqError(stack.push({ all: true }), "apply-failed");
    expect(err.message).toContain("bad does not apply");
    expect(err.details.join("\n")).toMatch(/a\.txt: Hunk #1 FAILED/);
    // The patch that applied stays applied; the failing one changed nothing.
    expect(stack.applied()).toEqual(["good"]);
    const now = snapshot(dir);
    expect(now["a.txt"]).toBe(before["a.txt"].replace("line 2\n", "line two\n"));
  });

  it("--force writes .rej files and marks the patch for refresh; pop then refuses", async () => {
    const dir = repo({ "a.txt": lines(30) });
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("two-hunks");
    write(dir, "a.txt", lines(30).replace("line 2\n", "line two\n").replace("line 25\n", "line 25 changed\n"));
    await stack.refresh();
    await stack.pop();
    write(dir, "a.txt", lines(30).replace(/line 2[3-7]\n/g, "other\n"));
    git(dir, "commit", "-qam", "conflicting upstream");
    const report = await stack.push({ force: true });
    expect(report.pushed[0].needsRefresh).toBe("forced");
    expect(read(dir, "a.txt")).toContain("line two\n");
    expect(read(dir, "a.txt.rej")).toContain("+line 25 changed");
    await expectPqError(stack.pop(), "needs-refresh");
    await expectPqError(stack.push(), "needs-refresh");
    // Refreshing while the .rej file still holds a hunk would drop it from the patch.
    await expectPqError(stack.refresh(), "needs-refresh");
    rmSync(join(dir, "a.txt.rej"));
    await stack.refresh();
    await stack.pop();
    expect(read(dir, "a.txt")).toBe(lines(30).replace(/line 2[3-7]\n/g, "other\n"));
  });

  /** A patch "edit" (line 6 of a.txt), popped, and an upstream commit that changes the lines it needs. */
  async function overtakenPatch(upstream: (text: string) => string) {
    const dir = repo({ "a.txt": lines(12) });
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("edit");
    write(dir, "a.txt", lines(12).replace("line 6\n", "patched 6\n"));
    await stack.refresh();
    await stack.pop();
    write(dir, "a.txt", upstream(lines(12)));
    git(dir, "commit", "-qam", "upstream");
    return { dir, stack };
  }

  it("--merge falls back to a three-way merge with conflict markers", async () => {
    const { dir, stack } = await overtakenPatch((text) => text.replace(/line [5-7]\n/g, (m) => `upstream ${m}`));
    await expectPqError(stack.push(), "apply-failed");
    const report = await stack.push({ merge: true });
    expect(report.pushed[0].needsRefresh).toBe("conflict");
    const merged = read(dir, "a.txt");
    expect(merged).toContain("<<<<<<< current");
    expect(merged).toContain("patched 6");
    expect(merged).toContain(">>>>>>> edit");
    // A refresh over the markers is refused, and changes nothing; resolved, it refreshes.
    const patchBefore = read(join(dir, "patches"), "edit");
    const refused = await expectPqError(stack.refresh(), "conflict");
    expect(refused.message).toContain("conflict markers are still in a.txt");
    expect(read(join(dir, "patches"), "edit")).toBe(patchBefore);
    write(dir, "a.txt", lines(12).replace(/line [5-7]\n/g, (m) => `upstream ${m}`).replace("upstream line 6\n", "patched 6\n"));
    expect((await stack.refresh()).files).toEqual(["a.txt"]);
    expect(read(join(dir, "patches"), "edit")).toContain("+patched 6\n");
    expect(read(join(dir, "patches"), "edit")).not.toContain("<<<<<<<");
  });

  it("refresh --force takes conflict markers into the patch as they are", async () => {
    const { dir, stack } = await overtakenPatch((text) => text.replace("line 6\n", "upstream 6\n"));
    await stack.push({ merge: true });
    await stack.refresh({ force: true });
    expect(read(join(dir, "patches"), "edit")).toContain("+<<<<<<< current\n");
  });

  it("pop refuses over unrefreshed changes, and --force keeps a backup", async () => {
    const dir = repo({ "a.txt": "a\n" });
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("p");
    write(dir, "a.txt", "b\n");
    await stack.refresh();
    write(dir, "a.txt", "c (not refreshed)\n");
    const err = await expectPqError(stack.pop(), "dirty");
    expect(err.message).toContain("a.txt");
    expect(read(dir, "a.txt")).toBe("c (not refreshed)\n");
    const report = await stack.pop({ force: true });
    expect(read(dir, "a.txt")).toBe("a\n");
    expect(report.backup).toBeDefined();
    expect(read(report.backup!, "a.txt")).toBe("c (not refreshed)\n");
  });

  it("refuses paths that leave the tree before writing anything", async () => {
    const dir = repo({ "a.txt": "a\n" });
    const outside = tempDir("pq-outside-");
    dirs.push(outside);
    symlinkSync(outside, join(dir, "link"));
    const stack = await Stack.init({ tree: dir });
    const evil = (path: string) =>
      `Subject: evil\n\ndiff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+changed\ndiff --git a/${path} b/${path}\nnew file mode 100644\n--- /dev/null\n+++ b/${path}\n@@ -0,0 +1 @@\n+pwned\n`;
    for (const [i, path] of ["../escape.txt", "link/inside.txt", ".git/hooks/pre-commit"].entries()) {
      const name = `evil${i}`;
      write(join(dir, "patches"), name, evil(path));
      write(join(dir, "patches"), "series", `${name}\n`);
      const before = snapshot(dir);
      await expectPqError(stack.push(), "unsafe-path");
      expect(snapshot(dir)).toEqual(before);
      expect(readdirSync(outside)).toEqual([]);
    }
  });

  it("a second pq on the same tree is told who holds the lock", async () => {
    const dir = repo({ "a.txt": "a\n" });
    const stack = await Stack.init({ tree: dir });
    // The lock of a live process (this test runner's parent) blocks; a dead one's is taken over.
    writeFileSync(join(dir, ".pq", "lock"), `${process.ppid}\n`);
    // Refused after PQ_LOCK_TIMEOUT's wait instead of the usual 10 s.
    process.env.PQ_LOCK_TIMEOUT = "0.3";
    const err = await expectPqError(stack.newPatch("x"), "locked").finally(() => delete process.env.PQ_LOCK_TIMEOUT);
    expect(err.message).toContain(`locked by pid ${process.ppid}`);
    writeFileSync(join(dir, ".pq", "lock"), "999999\n");
    await stack.newPatch("x");
    expect(stack.applied()).toEqual(["x"]);
    // A pid that another program has now (reused after a kill): said so, not "another pq" (undo-5 #12).
    const sleeper = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      writeFileSync(join(dir, ".pq", "lock"), `${sleeper.pid}\n`);
      const foreign = await expectPqError(stack.newPatch("y"), "locked");
      expect(foreign.message).toContain(`locked by pid ${sleeper.pid}, which runs sleep, not pq`);
      expect(foreign.details.join("\n")).toContain("if no pq is running, remove");
    } finally {
      sleeper.kill();
    }
  });

  it("a killed pq that nobody reaped (a zombie) counts as gone: its lock is taken over, its temporary files removed (undo-5 #7)", async () => {
    // A parent that forks a child which exits at once, and never waits for it (perl reaps nothing unasked).
    const parent = spawn("perl", ["-e", '$| = 1; my $pid = fork; if ($pid) { print "$pid\\n"; sleep 30 } else { exit 0 }'], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    try {
      const zombie = Number(await new Promise<string>((resolve) => parent.stdout.once("data", (d: Buffer) => resolve(d.toString()))));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(readFileSync(`/proc/${zombie}/stat`, "latin1")).toMatch(/\) Z /);
      expect(processAlive(zombie)).toBe(false);
      expect(processAlive(process.pid)).toBe(true);
    } finally {
      parent.kill();
    }
  });
});

describe("series operations", () => {
  async function threePatches() {
    const dir = repo({ "a.txt": lines(40) });
    const stack = await Stack.init({ tree: dir });
    for (const n of [1, 2, 3]) {
      await stack.newPatch(`p${n}`, { message: `patch ${n}` });
      write(dir, "a.txt", read(dir, "a.txt").replace(`line ${n * 10}\n`, `line ${n * 10} by p${n}\n`));
      await stack.refresh();
    }
    return { dir, stack };
  }

  it("guards: select excludes guarded patches from push -a", async () => {
    const { stack } = await threePatches();
    await stack.pop({ all: true });
    await stack.setGuards("p2", ["+xen"]);
    let r = await stack.push({ all: true });
    expect(r.pushed.map((p) => p.name)).toEqual(["p1", "p3"]);
    await stack.pop({ all: true });
    await stack.select(["xen"]);
    r = await stack.push({ all: true });
    expect(r.pushed.map((p) => p.name)).toEqual(["p1", "p2", "p3"]);
  });

  it("warm push reuses results and reproduces the tree", async () => {
    const { dir, stack } = await threePatches();
    const top = snapshot(dir);
    await stack.pop({ all: true });
    const r = await stack.push({ all: true });
    expect(r.pushed.every((p) => p.cached)).toBe(true);
    expect(snapshot(dir)).toEqual(top);
  });

  it("warm push: a result the store lost is made again; one in between is rebuilt by the pop that needs it", async () => {
    const { dir, stack } = await threePatches();
    const top = snapshot(dir);
    await stack.goto("p1");
    const atP1 = snapshot(dir);
    await stack.push({ all: true });
    const state = JSON.parse(read(dir, ".pq/state.json"));
    const post = (i: number) => state.applied[i].files["a.txt"].post as string;
    // Forget objects the way a damaged store loses them: their index lines gone.
    const forget = (id: string) => {
      const index = read(dir, ".pq/objects/index");
      writeFileSync(join(dir, ".pq/objects/index"), index.split("\n").filter((line) => !line.startsWith(id)).join("\n"));
    };
    await stack.pop({ all: true });
    // The version p3 leaves (the one the push writes): p3 is applied again, not reused.
    forget(post(2));
    let r = await stack.push({ all: true });
    expect(r.pushed.map((p) => [p.name, p.cached])).toEqual([["p1", true], ["p2", true], ["p3", false]]);
    expect(snapshot(dir)).toEqual(top);
    await stack.pop({ all: true });
    // The version p1 leaves, overwritten by p2 within the push: the push reuses all three,
    // and the pop back to p1, which restores it, rebuilds it from the patches.
    forget(post(0));
    r = await stack.push({ all: true });
    expect(r.pushed.every((p) => p.cached)).toBe(true);
    expect(snapshot(dir)).toEqual(top);
    await stack.goto("p1");
    expect(snapshot(dir)).toEqual(atP1);
  });

  it("goto, rename, reorder, delete and fold", async () => {
    const { dir, stack } = await threePatches();
    await stack.goto("p1");
    expect(stack.applied()).toEqual(["p1"]);
    await stack.reorder("p3", { first: true });
    expect(stack.series().map((e) => e.name)).toEqual(["p1", "p3", "p2"]);
    await stack.renamePatch("p3", "third");
    expect(stack.unapplied()).toEqual(["third", "p2"]);
    await stack.fold(["third"]);
    expect(stack.series().map((e) => e.name)).toEqual(["p1", "p2"]);
    const folded = read(join(dir, "patches"), "p1");
    expect(folded).toContain("+line 10 by p1");
    expect(folded).toContain("+line 30 by p3");
    expect(folded).toContain("patch 3");
    const trashed = await stack.deletePatches(["p2"]);
    expect(trashed).toHaveLength(1);
    expect(existsSync(trashed[0])).toBe(true);
    expect(stack.series().map((e) => e.name)).toEqual(["p1"]);
  });

  it("finish turns the bottom of the stack into git commits", async () => {
    const { dir, stack } = await threePatches();
    const { commits } = await stack.finish({ target: "p2" });
    expect(commits.map((c) => c.name)).toEqual(["p1", "p2"]);
    expect(git(dir, "log", "--format=%s|%an", "-3")).toBe("patch 2|Test Author\npatch 1|Test Author\nbase|Test Author\n");
    expect(stack.applied()).toEqual(["p3"]);
    expect(git(dir, "show", "HEAD:a.txt")).toContain("line 20 by p2");
    expect(git(dir, "show", "HEAD:a.txt")).not.toContain("by p3");
    await stack.pop();
    expect(read(dir, "a.txt")).toBe(git(dir, "show", "HEAD:a.txt"));
  });
});


describe("shared queue", () => {
  it("refresh refuses to overwrite a version of the patch that arrived in the queue after the push", async () => {
    const dir = repo({ "a.txt": "a\nb\nc\n" });
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("p", { message: "mine" });
    write(dir, "a.txt", "A\nb\nc\n");
    await stack.refresh();
    // A colleague's refresh arrives with a pull: the file changes under the applied patch.
    const theirs = read(join(dir, "patches"), "p").replace("+A", "+A (theirs)");
    write(join(dir, "patches"), "p", theirs);
    write(dir, "a.txt", "A\nB\nc\n");
    const err = await expectPqError(stack.refresh(), "dirty");
    expect(err.message).toContain("changed in the queue since it was pushed");
    expect(read(join(dir, "patches"), "p")).toBe(theirs);
    expect((await stack.status()).topChangedInQueue).toBe(true);
    await stack.refresh({ force: true });
    expect(read(join(dir, "patches"), "p")).toContain("+B");
  });
});

describe("the lock's own files", () => {
  it("a LOCK.PID left by a pq killed while it took the lock is removed by the next one; a live process's stays (t24 F4)", async () => {
    const dir = makeRepo({ "a.c": "a\n" });
    dirs.push(dir);
    expect((await pq(dir, "init")).code).toBe(0);
    // A pid that is gone: a child that has exited (and been reaped).
    const child = spawn(process.execPath, ["-e", "0"]);
    await new Promise((resolve) => child.on("exit", resolve));
    // A process that runs (as a pq taking the lock this instant would).
    const running = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    try {
      const gone = join(dir, ".pq", `lock.${child.pid}`);
      const live = join(dir, ".pq", `lock.${running.pid}`);
      writeFileSync(gone, `${child.pid}\n`);
      writeFileSync(live, `${running.pid}\n`);
      // A journal a pq killed while writing it left half made (t27 F6).
      const halfJournal = join(dir, ".pq", `journal.json.tmp-${child.pid}`);
      writeFileSync(halfJournal, '{"id":');
      // A directory of such a name (not pq's; its pid gone too) does not stop the tidying of the others (t25 F6).
      const other = spawn(process.execPath, ["-e", "0"]);
      await new Promise((resolve) => other.on("exit", resolve));
      const folder = join(dir, ".pq", `lock.${other.pid}`);
      mkdirSync(folder);
      expect((await pq(dir, "new", "p1")).code).toBe(0);
      expect(existsSync(gone)).toBe(false);
      expect(existsSync(halfJournal)).toBe(false);
      expect(existsSync(live)).toBe(true);
      expect(existsSync(folder)).toBe(true);
    } finally {
      running.kill();
    }
  });
});

describe("a queue directory inside the tree however it is named", () => {
  const intoSeries = (queue: string) => `diff --git a/${queue}/series b/${queue}/series\n--- a/${queue}/series\n+++ b/${queue}/series\n@@ -1 +1,2 @@\n p0.patch\n+p1.patch\n`;

  it("is out of a patch's reach when its name starts with two dots, or when it is named through a symlink to the tree (t26 F1, F2)", async () => {
    for (const named of ["..q", "link"]) {
      const dir = makeRepo({ "a.c": "a\n" });
      dirs.push(dir);
      let queueArg = "..q";
      let queue = "..q";
      if (named === "link") {
        symlinkSync(dir, `${dir}-link`);
        dirs.push(`${dir}-link`);
        queueArg = `${dir}-link/qq`;
        queue = "qq";
      }
      expect((await pq(dir, "init", "--queue", queueArg)).code).toBe(0);
      write(dir, `${queue}/p0.patch`, intoSeries(queue));
      write(dir, `${queue}/series`, "p0.patch\n");
      const r = await pq(dir, "push");
      expect([named, r.code, r.err]).toEqual([named, 7, expect.stringContaining("inside the queue directory")]);
      expect(read(dir, `${queue}/series`)).toBe("p0.patch\n");
    }
  });

  it("named through a symlink to the tree and tracked in git, is not taken into the top patch by a refresh (t27 F3)", async () => {
    const dir = makeRepo({ "a.c": "a\n" });
    dirs.push(dir);
    symlinkSync(dir, `${dir}-link`);
    dirs.push(`${dir}-link`);
    expect((await pq(dir, "init", "--queue", `${dir}-link/q`)).code).toBe(0);
    expect((await pq(dir, "new", "p1")).code).toBe(0);
    write(dir, "a.c", "a\nx\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    git(dir, "add", "q");
    git(dir, "commit", "-qm", "queue");
    // The first refresh rewrites q/p1, which git then sees changed: the second must not take it.
    for (const line of ["y", "z"]) {
      write(dir, "a.c", `${read(dir, "a.c")}${line}\n`);
      const r = await pq(dir, "refresh");
      expect([r.code, r.out]).toEqual([0, "refreshed p1: a.c\n"]);
    }
    expect(read(dir, "q/p1")).not.toContain("q/p1");
  });

  it("is never the tree itself (t27 F1)", async () => {
    const dir = makeRepo({ "a.c": "a\n" });
    dirs.push(dir);
    const r = await pq(dir, "init", "--queue", ".");
    expect([r.code, r.err]).toEqual([2, expect.stringContaining("the queue cannot be the working tree itself")]);
  });
});
