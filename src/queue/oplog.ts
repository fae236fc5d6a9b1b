/**
 * The operation log (jj's op log, StGit's stack history): one JSON line per transaction in
 * `.pq/oplog`, with the before and after of everything it changed (tree file versions,
 * queue files and the state as object ids, the git branch). Undo and redo are just
 * transactions built from these lines, so every operation can be taken back.
 */
import { appendFileSync, closeSync, fsyncSync, openSync } from "node:fs";
import { asciiJson, readText } from "../tree/files.js";
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
  /** Where changed files were backed up before being overwritten (pop --force, undo --force). */
  backup?: string;
  /**
   * Shared by the transactions of one command made of several (a rebase: base move, pushes,
   * refreshes, drops; a sync): undo and redo take such a run back and forward as one.
   */
  group?: string;
}

export function appendOplog(file: string, entry: OplogEntry): void {
  appendFileSync(file, asciiJson(entry) + "\n", "latin1");
  const fd = openSync(file, "r+");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function readOplog(file: string): OplogEntry[] {
  const entries: OplogEntry[] = [];
  for (const line of (readText(file) ?? "").split("\n")) {
    if (!line) continue;
    try {
      entries.push(JSON.parse(line) as OplogEntry);
    } catch {
      // A line torn by a crash was never the last word: its journal is replayed and re-logged.
    }
  }
  return entries;
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
  return readOplog(file).at(-1)?.id ?? null;
}

/**
 * Which operations are in effect and which were undone (newest last), reading undo and
 * redo entries as moves between the two: a new operation clears what could be redone.
 */
export function undoHistory(entries: OplogEntry[]): { done: OplogEntry[]; undone: OplogEntry[] } {
  const byId = new Map(entries.map((e) => [e.id, e]));
  let done: OplogEntry[] = [];
  let undone: OplogEntry[] = [];
  for (const e of entries) {
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
  return { done, undone };
}
