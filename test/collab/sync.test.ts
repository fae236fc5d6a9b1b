import { execFileSync, spawnSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Stack } from "../../src/queue/stack.js";
import { sync } from "../../src/collab/sync.js";
import { simulateQueue } from "../../src/collab/simulate.js";
import { GitRepo } from "../../src/git/repo.js";
import { cleanup, git, pq, read, write } from "../helpers/repo.js";
import {
  annAndBobShareP,
  annSharesPAndQ,
  BASE_FILES,
  commitEditOf,
  commitNewPatch,
  editLine,
  expectConverged,
  fullSnapshot,
  join_,
  ok,
  remoteQueue,
  setIdentity,
  world,
  type Person,
} from "./shared-helpers.js";

let w: ReturnType<typeof world>;
let ann: Person;
let bob: Person;

afterEach(() => cleanup(w.root));

const series = (p: Person) => read(p.queue, "series");

/** Ann commits a new a3.patch (a.c line 12), Bob a new b3.patch (b.c line 18); neither syncs. */
async function eachCommitsANewPatch(): Promise<void> {
  await ok(ann.tree, "new", "a3.patch", "-m", "a3");
  editLine(ann.tree, "a.c", 12, "twelve (ann)");
  await ok(ann.tree, "refresh");
  await ok(ann.tree, "commit", "-m", "add a3");
  await ok(bob.tree, "new", "b3.patch", "-m", "b3");
  editLine(bob.tree, "b.c", 18, "eighteen (bob)");
  await ok(bob.tree, "refresh");
  await ok(bob.tree, "commit", "-m", "add b3");
}

/**
 * Ann changes line `annEdit[0]` of `file` in `patch` (to `annEdit[1]`), commits it as `annEdit[2]` and syncs;
 * Bob changes line `bobEdit[0]` of the same patch (to `bobEdit[1]`) and refreshes, not yet committed.
 */
async function changedOnBothSides(
  patch: string,
  file: string,
  annEdit: [number, string, string],
  bobEdit: [number, string],
): Promise<void> {
  await ok(ann.tree, "goto", patch);
  editLine(ann.tree, file, annEdit[0], annEdit[1]);
  await ok(ann.tree, "refresh");
  await ok(ann.tree, "commit", "-m", annEdit[2]);
  await ok(ann.tree, "sync");
  await ok(bob.tree, "goto", patch);
  editLine(bob.tree, file, bobEdit[0], bobEdit[1]);
  await ok(bob.tree, "refresh");
}

/**
 * Ann adds `patches` above p2 (each changing one line of b.c) and both sync; then both change
 * p2's line 3, Ann syncs, and Bob's sync stops on that conflict (exit 6).
 */
async function bobsSyncStopsOnP2Under(...patches: [string, number, string][]): Promise<void> {
  await ok(ann.tree, "push", "-a");
  for (const [name, line, text] of patches) await commitNewPatch(ann, name, { file: "b.c", line, text });
  await ok(ann.tree, "sync");
  await ok(bob.tree, "sync");
  await changedOnBothSides("p2.patch", "b.c", [3, "three (ann)", "p2: ann's three"], [3, "three (bob)"]);
  await ok(bob.tree, "commit", "-m", "p2: bob's three");
  expect((await pq(bob.tree, "sync")).code).toBe(6);
}

/** p3.patch (b.c line 6) without bee 4 and bee 5 in its context: as a fix over a resolution that dropped them makes it. */
function dropP3sContextAbove6(): void {
  write(
    bob.queue,
    "p3.patch",
    read(bob.queue, "p3.patch")
      .replace(/^ bee 4\n bee 5\n/m, "")
      .replace("@@ -3,7 +3,7 @@", "@@ -3,5 +3,5 @@"),
  );
}

/** A bare repository as a hosting site makes it, with these files in its first commit, and the clone that pushed them. */
function hostedRepository(name: string, files: Record<string, string>): { hosted: string; admin: string } {
  const hosted = join(w.root, `${name}.git`);
  execFileSync("git", ["init", "-q", "--bare", "-b", "main", hosted]);
  const admin = join(w.root, `${name}-admin`);
  execFileSync("git", ["clone", "-q", hosted, admin]);
  for (const [path, content] of Object.entries(files)) write(admin, path, content);
  git(admin, "add", "-A");
  git(admin, "commit", "-qm", "Initial commit");
  git(admin, "push", "-q", "origin", "HEAD:main");
  return { hosted, admin };
}

describe("pq sync between two contributors (bare remote over a path)", () => {
  /**
   * Ann starts the shared queue with p1 (a.c line 5) and p2 (b.c line 3); Bob clones it and
   * pushes everything. Built once, and copied back to the same paths before each test (git's
   * remotes and pq's state name absolute paths; timestamps are kept, so the caches still hold):
   * building it took about a third of this file's time.
   */
  let start: { w: typeof w; ann: Person; bob: Person; copy: string };
  beforeAll(async () => {
    w = world();
    ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    await ok(ann.tree, "new", "p1.patch", "-m", "one: change line 5");
    editLine(ann.tree, "a.c", 5, "five");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "new", "p2.patch", "-m", "two: change bee 3");
    editLine(ann.tree, "b.c", 3, "three");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "p1 and p2");
    await ok(ann.tree, "sync");
    bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
    await ok(bob.tree, "push", "-a");
    start = { w, ann, bob, copy: `${w.root}.start` };
    cpSync(w.root, start.copy, { recursive: true, preserveTimestamps: true });
  });
  afterAll(() => cleanup(start.copy));
  beforeEach(() => {
    ({ w, ann, bob } = start);
    rmSync(w.root, { recursive: true, force: true });
    cpSync(start.copy, w.root, { recursive: true, preserveTimestamps: true });
  });

  /** Ann's p1 now changes b.c line 8 too (committed and synced); Bob has p1 alone applied, its old version. */
  async function p1AlsoChangesBeeThere(): Promise<void> {
    await commitEditOf(ann, "p1.patch", { file: "b.c", line: 8, text: "eight (ann)" }, "p1 also changes b.c");
    await ok(ann.tree, "sync");
    await ok(bob.tree, "goto", "p1.patch");
  }

  /** git fetch and pq rebase onto the upstream, its stop on p1 resolved as `resolved` (a.c) when it stops. */
  async function rebaseOntoFetched(who: Person, resolved: string): Promise<void> {
    git(who.tree, "fetch", "-q");
    if ((await pq(who.tree, "rebase")).code !== 0) {
      write(who.tree, "a.c", resolved);
      await ok(who.tree, "refresh");
      await ok(who.tree, "rebase", "--continue");
    }
  }

  /** The upstream changes the lines around p1's line 5; Ann carries the queue there and shares it. Returns a.c as the new upstream has it with p1. */
  async function annCarriesTheQueueOntoANewUpstream(): Promise<string> {
    editLine(w.base, "a.c", 4, "LINE 4");
    editLine(w.base, "a.c", 6, "LINE 6");
    git(w.base, "commit", "-q", "-am", "upstream moves");
    const upstreamWithFive = read(w.base, "a.c").replace("line 5\n", "five\n");
    await rebaseOntoFetched(ann, upstreamWithFive);
    await ok(ann.tree, "commit", "-m", "carried onto the new upstream");
    await ok(ann.tree, "sync");
    return upstreamWithFive;
  }

  /**
   * Ann's p3 (a.c line 20, above p1 on the same file), synced and applied by Bob too, and an
   * upstream that changes its context (lines 19 and 21). Returns a.c as the new upstream has it with p1 and p3.
   */
  async function p3AboveP1AndANewUpstream(): Promise<string> {
    await ok(ann.tree, "new", "p3.patch", "-m", "three");
    editLine(ann.tree, "a.c", 20, "twenty (p3)");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "p3");
    await ok(ann.tree, "sync");
    await ok(bob.tree, "sync");
    await ok(bob.tree, "push", "-a");
    editLine(w.base, "a.c", 19, "nineteen up");
    editLine(w.base, "a.c", 21, "twenty-one up");
    git(w.base, "commit", "-q", "-am", "upstream moves");
    return read(w.base, "a.c").replace("line 5\n", "five\n").replace("line 20\n", "twenty (p3)\n");
  }

  it("a stop over a colleague's carry-over onto a newer upstream says so, and its way (abort, fetch, rebase, sync) keeps both changes (t144 N8)", async () => {
    const upstreamWithFive = await annCarriesTheQueueOntoANewUpstream();
    // Bob, still on the old upstream, changes p1 too.
    await commitEditOf(bob, "p1.patch", { file: "a.c", line: 35, text: "thirty-five (bob)" }, "bob: p1 line 35");
    const r = await pq(bob.tree, "sync");
    expect(r.code, r.err).toBe(6);
    expect(r.err).toContain("p1.patch changed on both sides, and theirs starts from a version of a.c this tree's HEAD does not have");
    expect(r.err).toContain("resolving it over this tree would carry it back for everyone");
    expect((await pq(bob.tree, "status")).out).toContain("theirs of p1.patch was made on a newer upstream");
    const way = /: (pq sync --abort), (git fetch), (pq rebase) \(which carries[^)]*\), (pq commit -m MESSAGE), then (pq sync)/.exec(r.err);
    expect(way, r.err).not.toBeNull();
    // Word for word.
    await ok(bob.tree, "sync", "--abort");
    await rebaseOntoFetched(bob, upstreamWithFive.replace("line 35\n", "thirty-five (bob)\n"));
    await ok(bob.tree, "commit", "-m", "bob: onto the new upstream");
    await ok(bob.tree, "sync");
    const p1 = remoteQueue(w.remote).patches["p1.patch"];
    expect(p1).toContain("+thirty-five (bob)");
    expect(p1).toContain(" LINE 4");
    await ok(ann.tree, "sync");
    expect(read(ann.tree, "a.c")).toBe(upstreamWithFive.replace("line 35\n", "thirty-five (bob)\n"));
  });

  it("a patch only a colleague carried onto a newer upstream stops the sync said as that, and the way keeps it there (t150 N7)", async () => {
    const upstreamWithFive = await annCarriesTheQueueOntoANewUpstream();
    // Bob has fetched the upstream but not rebased; he adds a patch of his own.
    git(bob.tree, "fetch", "-q");
    await ok(bob.tree, "new", "p3.patch", "-m", "three");
    editLine(bob.tree, "a.c", 35, "thirty-five (bob)");
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "p3");
    const r = await pq(bob.tree, "sync");
    expect(r.code, r.err).toBe(6);
    expect(r.err).toContain("p1.patch: the remote's version starts from a version of a.c this tree's HEAD does not have");
    expect(r.err).toContain("pq sync --abort, git fetch, pq rebase");
    await ok(bob.tree, "sync", "--abort");
    // The rebase stops on p1 (p3 applies after it): its resolution is p1's alone.
    await rebaseOntoFetched(bob, upstreamWithFive);
    await ok(bob.tree, "commit", "-m", "bob: onto the new upstream");
    await ok(bob.tree, "sync");
    const remote = remoteQueue(w.remote);
    expect(remote.patches["p1.patch"]).toContain(" LINE 4");
    expect(remote.patches["p3.patch"]).toContain("+thirty-five (bob)");
    await ok(ann.tree, "sync");
    await ok(ann.tree, "push", "-a");
    expect(read(ann.tree, "a.c")).toBe(upstreamWithFive.replace("line 35\n", "thirty-five (bob)\n"));
  });

  it("a newer upstream is told for a patch above others that change the same file too, and an older one is not (t151 N3)", async () => {
    // p3 changes a.c line 20, above p1 (a.c line 5): its index line names a version no commit has.
    const carried = await p3AboveP1AndANewUpstream();
    await rebaseOntoFetched(ann, carried);
    await ok(ann.tree, "commit", "-m", "carried onto the new upstream");
    await ok(ann.tree, "sync");
    await commitEditOf(bob, "p3.patch", { file: "a.c", line: 35, text: "thirty-five (bob)" }, "bob: p3");
    const r = await pq(bob.tree, "sync");
    expect(r.code, r.err).toBe(6);
    expect(r.err).toContain("p3.patch changed on both sides, and theirs starts from a version of a.c this tree's HEAD does not have");
    // The other way round: Ann, on the newer upstream, meets Bob's change made on the older one: not told to rebase.
    await ok(bob.tree, "sync", "--abort");
    git(bob.queue, "push", "-q", "--force", "origin", "HEAD:main");
    await commitEditOf(ann, "p3.patch", { file: "a.c", line: 38, text: "thirty-eight (ann)" }, "ann: p3");
    const a = await pq(ann.tree, "sync");
    expect(a.code, a.err).toBe(6);
    expect(a.err).toContain("p3.patch changed on both sides, and theirs does not apply over this tree");
    expect(a.err).not.toContain("this tree's HEAD does not have");
  });

  it("the newer-upstream way, followed word for word, merges a patch above another on the same file both changed (t152 N1)", async () => {
    const carried = await p3AboveP1AndANewUpstream();
    // Ann carries the queue there, changing p3 as she resolves it; Bob, still on the old upstream, changes p3 too.
    await rebaseOntoFetched(ann, carried.replace("line 30\n", "thirty (ann)\n"));
    await ok(ann.tree, "commit", "-m", "carried onto the new upstream");
    await ok(ann.tree, "sync");
    await commitEditOf(bob, "p3.patch", { file: "a.c", line: 35, text: "thirty-five (bob)" }, "bob: p3");
    expect((await pq(bob.tree, "sync")).err).toContain("a colleague carried the queue onto a newer upstream");
    await ok(bob.tree, "sync", "--abort");
    await rebaseOntoFetched(bob, carried.replace("line 35\n", "thirty-five (bob)\n"));
    await ok(bob.tree, "commit", "-m", "bob: onto the new upstream");
    const r = await pq(bob.tree, "sync");
    expect(r.code, r.err).toBe(0);
    const p3 = remoteQueue(w.remote).patches["p3.patch"];
    for (const line of ["+thirty (ann)", "+thirty-five (bob)", " nineteen up"]) expect(p3).toContain(line);
  });

  it("a restack stopped by a patch that builds on one guarded off here names the guard, not an upstream move (t150 N1)", async () => {
    // Ann (with debug selected) puts dbg (+debug) and build-on over it below p2, and pushes it with plain git
    // (pq sync's own check refuses such a queue: build-on does not apply with no guard selected).
    await ok(ann.tree, "goto", "p1.patch");
    await ok(ann.tree, "new", "dbg.patch", "-m", "debug");
    editLine(ann.tree, "a.c", 20, "twenty debug");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "guard", "dbg.patch", "+debug");
    await ok(ann.tree, "select", "debug");
    await ok(ann.tree, "new", "build-on.patch", "-m", "on debug");
    editLine(ann.tree, "a.c", 20, "twenty debug more");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "dbg and build-on");
    git(ann.queue, "push", "-q", "origin", "HEAD:main");
    // Bob, no guard selected, had p1 and p2 applied.
    const r = await pq(bob.tree, "sync");
    expect(r.code).toBe(6);
    expect(r.err).toContain(
      "build-on.patch builds on dbg.patch (+debug), which the guards selected here leave out: pq select debug applies it",
    );
    expect(r.err).not.toContain("newer upstream");
    // Word for word: the stack goes back where it was.
    await ok(bob.tree, "select", "debug");
    await ok(bob.tree, "goto", "p2.patch");
    expect((await ok(bob.tree, "applied")).out).toBe("p1.patch\ndbg.patch\nbuild-on.patch\np2.patch\n");
  });

  it("an edit saved during the fetch in a file of the applied stack gets the applied stack's refusal, whose way out works (t144 N2)", async () => {
    await commitEditOf(ann, "p1.patch", { file: "a.c", line: 8, text: "eight (ann)" }, "p1: line 8");
    await ok(ann.tree, "sync");
    // An editor's save during the fetch, stood in for by a hook the fetch runs in Bob's queue repository.
    const hook = join(bob.queue, ".git/hooks/reference-transaction");
    writeFileSync(hook, `#!/bin/sh\nsed -i 's/^line 20$/twenty (bob, saved during the fetch)/' '${join(bob.tree, "a.c")}'\n`, {
      mode: 0o755,
    });
    const r = await pq(bob.tree, "sync");
    rmSync(hook);
    expect(r.code).toBe(5);
    expect(r.err).toContain("unrefreshed changes in a.c, which the applied patches change: sync would have to pop them");
    expect(r.err).not.toContain("set them aside");
    expect(read(bob.tree, "a.c")).toContain("twenty (bob, saved during the fetch)");
    expect((await ok(bob.tree, "applied")).out).toBe("p1.patch\np2.patch\n");
    // Its way out, word for word: the edit refreshed into the top patch, committed, synced.
    expect(r.err).toContain("pq refresh to keep them in the top patch (then pq commit)");
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "bob: line 20");
    await ok(bob.tree, "sync");
    expect(read(bob.tree, "a.c")).toContain("eight (ann)");
    expect(read(bob.tree, "a.c")).toContain("twenty (bob, saved during the fetch)");
    expect(remoteQueue(w.remote).patches["p2.patch"]).toContain("+twenty (bob, saved during the fetch)");
  });

  it("a sync refused over an edit of a file an incoming patch changes: its way out, followed word for word, syncs and keeps the edit (t118 N1)", async () => {
    await p1AlsoChangesBeeThere();
    editLine(bob.tree, "b.c", 17, "seventeen (bob, not refreshed)");
    const r = await pq(bob.tree, "sync");
    expect(r.code).toBe(5);
    const way =
      /set them aside: (git diff -- b\.c > mine\.diff), (git checkout -- b\.c); then pq sync, and (git apply mine\.diff) puts them back/.exec(
        r.err,
      );
    expect(way).not.toBeNull();
    execFileSync("sh", ["-c", `${way![1]} && ${way![2]}`], { cwd: bob.tree });
    await ok(bob.tree, "sync");
    execFileSync("sh", ["-c", way![3]], { cwd: bob.tree });
    expect(read(bob.tree, "b.c")).toContain("eight (ann)");
    expect(read(bob.tree, "b.c")).toContain("seventeen (bob, not refreshed)");
    expect((await ok(bob.tree, "top")).out).toBe("p1.patch\n");
  });

  it("a change staged in a file an incoming patch changes is refused before anything changes, and its way out works (t118 N5)", async () => {
    await p1AlsoChangesBeeThere();
    git(bob.tree, "rm", "-q", "--cached", "b.c");
    const r = await pq(bob.tree, "sync");
    expect(r.code).toBe(5);
    expect(r.err).toContain("b.c, which p1.patch (new, changed or moved below your top there) changes, has a change staged in git's index");
    expect((await ok(bob.tree, "top")).out).toBe("p1.patch\n");
    git(bob.tree, "restore", "--staged", "--", "b.c");
    await ok(bob.tree, "sync");
    expect(read(bob.tree, "b.c")).toContain("eight (ann)");
  });

  it("a patch the sync pushes that now applies only with fuzz is said, with the way to rewrite it (t118 N6)", async () => {
    await commitNewPatch(ann, "p3.patch", { file: "a.c", line: 8, text: "eight" });
    await ok(ann.tree, "sync");
    await ok(bob.tree, "sync");
    await ok(bob.tree, "push", "-a");
    await commitEditOf(ann, "p1.patch", { file: "a.c", line: 11, text: "eleven (ann)" }, "p1: line 11, p3's last line of context");
    await ok(ann.tree, "sync");
    const r = await ok(bob.tree, "sync");
    expect(r.out).toContain(
      "note: p3.patch applies here only with fuzz (a patch below it changed its context): pq goto p3.patch and pq refresh rewrite it",
    );
  });

  it("an undo of a refresh already committed and pushed says so (t104's note)", async () => {
    await commitEditOf(ann, "p1.patch", { file: "a.c", line: 6, text: "six" }, "p1: six");
    await ok(ann.tree, "sync");
    const u = await ok(ann.tree, "undo");
    expect(u.out).toContain(
      "note: what this undo took back of p1.patch is committed in the shared queue, and pushed: pq commit and pq sync would take it back there too, for everyone; pq redo brings it back here",
    );
    // Not said of an undo of what was never committed.
    editLine(ann.tree, "a.c", 7, "seven");
    await ok(ann.tree, "refresh");
    expect((await ok(ann.tree, "undo")).out).not.toContain("note:");
  });

  it("syncs patches whose names have directories (Debian's bugfix/x86/foo.patch), both ways", async () => {
    await ok(ann.tree, "new", "bugfix/x86/fix.patch", "-m", "a fix in a directory");
    editLine(ann.tree, "a.c", 20, "twenty");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "add bugfix/x86/fix.patch");
    await ok(ann.tree, "sync");
    await ok(bob.tree, "new", "b.patch", "-m", "bob's");
    editLine(bob.tree, "b.c", 12, "twelve");
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "add b.patch");
    await ok(bob.tree, "sync");
    expect(series(bob)).toBe("p1.patch\np2.patch\nbugfix/x86/fix.patch\nb.patch\n");
    expect(read(bob.queue, "bugfix/x86/fix.patch")).toContain("+twenty\n");
    const a = await ok(ann.tree, "sync");
    expect(a.err).toBe("");
    expect(series(ann)).toBe("p1.patch\np2.patch\nbugfix/x86/fix.patch\nb.patch\n");
    // A patch in a directory deleted on one side goes away on the other, its directory with it.
    await ok(ann.tree, "pop", "-a");
    await ok(ann.tree, "delete", "bugfix/x86/fix.patch");
    await ok(ann.tree, "commit", "-m", "drop the fix");
    await ok(ann.tree, "sync");
    await ok(bob.tree, "pop", "-a");
    await ok(bob.tree, "sync");
    expect(series(bob)).toBe("p1.patch\np2.patch\nb.patch\n");
    expect(() => read(bob.queue, "bugfix/x86/fix.patch")).toThrow();
  });

  it("pq commit leaves out the temporary file of a killed pq's write (NAME.tmp-PID, undo-5 #7)", async () => {
    await ok(ann.tree, "new", "p3.patch", "-m", "three");
    writeFileSync(join(ann.queue, "p3.patch.tmp-4194303"), "");
    const r = await ok(ann.tree, "commit", "-m", "add p3");
    expect(r.out).not.toContain("tmp-");
    expect(git(ann.queue, "ls-tree", "-r", "--name-only", "HEAD").split("\n")).not.toContain("p3.patch.tmp-4194303");
    expect((await ok(ann.tree, "status")).out).not.toContain("tmp-");
  });

  it("says a patch renamed and changed there is applied in its place, not that its changes left the tree (t144 N5)", async () => {
    await commitEditOf(bob, "p1.patch", { file: "a.c", line: 7, text: "seven (bob)" }, "bob: p1");
    await ok(bob.tree, "rename", "p1.patch", "p1-fixed.patch");
    await ok(bob.tree, "commit", "-m", "p1 renamed");
    await ok(bob.tree, "sync");
    const r = await ok(ann.tree, "sync");
    expect(r.out).toContain(
      "p1.patch, applied here, is no longer in the queue's series; p1-fixed.patch, new there, is applied in its place (the same patch renamed and changed there?)",
    );
    expect(r.out).not.toContain("its changes left the tree");
    expect(read(ann.tree, "a.c")).toContain("seven (bob)\n");
  });

  it("names the applied patches a sync takes out of the stack: deleted, renamed or guarded off there", async () => {
    // Ann: p1 renamed, p2 guarded off; Bob has both applied.
    await ok(ann.tree, "pop", "-a");
    await ok(ann.tree, "rename", "p1.patch", "p1b.patch");
    await ok(ann.tree, "guard", "p2.patch", "+xen");
    await ok(ann.tree, "commit", "-m", "rename p1, guard p2");
    await ok(ann.tree, "sync");
    const r = await ok(bob.tree, "sync", "--json");
    const report = JSON.parse(r.out);
    // The rename went back up under its new name: not reported as gone.
    expect(report.restack.left).toEqual([{ name: "p2.patch", why: "guarded" }]);
    expect((await ok(bob.tree, "applied")).out).toBe("p1b.patch\n");
    // Then p1b deleted there.
    await ok(ann.tree, "delete", "p1b.patch");
    await ok(ann.tree, "commit", "-m", "drop p1b");
    await ok(ann.tree, "sync");
    const d = await ok(bob.tree, "sync");
    expect(d.out).toContain(
      "p1b.patch, applied here, is no longer in the queue's series (deleted, renamed and changed, or finished into a commit there: then pq rebase and pq push -a): its changes left the tree",
    );
    expect(read(bob.tree, "a.c")).not.toContain("five\n");
  });

  it("keeps patches added at different positions on both sides", async () => {
    await ok(ann.tree, "pop");
    await ok(ann.tree, "new", "n1.patch", "-m", "n1");
    editLine(ann.tree, "a.c", 30, "thirty");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "add n1");
    expect((await ok(ann.tree, "sync")).out).toContain("pushed (nothing to merge)");

    await ok(bob.tree, "new", "n2.patch", "-m", "n2");
    editLine(bob.tree, "b.c", 15, "fifteen");
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "add n2");
    // Ann's sync had nothing to merge; Bob's merges hers.
    const r = await ok(bob.tree, "sync");
    expect(r.out).toContain("merged and pushed");
    expect(series(bob)).toBe("p1.patch\nn1.patch\np2.patch\nn2.patch\n");
    // Bob's stack followed: n1 arrived under his top, so it is applied too.
    expect((await ok(bob.tree, "applied")).out.trim().split("\n")).toEqual(["p1.patch", "n1.patch", "p2.patch", "n2.patch"]);
    expect(read(bob.tree, "a.c")).toContain("thirty\n");
    expect(read(bob.tree, "b.c")).toContain("fifteen\n");
    // The merge commit has both parents and Bob as its author.
    const parents = execFileSync("git", ["-C", w.remote, "log", "-1", "--format=%P %an", "main"], { encoding: "utf8" }).trim().split(" ");
    expect(parents.length).toBe(4);
    expect(parents.slice(2).join(" ")).toBe("Bob Example");

    const a = await ok(ann.tree, "sync");
    expect(a.out).toContain("took the remote's changes");
    await expectConverged(w.remote, [ann, bob], w.base);
  });

  it("merges the same patch refreshed on both sides in different hunks", async () => {
    await ok(ann.tree, "goto", "p1.patch");
    editLine(ann.tree, "a.c", 2, "two (ann)");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "p1: line 2");
    await ok(ann.tree, "sync");

    await ok(bob.tree, "goto", "p1.patch");
    editLine(bob.tree, "a.c", 35, "thirty-five (bob)");
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "p1: line 35");
    const oplog = async () => JSON.parse((await pq(bob.tree, "oplog", "--json")).out) as { op: string; group?: string }[];
    const logged = (await oplog()).length;
    const r = await ok(bob.tree, "sync");
    expect(r.out).toContain("p1.patch: changed on both sides, merged");
    // The sync's pops and pushes are one command in the log (one pq undo takes them back).
    const now = await oplog(); // newest first
    const bySync = now.slice(0, now.length - logged);
    expect(bySync.length).toBeGreaterThan(1);
    expect(bySync[0].group).toBeDefined();
    expect(new Set(bySync.map((e) => e.group)).size).toBe(1);
    const expected = BASE_FILES["a.c"]
      .replace("line 2\n", "two (ann)\n")
      .replace("line 5\n", "five\n")
      .replace("line 35\n", "thirty-five (bob)\n");
    expect(read(bob.tree, "a.c")).toBe(expected);
    await ok(ann.tree, "sync");
    await ok(ann.tree, "goto", "p1.patch");
    expect(read(ann.tree, "a.c")).toBe(expected);
    await expectConverged(w.remote, [ann, bob], w.base);
  });

  it("stops on the same lines changed on both sides: nothing pushed, --abort restores, --continue finishes", async () => {
    await ok(ann.tree, "goto", "p1.patch");
    editLine(ann.tree, "a.c", 5, "five (ann)");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "p1: ann's five");
    await ok(ann.tree, "sync");
    const remoteBefore = remoteQueue(w.remote);

    await ok(bob.tree, "goto", "p1.patch");
    editLine(bob.tree, "a.c", 5, "five (bob)");
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "p1: bob's five");
    await ok(bob.tree, "push", "-a");
    const before = fullSnapshot(bob.tree);
    const head = execFileSync("git", ["-C", bob.queue, "rev-parse", "HEAD"], { encoding: "utf8" });

    const r = await pq(bob.tree, "sync");
    expect(r.code).toBe(6);
    expect(r.err).toContain("  p1.patch: both versions are kept with conflict markers in a.c");
    expect(remoteQueue(w.remote)).toEqual(remoteBefore);
    expect(read(bob.tree, "a.c")).toMatch(/<<<<<<< ours\nfive \(bob\)\n=======\nfive \(ann\)\n>>>>>>> theirs\n/);
    const st = JSON.parse((await ok(bob.tree, "status", "--json")).out);
    expect(st.shared).toMatchObject({ kind: "own", conflicted: ["p1.patch"], syncInProgress: true });
    expect(st.top).toBe("p1.patch");
    expect((await ok(bob.tree, "status")).out).toContain(
      "p1.patch needs a refresh (a conflict to resolve: its markers, or a file a sync kept as yours)",
    );
    // Theirs is in the patch's log while the sync is stopped, as the conflict's advice says (t35 F8).
    expect((await ok(bob.tree, "log", "p1.patch")).out).toContain("p1: ann's five");

    await ok(bob.tree, "sync", "--abort");
    expect(fullSnapshot(bob.tree)).toEqual(before);
    expect(execFileSync("git", ["-C", bob.queue, "rev-parse", "HEAD"], { encoding: "utf8" })).toBe(head);
    expect(JSON.parse((await ok(bob.tree, "status", "--json")).out).shared.syncInProgress).toBe(false);
    // The abort is not undone (that would bring back the conflicted tree without the stopped sync):
    // it took the sync's moves back, and undo goes on to what came before them (safe-6 #10).
    const undoAbort = await pq(bob.tree, "undo");
    expect(undoAbort.code, undoAbort.err).toBe(0);
    expect(undoAbort.out).toContain("undid push");
    expect(read(bob.tree, "a.c")).not.toContain("<<<<<<<");
    expect((await pq(bob.tree, "redo")).code).toBe(0);
    expect(fullSnapshot(bob.tree)).toEqual(before);

    const stopped = await pq(bob.tree, "sync");
    expect(stopped.code).toBe(6);
    // The conflicted patch is marked as push --merge marks one: pop and --continue wait for a refresh.
    expect((await pq(bob.tree, "top")).out.trim()).toBe("p1.patch");
    // Every refusal while it is stopped names the conflicted files' refresh, not a bare one that takes other edits too (t144 N1).
    const named = "pq refresh a.c (the conflicted files alone";
    const pop = await pq(bob.tree, "pop");
    expect(pop.code).toBe(5);
    for (const argv of [["sync"], ["commit", "-m", "x"], ["undo"], ["finish", "-a"]]) {
      const r = await pq(bob.tree, ...argv);
      expect(r.code, argv.join(" ")).not.toBe(0);
      expect(r.err, argv.join(" ")).toContain(named);
    }
    expect(pop.err).toContain(named);
    expect((await pq(bob.tree, "refresh")).err).toContain(`then ${named}`);
    // From a folder below the tree's top, the files' names need a cd there first, said before the advice (t146 N7).
    mkdirSync(join(bob.tree, "sub"), { recursive: true });
    for (const argv of [["sync"], ["pop"], ["undo"]]) {
      const below = await pq(join(bob.tree, "sub"), ...argv);
      expect(below.err, argv.join(" ")).toContain(`(the commands below name files from the tree's top: cd ${bob.tree} first)`);
    }
    const early = await pq(bob.tree, "sync", "--continue");
    expect(early.code).toBe(5);
    expect(early.err).toContain("p1.patch needs a refresh");
    // --continue's refusal and status name the conflicted files' refresh too (t131 N6).
    expect(early.err).toContain("resolve its conflicts, then pq refresh a.c (the conflicted files alone");
    expect((await ok(bob.tree, "status")).out).toContain("and pq refresh a.c (the conflicted files alone");
    write(bob.tree, "a.c", read(bob.tree, "a.c").replace(/<<<<<<< ours\n[^]*?>>>>>>> theirs\n/, "five (ann and bob)\n"));
    // The advice's refresh, word for word, takes the conflicted file alone: an edit of another
    // file stays out of the patch the sync pushes to everyone (t130 N5).
    const advice =
      /edit the conflicted files \(pq goto PATCH if it is not applied\), (pq refresh [^(]*?) \(the conflicted files alone/.exec(
        stopped.err,
      )?.[1];
    expect(advice).toBe("pq refresh a.c");
    const bee = read(bob.tree, "b.c");
    write(bob.tree, "b.c", bee.replace("bee 3\n", "a private note\n"));
    await ok(bob.tree, ...advice!.split(" ").slice(1));
    expect(read(bob.queue, "p1.patch")).not.toContain("a private note");
    expect(read(bob.queue, "p1.patch")).toContain("+five (ann and bob)");
    write(bob.tree, "b.c", bee);
    const c = await ok(bob.tree, "sync", "--continue");
    expect(c.out).toContain("pushed");
    // Each patch once, with its kind of conflict (t104 N3).
    expect(c.out + c.err).toContain("conflicts in p1.patch (content) resolved by hand");
    expect((await ok(bob.tree, "top")).out.trim()).toBe("p2.patch");
    // The resolution is in the patch's history: the merge commit, as an interdiff against Bob's version.
    const log = await ok(bob.tree, "log", "p1.patch", "-p");
    expect(log.out).toMatch(
      /Author: Bob Example <bob@example.org>\n[^]*pq sync: merge origin\/main[^]*-five \(bob\)\n\+five \(ann and bob\)\n/,
    );
    // The merge commit names what was resolved by hand.
    expect(execFileSync("git", ["-C", bob.queue, "log", "-1", "--format=%B"], { encoding: "utf8" })).toContain(
      "- p1.patch: content conflict in a.c, resolved by hand\n",
    );
    await ok(ann.tree, "sync");
    await ok(ann.tree, "push", "-a");
    expect(read(ann.tree, "a.c")).toContain("five (ann and bob)\n");
    await expectConverged(w.remote, [ann, bob], w.base);
  });

  it("after --continue, the stack is back as high as it was, not as high as the stop pushed to show the markers (t35 F15)", async () => {
    await changedOnBothSides("p2.patch", "b.c", [3, "three (ann)", "p2: ann's three"], [3, "three (bob)"]);
    await ok(bob.tree, "goto", "p1.patch");
    await ok(bob.tree, "commit", "-m", "p2: bob's three");
    expect((await pq(bob.tree, "sync")).code).toBe(6);
    // The stop pushed p2 to show its markers.
    expect((await ok(bob.tree, "top")).out.trim()).toBe("p2.patch");
    write(bob.tree, "b.c", read(bob.tree, "b.c").replace(/<<<<<<< ours\n[^]*?>>>>>>> theirs\n/, "three (ann and bob)\n"));
    await ok(bob.tree, "refresh");
    expect((await ok(bob.tree, "sync", "--continue")).out).toContain("pushed");
    expect((await ok(bob.tree, "top")).out.trim()).toBe("p1.patch");
    expect(remoteQueue(w.remote).patches["p2.patch"]).toContain("+three (ann and bob)");
  });

  it("after --continue, a stack that was empty before the sync is empty again (t37 N1)", async () => {
    await changedOnBothSides("p2.patch", "b.c", [3, "three (ann)", "p2: ann's three"], [3, "three (bob)"]);
    await ok(bob.tree, "pop", "-a");
    await ok(bob.tree, "commit", "-m", "p2: bob's three");
    expect((await pq(bob.tree, "sync")).code).toBe(6);
    write(bob.tree, "b.c", read(bob.tree, "b.c").replace(/<<<<<<< ours\n[^]*?>>>>>>> theirs\n/, "three (ann and bob)\n"));
    await ok(bob.tree, "refresh");
    expect((await ok(bob.tree, "sync", "--continue")).out).toContain("pushed");
    expect((await ok(bob.tree, "applied")).out).toBe("");
  });

  it("pq status follows a stopped sync past its conflicts: resolved, then the patch a --continue found not applying (t37 N10)", async () => {
    // p3 changes b.c line 6, with lines 3-9 as its context.
    await bobsSyncStopsOnP2Under(["p3.patch", 6, "six (ann)"]);
    expect((await ok(bob.tree, "status")).out).toContain(
      "sync stopped on conflicts in p2.patch: resolve p2.patch (the marked files, or the file the sync kept) and pq refresh",
    );
    // A resolution that also drops lines 4 and 5, which p3.patch needs as its context.
    write(bob.tree, "b.c", read(bob.tree, "b.c").replace(/<<<<<<< ours\n[^]*?>>>>>>> theirs\nbee 4\nbee 5\n/, "three (ann and bob)\n"));
    await ok(bob.tree, "refresh");
    expect((await ok(bob.tree, "status")).out).toContain(
      "sync stopped on conflicts in p2.patch, resolved: pq sync --continue commits the merge",
    );
    const refused = await pq(bob.tree, "sync", "--continue");
    expect(refused.code).toBe(6);
    expect(refused.err).toContain("the queue does not apply: p3.patch");
    expect(refused.err).toContain("pq push --merge p3.patch");
    const status = (await ok(bob.tree, "status")).out;
    expect(status).toContain("sync stopped: the conflicts in p2.patch are resolved, but p3.patch (b.c: hunk #1 failed) does not apply");
    expect(status).toContain("pq push --merge p3.patch (its conflicts are marked in the tree), fix them and pq refresh");
    expect(status).not.toContain("resolve p2.patch");
    // Its header changed only: the same diff, still not applying (t41 N8).
    write(bob.queue, "p3.patch", read(bob.queue, "p3.patch").replace(/^Subject: .*$/m, "Subject: p3, reworded"));
    expect((await ok(bob.tree, "status")).out).toContain("p3.patch (b.c: hunk #1 failed) does not apply");
    // The markers back in the resolution: they come first again (t40 N1).
    const resolved = read(bob.queue, "p2.patch");
    write(
      bob.queue,
      "p2.patch",
      resolved.replace("+three (ann and bob)\n", "+<<<<<<< ours\n+three (bob)\n+=======\n+three (ann)\n+>>>>>>> theirs\n"),
    );
    expect((await ok(bob.tree, "status")).out).toContain("sync stopped on conflicts in p2.patch: resolve p2.patch");
    // Another resolution: what the refused --continue found no longer describes the queue (t40 N1).
    write(bob.queue, "p2.patch", resolved.replace("+three (ann and bob)\n", "+three (ann and bob)\n+bee 4\n"));
    expect((await ok(bob.tree, "status")).out).toContain("p2.patch, resolved: pq sync --continue");
    write(bob.queue, "p2.patch", resolved);
    expect((await ok(bob.tree, "status")).out).toContain("p3.patch (b.c: hunk #1 failed) does not apply");
    // Pushed with --merge to be fixed, as the advice says: that is what status says then (t41 N1).
    await pq(bob.tree, "push", "--merge", "p3.patch");
    expect((await ok(bob.tree, "status")).out).toContain(
      "sync stopped: p3.patch, pushed to be fixed over the resolution, has conflicts marked in the tree: fix them and pq refresh",
    );
    await ok(bob.tree, "pop", "--force");
    // Once p3.patch is changed, the same.
    dropP3sContextAbove6();
    expect((await ok(bob.tree, "status")).out).toContain("p2.patch, resolved: pq sync --continue");
  });

  it("a not-applying patch edited by hand, which a merge cannot help, is advised pq push --force, and then its .rej files (t42 N4)", async () => {
    await bobsSyncStopsOnP2Under(["p3.patch", 6, "six (ann)"]);
    write(bob.tree, "b.c", read(bob.tree, "b.c").replace(/<<<<<<< ours\n[^]*?>>>>>>> theirs\nbee 4\nbee 5\n/, "three (ann and bob)\n"));
    await ok(bob.tree, "refresh");
    // p3.patch's context changed by hand: it applies neither over the resolution nor to the blob its index line names.
    write(bob.queue, "p3.patch", read(bob.queue, "p3.patch").replace(/^ bee 8$/m, " bee eight"));
    const refused = await pq(bob.tree, "sync", "--continue");
    expect(refused.code).toBe(6);
    expect(refused.err).toContain("pq push --force p3.patch (a three-way merge cannot help: the patch does not apply to the blob");
    expect(refused.err).not.toContain("push --merge");
    expect((await ok(bob.tree, "status")).out).toContain(
      "does not apply over the resolution: pq push --force p3.patch (a three-way merge cannot help",
    );
    // Followed: the hunk is in b.c.rej, and that is what status says is left.
    const forced = await pq(bob.tree, "push", "--force", "p3.patch");
    expect(forced.code).toBe(6); // applied with rejects, as quilt push -f exits 1
    expect(forced.out).toContain("rejects written: b.c.rej");
    const status = (await ok(bob.tree, "status")).out;
    expect(status).toContain(
      "sync stopped: p3.patch, pushed to be fixed over the resolution, has hunks in .rej files: fix them and pq refresh",
    );
    expect(status).not.toContain("conflicts marked");
  });

  it("with two patches not applying over the resolution, a change to the lower one forgets both (t42 N5)", async () => {
    // p3 changes b.c line 6 (context 3-9), p4 line 15 (context 12-18).
    await bobsSyncStopsOnP2Under(["p3.patch", 6, "six (ann)"], ["p4.patch", 15, "fifteen (ann)"]);
    // A resolution that drops lines 4-19, the context of both.
    write(
      bob.tree,
      "b.c",
      read(bob.tree, "b.c").replace(/<<<<<<< ours\n[^]*?>>>>>>> theirs\n(bee \d+\n)+/, "three (ann and bob)\nbee 20\n"),
    );
    await ok(bob.tree, "refresh");
    expect((await pq(bob.tree, "sync", "--continue")).code).toBe(6);
    expect((await ok(bob.tree, "status")).out).toContain("but p3.patch (b.c: hunk #1 failed), p4.patch (b.c: hunk #1 failed) do not apply");
    // p3.patch changed (as a fix would change it): what was found of p4 may not hold either.
    dropP3sContextAbove6();
    const status = (await ok(bob.tree, "status")).out;
    expect(status).not.toContain("p4.patch (b.c: hunk #1 failed)");
    expect(status).toContain("p2.patch, resolved: pq sync --continue");
  });

  it("edits on a patch a plain git pull changed: sync and refresh advise a patch of their own, not a refresh (collab-7 #5)", async () => {
    await ok(ann.tree, "goto", "p1.patch");
    editLine(ann.tree, "a.c", 20, "twenty (ann)");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "p1: twenty");
    await ok(ann.tree, "sync");
    await ok(bob.tree, "goto", "p1.patch");
    git(bob.queue, "pull", "-q");
    editLine(bob.tree, "a.c", 30, "thirty (bob)");
    const sync = await pq(bob.tree, "sync");
    expect(sync.code).toBe(5);
    expect(sync.err).toContain("pq new NAME and pq refresh keep your changes as a patch of their own");
    const refresh = await pq(bob.tree, "refresh");
    expect(refresh.code).toBe(5);
    expect(refresh.err).toContain("pq new NAME and pq refresh make them a patch of their own");
    expect(refresh.err).toContain("discards the change the new version brought");
    // Following it works: the edit is a patch of its own, and pop and push take the new p1.patch under it.
    await ok(bob.tree, "new", "mine.patch");
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "mine");
    await ok(bob.tree, "sync");
    await ok(bob.tree, "pop", "-a");
    await ok(bob.tree, "push", "-a");
    expect(read(bob.tree, "a.c")).toContain("twenty (ann)");
    expect(read(bob.tree, "a.c")).toContain("thirty (bob)");
  });

  describe("a sync stopped on conflicts", () => {
    /** Ann and Bob both change a.c line 5 in p1.patch; Bob's sync stops (exit 6) with p2.patch applied before. */
    async function stopped(): Promise<string> {
      await ok(ann.tree, "goto", "p1.patch");
      editLine(ann.tree, "a.c", 5, "five (ann)");
      await ok(ann.tree, "refresh");
      await ok(ann.tree, "commit", "-m", "p1: ann's five");
      await ok(ann.tree, "sync");
      await ok(bob.tree, "goto", "p1.patch");
      editLine(bob.tree, "a.c", 5, "five (bob)");
      await ok(bob.tree, "refresh");
      await ok(bob.tree, "commit", "-m", "p1: bob's five");
      await ok(bob.tree, "push", "-a");
      const head = git(bob.queue, "rev-parse", "HEAD").trim();
      expect((await pq(bob.tree, "sync")).code).toBe(6);
      return head;
    }
    const resolve_ = () => write(bob.tree, "a.c", read(bob.tree, "a.c").replace(/<<<<<<< ours\n[^]*?>>>>>>> theirs\n/, "five (both)\n"));
    it("refresh over the markers names the way out that works while the sync is stopped, not pq undo (collab-17 F2)", async () => {
      await stopped();
      const r = await pq(bob.tree, "refresh");
      expect(r.code).toBe(6);
      expect(r.err).toContain("pq sync --abort puts everything back as it was before the sync");
      expect(r.err).not.toContain("pq undo");
    });

    it("resolved in the patch file: refresh --force does not put the tree's markers over it, and the way out is said (collab-17 F16)", async () => {
      await stopped();
      expect((await ok(bob.tree, "top")).out.trim()).toBe("p1.patch");
      // The quilt way: the resolution written into the patch file, the tree keeping its markers.
      const theirs = remoteQueue(w.remote).patches["p1.patch"];
      write(bob.queue, "p1.patch", theirs.replace("+five (ann)", "+five (both)"));
      const forced = await pq(bob.tree, "refresh", "--force");
      expect(forced.code).toBe(6);
      expect(forced.err).toContain(
        "p1.patch was also edited in the queue (a resolution made there?): pq pop --force, then pq push, applies that version",
      );
      expect(read(bob.queue, "p1.patch")).toContain("+five (both)");
      const cont = await pq(bob.tree, "sync", "--continue");
      expect(cont.code).toBe(5);
      expect(cont.err).toContain("pq pop --force, then pq push, applies that version");
      await ok(bob.tree, "pop", "--force");
      await ok(bob.tree, "push");
      await ok(bob.tree, "sync", "--continue");
      expect(remoteQueue(w.remote).patches["p1.patch"]).toContain("+five (both)");
    });

    /** Ann adds p3.patch (a.c line 30, above p1.patch's line 5) and shares it; Bob takes it. */
    async function annSharesP3(): Promise<void> {
      await ok(ann.tree, "push", "-a");
      await ok(ann.tree, "new", "p3.patch", "-m", "three: line 30");
      editLine(ann.tree, "a.c", 30, "thirty");
      await ok(ann.tree, "refresh");
      await ok(ann.tree, "commit", "-m", "p3");
      await ok(ann.tree, "sync");
      await ok(bob.tree, "sync");
    }

    it("a patch above the conflicted one is not regenerated over the conflict markers (collab-7 #1)", async () => {
      // p3.patch, above p1.patch in the same file, is Ann's and nobody changes it.
      await annSharesP3();
      const p3 = read(bob.queue, "p3.patch");
      await stopped();
      resolve_();
      await ok(bob.tree, "refresh");
      await ok(bob.tree, "sync", "--continue");
      // Pushed as it was: the resolution did not move its context.
      expect(remoteQueue(w.remote).patches["p3.patch"]).toBe(p3);
    });

    it("a patch above the conflicted one is regenerated at --continue when the resolution moved its context (verify-7 V5)", async () => {
      await annSharesP3();
      await stopped();
      // The resolution is three lines longer than either side's.
      write(
        bob.tree,
        "a.c",
        read(bob.tree, "a.c").replace(/<<<<<<< ours\n[^]*?>>>>>>> theirs\n/, "five (both)\nextra 1\nextra 2\nextra 3\n"),
      );
      await ok(bob.tree, "refresh");
      const c = await ok(bob.tree, "sync", "--continue");
      expect(c.out + c.err).toContain("p3.patch: regenerated (the resolution moved its context)");
      await ok(ann.tree, "sync");
      await ok(ann.tree, "pop", "-a");
      const pushed = await ok(ann.tree, "push", "-a");
      expect(pushed.out).not.toMatch(/offset|fuzz/);
    });

    it("pq commit and pq undo refuse (the merge commits the resolution; --abort takes the sync back)", async () => {
      await stopped();
      resolve_();
      await ok(bob.tree, "refresh");
      const commit = await pq(bob.tree, "commit", "-m", "resolved");
      expect(commit.code).toBe(12);
      expect(commit.err).toContain("pq sync --continue");
      const undo = await pq(bob.tree, "undo");
      expect(undo.code).toBe(12);
      expect(undo.err).toContain("pq sync --abort");
      // Redo takes nothing back: it says why it is refused as what it is (t62 N7).
      const redo = await pq(bob.tree, "redo");
      expect([redo.code, redo.err]).toEqual([
        12,
        expect.stringContaining("pq redo is refused while it is (it would change the stack under the stopped sync)"),
      ]);
      expect((await ok(bob.tree, "sync", "--continue")).out).toContain("pushed");
      expect(remoteQueue(w.remote).patches["p1.patch"]).toContain("+five (both)");
    });

    it("after --abort, pq undo reaches the operations before the sync (safe-6 #10)", async () => {
      await stopped();
      const before = fullSnapshot(bob.tree);
      await ok(bob.tree, "sync", "--abort");
      const oplog = await ok(bob.tree, "oplog");
      expect(oplog.out).toContain("(undone)");
      // Bob's push -a before the sync is what undo takes back now.
      const undo = await pq(bob.tree, "undo");
      expect(undo.code, undo.err).toBe(0);
      expect(undo.out).toContain("undid push");
      expect(fullSnapshot(bob.tree)).not.toEqual(before);
      expect((await pq(bob.tree, "redo")).code).toBe(0);
    });

    it("a commit made by hand on the queue's branch meanwhile: --continue merges on top of it, --abort refuses to drop it", async () => {
      const head = await stopped();
      resolve_();
      await ok(bob.tree, "refresh");
      git(bob.queue, "commit", "-qam", "resolved by hand");
      const handCommit = git(bob.queue, "rev-parse", "HEAD").trim();
      const abort = await pq(bob.tree, "sync", "--abort");
      expect(abort.code).toBe(12);
      expect(abort.err).toContain(`moved to ${handCommit.slice(0, 12)}`);
      expect(abort.err).toContain(`git -C ${bob.queue} reset --hard ${head.slice(0, 12)}`);
      expect((await ok(bob.tree, "sync", "--continue")).out).toContain("pushed");
      // The hand commit is the merge's first parent: nothing was dropped.
      expect(git(bob.queue, "rev-parse", "HEAD^1").trim()).toBe(handCommit);
      expect(remoteQueue(w.remote).patches["p1.patch"]).toContain("+five (both)");
    });

    it("--abort saves the patches refreshed or made while the sync was stopped, and says where (collab-7 #3)", async () => {
      await stopped();
      resolve_();
      await ok(bob.tree, "refresh");
      await ok(bob.tree, "push", "-a");
      editLine(bob.tree, "b.c", 15, "fifteen (important work)");
      await ok(bob.tree, "refresh");
      await ok(bob.tree, "new", "during.patch", "-m", "made during the stop");
      editLine(bob.tree, "a.c", 30, "thirty (new work)");
      await ok(bob.tree, "refresh");
      const abort = await ok(bob.tree, "sync", "--abort");
      const saved =
        /queue files changed while the sync was stopped \(refreshed or new patches\) were saved in (\S+) before the queue was put back/.exec(
          abort.out,
        )?.[1];
      expect(saved, abort.out).toBeTruthy();
      expect(read(saved!, "p2.patch")).toContain("+fifteen (important work)");
      expect(read(saved!, "during.patch")).toContain("+thirty (new work)");
      expect(read(saved!, "p1.patch")).toContain("+five (both)");
      expect(readdirSync(saved!).sort()).toEqual(["during.patch", "p1.patch", "p2.patch", "series"]);
      expect(abort.out).toContain("during.patch, applied here, was made while the sync was stopped and goes with the abort");
      // The stack is back at the top the sync started from (during.patch, pushed while it was stopped,
      // goes), and pq undo reaches the operations before the sync (verify-7 V6).
      expect((await ok(bob.tree, "applied")).out).toBe("p1.patch\np2.patch\n");
      const undo = await pq(bob.tree, "undo");
      expect(undo.code, undo.err).toBe(0);
    });

    it("--abort says where edits made meanwhile went, and fails (exit 5) when the stack cannot be put back", async () => {
      await stopped();
      // While resolving, Bob types into b.c, a file of p2.patch (applied before the sync, popped by it).
      editLine(bob.tree, "b.c", 30, "thirty (typed while resolving)");
      const r = await pq(bob.tree, "sync", "--abort");
      expect(r.code).toBe(5);
      expect(r.out).toContain("the queue is as before, the applied stack is not");
      expect(r.err).toContain("the applied stack could not be put back (it stopped at p1.patch)");
      expect(r.err).toContain("b.c");
      expect(read(bob.tree, "b.c")).toContain("thirty (typed while resolving)");
      // An edit in the conflicted patch's own file is overwritten by the abort: saved, and said where.
      await ok(bob.tree, "refresh");
      await ok(bob.tree, "commit", "-m", "p2: line 30");
      expect((await pq(bob.tree, "sync")).code).toBe(6);
      editLine(bob.tree, "a.c", 30, "thirty (an hour of work)");
      const again = await ok(bob.tree, "sync", "--abort");
      const saved = /saved in (\S+)/.exec(again.out)?.[1];
      expect(saved).toBeTruthy();
      expect(read(saved!, "a.c")).toContain("thirty (an hour of work)");
    });
  });

  it("refuses a remote queue rewritten with no history in common (force-pushed from a new root)", async () => {
    const before = git(bob.queue, "rev-parse", "HEAD").trim();
    // Ann restarts the shared queue without p2.patch and force-pushes it.
    await ok(ann.tree, "pop", "-a");
    git(ann.queue, "checkout", "-q", "--orphan", "fresh");
    git(ann.queue, "rm", "-q", "--cached", "p2.patch");
    rmSync(join(ann.queue, "p2.patch"));
    write(ann.queue, "series", "p1.patch\n");
    git(ann.queue, "add", "series", "p1.patch");
    git(ann.queue, "commit", "-qm", "restart without p2");
    git(ann.queue, "push", "-q", "-f", "origin", "fresh:main");
    editLine(bob.tree, "b.c", 30, "thirty (bob)");
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "bob p2");
    const after = git(bob.queue, "rev-parse", "HEAD").trim();
    const r = await pq(bob.tree, "sync");
    expect(r.code).toBe(12);
    expect(r.err).toContain("no history in common");
    expect(git(bob.queue, "rev-parse", "HEAD").trim()).toBe(after);
    expect(after).not.toBe(before);
    expect(remoteQueue(w.remote).series).toBe("p1.patch\n");
  });

  it("merges two queues started apart on an empty remote (each pq init --shared before either pushed)", async () => {
    const w2 = world();
    try {
      const carol = await join_(w2, w2.remote, "Carol Example", "carol@example.org");
      const dave = await join_(w2, w2.remote, "Dave Example", "dave@example.org");
      // Each queue starts the empty remote with a first commit, made as the person in that tree.
      expect(git(dave.queue, "log", "--format=%an %s")).toBe("Dave Example pq: start the shared queue\n");
      for (const [who, file, line] of [
        [carol, "a.c", 7],
        [dave, "b.c", 9],
      ] as const) {
        await ok(who.tree, "new", `${who.name.split(" ")[0].toLowerCase()}.patch`, "-m", who.name);
        editLine(who.tree, file, line, `${line} (${who.name})`);
        await ok(who.tree, "refresh");
        await ok(who.tree, "commit", "-m", `${who.name}'s patch`);
      }
      await ok(carol.tree, "sync");
      // Dave's queue has never merged anything of the remote's: not a rewrite, so merged with nothing in common.
      const r = await ok(dave.tree, "sync");
      expect(r.out).toContain("origin/main and this queue were started apart: merged with nothing in common");
      expect(remoteQueue(w2.remote).series).toBe("carol.patch\ndave.patch\n");
      await ok(carol.tree, "sync");
      await ok(carol.tree, "push", "-a");
      await expectConverged(w2.remote, [carol, dave], w2.base);
      // From then on they share history: a rewrite of the remote is refused again.
      git(carol.queue, "checkout", "-q", "--orphan", "fresh");
      git(carol.queue, "commit", "-qm", "restart");
      git(carol.queue, "push", "-q", "-f", "origin", "fresh:main");
      await ok(dave.tree, "new", "more.patch", "-m", "more");
      await ok(dave.tree, "commit", "-m", "more");
      const again = await pq(dave.tree, "sync");
      expect(again.code).toBe(12);
      expect(again.err).toContain("no history in common");
    } finally {
      cleanup(w2.root);
    }
  });

  it("status names every applied patch whose queue file changed (a pull of the queue by hand), not only the top", async () => {
    await ok(ann.tree, "goto", "p1.patch");
    editLine(ann.tree, "a.c", 20, "twenty (ann)");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "p1: line 20");
    await ok(ann.tree, "sync");
    git(bob.queue, "pull", "-q");
    const st = await ok(bob.tree, "status");
    expect(st.out).toContain("p1.patch changed in the queue since it was pushed");
    expect(JSON.parse((await ok(bob.tree, "status", "--json")).out).changedInQueue).toEqual(["p1.patch"]);
    // Nothing left to merge, but the stack follows the pulled queue (t35 F16: "already up to date", the old p1 left applied).
    const followed = await ok(bob.tree, "sync");
    expect(followed.out).toContain("stack: popped 2, pushed 2; top: p2.patch");
    expect(read(bob.tree, "a.c")).toContain("twenty (ann)\n");
    expect(JSON.parse((await ok(bob.tree, "status", "--json")).out).changedInQueue ?? []).toEqual([]);
    // With nothing applied, the queue's own repository is not listed as an untracked file of the tree.
    await ok(bob.tree, "pop", "-a");
    expect((await ok(bob.tree, "status")).out).not.toContain("untracked");
  });

  /** Ann deletes p2.patch and syncs; Bob changes p2 (and, with `commit`, commits the queue). */
  async function annDropsP2BobChangesIt(commit: boolean): Promise<void> {
    await ok(ann.tree, "pop", "-a");
    await ok(ann.tree, "delete", "p2.patch");
    await ok(ann.tree, "commit", "-m", "drop p2");
    await ok(ann.tree, "sync");
    editLine(bob.tree, "b.c", 4, "four (bob)");
    await ok(bob.tree, "refresh");
    if (commit) await ok(bob.tree, "commit", "-m", "p2: line 4");
  }

  it("says when the queue it pushed applies on a tree commit the tree's upstream lacks (a finished patch: collab-8 C3)", async () => {
    await ok(ann.tree, "goto", "p1.patch");
    await ok(ann.tree, "finish", "p1.patch");
    await ok(ann.tree, "commit", "-m", "p1 finished");
    const s = await ok(ann.tree, "sync");
    expect(s.out).toMatch(/note: your tree has 1 commit\(s\) that origin\/\S+ does not \(pq finish makes them\)/);
  });

  it("refuses up front, nothing changed, a file of yours where an incoming patch creates one (collab-8 C10)", async () => {
    await ok(ann.tree, "pop", "-a");
    await ok(ann.tree, "new", "mk-notes.patch", "-m", "notes");
    write(ann.tree, "notes.txt", "ann's notes\n");
    await ok(ann.tree, "add", "notes.txt");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "mk-notes");
    await ok(ann.tree, "sync");
    write(bob.tree, "notes.txt", "bob's own notes\n");
    const applied = (await ok(bob.tree, "applied")).out;
    const r = await pq(bob.tree, "sync");
    expect(r.code).toBe(5);
    expect(r.err).toContain("notes.txt is in your tree where mk-notes.patch (new or changed there) creates it");
    expect((await ok(bob.tree, "applied")).out).toBe(applied);
    expect(read(bob.tree, "notes.txt")).toBe("bob's own notes\n");
  });

  it("keeps the refresh when the other side deleted the patch (a conflict to confirm)", async () => {
    await annDropsP2BobChangesIt(true);
    const r = await pq(bob.tree, "sync");
    expect(r.code).toBe(6);
    expect(r.err).toContain("was deleted there but changed here: the changed version is kept");
    expect(remoteQueue(w.remote).series).toBe("p1.patch\n");
    // Its own advice, not a refresh's (t40 N2).
    expect((await ok(bob.tree, "status")).out).toContain(
      "sync stopped on conflicts in p2.patch: pq goto p1.patch, then pq delete p2.patch if deleted is right (or keep it as it is); then pq sync --continue",
    );
    const c = await ok(bob.tree, "sync", "--continue");
    expect(c.out).toContain("merged and pushed");
    expect(remoteQueue(w.remote).patches["p2.patch"]).toContain("+four (bob)");
    await ok(ann.tree, "sync");
    await expectConverged(w.remote, [ann, bob], w.base);
  });

  it("deleting it as the stop says works word for word: the applied patch is popped first (t123 N2)", async () => {
    await annDropsP2BobChangesIt(true);
    const r = await pq(bob.tree, "sync");
    expect(r.code).toBe(6);
    const way = /the changed version is kept; (pq goto \S+), then (pq delete \S+) if it should go/.exec(r.err);
    expect(way?.slice(1)).toEqual(["pq goto p1.patch", "pq delete p2.patch"]);
    for (const command of way!.slice(1)) expect((await pq(bob.tree, ...command.split(" ").slice(1))).code, command).toBe(0);
    expect((await ok(bob.tree, "sync", "--continue")).out).toContain("merged and pushed");
    expect(remoteQueue(w.remote).series).toBe("p1.patch\n");
    await ok(ann.tree, "sync");
    await expectConverged(w.remote, [ann, bob], w.base);
  });

  it("sync --continue names the queue changes made during the stop that go out with the merge (collab-8 C8)", async () => {
    await annDropsP2BobChangesIt(true);
    expect((await pq(bob.tree, "sync")).code).toBe(6);
    // While stopped: a new patch, not part of the resolution.
    await ok(bob.tree, "new", "wip.patch", "-m", "wip");
    editLine(bob.tree, "a.c", 33, "thirty-three (wip)");
    await ok(bob.tree, "refresh");
    const c = await ok(bob.tree, "sync", "--continue");
    expect(c.out).toContain("also in the merge, as changed while the sync was stopped: wip.patch (new)");
    expect(remoteQueue(w.remote).patches["wip.patch"]).toContain("+thirty-three (wip)");
  });

  it("sync --abort of that stop puts the stack back where it was, also when the sync pushed the kept patch (collab-8 C1)", async () => {
    await annDropsP2BobChangesIt(false);
    await ok(bob.tree, "goto", "p1.patch");
    await ok(bob.tree, "new", "bob-new.patch", "-m", "bob: line 30");
    editLine(bob.tree, "a.c", 30, "thirty (bob)");
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "bob");
    const before = { applied: (await ok(bob.tree, "applied")).out, a: read(bob.tree, "a.c"), b: read(bob.tree, "b.c") };
    expect(before.applied).toBe("p1.patch\nbob-new.patch\n");
    const r = await pq(bob.tree, "sync");
    expect(r.code).toBe(6);
    expect(r.err).toContain("was deleted there but changed here");
    const abort = await ok(bob.tree, "sync", "--abort");
    expect(abort.out).toContain("as before (top: bob-new.patch)");
    expect({ applied: (await ok(bob.tree, "applied")).out, a: read(bob.tree, "a.c"), b: read(bob.tree, "b.c") }).toEqual(before);
  });

  it("stops on a header field changed on both sides (theirs in the message), and keeps two patches added under one name", async () => {
    await ok(ann.tree, "header", "p1.patch", "-m", "one: Ann's subject");
    await ok(ann.tree, "new", "fix.patch", "-m", "Ann: fix line 10");
    editLine(ann.tree, "a.c", 10, "ten");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "ann");
    await ok(ann.tree, "sync");
    await ok(bob.tree, "header", "p1.patch", "-m", "one: Bob's subject");
    await ok(bob.tree, "new", "fix.patch", "-m", "Bob: fix line 30");
    editLine(bob.tree, "a.c", 30, "thirty");
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "bob");
    const stopped = await pq(bob.tree, "sync");
    expect(stopped.code).toBe(6);
    expect(stopped.err).toContain(`subject: yours "one: Bob's subject", theirs "one: Ann's subject"`);
    expect(stopped.out).toContain("fix.patch: added on both sides as two different patches");
    expect(remoteQueue(w.remote).series).toBe("p1.patch\np2.patch\nfix.patch\n");
    // status says how a header conflict is resolved (pq header), not "refresh" (readme-4 #21).
    expect((await ok(bob.tree, "status")).out).toContain(
      "sync stopped on conflicts in p1.patch: choose p1.patch's header with pq header NAME -m/-u; then pq sync --continue",
    );
    await ok(bob.tree, "header", "p1.patch", "-m", "one: Ann's subject");
    // Chosen: --continue is what is left (t40 N2).
    expect((await ok(bob.tree, "status")).out).toContain("sync stopped on conflicts in p1.patch, resolved: pq sync --continue");
    await ok(bob.tree, "sync", "--continue");
    const remote = remoteQueue(w.remote);
    expect(remote.series).toBe("p1.patch\np2.patch\nfix.patch\nfix-2.patch\n");
    expect(remote.patches["p1.patch"]).toContain("Subject: one: Ann's subject");
    expect(remote.patches["fix.patch"]).toMatch(/From: Ann Example[\s\S]*\+ten\n/);
    expect(remote.patches["fix.patch"]).not.toContain("thirty");
    expect(remote.patches["fix-2.patch"]).toMatch(/From: Bob Example[\s\S]*\+thirty\n/);
    expect(read(bob.tree, "a.c")).toContain("thirty");
    // Each patch's history is its own (collab-8 C9): Bob's, renamed in the merge, keeps his commit; Ann's keeps
    // hers, and neither carries the other's, nor does Ann's count the merge that only renamed Bob's.
    const history = async (patch: string) =>
      (JSON.parse((await ok(bob.tree, "log", patch, "--json")).out) as { message: string; name: string; renamedFrom?: string }[]).map(
        (e) => `${e.message.split("\n")[0]} [${e.name}${e.renamedFrom ? ` from ${e.renamedFrom}` : ""}]`,
      );
    const bobs = await history("fix-2.patch");
    expect(bobs[0]).toMatch(/^pq sync: merge .* \[fix-2\.patch from fix\.patch\]$/);
    expect(bobs.slice(1)).toEqual(["bob [fix.patch]"]);
    expect(await history("fix.patch")).toEqual(["ann [fix.patch]"]);
    // range-diff across that merge pairs Bob's patch with its renamed self, and shows Ann's as new.
    const across = (await ok(bob.tree, "range-diff", "HEAD~1", "HEAD")).out;
    expect(across).toMatch(/\d: fix\.patch +[=!] \d: fix-2\.patch/);
    expect(across).toMatch(/-: -+ +> \d: fix\.patch/);
  });

  it("a patch of theirs named like a file of ours that is in no series: both kept, a conflict to decide", async () => {
    await ok(bob.tree, "pop", "-a");
    write(bob.queue, "p3.patch", "Bob's draft, saved from a mail\n");
    // Untracked and in no series: no pq commit takes it until git add does (t60 N15), and a sync
    // leaves it alone while the remote has no file of its name (t108 N1).
    await ok(bob.tree, "sync");
    expect(read(bob.queue, "p3.patch")).toBe("Bob's draft, saved from a mail\n");
    git(bob.queue, "add", "p3.patch");
    await ok(bob.tree, "commit", "-m", "draft");
    await ok(ann.tree, "new", "p3.patch", "-m", "three");
    editLine(ann.tree, "a.c", 20, "twenty");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "p3");
    await ok(ann.tree, "sync");
    const stopped = await pq(bob.tree, "sync");
    expect(stopped.code).toBe(6);
    expect(stopped.err).toContain("that file is kept as p3.patch.ours");
    expect(read(bob.queue, "p3.patch.ours")).toBe("Bob's draft, saved from a mail\n");
    expect(read(bob.queue, "p3.patch")).toContain("+twenty");
    rmSync(join(bob.queue, "p3.patch.ours"));
    await ok(bob.tree, "sync", "--continue");
    expect(Object.keys(remoteQueue(w.remote).patches).sort()).toEqual(["p1.patch", "p2.patch", "p3.patch"]);
  });

  it("follows a rename on one side while the other refreshed the patch", async () => {
    await ok(ann.tree, "rename", "p2.patch", "p2-bee.patch");
    await ok(ann.tree, "commit", "-m", "rename p2");
    await ok(ann.tree, "sync");

    editLine(bob.tree, "b.c", 4, "four (bob)");
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "p2: line 4");
    const r = await ok(bob.tree, "sync");
    expect(r.out).toContain("p2.patch was renamed to p2-bee.patch");
    expect(series(bob)).toBe("p1.patch\np2-bee.patch\n");
    expect((await ok(bob.tree, "top")).out.trim()).toBe("p2-bee.patch");
    expect(read(bob.queue, "p2-bee.patch")).toContain("+four (bob)");
    await ok(ann.tree, "sync");
    await expectConverged(w.remote, [ann, bob], w.base);
    // The patch's log has both sides: Bob's refresh (under the old name) and Ann's rename, each under its author.
    const log = JSON.parse((await ok(ann.tree, "log", "p2-bee.patch", "--json")).out) as {
      message: string;
      author: string;
      name: string;
      parents: string[];
    }[];
    expect(log.map((e) => `${e.message.split("\n")[0]} | ${e.author.split(" <")[0]} | ${e.name}`)).toEqual(
      expect.arrayContaining(["p2: line 4 | Bob Example | p2.patch", "rename p2 | Ann Example | p2-bee.patch"]),
    );
    expect(log[0].parents).toHaveLength(2);
  });

  it("keeps a reorder on one side and a patch added on the other", async () => {
    await ok(ann.tree, "pop", "-a");
    await ok(ann.tree, "reorder", "p2.patch", "--first");
    await ok(ann.tree, "commit", "-m", "p2 first");
    await ok(ann.tree, "sync");

    await ok(bob.tree, "new", "n3.patch", "-m", "n3");
    editLine(bob.tree, "a.c", 20, "twenty");
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "add n3");
    await ok(bob.tree, "sync");
    expect(series(bob)).toBe("p2.patch\np1.patch\nn3.patch\n");
    expect((await ok(bob.tree, "applied")).out.trim().split("\n")).toEqual(["p2.patch", "p1.patch", "n3.patch"]);
    await ok(ann.tree, "sync");
    await expectConverged(w.remote, [ann, bob], w.base);
  });

  it("regenerates a later patch whose context moved when an earlier one was refreshed", async () => {
    await ok(ann.tree, "goto", "p1.patch");
    write(ann.tree, "a.c", "new first line\nanother\n" + read(ann.tree, "a.c"));
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "p1 grows");
    await ok(ann.tree, "sync");

    await ok(bob.tree, "new", "later.patch", "-m", "later");
    editLine(bob.tree, "a.c", 30, "thirty (bob)");
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "add later");
    const r = await ok(bob.tree, "sync");
    expect(r.out).toContain("later.patch: regenerated (its context moved)");
    expect(read(bob.queue, "later.patch")).toContain("@@ -29,7 +29,7 @@");
    const repo = (await GitRepo.open(w.base))!;
    const sim = await simulateQueue(remoteQueue(w.remote), (p) => repo.headContent(p));
    expect([...sim.runs.values()].every((x) => x.exact)).toBe(true);
    await ok(ann.tree, "sync");
    await expectConverged(w.remote, [ann, bob], w.base);
  });

  it("merges again when the push loses a race (and never forces)", async () => {
    await eachCommitsANewPatch();
    await ok(bob.tree, "pop", "-a"); // an unapplied change on a third side, to be merged on the retry
    await ok(bob.tree, "push", "-a");

    // Ann pushes between Bob's merge and Bob's push: the gate hook is the one moment in between.
    let calls = 0;
    const stack = await Stack.open({ tree: bob.tree });
    const report = await sync(stack, {
      gate: async () => {
        if (calls++ === 0) await ok(ann.tree, "sync");
        return { ok: true, report: "" };
      },
    });
    expect(report.result).toBe("pushed");
    expect(report.attempts).toBe(2);
    expect(report.notes.join("\n")).toContain("attempt 1: the push lost a race; merged again");
    expect(remoteQueue(w.remote).series).toBe("p1.patch\np2.patch\na3.patch\nb3.patch\n");
    await ok(ann.tree, "sync");
    await expectConverged(w.remote, [ann, bob], w.base);
  });

  it("--abort after a lost race and a second merge that stopped goes back to before the first merge too (t144 N7)", async () => {
    // Ann's change of p2, merged cleanly by Bob's first round; Ann's change of p1 line 5 lands during it.
    await commitEditOf(ann, "p2.patch", { file: "b.c", line: 10, text: "ten (ann)" }, "ann: p2");
    await ok(ann.tree, "sync");
    await commitEditOf(bob, "p1.patch", { file: "a.c", line: 5, text: "five (bob)" }, "bob: p1");
    const before = {
      head: git(bob.queue, "rev-parse", "HEAD"),
      a: read(bob.tree, "a.c"),
      b: read(bob.tree, "b.c"),
      applied: (await ok(bob.tree, "applied")).out,
    };
    let calls = 0;
    const stack = await Stack.open({ tree: bob.tree });
    const report = await sync(stack, {
      gate: async () => {
        if (calls++ === 0) {
          await commitEditOf(ann, "p1.patch", { file: "a.c", line: 5, text: "five (ann)" }, "ann: p1");
          await ok(ann.tree, "sync");
        }
        return { ok: true, report: "" };
      },
    });
    expect(report.result).toBe("conflicts");
    expect(report.attempts).toBe(2);
    const abort = await ok(bob.tree, "sync", "--abort");
    expect(abort.out).toContain("the queue and the tree are as before");
    expect(git(bob.queue, "rev-parse", "HEAD")).toBe(before.head);
    expect([read(bob.tree, "a.c"), read(bob.tree, "b.c"), (await ok(bob.tree, "applied")).out]).toEqual([
      before.a,
      before.b,
      before.applied,
    ]);
    // Undo goes on to what came before the sync: Bob's refresh of p1.
    expect((await ok(bob.tree, "undo")).out).toContain("refresh p1.patch");
  });

  it("pushes the commit it checked, not one made by hand in the queue's repository while it ran (t37 N5)", async () => {
    await eachCommitsANewPatch();
    await ok(ann.tree, "sync");
    const stack = await Stack.open({ tree: bob.tree });
    let byHand = "";
    const report = await sync(stack, {
      gate: async () => {
        write(bob.queue, "stray.txt", "not checked\n");
        git(bob.queue, "add", "stray.txt");
        git(bob.queue, "commit", "-qm", "by hand during the sync");
        byHand = git(bob.queue, "rev-parse", "HEAD").trim();
        return { ok: true, report: "" };
      },
    });
    expect(report.result).toBe("pushed");
    expect(git(w.remote, "rev-parse", "main").trim()).toBe(report.head);
    expect(report.head).not.toBe(byHand);
    expect(git(w.remote, "ls-tree", "--name-only", "main")).not.toContain("stray.txt");
  });

  it("with --retries 0, a lost race is said as one and not as a merge to come (t35 F13)", async () => {
    await eachCommitsANewPatch();
    const said: string[] = [];
    const stack = await Stack.open({ tree: bob.tree });
    const lost = await sync(stack, {
      maxRetries: 0,
      onEvent: (e) => void said.push(e.message),
      gate: async () => {
        await ok(ann.tree, "sync");
        return { ok: true, report: "" };
      },
    }).catch((e: unknown) => e as Error);
    expect(lost).toBeInstanceOf(Error);
    expect((lost as Error).message).toBe("the push lost the race 1 time; nothing was forced");
    expect(said.join("\n")).not.toContain("fetching and merging again");
    // Status counts against what won the race: behind it, not only ahead.
    expect(JSON.parse((await ok(bob.tree, "status", "--json")).out).shared).toMatchObject({ ahead: 1, behind: 1 });
  });

  it("merges again when the branch moved while the remote's hook ran (git: cannot lock ref)", async () => {
    // Ann's queue commit reaches the remote on a side branch; the remote's pre-receive hook moves
    // main to it during Bob's first push, as a colleague's push landing during a slow ci gate does.
    await ok(ann.tree, "new", "a3.patch", "-m", "a3");
    editLine(ann.tree, "a.c", 12, "twelve (ann)");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "add a3");
    git(ann.queue, "push", "-q", w.remote, "HEAD:refs/heads/ann-side");
    const hook = join(w.remote, "hooks", "pre-receive");
    writeFileSync(
      hook,
      // (Outside the push's quarantine, which forbids ref updates: as another receive-pack would.)
      `#!/bin/sh\nif [ ! -e moved ]; then touch moved; env -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY -u GIT_ALTERNATE_OBJECT_DIRECTORIES git update-ref refs/heads/main refs/heads/ann-side; fi\nexit 0\n`,
      { mode: 0o755 },
    );
    await ok(bob.tree, "new", "b3.patch", "-m", "b3");
    editLine(bob.tree, "b.c", 18, "eighteen (bob)");
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "add b3");
    const r = await ok(bob.tree, "sync");
    expect(r.out).toContain("the push lost a race; merged again");
    expect(remoteQueue(w.remote).series).toBe("p1.patch\np2.patch\na3.patch\nb3.patch\n");
  });

  it("init --shared refuses a repository that is not a queue (the project's own), leaving nothing behind", async () => {
    const tree = join(w.root, "cy");
    execFileSync("git", ["clone", "-q", w.base, tree]);
    const r = await pq(tree, "init", "--shared", w.base);
    expect(r.code).toBe(12);
    expect(r.err).toContain("is not a pq queue");
    expect(existsSync(join(tree, "patches"))).toBe(false);
    expect(existsSync(join(tree, ".pq"))).toBe(false);
  });

  it("init --shared starts a queue on a repository a hosting site made with a README and a licence (t100 N4), which the first sync keeps", async () => {
    const { hosted, admin } = hostedRepository("hosted", { "README.md": "# our queue\n", LICENSE: "terms\n" });
    const dan = await join_(w, hosted, "Dan Example", "dan@example.org");
    await commitNewPatch(dan, "d1.patch", { file: "a.c", line: 7, text: "seven (dan)" });
    expect((await ok(dan.tree, "sync")).code).toBe(0);
    expect(remoteQueue(hosted).series).toBe("d1.patch\n");
    expect(git(hosted, "ls-tree", "--name-only", "main")).toBe("LICENSE\nREADME.md\nd1.patch\nseries\n");
    // A repository with anything else at its top is still no queue.
    write(admin, "main.c", "int main;\n");
    git(admin, "add", "-A");
    git(admin, "commit", "-qm", "code");
    const other = join(w.root, "other.git");
    execFileSync("git", ["clone", "-q", "--bare", admin, other]);
    const tree = join(w.root, "eve");
    execFileSync("git", ["clone", "-q", w.base, tree]);
    expect((await pq(tree, "init", "--shared", other)).code).toBe(12);
  });

  it("init --shared of an existing stack takes a hosting site's README-only repository too, and the first sync merges it in (t108 N2)", async () => {
    const { hosted } = hostedRepository("hosted2", { "README.md": "# our queue\n" });
    const tree = join(w.root, "fay");
    execFileSync("git", ["clone", "-q", w.base, tree]);
    setIdentity(tree, "Fay Example", "fay@example.org");
    await ok(tree, "init");
    await ok(tree, "new", "f1.patch", "-m", "f1");
    editLine(tree, "a.c", 8, "eight (fay)");
    await ok(tree, "refresh");
    const init = await ok(tree, "init", "--shared", hosted);
    expect(init.out).toContain("which holds no queue yet, only README.md: the next pq sync merges those in");
    expect((await ok(tree, "status")).out).toContain("1 ahead, 1 behind origin/main");
    await ok(tree, "sync");
    expect(git(hosted, "ls-tree", "--name-only", "main")).toBe("README.md\nf1.patch\nseries\n");
  });

  it("init --shared clones beside the queue directory and renames it into place; a clone a killed init left is taken as it is (safe-6 #13)", async () => {
    const tree = join(w.root, "cz");
    execFileSync("git", ["clone", "-q", w.base, tree]);
    // What a pq killed during the clone leaves: a scratch clone named with its (now dead) pid.
    const gone = spawnSync("true").pid!;
    mkdirSync(join(tree, `patches.clone-tmp-${gone}`));
    // What a pq killed after the rename leaves: the whole clone, no stack.
    execFileSync("git", ["clone", "-q", w.remote, join(tree, "patches")]);
    const r = await pq(tree, "init", "--shared", w.remote);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(tree, `patches.clone-tmp-${gone}`))).toBe(false);
    expect(readdirSync(tree).filter((n) => n.includes("clone-tmp"))).toEqual([]);
    expect(existsSync(join(tree, ".pq", "state.json"))).toBe(true);
  });

  it("refuses to push a queue in which a patch above a refreshed one no longer applies; pop then says how to keep edits over a patch the queue changed", async () => {
    await ok(ann.tree, "new", "p3.patch", "-m", "three");
    editLine(ann.tree, "a.c", 7, "seven");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "p3");
    await ok(ann.tree, "sync");
    await ok(bob.tree, "sync");
    await ok(bob.tree, "goto", "p1.patch");
    editLine(bob.tree, "a.c", 6, "six");
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "p1: six");
    const before = remoteQueue(w.remote);
    const r = await pq(bob.tree, "sync");
    expect(r.code).toBe(6);
    expect(r.err).toContain("p3.patch does not apply in the queue you would push");
    // Advice that works when followed (goto --force only pops over edits; push --force writes .rej files).
    expect(r.err).toContain("pq goto p2.patch, then pq push --force p3.patch (it writes .rej files)");
    expect(remoteQueue(w.remote)).toEqual(before);

    // Bob puts his queue back as the remote has it, by hand, under his applied p1, and edits on.
    git(bob.queue, "reset", "-q", "--hard", "origin/main");
    editLine(bob.tree, "a.c", 12, "twelve");
    const popped = await pq(bob.tree, "pop");
    expect(popped.code).toBe(5);
    expect(popped.err).toContain("p1.patch changed in the queue since it was pushed, so pq refresh cannot keep them there");
  });

  it("syncs a patch whose name is not ASCII, committed by pq or by plain git (shared-3 #3)", async () => {
    await ok(ann.tree, "new", "ünïcødé.patch", "-m", "uni");
    editLine(ann.tree, "a.c", 30, "thirty");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "uni");
    expect(git(ann.queue, "status", "--porcelain")).toBe("");
    // Stored under its UTF-8 bytes (the helper reads git's output as latin1).
    expect(git(ann.queue, "ls-tree", "--name-only", "-z", "HEAD").split("\0")).toContain(Buffer.from("ünïcødé.patch").toString("latin1"));
    await ok(ann.tree, "sync");
    expect((await ok(ann.tree, "sync")).out).toContain("up to date");
    // Another, committed with git itself (UTF-8 names, as git stores them).
    await ok(ann.tree, "new", "ä/ö.patch", "-m", "umlauts");
    editLine(ann.tree, "a.c", 33, "thirty-three");
    await ok(ann.tree, "refresh");
    git(ann.queue, "add", "-A");
    git(ann.queue, "commit", "-qm", "umlauts by git");
    await ok(ann.tree, "sync");
    await ok(bob.tree, "sync");
    await ok(bob.tree, "push", "-a");
    expect(readFileSync(join(bob.queue, "series"), "utf8")).toBe("p1.patch\np2.patch\nünïcødé.patch\nä/ö.patch\n");
    expect(read(bob.tree, "a.c")).toContain("thirty-three");
    expect((await ok(bob.tree, "log", "ünïcødé.patch")).out).toContain("uni");
  });

  /** A binary file's patch of Ann's, shared; then Ann's change of it synced and Bob's refreshed, not yet committed. */
  async function binaryChangedOnBothSides(blob: (tail: string) => Buffer): Promise<void> {
    await ok(ann.tree, "new", "blob.patch", "-m", "a binary file");
    writeFileSync(join(ann.tree, "blob.bin"), blob(""));
    await ok(ann.tree, "add", "blob.bin");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "blob");
    await ok(ann.tree, "sync");
    await ok(bob.tree, "sync");
    await ok(bob.tree, "push", "-a");
    writeFileSync(join(ann.tree, "blob.bin"), blob("A"));
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "ann: blob");
    await ok(ann.tree, "sync");
    writeFileSync(join(bob.tree, "blob.bin"), blob("B"));
    await ok(bob.tree, "refresh");
  }

  it("a binary file changed on both sides is a conflict that keeps ours, not a failure of git (shared-3 #6)", async () => {
    const blob = (tail: string) => Buffer.concat([Buffer.from([0, 1, 2, 255, 0, 7]), Buffer.from("x".repeat(300) + tail)]);
    await binaryChangedOnBothSides(blob);
    await ok(bob.tree, "commit", "-m", "bob: blob");
    const r = await pq(bob.tree, "sync");
    expect(r.code).toBe(6);
    expect(r.err).toContain("blob.patch: blob.bin changed on both sides and git cannot merge binary files: yours is kept");
    expect(readFileSync(join(bob.tree, "blob.bin"))).toEqual(blob("B"));
    // An abort leaves no conflict mark: the next sync stops on the conflict again, not on a refresh to make (t118 N8).
    expect((await ok(bob.tree, "sync", "--abort")).out).toContain("the queue and the tree are as before");
    expect((await ok(bob.tree, "status")).out).not.toContain("needs a refresh");
    expect((await pq(bob.tree, "sync")).code).toBe(6);
    // No markers, and not resolved yet: the patch still needs its refresh (t40 N11).
    expect((await ok(bob.tree, "status")).out).toContain("sync stopped on conflicts in blob.patch: resolve blob.patch");
    expect((await pq(bob.tree, "sync", "--continue")).err).toContain("blob.patch needs a refresh before you can continue the sync");
    // Keeping ours is a resolution like any other: refresh, continue.
    await ok(bob.tree, "refresh");
    expect((await ok(bob.tree, "status")).out).toContain("sync stopped on conflicts in blob.patch, resolved: pq sync --continue");
    expect((await ok(bob.tree, "sync", "--continue")).out).toContain("pushed");
    expect((await ok(ann.tree, "sync")).code).toBe(0);
    await ok(ann.tree, "push", "-a");
    expect(readFileSync(join(ann.tree, "blob.bin"))).toEqual(blob("B"));
  });

  it("a binary conflict under a patch of yours applied above it waits for its refresh too, the stack down to it (t123 N3)", async () => {
    const blob = (tail: string) => Buffer.concat([Buffer.from([0, 1, 2, 255, 0, 7]), Buffer.from("y".repeat(300) + tail)]);
    await binaryChangedOnBothSides(blob);
    await ok(bob.tree, "new", "above.patch", "-m", "above");
    editLine(bob.tree, "a.c", 20, "twenty (bob)");
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "bob: blob, and a patch above it");
    expect((await pq(bob.tree, "sync")).code).toBe(6);
    expect((await ok(bob.tree, "top")).out.trim()).toBe("blob.patch");
    // Not "resolved" before anyone looked at it: --continue refuses until the refresh.
    expect((await ok(bob.tree, "status")).out).toContain("sync stopped on conflicts in blob.patch: resolve blob.patch");
    expect((await pq(bob.tree, "sync", "--continue")).err).toContain("blob.patch needs a refresh before you can continue the sync");
    await ok(bob.tree, "refresh");
    expect((await ok(bob.tree, "sync", "--continue")).out).toContain("pushed");
    expect((await ok(bob.tree, "top")).out.trim()).toBe("above.patch");
    expect(readFileSync(join(bob.tree, "blob.bin"))).toEqual(blob("B"));
  });

  it("after a git pull that conflicted in the queue, commit and sync say how out, and commit refuses a patch with conflict markers (shared-3 #7)", async () => {
    await changedOnBothSides("p1.patch", "a.c", [5, "five (ann)", "ann"], [5, "five (bob)"]);
    await ok(bob.tree, "commit", "-m", "bob");
    spawnSync("git", ["-C", bob.queue, "pull", "--no-rebase", "-q"]);
    for (const cmd of ["sync", "commit"]) {
      const r = await pq(bob.tree, cmd);
      expect(r.code, cmd).toBe(12);
      expect(r.err).toContain("the queue's git repository is in the middle of a merge (a git pull?)");
      expect(r.err).toContain(`git -C ${bob.queue} merge --abort, then pq sync`);
    }
    // Followed: the sync merges patch by patch and stops on the real conflict, with pq's resolution.
    git(bob.queue, "merge", "--abort");
    const synced = await pq(bob.tree, "sync");
    expect(synced.code).toBe(6);
    expect(synced.err).toContain("p1.patch: both versions are kept with conflict markers in a.c");
    // A patch file with a merge's markers is never committed.
    await ok(bob.tree, "sync", "--abort");
    write(
      bob.queue,
      "p2.patch",
      read(bob.queue, "p2.patch").replace("\n+three\n", "\n<<<<<<< HEAD\n+three\n=======\n+3\n>>>>>>> origin/main\n"),
    );
    const bad = await pq(bob.tree, "commit");
    expect(bad.code).toBe(7);
    expect(bad.err).toContain("p2.patch does not parse as a patch");
  });

  it("keeps every applied patch applied when a colleague moves one below the others (shared-3 #9)", async () => {
    await ok(ann.tree, "new", "p3.patch", "-m", "three");
    editLine(ann.tree, "a.c", 30, "thirty");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "p3");
    await ok(ann.tree, "sync");
    await ok(bob.tree, "sync");
    await ok(bob.tree, "push", "-a");
    await ok(ann.tree, "pop", "-a");
    await ok(ann.tree, "reorder", "p3.patch", "--first");
    await ok(ann.tree, "commit", "-m", "p3 first");
    await ok(ann.tree, "sync");
    const r = await ok(bob.tree, "sync", "--json");
    expect(JSON.parse(r.out).restack.left).toBeUndefined();
    expect((await ok(bob.tree, "applied")).out).toBe("p3.patch\np1.patch\np2.patch\n");
  });

  it("pq init --shared URL shares the queue of a stack that exists already, as sync's advice says (shared-3 #11)", async () => {
    const tree = join(w.root, "cid");
    execFileSync("git", ["clone", "-q", w.base, tree]);
    git(tree, "config", "user.name", "Cid Example");
    git(tree, "config", "user.email", "cid@example.org");
    await ok(tree, "init");
    await ok(tree, "new", "c.patch", "-m", "cid's");
    editLine(tree, "a.c", 9, "nine");
    await ok(tree, "refresh");
    const unshared = await pq(tree, "sync");
    expect(unshared.err).toContain("pq init --shared makes it a git repository");
    const empty = join(w.root, "cid.git");
    execFileSync("git", ["init", "-q", "--bare", "-b", "main", empty]);
    // A remote that holds something is refused, and nothing is made.
    const full = await pq(tree, "init", "--shared", w.remote);
    expect(full.code).toBe(12);
    expect(existsSync(join(tree, "patches", ".git"))).toBe(false);
    const r = await ok(tree, "init", "--shared", "../cid.git");
    expect(r.out).toContain("is now its own git repository, its patches committed, with");
    expect((await ok(tree, "sync")).out).toContain("pushed");
    expect(remoteQueue(empty).series).toBe("c.patch\n");
    // A colleague joins it as any shared queue.
    const dan = await join_({ root: w.root, base: w.base }, empty, "Dan Example", "dan@example.org");
    await ok(dan.tree, "push", "-a");
    expect(read(dan.tree, "a.c")).toContain("nine");
  });

  it("refuses before popping anything when a patch it brings changes a file with unrefreshed edits (shared-3 #14)", async () => {
    await ok(ann.tree, "pop", "-a");
    await ok(ann.tree, "new", "lower.patch", "-m", "lower");
    editLine(ann.tree, "b.c", 10, "ten");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "pop");
    await ok(ann.tree, "commit", "-m", "lower first");
    await ok(ann.tree, "sync");
    await ok(bob.tree, "pop");
    editLine(bob.tree, "b.c", 10, "bob's ten");
    const r = await pq(bob.tree, "sync");
    expect(r.code).toBe(5);
    expect(r.err).toContain("unrefreshed changes in b.c, which lower.patch (new, changed or moved below your top there) also changes");
    expect((await ok(bob.tree, "applied")).out).toBe("p1.patch\n");
    expect(read(bob.tree, "b.c")).toContain("bob's ten");
  });

  it("refuses the same way when a colleague moved a patch below your top (collab-7 #6)", async () => {
    // p2.patch (b.c) goes first in Ann's queue; Bob has only p1.patch applied and edits b.c.
    await ok(ann.tree, "pop", "-a");
    await ok(ann.tree, "reorder", "p2.patch", "--first");
    await ok(ann.tree, "commit", "-m", "p2 first");
    await ok(ann.tree, "sync");
    await ok(bob.tree, "goto", "p1.patch");
    editLine(bob.tree, "b.c", 3, "bob's three");
    const r = await pq(bob.tree, "sync");
    expect(r.code).toBe(5);
    expect(r.err).toContain("unrefreshed changes in b.c, which p2.patch (new, changed or moved below your top there) also changes");
    expect(r.err).toContain("nothing was changed");
    expect((await ok(bob.tree, "applied")).out).toBe("p1.patch\n");
  });

  it("checks a patch guarded off here with its guard selected before pushing (shared-3 #8)", async () => {
    // A +xen patch over p1's line, which Ann does not select: Bob does.
    await ok(ann.tree, "new", "xen.patch", "-m", "xen");
    editLine(ann.tree, "a.c", 5, "five xen");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "pop");
    await ok(ann.tree, "guard", "xen.patch", "+xen");
    await ok(ann.tree, "commit", "-m", "xen");
    await ok(ann.tree, "sync");
    // Ann refreshes p1 under it; the xen patch no longer applies, though nothing she selects shows it.
    await ok(ann.tree, "goto", "p1.patch");
    editLine(ann.tree, "a.c", 5, "FIVE");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "p1: FIVE");
    const before = remoteQueue(w.remote);
    const r = await pq(ann.tree, "sync");
    expect(r.code).toBe(6);
    expect(r.err).toContain(
      "xen.patch does not apply in the queue you would push (a patch below it changed) when the guard xen is selected",
    );
    expect(r.err).toContain("pq pop -a, pq select xen, pq goto p2.patch, then pq push --force xen.patch");
    expect(remoteQueue(w.remote)).toEqual(before);
  });

  it("says a patch built on a guarded one applies with its guard or without it, never both, and its way out works either way (t144 N3)", async () => {
    // fix-30 (+debug, once guarded) changes a.c line 30; on-30 above it, unguarded, changes that line again.
    await ok(ann.tree, "new", "fix-30.patch", "-m", "fix thirty");
    editLine(ann.tree, "a.c", 30, "thirty");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "new", "on-30.patch", "-m", "on thirty");
    editLine(ann.tree, "a.c", 30, "thirty plus");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "two patches");
    await ok(ann.tree, "sync");
    await ok(ann.tree, "pop", "-a");
    await ok(ann.tree, "guard", "fix-30.patch", "+debug");
    await ok(ann.tree, "commit", "-m", "guard fix-30");
    const before = remoteQueue(w.remote);
    const r = await pq(ann.tree, "sync");
    expect(r.code).toBe(6);
    expect(r.err).toContain(
      "on-30.patch does not apply in the queue you would push without the guard debug, and does with it: it builds on fix-30.patch (+debug), which only the guard debug brings in: no one text of on-30.patch applies both with and without debug",
    );
    expect(r.err).toContain("guard it as what it depends on is guarded: pq guard on-30.patch +debug");
    expect(r.err).toContain("or take the guards off the patch it builds on: pq guard fix-30.patch --none");
    expect(remoteQueue(w.remote)).toEqual(before);
    // Selecting the guard is no way past it: a colleague with no guard selected would be broken (t150 N8).
    await ok(ann.tree, "select", "debug");
    const selected = await pq(ann.tree, "sync");
    expect(selected.code).toBe(6);
    expect(selected.err).toContain("on-30.patch does not apply in the queue you would push without the guard debug, and does with it");
    expect(remoteQueue(w.remote)).toEqual(before);
    await ok(ann.tree, "select", "--none");
    // The other way round: on-30 rewritten to apply without fix-30 fails with debug selected.
    // (A forced push that wrote rejects says so, exit 6.)
    expect((await pq(ann.tree, "push", "--force", "on-30.patch")).code).toBe(6);
    rmSync(join(ann.tree, "a.c.rej"), { force: true });
    editLine(ann.tree, "a.c", 30, "thirty plus");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "on-30 without fix-30");
    const other = await pq(ann.tree, "sync");
    expect(other.code).toBe(6);
    expect(other.err).toContain(
      "on-30.patch does not apply in the queue you would push when the guard debug is selected, and does without it: fix-30.patch (+debug) changes what it changes, and the guard debug brings it in",
    );
    const way = /guard it as what it depends on is guarded: (pq guard on-30\.patch -- -debug)/.exec(other.err);
    expect(way, other.err).not.toBeNull();
    expect(other.err).not.toContain("take the guards off");
    // Followed word for word, the queue goes out.
    await ok(ann.tree, "guard", "on-30.patch", "--", "-debug");
    await ok(ann.tree, "commit", "-m", "on-30 kept out under debug");
    await ok(ann.tree, "sync");
    expect(remoteQueue(w.remote).series).toContain("on-30.patch #-debug");
  });

  it("checks each guard alone too, and never offers one guard list for a patch that builds on patches of two guards (t151 N1, N2)", async () => {
    // d1 (+debug) changes a.c line 30, d2 (+trace) line 36; both-on, unguarded, changes both lines again.
    await ok(ann.tree, "new", "d1.patch", "-m", "debug");
    editLine(ann.tree, "a.c", 30, "thirty debug");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "new", "d2.patch", "-m", "trace");
    editLine(ann.tree, "a.c", 36, "thirty-six trace");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "new", "both-on.patch", "-m", "on both");
    editLine(ann.tree, "a.c", 30, "thirty both");
    editLine(ann.tree, "a.c", 36, "thirty-six both");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "three patches");
    await ok(ann.tree, "sync");
    await ok(ann.tree, "pop", "-a");
    await ok(ann.tree, "guard", "d1.patch", "+debug");
    await ok(ann.tree, "guard", "d2.patch", "+trace");
    await ok(ann.tree, "commit", "-m", "guards");
    const before = remoteQueue(w.remote);
    // Whatever Ann selects, a colleague selecting one of the guards (or none) would be broken.
    for (const selected of [["debug"], ["debug", "trace"], []]) {
      await ok(ann.tree, "select", ...(selected.length ? selected : ["--none"]));
      const r = await pq(ann.tree, "sync");
      expect(r.code, selected.join(" ")).toBe(6);
      expect(r.err).toContain("both-on.patch does not apply in the queue you would push");
      expect(r.err).not.toContain("pq guard both-on.patch");
      expect(remoteQueue(w.remote)).toEqual(before);
    }
    // The way that holds for every selection, word for word: the guards off what it builds on.
    const r = await pq(ann.tree, "sync");
    const way = /take the guards off the patches? it builds on: (.*)$/m.exec(r.err);
    expect(way, r.err).not.toBeNull();
    for (const command of way![1].split(", ")) await ok(ann.tree, ...command.split(" ").slice(1));
    await ok(ann.tree, "commit", "-m", "unguarded");
    const synced = await pq(ann.tree, "sync");
    expect(synced.code, synced.err).toBe(0);
  });

  it("holds the tree lock from the fetch to the end: a refresh or a new patch meanwhile is refused, not lost", async () => {
    editLine(ann.tree, "a.c", 20, "twenty (ann)");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "ann: a.c line 20");
    await ok(ann.tree, "sync");
    // A slow network, stood in for by a hook in Bob's own queue repository: each ref update of the
    // fetch waits until the test has tried its commands (a file appears), at most a minute.
    const hook = join(bob.queue, ".git/hooks/reference-transaction");
    const release = join(bob.queue, ".git/release-fetch");
    writeFileSync(hook, `#!/bin/sh\ni=0\nwhile [ ! -e '${release}' ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done\n`, {
      mode: 0o755,
    });
    const child = spawn(process.execPath, [resolve("bin/pq.js"), "sync"], { cwd: bob.tree, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const exited = new Promise<number>((r) => child.on("exit", (code) => r(code ?? -1)));
    // Wait until the sync is fetching (it says so), then work in the tree as a second terminal would.
    while (!out.includes("fetching")) await new Promise((r) => setTimeout(r, 50));
    editLine(bob.tree, "b.c", 30, "thirty (bob)");
    // Refused after PQ_LOCK_TIMEOUT's wait instead of the usual 10 s each.
    process.env.PQ_LOCK_TIMEOUT = "0.5";
    const waited = Date.now();
    const refresh = await pq(bob.tree, "refresh");
    expect(refresh.code).toBe(4);
    expect(refresh.err).toContain("locked by pid");
    expect((await pq(bob.tree, "new", "p3.patch")).code).toBe(4);
    expect(Date.now() - waited).toBeGreaterThanOrEqual(1000);
    delete process.env.PQ_LOCK_TIMEOUT;
    writeFileSync(release, "");
    // Taking Ann's p1 means popping p2, whose file b.c now has an edit the sync did not see
    // when it started: the pop refuses (exit 5), nothing is changed, and no half sync is left.
    expect(await exited).toBe(5);
    rmSync(hook);
    expect(read(bob.tree, "b.c")).toContain("thirty (bob)");
    expect(existsSync(join(bob.tree, ".pq/sync.json"))).toBe(false);
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "bob: b.c line 30");
    await ok(bob.tree, "sync");
    expect(read(bob.tree, "a.c")).toContain("twenty (ann)");
    expect(read(bob.queue, "p2.patch")).toContain("+thirty (bob)");
    await ok(ann.tree, "sync");
    await expectConverged(w.remote, [ann, bob], w.base);
  });

  it("refuses to sync over unrefreshed edits and uncommitted queue changes", async () => {
    editLine(bob.tree, "b.c", 9, "nine (unrefreshed)");
    const r = await pq(bob.tree, "sync");
    expect(r.code).toBe(5);
    expect(r.err).toContain("unrefreshed changes in b.c");
    await ok(bob.tree, "refresh");
    const u = await pq(bob.tree, "sync");
    expect(u.code).toBe(5);
    expect(u.err).toContain("the queue has uncommitted changes: p2.patch");
  });

  it("syncs over an edit to a tracked file no applied patch changes, and leaves it as pq pop does", async () => {
    write(bob.tree, "notes.txt", "notes\n");
    git(bob.tree, "add", "notes.txt");
    git(bob.tree, "commit", "-qm", "notes");
    write(bob.tree, "notes.txt", "notes\nmore\n");
    editLine(ann.tree, "a.c", 30, "thirty");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "thirty");
    await ok(ann.tree, "sync");
    await ok(bob.tree, "sync");
    expect(read(bob.tree, "notes.txt")).toBe("notes\nmore\n");
    expect(read(bob.tree, "a.c")).toContain("thirty");
  });
});

describe("damaged queue versions from the remote", () => {
  beforeEach(async () => {
    w = world();
    ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    await ok(ann.tree, "new", "p1.patch", "-m", "one");
    editLine(ann.tree, "a.c", 5, "five");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "p1");
    await ok(ann.tree, "sync");
    bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
    await ok(bob.tree, "push", "-a");
  });

  /** Ann bypasses pq: a hand edit committed and pushed with plain git. */
  function handPush(file: string, content: string): void {
    write(ann.queue, file, content);
    execFileSync("git", ["-C", ann.queue, "commit", "-qam", "hand edit"]);
    execFileSync("git", ["-C", ann.queue, "push", "-q", "origin", "HEAD:main"]);
  }

  it("names a series it cannot read and changes nothing", async () => {
    handPush("series", "p1.patch -R\n");
    const before = fullSnapshot(bob.tree);
    const r = await pq(bob.tree, "sync");
    expect(r.code).toBe(7);
    expect(r.err).toContain("the remote's series: series line 1: option -R after p1.patch is not supported");
    // The way out is the remote's fixing, not an edit of a file here (collab-17 F3).
    expect(r.err).toContain("ask whoever pushed it to fix the series");
    expect(r.err).not.toContain("edit series");
    expect(fullSnapshot(bob.tree)).toEqual(before);
    expect(JSON.parse((await ok(bob.tree, "status", "--json")).out).shared.syncInProgress).toBe(false);
  });

  it("refuses a remote version whose tree git cannot check out (a .git entry), nothing changed (t156 N13)", async () => {
    const q = (...args: string[]) => execFileSync("git", ["-C", ann.queue, ...args], { encoding: "latin1" }).trim();
    const blob = execFileSync("git", ["-C", ann.queue, "hash-object", "-w", "--stdin"], { input: "[core]\n", encoding: "latin1" }).trim();
    const tree = execFileSync("git", ["-C", ann.queue, "mktree"], {
      input: `${q("ls-tree", "HEAD")}\n100644 blob ${blob}\t.git\n`,
      encoding: "latin1",
    }).trim();
    const commit = q("commit-tree", "-p", "HEAD", "-m", "a .git file in the queue", tree);
    q("push", "-q", "origin", `${commit}:refs/heads/main`);
    const before = fullSnapshot(bob.tree);
    const r = await pq(bob.tree, "sync");
    expect(r.code).toBe(7);
    expect(r.err).toContain("holds .git, which git cannot check out");
    expect(fullSnapshot(bob.tree)).toEqual(before);
    expect(JSON.parse((await ok(bob.tree, "status", "--json")).out).shared.syncInProgress).toBe(false);
    // A newcomer's init --shared says the same, nothing made (t157 N9).
    const carl = join(w.root, "carl");
    execFileSync("git", ["clone", "-q", w.base, carl]);
    const init = await pq(carl, "init", "--shared", w.remote);
    expect(init.code).toBe(7);
    expect(init.err).toContain("holds .git, which git cannot check out");
    expect(existsSync(join(carl, "patches"))).toBe(false);
  });

  it("refuses a remote version without a series file, nothing popped (t156 N4)", async () => {
    execFileSync("git", ["-C", ann.queue, "rm", "-q", "series"]);
    execFileSync("git", ["-C", ann.queue, "commit", "-qm", "series gone"]);
    execFileSync("git", ["-C", ann.queue, "push", "-q", "origin", "HEAD:main"]);
    const before = fullSnapshot(bob.tree);
    const r = await pq(bob.tree, "sync");
    expect(r.code).toBe(7);
    expect(r.err).toContain("has no series file: it would take the queue away from everyone");
    expect(r.err).toContain("ask whoever pushed it to restore the series file");
    expect(fullSnapshot(bob.tree)).toEqual(before);
    expect((await ok(bob.tree, "applied")).out).toBe("p1.patch\n");
  });

  it("refuses a patch that writes into this tree's queue directory before anything is popped (t156 N3)", async () => {
    write(ann.queue, "notes.patch", "Subject: notes\n\n---\n--- /dev/null\n+++ b/patches/NOTES\n@@ -0,0 +1 @@\n+notes\n");
    write(ann.queue, "series", `notes.patch\n${read(ann.queue, "series")}`);
    execFileSync("git", ["-C", ann.queue, "add", "-A"]);
    handPush("series", read(ann.queue, "series"));
    const before = fullSnapshot(bob.tree);
    const r = await pq(bob.tree, "sync");
    expect(r.code).toBe(7);
    expect(r.err).toContain('notes.patch (the remote\'s version): path "patches/NOTES" is inside the queue directory patches/');
    expect(fullSnapshot(bob.tree)).toEqual(before);
    expect((await ok(bob.tree, "applied")).out).toBe("p1.patch\n");
  });

  it("names a damaged patch and never applies it half-way", async () => {
    handPush("p1.patch", read(ann.queue, "p1.patch").replace(/@@ -2,7 \+2,7 @@/, "@@ -2,9 +2,7 @@"));
    const before = fullSnapshot(bob.tree);
    const r = await pq(bob.tree, "sync");
    expect(r.code).toBe(7);
    expect(r.err).toContain("p1.patch (the remote's version): the hunk at line");
    expect(fullSnapshot(bob.tree)).toEqual(before);
  });
});

describe("a patch changed on both sides, one of them over another upstream (collab-17 F21, F22)", () => {
  it("is a conflict that keeps the colleague's change, never a merge that silently takes one side", async () => {
    w = world();
    const { ann, bob } = await annAndBobShareP(w);
    // Upstream changes lines 9 and 11, around P's line 10.
    editLine(w.base, "a.c", 9, "nine upstream");
    editLine(w.base, "a.c", 11, "eleven upstream");
    git(w.base, "commit", "-qam", "upstream change");
    // Bob, still on the old upstream, changes P at line 30 and pushes it.
    editLine(bob.tree, "a.c", 30, "thirty bob");
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "P: line 30");
    await ok(bob.tree, "sync");
    // Ann moves to the new upstream: P conflicts there, she resolves it.
    expect((await pq(ann.tree, "rebase")).code).not.toBe(0);
    const resolved = read(ann.tree, "a.c").replace(/<<<<<<< [^]*?>>>>>>> [^\n]*\n/, "nine upstream\nten P\neleven upstream\n");
    write(ann.tree, "a.c", resolved);
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "rebase", "--continue");
    await ok(ann.tree, "commit", "-m", "P over the new upstream");
    const shared = remoteQueue(w.remote).patches["P.patch"];
    expect(shared).toContain("+thirty bob");
    const s = await pq(ann.tree, "sync");
    expect(s.code).toBe(6);
    expect(s.err).toContain(
      "P.patch changed on both sides, and theirs does not apply over this tree (made on another upstream?): ours is kept",
    );
    // Nothing was pushed: Bob's change is still the shared queue's.
    expect(remoteQueue(w.remote).patches["P.patch"]).toBe(shared);
  }, 60_000);
});

describe("a colleague's pq rebase onto a newer upstream, then a sync from a tree still on the old one (t104 N2)", () => {
  it("keeps the rebased patch as the colleague pushed it, not regenerated back over the old upstream", async () => {
    w = world();
    const ann = await annSharesPAndQ(w);
    const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
    await ok(bob.tree, "push", "-a");
    // Upstream changes line 7: in P's context (P changes line 10), not in Q's (line 11).
    editLine(w.base, "a.c", 7, "seven upstream");
    git(w.base, "commit", "-qam", "upstream change");
    await ok(ann.tree, "rebase");
    await ok(ann.tree, "commit", "-m", "P and Q over the new upstream");
    await ok(ann.tree, "sync");
    const rebased = remoteQueue(w.remote).patches["P.patch"];
    expect(rebased).toContain(" seven upstream\n");
    // Bob, on the old upstream, changes Q only, and syncs.
    editLine(bob.tree, "a.c", 12, "twelve bob");
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "Q: line 12");
    const r = await ok(bob.tree, "sync");
    expect(r.err + r.out).not.toContain("P.patch: regenerated");
    expect(remoteQueue(w.remote).patches["P.patch"]).toBe(rebased);
    // Bob's status says a refresh here would put P back on his upstream, and the way on.
    expect((await ok(bob.tree, "status")).out).toContain("git fetch, then pq rebase takes this tree there");
  }, 60_000);
});

describe("a colleague's pq rebase over an upstream change of the patch's own line (t104 N1)", () => {
  it("stops the other's sync with the way on: git fetch, then pq rebase, before push --force", async () => {
    w = world();
    const { ann, bob } = await annAndBobShareP(w);
    editLine(w.base, "a.c", 10, "ten upstream");
    git(w.base, "commit", "-qam", "upstream changes P's line");
    expect((await pq(ann.tree, "rebase")).code).not.toBe(0);
    write(ann.tree, "a.c", read(ann.tree, "a.c").replace(/<<<<<<< [^]*?>>>>>>> [^\n]*\n/, "ten upstream, P\n"));
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "rebase", "--continue");
    await ok(ann.tree, "commit", "-m", "P over the new upstream");
    await ok(ann.tree, "sync");
    const r = await pq(bob.tree, "sync");
    expect(r.code).toBe(6);
    expect(r.err).toContain(
      "P.patch was made over other versions of its files than this tree has: if a colleague carried the queue onto a newer upstream (pq log P.patch says who changed it), git fetch, then pq rebase, carries this tree there",
    );
    // The way on it names.
    git(bob.tree, "fetch", "-q");
    await ok(bob.tree, "rebase");
    await ok(bob.tree, "goto", "P.patch");
    expect(read(bob.tree, "a.c")).toContain("ten upstream, P\n");
  }, 60_000);
});

describe("a sync that merges a remote commit changing no queue file (collab-17 F12)", () => {
  it("still refuses a queue where a lower change broke a patch above it: nothing is pushed", async () => {
    w = world();
    const ann = await annSharesPAndQ(w);
    // Bob pushes a commit that changes no queue file (as the "started apart" merge does).
    const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
    git(bob.queue, "commit", "-q", "--allow-empty", "-m", "nothing in the queue");
    git(bob.queue, "push", "-q", "origin", "HEAD:main");
    const shared = remoteQueue(w.remote);
    // Ann changes P's line, which Q's context holds, with Q popped: Q no longer applies.
    await ok(ann.tree, "pop");
    editLine(ann.tree, "a.c", 10, "ten P, again");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "P again");
    const s = await pq(ann.tree, "sync");
    expect(s.code).toBe(6);
    expect(s.err).toContain("Q.patch does not apply in the queue you would push (a patch below it changed): nothing was pushed");
    expect(remoteQueue(w.remote)).toEqual(shared);
  }, 60_000);
});

describe("pq sync --retries (collab-17 F18)", () => {
  it("takes a whole number, 0 or more; anything else is a usage error before anything is fetched", async () => {
    w = world();
    const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    for (const [value, said] of [
      ["-1", "--retries takes a whole number, 0 or more, not -1"],
      ["abc", "--retries takes a whole number, 0 or more"],
      ["2.5", "--retries takes a whole number, 0 or more, not 2.5"],
    ]) {
      const r = await pq(ann.tree, "sync", "--retries", value);
      expect([value, r.code]).toEqual([value, 2]);
      expect(r.err).toContain(said);
      expect(r.err).not.toContain("NaN");
    }
    await ok(ann.tree, "sync", "--retries", "0");
  });
});

describe("pq status of a shared queue whose remote branch does not exist yet (collab-17 F5)", () => {
  it("counts every local commit as not pushed instead of saying 0 ahead", async () => {
    w = world();
    const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    await ok(ann.tree, "new", "P.patch", "-m", "P");
    editLine(ann.tree, "a.c", 3, "three");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "P");
    const commits = Number(git(ann.queue, "rev-list", "--count", "HEAD").trim());
    const status = await ok(ann.tree, "status");
    expect(status.out).toContain(`${commits} commit(s) not pushed: origin/main does not exist yet (pq sync pushes them)`);
    expect(JSON.parse((await ok(ann.tree, "status", "--json")).out).shared).toMatchObject({ ahead: commits, upstreamMissing: true });
    await ok(ann.tree, "sync");
    expect((await ok(ann.tree, "status")).out).toContain("0 ahead, 0 behind origin/main");
  });
});

describe("a shared queue's repository on a detached HEAD (collab-17 F11)", () => {
  it("is said as such by status and sync, with the way back, not as a missing remote", async () => {
    w = world();
    const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    await ok(ann.tree, "sync");
    git(ann.queue, "checkout", "-q", "--detach");
    expect((await ok(ann.tree, "status")).out).toContain("on a detached HEAD, not on its branch (git checkout BRANCH goes back)");
    const s = await pq(ann.tree, "sync");
    expect(s.code).toBe(12);
    expect(s.err).toContain("the queue's repository is on a detached HEAD (a git checkout of a commit), not on its branch");
    expect(s.err).not.toContain("remote add origin");
  });
});

describe("a colleague's pq finish (collab-17 F14)", () => {
  it("is recorded in the queue's commit and said by the other side's sync, which points at the tree's pull", async () => {
    w = world();
    ann = await annSharesPAndQ(w);
    bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
    await ok(bob.tree, "push", "-a");
    // Ann finishes P (a commit of her tree), commits the queue's change and syncs.
    await ok(ann.tree, "finish", "P.patch");
    const commit = git(ann.tree, "rev-parse", "HEAD").trim();
    await ok(ann.tree, "commit", "-m", "P is upstream now");
    expect(git(ann.queue, "log", "-1", "--format=%B")).toContain(`Pq-Finished: P.patch ${commit}`);
    await ok(ann.tree, "sync");
    // Bob's tree lacks Ann's commit: Q cannot go back on, and the sync says why and what to do.
    git(bob.tree, "fetch", "-q", ann.tree, "main");
    const s = await pq(bob.tree, "sync");
    expect(s.code).toBe(6);
    // Bob's repository has the commit (fetched, not merged): said as a fact. Without it, the queue's history says it,
    // not pq (the next test: a trailer can name any commit, t60 N8).
    const known = `P.patch was finished by Ann Example into the tree's commit ${commit.slice(0, 12)}`;
    expect(s.out).toContain(`${known}, and left the stack here`);
    // pq rebase, not git pull: patches still applied would stop the pull (t35 F9); here none is, and a pull does.
    expect(s.err).toContain(`${known}: pq rebase brings the tree to its upstream, which has that commit`);
    git(bob.tree, "pull", "-q", "--ff-only", ann.tree, "main");
    await ok(bob.tree, "push", "-a");
    expect(read(bob.tree, "a.c")).toContain("ten P\neleven Q\n");
    // A finish taken back by undo is not recorded.
    await ok(ann.tree, "finish", "Q.patch");
    await ok(ann.tree, "undo");
    await ok(ann.tree, "pop", "-a");
    await ok(ann.tree, "delete", "Q.patch");
    await ok(ann.tree, "commit", "-m", "Q goes");
    expect(git(ann.queue, "log", "-1", "--format=%B")).not.toContain("Pq-Finished");
  }, 60_000);

  it("is not recorded once the tree's branch no longer has the commit, and an empty -m leaves the subject pq's (t23 F1, F9)", async () => {
    w = world();
    ann = await annSharesPAndQ(w);
    await ok(ann.tree, "finish", "P.patch");
    const kept = git(ann.tree, "rev-parse", "HEAD").trim();
    // Finished, then the commit dropped from the branch by hand (its changes kept in the tree).
    git(ann.tree, "reset", "-q", "--soft", "HEAD~1");
    // Committed with -m "": pq's own subject, not an empty one under which a trailer would be the subject.
    await ok(ann.tree, "commit", "-m", "");
    expect(git(ann.queue, "log", "-1", "--format=%s")).toMatch(/^pq: update /);
    expect(git(ann.queue, "log", "-1", "--format=%B")).not.toContain(`Pq-Finished: P.patch ${kept}`);
  }, 60_000);
});

describe("the words of a few refusals (collab-17 F23)", () => {
  it("a header changed on both sides says its next step once; init --shared again with the same URL says it is shared already", async () => {
    w = world();
    ({ ann, bob } = await annAndBobShareP(w));
    await ok(ann.tree, "header", "P.patch", "-m", "P, as Ann puts it");
    await ok(ann.tree, "commit", "-m", "Ann's subject");
    await ok(ann.tree, "sync");
    await ok(bob.tree, "header", "P.patch", "-m", "P, as Bob puts it");
    await ok(bob.tree, "commit", "-m", "Bob's subject");
    const s = await pq(bob.tree, "sync");
    expect(s.code).toBe(6);
    expect(s.err.match(/pq sync --continue/g)).toHaveLength(1);
    expect(s.err).toContain("or pq sync --abort to take the sync back");
    expect(s.err).not.toContain("decide as said above");
    await ok(bob.tree, "sync", "--abort");
    const again = await pq(ann.tree, "init", "--shared", w.remote);
    expect(again.code).toBe(3);
    expect(again.err).toContain(`the queue is shared with ${w.remote} already (its remote origin)`);
    expect(again.err).not.toContain("set-url");
    // The same repository named another way (kept through .., as a first pq init --shared ../queue.git keeps it): the same answer, no set-url to itself (t144 N4).
    git(ann.queue, "remote", "set-url", "origin", `${ann.tree}/../${relative(dirname(ann.tree), w.remote)}`);
    const other = await pq(ann.tree, "init", "--shared", w.remote);
    expect(other.code).toBe(3);
    expect(other.err).toContain("already (its remote origin)");
    expect(other.err).not.toContain("set-url");
  }, 60_000);
});

describe("a patch file a plain git pull in the queue left conflict markers in (t144 N6, t146 N1, N2)", () => {
  it("is refused by push and by the sync, whose way out is to fix it in the queue and commit it", async () => {
    w = world();
    const { ann, bob } = await annAndBobShareP(w);
    await ok(ann.tree, "header", "-m", "P, as Ann puts it");
    await ok(ann.tree, "commit", "-m", "Ann's subject");
    await ok(ann.tree, "sync");
    await ok(bob.tree, "header", "-m", "P, as Bob puts it");
    await ok(bob.tree, "commit", "-m", "Bob's subject");
    // Both changed the subject: git's merge leaves its markers in the description.
    expect(spawnSync("git", ["-C", bob.queue, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main"]).status).not.toBe(0);
    expect(read(bob.queue, "P.patch")).toContain("<<<<<<< ");
    expect((await ok(bob.tree, "pop")).code).toBe(0);
    const push = await pq(bob.tree, "push");
    expect(push.code).toBe(7);
    expect(push.err).toContain("is a merge's conflict marker in its description");
    // Committed with plain git, as git's own message says: the sync refuses to publish it, and says how to fix it.
    git(bob.queue, "commit", "-qam", "merge");
    const sync = await pq(bob.tree, "sync");
    expect(sync.code).toBe(6);
    expect(sync.err).toContain(`fix P.patch by hand in ${bob.queue} as said above, pq commit -m MESSAGE, then pq sync again`);
    expect(remoteQueue(w.remote).patches["P.patch"]).not.toContain("<<<<<<<");
    // Word for word.
    write(bob.queue, "P.patch", read(bob.queue, "P.patch").replace(/<<<<<<< [^]*?>>>>>>> [^\n]*\n/, "Subject: P, as both put it\n"));
    await ok(bob.tree, "commit", "-m", "resolved");
    await ok(bob.tree, "sync");
    expect(remoteQueue(w.remote).patches["P.patch"]).toContain("P, as both put it");
    expect((await ok(bob.tree, "push")).code).toBe(0);
  }, 60_000);
});

describe("a colleague's pq finish, seen from a stack without it applied or with it changed (t23 F2, F3)", () => {
  it("is said in the sync's notes, and in the conflict over a patch changed here", async () => {
    w = world();
    ann = await annSharesPAndQ(w);
    bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
    const cy = await join_(w, w.remote, "Cy Example", "cy@example.org");
    // Cy changes P.
    await ok(cy.tree, "push");
    editLine(cy.tree, "a.c", 20, "twenty, by Cy");
    await ok(cy.tree, "refresh");
    await ok(cy.tree, "commit", "-m", "Cy's P");
    // Ann finishes P.
    await ok(ann.tree, "finish", "P.patch");
    const commit = git(ann.tree, "rev-parse", "HEAD").trim();
    await ok(ann.tree, "commit", "-m", "P is upstream now");
    await ok(ann.tree, "sync");
    const said = `P.patch was finished by Ann Example into commit ${commit.slice(0, 12)}, the queue's history says, which this tree's repository does not have`;
    // Bob has nothing applied: the sync's notes say it.
    const b = await pq(bob.tree, "sync");
    expect(b.code, b.err).toBe(0);
    expect(b.out).toContain(
      `${said}: pq rebase brings the tree to its upstream (git fetch it first, and check it has that commit), before pushing the patches above it`,
    );
    // Cy changed P: the conflict says it was finished, and the way on.
    const c = await pq(cy.tree, "sync");
    expect(c.code).toBe(6);
    expect(c.err).toContain(`${said} there, but changed here: the changed version is kept; git pull the tree`);
  }, 60_000);
});
