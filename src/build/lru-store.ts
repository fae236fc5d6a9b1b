/**
 * A per-user cache folder of small entries, one file per key, shared by concurrent pq
 * processes. Each file is a JSON header line (its key and a sha256 over the rest), a JSON
 * metadata line, then the payload bytes. Writes go to a temporary file renamed into
 * place, so a reader sees a whole entry or none; an entry that does not parse or whose
 * payload does not match its hash is treated as missing (and removed), never trusted.
 * Reading an entry touches its mtime; when the folder grows past its budget the least
 * recently used entries go first.
 */
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeDirs } from "../tree/files.js";

export interface StoreEntry<M> {
  meta: M;
  payload: Buffer;
}

const HEADER_VERSION = 1;
/** A temporary file older than this belongs to a process that died mid-write. */
const STALE_TMP_MS = 60 * 60 * 1000;

export const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

/** Writes per folder since its last pruning, across every store object of this process. */
const writesSincePrune = new Map<string, number>();

export class LruStore<M> {
  constructor(
    readonly dir: string,
    /** Budget in bytes; pruning brings the folder down to 80% of it. */
    readonly maxBytes: number,
  ) {}

  private file(key: string): string {
    if (!/^[0-9a-f]{16,128}$/.test(key)) throw new Error(`bad cache key ${key}`);
    return join(this.dir, key);
  }

  get(key: string): StoreEntry<M> | null {
    const file = this.file(key);
    let raw: Buffer;
    try {
      raw = readFileSync(file);
    } catch {
      return null;
    }
    const entry = decode<M>(raw, key);
    if (!entry) {
      // Corrupt (a torn copy, a disk error, a hand edit): drop it so the next run rewrites it.
      rmSync(file, { force: true });
      return null;
    }
    try {
      const now = new Date();
      utimesSync(file, now, now);
    } catch {
      /* evicted meanwhile by another process: the data we read is still good */
    }
    return entry;
  }

  put(key: string, meta: M, payload: Uint8Array = Buffer.alloc(0)): void {
    const file = this.file(key);
    makeDirs(this.dir); // one level at a time: a read-only file system is said as such (t68 N3)
    const body = Buffer.concat([Buffer.from(JSON.stringify(meta) + "\n", "utf8"), payload]);
    const header = JSON.stringify({ v: HEADER_VERSION, key, sha256: sha256(body), bytes: body.length });
    const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      writeFileSync(tmp, Buffer.concat([Buffer.from(header + "\n", "utf8"), body]));
      renameSync(tmp, file);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    // Each process prunes a folder at its first write there and every 64 writes after: a
    // stream of short runs that each add a few entries keeps the folder bounded too.
    const writes = writesSincePrune.get(this.dir);
    if (writes === undefined || writes + 1 >= 64) this.prune();
    else writesSincePrune.set(this.dir, writes + 1);
  }

  /** Removes least recently used entries until the folder is within 80% of its budget. */
  prune(): { removed: number; bytes: number } {
    writesSincePrune.set(this.dir, 0);
    return pruneFolder(this.dir, this.maxBytes);
  }
}

/**
 * A cache folder brought within its budget: its files least recently used first (by mtime,
 * which users of an entry touch) until it is within 80% of `maxBytes`, and temporaries a killed
 * writer left (`.tmp-` in the name, older than an hour) removed whatever the budget.
 */
export function pruneFolder(dir: string, maxBytes: number): { removed: number; bytes: number } {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return { removed: 0, bytes: 0 };
  }
  const now = Date.now();
  const entries: { path: string; size: number; used: number }[] = [];
  let total = 0;
  let removed = 0;
  for (const name of names) {
    const path = join(dir, name);
    try {
      const st = statSync(path);
      if (name.includes(".tmp-")) {
        if (now - st.mtimeMs > STALE_TMP_MS) rmSync(path, { force: true });
        continue;
      }
      entries.push({ path, size: st.size, used: st.mtimeMs });
      total += st.size;
    } catch {
      /* removed by another process meanwhile */
    }
  }
  if (total <= maxBytes) return { removed, bytes: total };
  entries.sort((a, b) => a.used - b.used);
  const target = maxBytes * 0.8;
  for (const e of entries) {
    if (total <= target) break;
    rmSync(e.path, { force: true });
    total -= e.size;
    removed++;
  }
  return { removed, bytes: total };
}

function decode<M>(raw: Buffer, key: string): StoreEntry<M> | null {
  const nl = raw.indexOf(0x0a);
  if (nl < 0) return null;
  try {
    const header = JSON.parse(raw.subarray(0, nl).toString("utf8")) as { v?: number; key?: string; sha256?: string; bytes?: number };
    const body = raw.subarray(nl + 1);
    if (header.v !== HEADER_VERSION || header.key !== key) return null;
    if (header.bytes !== body.length || header.sha256 !== sha256(body)) return null;
    const metaEnd = body.indexOf(0x0a);
    if (metaEnd < 0) return null;
    return { meta: JSON.parse(body.subarray(0, metaEnd).toString("utf8")) as M, payload: body.subarray(metaEnd + 1) };
  } catch {
    return null;
  }
}
