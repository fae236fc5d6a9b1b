import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PqError } from "../../src/errors.js";
import { commandCount, entriesOfCommands, recentOperations, type OplogEntry } from "../../src/queue/oplog.js";
import { Stack, type PushReport } from "../../src/queue/stack.js";
import { cleanup, git, makeRepo, pq, read, snapshot, write, expectPqError } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

const lines = (n: number, tag = "line") => Array.from({ length: n }, (_, i) => `${tag} ${i + 1}\n`).join("");

async function fourPatches(): Promise<{ dir: string; stack: Stack }> {
  const dir = makeRepo({ "a.txt": lines(40), "b.txt": lines(5, "b") });
  dirs.push(dir);
  const stack = await Stack.init({ tree: dir });
  for (const [i, at] of [5, 15, 25, 35].entries()) {
    await stack.newPatch(`p${i + 1}`, { message: `patch ${i + 1}` });
    write(dir, "a.txt", read(dir, "a.txt").replace(`line ${at}\n`, `line ${at} by p${i + 1}\n`));
    await stack.refresh();
  }
  await stack.pop({ target: "p2" });
  return { dir, stack };
}

/** The tree, the queue, the state's meaning and the branch: what undo must restore. */
function observe(dir: string) {
  const state = JSON.parse(readFileSync(join(dir, ".pq/state.json"), "utf8"));
  return { files: snapshot(dir), applied: state.applied.map((a: { name: string }) => a.name), guards: state.guards, log: git(dir, "log", "--format=%H %s") };
}

const snapshotBytes = (dir: string) => Object.values(snapshot(dir)).reduce((n, text) => n + text.length, 0);

const queueOf = (files: Record<string, string>) => Object.fromEntries(Object.entries(files).filter(([p]) => p.startsWith("patches/")));


const operations: [string, (s: Stack, dir: string) => Promise<unknown>][] = [
  ["new", (s) => s.newPatch("p9", { message: "ninth" })],
  [
    "refresh",
    async (s, dir) => {
      write(dir, "a.txt", read(dir, "a.txt").replace("line 1\n", "line one\n"));
      write(dir, "new.txt", "created\n");
      await s.refresh({ files: ["a.txt", "new.txt"], message: "patch 2, reworded" });
    },
  ],
  ["push", (s) => s.push()],
  ["push -a", (s) => s.push({ all: true })],
  ["pop", (s) => s.pop()],
  ["pop -a", (s) => s.pop({ all: true })],
  ["fold", (s) => s.fold(["p3"])],
  ["rename (applied)", (s) => s.renamePatch("p2", "second")],
  ["delete", (s) => s.deletePatches(["p4"])],
  ["reorder", (s) => s.reorder("p4", { before: "p3" })],
  ["guard", (s) => s.setGuards("p3", ["+xen"])],
  ["select", (s) => s.select(["xen"])],
  ["header", (s) => s.setHeader("p1", { subject: "first, reworded", body: "", author: "Other <other@example.org>" })],
  [
    "import with push",
    (s) =>
      s.insertPatches([{ name: "extra", text: "Subject: extra\n\n--- a/b.txt\n+++ b/b.txt\n@@ -1,2 +1,2 @@\n-b 1\n+b one\n b 2\n", guards: [] }], {
        push: true,
      }),
  ],
  ["finish", (s) => s.finish({ target: "p1" })],
];

describe("undo and redo after every operation", () => {
  for (const [label, op] of operations) {
    it(`${label}: undo restores tree, queue, state and branch; redo re-does it`, async () => {
      const { dir, stack } = await fourPatches();
      const before = observe(dir);
      await op(stack, dir);
      const after = observe(dir);
      expect(after).not.toEqual(before);
      await stack.undo();
      if (label === "refresh") {
        // The patch text and state come back; the edits stay in the tree, unrefreshed again.
        const now = observe(dir);
        expect({ ...now, files: queueOf(now.files) }).toEqual({ ...before, files: queueOf(before.files) });
        expect(now.files["new.txt"]).toBe("created\n");
        expect((await stack.status()).pending).toEqual(["a.txt"]);
      } else expect(observe(dir)).toEqual(before);
      await stack.redo();
      expect(observe(dir)).toEqual(after);
      // And the stack still works afterwards.
      await stack.pop({ all: true });
      await stack.push({ all: true });
    });
  }
});

describe("undo chains and refusals", () => {
  it("refresh, refresh, undo, undo, redo walks the patch text back and forth", async () => {
    const { dir, stack } = await fourPatches();
    const v0 = read(join(dir, "patches"), "p2");
    write(dir, "a.txt", read(dir, "a.txt").replace("line 2\n", "line two\n"));
    await stack.refresh();
    const v1 = read(join(dir, "patches"), "p2");
    const tree1 = read(dir, "a.txt");
    write(dir, "a.txt", read(dir, "a.txt").replace("line 3\n", "line three\n"));
    await stack.refresh();
    const v2 = read(join(dir, "patches"), "p2");
    expect(new Set([v0, v1, v2]).size).toBe(3);
    await stack.undo();
    expect(read(join(dir, "patches"), "p2")).toBe(v1);
    await stack.undo();
    expect(read(join(dir, "patches"), "p2")).toBe(v0);
    // The edits are in the tree still, now unrefreshed: nothing was lost.
    expect((await stack.status()).pending).toEqual(["a.txt"]);
    await stack.redo();
    expect(read(join(dir, "patches"), "p2")).toBe(v1);
    expect(read(dir, "a.txt")).not.toBe(tree1); // the second edit stays in the tree
    await expectPqError(stack.redo({ count: 2 }), "refused");
    await stack.redo();
    expect(read(join(dir, "patches"), "p2")).toBe(v2);
    await expectPqError(stack.redo(), "refused");
  });

  it("redo across a refresh of edits made after a push puts the refreshed tree back, not the pushed one", async () => {
    const { dir, stack } = await fourPatches();
    await stack.push();
    write(dir, "a.txt", read(dir, "a.txt").replace("line 2\n", "line two\n"));
    await stack.refresh();
    const after = observe(dir);
    await stack.pop({ target: "p2" });
    await stack.undo();
    // The refresh's undo leaves its edits in the tree, which the push's undo overwrites: saved first (t61 N3).
    expect((await stack.undo({ count: 2 })).betweenBackup).toBeDefined();
    await stack.redo({ count: 2 });
    expect(observe(dir)).toEqual(after);
    expect((await stack.status()).pending).toEqual([]);
  });

  it("redo of a refresh whose edits left the tree since is refused as changed since; --force puts them back (verify-10 Y5)", async () => {
    const { dir, stack } = await fourPatches();
    const before = read(dir, "a.txt");
    write(dir, "a.txt", before.replace("line 2\n", "line two\n"));
    await stack.refresh();
    const refreshed = read(dir, "a.txt");
    await stack.undo();
    write(dir, "a.txt", before);
    const e = await expectPqError(stack.redo(), "dirty");
    expect(e.data.files).toEqual(["a.txt"]);
    const report = await stack.redo({ force: true });
    expect(report.backup).toBeDefined();
    expect(read(dir, "a.txt")).toBe(refreshed);
    expect((await stack.status()).pending).toEqual([]);
    // A file the refresh took new (no patch had it): the same, against HEAD's version (verify-11).
    const b = read(dir, "b.txt");
    write(dir, "b.txt", b.replace("b 1\n", "b one\n"));
    await stack.refresh();
    await stack.undo();
    git(dir, "checkout", "--", "b.txt");
    expect((await expectPqError(stack.redo(), "dirty")).data.files).toEqual(["b.txt"]);
  });

  it("undo 3 takes back three operations at once; a new operation clears redo", async () => {
    const { dir, stack } = await fourPatches();
    const before = observe(dir);
    await stack.push();
    await stack.setGuards("p4", ["+x"]);
    await stack.newPatch("p5");
    await stack.undo({ count: 3 });
    expect(observe(dir)).toEqual(before);
    await stack.redo();
    expect(stack.applied()).toEqual(["p1", "p2", "p3"]);
    await stack.newPatch("other");
    await expectPqError(stack.redo(), "refused");
  });

  it("undo refuses over files changed since; --force backs them up", async () => {
    const { dir, stack } = await fourPatches();
    await stack.push();
    write(dir, "a.txt", read(dir, "a.txt").replace("line 1\n", "mine\n"));
    const e = await expectPqError(stack.undo(), "dirty");
    expect(e.data.files).toEqual(["a.txt"]);
    const report = await stack.undo({ force: true });
    expect(report.backup).toBeDefined();
    expect(read(report.backup!, "a.txt")).toContain("mine\n");
    expect(stack.applied()).toEqual(["p1", "p2"]);
  });

  it("undo N over a refresh and an older push: the edits the refresh took are saved, never lost (t61 N3)", async () => {
    const { dir, stack } = await fourPatches();
    await stack.pop();
    await stack.push();
    write(dir, "a.txt", read(dir, "a.txt").replace("line 2\n", "precious work\n"));
    await stack.refresh();
    // One at a time: the first leaves the edits in the tree, the second refuses over them.
    await stack.undo();
    expect(read(dir, "a.txt")).toContain("precious work\n");
    await expectPqError(stack.undo(), "dirty");
    await stack.redo();
    // Three at once take the refresh back with the push and pop under it, as asked: what the refresh took is saved, and said.
    const report = await stack.undo({ count: 3 });
    expect(read(dir, "a.txt")).not.toContain("precious work\n");
    expect(report.backup).toBeUndefined();
    expect(read(report.betweenBackup!, "a.txt")).toContain("precious work\n");
    // Redone one at a time, the refresh's redo finds its edits saved aside, and says where (t65 N3).
    await stack.redo();
    await stack.redo();
    const refused = await expectPqError(stack.redo(), "dirty");
    expect(refused.details.join("\n")).toContain(`the undo that took it back saved what the refresh had taken in ${report.betweenBackup}`);
  });

  it("undo N over two refreshes and a pop leaves what N single undos leave: the later edits in the tree (t61 N4)", async () => {
    const { dir, stack } = await fourPatches();
    await stack.push();
    write(dir, "a.txt", read(dir, "a.txt").replace("line 2\n", "first edit\n"));
    await stack.refresh();
    write(dir, "a.txt", read(dir, "a.txt").replace("line 12\n", "second edit, precious\n"));
    await stack.refresh();
    await stack.pop();
    await stack.undo({ count: 3 });
    // As after three single undos: p3 pushed again as it was first refreshed, both edits in the tree, unrefreshed.
    const a = read(dir, "a.txt");
    for (const line of ["line 25 by p3\n", "first edit\n", "second edit, precious\n"]) expect(a).toContain(line);
    expect(read(join(dir, "patches"), "p3")).not.toContain("edit");
    expect(stack.applied()).toEqual(["p1", "p2", "p3"]);
    // And redo 3 re-does the three, as three single redos do (t65 N1: it was refused as changed since).
    await stack.redo({ count: 3 });
    expect(stack.applied()).toEqual(["p1", "p2"]);
    expect(read(join(dir, "patches"), "p3")).toContain("+second edit, precious");
    expect(read(dir, "a.txt")).not.toContain("edit");
  });

  it("undo of finish drops the commits, unless something was built on them", async () => {
    const { dir, stack } = await fourPatches();
    const head = git(dir, "rev-parse", "HEAD");
    await stack.finish({ target: "p1" });
    write(dir, "b.txt", lines(5, "b") + "more\n");
    git(dir, "commit", "-qam", "built on top");
    const e = await expectPqError(stack.undo(), "refused");
    expect(e.message).toContain("moved on");
    git(dir, "reset", "-q", "--hard", "HEAD~1");
    // Taken back below the finished commit: not "built on", and the way back named (t39 F1).
    const finished = git(dir, "rev-parse", "HEAD").trim();
    git(dir, "reset", "-q", "--hard", "HEAD~1");
    const taken = await expectPqError(stack.undo(), "refused");
    expect(taken.message).toContain(`main no longer holds ${finished.slice(0, 12)}, where the operation left it`);
    expect(taken.details.join("\n")).toContain(`git reset --keep ${finished.slice(0, 12)} puts it back`);
    git(dir, "reset", "-q", "--keep", finished);
    await stack.undo();
    expect(git(dir, "rev-parse", "HEAD")).toBe(head);
    expect(stack.applied()).toEqual(["p1", "p2"]);
    expect(git(dir, "diff", "--cached", "--name-only")).toBe("");
  });

  it("each operation's before-state is the previous one's after-state, one stored object", async () => {
    const { dir, stack } = await fourPatches();
    await stack.push();
    await stack.pop({ all: true });
    // A second process (a fresh Stack) logs the state text it read, not a re-serialisation.
    await (await Stack.open({ tree: dir })).push({ all: true });
    const log = recentOperations(join(dir, ".pq/oplog")).entries.reverse();
    expect(log.length).toBeGreaterThan(4);
    for (let i = 1; i < log.length; i++) expect(log[i].state[0]).toBe(log[i - 1].state[1]);
    await stack.undo();
    expect(observe(dir).applied).toEqual([]);
  });

  it("stores each after-state as its difference from the state before; undo brings every one back exactly", async () => {
    // 120 patches, so that the state is far bigger than one patch's record in it.
    const count = 120;
    const dir = makeRepo(Object.fromEntries(Array.from({ length: count }, (_, i) => [`f${i}.txt`, lines(3, `f${i}`)])));
    dirs.push(dir);
    const stack = await Stack.init({ tree: dir });
    for (let i = 0; i < count; i++) await stack.newPatch(`p${i}`, { message: `patch ${i}` });
    await stack.pop({ all: true });
    for (let i = 0; i < count; i++) write(dir, `patches/p${i}`, `--- a/f${i}.txt\n+++ b/f${i}.txt\n@@ -1,1 +1,1 @@\n-f${i} 1\n+f${i} one\n`);
    await stack.push({ all: true });
    const objectBytes = () => snapshotBytes(join(dir, ".pq/objects"));
    const states: string[] = [];
    const sizes: number[] = [];
    for (let k = 0; k < 12; k++) {
      states.push(readFileSync(join(dir, ".pq/state.json"), "latin1"));
      const before = objectBytes();
      write(dir, "f0.txt", read(dir, "f0.txt") + `edit ${k}\n`);
      await stack.refresh();
      sizes.push(objectBytes() - before);
    }
    const stateSize = readFileSync(join(dir, ".pq/state.json")).length;
    expect(stateSize).toBeGreaterThan(20_000);
    // Twelve refreshes, whole copies at most every ninth (the delta chain's limit): far below twelve states.
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThan(3 * stateSize);
    for (let k = 11; k >= 0; k--) {
      await stack.undo();
      expect(readFileSync(join(dir, ".pq/state.json"), "latin1")).toBe(states[k]);
    }
  });

  it("nothing to undo in a fresh stack", async () => {
    const dir = makeRepo({ "a.txt": "a\n" });
    dirs.push(dir);
    const stack = await Stack.init({ tree: dir });
    await expectPqError(stack.undo(), "refused");
    expect(existsSync(join(dir, ".pq/journal.json"))).toBe(false);
  });
});

describe("push --dry-run", () => {
  it("reports the same hunk fates as the real push and writes nothing", async () => {
    const dir = makeRepo({ "a.txt": lines(60), "b.txt": lines(30, "b") });
    dirs.push(dir);
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("offset");
    write(dir, "a.txt", read(dir, "a.txt").replace("line 30\n", "line thirty\n"));
    await stack.refresh();
    await stack.newPatch("fuzzy");
    write(dir, "b.txt", read(dir, "b.txt").replace("b 15\n", "b fifteen\n"));
    await stack.refresh();
    await stack.newPatch("failing");
    write(dir, "b.txt", read(dir, "b.txt").replace("b 25\n", "b twenty-five\n"));
    await stack.refresh();
    await stack.pop({ all: true });
    // Upstream moves: lines inserted above (offset), a context line changed (fuzz), the failing hunk's line replaced.
    write(dir, "a.txt", "new 1\nnew 2\n" + lines(60));
    write(dir, "b.txt", lines(30, "b").replace("b 13\n", "b 13 changed\n").replace("b 25\n", "b 25 upstream\n"));
    git(dir, "commit", "-qam", "upstream");
    const before = { tree: snapshot(dir), pq: snapshotPq(dir) };
    // A dry run that would stop refuses as the push would; its refusal carries the report (dry-6 #7).
    const dryFailure = await stack.push({ all: true, dryRun: true }).catch((e: PqError) => e);
    expect(dryFailure).toBeInstanceOf(PqError);
    expect((dryFailure as PqError).code).toBe("apply-failed");
    const dry = (dryFailure as PqError).data as unknown as PushReport;
    expect({ tree: snapshot(dir), pq: snapshotPq(dir) }).toEqual(before);
    expect(dry.pushed.map((p) => p.name)).toEqual(["offset", "fuzzy"]);
    expect(dry.wouldFail?.name).toBe("failing");
    const real = await stack.push({ all: true }).catch((e: PqError) => e);
    expect(real).toBeInstanceOf(PqError);
    const failure = real as PqError;
    expect(failure.data.patch).toBe("failing");
    expect(failure.data.files).toEqual(dry.wouldFail!.files);
    expect((failure.data.pushed as PushReport["pushed"]).map((p) => p.name)).toEqual(["offset", "fuzzy"]);
    expect(stack.applied()).toEqual(["offset", "fuzzy"]);
    const fates = dry.pushed.map((p) => p.files!.flatMap((f) => f.hunks.map((h) => h.status)));
    expect(fates).toEqual([["offset"], ["fuzz"]]);
  });
});

function snapshotPq(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of ["state.json", "statcache", "pushcache.log", "oplog", "objects/index"]) {
    const p = join(dir, ".pq", f);
    out[f] = existsSync(p) ? readFileSync(p, "latin1") : "";
  }
  return out;
}

describe("commands in the operation log", () => {
  const entry = (id: string, group?: string) => ({ id, ...(group ? { group } : {}) }) as OplogEntry;
  // Newest first, as undo sees them: a rebase (r, three entries), a push, a sync (s, two), a pop.
  const log = [entry("r3", "r"), entry("r2", "r"), entry("r1", "r"), entry("push"), entry("s2", "s"), entry("s1", "s"), entry("pop")];

  it("a run of one group's entries is one command; ungrouped entries are one each", () => {
    expect(commandCount(log)).toBe(4);
    expect(entriesOfCommands(log, 1)).toBe(3);
    expect(entriesOfCommands(log, 2)).toBe(4);
    expect(entriesOfCommands(log, 3)).toBe(6);
    expect(entriesOfCommands(log, 4)).toBe(7);
    expect(entriesOfCommands(log, 5)).toBeNull();
    expect(entriesOfCommands([entry("a"), entry("b")], 1)).toBe(1);
  });
});

/** A tree with `files` (a.txt among them), pq init, and a refreshed patch p1 that adds a line to a.txt. */
async function treeWithP1(files: Record<string, string>): Promise<string> {
  const dir = makeRepo(files);
  dirs.push(dir);
  expect((await pq(dir, "init")).code).toBe(0);
  expect((await pq(dir, "new", "p1")).code).toBe(0);
  write(dir, "a.txt", files["a.txt"] + "p1\n");
  expect((await pq(dir, "refresh")).code).toBe(0);
  return dir;
}

describe("undo and redo trust the log only where it is whole and in step with the stack", () => {
  async function oneQueue(): Promise<string> {
    const dir = makeRepo({ "a.txt": lines(10), "b.txt": lines(10, "b") });
    dirs.push(dir);
    expect((await pq(dir, "init")).code).toBe(0);
    return dir;
  }

  it("refuses to undo across a queue switch (the recorded moves belong to the other queue)", async () => {
    const dir = await oneQueue();
    expect((await pq(dir, "queue", "create", "other")).code).toBe(0);
    expect((await pq(dir, "new", "p1")).code).toBe(0);
    write(dir, "a.txt", lines(10) + "p1\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    expect((await pq(dir, "pop")).code).toBe(0);
    expect((await pq(dir, "guard", "p1", "+x")).code).toBe(0);
    expect((await pq(dir, "queue", "switch", "other")).code).toBe(0);
    const otherSeries = read(dir, "patches-other/series");
    const before = snapshot(dir);
    const r = await pq(dir, "undo");
    expect(r.code).toBe(12);
    expect(r.err).toContain("not in the state that");
    // The refusal and the log name the queue those operations changed (undo-5 #13).
    expect(r.err).toContain("changed the queue patches, and the tree now uses patches-other");
    expect((await pq(dir, "oplog", "-n", "1")).out).toContain("(queue patches)");
    expect(JSON.parse((await pq(dir, "oplog", "-n", "1", "--json")).out)[0].queue).toBe("patches");
    expect(snapshot(dir)).toEqual(before);
    expect(read(dir, "patches-other/series")).toBe(otherSeries);
    // Back on the queue the operations changed, they undo as before.
    expect((await pq(dir, "queue", "switch", "patches")).code).toBe(0);
    expect((await pq(dir, "undo")).code).toBe(0);
    expect(read(dir, "patches/series")).toBe("p1\n");
  });

  it("a damaged line in the log is named by pq oplog and stops undo, a wrong-shaped one too", async () => {
    const dir = await treeWithP1({ "a.txt": lines(10), "b.txt": lines(10, "b") });
    expect((await pq(dir, "pop")).code).toBe(0);
    const log = read(dir, ".pq/oplog").split("\n");
    // The newest line (the pop) cut in half, with nothing logged after it.
    write(dir, ".pq/oplog", [...log.slice(0, -2), log.at(-2)!.slice(0, 60), ""].join("\n"));
    const listed = await pq(dir, "oplog");
    expect(listed.code).toBe(0);
    expect(listed.err).toContain("1 damaged line(s) (line 1 from the end)");
    const before = snapshot(dir);
    const undo = await pq(dir, "undo");
    expect(undo.code).toBe(13);
    expect(undo.err).toContain("damaged line");
    expect(snapshot(dir)).toEqual(before);
    for (const wrong of ["{}", "null", "[]", "42", '{"id":"zz","op":"x"}']) {
      write(dir, ".pq/oplog", log.join("\n") + wrong + "\n");
      for (const command of ["oplog", "undo", "redo"]) {
        const r = await pq(dir, command);
        expect(r.err, `${wrong} ${command}`).not.toContain("internal error");
        if (command !== "oplog") expect(r.code, `${wrong} ${command}`).toBe(13);
      }
    }
  });

  it("pq oplog marks an undone operation as undone after later operations too, and says what redo can re-do", async () => {
    const dir = await treeWithP1({ "a.txt": lines(10), "b.txt": lines(10, "b") });
    expect((await pq(dir, "undo")).code).toBe(0);
    let ops = JSON.parse((await pq(dir, "oplog", "--json")).out) as { op: string; undone: boolean; redoable: boolean }[];
    expect(ops.find((o) => o.op === "refresh p1")).toMatchObject({ undone: true, redoable: true });
    expect((await pq(dir, "new", "p2")).code).toBe(0);
    ops = JSON.parse((await pq(dir, "oplog", "--json")).out);
    expect(ops.find((o) => o.op === "refresh p1")).toMatchObject({ undone: true, redoable: false });
    expect((await pq(dir, "oplog")).out).toMatch(/refresh p1.*\(undone\)/);
  });
});

describe("undo of finish with another branch checked out, and where --force saved what", () => {
  it("refuses to move the finished branch or touch the index while another branch is checked out", async () => {
    const dir = makeRepo({ "a.txt": lines(5) });
    dirs.push(dir);
    git(dir, "checkout", "-q", "-b", "other");
    write(dir, "a.txt", "other\n");
    git(dir, "commit", "-qam", "other work");
    git(dir, "checkout", "-q", "-");
    const main = git(dir, "symbolic-ref", "--short", "HEAD").trim();
    expect((await pq(dir, "init")).code).toBe(0);
    expect((await pq(dir, "new", "p1")).code).toBe(0);
    write(dir, "a.txt", lines(5) + "p1\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    expect((await pq(dir, "finish", "-a")).code).toBe(0);
    const finished = git(dir, "rev-parse", main);
    for (const away of [["checkout", "-q", "other"], ["switch", "-q", "-c", "feature", main]]) {
      git(dir, ...away);
      const r = await pq(dir, "undo");
      expect(r.code, away.join(" ")).toBe(12);
      expect(r.err).toContain("is checked out");
      expect(git(dir, "rev-parse", main)).toBe(finished);
      expect(git(dir, "status", "--porcelain", "--untracked-files=no")).toBe("");
      git(dir, "checkout", "-q", main);
    }
    expect((await pq(dir, "undo")).code).toBe(0);
    expect(git(dir, "rev-parse", main)).not.toBe(finished);
  });

  it("undo --force names every directory it saved files in, and only ones it made", async () => {
    const dir = await treeWithP1({ "a.txt": lines(5) });
    write(dir, "patches/p1", read(dir, "patches/p1") + "# a note\n");
    let r = await pq(dir, "undo", "--force");
    expect(r.code).toBe(0);
    let saved = /saved in (.+)$/m.exec(r.out)![1].split(" and ");
    expect(saved).toHaveLength(1);
    expect(read(saved[0], "p1")).toContain("# a note");
    // An import --push writes both a patch file and the tree: both edited, both saved.
    write(dir, "x.patch", "--- a/b.txt\n+++ b/b.txt\n@@ -1 +1,2 @@\n b\n+imported\n");
    write(dir, "b.txt", "b\n");
    git(dir, "add", "b.txt");
    git(dir, "commit", "-qm", "b");
    expect((await pq(dir, "import", "--push", "x.patch")).code).toBe(0);
    write(dir, "patches/x.patch", read(dir, "patches/x.patch") + "# another\n");
    write(dir, "b.txt", "b\nimported\nmore\n");
    r = await pq(dir, "undo", "--force");
    expect(r.code).toBe(0);
    saved = /saved in (.+)$/m.exec(r.out)![1].split(" and ");
    expect(saved).toHaveLength(2);
    expect(read(saved[0], "b.txt")).toContain("more");
    expect(read(saved[1], "x.patch")).toContain("# another");
  });
});

describe("a pop over patches committed by hand", () => {
  it("refuses instead of leaving the user's commit reverted in the tree, and pops once the commit is taken back", async () => {
    const dir = await treeWithP1({ "a.txt": "a\n", "b.txt": "b\n" });
    // A warm pop and push first: the answers it keeps must not hide the commit made later.
    expect((await pq(dir, "pop")).code).toBe(0);
    expect((await pq(dir, "push")).code).toBe(0);
    write(dir, "b.txt", "b\nwork\n");
    git(dir, "commit", "-qam", "hand commit");
    const r = await pq(dir, "pop");
    expect(r.code).toBe(12);
    expect(r.err).toContain("HEAD has commits that change a.txt");
    expect(git(dir, "status", "--porcelain", "--untracked-files=no")).toBe("");
    git(dir, "reset", "-q", "--soft", "HEAD~1");
    expect((await pq(dir, "pop")).code).toBe(0);
    expect(read(dir, "a.txt")).toBe("a\n");
    expect(read(dir, "b.txt")).toBe("b\nwork\n");
  });
});

describe("no false refusals from the log and HEAD checks (round 3 of hostile testing)", () => {
  const tree = () => treeWithP1({ "a.txt": "a\n", "b.txt": "b\n" });

  it("undo of a finish made on a detached HEAD", async () => {
    const dir = await tree();
    git(dir, "checkout", "-q", "--detach");
    const before = git(dir, "rev-parse", "HEAD");
    expect((await pq(dir, "finish", "-a")).code).toBe(0);
    expect(git(dir, "rev-parse", "HEAD")).not.toBe(before);
    // With a branch checked out meanwhile, the advice names the commit to detach at again (t44 N5: it said git checkout HEAD).
    const finished = git(dir, "rev-parse", "HEAD").trim();
    const branch = git(dir, "rev-parse", "--abbrev-ref", "@{-1}").trim();
    git(dir, "checkout", "-q", branch);
    const refused = await pq(dir, "undo");
    expect(refused.code).toBe(12);
    expect(refused.err).toContain(`git checkout --detach ${finished.slice(0, 12)}, then pq undo again`);
    git(dir, "checkout", "-q", "--detach", finished.slice(0, 12));
    const r = await pq(dir, "undo");
    expect(r.code, r.err).toBe(0);
    expect(git(dir, "rev-parse", "HEAD")).toBe(before);
  });

  it("redo of a finish whose commits git gc pruned is refused before anything is written (undo-5 #14)", async () => {
    const dir = await tree();
    expect((await pq(dir, "finish", "-a")).code).toBe(0);
    expect((await pq(dir, "undo")).code).toBe(0);
    const before = observe(dir);
    git(dir, "reflog", "expire", "--expire=now", "--all");
    git(dir, "gc", "-q", "--prune=now");
    const r = await pq(dir, "redo");
    expect(r.code).toBe(13);
    expect(r.err).toContain("which git no longer has");
    expect(r.err).toContain("nothing was changed");
    expect(existsSync(join(dir, ".pq/journal.json"))).toBe(false);
    expect(observe(dir)).toEqual(before);
    expect((await pq(dir, "status")).code).toBe(0);
  });

  it("a torn log line (a prefix, or zero bytes) followed by its entry logged again does not stop undo", async () => {
    const dir = await tree();
    for (const torn of [(line: string) => line.slice(0, 7), () => "\0\0\0\0"]) {
      const lines = read(dir, ".pq/oplog").split("\n").filter(Boolean);
      const last = lines.at(-1)!;
      write(dir, ".pq/oplog", [...lines.slice(0, -1), torn(last), last].join("\n") + "\n");
      const listed = await pq(dir, "oplog");
      expect(listed.err).toBe("");
      const r = await pq(dir, "undo");
      expect(r.code, r.err).toBe(0);
      expect((await pq(dir, "redo")).code).toBe(0);
    }
  });

  it("redo and undo over a state.json written in another layout (indented, as older pq wrote it)", async () => {
    const dir = await tree();
    expect((await pq(dir, "undo")).code).toBe(0);
    write(dir, ".pq/state.json", JSON.stringify(JSON.parse(read(dir, ".pq/state.json")), null, 2) + "\n");
    const r = await pq(dir, "redo");
    expect(r.code, r.err).toBe(0);
    expect(read(dir, "patches/p1")).toContain("+p1");
  });

  it("pop refuses over a hand commit of a patch that deletes a file", async () => {
    const dir = makeRepo({ "a.txt": "a\n", "gone.txt": "bye\n" });
    dirs.push(dir);
    expect((await pq(dir, "init")).code).toBe(0);
    expect((await pq(dir, "new", "rm")).code).toBe(0);
    git(dir, "rm", "-q", "gone.txt");
    expect((await pq(dir, "refresh")).code).toBe(0);
    git(dir, "commit", "-qam", "hand commit");
    const r = await pq(dir, "pop");
    expect(r.code).toBe(12);
    expect(r.err).toContain("gone.txt");
    expect(existsSync(join(dir, "gone.txt"))).toBe(false);
  });
});

/** A repository with these files and a pq stack, cleaned up after the test. */
async function stackTree(files: Record<string, string>): Promise<string> {
  const dir = makeRepo(files);
  dirs.push(dir);
  await pq(dir, "init");
  return dir;
}

/** A new top patch `name` (message `message`) that appends `added` to f.txt, refreshed. */
async function appendPatch(dir: string, name: string, message: string, added: string): Promise<void> {
  await pq(dir, "new", name, "-m", message);
  write(dir, "f.txt", read(dir, "f.txt") + added);
  await pq(dir, "refresh");
}

describe("undo over files already as the undo leaves them (undo-5 #10)", () => {
  it("takes a deleted .rej or a file put back by hand as no edit in its way, and says 'deleted' for a deleted file", async () => {
    const dir = await stackTree({ "n.txt": lines(30) });
    await pq(dir, "new", "p1", "-m", "one");
    write(dir, "n.txt", read(dir, "n.txt").replace("line 5\n", "five\n").replace("line 25\n", "twentyfive\n"));
    await pq(dir, "refresh");
    await pq(dir, "pop");
    write(dir, "n.txt", read(dir, "n.txt").replace("line 25\n", "XXV\n"));
    git(dir, "commit", "-qam", "upstream");
    expect((await pq(dir, "push", "--force")).code).toBe(6);
    expect(existsSync(join(dir, "n.txt.rej"))).toBe(true);
    rmSync(join(dir, "n.txt.rej"));
    const r = await pq(dir, "undo");
    expect(r.code, r.err).toBe(0);
    expect(r.out).not.toContain("saved in");
    // A file put back by hand (git checkout) is what the undo of a push writes: no refusal either.
    await pq(dir, "push", "--force");
    await pq(dir, "refresh", "-f");
    await pq(dir, "pop");
    await pq(dir, "push");
    git(dir, "checkout", "--", "n.txt");
    expect((await pq(dir, "undo")).code).toBe(0);
    // An edit in the way that is a deletion is named so.
    await pq(dir, "redo");
    rmSync(join(dir, "n.txt"));
    const refused = await pq(dir, "undo");
    expect(refused.code).toBe(5);
    expect(refused.err).toContain("n.txt (deleted)");
  });
});

describe("redo of a pop --force (undo-5 #11)", () => {
  it("refuses to overwrite the unrefreshed edits the undo put back, and with --force saves them again", async () => {
    const dir = await stackTree({ "f.txt": "a\nb\nc\n" });
    await appendPatch(dir, "p1", "one", "x\n");
    write(dir, "f.txt", "a\nb\nc\nx\nE1\n");
    expect((await pq(dir, "pop", "--force")).code).toBe(0);
    expect((await pq(dir, "undo")).code).toBe(0);
    expect(read(dir, "f.txt")).toBe("a\nb\nc\nx\nE1\n");
    const refused = await pq(dir, "redo");
    expect(refused.code).toBe(5);
    expect(refused.err).toContain("overwrote unrefreshed edits");
    expect(read(dir, "f.txt")).toBe("a\nb\nc\nx\nE1\n");
    const forced = await pq(dir, "redo", "--force");
    expect(forced.code, forced.err).toBe(0);
    expect(forced.out).toContain(".pq/backups");
    expect(read(dir, "f.txt")).toBe("a\nb\nc\n");
  });
  it("names every file whose edits the redo would overwrite, not the top patch's alone (t117 N6)", async () => {
    const dir = await stackTree({ "a.txt": "a\n", "b.txt": "b\n" });
    await pq(dir, "new", "pa");
    write(dir, "a.txt", "a\nA\n");
    await pq(dir, "refresh");
    await pq(dir, "new", "pb");
    write(dir, "b.txt", "b\nB\n");
    await pq(dir, "refresh");
    write(dir, "a.txt", "a\nA\nedit A\n");
    write(dir, "b.txt", "b\nB\nedit B\n");
    expect((await pq(dir, "pop", "-a", "--force")).code).toBe(0);
    expect((await pq(dir, "undo")).code).toBe(0);
    const refused = await pq(dir, "redo");
    expect(refused.code).toBe(5);
    expect(refused.err).toMatch(/its undo put them back in (a\.txt, b\.txt|b\.txt, a\.txt): the redo would overwrite them again/);
  });
});

describe("undo of a finish over changes staged since (undo-5 #5)", () => {
  it("refuses to reset them in git's index, and with --force saves the staged version", async () => {
    const dir = await stackTree({ "f.txt": "a\nb\nc\n" });
    for (const i of [1, 2]) await appendPatch(dir, `p${i}`, `msg ${i}`, `l${i}\n`);
    expect((await pq(dir, "finish", "p1")).code).toBe(0);
    write(dir, "f.txt", read(dir, "f.txt") + "STAGED-ONLY\n");
    git(dir, "add", "f.txt");
    const refused = await pq(dir, "undo");
    expect(refused.code).toBe(5);
    expect(refused.err).toContain("f.txt has changes staged since that operation (git add)");
    expect(git(dir, "diff", "--cached", "--stat")).toContain("f.txt");
    const forced = await pq(dir, "undo", "--force");
    expect(forced.code, forced.err).toBe(0);
    const saved = /saved in (\S+)/.exec(forced.out)?.[1];
    expect(saved).toBeDefined();
    expect(readFileSync(join(dir, saved!.replace(/^.*?\.pq\//, ".pq/"), "f.txt"), "latin1")).toContain("STAGED-ONLY");
  });
});

describe("a damaged line in the log (undo-5 #3)", () => {
  it("blocks undo past it, not of the operations logged after it", async () => {
    const dir = await stackTree({ "f.txt": "a\n" });
    for (const i of [1, 2, 3]) await appendPatch(dir, `p${i}`, `m${i}`, `${i}\n`);
    const log = read(dir, ".pq/oplog");
    write(dir, ".pq/oplog", log.slice(0, -50));
    expect((await pq(dir, "undo")).code).toBe(13);
    expect((await pq(dir, "new", "p4", "-m", "m4")).code).toBe(0);
    const undone = await pq(dir, "undo");
    expect(undone.code, undone.err).toBe(0);
    expect(undone.out).toContain("undid new p4");
    expect((await pq(dir, "redo")).code).toBe(0);
    expect((await pq(dir, "undo", "2")).code).toBe(13);
    expect((await pq(dir, "series")).out).toBe("p1\np2\np3\np4\n");
  });
});

describe("undo over a patch file edited by hand (undo-5 #9)", () => {
  it("points at pq show for the patch file, not at pq diff -z", async () => {
    const dir = await stackTree({ "f.txt": "a\n" });
    await appendPatch(dir, "p1", "one", "p1\n");
    write(dir, "f.txt", "a\np1\np1b\n");
    await pq(dir, "refresh");
    write(dir, "patches/p1", read(dir, "patches/p1").replace("Subject: one", "Subject: by hand"));
    const r = await pq(dir, "undo");
    expect(r.code).toBe(5);
    expect(r.err).toContain("p1 (queue)");
    expect(r.err).toContain("pq show NAME");
    expect(r.err).not.toContain("pq diff -z");
  });
});

describe("undo of a version committed in a versioned queue with no remote (t117 N2)", () => {
  it("says it is committed there, not pushed, and names no sync", async () => {
    const dir = makeRepo({ "f.txt": "a\nb\n" });
    dirs.push(dir);
    expect((await pq(dir, "init", "--shared")).code).toBe(0);
    await pq(dir, "new", "a", "-m", "a");
    write(dir, "f.txt", "a\nB\n");
    await pq(dir, "refresh");
    expect((await pq(dir, "commit", "-m", "queue v1")).code).toBe(0);
    const undo = await pq(dir, "undo");
    expect(undo.out).toContain(
      "note: what this undo took back of a is committed in the queue: pq commit would take it back there too; pq redo brings it back here",
    );
  });
});

describe("redo of a push after the patch changed in the queue (t117 N3)", () => {
  it("refuses to apply the version of then, names the goto that applies the queue's, and --force applies the old one", async () => {
    const dir = makeRepo({ "f.txt": "a\nb\nc\n" });
    dirs.push(dir);
    await pq(dir, "init");
    await pq(dir, "new", "p", "-m", "p");
    write(dir, "f.txt", "a\nB\nc\n");
    await pq(dir, "refresh");
    await pq(dir, "pop");
    await pq(dir, "push");
    await pq(dir, "undo");
    write(join(dir, "patches"), "p", read(join(dir, "patches"), "p").replace("+B\n", "+B fixed\n"));
    const redo = await pq(dir, "redo");
    expect(redo.code).toBe(5);
    expect(redo.err).toContain("p changed in the queue since push p (edited by hand, or a pull): the redo would apply it as it was then");
    expect(redo.err).toContain("pq goto p applies the queue's version");
    expect(read(dir, "f.txt")).toBe("a\nb\nc\n");
    expect((await pq(dir, "redo", "--force")).code).toBe(0);
    expect(read(dir, "f.txt")).toBe("a\nB\nc\n");
    expect((await pq(dir, "status")).out).toContain("p changed in the queue");
  });

  it("a redo that writes the patch file itself (its whole history taken back) names ways that work, not a goto of a patch not there (t128 N1)", async () => {
    const dir = makeRepo({ "f.txt": "a\nb\nc\n" });
    dirs.push(dir);
    await pq(dir, "init");
    await pq(dir, "new", "fix", "-m", "fix");
    write(dir, "f.txt", "a\nB\nc\n");
    await pq(dir, "refresh");
    await pq(dir, "pop");
    // Its change edited by hand (a header alone edited puts on the same change: t146 N4).
    write(join(dir, "patches"), "fix", read(join(dir, "patches"), "fix").replace("+B\n", "+B by hand\n"));
    await pq(dir, "push");
    expect((await pq(dir, "undo", "4", "--force")).code).toBe(0);
    const redo = await pq(dir, "redo", "4");
    expect(redo.code).toBe(5);
    expect(redo.err).not.toContain("pq goto fix");
    expect(redo.err).toContain("pq redo 4 --force applies it as pushed then");
    // Both ways, word for word: fewer steps then a push, or --force.
    expect((await pq(dir, "redo", "3")).code).toBe(0);
    expect((await pq(dir, "push")).code).toBe(0);
    expect(read(dir, "f.txt")).toBe("a\nB\nc\n");
    expect((await pq(dir, "undo", "4", "--force")).code).toBe(0);
    expect((await pq(dir, "redo", "4", "--force")).code).toBe(0);
    expect(read(dir, "f.txt")).toBe("a\nB\nc\n");
  });
});

describe("pq oplog's listing of a message with a line break (t128 N2)", () => {
  it("keeps each entry's command on one line, in words bash reads back as the message", async () => {
    const dir = makeRepo({ "f.txt": "a\n" });
    dirs.push(dir);
    await pq(dir, "init");
    await pq(dir, "new", "p", "-m", "first line\nsecond line");
    const listing = (await pq(dir, "oplog")).out;
    const line = listing.split("\n").find((l) => l.includes("pq new p -m"))!;
    expect(line).toBeDefined();
    expect(listing).not.toMatch(/^second line/m);
    const words = spawnSync("bash", ["-c", `printf '%s\\0' ${line.trim()}`], { encoding: "utf8" }).stdout.split("\0");
    expect(words).toContain("first line\nsecond line");
  });
});

/** A tree with A (a.txt) and B (b.txt) applied, B refreshed last. */
async function twoAppliedPatches(): Promise<string> {
  const dir = makeRepo({ "a.txt": lines(10), "b.txt": lines(10, "b") });
  dirs.push(dir);
  await pq(dir, "init");
  for (const [name, file] of [["A", "a.txt"], ["B", "b.txt"]]) {
    await pq(dir, "new", name);
    write(dir, file, read(dir, file) + `${name.toLowerCase()}\n`);
    await pq(dir, "refresh");
  }
  return dir;
}

describe("undo's refusals and their ways out (t149 N1-N3)", () => {
  it("names git diff for the edits when no patch is applied (pq diff -z refuses then)", async () => {
    const dir = makeRepo({ "a.txt": lines(40) });
    dirs.push(dir);
    await pq(dir, "init");
    await pq(dir, "new", "u", "-m", "u");
    write(dir, "a.txt", read(dir, "a.txt").replace("line 3\n", "line THREE\n"));
    await pq(dir, "refresh");
    await pq(dir, "pop");
    write(dir, "a.txt", read(dir, "a.txt").replace("line 30\n", "line 30 edited\n"));
    const undo = await pq(dir, "undo");
    expect(undo.code).toBe(5);
    expect(undo.err).toContain("(git status and git diff show the tree's edits: no patch is applied)");
    expect(git(dir, "diff")).toContain("+line 30 edited");
  });

  it("names the queue to switch back to by the name pq queue switch takes", async () => {
    const dir = makeRepo({ "a.txt": lines(10), "b.txt": lines(10, "b") });
    dirs.push(dir);
    await pq(dir, "init");
    await pq(dir, "queue", "create", "other");
    await pq(dir, "queue", "switch", "other");
    await pq(dir, "new", "O1");
    write(dir, "b.txt", read(dir, "b.txt") + "o\n");
    await pq(dir, "refresh");
    await pq(dir, "pop");
    await pq(dir, "queue", "switch", "patches");
    const undo = await pq(dir, "undo");
    expect(undo.code).toBe(12);
    const way = /(pq queue switch \S+) goes back to it/.exec(undo.err);
    expect(way, undo.err).not.toBeNull();
    expect((await pq(dir, ...way![1].split(" ").slice(1))).code).toBe(0);
    expect((await pq(dir, "undo")).code).toBe(0);
    expect((await pq(dir, "applied")).out).toBe("O1\n");
  });

  it("says an applied patch's series line is gone (its file is there), and putting it back lets the undo go on", async () => {
    const dir = await twoAppliedPatches();
    write(dir, "patches/series", "A\n");
    const undo = await pq(dir, "undo");
    expect(undo.code).toBe(12);
    expect(undo.err).toContain("B has no line in the series now (the file is there");
    expect(undo.err).toContain("put the line back in the series where it was, then pq undo again");
    write(dir, "patches/series", "A\nB\n");
    expect((await pq(dir, "undo")).code).toBe(0);
  });

  it("does not say the file is there when it was moved away by hand (t151 N5)", async () => {
    const dir = await twoAppliedPatches();
    renameSync(join(dir, "patches/B"), join(dir, "patches/B2"));
    write(dir, "patches/series", "A\nB2\n");
    const undo = await pq(dir, "undo", "--force");
    expect(undo.code).toBe(12);
    expect(undo.err).not.toContain("the file is there");
    expect(undo.err).toContain("B is no longer in the queue");
  });
});
