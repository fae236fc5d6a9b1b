import { afterEach, describe, expect, it } from "vitest";
import { PqError } from "../../src/errors.js";
import { utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StatCache } from "../../src/queue/caches.js";
import { ensureStateDir, loadState, loadStateAndText, recordStateWritten, saveState, saveStateText, statePaths, type AppliedPatch, type StackState } from "../../src/queue/state.js";
import { appendRecordsText, stateTextOf } from "../../src/queue/transaction.js";
import { appliedTextOf } from "../../src/queue/ops/push-run.js";
import { asciiJson, sha1 } from "../../src/tree/files.js";
import fc from "fast-check";
import { cleanup, read, tempDir } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

const A = "a".repeat(40);
const B = "0123456789abcdef0123456789abcdef01234567";

function stateWith(pre: unknown, post: unknown): StackState {
  return {
    version: 1,
    queue: "/q",
    guards: [],
    applied: [
      { name: "one.patch", hash: A, files: { "x.c": { pre: A, post: B } } },
      { name: "two.patch", hash: B, files: { "x.c": { pre: B, post: `${A}:x` }, "y.c": { pre: pre as string, post: post as string } } },
    ],
  } as StackState;
}

describe("state.json is checked before anything trusts it", () => {
  it("reads back a state with new, deleted and executable versions", () => {
    const tree = tempDir();
    dirs.push(tree);
    ensureStateDir(tree);
    const state = stateWith(null, `${B}:x`);
    saveState(tree, state);
    expect(loadState(tree)).toEqual(state);
  });

  it("refuses, as damaged and naming the patch, a version that is not a blob id", () => {
    const tree = tempDir();
    dirs.push(tree);
    ensureStateDir(tree);
    const bad: [unknown, unknown][] = [
      [A.slice(1) + "g", B], // not hex
      [A + "0", B], // 41 digits
      [`${A}:y`, B], // not the executable mark
      [A, ""],
      [A, 7],
      [[A], B], // an array that joins to a valid id
      [A, `${B.slice(0, 39)}\n${A}`],
      [undefined, B],
    ];
    for (const [pre, post] of bad) {
      saveStateText(tree, JSON.stringify(stateWith(pre, post)));
      let error: unknown;
      try {
        loadState(tree);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify([pre, post])).toBeInstanceOf(PqError);
      expect((error as PqError).code).toBe("damaged");
      expect((error as PqError).message).toContain("applied patch 2 (two.patch)");
    }
    // A missing change record is damage too.
    const noChange = stateWith(A, B);
    (noChange.applied[1].files as Record<string, unknown>)["y.c"] = null;
    saveStateText(tree, JSON.stringify(noChange));
    expect(() => loadState(tree)).toThrow(/applied patch 2 \(two.patch\) has a bad entry for y.c/);
  });
});

describe("a state.json the executor wrote is not checked again", () => {
  it("trusts the file pq recorded by its size, mtime, ctime and inode, and checks it again once anything else wrote it", () => {
    const tree = tempDir();
    dirs.push(tree);
    ensureStateDir(tree);
    const cacheFile = statePaths(tree).statCache;
    // A text the check refuses, recorded as if pq had written it: loading it without the
    // check proves the check is skipped (pq's own states always pass it).
    saveStateText(tree, JSON.stringify(stateWith("g".repeat(40), B)));
    utimesSync(statePaths(tree).state, 1_000_000, 1_000_000);
    const cache = new StatCache(cacheFile);
    recordStateWritten(tree, cache, sha1(read(tree, ".pq/state.json").replace(/\n$/, "")));
    cache.save();
    expect(loadStateAndText(tree, new StatCache(cacheFile))?.state.applied).toHaveLength(2);
    // Without the stat cache (or with a file touched since), the check runs.
    expect(() => loadStateAndText(tree)).toThrow(/applied patch 2 \(two.patch\)/);
    utimesSync(statePaths(tree).state, 1_000_001, 1_000_001);
    expect(() => loadStateAndText(tree, new StatCache(cacheFile))).toThrow(/applied patch 2 \(two.patch\)/);
    // The mtime put back: the ctime still tells that something wrote it (as git's index knows).
    utimesSync(statePaths(tree).state, 1_000_000, 1_000_000);
    expect(() => loadStateAndText(tree, new StatCache(cacheFile))).toThrow(/applied patch 2 \(two.patch\)/);
    // The same size and mtime but other bytes (a hand edit with the mtime put back): checked.
    const same = read(tree, ".pq/state.json").replace("gggg", "gggh");
    writeFileSync(statePaths(tree).state, same);
    utimesSync(statePaths(tree).state, 1_000_000, 1_000_000);
    expect(() => loadStateAndText(tree, new StatCache(cacheFile))).toThrow(/applied patch 2 \(two.patch\)/);
    // Written again by something else, same size: a new mtime, checked.
    saveStateText(tree, JSON.stringify(stateWith("h".repeat(40), B)));
    expect(() => loadStateAndText(tree, new StatCache(join(tree, ".pq", "statcache.json")))).toThrow(PqError);
  });
});


describe("the state's text with records whose text is known (a remembered push run's)", () => {
  it("is exactly asciiJson of the state, for any records, names and paths", () => {
    const text = fc.string({ unit: fc.constantFrom("a", "é", "\u20ac", "\t", "\n", '"', "\\", "\u0001", "\ud83d\ude00", "1", "/") });
    const version = fc.constantFrom(A, B, `${A}:x`, null);
    const record = fc.record(
      {
        name: fc.oneof(text.filter((n) => n.length > 0), fc.constant('],"notes":[')),
        hash: fc.constantFrom(A, B),
        files: fc.dictionary(fc.oneof(text, fc.constantFrom("12", "0", "a.c", "applied", "notes", "files")), fc.record({ pre: version, post: version })),
        renames: fc.array(fc.tuple(text, text), { maxLength: 2 }),
        inexact: fc.constantFrom("fuzz", "eol"),
      },
      { requiredKeys: ["name", "hash", "files"] },
    );
    fc.assert(
      fc.property(
        fc.array(record, { maxLength: 4 }),
        fc.array(record, { minLength: 1, maxLength: 5 }),
        fc.array(record, { maxLength: 3 }),
        // Names that look like the text around the records (t22 F2: a queue named like a marker).
        fc.constantFrom("patches\u00e9", '"applied":[]', "\u0001pq-applied\u0001", '],"applied":['),
        (before, run, after, queue) => {
        // The run's records as push-run.ts has them: parsed from the text a run was stored as.
        // Tree files named like the run's keys (a file `applied` after another: its key read as the records' once).
        const runText = asciiJson({
          files: { '],"notes":[': [A, B], ',"applied":[': [null, A], Makefile: [A, B], applied: [null, A], notes: [B, A] },
          applied: run,
          notes: [['],"notes":['], []],
        });
        const parsed = (JSON.parse(runText) as { applied: AppliedPatch[] }).applied;
        const known = { from: before.length, records: parsed, text: appliedTextOf(runText)!, prior: [], lazy: false };
        const guards = ["xen", '"applied":[]'];
        const state: StackState = { version: 1, queue, guards, applied: [...before, ...parsed, ...after] as AppliedPatch[] };
        expect(stateTextOf(state, known)).toBe(asciiJson(state));
        // Records no longer the same objects (a planner replaced one): serialised afresh.
        const replaced = { ...state, applied: state.applied.map((r, i) => (i === before.length ? { ...r, name: "other" } : r)) };
        expect(stateTextOf(replaced, known)).toBe(asciiJson(replaced));
        // Appended as text, not parsed (a warm push's): the same text before and after anything reads them.
        const lazyState: StackState = { version: 1, queue, guards, applied: [...before] as AppliedPatch[] };
        const lazy = appendRecordsText(lazyState, appliedTextOf(runText)!, null);
        expect(lazy.lazy).toBe(true);
        expect(stateTextOf(lazyState, lazy)).toBe(asciiJson({ ...state, applied: [...before, ...parsed] }));
        expect(lazyState.applied).toEqual([...before, ...parsed]);
        lazyState.applied.push(...(after as AppliedPatch[]));
        expect(stateTextOf(lazyState, lazy)).toBe(asciiJson(state));
        // Replaced before it was read: the known text is not used.
        const other: StackState = { version: 1, queue, guards, applied: [...before] as AppliedPatch[] };
        const unused = appendRecordsText(other, appliedTextOf(runText)!, null);
        other.applied = after as AppliedPatch[];
        expect(stateTextOf(other, unused)).toBe(asciiJson({ ...state, applied: after }));
      }),
      { numRuns: 300, seed: 20261205 },
    );
  });
});

describe("state.json written into by another process", () => {
  it("is not taken for pq's text even with the stat pq recorded (t26 F3: a write between pq's rename and its stat)", async () => {
    const { pq, repoWithPatch } = await import("../helpers/repo.js");
    const dir = await repoWithPatch({ "a.c": "a\n" }, "p1", { "a.c": "a\nb\n" });
    dirs.push(dir);
    const text = read(dir, ".pq/state.json");
    const id = sha1(text.replace(/\n$/, ""));
    // The same size, one version id made invalid; then recorded as pq's own write, as the race left it.
    const post = /"post":"([0-9a-f])/.exec(text)!;
    writeFileSync(statePaths(dir).state, text.replace(post[0], `"post":"z`), "latin1");
    const cache = new StatCache(join(dir, ".pq", "statcache"));
    recordStateWritten(dir, cache, id);
    cache.save();
    const r = await pq(dir, "applied");
    expect([r.code, r.err]).toEqual([13, expect.stringContaining("state.json is unreadable")]);
  });
});
