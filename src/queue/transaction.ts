/**
 * One transaction is the whole effect of one stack operation, planned in memory before
 * anything is written: the tree's new file versions (a WorkingSet), the queue's new files
 * (patch texts and the series), patch files moved to the trash, the state after, and a
 * git branch move (finish). Planners only fill one in; the executor (executor.ts) writes
 * it through the journal and the operation log, so every command is all-or-nothing and
 * undoable in the same way (StGit's transaction, jj's operation log).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PqError } from "../errors.js";
import { asciiJson, fileStat } from "../tree/files.js";
import { nameToBytes } from "../patch/index.js";
import type { ObjectStore } from "../tree/objects.js";
import type { StatCache } from "./caches.js";
import { Series } from "./series.js";
import { adoptRecords, statePaths, type AppliedPatch, type StackState } from "./state.js";
import { checkNameOnDisk, flattenName, readQueueText } from "./names.js";
import { WorkingSet } from "./workset.js";
import { knownExecBits } from "./exec-bits.js";
import { execBitsTrusted } from "../git/head.js";

/** An index entry as git's `update-index --index-info` reads it: "100644 <blob>", or null (removed). */
export type IndexEntry = string | null;

export interface GitMove {
  /** The full ref name the branch moves on (refs/heads/main), or "HEAD" when detached. */
  ref: string;
  from: string;
  to: string;
  /** Index entries to change with the move (repository-relative paths), before and after. */
  index: [string, IndexEntry, IndexEntry][];
  /**
   * Only the index entries change (a refresh unstaging what it took): the branch stays where
   * it is, whatever it is by then (from and to are HEAD as the plan found it).
   */
  indexOnly?: true;
}

export class Transaction {
  readonly ws: WorkingSet;
  /** The state after the transaction; planners edit it freely. */
  state: StackState;
  private queueEdits = new Map<string, string | null>();
  private trashed = new Map<string, string>();
  /**
   * Tree files the new state takes as they are on disk (a refresh: the top patch's files), which
   * no tree write records: the log keeps their versions so that a redo across this operation
   * puts them back as they were (see OplogEntry.taken).
   */
  readonly taken = new Set<string>();
  git?: GitMove;
  /** Files the executor copies into a backup before overwriting (pop --force, undo --force). */
  backup?: { label: string; paths: string[] };
  /**
   * Applied records whose JSON text the planner already has (a remembered push run's):
   * `records` at `from` in state.applied, serialised as `text` (a JSON array). The state's text
   * takes it as it is instead of serialising a thousand records again (see stateText).
   */
  appliedText?: KnownRecords;
  /** A finish's patches and their commits, for the operation log (OplogEntry.finished). */
  finished?: [name: string, commit: string][];

  constructor(
    /** What the operation did, as the log shows it ("push a..c"); planners may refine it. */
    public label: string,
    readonly queueDir: string,
    readonly tree: string,
    store: ObjectStore,
    statCache: StatCache,
    /** The state before, the transaction's own to change (Stack.lendState: no copy is made). */
    before: StackState,
    /** The text `before` was read from (what the journal and the log record as the before state). */
    readonly beforeText: string,
  ) {
    this.ws = new WorkingSet(tree, store, statCache);
    this.state = before;
    if (!execBitsTrusted(tree, true)) {
      // The patches applied when the operation starts (its planners change the list as they go).
      const applied = before.applied.slice();
      this.ws.knownExec = knownExecBits(tree, () => applied);
    }
  }

  /** The state after the transaction, as the JSON text state.json and the log keep (see stateTextOf). */
  stateText(): string {
    return stateTextOf(this.state, this.appliedText);
  }

  /**
   * Appends records to state.applied that the planner has as the JSON text of an array (a
   * remembered push run's, whose names and hashes it checked in the text). `records`: the same
   * records parsed, when the planner has them; otherwise they are parsed only when something
   * first reads state.applied. A warm push of a thousand patches never does: it writes the state
   * from the text, and parsing them cost ~3 ms, their garbage more. `names`: the records' patch
   * names in order, which appliedNames answers with while the records are unparsed.
   */
  appendAppliedText(text: string, records: AppliedPatch[] | null, runId?: string, names?: readonly string[]): void {
    this.appliedText = appendRecordsText(this.state, text, records, names);
    if (runId) this.appliedText.runId = runId;
  }

  /**
   * A planner changed an applied record in place (a rebase rewriting a patch it pushed with
   * offsets): the remembered text no longer says what the records do, and the state is
   * serialised from them (t149 N4: the state kept the old texts' hashes of a replayed run).
   */
  recordsEdited(): void {
    this.appliedText = undefined;
  }


  /**
   * A queue file as the transaction sees it (planned, else on disk). `remember`: kept as the
   * version the plan read (see firstRead); a push, which reads a thousand patches and writes
   * none of them, does not keep them (they would add to a cold push's peak memory).
   */
  queueFile(path: string, remember = true): string | null {
    if (this.queueEdits.has(path)) return this.queueEdits.get(path)!;
    const text = readQueueFile(this.queueDir, path);
    if (remember && !this.firstRead.has(path)) this.firstRead.set(path, text);
    return text;
  }

  /**
   * Queue files as the plan first read them. The journal takes a file's "before" from here, not
   * from the disk when it is written: an editor that saved the file while the plan ran (built
   * from the version it read) is then seen by the executor's check and its version saved,
   * where it was taken as the before and overwritten without a word (verify-10 Y8).
   */
  private firstRead = new Map<string, string | null>();

  /** The version of a queue file the plan first read (undefined: it read none). */
  readBefore(path: string): string | null | undefined {
    return this.firstRead.get(path);
  }

  /** The series is UTF-8 text (quilt and hg read it so): names are decoded like file names. */
  series(): Series {
    return this.seriesView().clone();
  }

  private parsedSeries: { text: string; series: Series } | undefined;

  /**
   * The series as the transaction sees it, for reading only: not a copy (series() hands out
   * clones for planners to edit; a push of a thousand patches only reads it).
   */
  seriesView(): Series {
    // Planning asks several times (push asks twice); parsing and checking 1000 names costs 3-4 ms a time.
    const text = this.queueFile("series") ?? "";
    if (this.parsedSeries?.text !== text) {
      const series = Series.fromBytes(text);
      series.queuePlace = () => ({ dir: this.queueDir, fromTree: this.ws.reserved[0] ?? null });
      this.parsedSeries = { text, series };
    }
    return this.parsedSeries.series;
  }

  /** The series text the plan parsed, with its parse (never edited: planners get clones), for the Stack's queries after it. */
  seriesParsed(): { text: string; series: Series } | undefined {
    return this.parsedSeries;
  }

  setSeries(series: Series): void {
    this.queueEdits.set("series", nameToBytes(series.serialize()));
  }

  patchText(name: string, remember = true): string {
    const text = this.queueFile(name, remember);
    if (text === null) throw missingPatchFile(this.queueDir, name);
    return text;
  }

  writePatch(name: string, text: string): void {
    checkNameOnDisk(this.queueDir, name);
    this.queueEdits.set(name, text);
    this.trashed.delete(name);
  }

  /**
   * Remove a patch file from the queue; with `trash`, its text is kept in .pq/trash first.
   * Returns the trash file it will be kept in.
   */
  removePatch(name: string, trash: boolean): string | null {
    checkNameOnDisk(this.queueDir, name);
    let dest: string | null = null;
    if (trash && readQueueFile(this.queueDir, name) !== null) {
      const stamp = new Date().toISOString().replace(/[:.]/g, "-");
      const base = join(statePaths(this.tree).trash, `${stamp}-${flattenName(name)}`);
      // Names that flatten alike (x/p and x_p) in the same millisecond, or a copy left there: a number keeps each.
      const taken = new Set(this.trashed.values());
      dest = base;
      for (let n = 2; taken.has(dest) || existsSync(dest); n++) dest = `${base}-${n}`;
      this.trashed.set(name, dest);
    }
    this.queueEdits.set(name, null);
    return dest;
  }

  queueWrites(): [string, string | null][] {
    return [...this.queueEdits];
  }

  /** Does this transaction write (or remove) this file of the queue directory? */
  writesQueueFile(path: string): boolean {
    return this.queueEdits.has(path);
  }

  /** Patch files to keep in the trash: queue path and trash file. */
  trash(): [string, string][] {
    return [...this.trashed];
  }

  /** Does the transaction change anything at all? (A no-op is not logged.) */
  isEmpty(): boolean {
    return (
      this.ws.plannedWrites().length === 0 &&
      [...this.queueEdits].every(([path, text]) => readQueueFile(this.queueDir, path) === text) &&
      !this.git &&
      canonical(JSON.parse(this.beforeText)) === canonical(this.state)
    );
  }
}

function readQueueFile(queueDir: string, path: string): string | null {
  try {
    return readQueueText(queueDir, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EISDIR") return null;
    throw e;
  }
}

/** JSON with object keys sorted: two states that mean the same compare equal whatever order they were built in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** The refusal for a series entry with no patch file to read: missing, or a directory of that name (verify-6 N9). */
export function missingPatchFile(queueDir: string, name: string): PqError {
  const path = join(queueDir, name);
  if (fileStat(path) && (fileStat(path)!.mode & 0o170000) === 0o040000) {
    return new PqError("not-found", `${name} in the series is a directory, not a patch file (${path})`, [
      "a series line names a patch file: fix the line in the series (a patch in that directory is named DIR/FILE), or pq delete the entry",
    ], { patch: name });
  }
  return new PqError(
    "not-found",
    `patch file ${path} is missing`,
    ["pq restore-queue writes back a patch file pq wrote, from its log; else restore it from the queue's git history, or pq delete the patch"],
    { patch: name },
  );
}

/**
 * Records of state.applied whose JSON text is known (see Transaction.appendAppliedText): at
 * `from`, after `prior`; `records` are the parsed objects, null while `lazy` (not parsed yet,
 * state.applied still the transaction's getter, so nothing can have changed them).
 */
export interface KnownRecords {
  from: number;
  /** The remembered run the records are (see executor's stateIds). */
  runId?: string;
  records: AppliedPatch[] | null;
  text: string;
  prior: AppliedPatch[];
  lazy: boolean;
}

/** States whose last records are still unparsed text, with those records' names when known (see appliedNames). */
const unparsedRecords = new WeakMap<StackState, { known: KnownRecords; names: readonly string[] }>();

/**
 * The names of state.applied in order, without parsing records that are still text: what a
 * push's report asks after it (the top, the patches below it), where parsing a thousand
 * records just written from a remembered run cost ~4 ms.
 */
export function appliedNames(state: StackState): string[] {
  const unparsed = unparsedRecords.get(state);
  if (unparsed?.known.lazy) return [...unparsed.known.prior.map((r) => r.name), ...unparsed.names];
  return state.applied.map((r) => r.name);
}

/** The last name appliedNames would give (the top patch), as cheaply. */
export function topName(state: StackState): string | null {
  const unparsed = unparsedRecords.get(state);
  if (unparsed?.known.lazy && unparsed.names.length) return unparsed.names.at(-1)!;
  return state.applied.at(-1)?.name ?? null;
}

/** See Transaction.appendAppliedText. */
export function appendRecordsText(state: StackState, text: string, records: AppliedPatch[] | null, names?: readonly string[]): KnownRecords {
  const prior = state.applied;
  if (records !== null) {
    for (const record of records) prior.push(record);
    return { from: prior.length - records.length, records, text, prior, lazy: false };
  }
  const known: KnownRecords = { from: prior.length, records: null, text, prior, lazy: true };
  if (names) unparsedRecords.set(state, { known, names });
  const settle = (value: AppliedPatch[]) => Object.defineProperty(state, "applied", { value, writable: true, enumerable: true, configurable: true });
  Object.defineProperty(state, "applied", {
    enumerable: true,
    configurable: true,
    get: () => {
      const parsed = adoptRecords(JSON.parse(text) as AppliedPatch[]);
      for (const record of parsed) prior.push(record);
      known.records = parsed;
      known.lazy = false;
      settle(prior);
      return prior;
    },
    // Replaced before it was read: the known text no longer says what the state holds.
    set: (value: AppliedPatch[]) => {
      known.lazy = false;
      settle(value);
    },
  });
  return known;
}

/**
 * asciiJson(state), with the records whose text is known (`known`, a remembered push run's)
 * copied in as that text when they are still the same objects at the same place: serialising
 * a thousand records again cost a warm push ~3 ms. The text is the same, as the known text
 * came from asciiJson of the same records (a JSON round trip gives back the same text).
 */
export function stateTextOf(state: StackState, known?: KnownRecords): string {
  // Every key but the records, read without reading state.applied (which would parse them).
  const others: Record<string, unknown> = {};
  for (const key of Object.keys(state)) others[key] = key === "applied" ? [] : state[key as keyof StackState];
  let records: string[];
  if (known?.lazy) records = [...known.prior.map((r) => asciiJson(r)), known.text.slice(1, -1)];
  else {
    const applied = state.applied;
    const usable =
      known !== undefined &&
      known.records !== null &&
      known.records.length > 0 &&
      known.text.length > 2 &&
      applied.length >= known.from + known.records.length &&
      known.records.every((r, i) => applied[known.from + i] === r);
    if (!usable) return asciiJson(state);
    records = [
      ...applied.slice(0, known.from).map((r) => asciiJson(r)),
      known.text.slice(1, -1),
      ...applied.slice(known.from + known.records!.length).map((r) => asciiJson(r)),
    ];
  }
  // The empty list's key is found as the only place the text has it: inside a string value
  // every quote is escaped, so no name can hold it (t22 F2: a marker value could be a queue's name).
  const key = '"applied":[]';
  const text = asciiJson(others);
  const at = text.indexOf(key);
  if (at === -1 || text.indexOf(key, at + 1) !== -1) return asciiJson(state);
  return `${text.slice(0, at)}"applied":[${records.filter((r) => r.length).join(",")}]${text.slice(at + key.length)}`;
}
