/**
 * The patch files' hashes by their stat, in a form a push of a thousand patches checks in one
 * pass: `.pq/queuehashes` holds, per patch name, the size, mtime, ctime and inode its file had
 * when pq hashed it, and that hash. The stat cache holds the same answers (under `\0queue/NAME`)
 * and stays the record; this file only makes asking cheap. Asked through the stat cache, each
 * of a warm push's 1000 patches cost a lookup by a made-up key and the parse of its line (2.3 ms
 * in all, half of the patches' share of the plan); here it is four comparisons of numbers read
 * straight out of the file.
 *
 * The same rule as the stat cache's: an answer is trusted only for a file whose mtime is older
 * than this file's own (written after every stat it holds: git's racy rule), and it is only an
 * accelerator: a file that does not read as this format is no answer, never an error.
 *
 * Layout: the magic line (18 bytes), two bytes of padding, the number of entries N (uint32,
 * little-endian), then N × 4 float64 (size, mtimeMs, ctimeMs, ino; 8-byte aligned at 24),
 * N × 40 ASCII hex characters (the hashes), and the N names in UTF-8, each ended by a NUL
 * (a name is a relative path, which cannot hold one).
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { writeAll } from "../tree/files.js";
import { changedAt, sameTickSpan } from "../tree/stat.js";
import type { StatStamp } from "./caches.js";

const MAGIC = "pq queue hashes 1\n";
const HEADER = 24;
const FIELDS = 4;
const HASH = 40;
/**
 * Beyond this many entries a save keeps only those this process noted: names long renamed or
 * deleted go then (each push reads the whole file; 20,000 entries are ~2 MB).
 */
const MAX_ENTRIES = 20_000;
const MAX_BYTES = 32 * 1024 * 1024;

interface Loaded {
  /** Entry number by patch name. */
  index: Map<string, number>;
  names: string[];
  stamps: Float64Array;
  /** All hashes, 40 characters each, in entry order. */
  hashes: string;
  /** The file's mtime when it was read: the racy rule's bound. */
  savedAt: number;
}

const EMPTY: Loaded = { index: new Map(), names: [], stamps: new Float64Array(0), hashes: "", savedAt: 0 };

export class QueueHashes {
  private loaded: Loaded | null = null;
  /** Answers learnt in this process that the file does not give (or not yet trusts). */
  private noted = new Map<string, { st: StatStamp; hash: string }>();

  constructor(private readonly file: string) {}

  /** The hash recorded for patch `name` whose file's stat is still `st`, if this file vouches for it. */
  lookup(name: string, st: StatStamp): string | undefined {
    const l = this.load();
    const i = l.index.get(name);
    if (i === undefined) return undefined;
    const s = l.stamps;
    const at = i * FIELDS;
    if (s[at] !== st.size || s[at + 1] !== st.mtimeMs || s[at + 2] !== st.ctimeMs || s[at + 3] !== st.ino || !(changedAt(st) < l.savedAt)) return undefined;
    return l.hashes.slice(i * HASH, (i + 1) * HASH);
  }

  /** An answer the stat cache gave or a hash just made: kept for the next save unless the file already vouches for it. */
  note(name: string, st: StatStamp, hash: string): void {
    if (!/^[0-9a-f]{40}$/.test(hash) || this.lookup(name, st) === hash) return;
    this.noted.set(name, { st: { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino }, hash });
  }

  /**
   * Written whole (by rename) when something was noted; never durable, never an error. An
   * entry the file read did not vouch for by the racy rule is not kept (git smudges such
   * entries when it writes its index): the new file's later time would vouch for an edit made
   * in that entry's tick after pq read the patch (t28 F1, on file systems whose clock ticks in
   * seconds). Nor is any entry whose mtime is not older than the new file's own.
   */
  save(): void {
    if (!this.noted.size) return;
    const l = this.load();
    const entries: { name: string; stamp: ArrayLike<number>; hash: string }[] = [];
    if (l.names.length + this.noted.size <= MAX_ENTRIES) {
      for (let i = 0; i < l.names.length; i++) {
        const stamp = l.stamps.subarray(i * FIELDS, (i + 1) * FIELDS);
        if (!this.noted.has(l.names[i]) && Math.max(stamp[1], stamp[2]) < l.savedAt - sameTickSpan(l.savedAt)) entries.push({ name: l.names[i], stamp, hash: l.hashes.slice(i * HASH, (i + 1) * HASH) });
      }
    }
    for (const [name, { st, hash }] of this.noted) entries.push({ name, stamp: [st.size, st.mtimeMs, st.ctimeMs, st.ino], hash });
    this.noted.clear();
    this.loaded = null;
    const tmp = `${this.file}.tmp-${process.pid}`;
    try {
      const fd = openSync(tmp, "w");
      try {
        writeAll(fd, layout(entries));
        // The file's time now, on the file system's clock: an entry of that tick or later is left out.
        const now = fstatSync(fd).mtimeMs;
        const older = entries.filter((e) => Math.max(e.stamp[1], e.stamp[2]) < now - sameTickSpan(now));
        if (older.length < entries.length) {
          ftruncateSync(fd, 0);
          writeAll(fd, layout(older), 0);
        }
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.file);
    } catch {
      // Not written (a directory in its place, a full disk): the stat cache still answers.
      rmSync(tmp, { force: true });
    }
  }

  private load(): Loaded {
    if (this.loaded) return this.loaded;
    this.loaded = EMPTY;
    try {
      // The mtime first: should the file be replaced in between, the older time only trusts less.
      const st = statSync(this.file, { throwIfNoEntry: false });
      // Past what MAX_ENTRIES entries take (names of a few hundred bytes), not pq's file: not read (t28 read a 1 GB one).
      if (!st?.isFile() || st.size > MAX_BYTES) return this.loaded;
      const buf = readFileSync(this.file);
      this.loaded = parse(buf, st.mtimeMs) ?? EMPTY;
    } catch {
      /* unreadable: no answers */
    }
    return this.loaded;
  }
}

function parse(buf: Buffer, savedAt: number): Loaded | null {
  if (buf.length < HEADER || buf.toString("latin1", 0, MAGIC.length) !== MAGIC) return null;
  const count = buf.readUInt32LE(20);
  const hashesAt = HEADER + count * FIELDS * 8;
  const namesAt = hashesAt + count * HASH;
  if (namesAt > buf.length || (count > 0 && buf[buf.length - 1] !== 0)) return null;
  const names = buf.toString("utf8", namesAt, buf.length).split("\0");
  names.pop(); // after the last NUL
  if (names.length !== count) return null;
  const hashes = buf.toString("latin1", hashesAt, namesAt);
  if (!/^[0-9a-f]*$/.test(hashes)) return null;
  // A Float64Array needs its start 8-byte aligned in the buffer's memory: copied when it is not.
  const bytes = buf.byteOffset % 8 === 0 ? buf : new Uint8Array(buf);
  const stamps = new Float64Array(bytes.buffer, bytes.byteOffset + HEADER, count * FIELDS);
  const index = new Map<string, number>();
  for (let i = 0; i < count; i++) index.set(names[i], i);
  return { index, names, stamps, hashes, savedAt };
}

/** The file's bytes for `entries` (see the layout at the top). */
function layout(entries: { name: string; stamp: ArrayLike<number>; hash: string }[]): Buffer {
  const count = entries.length;
  const stamps = new Float64Array(count * FIELDS);
  entries.forEach((e, n) => stamps.set(e.stamp, n * FIELDS));
  const nameBytes = Buffer.from(entries.map((e) => `${e.name}\0`).join(""), "utf8");
  const out = Buffer.alloc(HEADER + stamps.byteLength + count * HASH + nameBytes.length);
  out.write(MAGIC, 0, "latin1");
  out.writeUInt32LE(count, 20);
  Buffer.from(stamps.buffer).copy(out, HEADER);
  out.write(entries.map((e) => e.hash).join(""), HEADER + stamps.byteLength, "latin1");
  nameBytes.copy(out, HEADER + stamps.byteLength + count * HASH);
  return out;
}
