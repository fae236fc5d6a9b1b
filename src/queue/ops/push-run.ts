/**
 * A push of many patches remembered as one run (PushRun in ../caches.ts): found again when
 * the same patches, byte for byte, are pushed over the same file versions, and checked
 * before it is trusted. Planning and refusals stay in push.ts; this module only says
 * whether a remembered run applies as it is, and remembers a new one.
 */
import { PqError } from "../../errors.js";
import { asciiJson } from "../../tree/files.js";
import { pushCacheKey, pushRunKey, type PushRun, type RunFile } from "../caches.js";
import { adoptRecords, asPathMap, pathMap, versionId, type AppliedPatch, type Version } from "../state.js";
import type { OpContext } from "./context.js";

/**
 * Pushes of fewer patches are replayed patch by patch: remembering them as a run would cost
 * more than it saves.
 */
export const RUN_MIN = 16;

export interface RunQuery {
  /** The patches to push, in order. */
  list: string[];
  /** A patch file's hash when the stat cache knows it unchanged (null: it has to be read). */
  hashOf: (name: string) => string | null;
  stripOf: (name: string) => number;
  /** The version a path has for this push (on disk, as the transaction sees it); throws a PqError for a path it cannot read (a symlink, a FIFO). */
  versionOf: (path: string) => Version;
  /** Versions the applied patches left (a run over an unrefreshed edit to one is not taken). */
  expected: Map<string, Version>;
}

/**
 * A remembered run found for this push. Its records are parsed only when asked for: a warm push
 * of a thousand patches needs their names and hashes (checked against the run's text), the
 * run's files and the top record, and hands the rest to the state as text (see
 * Transaction.appendAppliedText); parsing them cost ~3 ms and their garbage more.
 */
export interface FoundRun {
  /** The run's object id. */
  id: string;
  /** Per path the run changes (or reads): its version before the run and after it (see RunFile). */
  files: Record<string, RunFile>;
  notes: string[][];
  /** The records as a JSON array's text (null: not in the shape rememberRun gives; `applied` has them). */
  appliedText: string | null;
  /** The records, when they were parsed (the run's text was not in the shape the names are checked in). */
  applied: AppliedPatch[] | null;
}

/**
 * The remembered run for exactly this push, when every patch is unchanged, every path the
 * run changes is at the version the run started from (no unrefreshed edit), and every result
 * is still in the object store. Null sends the push patch by patch, which says what is wrong.
 */
export function matchingRun(ctx: OpContext, q: RunQuery): FoundRun | null {
  if (q.list.length < RUN_MIN) return null;
  if (q.list.some((name) => q.hashOf(name) === null)) return null;
  // The run remembered last (a pop -a and push -a: the same run again), checked against
  // everything its key is made of: no key computed, which is a SHA-1 over the whole list and,
  // in a process that hashes nothing else long, node:crypto's start (~2.2 ms).
  const newest = ctx.pushCache.lastRunObject();
  let newestSaysKey = false;
  const tried = newest !== null ? usableRun(ctx, q, newest, () => (newestSaysKey = true)) : null;
  if (tried) return tried;
  const keys = q.list.map((name) => ({ name, key: pushCacheKey(q.hashOf(name)!, q.stripOf(name)) }));
  for (const id of ctx.pushCache.runObjects(pushRunKey(keys, ctx.tx.ws.reserved))) {
    // The newest, tried above, failed on something other than its key's parts (a checked file, a lost object) only if it said them.
    const run = id === newest && newestSaysKey ? null : usableRun(ctx, q, id);
    if (run) return run;
  }
  return null;
}

/**
 * The text of a stored run's `applied` records as a JSON array, when the run's text has the
 * shape rememberRun gives it (`{"files":{...},"applied":[...],"notes":[...]}`), else null.
 * Inside the JSON strings every quote is escaped, so the keys are found only where the JSON
 * has them as keys. `files` maps paths to arrays, so its first `}` is its end: the run's own
 * `applied` key follows it, where a tree file named `applied` is a key inside it (`],"applied":[`,
 * which the state once took for the records: every later command found state.json damaged).
 * `notes` is the last key and holds only strings, so its last place is the run's own.
 */
export function appliedTextOf(text: string): string | null {
  return runParts(text)?.applied ?? null;
}

/**
 * The texts of a run's values (see appliedTextOf), or null. `rest`: the keys after `notes`
 * (`strips` and `reserved`, as an object's text), absent from runs remembered before them.
 * `notes` holds only strings and `strips` and `reserved` no key followed by an array, so the
 * last `],"notes":[` is the run's own, and the first `,"strips":{` after it.
 */
function runParts(text: string): { files: string; applied: string; notes: string; rest: string | null } | null {
  const head = '{"files":';
  if (!text.startsWith(`${head}{`)) return null;
  const key = '},"applied":[';
  const start = text.indexOf(key);
  const notesKey = '],"notes":[';
  const notesAt = text.lastIndexOf(notesKey);
  if (start === -1 || notesAt < start + key.length - 1) return null;
  const applied = text.slice(start + key.length - 1, notesAt + 1);
  if (applied !== "[]" && !(applied.startsWith('[{"name":') && applied.endsWith("}]"))) return null;
  const files = text.slice(head.length, start + 1);
  const notesStart = notesAt + notesKey.length - 1;
  if (!text.endsWith("]}")) return null;
  const restAt = text.indexOf(',"strips":{', notesStart);
  return restAt === -1
    ? { files, applied, notes: text.slice(notesStart, -1), rest: null }
    : { files, applied, notes: text.slice(notesStart, restAt), rest: `{${text.slice(restAt + 1)}` };
}

/**
 * Whether the records' text holds exactly `list`'s patches in order, each with the hash
 * `hashOf` gives: every record starts `{"name":` (its first key, as the push made it), which the
 * text has nowhere else but where a tree file is named `name` (then `{"name":{`, and the answer
 * is no: the caller parses the records instead). The start of record i must be `{"name":N,"hash":"H",`.
 * Returns where the last record starts, or -1.
 */
function recordsAre(applied: string, list: string[], hashOf: (name: string) => string | null): number {
  const marker = '{"name":';
  let at = -1;
  for (let i = 0; i < list.length; i++) {
    at = applied.indexOf(marker, at + 1);
    if (at === -1 || !applied.startsWith(`${marker}${asciiJson(list[i])},"hash":"${hashOf(list[i])}",`, at)) return -1;
  }
  return applied.indexOf(marker, at + 1) === -1 ? at : -1;
}

/**
 * The run stored as `id`, if it reads back and applies as it is to this push (see matchingRun).
 * `unkeyed`: found without its key, so checked against what the key is made of (the run's
 * records' names and hashes, its strips and reserved paths; a run that does not say them is
 * not taken so); called once they matched, after which the run fails or holds as under its key.
 */
function usableRun(ctx: OpContext, q: RunQuery, id: string, unkeyed?: () => void): FoundRun | null {
  if (!ctx.store.present(id)) return null;
  let found: FoundRun;
  let top: AppliedPatch;
  try {
    const text = ctx.store.get(id);
    const parts = runParts(text);
    if (unkeyed) {
      if (!(parts?.rest && keyPartsAre(JSON.parse(parts.rest) as Pick<PushRun, "strips" | "reserved">, q, ctx.tx.ws.reserved))) return null;
      // Past this point the run is this push's by its key's parts: what fails it fails it under its key too.
      unkeyed();
    }
    const lastAt = parts ? recordsAre(parts.applied, q.list, q.hashOf) : -1;
    if (parts && lastAt !== -1) {
      found = { id, files: asPathMap(JSON.parse(parts.files) as Record<string, RunFile>), notes: JSON.parse(parts.notes), appliedText: parts.applied, applied: null };
      top = adoptRecords([JSON.parse(parts.applied.slice(lastAt, -1)) as AppliedPatch])[0];
      if (top.name !== q.list.at(-1)) return null;
    } else {
      const run = JSON.parse(text) as PushRun;
      asPathMap(run.files);
      adoptRecords(run.applied ?? []);
      if (run.applied?.length !== q.list.length || run.applied.some((r, i) => r.name !== q.list[i] || r.hash !== q.hashOf(r.name))) return null;
      found = { id, files: run.files, notes: run.notes, appliedText: parts?.applied ?? null, applied: run.applied };
      top = run.applied.at(-1)!;
    }
  } catch {
    return null; // unreadable or damaged: an accelerator only
  }
  try {
    for (const [path, [pre, post]] of Object.entries(found.files)) {
      if (q.versionOf(path) !== pre || (q.expected.has(path) && q.expected.get(path) !== pre)) return null;
      // A file made inside a directory that is a file of the applied patches: refused patch by patch.
      if (pre === null && post !== null && underStackFile(path, q.expected)) return null;
      if (post !== null && !ctx.store.present(versionId(post)!)) return null;
    }
    // The top patch's before-versions (what a refresh or a diff of it reads) made by the run itself.
    for (const [path, change] of Object.entries(top.files))
      if (change.pre !== null && change.pre !== found.files[path]?.[0] && !ctx.store.present(versionId(change.pre)!)) return null;
  } catch (e) {
    // A path refused (a symlink, a FIFO, the queue directory): patch by patch, it is refused by name.
    if (e instanceof PqError) return null;
    throw e;
  }
  return found;
}

/** Whether a run's strips and reserved paths are this push's (the parts of its key besides the records). */
function keyPartsAre(run: Pick<PushRun, "strips" | "reserved">, q: RunQuery, reserved: string[]): boolean {
  if (!run.strips || typeof run.strips !== "object" || !Array.isArray(run.reserved)) return false;
  const strips = asPathMap(run.strips);
  if (run.reserved.length !== reserved.length || run.reserved.some((path, i) => path !== reserved[i])) return false;
  const named = Object.keys(strips);
  if (named.length) {
    const listed = new Set(q.list);
    if (named.some((name) => !listed.has(name))) return false;
  }
  return q.list.every((name) => (strips[name] ?? 1) === q.stripOf(name));
}

/** Whether a directory above `path` is a file of the applied patches (`files`). */
export function underStackFile(path: string, files: { has(path: string): boolean }): boolean {
  for (let at = path.indexOf("/"); at !== -1; at = path.indexOf("/", at + 1)) if (files.has(path.slice(0, at))) return true;
  return false;
}

/** Remember the push just planned (the last `list.length` records of the state) as one run. */
export function rememberRun(
  ctx: OpContext,
  list: string[],
  stripOf: (name: string) => number,
  notes: string[][],
  reads: Map<string, Version>,
): void {
  const pushed = ctx.tx.state.applied.slice(-list.length);
  const files = pathMap<RunFile>();
  for (const record of pushed) {
    for (const [path, change] of Object.entries(record.files)) {
      if (files[path]) files[path][1] = change.post;
      else files[path] = [change.pre, change.post];
    }
  }
  // Said of each path whose versions are the same (see RunFile): a replay then needs no record to tell.
  for (const file of Object.values(files)) if (file[0] === file[1]) file[2] = "changed";
  // Files read and not changed (a copy's source): the run holds only if they are as they were.
  for (const [path, version] of reads) if (!files[path]) files[path] = [version, version, "read"];
  const strips = pathMap<number>();
  for (const record of pushed) if (stripOf(record.name) !== 1) strips[record.name] = stripOf(record.name);
  const run: PushRun = { files, applied: pushed, notes, strips, reserved: ctx.tx.ws.reserved };
  const key = pushRunKey(
    pushed.map((r) => ({ name: r.name, key: pushCacheKey(r.hash, stripOf(r.name)) })),
    ctx.tx.ws.reserved,
  );
  const text = asciiJson(run);
  // Stored as its difference from the last run (most of a thousand patches' records are the
  // same from one push -a to the next): whole, each new run would grow .pq/objects by the
  // size of the stack's state.
  const last = ctx.pushCache.lastRunObject();
  let base: string | null = null;
  try {
    base = last !== null && ctx.store.present(last) ? ctx.store.get(last) : null;
  } catch {
    base = null; // damaged: stored whole
  }
  ctx.pushCache.addRun(key, base === null ? ctx.store.put(text) : ctx.store.putCheckedLike(text, last!, base));
}
