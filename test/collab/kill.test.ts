import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { cleanup, git, pq, read, write } from "../helpers/repo.js";
import { editLine, expectConverged, fullSnapshot, join_, ok, remoteQueue, world } from "./shared-helpers.js";

const PQ = resolve("bin/pq.js");

/** Starts `pq sync` as a real process and SIGKILLs it after `ms` (it may finish first). */
async function killedSync(cwd: string, ms: number): Promise<void> {
  const child = spawn(process.execPath, [PQ, "sync"], { cwd, stdio: "ignore" });
  const exited = new Promise((r) => child.on("exit", r));
  await new Promise((r) => setTimeout(r, ms));
  child.kill("SIGKILL");
  await exited;
}

/**
 * Runs `each` once per value, each time on a fresh copy of the world `prepare` made once: the copy
 * goes back to the same paths (git's remotes and pq's state name them) with timestamps kept.
 */
async function fromOneStart<T extends { w: { root: string } }>(
  prepare: () => Promise<T>,
  values: number[],
  each: (made: T, value: number) => Promise<void>,
) {
  const made = await prepare();
  const copy = `${made.w.root}.start`;
  cpSync(made.w.root, copy, { recursive: true, preserveTimestamps: true });
  try {
    for (const value of values) {
      rmSync(made.w.root, { recursive: true, force: true });
      cpSync(copy, made.w.root, { recursive: true, preserveTimestamps: true });
      await each(made, value);
    }
  } finally {
    cleanup(made.w.root);
    cleanup(copy);
  }
}

/** A shared queue whose remote has p1.patch (a.c line 5), from Ann's clone. */
async function annSharesP1() {
  const w = world();
  const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
  await ok(ann.tree, "new", "p1.patch", "-m", "one");
  editLine(ann.tree, "a.c", 5, "five");
  await ok(ann.tree, "refresh");
  await ok(ann.tree, "commit", "-m", "p1");
  await ok(ann.tree, "sync");
  return { w, ann };
}

/** What a sync killed mid-integration leaves in .pq/sync.json for Ann's p1 stack (add the commit it was moving to as `target`). */
function integratingState(head: string) {
  return {
    version: 1,
    phase: "integrating",
    origHead: head,
    theirs: head,
    origTop: "p1.patch",
    origApplied: ["p1.patch"],
    conflicts: [],
    renamed: {},
  };
}

describe("a sync interrupted while it moved the queue to the merged version", () => {
  it("refuses other changes until pq sync completes it, and never drops a commit made since", async () => {
    const { w, ann } = await annSharesP1();
    const head = git(ann.queue, "rev-parse", "HEAD").trim();
    const state = integratingState(head);
    const interrupted = (target: string) => write(ann.tree, ".pq/sync.json", JSON.stringify({ ...state, target }));
    interrupted(head);
    editLine(ann.tree, "a.c", 9, "nine");
    const refresh = await pq(ann.tree, "refresh");
    expect(refresh.code).toBe(12);
    expect(refresh.err).toContain("pq sync completes it first");
    const commit = await pq(ann.tree, "commit", "-m", "meanwhile");
    expect(commit.code).toBe(12);
    // A commit made by hand since: completing the interrupted move would drop it, so sync stops and says so.
    git(ann.queue, "commit", "-q", "--allow-empty", "-m", "by hand");
    const byHand = git(ann.queue, "rev-parse", "HEAD").trim();
    write(
      ann.tree,
      ".pq/sync.json",
      JSON.stringify({ ...state, target: git(ann.queue, "commit-tree", "-p", head, "-m", "merge", `${head}^{tree}`).trim() }),
    );
    const s = await pq(ann.tree, "sync");
    expect(s.code).toBe(12);
    expect(s.err).toContain("completing that sync would drop it");
    expect(git(ann.queue, "rev-parse", "HEAD").trim()).toBe(byHand);
    expect(read(ann.tree, "a.c")).toContain("nine\n");
    cleanup(w.root);
  }, 60_000);
});

describe("an interrupted sync with unrefreshed edits in the way (t35 F5)", () => {
  it("refresh and sync each name the way out, and refresh works once the sync has completed", async () => {
    const { w, ann } = await annSharesP1();
    const head = git(ann.queue, "rev-parse", "HEAD").trim();
    const state = { ...integratingState(head), target: head };
    write(ann.tree, ".pq/sync.json", JSON.stringify(state));
    editLine(ann.tree, "a.c", 9, "nine");
    const refresh = await pq(ann.tree, "refresh");
    expect(refresh.code).toBe(12);
    expect(refresh.err).toContain("with unrefreshed edits in the way: git stash (it keeps them), pq sync, then git stash pop");
    // The sync completes the interrupted one, then refuses over the edits as any sync does: and says refresh works now.
    const sync = await pq(ann.tree, "sync");
    expect(sync.code).toBe(5);
    expect(sync.err).toContain("the interrupted sync was completed first: pq refresh works again");
    expect((await ok(ann.tree, "refresh")).out).toContain("refreshed p1.patch");
    expect(read(ann.tree, "a.c")).toContain("nine\n");
    cleanup(w.root);
  }, 60_000);
});

describe("a sync killed between moving the queue's branch and resetting its index", () => {
  it("is finished by the next pq sync: the index matches the branch, so a plain git commit reverts nothing", async () => {
    const { w, ann } = await annSharesP1();
    const before = git(ann.queue, "rev-parse", "HEAD").trim();
    editLine(ann.tree, "a.c", 20, "twenty");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "p1: line 20");
    const head = git(ann.queue, "rev-parse", "HEAD").trim();
    // The branch is at the merge's commit; the index still holds the queue files from before.
    git(ann.queue, "read-tree", before);
    expect(git(ann.queue, "status", "--porcelain")).not.toBe("");
    const state = {
      version: 1,
      phase: "integrating",
      origHead: before,
      theirs: head,
      origTop: "p1.patch",
      origApplied: ["p1.patch"],
      conflicts: [],
      renamed: {},
      target: head,
    };
    write(ann.tree, ".pq/sync.json", JSON.stringify(state));
    await ok(ann.tree, "sync");
    expect(git(ann.queue, "status", "--porcelain")).toBe("");
    expect(existsSync(join(ann.tree, ".pq/sync.json"))).toBe(false);
    cleanup(w.root);
  }, 60_000);
});

describe("a sync killed at any point", () => {
  it("is completed by the next pq sync, with nothing lost on either side", async () => {
    const prepare = async () => {
      const { w, ann } = await annSharesP1();
      const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
      await ok(bob.tree, "push", "-a");
      editLine(ann.tree, "a.c", 2, "two (ann)");
      await ok(ann.tree, "refresh");
      await ok(ann.tree, "commit", "-m", "ann refreshes p1");
      await ok(ann.tree, "sync");
      editLine(bob.tree, "a.c", 30, "thirty (bob)");
      await ok(bob.tree, "refresh");
      await ok(bob.tree, "new", "bob.patch", "-m", "bob's");
      editLine(bob.tree, "b.c", 9, "nine (bob)");
      await ok(bob.tree, "refresh");
      await ok(bob.tree, "commit", "-m", "bob refreshes p1, adds bob.patch");
      return { w, ann, bob };
    };
    await fromOneStart(prepare, [60, 250, 450, 700], async ({ w, ann, bob }, ms) => {
      await killedSync(bob.tree, ms);
      const again = await pq(bob.tree, "sync");
      expect(again.code, `killed after ${ms} ms: ${again.err}`).toBe(0);
      await ok(ann.tree, "sync");
      const p1 = remoteQueue(w.remote).patches["p1.patch"];
      expect(p1, `killed after ${ms} ms`).toContain("+two (ann)");
      expect(p1).toContain("+thirty (bob)");
      expect(remoteQueue(w.remote).series).toBe("p1.patch\nbob.patch\n");
      expect((await ok(bob.tree, "top")).out.trim()).toBe("bob.patch");
      expect(read(bob.tree, "a.c")).toMatch(/two \(ann\)[^]*five[^]*thirty \(bob\)/);
      await expectConverged(w.remote, [ann, bob], w.base);
    });
  }, 240_000);

  it("that was stopping on a conflict is rolled back and redone: the conflict is reported again, --abort restores", async () => {
    const prepare = async () => {
      const w = world();
      const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
      await ok(ann.tree, "new", "p1.patch", "-m", "one");
      editLine(ann.tree, "a.c", 5, "five");
      await ok(ann.tree, "refresh");
      await ok(ann.tree, "new", "p2.patch", "-m", "two");
      editLine(ann.tree, "b.c", 5, "bee five");
      await ok(ann.tree, "refresh");
      await ok(ann.tree, "commit", "-m", "p1, p2");
      await ok(ann.tree, "sync");
      const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
      await ok(bob.tree, "push", "-a");
      await ok(ann.tree, "goto", "p1.patch");
      editLine(ann.tree, "a.c", 5, "five (ann)");
      await ok(ann.tree, "refresh");
      await ok(ann.tree, "commit", "-m", "ann");
      await ok(ann.tree, "sync");
      await ok(bob.tree, "goto", "p1.patch");
      editLine(bob.tree, "a.c", 5, "five (bob)");
      await ok(bob.tree, "refresh");
      await ok(bob.tree, "commit", "-m", "bob");
      await ok(bob.tree, "push", "-a");
      return { w, ann, bob };
    };
    await fromOneStart(prepare, [150, 500, 800], async ({ w, bob }, ms) => {
      const before = fullSnapshot(bob.tree);
      const remoteBefore = remoteQueue(w.remote);

      await killedSync(bob.tree, ms);
      const again = await pq(bob.tree, "sync");
      expect(again.code, `killed after ${ms} ms: ${again.err}`).toBe(6);
      // Rolled back and redone, or (if the kill came after it stopped) still stopped: the same conflict either way.
      expect(JSON.parse((await ok(bob.tree, "status", "--json")).out).shared.conflicted).toEqual(["p1.patch"]);
      expect(read(bob.tree, "a.c")).toMatch(/<<<<<<< ours\nfive \(bob\)\n=======\nfive \(ann\)\n>>>>>>> theirs\n/);
      expect(remoteQueue(w.remote)).toEqual(remoteBefore);
      await ok(bob.tree, "sync", "--abort");
      expect(fullSnapshot(bob.tree), `killed after ${ms} ms`).toEqual(before);
    });
  }, 240_000);
});

describe("a sync --continue killed after it committed the merge (safe-6 #15)", () => {
  it("is finished by the next --continue without a second merge, and --abort can still take it back", async () => {
    const prepare = async () => {
      const { w, ann } = await annSharesP1();
      const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
      await ok(bob.tree, "push", "-a");
      editLine(ann.tree, "a.c", 5, "five (ann)");
      await ok(ann.tree, "refresh");
      await ok(ann.tree, "commit", "-m", "ann");
      await ok(ann.tree, "sync");
      editLine(bob.tree, "a.c", 5, "five (bob)");
      await ok(bob.tree, "refresh");
      await ok(bob.tree, "commit", "-m", "bob");
      expect((await pq(bob.tree, "sync")).code).toBe(6);
      write(bob.tree, "a.c", read(bob.tree, "a.c").replace(/<<<<<<< ours\n[^]*?>>>>>>> theirs\n/, "five (ann and bob)\n"));
      await ok(bob.tree, "refresh");
      return { w, bob };
    };
    // 0: killed after the merge commit, then --continue; 1: the same, then --abort; 2: killed after the restack, then --continue (verify-6 N3);
    // 3: killed after moving the queue's branch (its index set first), then --continue (collab-7 #2);
    // 4: killed between setting the index and moving the branch (t83 N2), then --continue: the merge is made then.
    await fromOneStart(prepare, [0, 1, 2, 3, 4], async ({ w, bob }, variant) => {
      const abort = variant === 1;
      const killed = spawnSync(process.execPath, [PQ, "sync", "--continue"], {
        cwd: bob.tree,
        encoding: "utf8",
        env: {
          ...process.env,
          PQ_FAILPOINT: ["sync-merge-committed", "sync-merge-committed", "sync-restacked", "queue-head-moved", "queue-index-set"][variant],
        },
      });
      expect(killed.signal).toBe("SIGKILL");
      const queue = join(bob.tree, "patches");
      const merge = git(queue, "rev-parse", "HEAD");
      if (abort) {
        const r = await pq(bob.tree, "sync", "--abort");
        expect(r.code, r.err).toBe(0);
        expect(git(queue, "rev-parse", "HEAD")).toBe(git(queue, "rev-parse", `${merge.trim()}^1`));
        return;
      }
      const r = await pq(bob.tree, "sync", "--continue");
      expect(r.code, r.err).toBe(0);
      // The merge the killed --continue made is the one pushed: no second merge on top.
      if (variant !== 4) expect(git(w.remote, "rev-parse", "main").trim()).toBe(merge.trim());
      expect(git(queue, "rev-list", "--merges", "--count", "HEAD").trim()).toBe("1");
      expect((await pq(bob.tree, "applied")).out).toBe("p1.patch\n");
      // The queue's index is the merge's: a plain git commit there has nothing to commit.
      expect(git(queue, "status", "--porcelain", "--untracked-files=no")).toBe("");
    });
  }, 120_000);
});

describe("a sync whose restack stops half way on a full disk (t56 N1)", () => {
  it("stays to be finished: status says so once the pop is completed, and the next sync brings the stack back", async () => {
    const { w, ann } = await annSharesP1();
    await ok(ann.tree, "new", "p2.patch", "-m", "two");
    editLine(ann.tree, "a.c", 25, "twenty-five");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "p2");
    await ok(ann.tree, "sync");
    const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
    await ok(bob.tree, "push", "-a");
    // Ann changes the lower patch: Bob's sync pops his stack to bring it in.
    await ok(ann.tree, "goto", "p1.patch");
    editLine(ann.tree, "a.c", 10, "ten (ann)");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "ann");
    await ok(ann.tree, "sync");
    // The pop's tree is written, then the disk refuses (the state's write): the journal is left.
    const stopped = spawnSync(process.execPath, [PQ, "sync"], {
      cwd: bob.tree,
      encoding: "utf8",
      env: { ...process.env, PQ_FAILPOINT: "tree-written:eio" },
    });
    expect(stopped.status, stopped.stderr).toBe(13);
    // Said with the sync's own ways on (t75 N4).
    expect(stopped.stderr).toContain(
      "a pq sync was under way: once the operation is completed, pq sync finishes the sync, or pq sync --abort takes it back",
    );
    expect(existsSync(join(bob.tree, ".pq", "sync.json"))).toBe(true);
    // The next command completes the pop, and says a sync is unfinished (it had forgotten it:
    // the next sync then left the patches popped, saying nothing).
    const status = await ok(bob.tree, "status");
    expect(status.err + status.out).toContain("completed an interrupted operation");
    expect(status.out + status.err).toMatch(/sync was interrupted/);
    await ok(bob.tree, "sync");
    expect((await ok(bob.tree, "applied")).out).toBe("p1.patch\np2.patch\n");
    expect(read(bob.tree, "a.c")).toContain("ten (ann)");
  }, 60_000);
});

describe("a pq commit killed between setting the queue's index and moving its branch (t83 N2)", () => {
  it("leaves the commit's version staged, not a revert of it, and the next pq commit makes the commit", async () => {
    const { w, ann } = await annSharesP1();
    try {
      editLine(ann.tree, "a.c", 9, "nine");
      await ok(ann.tree, "refresh");
      const queue = join(ann.tree, "patches");
      const head = git(queue, "rev-parse", "HEAD").trim();
      const killed = spawnSync(process.execPath, [PQ, "commit", "-m", "second"], {
        cwd: ann.tree,
        encoding: "utf8",
        env: { ...process.env, PQ_FAILPOINT: "queue-index-set" },
      });
      expect(killed.signal).toBe("SIGKILL");
      expect(git(queue, "rev-parse", "HEAD").trim()).toBe(head);
      // What is staged is the work tree's version: a plain git commit would make the same commit.
      expect(git(queue, "diff", "--name-only")).toBe("");
      expect(git(queue, "diff", "--cached", "--name-only")).toBe("p1.patch\n");
      expect((await ok(ann.tree, "commit", "-m", "second")).out).not.toContain("nothing to commit");
      expect(git(queue, "status", "--porcelain", "--untracked-files=no")).toBe("");
      expect(git(queue, "show", "HEAD:p1.patch")).toContain("+nine");
    } finally {
      cleanup(w.root);
    }
  });
});
