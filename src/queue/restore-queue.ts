/**
 * The queue directory rebuilt from pq's own records after something outside pq removed it
 * (`git clean -fd` deletes an untracked patches/, as it would quilt's). Every patch text and
 * series pq wrote went through a transaction: the operation log names each queue file's last
 * version, and the object store holds it; an applied patch pq never wrote (taken over from
 * quilt) is found by the hash the state records for it, and every file of a queue pq init
 * found (applied or not) by the copy it kept then (keepQueueAtInit). Only missing files are
 * written: nothing that is there is ever replaced.
 */
import { existsSync, lstatSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { ObjectStore } from "../tree/objects.js";
import { backupFiles } from "./ops/context.js";
import { asciiJson, readText, removeDeadTemporaries, writeAtomic } from "../tree/files.js";
import { nameToBytes } from "../patch/paths.js";
import { checkNameOnDisk, validatePatchName } from "./names.js";
import { OplogReader } from "./oplog.js";
import { Series } from "./series.js";
import { sameOrder } from "./series-replay.js";
import { statePaths, type StackState } from "./state.js";

export interface QueueRestore {
  /** Queue files written back (series and patch files, relative to the queue directory). */
  restored: string[];
  /**
   * Applied patches the series there does not list: another tree on the same queue directory
   * restored its own, older series, or deleted or renamed them. Said, not put back: which it was
   * cannot be told from here, and a line put back beside a rename applies one change twice
   * (t141 N9, t142 N2, t143 N1), beside a delete undoes it (t143 N2).
   */
  unlistedApplied: string[];
  /** Patch files written back that the series does not list (another tree's delete or rename since, or a patch of this tree's that series lost). */
  unlisted: string[];
  /** Applied patches whose text pq has no copy of. */
  lost: string[];
  /** Patches the series lists with no file, that this tree's pq never wrote (another tree's, on the same queue directory). */
  neverWritten: string[];
  /**
   * Where this tree's last series was saved, when files were missing and the series there is
   * another version (another tree using the queue directory restored its own first, or changed
   * it since): a line or guard only this tree's had would be lost unsaid (t141 N6's three-tree case).
   */
  seriesSavedIn?: string;
}

export function restoreQueue(tree: string, queueDir: string, state: StackState): QueueRestore {
  const paths = statePaths(tree);
  const store = new ObjectStore(paths.objects);
  // Newest first: the first time a path is seen gives its last version (null: deleted last).
  const latest = new Map<string, string | null>();
  const log = new OplogReader(paths.oplog);
  // The operations in effect: an undone one (and the undo and redo entries, which only move
  // between versions those recorded) does not count. After an undo of the pq new that wrote a
  // fresh series into a queue directory git clean had removed, the series before it comes
  // back, not "deleted" (tui-8 T13).
  const redone = new Set<string>();
  const takenBack = new Set<string>();
  // Each operation's queue, as its state says: with several queues (pq queue create, switch) an
  // operation on another one wrote that queue's files, and restored here they had put its patches
  // and series into this queue (t103 N2).
  const queueOf = queueOfState(tree, store);
  const here = resolve(tree, state.queue);
  // A queue of this directory that pq queue delete --purge emptied before this one was made: its
  // operations, up to the newest one at the purge, wrote files this queue never had (t105 N3).
  const purgedAt = readPurged(paths.purgedQueues)[here];
  let beforePurge = purgedAt === "";
  let firstQueue: string | null = null;
  for (let entry = log.older(); entry; entry = log.older()) {
    if (entry.id === purgedAt) beforePurge = true;
    firstQueue = queueOf(entry.state[0]) ?? firstQueue;
    for (const id of entry.redoes ?? []) redone.add(id);
    for (const id of entry.undoes ?? []) if (!redone.has(id)) takenBack.add(id);
    if (entry.undoes || entry.redoes || takenBack.has(entry.id)) continue;
    const on = queueOf(entry.state[1]);
    if (on !== null && on !== here) continue;
    if (beforePurge && (on === here || on === null)) continue;
    for (const [path, , now] of entry.queue ?? []) if (!latest.has(path)) latest.set(path, now);
  }
  for (const patch of state.applied) if (!latest.has(patch.name) || latest.get(patch.name) === null) latest.set(patch.name, patch.hash);
  // Older than every operation: the queue as pq init found it (in the queue init set up), unless purged since.
  if ((firstQueue === null || firstQueue === here) && purgedAt === undefined)
    for (const [path, id] of keptAtInit(paths.queueAtInit)) if (!latest.has(path)) latest.set(path, id);
  const restored: string[] = [];
  const lost: string[] = [];
  // This tree's last series, read while the store is open (see saveOwnSeries).
  let ownSeries: string | null = null;
  // What a killed restore-queue left of its writes (NAME.tmp-PID): it writes no journal whose replay would sweep them (t110 N1).
  for (const dir of new Set([...latest.keys(), "series"].map((path) => dirname(join(queueDir, path)))))
    removeDeadTemporaries(dir, (name) => latest.has(relative(queueDir, join(dir, name)).split(sep).join("/")) || name === "series");
  try {
    for (const [path, id] of latest) {
      if (id === null || existsSync(join(queueDir, path))) continue;
      let text: string;
      try {
        text = store.get(id);
      } catch {
        if (state.applied.some((p) => p.name === path)) lost.push(path);
        continue;
      }
      writeAtomic(join(queueDir, path), text);
      restored.push(path);
    }
    const ownId = latest.get("series");
    if (ownId && !restored.includes("series")) {
      try {
        ownSeries = store.get(ownId);
      } catch {
        ownSeries = null; // no copy: nothing to compare
      }
    }
  } finally {
    store.close();
  }
  // No series in the log (a queue pq took over and never changed): the applied patches, in order.
  if (!existsSync(join(queueDir, "series")) && state.applied.length) {
    writeAtomic(join(queueDir, "series"), nameToBytes(state.applied.map((p) => `${p.name}\n`).join("")));
    restored.push("series");
  }
  const seriesNow = readText(join(queueDir, "series"));
  let listedNow: string[];
  try {
    listedNow = Series.fromBytes(seriesNow ?? "").names();
  } catch {
    // Unreadable: every command says so, and nothing is said here of what it lists.
    return { restored: restored.sort(), unlistedApplied: [], unlisted: [], lost, neverWritten: [] };
  }
  const unlisted = restored.filter((path) => path !== "series" && !listedNow.includes(path)).sort();
  const unlistedApplied = state.applied.map((p) => p.name).filter((name) => !listedNow.includes(name) && !lost.includes(name));
  // Also with nothing to write back: another tree that restored first wrote its own series (t147 N2).
  const seriesSavedIn = ownSeries !== null && seriesNow !== null ? saveOwnSeries(tree, ownSeries, seriesNow, listedNow) : undefined;
  // Listed and missing, with no copy here: another tree on the queue directory made them (t147 N5).
  const neverWritten = listedNow.filter((name) => !latest.get(name) && !lost.includes(name) && !existsSync(join(queueDir, name)));
  return {
    restored: restored.sort(),
    unlistedApplied,
    unlisted: unlisted.filter((name) => !unlistedApplied.includes(name)),
    lost,
    neverWritten,
    ...(seriesSavedIn ? { seriesSavedIn } : {}),
  };
}

/**
 * This tree's last series (`own`), saved to .pq/backups when the series there (`now`, listing
 * `listed`) lacks one of its lines (its guard, its patch) or has its patches in another order;
 * another tree's later lines beside this tree's are no loss, and no note. The directory, or undefined.
 */
function saveOwnSeries(tree: string, own: string, now: string, listed: string[]): string | undefined {
  if (now === own) return undefined;
  let ownListed: string[];
  try {
    ownListed = Series.fromBytes(own).names();
  } catch {
    return undefined; // not a series pq reads: nothing to compare
  }
  const there = new Set(now.split("\n").map((line) => line.trimEnd()));
  const lacking = own.split("\n").some((line) => line.trim() !== "" && !there.has(line.trimEnd()));
  if (!lacking && sameOrder(ownListed, listed)) return undefined;
  return backupFiles(tree, ["series"], "restore-queue-own-series", () => ({ content: own, exec: false }));
}

/** The queue directory (absolute) a stored state names, or null where the store cannot tell. */
function queueOfState(tree: string, store: ObjectStore): (stateId: string) => string | null {
  const known = new Map<string, string | null>();
  return (stateId) => {
    if (!known.has(stateId)) {
      let queue: string | null = null;
      try {
        const parsed = JSON.parse(store.get(stateId)) as Partial<StackState>;
        if (typeof parsed.queue === "string") queue = resolve(tree, parsed.queue);
      } catch {
        queue = null; // gone or damaged: the entry counts, as before queues could be told apart
      }
      known.set(stateId, queue);
    }
    return known.get(stateId)!;
  };
}

/**
 * Notes that `queueDir` (absolute) was emptied by pq queue delete --purge, after the newest
 * operation so far ("" when there is none): a queue made there later does not get the purged
 * one's files back from restore-queue.
 */
export function recordPurge(tree: string, queueDir: string): void {
  const paths = statePaths(tree);
  const purged = readPurged(paths.purgedQueues);
  purged[queueDir] = new OplogReader(paths.oplog).older()?.id ?? "";
  writeAtomic(paths.purgedQueues, asciiJson(purged), true);
}

function readPurged(file: string): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(readText(file) ?? "{}");
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === "string"));
  } catch {
    return {}; // damaged: restore-queue writes back what the log names, as before purges were noted
  }
}

/** The queue files pq init found, as `.pq/queue-at-init` records them: [path, object id]. */
type KeptQueue = [string, string][];

/**
 * Copies of the series and of every patch file it names, as pq init found them, kept in the
 * object store and listed in `.pq/queue-at-init`. A queue pq takes over (quilt's, Debian's,
 * one copied in) holds patches pq never wrote, and nothing else would remember an unapplied
 * one: after a `git clean -fd` of an untracked queue directory, restore-queue brings them back
 * from here (verify-16 F11). Files pq cannot read safely (a name the series may not hold, a
 * symlink, a directory) are left out: the push that reads them refuses them by name.
 */
export function keepQueueAtInit(tree: string, queueDir: string, store: ObjectStore): number {
  const seriesText = readText(join(queueDir, "series"));
  if (seriesText === null) return 0;
  const kept: KeptQueue = [["series", store.put(seriesText)]];
  for (const name of Series.fromBytes(seriesText).names()) {
    try {
      validatePatchName(name);
      checkNameOnDisk(queueDir, name);
      if (!lstatSync(join(queueDir, name)).isFile()) continue;
    } catch {
      continue;
    }
    const text = readText(join(queueDir, name));
    if (text !== null) kept.push([name, store.put(text)]);
  }
  // The objects are durable before the list that names them.
  store.flush();
  // ASCII JSON: the file is written as bytes, and a name beyond latin1 (a CJK one) would lose its high bits (tui-22 F2).
  writeAtomic(statePaths(tree).queueAtInit, asciiJson(kept), true);
  return kept.length - 1;
}

function keptAtInit(file: string): KeptQueue {
  try {
    const parsed: unknown = JSON.parse(readText(file) ?? "[]");
    if (!Array.isArray(parsed)) return [];
    return parsed.filter((e): e is [string, string] => Array.isArray(e) && typeof e[0] === "string" && typeof e[1] === "string");
  } catch {
    return []; // damaged: the oplog's copies still count
  }
}
