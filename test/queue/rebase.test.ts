import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { cleanup, git, makeRepo, pq, read, snapshot, tempDir, write } from "../helpers/repo.js";
import { sha1 as sha1Of } from "../../src/tree/files.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

const pad = (i: number) => String(i).padStart(2, "0");
const file = (i: number) => `src/f${pad(i)}.c`;
const lines = (i: number) => Array.from({ length: 40 }, (_, n) => `f${pad(i)} line ${n + 1}\n`).join("");
/** What patch i does to its file: line 20 rewritten. */
const patched = (text: string, i: number) => text.replace(`f${pad(i)} line 20\n`, `f${pad(i)} line 20 (patch ${i})\n`);

/**
 * A repo with 20 files and a queue of 20 applied patches, one per file; `main` stays at the base.
 * Made once (40 pq commands) and copied for each test: nothing in the repository or in .pq/ names
 * its own path, and the copy keeps the timestamps the stat caches hold.
 */
let madeQueueOf20: string | null = null;
afterAll(() => {
  if (madeQueueOf20) cleanup(madeQueueOf20);
});
async function queueOf20(): Promise<string> {
  if (!madeQueueOf20) {
    const files: Record<string, string> = { "other.txt": "other\n" };
    for (let i = 1; i <= 20; i++) files[file(i)] = lines(i);
    const made = makeRepo(files);
    git(made, "branch", "upstream");
    expect((await pq(made, "init")).code).toBe(0);
    for (let i = 1; i <= 20; i++) {
      await pq(made, "new", `p${pad(i)}`, "-m", `Patch ${i}\n\nChanges line 20 of f${pad(i)}.`);
      write(made, file(i), patched(lines(i), i));
      expect((await pq(made, "refresh")).code).toBe(0);
    }
    madeQueueOf20 = made;
  }
  const dir = tempDir("pq-rebase-");
  cpSync(madeQueueOf20, dir, { recursive: true, preserveTimestamps: true });
  dirs.push(dir);
  return dir;
}

/** A repository with these files, an "upstream" branch at its commit and a pq stack, removed after the test. */
async function stackWithUpstream(files: Record<string, string>): Promise<string> {
  const dir = makeRepo(files);
  dirs.push(dir);
  git(dir, "branch", "upstream");
  expect((await pq(dir, "init")).code).toBe(0);
  return dir;
}

/** Commit on the upstream branch (in a second worktree, so the queue's tree is untouched). */
function upstreamCommit(dir: string, message: string, edits: Record<string, string>, removed: string[] = []): string {
  const wt = `${dir}-up`;
  if (!dirs.includes(wt)) {
    git(dir, "worktree", "add", "-q", wt, "upstream");
    dirs.push(wt);
  }
  for (const [p, c] of Object.entries(edits)) write(wt, p, c);
  for (const p of removed) rmSync(join(wt, p));
  git(wt, "add", "-A");
  git(wt, "commit", "-q", "-m", message);
  return git(wt, "rev-parse", "HEAD").trim();
}

/**
 * A stack whose patch pa changes line 2 of a.c, and an upstream that changes the same line (and
 * `upstreamFiles`): `pq rebase upstream` stops at pa. `files`: more files in the base; `more`:
 * run after pa is made (another patch). Returns the tree and its state before the rebase.
 */
async function rebaseStoppedAtPa(files: Record<string, string>, upstreamFiles: Record<string, string>, more?: (dir: string) => Promise<void>) {
  const { dir, before } = await paUnderUpstream(files, upstreamFiles, more);
  expect((await pq(dir, "rebase", "upstream")).code).toBe(6);
  return { dir, before };
}

/** rebaseStoppedAtPa's stack and upstream, before the rebase (for a rebase run another way: killed). */
async function paUnderUpstream(files: Record<string, string> = {}, upstreamFiles: Record<string, string> = {}, more?: (dir: string) => Promise<void>) {
  const dir = await stackWithUpstream({ "a.c": "a 1\na 2\na 3\n", ...files });
  await pq(dir, "new", "pa", "-m", "pa");
  write(dir, "a.c", "a 1\na mine\na 3\n");
  await pq(dir, "refresh");
  if (more) await more(dir);
  upstreamCommit(dir, "upstream", { "a.c": "a 1\na UP\na 3\n", ...upstreamFiles });
  return { dir, before: await fullState(dir) };
}

/** Everything a rebase may change: tree bytes (queue files included), HEAD, and which patches are applied. */
async function fullState(dir: string) {
  return { tree: snapshot(dir), head: git(dir, "rev-parse", "HEAD"), applied: (await pq(dir, "applied")).out, series: (await pq(dir, "series")).out };
}

describe("pq rebase: a queue of 20 patches onto a moving upstream", () => {
  it("carries patches over unrelated changes, moved lines and merged-upstream changes; the queue is clean afterwards", async () => {
    const dir = await queueOf20();
    const before = { series: read(join(dir, "patches"), "series"), p12: read(join(dir, "patches"), "p12") };
    upstreamCommit(dir, "Unrelated work", { "other.txt": "other, changed\n", "docs/new.txt": "new\n" });
    upstreamCommit(dir, "Move code down", { [file(3)]: "/* header */\n".repeat(5) + lines(3), [file(4)]: lines(4).replace("f04 line 2\n", "f04 line 2\nextra\nextra\n") });
    upstreamCommit(dir, "Touch the context of patch 8", { [file(8)]: lines(8).replace("f08 line 18\n", "f08 line eighteen\n") });
    // Upstream takes p12's change along with one of its own (so not p12's patch id): found by applying p12 in reverse.
    const f12 = patched(lines(12), 12).replace("f12 line 35\n", "f12 line 35 (upstream)\n");
    const taken = upstreamCommit(dir, "Upstream takes the f12 fix", { [file(12)]: f12 });

    const r = await pq(dir, "rebase", "upstream");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^offsets   p03\n/m);
    expect(r.out).toMatch(/^offsets   p04\n/m);
    expect(r.out).toMatch(/^merged    p08\n/m);
    expect(r.out).toContain(`dropped   p12\n          upstream has it: ${taken.slice(0, 12)} Upstream takes the f12 fix\n`);
    expect(r.out).toMatch(/^clean     p01\n/m);
    expect(r.out).toContain("rebased onto upstream");
    expect(r.out).toContain("16 clean, 2 offsets, 1 merged, 1 dropped");
    expect(git(dir, "rev-parse", "HEAD")).toBe(git(dir, "rev-parse", "upstream"));
    expect((await pq(dir, "series")).out).not.toContain("p12");
    expect((await pq(dir, "applied")).out.split("\n").filter(Boolean)).toHaveLength(19);

    // The tree is upstream plus every patch.
    expect(read(dir, "other.txt")).toBe("other, changed\n");
    expect(read(dir, file(3))).toBe(patched("/* header */\n".repeat(5) + lines(3), 3));
    expect(read(dir, file(8))).toBe(patched(lines(8).replace("f08 line 18\n", "f08 line eighteen\n"), 8));
    expect(read(dir, file(12))).toBe(f12);
    // Refreshed against the new context: every patch now pops and pushes without offsets.
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    const again = await pq(dir, "push", "-a");
    expect(again.code).toBe(0);
    expect(again.out).not.toMatch(/offset|fuzz/);
    expect(readdirSync(join(dir, ".pq")).includes("rebase.json")).toBe(false);
    // The queue as it was is kept for comparison (pq range-diff takes queue directories).
    expect(read(join(dir, ".pq", "rebase-last"), "series")).toBe(before.series);
    expect(read(join(dir, ".pq", "rebase-last"), "p12")).toBe(before.p12);
  });

  it("stops at a conflicting patch; --abort puts base, queue and tree back byte for byte", async () => {
    const dir = await queueOf20();
    const before = await fullState(dir);
    const patchFiles = Object.fromEntries(readdirSync(join(dir, "patches")).map((n) => [n, read(join(dir, "patches"), n)]));
    upstreamCommit(dir, "Unrelated work", { "other.txt": "other, changed\n" });
    upstreamCommit(dir, "Rewrite line 20 of f07", { [file(7)]: lines(7).replace("f07 line 20\n", "f07 line 20 (upstream)\n") });

    const r = await pq(dir, "rebase", "upstream");
    expect(r.code).toBe(6);
    expect(r.out).toMatch(/^CONFLICT  p07\n          src\/f07.c: 1 conflict\(s\), markers in the file\n/m);
    expect(r.out).toContain("rebase stopped at p07 (6 clean, 1 conflicted)");
    expect(read(dir, file(7))).toContain("<<<<<<< upstream\nf07 line 20 (upstream)\n=======\nf07 line 20 (patch 7)\n>>>>>>> p07\n");
    expect((await pq(dir, "top")).out).toBe("p07\n");
    expect((await pq(dir, "push")).code).toBe(5); // conflicted: nothing goes on top of it
    expect((await pq(dir, "rebase", "upstream")).err).toContain("already in progress");
    expect((await pq(dir, "rebase", "--continue")).err).toContain("still has conflicts");
    expect((await pq(dir, "status")).out).toContain("rebase onto upstream in progress, stopped at p07, 13 more patch(es) after it");

    const a = await pq(dir, "rebase", "--abort");
    expect(a.code).toBe(0);
    expect(await fullState(dir)).toEqual(before);
    expect(Object.fromEntries(readdirSync(join(dir, "patches")).map((n) => [n, read(join(dir, "patches"), n)]))).toEqual(patchFiles);
    expect(readdirSync(join(dir, ".pq")).includes("rebase.json")).toBe(false);
  });

  it("a stopped rebase: undo refuses, markers carried through pop --force and push are refused by --continue; after the abort undo goes on before the rebase (t61 N2)", async () => {
    const dir = await queueOf20();
    upstreamCommit(dir, "Rewrite line 20 of f07", { [file(7)]: lines(7).replace("f07 line 20\n", "f07 line 20 (upstream)\n") });
    expect((await pq(dir, "rebase", "upstream")).code).toBe(6);
    const undo = await pq(dir, "undo");
    expect(undo.code).toBe(12);
    expect(undo.err).toContain("a pq rebase is in progress");
    // The path pq's own refusal offers: pop --force drops the partial application; the queue's p07 has the markers.
    expect((await pq(dir, "pop", "--force")).code).toBe(0);
    expect((await pq(dir, "push")).code).toBe(0);
    expect((await pq(dir, "refresh")).code).toBe(0);
    const c = await pq(dir, "rebase", "--continue");
    expect(c.code).toBe(6);
    expect(c.err).toContain("conflict markers are still in p07");
    expect((await pq(dir, "rebase", "--abort")).code).toBe(0);
    const aborted = await fullState(dir);
    // The abort took the rebase back, as an undo: nothing of it to re-do, and undo reaches the operation before it.
    expect((await pq(dir, "redo")).err).toContain("nothing to redo");
    const before = (await pq(dir, "oplog", "--json")).out;
    const logged = JSON.parse(before) as { op: string }[];
    const newestBefore = logged[logged.findIndex((e) => e.op.startsWith("rebase: base ")) + 1];
    const again = await pq(dir, "undo");
    expect([again.code, again.err]).toEqual([0, ""]);
    expect(again.out).toContain(`undid ${newestBefore.op}`);
    expect((await pq(dir, "redo")).code).toBe(0);
    expect(await fullState(dir)).toEqual(aborted);
  });

  it("--continue after fixing the conflict and pq refresh finishes the rebase", async () => {
    const dir = await queueOf20();
    upstreamCommit(dir, "Rewrite line 20 of f07", { [file(7)]: lines(7).replace("f07 line 20\n", "f07 line 20 (upstream)\n") });
    expect((await pq(dir, "rebase", "upstream")).code).toBe(6);
    const resolved = lines(7).replace("f07 line 20\n", "f07 line 20 (upstream, patch 7)\n");
    write(dir, file(7), resolved);
    expect((await pq(dir, "refresh")).code).toBe(0);
    expect((await pq(dir, "push")).code).toBe(0); // by hand: the rebase takes it as done
    const c = await pq(dir, "rebase", "--continue");
    expect(c.err).toBe("");
    expect(c.code).toBe(0);
    expect(c.out).toMatch(/^resolved  p07\n/m);
    expect(c.out).toContain("clean     p08\n          already applied when the rebase went on\n");
    expect(c.out).toContain("19 clean, 1 resolved");
    expect(read(dir, file(7))).toBe(resolved);
    const p07 = read(join(dir, "patches"), "p07");
    expect(p07).toContain("Subject: Patch 7");
    expect(p07).toContain("-f07 line 20 (upstream)\n+f07 line 20 (upstream, patch 7)\n");
    for (let i = 8; i <= 20; i++) expect(read(dir, file(i))).toBe(patched(lines(i), i));
    expect(snapshot(dir)["other.txt"]).toBe("other\n");
    expect((await pq(dir, "applied")).out.split("\n").filter(Boolean)).toHaveLength(20);
    expect(readdirSync(join(dir, ".pq")).includes("rebase.json")).toBe(false);
  });

  it("pq undo of a --continue stops the rebase again where it was; --abort then puts everything back (stack-6 #6)", async () => {
    const dir = await queueOf20();
    const before = await fullState(dir);
    upstreamCommit(dir, "Rewrite line 20 of f07", { [file(7)]: lines(7).replace("f07 line 20\n", "f07 line 20 (upstream)\n") });
    expect((await pq(dir, "rebase", "upstream")).code).toBe(6);
    write(dir, file(7), lines(7).replace("f07 line 20\n", "f07 line 20 (upstream, patch 7)\n"));
    expect((await pq(dir, "refresh")).code).toBe(0);
    const stopped = await fullState(dir);
    expect((await pq(dir, "rebase", "--continue")).code).toBe(0);
    const undo = await pq(dir, "undo");
    expect(undo.code, undo.err).toBe(0);
    expect(undo.out).toContain("the rebase is stopped again where that --continue went on from");
    expect((await pq(dir, "status")).out).toContain("rebase onto upstream in progress, stopped at p07");
    expect(await fullState(dir)).toEqual(stopped);
    // Going on again finishes it as before; or, as here, the abort takes the whole rebase back.
    const abort = await pq(dir, "rebase", "--abort");
    expect(abort.code, abort.err).toBe(0);
    expect(await fullState(dir)).toEqual(before);
  });

  /** Upstream rewrites line 20 of patch n's file; the rebase stops there; resolved, refreshed, continued. */
  async function conflictResolvedAndContinued(dir: string, n: number): Promise<void> {
    const name = `f${String(n).padStart(2, "0")}`;
    upstreamCommit(dir, `Rewrite line 20 of ${name}`, { [file(n)]: lines(n).replace(`${name} line 20\n`, `${name} line 20 (upstream)\n`) });
    expect((await pq(dir, "rebase", "upstream")).code).toBe(6);
    write(dir, file(n), lines(n).replace(`${name} line 20\n`, `${name} line 20 (upstream, patch ${n})\n`));
    expect((await pq(dir, "refresh")).code).toBe(0);
    expect((await pq(dir, "rebase", "--continue")).code).toBe(0);
  }

  it("pq undo 3 takes back a rebase, its resolution's refresh and the --continue without --force; pq redo 3 puts the resolution back (stack-6 #6a)", async () => {
    const dir = await queueOf20();
    const before = await fullState(dir);
    await conflictResolvedAndContinued(dir, 7);
    const after = await fullState(dir);
    const undo = await pq(dir, "undo", "3");
    expect(undo.code, undo.err).toBe(0);
    // No edit of the tree's own was in the way; the resolution the refresh took goes with the rebase, saved (t61 N3).
    expect(undo.out).not.toContain("files changed since were saved");
    expect(undo.out).toContain("which this undo wrote over, were saved in");
    expect(await fullState(dir)).toEqual(before);
    const redo = await pq(dir, "redo", "3");
    expect(redo.code, redo.err).toBe(0);
    expect(await fullState(dir)).toEqual(after);
    expect((await pq(dir, "status")).out).not.toContain("unrefreshed");
  });

  it("a --continue after a stop at the top patch is logged too: its undo stops the rebase again, undo 3 takes it all back (verify-10 Y4)", async () => {
    const dir = await queueOf20();
    const before = await fullState(dir);
    await conflictResolvedAndContinued(dir, 20);
    const undo = await pq(dir, "undo");
    expect(undo.out).toContain("the rebase is stopped again");
    expect((await pq(dir, "status")).out).toContain("in progress, stopped at p20");
    expect((await pq(dir, "rebase", "--continue")).code).toBe(0);
    const all = await pq(dir, "undo", "3");
    expect(all.code, all.err).toBe(0);
    expect(await fullState(dir)).toEqual(before);
  });

  it("one pq undo takes a finished rebase back (base move, pushes, refreshes, drops), one pq redo re-does it", async () => {
    const dir = await queueOf20();
    upstreamCommit(dir, "Move code down", { [file(3)]: "/* header */\n".repeat(5) + lines(3) });
    upstreamCommit(dir, "Touch the context of patch 8", { [file(8)]: lines(8).replace("f08 line 18\n", "f08 line eighteen\n") });
    upstreamCommit(dir, "Upstream takes the f12 fix", { [file(12)]: patched(lines(12), 12) });
    const before = await fullState(dir);
    const r = await pq(dir, "rebase", "upstream");
    expect(r.code).toBe(0);
    expect(r.out).toContain("1 dropped");
    const after = await fullState(dir);
    expect(after.head).not.toBe(before.head);
    // The rebase is several operations in the log, each naming the command they belong to.
    const log = (await pq(dir, "oplog")).out.trim().split("\n");
    const ofRebase = log.filter((l) => l.endsWith("[pq rebase upstream]"));
    expect(ofRebase.length).toBeGreaterThan(2);
    const undo = await pq(dir, "undo");
    expect(undo.code).toBe(0);
    expect(await fullState(dir)).toEqual(before);
    expect((await pq(dir, "redo")).code).toBe(0);
    expect(await fullState(dir)).toEqual(after);
    // A later command is one operation again: undo takes back only it.
    expect((await pq(dir, "pop")).code).toBe(0);
    expect((await pq(dir, "undo")).code).toBe(0);
    expect(await fullState(dir)).toEqual(after);
  });

  it("drops a patch upstream took and then changed further (found by patch id), naming the commit", async () => {
    const dir = await queueOf20();
    const took = upstreamCommit(dir, "Upstream's own subject for it", { [file(15)]: patched(lines(15), 15) });
    upstreamCommit(dir, "Then reworded it", { [file(15)]: lines(15).replace("f15 line 20\n", "f15 line 20 (reworded upstream)\n") });
    const r = await pq(dir, "rebase", "upstream");
    expect(r.code).toBe(0);
    expect(r.out).toContain(`dropped   p15\n          upstream has it: ${took.slice(0, 12)} Upstream's own subject for it\n`);
    expect(r.out).toContain("19 clean, 1 dropped");
    expect(read(dir, file(15))).toBe(lines(15).replace("f15 line 20\n", "f15 line 20 (reworded upstream)\n"));
  });

  it("merges a renaming patch three ways and leaves unapplied patches as they were", async () => {
    const dir = makeRepo({ "old.c": lines(1), "keep.c": lines(2) });
    dirs.push(dir);
    git(dir, "branch", "upstream");
    await pq(dir, "init");
    const hunk = [17, 18, 19].map((n) => ` f01 line ${n}\n`).join("") + "-f01 line 20\n+f01 line 20 (patch 1)\n" + [21, 22, 23].map((n) => ` f01 line ${n}\n`).join("");
    const rename =
      "Subject: Rename old.c and change its line 20\n\n" +
      "diff --git a/old.c b/new.c\nsimilarity index 95%\nrename from old.c\nrename to new.c\n--- a/old.c\n+++ b/new.c\n@@ -17,7 +17,7 @@\n" +
      hunk;
    write(`${dir}-patch`, "move", rename);
    dirs.push(`${dir}-patch`);
    expect((await pq(dir, "import", "-P", join(`${dir}-patch`, "move"))).code).toBe(0);
    expect(read(dir, "new.c")).toBe(patched(lines(1), 1));
    await pq(dir, "new", "later", "-m", "Not applied during the rebase");
    write(dir, "keep.c", patched(lines(2), 2));
    await pq(dir, "refresh");
    await pq(dir, "pop");
    const later = read(join(dir, "patches"), "later");
    upstreamCommit(dir, "Change line 17 of old.c", { "old.c": lines(1).replace("f01 line 17\n", "f01 line seventeen\n") });

    const r = await pq(dir, "rebase", "upstream");
    expect(r.err).toBe("");
    expect(r.out).toMatch(/^merged    move\n/m);
    expect(read(dir, "new.c")).toBe(patched(lines(1).replace("f01 line 17\n", "f01 line seventeen\n"), 1));
    expect(snapshot(dir)["old.c"]).toBeUndefined();
    expect(read(join(dir, "patches"), "move")).toContain("rename from old.c\nrename to new.c\n");
    expect((await pq(dir, "applied")).out).toBe("move\n");
    expect(read(join(dir, "patches"), "later")).toBe(later);
    expect((await pq(dir, "push")).code).toBe(0);
  });

  it("git's index locked by another git before the base move: refused, nothing changed, no rebase in progress (verify-6 N9)", async () => {
    const dir = await queueOf20();
    upstreamCommit(dir, "Unrelated work", { "other.txt": "other, changed\n" });
    const before = await fullState(dir);
    write(dir, ".git/index.lock", "");
    const r = await pq(dir, "rebase", "upstream");
    expect(r.code).toBe(11);
    expect(r.err).toContain("index.lock exists); nothing was changed");
    rmSync(join(dir, ".git/index.lock"));
    expect(await fullState(dir)).toEqual(before);
    expect((await pq(dir, "status")).out).not.toContain("in progress");
    expect((await pq(dir, "rebase", "upstream")).code).toBe(0);
    expect(read(dir, "other.txt")).toBe("other, changed\n");
  });

  it("git's index locked by another git during the base move: the rebase stays in progress, --continue finishes it", async () => {
    const dir = await queueOf20();
    upstreamCommit(dir, "Unrelated work", { "other.txt": "other, changed\n" });
    // The lock appears after the journal was written (the check before it found none).
    process.env.PQ_FAILPOINT = "journal-written:sh";
    process.env.PQ_FAILPOINT_SH = `touch '${join(dir, ".git/index.lock")}'`;
    const r = await pq(dir, "rebase", "upstream").finally(() => {
      delete process.env.PQ_FAILPOINT;
      delete process.env.PQ_FAILPOINT_SH;
    });
    expect(r.code).toBe(11);
    expect(r.err).toContain("git's lock file");
    expect(r.err).toContain("the rebase is in progress");
    expect(r.err).toContain("pq rebase --continue");
    rmSync(join(dir, ".git/index.lock"));
    const c = await pq(dir, "rebase", "--continue");
    expect(c.code).toBe(0);
    expect((await pq(dir, "applied")).out.trim().split("\n")).toHaveLength(20);
    expect(read(dir, "other.txt")).toBe("other, changed\n");
    expect(read(dir, file(7))).toBe(patched(lines(7), 7));
    expect(git(dir, "status", "--porcelain", "--untracked-files=no").split("\n").filter(Boolean).length).toBe(20);
  });

  it("refuses unrefreshed changes and defaults to the branch's upstream", async () => {
    const dir = await queueOf20();
    write(dir, file(20), "dirty\n");
    const dirty = await pq(dir, "rebase", "upstream");
    expect(dirty.code).toBe(5);
    expect(dirty.err).toContain(`unrefreshed changes in ${file(20)}`);
    await pq(dir, "refresh");
    const none = await pq(dir, "rebase");
    expect(none.code).toBe(2);
    expect(none.err).toContain("no upstream branch");
    upstreamCommit(dir, "Unrelated work", { "other.txt": "other, changed\n" });
    git(dir, "branch", "--set-upstream-to=upstream");
    const before = await fullState(dir);
    const ops = JSON.parse((await pq(dir, "oplog", "--json")).out).length;
    const r = await pq(dir, "rebase");
    expect(r.code).toBe(0);
    expect(r.out).toContain("20 clean");
    expect(read(dir, "other.txt")).toBe("other, changed\n");
    expect(git(dir, "diff", "--cached", "--name-only")).toBe("");
    expect(git(dir, "status", "--porcelain", "--untracked-files=no", "--", "other.txt")).toBe("");

    // The rebase is a few logged operations (the base move is one) of one command: one undo goes back.
    const log = JSON.parse((await pq(dir, "oplog", "--json")).out) as { op: string; group?: string }[];
    const mine = log.slice(0, log.length - ops); // newest first
    expect(mine.at(-1)!.op).toMatch(/^rebase: base [0-9a-f]{12} -> upstream$/);
    expect(mine.map((e) => e.op)).toEqual(["rebase: push p01..p20", mine.at(-1)!.op]);
    expect(mine[0].group).toBeDefined();
    expect(mine[1].group).toBe(mine[0].group);
    expect((await pq(dir, "rebase")).out).toMatch(/^already based on upstream \([0-9a-f]{12}\): nothing to do\n$/);
    const undo = await pq(dir, "undo");
    expect(undo.err).toBe("");
    expect(await fullState(dir)).toEqual(before);
  });

  it("killed (SIGKILL) at any point of the base move, pq rebase --continue ends where an uninterrupted rebase does", async () => {
    const PQ = resolve("bin/pq.js");
    const ends: string[] = [];
    for (const failpoint of ["", "journal-written", "git-moved", "tree-half", "state-written"]) {
      const dir = await queueOf20();
      upstreamCommit(dir, "Move code down", { [file(3)]: "/* header */\n".repeat(5) + lines(3), "other.txt": "changed\n" });
      upstreamCommit(dir, "Upstream takes the f12 fix", { [file(12)]: patched(lines(12), 12) });
      const killed = spawnSync(process.execPath, [PQ, "rebase", "upstream"], { cwd: dir, encoding: "utf8", env: { ...process.env, PQ_FAILPOINT: failpoint } });
      if (failpoint) {
        expect(killed.signal, failpoint).toBe("SIGKILL");
        expect(existsSync(join(dir, ".pq", "rebase.json"))).toBe(true);
        const c = await pq(dir, "rebase", "--continue");
        // Only the news that the killed operation was completed, nothing saved (no edits since).
        expect(c.err, failpoint).toMatch(/^(pq: completed an interrupted operation \([^\n]*\)\n)?$/);
        expect(c.err).not.toContain("saved in");
        expect(c.code).toBe(0);
      } else expect(killed.status).toBe(0);
      expect(existsSync(join(dir, ".pq", "rebase.json"))).toBe(false);
      const tree = Object.entries(snapshot(dir)).filter(([p]) => !p.startsWith("patches/"));
      ends.push(JSON.stringify({ tree, head: git(dir, "rev-parse", "HEAD^{tree}"), applied: (await pq(dir, "applied")).out, p03: read(join(dir, "patches"), "p03").split("diff --git")[1] }));
    }
    expect(new Set(ends).size).toBe(1);
    expect(ends[0]).not.toContain("p12\\n");
  });
});

describe("rebase and commits of the branch's own", () => {
  it("refuses to move the base over a finished commit the upstream does not have, naming it", async () => {
    const dir = await stackWithUpstream({ "a.txt": "a\n", "b.txt": "b\n" });
    expect((await pq(dir, "new", "fin", "-m", "to be finished")).code).toBe(0);
    write(dir, "b.txt", "b\nfinished\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    expect((await pq(dir, "finish", "-a")).code).toBe(0);
    git(dir, "checkout", "-q", "upstream");
    write(dir, "a.txt", "a\nup\n");
    git(dir, "commit", "-qam", "up1");
    git(dir, "checkout", "-q", "-");
    const head = git(dir, "rev-parse", "HEAD");
    const r = await pq(dir, "rebase", "upstream");
    expect(r.code).toBe(12);
    expect(r.err).toContain("to be finished");
    expect(git(dir, "rev-parse", "HEAD")).toBe(head);
    expect(read(dir, "b.txt")).toBe("b\nfinished\n");
  });
});

describe("pq rebase never drops a patch whose change it could not merge (stack-6 #1, #9)", () => {
  it("a deletion of a file upstream changed, and a binary both changed, stop as conflicts; --abort puts them back", async () => {
    const dir = await stackWithUpstream({ "b.c": "b 1\nb 2\nb 3\nb 4\nb 5\n", "bin.dat": "\0".repeat(300) });
    await pq(dir, "new", "pdel", "-m", "remove b.c");
    await pq(dir, "add", "b.c");
    rmSync(join(dir, "b.c"));
    expect((await pq(dir, "refresh")).code).toBe(0);
    await pq(dir, "new", "pbin", "-m", "edit bin");
    write(dir, "bin.dat", "\0".repeat(100) + "ZZZZ" + "\0".repeat(196));
    expect((await pq(dir, "refresh")).code).toBe(0);
    const before = await fullState(dir);
    upstreamCommit(dir, "upstream edits both", { "b.c": "b 1\nb 2\nb 3\nb 4\nb five\n", "bin.dat": "HEAD" + "\0".repeat(296) });
    const r = await pq(dir, "rebase", "upstream");
    expect(r.code).toBe(6);
    expect(r.out).toContain("CONFLICT  pdel\n          b.c: the patch deletes it, but upstream changed it");
    expect(r.out).not.toContain("dropped");
    expect((await pq(dir, "series")).out).toBe("pdel\npbin\n");
    expect((await pq(dir, "rebase", "--abort")).code).toBe(0);
    expect(await fullState(dir)).toEqual(before);
    // The binary alone: also a conflict, not "upstream already contains it".
    await pq(dir, "pop", "-a");
    await pq(dir, "delete", "pdel");
    await pq(dir, "push", "-a");
    const bin = await pq(dir, "rebase", "upstream");
    expect(bin.code).toBe(6);
    expect(bin.out).toContain("bin.dat: binary file changed both upstream and by the patch");
    expect((await pq(dir, "series")).out).toBe("pbin\n");
  });
});

describe("a stopped rebase is fenced off (stack-6 #5, #10, #14)", () => {
  it("finish, uncommit, delete and rename are refused, and --abort refuses to drop a commit made meanwhile", async () => {
    const dir = await stackWithUpstream({ "b.c": "b 1\nb 2\nb 3\n" });
    await pq(dir, "new", "p1", "-m", "p1");
    write(dir, "b.c", "b 1\nb two\nb 3\n");
    await pq(dir, "refresh");
    upstreamCommit(dir, "upstream", { "b.c": "b 1\nb TWO\nb 3\n" });
    expect((await pq(dir, "rebase", "upstream")).code).toBe(6);
    for (const args of [["finish", "-a"], ["uncommit"], ["delete", "p1"], ["rename", "p1", "p9"], ["select", "xen"]]) {
      const r = await pq(dir, ...args);
      expect(r.code, args.join(" ")).toBe(12);
      expect(r.err).toContain("a rebase is stopped");
    }
    write(dir, "mine.txt", "my work\n");
    git(dir, "add", "mine.txt");
    git(dir, "commit", "-qm", "made while stopped");
    const abort = await pq(dir, "rebase", "--abort");
    expect(abort.code).toBe(12);
    expect(abort.err).toContain("the abort would drop that commit");
    expect(read(dir, "mine.txt")).toBe("my work\n");
  });
});

describe("pq rebase --skip (stack-6 #15)", () => {
  it("drops the patch the rebase stopped at to the trash and goes on with the next", async () => {
    const dir = await stackWithUpstream({ "b.c": "b 1\nb 2\nb 3\nb 4\nb 5\nb 6\nb 7\nb 8\n" });
    await pq(dir, "new", "p1", "-m", "p1");
    write(dir, "b.c", read(dir, "b.c").replace("b 2\n", "b two\n"));
    await pq(dir, "refresh");
    await pq(dir, "new", "p2", "-m", "p2");
    write(dir, "b.c", read(dir, "b.c").replace("b 7\n", "b seven\n"));
    await pq(dir, "refresh");
    upstreamCommit(dir, "upstream", { "b.c": "b 1\nb TWO\nb 3\nb 4\nb 5\nb 6\nb 7\nb 8\n" });
    const stopped = await pq(dir, "rebase", "upstream");
    expect(stopped.code).toBe(6);
    expect(stopped.out).toContain("pq rebase --skip to drop this patch");
    const skip = await pq(dir, "rebase", "--skip");
    expect(skip.code, skip.err).toBe(0);
    expect(skip.out).toContain("dropped   p1\n          skipped (pq rebase --skip)");
    expect((await pq(dir, "series")).out).toBe("p2\n");
    expect(read(dir, "b.c")).toBe("b 1\nb TWO\nb 3\nb 4\nb 5\nb 6\nb seven\nb 8\n");
    expect(readdirSync(join(dir, ".pq", "trash")).some((f) => f.endsWith("p1"))).toBe(true);
    expect((await pq(dir, "status")).out).not.toContain("in progress");
  });
});

describe("range-diff after a rebase (stack-6 #11)", () => {
  it("calls a patch that only moved the same change (=), as git range-diff does", async () => {
    const dir = await queueOf20();
    upstreamCommit(dir, "Move code down", { [file(3)]: "/* header */\n".repeat(5) + lines(3) });
    const r = await pq(dir, "rebase", "upstream");
    expect(r.out).toMatch(/^offsets   p03\n/m);
    const rd = await pq(dir, "range-diff", ".pq/rebase-last", "patches");
    expect(rd.code, rd.err).toBe(0);
    expect(rd.out).toMatch(/p03 +=/);
    expect(rd.out).not.toContain("!");
  });
});

describe("pq rebase follows a file upstream renamed (stack-6 #2)", () => {
  it("a change to the old name is merged into the new one and the patch names it", async () => {
    const text = Array.from({ length: 50 }, (_, i) => `line ${i + 1}\n`).join("");
    const dir = await stackWithUpstream({ "a.c": text });
    await pq(dir, "new", "pedit", "-m", "edit a");
    write(dir, "a.c", text.replace("line 20\n", "line twenty\n"));
    expect((await pq(dir, "refresh")).code).toBe(0);
    upstreamCommit(dir, "rename a.c to a2.c", { "a2.c": text.replace("line 45\n", "line 45 up\n") }, ["a.c"]);
    const r = await pq(dir, "rebase", "upstream");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("a.c: upstream renamed it to a2.c; the change follows it there");
    expect(existsSync(join(dir, "a.c"))).toBe(false);
    expect(read(dir, "a2.c")).toBe(text.replace("line 20\n", "line twenty\n").replace("line 45\n", "line 45 up\n"));
    expect(read(join(dir, "patches"), "pedit")).toContain("+++ b/a2.c");
    expect(git(dir, "status", "--porcelain", "--untracked-files=no")).toBe(" M a2.c\n");
  });
});

describe("pq rebase follows a file upstream renamed, for a deletion too (verify-8 W2)", () => {
  const text = Array.from({ length: 50 }, (_, i) => `line ${i + 1}\n`).join("");
  it("deletes the renamed file, or stops as a conflict when upstream also changed it", async () => {
    const dir = await stackWithUpstream({ "a.c": text, "o.c": "o\n" });
    await pq(dir, "new", "pdel", "-m", "remove a.c");
    rmSync(join(dir, "a.c"));
    write(dir, "o.c", "o changed\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    const before = await fullState(dir);
    upstreamCommit(dir, "rename a.c to src.c", { "src.c": text }, ["a.c"]);
    const clean = await pq(dir, "rebase", "upstream");
    expect(clean.code, clean.err).toBe(0);
    expect(clean.out).toContain("a.c: upstream renamed it to src.c; the deletion follows it there");
    expect(existsSync(join(dir, "src.c"))).toBe(false);
    expect(read(dir, "o.c")).toBe("o changed\n");
    // Upstream's rename with an edit: the deletion cannot be merged, and is not "contained upstream" either.
    await pq(dir, "undo");
    expect(await fullState(dir)).toEqual(before);
    upstreamCommit(dir, "fix src.c", { "src.c": text.replace("line 30\n", "line 30 fixed\n") });
    const conflict = await pq(dir, "rebase", "upstream");
    expect(conflict.code).toBe(6);
    expect(conflict.out).toContain("src.c: the patch deletes it, but upstream changed it");
    expect((await pq(dir, "series")).out).toBe("pdel\n");
  });
});

describe("pq rebase over a folder upstream renamed (verify-8 W6)", () => {
  it("says so of a file the patch adds in the old folder", async () => {
    const dir = await stackWithUpstream({ "src/x.c": "x 1\nx 2\nx 3\nx 4\nx 5\n", "src/y.c": "y\n" });
    await pq(dir, "new", "p1", "-m", "p1");
    write(dir, "src/x.c", "x 1\nx 2\nx 3\nx 4\nx five\n");
    write(dir, "src/z.c", "new z\n");
    await pq(dir, "add", "src/z.c");
    expect((await pq(dir, "refresh")).code).toBe(0);
    upstreamCommit(dir, "src -> lib", { "lib/x.c": "x 1\nx 2\nx 3\nx 4\nx 5\n", "lib/y.c": "y\n" }, ["src/x.c", "src/y.c"]);
    const r = await pq(dir, "rebase", "upstream");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("src/z.c: added in src/, which upstream renamed to lib/");
    expect(read(dir, "lib/x.c")).toContain("x five");
  });
});

describe("pq rebase of a -p0 patch it merges (verify-8 W8)", () => {
  it("writes it as -p1 and says so in the series, so it pushes on its own file", async () => {
    const text = Array.from({ length: 60 }, (_, i) => `line ${i + 1}\n`).join("");
    const dir = await stackWithUpstream({ "a.c": text });
    write(
      dir,
      "patches/p0.patch",
      "Subject: p0\n\n--- a.c.orig\n+++ a.c\n@@ -7,7 +7,7 @@\n line 7\n line 8\n line 9\n-line 10\n+line ten\n line 11\n line 12\n line 13\n",
    );
    write(dir, "patches/series", "p0.patch -p0\n");
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    // Its outermost context line changes: it does not apply at fuzz 0, and merges cleanly.
    upstreamCommit(dir, "context", { "a.c": text.replace("line 7\n", "line 7 up\n") });
    const r = await pq(dir, "rebase", "upstream");
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/merged\s+p0\.patch/);
    expect(read(join(dir, "patches"), "series")).toBe("p0.patch\n");
    expect(read(dir, "a.c")).toBe(text.replace("line 7\n", "line 7 up\n").replace("line 10\n", "line ten\n"));
    expect((await pq(dir, "pop")).code).toBe(0);
    expect((await pq(dir, "push")).code).toBe(0);
  });
});

describe("pq rebase when upstream made the same move the patch makes (verify-9 X4)", () => {
  it("keeps the moved file, and carries the patch's edits of it over", async () => {
    const text = Array.from({ length: 40 }, (_, i) => `line ${i + 1}\n`).join("");
    const dir = await stackWithUpstream({ "src/a.c": text, "o.c": "o\n" });
    await pq(dir, "new", "p1", "-m", "move a.c to lib/");
    rmSync(join(dir, "src/a.c"));
    write(dir, "lib/a.c", text.replace("line 5\n", "line five p1\n"));
    write(dir, "o.c", "o changed\n");
    await pq(dir, "add", "lib/a.c");
    expect((await pq(dir, "refresh")).code).toBe(0);
    upstreamCommit(dir, "move a.c to lib/", { "lib/a.c": text }, ["src/a.c"]);
    const r = await pq(dir, "rebase", "upstream");
    expect(r.code, r.out + r.err).toBe(0);
    expect(read(dir, "lib/a.c")).toBe(text.replace("line 5\n", "line five p1\n"));
    expect(read(dir, "o.c")).toBe("o changed\n");
    expect(existsSync(join(dir, "src/a.c"))).toBe(false);
  });
});

describe("pq rebase of a patch that moves a file upstream changed (verify-9 X8)", () => {
  it("carries upstream's change into the moved file, as git rebase does", async () => {
    const text = Array.from({ length: 40 }, (_, i) => `line ${i + 1}\n`).join("");
    const dir = await stackWithUpstream({ "a.c": text });
    await pq(dir, "new", "pmv", "-m", "rename a.c to b.c");
    rmSync(join(dir, "a.c"));
    write(dir, "b.c", text);
    await pq(dir, "add", "b.c");
    expect((await pq(dir, "refresh")).code).toBe(0);
    upstreamCommit(dir, "fix a.c", { "a.c": text.replace("line 30\n", "line 30 upstream fix\n") });
    const r = await pq(dir, "rebase", "upstream");
    expect(r.code, r.out + r.err).toBe(0);
    expect(existsSync(join(dir, "a.c"))).toBe(false);
    expect(read(dir, "b.c")).toBe(text.replace("line 30\n", "line 30 upstream fix\n"));
  });
});

describe("pq rebase of a patch that renames a file upstream renamed too (t46 N8)", () => {
  const text = Array.from({ length: 40 }, (_, i) => `line ${i + 1}\n`).join("");
  /** A patch renaming a.c to `to` (with an edit of line 5), and upstream's rename of a.c to up.c with an edit of line 30. */
  async function bothRenamed(to: string): Promise<string> {
    const dir = await stackWithUpstream({ "a.c": text });
    await pq(dir, "new", "pmv", "-m", `rename a.c to ${to}`);
    git(dir, "mv", "a.c", to);
    write(dir, to, text.replace("line 5\n", "line 5 patch\n"));
    expect((await pq(dir, "refresh")).code).toBe(0);
    expect(read(join(dir, "patches"), "pmv")).toContain(`rename to ${to}`);
    upstreamCommit(dir, "rename a.c", { "up.c": text.replace("line 30\n", "line 30 upstream\n") }, ["a.c"]);
    return dir;
  }
  const both = text.replace("line 5\n", "line 5 patch\n").replace("line 30\n", "line 30 upstream\n");

  it("to another name: a rename/rename conflict, the patch's move kept from upstream's name with both edits, not 'upstream deleted it'", async () => {
    const dir = await bothRenamed("z.c");
    const r = await pq(dir, "rebase", "upstream");
    expect(r.code).toBe(6);
    expect(r.out + r.err).toContain("z.c: upstream renamed a.c to up.c, the patch renames it to z.c (rename/rename)");
    expect(r.out + r.err).not.toContain("upstream deleted it");
    // The refresh it asked for had left upstream's file beside a copy of it.
    expect(existsSync(join(dir, "up.c"))).toBe(false);
    expect(read(dir, "z.c")).toBe(both);
    expect((await pq(dir, "refresh")).code).toBe(0);
    expect((await pq(dir, "rebase", "--continue")).code).toBe(0);
    expect(read(join(dir, "patches"), "pmv")).toContain("rename from up.c\nrename to z.c\n");
  });

  it("to the same name: the edits merged there, no conflict", async () => {
    const dir = await bothRenamed("up.c");
    const r = await pq(dir, "rebase", "upstream");
    expect(r.code, r.out + r.err).toBe(0);
    expect(read(dir, "up.c")).toBe(both);
    expect(existsSync(join(dir, "a.c"))).toBe(false);
  });
});

describe("pq rebase --abort over edits made while the rebase was stopped (t70 N1, N2)", () => {
  it("saves an edit of a file it puts back (upstream's file, a patch's it pushes again) and names where; nothing is half done", async () => {
    // pa conflicts; pb waits.
    const { dir, before } = await rebaseStoppedAtPa({ "b.c": "b 1\nb 2\n", "c.c": "c 1\nc 2\n" }, { "c.c": "c 1\nc UP\n" }, async (d) => {
      await pq(d, "new", "pb", "-m", "pb");
      write(d, "b.c", "b 1\nb mine\n");
      await pq(d, "refresh");
    });
    // Made while stopped: c.c (no patch's, upstream changed it), b.c (pb's, not pushed again yet).
    write(dir, "c.c", "c 1\nc UP\nc edited while stopped\n");
    write(dir, "b.c", "b 1\nb 2\nb edited while stopped\n");
    const abort = await pq(dir, "rebase", "--abort");
    expect(abort.code, abort.err).toBe(0);
    const saved = /saved in (\S+)/.exec(abort.out)?.[1];
    expect(saved, abort.out).toBeDefined();
    expect(readFileSync(join(saved!, "c.c"), "utf8")).toBe("c 1\nc UP\nc edited while stopped\n");
    expect(readFileSync(join(saved!, "b.c"), "utf8")).toBe("b 1\nb 2\nb edited while stopped\n");
    // Everything else exactly as before the rebase (the backup aside).
    const after = await fullState(dir);
    expect(after).toEqual(before);
  });
});

describe("pq rebase --abort, --continue and --skip on another branch than the rebase moved (t70 N3)", () => {
  it("are refused with nothing changed; back on the branch, the abort puts it back", async () => {
    const { dir, before } = await rebaseStoppedAtPa({}, {});
    const rebased = git(dir, "rev-parse", "main");
    git(dir, "checkout", "-q", "-b", "other");
    for (const args of [["--abort"], ["--continue"], ["--skip"]]) {
      const r = await pq(dir, "rebase", ...args);
      expect([r.code, r.err], args[0]).toEqual([12, expect.stringContaining("the rebase moved main, and HEAD is on other now")]);
    }
    expect(git(dir, "rev-parse", "main")).toBe(rebased);
    expect(git(dir, "rev-parse", "other")).toBe(rebased);
    git(dir, "checkout", "-q", "main");
    expect((await pq(dir, "rebase", "--abort")).code).toBe(0);
    expect(await fullState(dir)).toEqual(before);
  });
});

describe("pq rebase --abort refused before it wrote anything (t72 N1)", () => {
  it("leaves the rebase stopped as it was (not an abort to finish), and says so", async () => {
    const { dir } = await rebaseStoppedAtPa({ "u.c": "u 1\n" }, { "u.c": "u UP\n" });
    rmSync(join(dir, "u.c"));
    write(dir, "u.c/inside", "a directory where the abort puts u.c back\n");
    const abort = await pq(dir, "rebase", "--abort");
    expect(abort.code).toBe(7);
    expect(abort.err).toContain("nothing was changed: the rebase is stopped as it was");
    const status = (await pq(dir, "status")).out;
    expect(status).toContain("rebase onto upstream in progress");
    expect(status).not.toContain("--abort was interrupted");
    rmSync(join(dir, "u.c"), { recursive: true });
    write(dir, "u.c", "u UP\n");
    expect((await pq(dir, "rebase", "--abort")).code).toBe(0);
    expect(read(dir, "u.c")).toBe("u 1\n");
  });
});

describe("the branch a stopped rebase moved, renamed (t72 N3)", () => {
  it("is said to be gone, with git branch -m to name it back; then the abort works", async () => {
    const { dir, before } = await rebaseStoppedAtPa({}, {});
    git(dir, "branch", "-m", "main", "work");
    const r = await pq(dir, "rebase", "--abort");
    expect([r.code, r.err]).toEqual([12, expect.stringContaining("git branch -m work main gives it its name back")]);
    git(dir, "branch", "-m", "work", "main");
    expect((await pq(dir, "rebase", "--abort")).code).toBe(0);
    expect(await fullState(dir)).toEqual(before);
  });
});

describe("a chmod made while a rebase was stopped, of a file upstream changed (t72 N6)", () => {
  it("is saved by the abort, and said, as an edit is", async () => {
    const { dir } = await rebaseStoppedAtPa({ "c.sh": "c 1\n" }, { "c.sh": "c UP\n" });
    chmodSync(join(dir, "c.sh"), 0o755);
    const abort = await pq(dir, "rebase", "--abort");
    expect(abort.code, abort.err).toBe(0);
    const saved = /saved in (\S+)/.exec(abort.out)?.[1];
    expect(saved, abort.out).toBeDefined();
    expect(statSync(join(saved!, "c.sh")).mode & 0o111).not.toBe(0);
    expect(statSync(join(dir, "c.sh")).mode & 0o111).toBe(0);
    expect(read(dir, "c.sh")).toBe("c 1\n");
  });
});

describe("work refreshed into patches while a rebase was stopped, then --abort (t79 N3)", () => {
  it("is saved and said: the resolution's refresh and a new patch, which goes with the abort", async () => {
    const { dir, before } = await rebaseStoppedAtPa({}, {});
    write(dir, "a.c", "a 1\na mine over UP\na 3\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    expect((await pq(dir, "new", "extra", "-m", "valuable work")).code).toBe(0);
    write(dir, "c.c", "new file\n");
    expect((await pq(dir, "add", "c.c")).code).toBe(0);
    expect((await pq(dir, "refresh")).code).toBe(0);
    const abort = await pq(dir, "rebase", "--abort");
    expect(abort.code, abort.err).toBe(0);
    const saved = /queue files changed while the rebase was stopped \(refreshes, new patches\) were saved in (\S+)/.exec(abort.out)?.[1];
    expect(saved, abort.out).toBeDefined();
    expect(readFileSync(join(saved!, "extra"), "utf8")).toContain("+new file");
    expect(readFileSync(join(saved!, "pa"), "utf8")).toContain("+a mine over UP");
    expect(abort.out).toContain("extra, made while the rebase was stopped, goes with the abort");
    expect(await fullState(dir)).toEqual(before);
  });
});

describe("pq rebase --abort with nothing changed while the rebase was stopped (t80 N4)", () => {
  it("saves and names nothing: the conflicted merge and the offsets it wrote are its own", async () => {
    const { dir, before } = await rebaseStoppedAtPa({ "b.c": "b 1\nb 2\nb 3\n" }, { "b.c": "b 0\nb 0\nb 1\nb 2\nb 3\n" }, async (d) => {
      expect((await pq(d, "pop", "-a")).code).toBe(0);
      expect((await pq(d, "new", "pb", "-m", "pb")).code).toBe(0);
      write(d, "b.c", "b 1\nb mine\nb 3\n");
      expect((await pq(d, "refresh")).code).toBe(0);
      expect((await pq(d, "push", "-a")).code).toBe(0);
      expect((await pq(d, "series")).out).toBe("pb\npa\n");
    });
    const abort = await pq(dir, "rebase", "--abort");
    expect(abort.code, abort.err).toBe(0);
    expect(abort.out).not.toContain("queue files changed");
    expect(existsSync(join(dir, ".pq", "backups")) ? readdirSync(join(dir, ".pq", "backups")) : []).toEqual([]);
    expect(await fullState(dir)).toEqual(before);
  });

  it("still saves a resolution refreshed and gone past with --continue", async () => {
    const { dir } = await rebaseStoppedAtPa({}, {});
    write(dir, "a.c", "a 1\na mine over UP\na 3\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    expect((await pq(dir, "rebase", "--continue")).code).toBe(0);
    expect((await pq(dir, "undo")).code).toBe(0);
    const abort = await pq(dir, "rebase", "--abort");
    expect(abort.code, abort.err).toBe(0);
    const saved = /queue files changed while the rebase was stopped \(refreshes, new patches\) were saved in (\S+)/.exec(abort.out)?.[1];
    expect(saved, abort.out).toBeDefined();
    expect(readFileSync(join(saved!, "pa"), "utf8")).toContain("+a mine over UP");
  });
});

describe("a rebase killed while it writes a conflicted merge (t83 N1)", () => {
  it("is stopped at the conflict by the next --continue, as an uninterrupted rebase stops, not pushed as clean", async () => {
    const PQ = resolve("bin/pq.js");
    const ends: string[] = [];
    for (const failpoint of ["", "queue-held"]) {
      const { dir } = await paUnderUpstream();
      const run = spawnSync(process.execPath, [PQ, "rebase", "upstream"], { cwd: dir, encoding: "utf8", env: { ...process.env, PQ_FAILPOINT: failpoint } });
      if (failpoint) {
        expect(run.signal).toBe("SIGKILL");
        const c = await pq(dir, "rebase", "--continue");
        expect([c.code, c.out], c.err).toEqual([6, expect.stringContaining("CONFLICT  pa\n          the rebase was cut short while it wrote this merge")]);
      } else expect(run.status, run.stderr).toBe(6);
      expect(read(dir, "a.c")).toContain("<<<<<<<");
      expect((await pq(dir, "status")).out).toContain("pa needs a refresh (a conflict to resolve");
      const again = await pq(dir, "rebase", "--continue");
      expect([again.code, again.err]).toEqual([5, expect.stringContaining("pa still has conflicts to resolve")]);
      // The two trees' patches were made a second apart: their Date: lines aside.
      ends.push(JSON.stringify({ tree: snapshot(dir), applied: (await pq(dir, "applied")).out }).replace(/Date: [^\\]*/, "Date:"));
    }
    expect(ends[1]).toBe(ends[0]);
  });

  it("is aborted without calling the rebase's own conflicted merge a change of the user's (t89 N4)", async () => {
    const { dir, before } = await paUnderUpstream();
    const run = spawnSync(process.execPath, [resolve("bin/pq.js"), "rebase", "upstream"], { cwd: dir, encoding: "utf8", env: { ...process.env, PQ_FAILPOINT: "queue-held" } });
    expect(run.signal).toBe("SIGKILL");
    const abort = await pq(dir, "rebase", "--abort");
    expect(abort.code, abort.err).toBe(0);
    expect(abort.out).not.toContain("queue files changed");
    expect(await fullState(dir)).toEqual(before);
  });
});

describe("pq oplog --json while an undo stopped a rebase again (t79 N1)", () => {
  it("says no entry is redoable: pq redo refuses while the rebase is stopped", async () => {
    const { dir } = await rebaseStoppedAtPa({}, {});
    write(dir, "a.c", "a 1\na mine over UP\na 3\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    expect((await pq(dir, "rebase", "--continue")).code).toBe(0);
    expect((await pq(dir, "undo")).code).toBe(0);
    const ops = JSON.parse((await pq(dir, "oplog", "--json")).out) as { undone: boolean; redoable: boolean }[];
    expect(ops.some((o) => o.undone)).toBe(true);
    expect(ops.every((o) => !o.redoable)).toBe(true);
    expect((await pq(dir, "redo")).code).toBe(12);
  });
});

describe("a rebase whose push is a remembered run (t149 N4)", () => {
  it("records the texts it rewrote, not the run's old ones: status and refresh see no change in the queue", async () => {
    const dir = await queueOf20();
    upstreamCommit(dir, "Move code down", Object.fromEntries(Array.from({ length: 20 }, (_, i) => [file(i + 1), "/* header */\n" + lines(i + 1)])));
    // The same pushes over the same files again, so that the last rebase replays a run the push cache remembers.
    for (const args of [["rebase", "upstream"], ["undo"], ["rebase", "upstream"], ["undo"], ["pop", "-a"], ["push", "-a"], ["rebase", "upstream"]])
      expect((await pq(dir, ...args)).code, args.join(" ")).toBe(0);
    const state = JSON.parse(read(dir, ".pq/state.json")) as { applied: { name: string; hash: string }[] };
    for (const record of state.applied) expect(record.hash, record.name).toBe(sha1Of(read(join(dir, "patches"), record.name)));
    const status = await pq(dir, "status", "--json");
    expect(JSON.parse(status.out).topChangedInQueue ?? false).toBe(false);
    write(dir, file(20), read(dir, file(20)).replace("f20 line 30\n", "f20 line 30 (edit)\n"));
    expect((await pq(dir, "refresh")).code).toBe(0);
  });
});

describe("pq rebase with an applied patch now guarded off (t151 N6)", () => {
  it("is refused before anything changes, naming the patch and pq select --reapply, which the rebase then follows", async () => {
    const dir = await stackWithUpstream({ "a.txt": Array.from({ length: 30 }, (_, i) => `line ${i + 1}\n`).join("") });
    for (const [name, line] of [["A", 5], ["B", 15], ["C", 25]] as const) {
      await pq(dir, "new", name);
      write(dir, "a.txt", read(dir, "a.txt").replace(`line ${line}\n`, `line ${line} ${name}\n`));
      await pq(dir, "refresh");
    }
    upstreamCommit(dir, "up", { "other.txt": "upstream\n" });
    await pq(dir, "guard", "B", "+x");
    const before = { files: snapshot(dir), head: git(dir, "rev-parse", "HEAD") };
    const r = await pq(dir, "rebase", "upstream");
    expect(r.code).toBe(12);
    expect(r.err).toContain("B is applied but guarded off by the selected guards: the rebase would leave it out; nothing was changed");
    expect({ files: snapshot(dir), head: git(dir, "rev-parse", "HEAD") }).toEqual(before);
    expect((await pq(dir, "select", "--reapply")).code).toBe(0);
    expect((await pq(dir, "applied")).out).toBe("A\nC\n");
    const rebased = await pq(dir, "rebase", "upstream");
    expect(rebased.code, rebased.err).toBe(0);
    expect((await pq(dir, "applied")).out).toBe("A\nC\n");
  });
});
