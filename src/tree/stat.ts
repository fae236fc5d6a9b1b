/**
 * stat(2), lstat(2) and fstat(2) as the few numbers pq compares (size, times, inode, mode).
 *
 * A warm push of a thousand patches stats some 2,300 files (each patch file, each tree file it
 * checks, each file it writes, before and after). Node 20's statSync makes a Stats object with
 * four Date objects for each, about 4 µs a call in a process that has just started, against
 * 1.3 µs for the same system call through the binding Node's own statSync calls (measured in
 * one process over the same 1000 files). So these functions make that call themselves, with
 * the same arguments, and read the numbers Node would have put in the Stats object.
 *
 * The binding is internal to Node: it is used only after one file's answer through it was
 * found identical, field for field, to statSync's. Anything else (another layout, a Node
 * without it, the permission model on) leaves the public calls in use.
 */
import { fstatSync, lstatSync, statSync, type Stats } from "node:fs";

export interface FileStat {
  size: number;
  mtimeMs: number;
  /** The inode change time and the inode: an edit that keeps size and mtime (cp -p, rsync -a, tar x, touch -r) changes them, as git's index knows. */
  ctimeMs: number;
  ino: number;
  mode: number;
}

type StatValues = Float64Array;
interface FsBinding {
  stat(path: string, bigint: false, req: undefined, throwIfNoEntry: boolean): StatValues | undefined;
  lstat(path: string, bigint: false, req: undefined, throwIfNoEntry: boolean): StatValues | undefined;
  fstat(fd: number, bigint: false, req: undefined, shouldNotThrow: boolean): StatValues | undefined;
}

// Where Node's binding puts each number (lib/internal/fs/utils.js, getStatsFromBinding).
const MODE = 1;
const NLINK = 2;
const INO = 7;
const SIZE = 8;
const MTIME_SEC = 12;
const CTIME_SEC = 14;

function stampOf(v: StatValues): FileStat {
  // The arithmetic of Node's msFromTimeSpec, so the milliseconds are the same doubles.
  return {
    size: v[SIZE],
    mtimeMs: v[MTIME_SEC] * 1000 + v[MTIME_SEC + 1] / 1_000_000,
    ctimeMs: v[CTIME_SEC] * 1000 + v[CTIME_SEC + 1] / 1_000_000,
    ino: v[INO],
    mode: v[MODE],
  };
}

export function stampOfStats(st: Stats): FileStat {
  return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: st.mode };
}

const same = (a: FileStat, b: FileStat) =>
  a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino && a.mode === b.mode;

/** undefined: not looked for yet; null: not usable here. */
let binding: FsBinding | null | undefined;

function fsBinding(): FsBinding | null {
  if (binding !== undefined) return binding;
  binding = null;
  const proc = process as unknown as { binding?: (name: string) => unknown; permission?: unknown; noDeprecation?: boolean };
  // The permission model checks paths in Node's JavaScript, which the binding would skip.
  if (typeof proc.binding !== "function" || proc.permission !== undefined) return null;
  const quiet = proc.noDeprecation;
  try {
    // process.binding warns under --pending-deprecation: not pq's user's concern.
    proc.noDeprecation = true;
    const candidate = proc.binding("fs") as Partial<FsBinding> | undefined;
    if (typeof candidate?.stat !== "function" || typeof candidate.lstat !== "function" || typeof candidate.fstat !== "function")
      return null;
    const probe = process.execPath;
    const mine = candidate.stat(probe, false, undefined, true);
    const mineL = candidate.lstat(probe, false, undefined, true);
    if (!(mine instanceof Float64Array) || !(mineL instanceof Float64Array)) return null;
    if (!same(stampOf(mine), stampOfStats(statSync(probe))) || !same(stampOf(mineL), stampOfStats(lstatSync(probe)))) return null;
    binding = candidate as FsBinding;
  } catch {
    binding = null;
  } finally {
    proc.noDeprecation = quiet;
  }
  return binding;
}

/**
 * statSync(path, { throwIfNoEntry: false }) as a stamp: null for a missing file, Node's own
 * error otherwise. `follow` false: lstat.
 */
export function statStamp(path: string, follow = true): FileStat | null {
  const b = path.includes("\0") ? null : fsBinding();
  if (b === null) {
    const st = follow ? statSync(path, { throwIfNoEntry: false }) : lstatSync(path, { throwIfNoEntry: false });
    return st ? stampOfStats(st) : null;
  }
  const v = follow ? b.stat(path, false, undefined, false) : b.lstat(path, false, undefined, false);
  return v === undefined ? null : stampOf(v);
}

/** fstatSync(fd) as a stamp, with the number of links. */
export function fstatStamp(fd: number): FileStat & { nlink: number } {
  const v = fsBinding()?.fstat(fd, false, undefined, false);
  if (v === undefined) {
    // No binding (or no answer from it): Node's call, which also says what went wrong.
    const st = fstatSync(fd);
    return { ...stampOfStats(st), nlink: st.nlink };
  }
  return { ...stampOf(v), nlink: v[NLINK] };
}

/** Whether the stamps come through Node's binding here (its check passed), not through statSync. */
export function throughBinding(): boolean {
  return fsBinding() !== null;
}

/**
 * statStamp, with a path under a file taken as nothing there (ENOTDIR answers as ENOENT does),
 * not as an error: a directory a user replaced by a file leaves its old paths named in status,
 * and commands given them answer (verify-16 G4).
 */
export function stampOrNone(path: string, follow = true): FileStat | null {
  try {
    return statStamp(path, follow);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOTDIR") return null;
    throw e;
  }
}

/** Whether a directory is at `path` (following a link unless `follow` is false), by stampOrNone. */
export function directoryAt(path: string, follow = true): boolean {
  const st = stampOrNone(path, follow);
  return st !== null && isDirectory(st);
}

/** The kind of file a stamp's mode names. */
export const isRegular = (st: FileStat) => (st.mode & 0o170000) === 0o100000;
export const isDirectory = (st: FileStat) => (st.mode & 0o170000) === 0o040000;
export const isSymlink = (st: FileStat) => (st.mode & 0o170000) === 0o120000;

/**
 * How far back from a file time `ms` the same tick of the file system's clock may reach: a whole
 * second on a file system that keeps times in seconds (ext2 and ext3 with small inodes, FAT,
 * HFS+, some network file systems), whose times are whole seconds; else 0 (nanosecond times; a
 * time in whole seconds by chance there only costs a few files read again). A write in that tick
 * after pq took a file's stamp keeps the stamp: entries of that tick are not trusted (see
 * StatCache.save and QueueHashes.save).
 */
export function sameTickSpan(ms: number): number {
  return ms > 0 && ms % 1000 === 0 ? 1000 : 0;
}

/**
 * When a file last changed, as far as the racy rules can tell: the later of its mtime and
 * ctime. A write moves the ctime whatever the mtime is set back to (cp -p, rsync -t, tar x,
 * touch -r), and no one can set the ctime: compared by mtime alone, a same-size copy that
 * kept an old mtime, made in the second pq read the file it replaced, passed for pq's
 * version on a file system with whole-second times (t32 F2, F3).
 */
export function changedAt(st: { mtimeMs: number; ctimeMs: number }): number {
  return Math.max(st.mtimeMs, st.ctimeMs);
}
