/**
 * The operation log read from its end (undo, redo, pq oplog -n) must agree with reading it
 * all from the start. The reference here replays the whole log forward, as pq did before
 * it read backwards; random logs of operations, undos and redos, with lines big enough to
 * span the reader's 1 MB chunks and torn lines among them, are compared with it.
 */
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  appendOplog,
  doneNewestFirst,
  entriesOfCommands,
  lastOplogId,
  OplogReader,
  recentOperations,
  takeCommands,
  undoneNewestFirst,
  type OplogEntry,
} from "../../src/queue/oplog.js";
import { cleanup, makeRepo, pq, tempDir } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

/** The forward reading: every line parsed, undo and redo replayed as moves between two lists. */
function forward(lines: string[]): { all: OplogEntry[]; done: OplogEntry[]; undone: OplogEntry[] } {
  const all: OplogEntry[] = [];
  for (const line of lines) {
    try {
      all.push(JSON.parse(line) as OplogEntry);
    } catch {
      /* torn */
    }
  }
  const byId = new Map(all.map((e) => [e.id, e]));
  let done: OplogEntry[] = [];
  let undone: OplogEntry[] = [];
  for (const e of all) {
    if (e.undoes) {
      const ids = new Set(e.undoes);
      done = done.filter((d) => !ids.has(d.id));
      for (const id of e.undoes) if (byId.has(id)) undone.push(byId.get(id)!);
    } else if (e.redoes) {
      const ids = new Set(e.redoes);
      undone = undone.filter((d) => !ids.has(d.id));
      for (const id of e.redoes) if (byId.has(id)) done.push(byId.get(id)!);
    } else {
      done.push(e);
      undone = [];
    }
  }
  return { all, done, undone };
}

/** A small deterministic generator (the failing seed is printed by the test name). */
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

function entry(id: string, extra: Partial<OplogEntry>, padding: number): OplogEntry {
  return { id, op: "op", command: "pq op", user: "tester", time: "2026-12-02T00:00:00Z", tree: [["p".repeat(padding), null, null]], queue: [], trash: [], state: ["a", "b"], ...extra };
}

/** A log made the way pq makes one: new operations (some in groups), undos and redos of what can be taken back. */
function randomLog(seed: number, length: number, bigLines = 8): string[] {
  const pick = rng(seed);
  const lines: string[] = [];
  let n = 0;
  let group: string | undefined;
  for (let i = 0; i < length; i++) {
    const { done, undone } = forward(lines);
    const kind = pick(10);
    // Most lines are small; some (one in `bigLines`; none for 0) are big enough (up to 600 KB) to cross chunk boundaries.
    const padding = bigLines && pick(bigLines) === 0 ? pick(600_000) : pick(200);
    if (kind < 2 && done.length) {
      const candidates = [...done].reverse();
      const count = entriesOfCommands(candidates, 1 + pick(3)) ?? candidates.length;
      lines.push(JSON.stringify(entry(`u${n++}`, { undoes: candidates.slice(0, count).map((e) => e.id) }, padding)));
    } else if (kind < 4 && undone.length) {
      const candidates = [...undone].reverse();
      const count = entriesOfCommands(candidates, 1 + pick(2)) ?? candidates.length;
      lines.push(JSON.stringify(entry(`r${n++}`, { redoes: candidates.slice(0, count).map((e) => e.id) }, padding)));
    } else if (kind === 4) {
      // A line torn by a crash (its journal was replayed and logged again after it).
      lines.push(JSON.stringify(entry(`t${n++}`, {}, padding)).slice(0, 1 + pick(40)));
    } else {
      if (pick(4) === 0) group = group ? undefined : `g${n}`;
      lines.push(JSON.stringify(entry(`e${n++}`, group ? { group } : {}, padding)));
    }
  }
  return lines;
}

describe("the operation log read from its end", () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`agrees with the forward reading on a random log (seed ${seed})`, () => {
      const dir = tempDir();
      dirs.push(dir);
      const file = join(dir, "oplog");
      const lines = randomLog(seed, 60);
      writeFileSync(file, lines.join("\n") + "\n", "latin1");
      const ref = forward(lines);
      const ids = (es: Iterable<OplogEntry>) => [...es].map((e) => e.id);
      expect(ids(doneNewestFirst(new OplogReader(file)))).toEqual(ids([...ref.done].reverse()));
      expect(ids(undoneNewestFirst(new OplogReader(file)))).toEqual(ids([...ref.undone].reverse()));
      for (const commands of [1, 2, 3]) {
        const taken = takeCommands(doneNewestFirst(new OplogReader(file)), commands);
        const all = [...ref.done].reverse();
        expect(entriesOfCommands(taken, commands)).toBe(entriesOfCommands(all, commands));
      }
      const recent = recentOperations(file, 5);
      expect(ids(recent.entries)).toEqual(ids([...ref.all].reverse().slice(0, 5)));
      expect([...recent.redoable].sort()).toEqual(ids(ref.undone).sort());
      // Undone: listed, not an undo or redo itself, and not in effect.
      const done = new Set(ids(ref.done));
      expect([...recent.undone].filter((id) => recent.entries.some((e) => e.id === id)).sort()).toEqual(
        recent.entries.filter((e) => !e.undoes && !e.redoes && !done.has(e.id)).map((e) => e.id).sort(),
      );
      expect(ids(recentOperations(file).entries)).toEqual(ids([...ref.all].reverse()));
      expect(lastOplogId(file)).toBe(ref.all.at(-1)?.id ?? null);
    });
  }

  it("agrees with the forward reading on 300 small random logs (undo and redo of one to three commands)", () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir, "oplog");
    const ids = (es: Iterable<OplogEntry>) => [...es].map((e) => e.id);
    for (let seed = 100; seed < 400; seed++) {
      const lines = randomLog(seed, 40, 0);
      writeFileSync(file, lines.join("\n") + "\n", "latin1");
      const ref = forward(lines);
      expect(ids(doneNewestFirst(new OplogReader(file))), `seed ${seed}`).toEqual(ids([...ref.done].reverse()));
      expect(ids(undoneNewestFirst(new OplogReader(file))), `seed ${seed}`).toEqual(ids([...ref.undone].reverse()));
    }
  });

  it("a redo's entry found further back does not skip the entries between (undo 2, redo, redo)", () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir, "oplog");
    const log = [
      entry("e", {}, 1),
      entry("t", {}, 1),
      entry("u1", { undoes: ["t"] }, 1),
      entry("u2", { undoes: ["e"] }, 1),
      entry("r1", { redoes: ["e"] }, 1),
      entry("r2", { redoes: ["t"] }, 1),
      entry("u3", { undoes: ["t"] }, 1),
    ].map((e) => JSON.stringify(e));
    writeFileSync(file, log.join("\n") + "\n");
    expect([...doneNewestFirst(new OplogReader(file))].map((e) => e.id)).toEqual(["e"]);
    expect(undoneNewestFirst(new OplogReader(file)).map((e) => e.id)).toEqual(["t"]);
    expect([...doneNewestFirst(new OplogReader(file))].map((e) => e.id)).toEqual(forward(log).done.map((e) => e.id).reverse());
  });

  it("reads a last line without its newline, and an empty or missing log as empty", () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir, "oplog");
    expect(lastOplogId(file)).toBeNull();
    writeFileSync(file, "");
    expect(recentOperations(file).entries).toEqual([]);
    appendFileSync(file, JSON.stringify(entry("a", {}, 3)) + "\n" + JSON.stringify(entry("b", {}, 3)));
    expect(lastOplogId(file)).toBe("b");
    expect([...doneNewestFirst(new OplogReader(file))].map((e) => e.id)).toEqual(["b", "a"]);
  });

  it("an entry appended after a torn last line starts a line of its own (a replayed journal's entry is not lost)", () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir, "oplog");
    const torn = JSON.stringify(entry("t", {}, 3));
    writeFileSync(file, JSON.stringify(entry("a", {}, 3)) + "\n" + torn.slice(0, torn.length / 2));
    appendOplog(file, entry("c", {}, 3));
    expect(lastOplogId(file)).toBe("c");
    expect([...doneNewestFirst(new OplogReader(file))].map((e) => e.id)).toEqual(["c", "a"]);
    // A whole last line without its newline stays whole too.
    writeFileSync(file, JSON.stringify(entry("a", {}, 3)));
    appendOplog(file, entry("d", {}, 3));
    expect([...doneNewestFirst(new OplogReader(file))].map((e) => e.id)).toEqual(["d", "a"]);
  });

  it("pq oplog -n N shows the N newest operations, marks the undone ones, and refuses -n 0", async () => {
    const repo = makeRepo({ "a.c": "one\n" });
    dirs.push(repo);
    for (const args of [["init"], ["new", "p1"], ["new", "p2"], ["undo"]]) expect((await pq(repo, ...args)).code).toBe(0);
    const shown = await pq(repo, "oplog", "-n", "2", "--json");
    expect(shown.code).toBe(0);
    const entries = JSON.parse(shown.out) as { op: string; undone: boolean }[];
    expect(entries.map((e) => [e.op.split(" ")[0], e.undone])).toEqual([
      ["undo", false],
      ["new", true],
    ]);
    const refused = await pq(repo, "oplog", "-n", "0");
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(`--limit takes a positive whole number, not "0"`);
    expect((await pq(repo, "undo", "abc")).err).toContain(`undo takes a positive whole number, not "abc"`);
  });

  it("pq oplog shows each operation's command line, quoted as a shell reads it back, and times marked UTC (undo-5 #4)", async () => {
    const repo = makeRepo({ "a.c": "one\n" });
    dirs.push(repo);
    for (const args of [["init"], ["new", "fix", "-m", "it's a \"quoted\" msg"]]) expect((await pq(repo, ...args)).code).toBe(0);
    const listed = (await pq(repo, "oplog", "-n", "1")).out;
    expect(listed).toMatch(/^\S+  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC  \S+  new fix\n/);
    expect(listed).toContain(`    pq new fix -m 'it'\\''s a "quoted" msg'\n`);
    const json = JSON.parse((await pq(repo, "oplog", "-n", "1", "--json")).out) as { command: string }[];
    expect(json[0].command).toBe(`pq new fix -m 'it'\\''s a "quoted" msg'`);
  });
});
