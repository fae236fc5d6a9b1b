/**
 * A directory pq may not write in, found before anything is written (verify-10 Y2). The
 * built pq runs as a user without the permission: as `nobody` through setpriv when the tests
 * run as root (root may write anywhere), as the test's own user otherwise.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chmodSync, chownSync, cpSync, existsSync, linkSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeRepo, pq, read, repoWithPatch, snapshot, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

const asRoot = process.getuid?.() === 0;
const NOBODY = 65534;

/** Every file and directory under `root`, owned by `uid` (root changes owners; anyone else keeps theirs). */
function ownAll(root: string, uid: number): void {
  chownSync(root, uid, uid);
  for (const name of readdirSync(root, { recursive: true }) as string[]) chownSync(join(root, name), uid, uid);
}

/** The built pq (launcher and bundle), copied where any user can read it. */
function installedCopy(): string {
  const dir = tempDir("pq-perm-bin-");
  dirs.push(dir);
  cpSync(resolve("bin/pq.cjs"), join(dir, "bin", "pq.cjs"));
  cpSync(resolve("dist/bundle/pq.cjs"), join(dir, "dist", "bundle", "pq.cjs"));
  for (const d of [dir, join(dir, "bin"), join(dir, "dist"), join(dir, "dist", "bundle")]) chmodSync(d, 0o755);
  return join(dir, "bin", "pq.cjs");
}

/**
 * Runs the built pq (copied where anyone can read it) in `cwd` as a user without the
 * permissions under test: `nobody` when the tests run as root, else the test's own user.
 */
function userRunner(): (cwd: string, ...args: string[]) => SpawnSyncReturns<string> {
  const bin = installedCopy();
  const home = tempDir("pq-perm-home-");
  dirs.push(home);
  chmodSync(home, 0o777);
  // A tree whose top another user owns (the read-only cases below make it root's) is one git refuses as
  // of dubious ownership, and pq with it (exit 11): trusted here, so that pq's own refusal is what is tested.
  writeFileSync(join(home, ".gitconfig"), "[safe]\n\tdirectory = *\n");
  chmodSync(join(home, ".gitconfig"), 0o644);
  return (cwd, ...args) => {
    const [cmd, ...rest] = asRoot
      ? ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", process.execPath, bin, ...args]
      : [process.execPath, bin, ...args];
    return spawnSync(cmd, rest, { cwd, encoding: "utf8", env: { ...process.env, HOME: home } });
  };
}

/** A refusal before anything was written: exit 14 with `message`, the tree as it was, no operation left half done. */
function expectRefusedBeforeJournal(repo: string, run: ReturnType<typeof userRunner>, cwd: string, args: string[], message: string): void {
  const before = snapshot(repo);
  const r = run(cwd, ...args);
  expect(r.stderr).toContain(message);
  expect(r.status).toBe(14);
  expect(snapshot(repo)).toEqual(before);
  expect(existsSync(join(repo, ".pq", "journal.json"))).toBe(false);
  expect(run(repo, "status").status).toBe(0);
}

describe("a directory pq may not write in", () => {
  it.skipIf(asRoot && !existsSync("/usr/bin/setpriv"))(
    "is refused before the journal (exit 14, nothing changed, no operation left half done), and the push goes once it is writable",
    async () => {
      const repo = makeRepo({ "src/a/x.c": "a\n", "src/b/y.c": "b\n" });
      dirs.push(repo);
      expect((await pq(repo, "init")).code).toBe(0);
      expect((await pq(repo, "new", "p1")).code).toBe(0);
      write(repo, "src/a/x.c", "a2\n");
      write(repo, "src/b/y.c", "b2\n");
      expect((await pq(repo, "refresh")).code).toBe(0);
      expect((await pq(repo, "pop")).code).toBe(0);
      const run = userRunner();
      // The tree is the user's; src/b and its file are someone else's (root's), read-only to the user.
      if (asRoot) {
        chmodSync(repo, 0o755);
        ownAll(repo, NOBODY);
        chownSync(join(repo, "src", "b"), 0, 0);
        chownSync(join(repo, "src", "b", "y.c"), 0, 0);
      } else {
        chmodSync(join(repo, "src", "b"), 0o555);
        chmodSync(join(repo, "src", "b", "y.c"), 0o444);
      }
      expectRefusedBeforeJournal(
        repo,
        run,
        repo,
        ["push"],
        "push p1 would replace src/b/y.c, but src/b is not writable (permission denied); nothing was changed",
      );
      // Nothing waits to be completed: the other commands work.
      const status = run(repo, "status");
      expect([status.status, status.stderr]).toEqual([0, ""]);
      expect(status.stdout).toContain("applied 0, unapplied 1");
      // A file of that directory the user may write is rewritten in place: no refusal.
      if (asRoot) chownSync(join(repo, "src", "b", "y.c"), NOBODY, NOBODY);
      else chmodSync(join(repo, "src", "b", "y.c"), 0o644);
      const again = run(repo, "push");
      expect([again.status, again.stderr]).toEqual([0, ""]);
      expect(read(repo, "src/a/x.c")).toBe("a2\n");
      expect(read(repo, "src/b/y.c")).toBe("b2\n");
      // Popping it again, with the file someone else's once more: refused the same way, the stack as it was.
      if (asRoot) chownSync(join(repo, "src", "b", "y.c"), 0, 0);
      else chmodSync(join(repo, "src", "b", "y.c"), 0o444);
      expectRefusedBeforeJournal(repo, run, repo, ["pop"], "pop p1 would replace src/b/y.c, but src/b is not writable");
      expect(run(repo, "top").stdout).toBe("p1\n");
      expect(statSync(join(repo, "src", "b")).mode & 0o777).toBe(asRoot ? 0o755 : 0o555);
      if (!asRoot) chmodSync(join(repo, "src", "b"), 0o755); // so that the clean-up can remove it
    },
  );

  it.skipIf(!asRoot || !existsSync("/usr/bin/setpriv"))(
    "a sticky directory someone else owns: a file of another user's there is refused before anything is written; one of the user's own goes",
    async () => {
      const repo = makeRepo({ "src/a/x.c": "a\n", "shared/mine.c": "m\n", "shared/theirs.c": "t\n" });
      dirs.push(repo);
      expect((await pq(repo, "init")).code).toBe(0);
      expect((await pq(repo, "new", "p1")).code).toBe(0);
      write(repo, "src/a/x.c", "a2\n");
      write(repo, "shared/mine.c", "m2\n");
      rmSync(join(repo, "shared", "theirs.c"));
      expect((await pq(repo, "refresh")).code).toBe(0);
      expect((await pq(repo, "pop")).code).toBe(0);
      const run = userRunner();
      chmodSync(repo, 0o755);
      ownAll(repo, NOBODY);
      // As /tmp: root's, writable by all, sticky; theirs.c is root's.
      chownSync(join(repo, "shared"), 0, 0);
      chmodSync(join(repo, "shared"), 0o1777);
      chownSync(join(repo, "shared", "theirs.c"), 0, 0);
      expectRefusedBeforeJournal(
        repo,
        run,
        repo,
        ["push"],
        "push p1 would remove shared/theirs.c, but shared is not writable (a sticky directory, where only a file's owner may remove or replace it); nothing was changed",
      );
      chownSync(join(repo, "shared", "theirs.c"), NOBODY, NOBODY);
      const again = run(repo, "push");
      expect([again.status, again.stderr]).toEqual([0, ""]);
      expect(existsSync(join(repo, "shared", "theirs.c"))).toBe(false);
      expect(read(repo, "shared/mine.c")).toBe("m2\n");
    },
  );

  it.skipIf(!asRoot || !existsSync("/usr/bin/setpriv"))(
    "a hard-linked file in a read-only directory, a read-only trash, operation log or branch directory are refused before anything is written; the tree's top is named by its path",
    async () => {
      const repo = makeRepo({ "d/f.txt": "f\n", "a.txt": "a\n" });
      dirs.push(repo);
      expect((await pq(repo, "init")).code).toBe(0);
      expect((await pq(repo, "new", "p1")).code).toBe(0);
      write(repo, "d/f.txt", "f2\n");
      expect((await pq(repo, "refresh")).code).toBe(0);
      expect((await pq(repo, "new", "p2")).code).toBe(0);
      write(repo, "a.txt", "a2\n");
      expect((await pq(repo, "refresh")).code).toBe(0);
      expect((await pq(repo, "pop", "-a")).code).toBe(0);
      mkdirSync(join(repo, ".pq", "trash"), { recursive: true });
      const run = userRunner();
      chmodSync(repo, 0o755);
      ownAll(repo, NOBODY);
      const refused = (cwd: string, args: string[], message: string) => expectRefusedBeforeJournal(repo, run, cwd, args, message);
      /** Someone else's (root's), read-only to the user; `undo` gives it back. */
      const lock = (path: string, mode: number) => {
        chownSync(join(repo, path), 0, 0);
        chmodSync(join(repo, path), mode);
        return () => {
          chownSync(join(repo, path), NOBODY, NOBODY);
          chmodSync(join(repo, path), mode | 0o200);
        };
      };
      // A second link to d/f.txt: pq replaces such a file (never writes through to the other name), which d must allow.
      linkSync(join(repo, "d", "f.txt"), join(repo, "f-link"));
      let undo = lock("d", 0o555);
      refused(repo, ["push"], "push p1 would replace d/f.txt, but d is not writable (permission denied); nothing was changed");
      undo();
      rmSync(join(repo, "f-link"));
      // The tree's top, seen from d/: named by its path, not "." (which would be d/ there).
      const undoTop = lock(".", 0o555);
      const undoA = lock("a.txt", 0o444);
      refused(
        join(repo, "d"),
        ["push", "-a"],
        `push p1..p2 would replace a.txt, but ${repo} is not writable (permission denied); nothing was changed`,
      );
      undoA();
      undoTop();
      undo = lock(".pq/trash", 0o555);
      refused(
        repo,
        ["delete", "p2"],
        "delete p2 would keep a copy of the patch, but .pq/trash is not writable (permission denied); nothing was changed",
      );
      undo();
      // An object index the user may not append to: refused with no new pack left behind (verify-16).
      const packs = () => readdirSync(join(repo, ".pq", "objects")).filter((f) => f.startsWith("pack-")).length;
      const packsBefore = packs();
      undo = lock(".pq/objects/index", 0o444);
      write(repo, "a.txt", "a-new\n");
      const noIndex = run(repo, "new", "p3");
      expect(noIndex.status).toBe(14);
      expect(packs()).toBe(packsBefore);
      undo();
      write(repo, "a.txt", "a\n");
      undo = lock(".pq/oplog", 0o444);
      refused(repo, ["push"], "push p1 would log its entry, but .pq/oplog is not writable (permission denied); nothing was changed");
      undo();
      expect(run(repo, "push").status).toBe(0);
      undo = lock(".git/refs/heads", 0o555);
      refused(
        repo,
        ["finish", "p1"],
        "finish would move main (git's lock file for it), but .git/refs/heads is not writable (permission denied); nothing was changed",
      );
      undo();
      const finished = run(repo, "finish", "p1");
      expect([finished.status, finished.stderr]).toEqual([0, ""]);
      // The push cache is an accelerator written after the operation: one pq may not append to (left by a sudo pq)
      // costs its lines, not the command's result (verify-16 G1: the refresh was done, yet exit 14 "nothing was changed").
      expect(run(repo, "push").status).toBe(0);
      undo = lock(".pq/pushcache.log", 0o444);
      write(repo, "a.txt", "a3\n");
      const refreshed = run(repo, "refresh");
      expect([refreshed.status, refreshed.stderr]).toEqual([0, ""]);
      expect(read(join(repo, "patches"), "p2")).toContain("+a3");
      undo();
    },
  );

  it("git's lock on the branch (refs/heads/main.lock) is found before the journal, as its index.lock is (verify-16 G3)", async () => {
    const repo = await repoWithPatch({ "a.txt": "a\n" }, "p1", { "a.txt": "a2\n" });
    dirs.push(repo);
    const lockFile = join(repo, ".git", "refs", "heads", "main.lock");
    writeFileSync(lockFile, "");
    const before = snapshot(repo);
    const refused = await pq(repo, "finish", "p1");
    expect(refused.code).toBe(11);
    expect(refused.err).toContain(`finish would move main, which another git holds now (${lockFile} exists); nothing was changed`);
    expect(snapshot(repo)).toEqual(before);
    expect(existsSync(join(repo, ".pq", "journal.json"))).toBe(false);
    rmSync(lockFile);
    expect((await pq(repo, "finish", "p1")).code).toBe(0);
  });
});
