/**
 * The operation log (jj's op log, StGit's stack history): one JSON line per transaction in
 * `.pq/oplog`, with the before and after of everything it changed (tree file versions,
 * queue files and the state as object ids, the git branch). Undo and redo are just
 * transactions built from these lines, so every operation can be taken back.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { PqError } from "../errors.js";
import { appendLines, asciiJson } from "../tree/files.js";
import type { Version } from "./state.js";
import type { GitMove } from "./transaction.js";

export interface OplogEntry {
  id: string;
  /** What was done, e.g. "push a.patch..c.patch". */
  op: string;
  /** The command line that asked for it. */
  command: string;
  user: string;
  time: string;
  /** Tree files: path, version before, version after. */
  tree: [string, Version, Version][];
  /**
   * Tree files the operation took into the queue as they were (a refresh's), path and version:
   * no move of the tree, but the version an undo across the operation finds and a redo across
   * it leaves (a conflict resolved by hand, refreshed, then a rebase --continue).
   */
  taken?: [string, Version][];
  /** Queue files (relative to the queue directory): path, content id before, after (null: absent). */
  queue: [string, string | null, string | null][];
  /** Patch files copied to the trash: queue path, trash file, content id. */
  trash: [string, string, string][];
  /** The state before and after, as object ids of their JSON. */
  state: [string, string];
  git?: GitMove;
  /** Set on the entries of undo and redo: which entries they took back or re-did. */
  undoes?: string[];
  redoes?: string[];
  /**
   * Set on the entries of a rebase --abort or sync --abort, which take the stopped command back
   * as an undo does (`undoes`): undo goes on past them, and redo cannot re-do what they took
   * back (the stop's own record is gone), as after any other new operation.
   */
  abort?: true;
  /** Where changed files were backed up before being overwritten (pop --force, undo --force). */
  backup?: string;
  /** Where files changed by someone else while the operation ran (after its plan checked them) were saved. */
  changedDuring?: string;
  /**
   * Shared by the transactions of one command made of several (a rebase: base move, pushes,
   * refreshes, drops; a sync): undo and redo take such a run back and forward as one.
   */
  group?: string;
  /** Set on the transactions of pq sync (its restacks): undo refuses them, the queue moved in git. */
  source?: "sync";
  /** The queue directory the operation changed (as state.json names it): several queues share one tree's log. */
  queueDir?: string;
  /**
   * On the first entry of a rebase command: the stopped rebase it went on from (object ids of
   * .pq/rebase.json and .pq/rebase-saved.json, for --continue and --skip), or null (a rebase's
   * start: none was in progress). An undo that takes the command back puts that back, so
   * the rebase is stopped again where it was (stack-6 #6).
   */
  rebasePlan?: [string, string] | null;
  /**
   * On a finish: each finished patch and the commit it became. A shared queue's commit names
   * them (Pq-Finished trailers), so that a colleague's sync says the patch became a commit of
   * the tree, not that it was deleted (collab-17 F14).
   */
  finished?: [name: string, commit: string][];
}

/** `text`: the entry as asciiJson gives it, when the caller has it already (the journal's). */
export function appendOplog(file: string, entry: OplogEntry, text = asciiJson(entry)): void {
  appendLines(file, text + "\n", true);
}

/**
 * Where each command starts in `candidates` (newest first for undo, the next to redo first
 * for redo): consecutive entries of one group are one command, every other entry is one.
 */
function commandStarts(candidates: OplogEntry[]): number[] {
  return candidates.flatMap((e, i) => (i === 0 || e.group === undefined || e.group !== candidates[i - 1].group ? [i] : []));
}

/** How many entries the first `commands` commands span; null when there are fewer commands. */
export function entriesOfCommands(candidates: OplogEntry[], commands: number): number | null {
  const starts = commandStarts(candidates);
  return commands > starts.length ? null : (starts[commands] ?? candidates.length);
}

export function commandCount(candidates: OplogEntry[]): number {
  return commandStarts(candidates).length;
}

export function lastOplogId(file: string): string | null {
  return new OplogReader(file).older()?.id ?? null;
}

/**
 * Read from the end of the log: a long-lived tree's log holds megabytes that undo never needs.
 * 256 KB holds the last few entries of a 1000-patch stack (a push -a logs ~44 KB); a 1 MB
 * chunk cost an undo 1-2 ms more in reading and decoding.
 */
const BACKWARD_CHUNK = 1 << 18;

/** The log's lines from the newest, read in chunks from the end of the file. */
function* linesBackward(file: string): Generator<string> {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return;
  }
  try {
    let pos = fstatSync(fd).size;
    // The start of the oldest line read so far, whose beginning is in an earlier chunk.
    let partial = "";
    while (pos > 0) {
      const length = Math.min(BACKWARD_CHUNK, pos);
      pos -= length;
      const buf = Buffer.allocUnsafe(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, buf, got, length - got, pos + got);
        if (n === 0) break;
        got += n;
      }
      const lines = (buf.toString("latin1", 0, got) + partial).split("\n");
      partial = lines.shift()!;
      for (let i = lines.length - 1; i >= 0; i--) if (lines[i]) yield lines[i];
    }
    if (partial) yield partial;
  } finally {
    closeSync(fd);
  }
}

/**
 * The log read lazily from its newest entry back. Undo, redo and `pq oplog -n N` look at the
 * last few commands; reading and parsing every line made undo cost more with every operation
 * ever done in the tree (a 1000-patch push -a logs about 200 KB).
 */
export class OplogReader {
  private lines: Generator<string>;
  /** Entries parsed so far, newest first; `older` walks them, `entry` may parse ahead of it. */
  private parsed: OplogEntry[] = [];
  private byId = new Map<string, OplogEntry>();
  /** Each parsed entry's line, counted from the end (1: the newest). */
  readonly lineOf = new Map<string, number>();
  /** The damaged lines' numbers, counted from the end. */
  readonly damagedAt: number[] = [];
  private cursor = 0;
  private exhausted = false;

  constructor(file: string) {
    this.lines = linesBackward(file);
  }

  /** The next older entry; null at the start of the log. */
  older(): OplogEntry | null {
    if (this.cursor === this.parsed.length && !this.parseNext()) return null;
    return this.parsed[this.cursor++];
  }

  /** Start `older` again from the newest entry (what was parsed is kept). */
  rewind(): void {
    this.cursor = 0;
  }

  /** An entry by id, reading further back until it is found (without moving `older`'s place). */
  entry(id: string): OplogEntry | undefined {
    while (!this.byId.has(id) && this.parseNext());
    return this.byId.get(id);
  }

  /**
   * Lines that are not entries, newest first, as "line N from the end". A line torn by a
   * crash is not one of them: the next command replayed its journal and logged the whole
   * entry again after it, and that entry (read first, going back) names the same id.
   */
  readonly damaged: string[] = [];
  private lineNumber = 0;
  /** The line read just before (the next one in the file). */
  private newerLine: string | undefined;

  /**
   * A line cut short by a crash: the start of the line after it (the journal's entry logged
   * again), the start of an entry whose id was read already, or the zero bytes a file system
   * can leave where a write was under way.
   */
  private tornAndLoggedAgain(line: string, newer: string | undefined): boolean {
    if (newer !== undefined && newer.startsWith(line)) return true;
    if (/^\0+$/.test(line)) return true;
    const id = /^\{"id":"([^"]+)"/.exec(line)?.[1];
    return id !== undefined && this.byId.has(id);
  }

  /** Parses one more line; false at the start of the log. */
  private parseNext(): boolean {
    while (!this.exhausted) {
      const next = this.lines.next();
      if (next.done) {
        this.exhausted = true;
        break;
      }
      this.lineNumber++;
      let entry: unknown;
      try {
        entry = JSON.parse(next.value);
      } catch {
        entry = undefined;
      }
      const newer = this.newerLine;
      this.newerLine = next.value;
      if (!isEntry(entry)) {
        if (!(entry === undefined && this.tornAndLoggedAgain(next.value, newer))) {
          this.damaged.push(`line ${this.lineNumber} from the end`);
          this.damagedAt.push(this.lineNumber);
        }
        continue;
      }
      this.parsed.push(entry);
      this.byId.set(entry.id, entry);
      this.lineOf.set(entry.id, this.lineNumber);
      return true;
    }
    return false;
  }
}

/** The shape every logged entry has: what undo, redo and pq oplog read without checking again. */
function isEntry(e: unknown): e is OplogEntry {
  if (!e || typeof e !== "object" || Array.isArray(e)) return false;
  const x = e as Partial<Record<keyof OplogEntry, unknown>>;
  const tuples = (v: unknown, length: number) => Array.isArray(v) && v.every((t) => Array.isArray(t) && t.length === length && typeof t[0] === "string");
  return (
    typeof x.id === "string" &&
    typeof x.op === "string" &&
    typeof x.time === "string" &&
    tuples(x.tree, 3) &&
    tuples(x.queue, 3) &&
    (x.trash === undefined || tuples(x.trash, 3)) &&
    Array.isArray(x.state) &&
    x.state.length === 2 &&
    x.state.every((id) => typeof id === "string") &&
    (x.undoes === undefined || (Array.isArray(x.undoes) && x.undoes.every((id) => typeof id === "string"))) &&
    (x.redoes === undefined || (Array.isArray(x.redoes) && x.redoes.every((id) => typeof id === "string")))
  );
}

/** The refusal for a log whose lines undo or redo would have to read past. */
export function damagedLog(file: string, damaged: string[]): PqError {
  return new PqError(
    "damaged",
    `${file} has ${damaged.length} damaged line(s) (${damaged.slice(0, 3).join(", ")}): what they held cannot be taken back or re-done`,
    [
      "nothing was changed; pq oplog lists the entries that can still be read",
      "the patches and the tree are intact: pq pop, push and refresh still work",
    ],
    { file, damaged },
  );
}

/**
 * The operations in effect, newest first. Read forward, the log is a list of moves: a normal
 * entry is done (and clears what could be redone), an undo moves the entries it names from
 * done to undone, a redo moves them back to the end of done. Walking back from the newest
 * entry gives the same list: a normal entry is in effect unless a later undo took it back, a
 * redo puts the entries it re-did at its own place, and the newest word on an entry wins
 * (test/queue/oplog.test.ts checks this against the forward reading on random logs).
 */
export function* doneNewestFirst(reader: OplogReader): Generator<OplogEntry> {
  const decided = new Set<string>();
  for (let e = reader.older(); e !== null; e = reader.older()) {
    if (e.undoes) {
      for (const id of e.undoes) decided.add(id);
    } else if (e.redoes) {
      for (const id of [...e.redoes].reverse()) {
        if (decided.has(id)) continue;
        decided.add(id);
        const redone = reader.entry(id);
        if (redone) yield redone;
      }
    } else if (!decided.has(e.id)) {
      decided.add(e.id);
      yield e;
    }
  }
}

/**
 * What redo can re-do, the most recently undone first: only the undo and redo entries since
 * the last normal operation count, since a new operation clears redo.
 */
export function undoneNewestFirst(reader: OplogReader): OplogEntry[] {
  const moves: OplogEntry[] = [];
  for (let e = reader.older(); e !== null && (e.undoes || e.redoes) && !e.abort; e = reader.older()) moves.push(e);
  let undone: string[] = [];
  for (const m of moves.reverse()) {
    if (m.undoes) undone.push(...m.undoes);
    else {
      const ids = new Set(m.redoes);
      undone = undone.filter((id) => !ids.has(id));
    }
  }
  return undone
    .map((id) => reader.entry(id))
    .filter((e): e is OplogEntry => e !== undefined)
    .reverse();
}

export interface RecentOperations {
  /** The newest entries, newest first. */
  entries: OplogEntry[];
  /** Those of them not in effect: taken back by an undo and not re-done since. */
  undone: Set<string>;
  /** What redo can re-do now (a new operation clears it). */
  redoable: Set<string>;
  /** Lines that are not entries (see OplogReader.damaged). */
  damaged: string[];
}

/** The newest `limit` entries (all when no limit), and which of them are undone. */
export function recentOperations(file: string, limit = Infinity): RecentOperations {
  const reader = new OplogReader(file);
  const entries: OplogEntry[] = [];
  for (let e = entries.length < limit ? reader.older() : null; e !== null; e = entries.length < limit ? reader.older() : null) entries.push(e);
  // An undo or redo always comes after what it names: the listed entries, read from the
  // oldest, hold every move that decides whether one of them is in effect.
  const undone = new Set<string>();
  for (const e of [...entries].reverse()) {
    for (const id of e.undoes ?? []) undone.add(id);
    for (const id of e.redoes ?? []) undone.delete(id);
  }
  const damaged = [...reader.damaged];
  reader.rewind();
  const redoable = new Set(undoneNewestFirst(reader).map((e) => e.id));
  return { entries, undone, redoable, damaged };
}

/**
 * The first entries of `candidates` (newest first) that cover `commands` commands, with one
 * entry more when there is one (it shows where the last command's group ends).
 */
export function takeCommands(candidates: Iterable<OplogEntry>, commands: number): OplogEntry[] {
  const taken: OplogEntry[] = [];
  let started = 0;
  for (const e of candidates) {
    const previous = taken.at(-1);
    if (!previous || e.group === undefined || e.group !== previous.group) started++;
    taken.push(e);
    if (started > commands) break;
  }
  return taken;
}
