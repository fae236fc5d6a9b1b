/**
 * File access for the working tree and pq's state. Contents are latin1 strings (one char
 * per byte) so that every byte, line ending and encoding survives unchanged.
 * Synchronous on purpose: a push touches thousands of small files and the sync calls
 * are several times cheaper than promise round-trips for that pattern.
 */
import { failpoint } from "../core/failpoint.js";
import {
  closeSync,
  constants,
  existsSync,
  ftruncateSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  writeFileSync,
  writeSync,
  rmdirSync,
  unlinkSync,
  fstatSync,
  lstatSync,
  readSync,
  readdirSync,
  rmSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { sha1Latin1, sha1OfBytes } from "../core/sha1.js";
import { processAlive } from "./lock.js";
import { fstatStamp, isRegular, statStamp, type FileStat } from "./stat.js";

export function readText(path: string): string | null {
  try {
    return readFileSync(path, "latin1");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

export function writeText(path: string, content: string, mode?: number): void {
  try {
    writeFileSync(path, content, { encoding: "latin1", mode });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content, { encoding: "latin1", mode });
  }
}

/**
 * mkdir -p, one level at a time from the nearest directory that exists. Node 20's recursive
 * mkdirSync loops forever where mkdir keeps answering ENOENT (under /proc: a `pq export --dir
 * /proc/x` spun at full CPU until killed); here such a path fails with that error.
 */
export function makeDirs(path: string): void {
  const missing: string[] = [];
  let dir = resolve(path);
  while (!existsSync(dir)) {
    missing.push(dir);
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
}

/** Write via a temporary file and rename, so a reader sees the old or the new file, never half. */
export function writeAtomic(path: string, content: string, durable = false): void {
  const tmp = `${path}.tmp-${process.pid}`;
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(tmp, "w");
  try {
    try {
      writeAll(fd, content);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    // A full disk: the part written goes, not left beside the file for good (verify-10 Y3).
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Remove a file and then any directories it leaves empty, up to (not including) `stopAt`.
 * `name`: what to unlink, when the file is reached by another name (relative to the
 * directory the process is in, see TreeDirs); `path` still says which directories to try.
 */
export function removeFile(path: string, stopAt: string, name: string = path): void {
  // unlink, not rmSync: rmSync goes through Node's rimraf (a stat and a retry loop first),
  // which cost a pop of a thousand patches more than the unlinks themselves.
  try {
    unlinkSync(name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  let dir = dirname(path);
  // Most directories are not empty, and the refused rmdir's error is the expected answer:
  // made without a stack trace, it costs half as much (a pop of a long series removes hundreds of files).
  const traceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    while (dir.length > stopAt.length && dir.startsWith(stopAt)) {
      try {
        rmdirSync(dir);
      } catch {
        break;
      }
      dir = dirname(dir);
    }
  } finally {
    Error.stackTraceLimit = traceLimit;
  }
}

/**
 * The last few long texts hashed, with their ids: an operation on a thousand-patch stack hashes
 * its ~430 KB state text up to three times (the check of state.json, the store's put, its
 * checked put), each ~0.7 ms; comparing a text with one hashed before costs a pointer
 * comparison when it is the same string and a memcmp when it is a copy.
 */
const recentLongHashes: [text: string, id: string][] = [];
/** Shorter texts are hashed every time (by pq's own SHA-1 while node:crypto is not loaded: see core/sha1.ts). */
const LONG_TEXT = 512;

export function sha1(content: string): string {
  if (content.length < LONG_TEXT) return sha1Latin1(content);
  for (const [text, id] of recentLongHashes) if (text === content) return id;
  const id = sha1Latin1(content);
  knownSha1(content, id);
  return id;
}

/**
 * Remembers a long text's SHA-1 known without hashing it (state.json as pq wrote it, known by
 * its stat: see state.ts): the store's put of the same text then hashes nothing either.
 */
export function knownSha1(content: string, id: string): void {
  if (content.length < LONG_TEXT) return;
  recentLongHashes.unshift([content, id]);
  if (recentLongHashes.length > 4) recentLongHashes.pop();
}

export function sha1Bytes(bytes: Uint8Array): string {
  return sha1OfBytes(bytes);
}

export type { FileStat } from "./stat.js";

export function fileStat(path: string): FileStat | null {
  try {
    // No exception for a missing file: a push of a series that creates files asks about
    // hundreds of them, and a thrown error costs ten times the stat (its stack trace).
    return statStamp(path);
  } catch {
    return null;
  }
}

/**
 * JSON for pq's own files, written with every non-ASCII character as a \u escape: the
 * files are written and read as latin1 like everything else, and an escaped file is the
 * same valid JSON in any encoding, so a file name like `€.txt` survives exactly.
 */
export function asciiJson(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

/**
 * Puts new content at `path`. A regular file with one link and the wanted executable bit is
 * rewritten in place: the new bytes over the old, then cut to their length. Other files are
 * replaced as git checkout and GNU patch do: the old one removed and a new one created (mode
 * from the umask, executable or not). So a tree made with `cp -al` (hard links, the kernel
 * developer's cheap copy) is never changed through the other tree, a symlink is never
 * followed, and a read-only or running file is replaced, not refused.
 *
 * Why in place: on this machine's ext4 creating a file in a tree that was written recently
 * costs 200-450 us (strace -T of git checkout and of pq push alike), and rewriting one costs
 * a tenth of that; a warm push or pop of a long series writes hundreds of files. The new
 * bytes go over the old before the cut, never after a cut to zero: a file truncated to zero
 * and rewritten makes ext4 write its data back at close (auto_da_alloc), which sent 5-10x
 * more sectors to the disk in a pop of 473 files (/proc/diskstats). Returns the file's stat,
 * taken before it is closed (closing changes neither size nor times).
 */
export function replaceFile(
  path: string,
  content: string | Uint8Array,
  executable: boolean,
  /** Shown the file about to be overwritten, before any byte of it changes (from the stat taken anyway). */
  beforeOverwrite?: (st: FileStat) => void,
): FileStat {
  const rewritten = rewriteInPlace(path, content, executable, beforeOverwrite);
  if (typeof rewritten === "object") return rewritten;
  if (rewritten === "other" && beforeOverwrite) {
    const st = lstatSync(path, { throwIfNoEntry: false });
    // A symlink put where the file was is shown too (t32 F6: it was replaced with nothing kept).
    if (st?.isFile() || st?.isSymbolicLink())
      beforeOverwrite({ size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: st.mode });
  }
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const mode = executable ? 0o777 : 0o666;
  let fd: number;
  try {
    fd = openSync(path, "wx", mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    mkdirSync(dirname(path), { recursive: true });
    fd = openSync(path, "wx", mode);
  }
  try {
    writeAll(fd, content);
    return stampOnly(fstatStamp(fd));
  } finally {
    closeSync(fd);
  }
}

/** A stamp without the link count (stamps are kept in the stat cache and compared whole). */
const stampOnly = ({ size, mtimeMs, ctimeMs, ino, mode }: FileStat): FileStat => ({ size, mtimeMs, ctimeMs, ino, mode });

/**
 * The in-place half of replaceFile. Not rewritten: "absent" when there is no file, "other"
 * when there is one not to rewrite in place (or that cannot be opened for writing).
 */
function rewriteInPlace(
  path: string,
  content: string | Uint8Array,
  executable: boolean,
  beforeOverwrite?: (st: FileStat) => void,
): FileStat | "absent" | "other" {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO put where a file was must not block pq until someone reads it (it is
    // refused with ENXIO, or found not a regular file, and replaced).
    fd = openSync(path, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT" ? "absent" : "other";
  }
  try {
    const { nlink, ...before } = fstatStamp(fd);
    if (!isRegular(before) || nlink !== 1 || ((before.mode & 0o111) !== 0) !== executable) return "other";
    beforeOverwrite?.(before);
    writeAll(fd, content, 0);
    failpoint("tree-truncate");
    if (before.size > content.length) ftruncateSync(fd, content.length);
    return stampOnly(fstatStamp(fd));
  } finally {
    closeSync(fd);
  }
}

/**
 * Append whole lines to a line-oriented log (the object index, the operation log, the push
 * cache). A crash while appending may leave the last line without its newline; what is
 * appended next then starts on a line of its own instead of being glued to the torn one
 * (and lost with it, as readers skip lines that do not parse). `durable`: fsynced. Returns
 * the offset in the file where `lines` begin.
 */
export function appendLines(path: string, lines: string, durable: boolean): number {
  let fd = openSync(path, "a+");
  try {
    let st = fstatSync(fd);
    if (st.nlink > 1) {
      // Shared with a hard-linked copy of the tree (cp -al): appended in place, the other tree's
      // log and object index would grow with lines about this one. This tree gets its own copy
      // first, as a tree file written by pq does.
      closeSync(fd);
      writeAtomic(path, readFileSync(path, "latin1"), durable);
      fd = openSync(path, "a+");
      st = fstatSync(fd);
    }
    const size = st.size;
    const last = Buffer.alloc(1);
    const torn = size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
    writeAll(fd, torn ? "\n" + lines : lines);
    if (durable) fsyncSync(fd);
    return torn ? size + 1 : size;
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a latin1 string or bytes in full (a write may take fewer bytes than asked), from
 * `position` or the file's offset; no Buffer is made for a string.
 */
export function writeAll(fd: number, content: string | Uint8Array, position: number | null = null): void {
  const at = (done: number) => (position === null ? null : position + done);
  if (typeof content !== "string") {
    for (let done = 0; done < content.length;) done += writeSync(fd, content, done, content.length - done, at(done));
    return;
  }
  let done = writeSync(fd, content, position, "latin1");
  while (done < content.length) done += writeSync(fd, content.slice(done), at(done), "latin1");
}

/**
 * The temporary copies (`NAME.tmp-PID`, see writeAtomic) a killed pq left in `dir`: removed
 * when their process is gone and `ours(NAME)` says the file is one pq writes there (in the
 * queue directory, only the series and the patch files the interrupted operation wrote).
 */
export function removeDeadTemporaries(dir: string, ours: (name: string) => boolean): void {
  removeDeadLeftovers(dir, (name) => {
    const m = /^(.+)\.tmp-(\d+)$/.exec(name);
    return m && ours(m[1]) ? Number(m[2]) : null;
  });
}

/**
 * Removes what processes that are gone left in `dir` (a SIGKILL skips every cleanup): each
 * entry, file or directory, whose name `pidOf` reads a pid from (null: not such a leftover).
 */
export function removeDeadLeftovers(dir: string, pidOf: (name: string) => number | null): void {
  for (const path of deadLeftovers(dir, pidOf)) rmSync(path, { recursive: true, force: true });
}

/** The paths of the entries in `dir` whose name `pidOf` reads the pid of a process that is gone from. */
export function deadLeftovers(dir: string, pidOf: (name: string) => number | null): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return []; // no listing (no such directory): nothing left there
  }
  return names
    .filter((name) => {
      const pid = pidOf(name);
      return pid !== null && !processAlive(pid);
    })
    .map((name) => join(dir, name));
}

/** A path's real path (symlinks followed), or the path itself when it cannot be resolved (it does not exist). */
export function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * What a descriptor holds, read to its end and refused (by `refusal`) past `limit` bytes: standard
 * input and a pipe given for a file, which can be endless (`pq import - < /dev/zero` read until
 * memory ran out: t127 N12, t131 N4). A non-blocking input with nothing yet is waited for.
 */
export function readUpTo(fd: number, limit: number, refusal: () => Error): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  const chunk = Buffer.alloc(1 << 20);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, chunk, 0, chunk.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      }
      if (code === "EOF") break;
      throw e;
    }
    if (n === 0) break;
    total += n;
    if (total > limit) throw refusal();
    chunks.push(Buffer.from(chunk.subarray(0, n)));
  }
  return Buffer.concat(chunks);
}
