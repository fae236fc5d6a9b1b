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
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { PqError } from "../errors.js";
import { sha1 } from "./files.js";

interface Location {
  pack: string;
  offset: number;
  length: number;
}

export class ObjectStore {
  private index: Map<string, Location> | null = null;
  private pending = new Map<string, string>();
  private pendingBytes = 0;
  private fds = new Map<string, number>();
  private seq = 0;
  /** Contents read and verified during this operation: planning, checking and writing read each once. */
  private verified = new Map<string, string>();
  private packSizes = new Map<string, number>();
  /** Ids this process flushed (fsynced) itself. */
  private written = new Set<string>();

  constructor(readonly dir: string) {}

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
    // A copy the index knows of in a truncated pack is as good as none: store it again.
    if (!this.pending.has(id) && this.load().has(id) && !this.present(id)) this.load().delete(id);
    if (!this.pending.has(id) && !this.load().has(id)) {
      this.pending.set(id, content);
      this.pendingBytes += content.length;
      // Bound memory on big pushes: objects may reach the disk early, nothing refers to
      // them until the journal does.
      if (this.pendingBytes > 8 * 1024 * 1024) this.flush();
    }
    return id;
  }

  /**
   * put, for small objects the caller is about to depend on (states, queue files): a copy
   * the index knows of but that no longer reads back (a damaged pack) is stored again.
   */
  putChecked(content: string): string {
    const id = sha1(content);
    if (!this.pending.has(id) && this.load().has(id)) this.verify(id);
    return this.put(content);
  }

  get(id: string): string {
    const pending = this.pending.get(id) ?? this.verified.get(id);
    if (pending !== undefined) return pending;
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
    const buf = Buffer.allocUnsafe(at.length);
    const n = readSync(fd, buf, 0, at.length, at.offset);
    const content = buf.toString("latin1", 0, n);
    if (n !== at.length || sha1(content) !== id) throw this.damaged(id);
    this.verified.set(id, content);
    return content;
  }

  /**
   * Is the object in the store with all its bytes (the pack is long enough), without reading
   * it? Cheap enough to ask for every version a cached push would reuse; a truncated pack
   * is caught here, a corrupted one when the executor reads back what it writes.
   */
  present(id: string): boolean {
    if (this.pending.has(id) || this.written.has(id)) return true;
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
    if (this.pending.has(id) || this.written.has(id)) return true;
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
    return this.pending.has(id) || this.load().has(id) || existsSync(join(this.dir, id.slice(0, 2), id.slice(2)));
  }

  private readLegacy(id: string): string | null {
    try {
      const content = readFileSync(join(this.dir, id.slice(0, 2), id.slice(2)), "latin1");
      return sha1(content) === id ? content : null;
    } catch {
      return null;
    }
  }

  /** Make every object put so far durable: one pack file and its index lines. */
  flush(): void {
    if (!this.pending.size) return;
    mkdirSync(this.dir, { recursive: true });
    const pack = `pack-${Date.now().toString(36)}-${process.pid}-${this.seq++}`;
    const chunks: Buffer[] = [];
    const lines: string[] = [];
    let offset = 0;
    for (const [id, content] of this.pending) {
      const buf = Buffer.from(content, "latin1");
      chunks.push(buf);
      lines.push(`${id} ${pack} ${offset} ${buf.length}\n`);
      this.load().set(id, { pack, offset, length: buf.length });
      offset += buf.length;
    }
    const fd = openSync(join(this.dir, pack), "w");
    try {
      for (const c of chunks) writeSync(fd, c);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const indexFile = join(this.dir, "index");
    appendFileSync(indexFile, lines.join(""), "latin1");
    const ifd = openSync(indexFile, "r+");
    try {
      fsyncSync(ifd);
    } finally {
      closeSync(ifd);
    }
    for (const id of this.pending.keys()) this.written.add(id);
    this.pending.clear();
    this.pendingBytes = 0;
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
    this.verified.clear();
    this.packSizes.clear();
  }

  private damaged(id: string): PqError {
    return new PqError("damaged", `pq's object ${id} is missing or damaged in ${this.dir}`, [
      "the state in .pq/ is damaged; the patches in the queue directory are intact",
    ]);
  }
}
