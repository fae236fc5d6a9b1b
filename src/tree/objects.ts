/**
 * A content-addressed store of file versions (pq's `.pq/objects`). Every version a push
 * replaced or produced is kept here before the working tree changes, which is what lets
 * pop restore exact bytes, the journal roll an interrupted operation forward, and a warm
 * push reuse a result instead of re-applying.
 *
 * Objects are appended to pack files, one per operation, with an index of
 * (id, pack, offset, length) lines: a push of a thousand patches writes two files here,
 * not thousands (one file per object cost more than applying the patches).
 */
import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { PqError } from "../errors.js";
import { sha1, sha1Bytes } from "./files.js";

interface Location {
  pack: string;
  offset: number;
  length: number;
}

export class ObjectStore {
  private index: Map<string, Location> | null = null;
  /**
   * Objects put but not yet on disk. Kept as strings, not Buffers: a Buffer's memory is
   * returned only when the garbage collector gets to it; a string is converted into a
   * temporary that is freed at once.
   */
  private pending = new Map<string, string>();
  private pendingBytes = 0;
  /**
   * The pack this operation appends to: objects beyond a small amount are written to it
   * as they come (not yet fsynced, not yet in the index, so nothing can refer to them),
   * which keeps a big push's memory flat; `flush` makes them durable with one fsync.
   */
  private spill: { pack: string; fd: number; size: number; lines: string[]; ids: Map<string, Location> } | null = null;
  private fds = new Map<string, number>();
  private seq = 0;
  /** Contents read and verified during this operation: planning, checking and writing read each once. */
  private verified = new Map<string, string>();
  private packSizes = new Map<string, number>();
  /** Ids this process flushed (fsynced) itself. */
  private written = new Set<string>();

  constructor(readonly dir: string) {}

  /** Put, or spilled to this operation's pack, and not yet flushed. */
  private unflushed(id: string): boolean {
    return this.pending.has(id) || (this.spill?.ids.has(id) ?? false);
  }

  private load(): Map<string, Location> {
    if (this.index) return this.index;
    this.index = new Map();
    let text = "";
    try {
      text = readFileSync(join(this.dir, "index"), "latin1");
    } catch {
      /* a new store */
    }
    for (const line of text.split("\n")) {
      const [id, pack, offset, length] = line.split(" ");
      // A line torn by a crash is incomplete; its objects were never referenced (the
      // journal is written only after the index is durable).
      if (!length || !/^[0-9a-f]{40}$/.test(id)) continue;
      this.index.set(id, { pack, offset: Number(offset), length: Number(length) });
    }
    return this.index;
  }

  put(content: string): string {
    const id = sha1(content);
    if (this.unflushed(id)) return id;
    // A copy the index knows of in a truncated pack is as good as none: store it again.
    if (this.load().has(id) && !this.present(id)) this.load().delete(id);
    if (!this.load().has(id)) {
      this.pending.set(id, content);
      this.pendingBytes += content.length;
      if (this.pendingBytes > 1024 * 1024) this.spillPending();
    }
    return id;
  }

  /** Append the pending objects to this operation's pack (no fsync: nothing refers to them yet). */
  private spillPending(): void {
    if (!this.pending.size) return;
    if (!this.spill) {
      mkdirSync(this.dir, { recursive: true });
      const pack = `pack-${Date.now().toString(36)}-${process.pid}-${this.seq++}`;
      this.spill = { pack, fd: openSync(join(this.dir, pack), "w+"), size: 0, lines: [], ids: new Map() };
    }
    const spill = this.spill;
    for (const [id, content] of this.pending) {
      writeAll(spill.fd, content);
      // latin1: one byte per character, so the string's length is the object's length.
      const at = { pack: spill.pack, offset: spill.size, length: content.length };
      spill.ids.set(id, at);
      spill.lines.push(`${id} ${spill.pack} ${at.offset} ${at.length}\n`);
      spill.size += content.length;
    }
    this.pending.clear();
    this.pendingBytes = 0;
  }

  /**
   * put, for small objects the caller is about to depend on (states, queue files): a copy
   * the index knows of but that no longer reads back (a damaged pack) is stored again.
   */
  putChecked(content: string): string {
    const id = sha1(content);
    if (!this.unflushed(id) && this.load().has(id)) this.verify(id);
    return this.put(content);
  }

  get(id: string): string {
    const verified = this.verified.get(id);
    if (verified !== undefined) return verified;
    const pending = this.pending.get(id);
    if (pending !== undefined) return pending;
    const spilled = this.spill?.ids.get(id);
    if (spilled) return this.readAt(this.spill!.fd, spilled, id);
    const at = this.load().get(id);
    if (!at) {
      // Stores written before packs kept one file per object: still readable.
      const legacy = this.readLegacy(id);
      if (legacy !== null) return legacy;
      throw this.damaged(id);
    }
    let fd = this.fds.get(at.pack);
    if (fd === undefined) {
      fd = openSync(join(this.dir, at.pack), "r");
      this.fds.set(at.pack, fd);
    }
    return this.readAt(fd, at, id);
  }

  private readAt(fd: number, at: Location, id: string): string {
    const buf = Buffer.allocUnsafe(at.length);
    const n = readSync(fd, buf, 0, at.length, at.offset);
    if (n !== at.length || sha1Bytes(buf) !== id) throw this.damaged(id);
    const content = buf.toString("latin1");
    // Kept for the operation only when small: a push of a thousand patches reads back
    // tens of megabytes, which the working set already holds where it needs them.
    if (content.length <= 64 * 1024) this.verified.set(id, content);
    return content;
  }

  /**
   * Is the object in the store with all its bytes (the pack is long enough), without reading
   * it? Cheap enough to ask for every version a cached push would reuse; a truncated pack
   * is caught here, a corrupted one when the executor reads back what it writes.
   */
  present(id: string): boolean {
    if (this.unflushed(id) || this.written.has(id)) return true;
    const at = this.load().get(id);
    if (!at) return this.has(id);
    let size = this.packSizes.get(at.pack);
    if (size === undefined) {
      try {
        size = statSync(join(this.dir, at.pack)).size;
      } catch {
        size = -1;
      }
      this.packSizes.set(at.pack, size);
    }
    return at.offset + at.length <= size;
  }

  /** Is the object present and intact (its bytes read back and hash to its id)? */
  verify(id: string): boolean {
    // Written and fsynced by this process: known good without reading it back.
    if (this.unflushed(id) || this.written.has(id)) return true;
    try {
      this.get(id);
      return true;
    } catch {
      // Forget the damaged copy, so that a put of the same content stores it again.
      this.load().delete(id);
      return false;
    }
  }

  has(id: string): boolean {
    return this.unflushed(id) || this.load().has(id) || existsSync(join(this.dir, id.slice(0, 2), id.slice(2)));
  }

  private readLegacy(id: string): string | null {
    try {
      const content = readFileSync(join(this.dir, id.slice(0, 2), id.slice(2)), "latin1");
      return sha1(content) === id ? content : null;
    } catch {
      return null;
    }
  }

  /** Make every object put so far durable: one pack file (fsynced), then its index lines. */
  flush(): void {
    this.spillPending();
    const spill = this.spill;
    if (!spill) return;
    this.spill = null;
    try {
      fsyncSync(spill.fd);
    } finally {
      closeSync(spill.fd);
    }
    const indexFile = join(this.dir, "index");
    appendFileSync(indexFile, spill.lines.join(""), "latin1");
    const ifd = openSync(indexFile, "r+");
    try {
      fsyncSync(ifd);
    } finally {
      closeSync(ifd);
    }
    for (const [id, at] of spill.ids) {
      this.load().set(id, at);
      this.written.add(id);
    }
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
    this.verified.clear();
    this.packSizes.clear();
    // Objects never flushed belong to an operation that did not happen: nothing refers to them.
    if (this.spill) {
      closeSync(this.spill.fd);
      rmSync(join(this.dir, this.spill.pack), { force: true });
      this.spill = null;
    }
    this.pending.clear();
    this.pendingBytes = 0;
  }

  private damaged(id: string): PqError {
    return new PqError("damaged", `pq's object ${id} is missing or damaged in ${this.dir}`, [
      "the state in .pq/ is damaged; the patches in the queue directory are intact",
    ]);
  }
}

/** Writes a latin1 string in full (a write may take fewer bytes than asked). */
function writeAll(fd: number, content: string): void {
  let done = writeSync(fd, content, null, "latin1");
  while (done < content.length) done += writeSync(fd, content.slice(done), null, "latin1");
}
