/**
 * Two caches that make repeated work cheap:
 * - the stat cache remembers (size, mtime) → version for files pq wrote or hashed, like
 *   git's index, so checking "is this file still what pq left?" needs no read;
 * - the push cache remembers, per patch content, which file versions it turned into which,
 *   so a push whose inputs are unchanged is a checkout instead of an apply (StGit's
 *   fast-forward of stored commits, without commits).
 */
import { closeSync, fstatSync, lstatSync, openSync, readSync, rmSync, statSync, type Stats } from "node:fs";
import { dirname, join } from "node:path";
import { appendLines, asciiJson, readText, sha1, writeAtomic } from "../tree/files.js";
import { changedAt, sameTickSpan } from "../tree/stat.js";
import { QueueHashes } from "./queue-hashes.js";
import { asPathMap, pathMap, versionId, type AppliedPatch, type FileChange, type Version } from "./state.js";

/**
 * The stat cache, like git's index, trusts a recorded (size, mtime) only for files whose
 * mtime is older than the cache file's own mtime: a file changed again within the same
 * clock tick as pq's write would keep both, and the cache file, written after every file it
 * describes, marks the last tick that can be trusted (git's "racy" rule). Both times come
 * from the file system's clock, so no margin for its granularity is needed; with the
 * fine-grained timestamps of recent Linux kernels every file pq wrote before the cache is
 * trusted. (Until December 2 the rule compared with Date.now() minus 10 ms, which left a
 * pop right after a push of 1000 patches reading and hashing the 100-150 files the push
 * wrote last.)
 */
export class StatCache {
  /** The file as read (lines parsed when asked for), or an older pq's JSON read whole. */
  private base: CacheLines | null = null;
  /** Entries recorded (or, as null, forgotten) since the file was read. */
  private changed = new Map<string, CacheEntry | null>();
  /** Those of `changed` not yet written to the file. */
  private unsaved = new Map<string, CacheEntry | null>();
  /** The entry lines the file has as this process last wrote it (null: as read). */
  private fileLines: number | null = null;
  /** The cache file's mtime when it was read or last written. */
  private savedAt = 0;
  /** The cache file's inode, size and mtime when it was read or last written. */
  private fileId: string | null = null;
  private dirty = false;
  /**
   * Paths whose entry, as this process last wrote it, was found racy once written (recorded in
   * the tick the file was written in) and marked so in the file (see save).
   */
  private marked = new Set<string>();
  /** The patch files' entries again, checked in one pass (`.pq/queuehashes` beside this file). */
  private readonly queue: QueueHashes;
  constructor(private file: string) {
    this.queue = new QueueHashes(join(dirname(file), "queuehashes"));
  }

  /**
   * Is the file on disk still the one this object read or last saved (no other pq replaced
   * it)? Then a stack re-opening its caches keeps this object, with what this process recorded
   * since: stats it saw, true whatever became of the operation. (Until December 5 a record
   * made this object count as changed: the seal checks of the pack index that opening the stack
   * recorded were dropped under the lock, and every command hashed the 430 KB index again.)
   */
  unchangedOnDisk(): boolean {
    if (this.base === null) return true;
    const st = statSync(this.file, { throwIfNoEntry: false });
    return this.fileId !== null && st !== undefined && this.fileId === identity(st);
  }

  /** Read on first use: a stack is opened (and its caches re-opened under the lock) more often than it is used. */
  private lines(): CacheLines {
    if (this.base) return this.base;
    // The mtime first: should the file be replaced in between, the older time only trusts less.
    const st = statSync(this.file, { throwIfNoEntry: false });
    this.savedAt = st?.mtimeMs ?? 0;
    this.fileId = st ? identity(st) : null;
    if (st?.isFile()) this.base = new CacheLines(readCache(this.file) ?? "");
    else if (st) {
      // A directory, a FIFO or another special file in its place: never read (reading a FIFO
      // waits for a writer: verify-13 N1), and nothing trusted.
      this.base = new CacheLines("");
      this.savedAt = 0;
    } else {
      // No cache in this format yet: an older pq's JSON one, trusted below its own mtime.
      const legacy = statSync(legacyFileOf(this.file), { throwIfNoEntry: false });
      this.savedAt = legacy?.mtimeMs ?? 0;
      this.base = CacheLines.fromLegacy(legacy?.isFile() ? readCache(legacyFileOf(this.file)) : null);
    }
    return this.base;
  }

  private entry(path: string): CacheEntry | undefined {
    const changed = this.changed.get(path);
    if (changed !== undefined) return changed ?? undefined;
    return this.lines().get(path);
  }

  /**
   * The version recorded for a file whose stat is still `st`: size, mtime, ctime and inode. The
   * last two change on any write, a write that puts the old size and mtime back included.
   */
  lookup(path: string, st: StatStamp): Version | undefined {
    const e = this.entry(path);
    if (e && e[0] === st.size && e[1] === st.mtimeMs && e[3] === st.ctimeMs && e[4] === st.ino && changedAt(st) < this.savedAt && !this.markedRacy(path)) return e[2];
    return undefined;
  }

  /** Whether the entry of `path` is marked as recorded in its save's tick (by this process's save, or in the file as read). */
  private markedRacy(path: string): boolean {
    if (this.marked.has(path)) return true;
    const base = this.base;
    return base !== null && base.racy.size !== 0 && !this.changed.has(path) && base.racy.has(path);
  }

  /**
   * The value recorded for `path` under exactly the stamp `st`, without lookup's racy-git rule
   * (a file whose mtime is not older than the cache's save is not trusted there): for pq's own
   * files, which it writes by rename under the lock and records at once. On a file system whose
   * clock ticks every few milliseconds, state.json and the cache are written in the same tick.
   */
  recordedValue(path: string, st: StatStamp): Version | undefined {
    const e = this.entry(path);
    return e !== undefined && e[0] === st.size && e[1] === st.mtimeMs && e[3] === st.ctimeMs && e[4] === st.ino ? e[2] : undefined;
  }

  /**
   * Whether `st` is exactly the stamp recorded for `path` with `version`: the file was not
   * touched since pq recorded it (the check right before pq overwrites a file). Not when the
   * entry was recorded in its file's own clock tick: a write later in that tick keeps the stamp
   * (on a file system with whole-second times, an edit in the second pq read the file in was
   * overwritten with no backup), nor when it is marked so in the file (see save). The caller
   * then reads the file.
   */
  recordedAs(path: string, st: StatStamp, version: Version): boolean {
    const e = this.entry(path);
    return (
      e !== undefined &&
      e[2] === version &&
      e[0] === st.size &&
      e[1] === st.mtimeMs &&
      e[3] === st.ctimeMs &&
      e[4] === st.ino &&
      !this.recordedInTick.has(path) &&
      !this.markedRacy(path)
    );
  }

  /** Paths this process recorded in their file's clock tick (see record and recordedAs). */
  private recordedInTick = new Set<string>();

  /**
   * `statedAt`: the time (Date.now()) before `st` was taken, for a file pq read rather than
   * wrote. An entry whose stamp may share its tick with a later write is not vouched for by
   * recordedAs: one stated within its file's second on a file system with whole-second times
   * (for pq's own write, recorded right after it, within that second), or within 10 ms on any
   * other (the coarse clock file times take ticks every 1-10 ms).
   */
  record(path: string, st: StatStamp, version: Version, statedAt?: number): void {
    if (version === null) return this.forget(path);
    this.lines();
    const entry: CacheEntry = [st.size, st.mtimeMs, version, st.ctimeMs, st.ino];
    const changed = changedAt(st);
    const tick = sameTickSpan(changed) || (statedAt === undefined ? 0 : 10);
    if (tick && (statedAt ?? Date.now()) < changed + tick) this.recordedInTick.add(path);
    else this.recordedInTick.delete(path);
    this.marked.delete(path);
    this.changed.set(path, entry);
    this.unsaved.set(path, entry);
    this.dirty = true;
  }

  /**
   * The hash recorded for the queue's patch `name` whose file's stat is still `st`: from the
   * queue's hashes when they vouch for it, else from its own entry (then given to them too).
   */
  patchHash(name: string, st: StatStamp): string | undefined {
    const known = this.queue.lookup(name, st);
    if (known !== undefined) return known;
    const hash = this.lookup(`\0queue/${name}`, st);
    if (hash) this.queue.note(name, st, hash);
    return hash ?? undefined;
  }

  /** A patch file's hash, made from the text read after the stat `st` was taken (at `statedAt`, see record). */
  recordPatchHash(name: string, st: StatStamp, hash: string, statedAt?: number): void {
    const key = `\0queue/${name}`;
    this.record(key, st, hash, statedAt);
    // Stated in the file's own tick: not given to the queue's hashes, which would vouch for it by their file's later time.
    if (!this.recordedInTick.has(key)) this.queue.note(name, st, hash);
  }

  /** A remembered answer that depends on no file (HEAD's verdicts): looked up by key alone. */
  lookupKey(key: string): Version | undefined {
    return this.lookup(key, NO_FILE);
  }

  recordKey(key: string, value: Version): void {
    this.record(key, NO_FILE, value);
  }

  forget(path: string): void {
    this.recordedInTick.delete(path);
    if (this.entry(path) !== undefined) {
      this.marked.delete(path);
      this.changed.set(path, null);
      this.unsaved.set(path, null);
      this.dirty = true;
    }
  }

  /**
   * Written after the files it describes; its mtime is then the line lookups trust below.
   * The entries changed since the file was read are appended to it (a later line of a path
   * replaces an earlier one): a warm push or pop of a thousand patches changes ~470 of some
   * 1,800 entries, and writing the whole file again (copying each unchanged line) cost 3-4 ms
   * of it, the append under 1. Once the lines no longer read outnumber the live ones (plus
   * 256), the file is written whole again, with only the live lines: each command reads the
   * whole file, so a longer one costs every command its scan, and a rewrite costs one command
   * the copy; with ~470 lines appended to ~1,800 live ones, a bound of about the live count
   * costs least (a rewrite every fourth push or pop, a file 1.5 times its live size on average).
   */
  save(): void {
    this.queue.save();
    if (!this.dirty) return;
    const base = this.lines();
    // The paths with an entry once this save is written, and the lines the file then has.
    let live = base.size;
    for (const [path, e] of this.changed) live += e === null ? (base.has(path) ? -1 : 0) : base.has(path) ? 0 : 1;
    const appended = [...this.unsaved].map(([path, e]) => (e === null ? `${escapeField(path)}\t\n` : formatLine(path, e)));
    this.fileLines ??= base.lineCount;
    /** The entries this save writes, to be checked against the file's new time. */
    let written: [string, CacheEntry | null][] = [...this.unsaved];
    try {
      if (base.appendable && this.fileLines + appended.length - live <= live + 256 && regularFileWithOneName(this.file)) {
        appendLines(this.file, appended.join(""), false);
        this.fileLines += appended.length;
      } else {
        const out = [CACHE_HEADER];
        for (const [path, line] of base.lines()) if (!this.changed.has(path)) out.push(line);
        for (const [path, e] of this.changed) if (e !== null) out.push(formatLine(path, e));
        // The marks go on with the entries they are about (a mark follows its path's entry).
        const marks = [...this.marked, ...[...base.racy].filter((path) => !this.changed.has(path) && base.has(path))];
        out.push(...marks.map(racyLine));
        writeAtomic(this.file, out.join(""));
        this.fileLines = live + marks.length;
        written = [...this.changed];
      }
    } catch {
      // Not written (a directory in its place, a full disk): an accelerator only. Nothing is
      // trusted from it in this process any more, and the next command hashes what it reads.
      this.savedAt = 0;
      this.fileId = null;
      this.dirty = false;
      this.fileLines = null;
      return;
    }
    this.unsaved.clear();
    // Its entries are in the new file now.
    if (base.legacy) {
      try {
        rmSync(legacyFileOf(this.file), { force: true });
      } catch {
        /* a directory of that name is not pq's: left */
      }
    }
    let st = statSync(this.file, { throwIfNoEntry: false });
    this.savedAt = st?.mtimeMs ?? 0;
    // git's smudging of racily clean entries: an entry whose file's mtime is not older than the
    // cache file's is not trusted now, and must not be once a later save moves the file's time on
    // (the file's time would then vouch for an edit made in the entry's tick after pq read it: t28
    // F1, on file systems whose clock ticks in seconds). Such entries are marked in the file.
    // On a file system that keeps whole seconds, an entry of the second before the save's may be
    // of the second a write was made in after pq's stat (t29 F1: a watcher rewrote a file pq had
    // just written, and the save fell in the next second): not trusted either.
    const trustedBelow = this.savedAt - sameTickSpan(this.savedAt);
    const racy: string[] = [];
    // Entries recorded in their file's own tick are marked too, however long after it the save comes (t32 F1: the
    // TUI's stat cache, kept from one operation to the next, was saved seconds later, and its time vouched for them).
    for (const [path, e] of written) {
      if (e === null || this.marked.has(path)) continue;
      if (Math.max(e[1], e[3] ?? 0) >= trustedBelow || this.recordedInTick.has(path)) racy.push(path);
    }
    if (racy.length && st) {
      try {
        appendLines(this.file, racy.map(racyLine).join(""), false);
        this.fileLines = (this.fileLines ?? 0) + racy.length;
        for (const path of racy) this.marked.add(path);
        st = statSync(this.file, { throwIfNoEntry: false });
      } catch {
        // Not marked: nothing may be trusted from this file (the next command hashes what it reads).
        this.savedAt = 0;
        st = undefined;
      }
    }
    this.fileId = st ? identity(st) : null;
    // What was read stays the base, under every change since (written now too).
    this.dirty = false;
  }
}

/**
 * A line saying that the entry of `path` before it was recorded in the tick its save was
 * written in: looked up, it is not trusted whatever the file's time (see StatCache.save);
 * a later entry line for the path replaces it. Keys start with a NUL of their own for pq's
 * own records, never with this prefix.
 */
const RACY = "\0racy\0";
const racyLine = (path: string) => `${escapeField(RACY + path)}\t-\n`;

/**
 * Appended to only when it is a regular file of one name, not through a symlink (a link
 * put at .pq/statcache would have pq append to whatever it names; replaced whole, the link
 * itself goes) and not shared with a hard-linked copy of the tree.
 */
function regularFileWithOneName(file: string): boolean {
  const st = lstatSync(file, { throwIfNoEntry: false });
  return st !== undefined && st.isFile() && st.nlink === 1;
}

/**
 * The stat cache's file: a header line, then one line per path: the path, size, mtime,
 * version, ctime and inode, separated by tabs (a tab, a line break or a backslash in a path
 * or version written as \t, \n, \\). Lines, not JSON (as until December 5): a command on a
 * 1000-patch stack parsed and wrote ~230 KB of JSON for a few hundred lookups; now one scan
 * finds where each path's line starts and a line is parsed when its path is asked for, and a
 * save copies the lines nothing changed.
 */
const CACHE_HEADER = "pq stat cache 2\n";

/**
 * The cache file's text, or null when there is none or it cannot be read (a directory in its
 * place, no permission): a cache that cannot be read is an empty one, never a refusal.
 */
function readCache(file: string): string | null {
  try {
    return readText(file);
  } catch {
    return null;
  }
}

/** Where pq before December 5 kept the cache, as JSON (read once if the new file is not there yet, then removed). */
function legacyFileOf(file: string): string {
  return `${file}.json`;
}

/** A field as written: tab, line break and backslash escaped, and characters beyond latin1 (the file is bytes) as \\uXXXX. */
function escapeField(text: string): string {
  if (!/[\t\n\\\u0100-\uffff]/.test(text)) return text;
  return text.replace(/[\t\n\\\u0100-\uffff]/g, (c) =>
    c === "\t" ? "\\t" : c === "\n" ? "\\n" : c === "\\" ? "\\\\" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function unescapeField(text: string): string {
  if (!text.includes("\\")) return text;
  return text.replace(/\\(u[0-9a-f]{4}|.)/g, (_, c: string) =>
    c === "t" ? "\t" : c === "n" ? "\n" : c.length === 5 ? String.fromCharCode(parseInt(c.slice(1), 16)) : c,
  );
}

function formatLine(path: string, e: CacheEntry): string {
  return `${escapeField(path)}\t${e[0]}\t${e[1]}\t${escapeField(e[2])}\t${e[3] ?? ""}\t${e[4] ?? ""}\n`;
}

/** The cache file's lines by path, each parsed when first asked for (see CACHE_HEADER). */
class CacheLines {
  /** Per path, where its line's first tab is (the fields follow it). */
  private readonly at = new Map<string, number>();
  /** Lines parsed so far (null: one that does not parse). */
  private readonly parsed = new Map<string, CacheEntry | null>();
  /** Paths whose entry is marked as recorded in its save's tick (see StatCache.save). */
  readonly racy = new Set<string>();
  private legacyEntries: Map<string, CacheEntry> | null = null;

  /** Entry lines in the file (a later line of a path replaces an earlier one). */
  lineCount = 0;
  /** The file is in this format, so entries can be appended to it (see StatCache.save). */
  readonly appendable: boolean;

  constructor(private readonly text: string) {
    // Another header (a damaged file, a later format): read as empty, it is only an accelerator.
    this.appendable = text.startsWith(CACHE_HEADER);
    if (!this.appendable) return;
    for (let start = CACHE_HEADER.length, end: number; start < text.length; start = end + 1) {
      end = text.indexOf("\n", start);
      // A line cut short (a crash or a full disk while appending): not an entry.
      if (end === -1) break;
      const tab = text.indexOf("\t", start);
      if (tab === -1 || tab >= end) continue;
      const path = unescapeField(text.slice(start, tab));
      this.lineCount++;
      if (path.startsWith(RACY)) {
        this.racy.add(path.slice(RACY.length));
        continue;
      }
      if (this.racy.size) this.racy.delete(path);
      // A path with nothing after its tab: forgotten (a line of its own, as entries are appended).
      if (tab + 1 === end) this.at.delete(path);
      else this.at.set(path, tab);
    }
  }

  get size(): number {
    return this.legacyEntries ? this.legacyEntries.size : this.at.size;
  }

  has(path: string): boolean {
    return this.legacyEntries ? this.legacyEntries.has(path) : this.at.has(path);
  }

  /** An older pq's JSON cache (`{"entries": {path: [size, mtime, version, ctime, ino]}}`), all read at once. */
  static fromLegacy(json: string | null): CacheLines {
    const lines = new CacheLines("");
    let entries: Record<string, CacheEntry> = {};
    try {
      entries = json ? ((JSON.parse(json) as { entries?: Record<string, CacheEntry> }).entries ?? {}) : {};
    } catch {
      /* damaged: start empty */
    }
    lines.legacyEntries = new Map(Object.entries(entries));
    return lines;
  }

  get legacy(): boolean {
    return this.legacyEntries !== null;
  }

  get(path: string): CacheEntry | undefined {
    if (this.legacyEntries) return this.legacyEntries.get(path);
    const known = this.parsed.get(path);
    if (known !== undefined) return known ?? undefined;
    const tab = this.at.get(path);
    if (tab === undefined) return undefined;
    const entry = this.parseFields(tab);
    this.parsed.set(path, entry);
    return entry ?? undefined;
  }

  /**
   * The fields after the path's tab: size, mtime, version, ctime, inode (the last two empty in
   * entries made from pq before December 3). Field by field with indexOf: a push asks for
   * some 1,500 lines, and a split per line cost a few ms more.
   */
  private parseFields(tab: number): CacheEntry | null {
    const t = this.text;
    const end = t.indexOf("\n", tab);
    const a = t.indexOf("\t", tab + 1);
    const b = a === -1 ? -1 : t.indexOf("\t", a + 1);
    const c = b === -1 ? -1 : t.indexOf("\t", b + 1);
    const d = c === -1 ? -1 : t.indexOf("\t", c + 1);
    if (d === -1 || d > end) return null;
    const extra = t.indexOf("\t", d + 1);
    if (extra !== -1 && extra < end) return null;
    const size = a > tab + 1 ? Number(t.slice(tab + 1, a)) : NaN;
    const mtime = b > a + 1 ? Number(t.slice(a + 1, b)) : NaN;
    if (!Number.isFinite(size) || !Number.isFinite(mtime)) return null;
    const ctime = d > c + 1 ? Number(t.slice(c + 1, d)) : NaN;
    const ino = end > d + 1 ? Number(t.slice(d + 1, end)) : NaN;
    return [size, mtime, unescapeField(t.slice(b + 1, c)), Number.isFinite(ctime) ? ctime : undefined, Number.isFinite(ino) ? ino : undefined];
  }

  /** Each path with its line as read (legacy entries formatted anew). */
  *lines(): Generator<[string, string]> {
    if (this.legacyEntries) {
      for (const [path, e] of this.legacyEntries) if (Array.isArray(e) && typeof e[2] === "string") yield [path, formatLine(path, e)];
      return;
    }
    const t = this.text;
    for (const [path, tab] of this.at) yield [path, t.slice(t.lastIndexOf("\n", tab) + 1, t.indexOf("\n", tab) + 1)];
  }
}

type CacheEntry = [size: number, mtimeMs: number, version: string, ctimeMs?: number, ino?: number];

/** What the cache compares of a file's stat. */
export interface StatStamp {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

/** The stamp of keyed answers that stand for no file (always older than the cache file). */
const NO_FILE: StatStamp = { size: 0, mtimeMs: 0, ctimeMs: 0, ino: 0 };

/** A file's inode, size and mtime: another process's save (a rename) changes the inode. */
function identity(st: Stats): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}`;
}

export interface PushCacheEntry {
  files: Record<string, [Version, Version]>;
  renames?: [string, string][];
  /** Hunks that applied with an offset ("f.c: Hunk #1 succeeded at 14 (offset 2 lines)."): a reused push reports them too. */
  notes?: string[];
}

/**
 * The push cache's key for a patch: its bytes' hash, and the strip level when the series gives
 * one (quilt's -pN): the same bytes read with another -p patch other files.
 */
export function pushCacheKey(patchHash: string, strip = 1): string {
  // ".2": entries since December 3 keep the files a patch reads but leaves as they were (a copy's
  // source, a mode change that was already made); older ones lack them and are not trusted.
  return `${strip === 1 ? patchHash : `${patchHash}-p${strip}`}.2`;
}

/**
 * A whole push remembered at once: a warm `push -a` of a thousand patches replayed hit by hit
 * still matched ~2,700 file versions and rebuilt each patch's record; a run that pushes the
 * same patches over the same versions again is this one value. Stored as an object (a
 * thousand patches' records are about the size of the stack's state); the push cache holds
 * its key and id.
 */
/**
 * A path of a run: its version before the run's first patch and after its last. One with the
 * same version before and after says why (runs remembered before pq said so do not, and are
 * parsed whole to tell): "read", a file its patches only read (a copy's source), or "changed",
 * changed and changed back.
 */
export type RunFile = [pre: Version, post: Version, same?: "read" | "changed"];

export interface PushRun {
  /** Per path the run changes or reads (see RunFile). */
  files: Record<string, RunFile>;
  /** The patches' records, in order, as the stack's state holds them. */
  applied: AppliedPatch[];
  /** Per patch, what its push reported (offsets). */
  notes: string[][];
  /**
   * What the run's key is made of besides the records' names and hashes (runs remembered
   * since December 5 say it): each patch's -pN where it is not 1, and the tree paths no patch
   * may write. A push checks the newest run against them without computing any key.
   */
  strips?: Record<string, number>;
  reserved?: string[];
}

/**
 * The key of a run: the patches' names and push-cache keys, in order, and the tree paths no
 * patch may write (the queue directory when it is in the tree): a run whose paths were
 * checked against those holds while they are the same, so a replay need not check each path again.
 */
export function pushRunKey(patches: { name: string; key: string }[], reserved: string[]): string {
  return `run:${sha1(`${reserved.join("\0")}\n${patches.map((p) => `${p.name}\0${p.key}`).join("\n")}`)}`;
}

/**
 * The object of the last whole run line in the push cache's last 64 KB, as loadRuns would find
 * it (a line torn by a crash, without its tab or id, skipped); null when the file has none at all,
 * undefined when its end holds none (then the whole file is read).
 */
function newestRunInTail(file: string): string | null | undefined {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return undefined; // none yet, or unreadable: loadRuns says which
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, 64 * 1024);
    const buf = Buffer.allocUnsafe(length);
    const read = readSync(fd, buf, 0, length, size - length);
    let text = buf.toString("latin1", 0, read);
    const whole = read === size;
    // A tail that starts inside a line: that line is not known whole.
    if (!whole) text = text.slice(text.indexOf("\n") + 1);
    for (let end = text.length; end > 0; ) {
      const start = text.lastIndexOf("\n", end - 1) + 1;
      const line = text.slice(start, end);
      const tab = line.indexOf("\t");
      const id = line.startsWith("run:") && tab !== -1 ? runObjectOf(line.slice(tab + 1)) : null;
      if (id) return id;
      end = start - 1;
    }
    return whole ? null : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** A run's line in the push cache names its object; `runObjectOf` reads it back (null: not such a line). */
const runLine = (id: string) => `{"object":"${id}"}`;
const runObjectOf = (line: string): string | null => /^\{"object":"([0-9a-f]{40})"\}$/.exec(line)?.[1] ?? null;

/** How many runs of the same patches (over different bases) a push tries, newest first. */
const RUNS_PER_KEY = 4;

export class PushCache {
  /** Per key, its lines' JSON as written (parsed when that key is asked for: a push asks for few). */
  private byPatch: Map<string, string[]> | null = null;
  private parsed = new Map<string, PushCacheEntry[]>();
  private newestRun: string | null = null;
  private pending: string[] = [];
  constructor(private file: string) {}

  private text(): string {
    this.fileText ??= readText(this.file) ?? "";
    return this.fileText;
  }

  private fileText: string | null = null;
  /** The run lines alone (key to lines), while the whole file has not been split: a warm push asks only for runs. */
  private runLines: Map<string, string[]> | null = null;

  private loadRuns(): Map<string, string[]> {
    if (this.byPatch) return this.byPatch;
    if (this.runLines) return this.runLines;
    this.runLines = new Map();
    const text = this.text();
    const next = (from: number) => {
      const at = text.indexOf("\nrun:", from);
      return at === -1 ? -1 : at + 1;
    };
    for (let at = text.startsWith("run:") ? 0 : next(0); at !== -1; ) {
      let end = text.indexOf("\n", at);
      if (end === -1) end = text.length;
      this.take(this.runLines, text, at, end);
      at = next(end);
    }
    return this.runLines;
  }

  /** Files the line at [at, end) of the file's text under its key (a line without a tab, torn by a crash: skipped). */
  private take(into: Map<string, string[]>, text: string, at: number, end: number): void {
    const tab = text.indexOf("\t", at);
    if (tab === -1 || tab > end) return;
    const key = text.slice(at, tab);
    const line = text.slice(tab + 1, end);
    if (key.startsWith("run:")) this.newestRun = runObjectOf(line) ?? this.newestRun;
    const list = into.get(key);
    if (list) list.push(line);
    else into.set(key, [line]);
  }

  private load(): Map<string, string[]> {
    if (this.byPatch) return this.byPatch;
    this.byPatch = new Map();
    this.runLines = null;
    const text = this.text();
    for (let at = 0, end: number; at < text.length; at = end + 1) {
      end = text.indexOf("\n", at);
      if (end === -1) end = text.length;
      this.take(this.byPatch, text, at, end);
    }
    return this.byPatch;
  }

  candidates(patchHash: string): PushCacheEntry[] {
    const known = this.parsed.get(patchHash);
    if (known) return known;
    const entries: PushCacheEntry[] = [];
    for (const line of this.load().get(patchHash) ?? []) {
      try {
        const entry = JSON.parse(line) as PushCacheEntry;
        asPathMap(entry.files);
        entries.push(entry);
      } catch {
        // A line torn by a crash: ignore it, the cache is only an accelerator.
      }
    }
    this.parsed.set(patchHash, entries);
    return entries;
  }

  add(patchHash: string, entry: PushCacheEntry): void {
    if (this.addLine(patchHash, asciiJson(entry))) this.parsed.get(patchHash)?.push(entry);
  }

  /** Adds a line unless the key has it already; says whether it did. */
  private addLine(key: string, line: string): boolean {
    const list = this.load().get(key) ?? [];
    if (list.includes(line)) return false;
    list.push(line);
    this.load().set(key, list);
    this.pending.push(`${key}\t${line}\n`);
    return true;
  }

  /**
   * The object ids of the runs remembered under `key`, newest first: the same patches pushed
   * over different bases (two branches in turn) are different runs.
   */
  runObjects(key: string): string[] {
    const lines = this.loadRuns().get(key) ?? [];
    const ids: string[] = [];
    for (let i = lines.length - 1; i >= 0 && ids.length < RUNS_PER_KEY; i--) {
      const id = runObjectOf(lines[i]);
      if (id) ids.push(id);
    }
    return ids;
  }

  /** Remember that the run `key` is stored as the object `id`. */
  addRun(key: string, id: string): void {
    if (this.runObjects(key).includes(id)) return;
    this.addLine(key, runLine(id));
    this.newestRun = id;
  }

  /** The run remembered last (a new run is stored as its difference from it). */
  lastRunObject(): string | null {
    if (!this.byPatch && !this.runLines) {
      // Found in the file's end, where it is written: a warm push needs no other line, and
      // reading the whole file (~350 KB for a thousand patches) cost ~1 ms of it.
      const fromTail = newestRunInTail(this.file);
      if (fromTail !== undefined) return fromTail;
    }
    this.loadRuns();
    return this.newestRun;
  }

  flush(): void {
    try {
      if (this.pending.length) appendLines(this.file, this.pending.join(""), false);
    } catch {
      // An accelerator only, written after the operation: a file pq may not write (left by a
      // sudo pq) or a full disk loses the lines, and the next push applies those patches again
      // (verify-16 G1: the operation was done, yet pq exited 14 saying nothing was changed).
    }
    this.pending = [];
  }

  /**
   * Remember that this patch turns these versions into these (a push or a refresh made it so).
   * Files it left as they were are kept too (pre = post): the result depends on them (a copy
   * reads its source; a mode change already made did nothing), so a hit checks them as well.
   */
  record(patchHash: string, files: Record<string, FileChange>, renames: [string, string][], notes: string[] = []): void {
    this.add(patchHash, {
      files: pathMap(Object.entries(files).map(([p, c]): [string, [Version, Version]] => [p, [c.pre, c.post]])),
      ...(renames.length ? { renames } : {}),
      ...(notes.length ? { notes } : {}),
    });
  }

  /**
   * A remembered push of this patch whose inputs are exactly the versions `versionOf` gives
   * (the files as the push has planned them so far), or null when the patch has to be
   * applied. With `readable`, only an entry whose results are all still in the object store.
   */
  match(patchHash: string, versionOf: (path: string) => Version, readable?: (id: string) => boolean): PushCacheEntry | null {
    for (const entry of this.candidates(patchHash)) {
      const paths = Object.keys(entry.files);
      if (!paths.every((p) => versionOf(p) === entry.files[p][0])) continue;
      if (readable && !paths.every((p) => entry.files[p][1] === null || readable(versionId(entry.files[p][1])!))) continue;
      return entry;
    }
    return null;
  }
}
