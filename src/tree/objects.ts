/**
 * A content-addressed store of file versions (pq's `.pq/objects`). Every version a push
 * replaced or produced is kept here before the working tree changes, which is what lets
 * pop restore exact bytes, the journal roll an interrupted operation forward, and a warm
 * push reuse a result instead of re-applying.
 *
 * Objects are appended to pack files, one per operation, with an index of
 * (id, pack, offset, length) lines: a push of a thousand patches writes two files here,
 * not thousands (one file per object cost more than applying the patches).
 *
 * Every object read is checked against its id, except from a pack that is exactly as pq
 * left it: `seals` records, for each pack pq fsynced, the pack's inode, size, mtime and
 * ctime and the SHA-1 of the index lines written with it. A pop or a warm push of a
 * thousand patches reads 5-15 MB of objects, and hashing them all again cost 8-15 ms of
 * each; any write to a pack (ctime cannot be set back) or any change to its index lines
 * puts its objects back under the hash check.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, type Stats } from "node:fs";
import { join } from "node:path";
import { PqError } from "../errors.js";
import { appendLines, fileStat, sha1, sha1Bytes, writeAll, type FileStat } from "./files.js";

interface Location {
  pack: string;
  offset: number;
  length: number;
  /** Stored as a delta against this object (see `encodeDelta`). */
  base?: string;
  /** Where its line starts in the index file, when it was read from there. */
  line?: number;
}

/** What `flush` recorded of a pack it had fsynced: the pack's identity then, and its index lines. */
interface Seal {
  identity: string;
  linesAt: number;
  linesLength: number;
  linesSha1: string;
}

/** A pack's inode, size, mtime and ctime: a write to it changes the ctime, which nothing can set back. */
function packIdentity(st: Stats): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

/** A new version as pieces of an older one: [start, end) of the base's text, or added text. */
export type DeltaPiece = readonly [number, number] | string;

/**
 * An index line: id, pack, offset, length and, for a delta, its base's id, and its newline:
 * every line is written with one, so a last line without it was torn (its length may be cut short).
 */
const INDEX_LINE = /^([0-9a-f]{40}) ([^ \n]+) (\d+) (\d+)(?: ([0-9a-f]{40}))?\n/gm;

/** The number of the next pack this process makes (see spillPending). */
let packSeq = 0;

/** Deltas on deltas read back in a chain: past this length a version is stored whole. */
const MAX_DELTA_DEPTH = 8;

/** The buffer bytesForWrite reads into, grown as needed. */
let scratch = Buffer.allocUnsafe(0);
function scratchOf(length: number): Buffer {
  if (scratch.length < length) scratch = Buffer.allocUnsafe(Math.max(length, 2 * scratch.length, 64 * 1024));
  return scratch.subarray(0, length);
}

export class ObjectStore {
  private index: PackIndex | null = null;
  /** The index file's length when it was read (latin1: one character per byte). */
  private indexSize = -1;
  /**
   * Objects put but not yet on disk. Kept as strings, not Buffers: a Buffer's memory is
   * returned only when the garbage collector gets to it; a string is converted into a
   * temporary that is freed at once.
   */
  private pending = new Map<string, { data: string; base?: string }>();
  /** Chain lengths of the deltas this process stored or looked up. */
  private depths = new Map<string, number>();
  private pendingBytes = 0;
  /**
   * The pack this operation appends to: objects beyond a small amount are written to it
   * as they come (not yet fsynced, not yet in the index, so nothing can refer to them),
   * which keeps a big push's memory flat; `flush` makes them durable with one fsync.
   */
  private spill: { pack: string; fd: number; size: number; lines: string[]; ids: Map<string, Location> } | null = null;
  private fds = new Map<string, number>();
  /**
   * Contents read and verified during this operation: planning, checking and writing read
   * each once. Read from a pack they stay bytes until someone asks for a string: a pop or a
   * cached push only checks them and writes them to the tree.
   */
  private verified = new Map<string, string | Buffer>();
  /** Each pack's stat, once per operation (null: gone). */
  private packStats = new Map<string, Stats | null>();
  /** The seals file, read on first use; and per pack, whether it is still as sealed. */
  private seals: Map<string, Seal> | null = null;
  private sealIntact = new Map<string, boolean>();
  /** Ids `present` found whole: a warm push asks again for every delta base of a chain. */
  private presentIds = new Set<string>();
  /** Ids this process flushed (fsynced) itself. */
  private written = new Set<string>();

  /** The index file's stat, taken before its text was read (see `sealedLines`). */
  private indexStat: FileStat | null = null;

  constructor(
    readonly dir: string,
    /**
     * Where the index lines' seal checks are remembered (the stack's stat cache), by the index
     * file's stat: a pop or a warm push of a thousand patches hashed ~430 KB of index lines
     * at every command. Without it every command hashes them.
     */
    private readonly stamps?: {
      lookup(key: string, st: FileStat): string | null | undefined;
      record(key: string, st: FileStat, value: string): void;
    },
  ) {}

  /** Put, or spilled to this operation's pack, and not yet flushed. */
  private unflushed(id: string): boolean {
    return this.pending.has(id) || (this.spill?.ids.has(id) ?? false);
  }

  /**
   * The index read again when it grew since it was read: a long-lived store (the TUI's) asked
   * for an object another pq process stored meanwhile. Null when it has not grown.
   */
  private reloadedIndex(): PackIndex | null {
    if (this.index === null) return null;
    let size: number;
    try {
      size = statSync(join(this.dir, "index")).size;
    } catch {
      return null;
    }
    if (size === this.indexSize) return null;
    this.index = null;
    return this.load();
  }

  private load(): PackIndex {
    if (this.index) return this.index;
    let text = "";
    // The stat before the read: a write after it changes the ctime, and the next command hashes the lines again.
    this.indexStat = fileStat(join(this.dir, "index"));
    try {
      text = readFileSync(join(this.dir, "index"), "latin1");
    } catch {
      /* a new store */
    }
    this.index = new PackIndex(text);
    this.indexSize = text.length;
    return this.index;
  }

  put(content: string): string {
    const id = sha1(content);
    if (this.unflushed(id)) return id;
    // A copy the index knows of in a truncated pack is as good as none: store it again.
    if (this.load().has(id) && !this.present(id)) this.load().delete(id);
    if (!this.load().has(id)) this.addPending(id, content);
    return id;
  }

  /**
   * put, for a version made from another stored one (a patch applied to it): written as the
   * pieces that differ, so a push of a long series stores its intermediate versions in a
   * fraction of their size. Whole when the base is not stored, the chain is long, or the
   * delta would not be much smaller.
   */
  putDelta(content: string, baseId: string, pieces: readonly DeltaPiece[]): string {
    const id = sha1(content);
    if (this.unflushed(id)) return id;
    if (this.load().has(id) && !this.present(id)) this.load().delete(id);
    if (this.load().has(id)) return id;
    const depth = this.has(baseId) ? this.depthOf(baseId) + 1 : Infinity;
    const data = depth <= MAX_DELTA_DEPTH ? encodeDelta(pieces) : null;
    if (data === null || data.length * 2 > content.length) {
      this.addPending(id, content);
      return id;
    }
    this.depths.set(id, depth);
    this.addPending(id, data, baseId);
    return id;
  }

  /**
   * A version an operation leaves in the tree is stored whole as well, when this operation
   * stored it as a delta: the next operation that writes it (a warm push to the same top,
   * an undo) then reads it in one piece instead of resolving its chain. The later index
   * line wins when the index is read.
   */
  keepWhole(id: string, content: string): void {
    const pending = this.pending.get(id);
    if (pending?.base) {
      this.pendingBytes += content.length - pending.data.length;
      this.pending.set(id, { data: content });
      this.depths.set(id, 0);
    } else if (this.spill?.ids.get(id)?.base) {
      this.spill.ids.delete(id);
      this.addPending(id, content);
      this.depths.set(id, 0);
    }
  }

  private addPending(id: string, data: string, base?: string): void {
    this.pending.set(id, base ? { data, base } : { data });
    this.pendingBytes += data.length;
    if (this.pendingBytes > 1024 * 1024) this.spillPending();
  }

  /** How many deltas reading the object resolves (0 for a whole object). */
  private depthOf(id: string): number {
    let depth = 0;
    const chain: string[] = [];
    for (let at: string | undefined = id; at !== undefined;) {
      const known = this.depths.get(at);
      if (known !== undefined) {
        depth += known;
        break;
      }
      const base: string | undefined = this.pending.get(at)?.base ?? this.spill?.ids.get(at)?.base ?? this.load().get(at)?.base;
      if (base === undefined) break;
      chain.push(at);
      depth++;
      if (chain.length > 64) break; // a cycle would be a damaged index: stop counting
      at = base;
    }
    chain.forEach((at, i) => this.depths.set(at, depth - i));
    return depth;
  }

  /** Append the pending objects to this operation's pack (no fsync: nothing refers to them yet). */
  private spillPending(): void {
    if (!this.pending.size) return;
    if (!this.spill) {
      mkdirSync(this.dir, { recursive: true });
      // A name no pack has: numbered per process, not per store, and never opened over one that is
      // there. Two stores of one process (a test's, restore-queue's beside the stack's) flushing in
      // one millisecond had both named theirs pack-<ms>-<pid>-0, and "w+" emptied the first's pack.
      let pack: string;
      let fd: number;
      for (;;) {
        pack = `pack-${Date.now().toString(36)}-${process.pid}-${packSeq++}`;
        try {
          fd = openSync(join(this.dir, pack), "wx+");
          break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        }
      }
      this.spill = { pack, fd, size: 0, lines: [], ids: new Map() };
    }
    const spill = this.spill;
    for (const [id, { data, base }] of this.pending) {
      writeAll(spill.fd, data);
      // latin1: one byte per character, so the string's length is the object's length.
      const at: Location = { pack: spill.pack, offset: spill.size, length: data.length, ...(base ? { base } : {}) };
      spill.ids.set(id, at);
      spill.lines.push(`${id} ${spill.pack} ${at.offset} ${at.length}${base ? ` ${base}` : ""}\n`);
      spill.size += data.length;
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

  /**
   * putChecked, for a text that is mostly another stored one (a stack's state after an
   * operation, against the state before it): stored as the middle that differs between the
   * two, the rest copied from `base`. A thousand-patch state is ~430 KB; stored whole, every
   * operation on such a stack grew `.pq/objects` by that much.
   */
  putCheckedLike(content: string, baseId: string, base: string): string {
    const id = sha1(content);
    if (!this.unflushed(id) && this.load().has(id)) this.verify(id);
    return this.putDelta(content, baseId, differingMiddle(base, content));
  }

  get(id: string): string {
    const content = this.read(id, true);
    if (typeof content === "string") return content;
    const made = content.toString("latin1");
    // Asked for as a string once, likely again (a patch applied to it, a merge): keep the string.
    if (this.verified.get(id) === content) this.verified.set(id, made);
    return made;
  }

  /** The content as it was read: bytes when it came from a pack (for writing to a file, no string is made). */
  bytes(id: string): string | Buffer {
    return this.read(id, true);
  }

  /**
   * bytes(), for a caller done with them before it asks the store again (the executor writing
   * them to the tree): a whole object from a pack is read into one buffer used again for the
   * next, and not kept for the operation. A pop writes hundreds of files, and a new buffer for
   * each cost its allocation and, for a large file, its page faults.
   */
  bytesForWrite(id: string): string | Buffer {
    return this.read(id, true, true);
  }

  /**
   * An object's content; `check` hashes it against its id. A delta's bases are read
   * unchecked: the check of the version asked for covers every link of its chain.
   */
  private read(id: string, check: boolean, transient = false): string | Buffer {
    const verified = this.verified.get(id);
    if (verified !== undefined) return verified;
    const pending = this.pending.get(id);
    if (pending !== undefined) return pending.base ? this.resolve(id, pending.data, pending.base, check) : pending.data;
    const spilled = this.spill?.ids.get(id);
    if (spilled) return this.readAt(this.spill!.fd, spilled, id, check);
    const at = this.load().get(id) ?? this.reloadedIndex()?.get(id);
    if (!at) {
      // Stores written before packs kept one file per object: still readable.
      const legacy = this.readLegacy(id);
      if (legacy !== null) return legacy;
      throw this.damaged(id);
    }
    let fd = this.fds.get(at.pack);
    if (fd === undefined) {
      try {
        fd = openSync(join(this.dir, at.pack), "r");
      } catch (e) {
        // A pack the index names is gone (a partial clean-up, a restore of .pq/ from a backup):
        // its objects are lost, as a damaged copy's would be, not an error of the system.
        if ((e as NodeJS.ErrnoException).code === "ENOENT") throw this.damaged(id);
        throw e;
      }
      this.fds.set(at.pack, fd);
    }
    return this.readAt(fd, at, id, check, check && !this.sealedChain(id), transient);
  }

  /** `keep`: the version asked for, kept for the operation; `hash`: checked against its id. */
  private readAt(fd: number, at: Location, id: string, keep: boolean, hash: boolean = keep, transient = false): string | Buffer {
    const buf = transient && !at.base ? scratchOf(at.length) : Buffer.allocUnsafe(at.length);
    const n = readSync(fd, buf, 0, at.length, at.offset);
    if (n !== at.length) throw this.damaged(id);
    if (at.base) return this.resolve(id, buf.toString("latin1"), at.base, keep, hash);
    if (hash && sha1Bytes(buf) !== id) throw this.damaged(id);
    // Kept for the operation only when small: a push of a thousand patches reads back
    // tens of megabytes, which the working set already holds where it needs them.
    if (keep && !transient && buf.length <= 64 * 1024) this.verified.set(id, buf);
    return buf;
  }

  /** A delta's content, made from its base. */
  private resolve(id: string, data: string, baseId: string, keep: boolean, hash: boolean = keep): string {
    const content = decodeDelta(data, text(this.read(baseId, false)));
    if (content === null || (hash && sha1(content) !== id)) throw this.damaged(id);
    if (keep && content.length <= 64 * 1024) this.verified.set(id, content);
    return content;
  }

  private packStat(pack: string): Stats | null {
    let st = this.packStats.get(pack);
    if (st === undefined) {
      st = statSync(join(this.dir, pack), { throwIfNoEntry: false }) ?? null;
      this.packStats.set(pack, st);
    }
    return st;
  }

  private loadSeals(): Map<string, Seal> {
    if (this.seals) return this.seals;
    this.seals = new Map();
    let text = "";
    try {
      text = readFileSync(join(this.dir, "seals"), "latin1");
    } catch {
      /* none yet (or a store older than seals): every object is hashed */
    }
    for (const line of text.split("\n")) {
      const [pack, identity, linesAt, linesLength, linesSha1, more] = line.split(" ");
      // A torn or damaged line seals nothing.
      if (more !== undefined || !linesSha1 || !HEX40.test(linesSha1) || !/^\d+$/.test(linesAt) || !/^\d+$/.test(linesLength)) continue;
      this.seals.set(pack, { identity, linesAt: Number(linesAt), linesLength: Number(linesLength), linesSha1 });
    }
    return this.seals;
  }

  /**
   * Are the pack's index lines as sealed? Known without hashing them when the index file has
   * the very stat it had when they last hashed right (it is only ever appended to, and any
   * write changes its ctime, which nothing can set back).
   */
  private sealedLines(pack: string, seal: Seal): boolean {
    const key = `\0objects/index ${pack}`;
    const st = this.indexStat;
    if (st && this.stamps?.lookup(key, st) === seal.linesSha1) return true;
    if (sha1(this.load().slice(seal.linesAt, seal.linesLength)) !== seal.linesSha1) return false;
    if (st) this.stamps?.record(key, st, seal.linesSha1);
    return true;
  }

  /** Was this location read from a pack, and from index lines, exactly as pq sealed them? */
  private sealed(at: Location): boolean {
    if (at.line === undefined) return false;
    const seal = this.loadSeals().get(at.pack);
    if (!seal || at.line < seal.linesAt || at.line >= seal.linesAt + seal.linesLength) return false;
    let intact = this.sealIntact.get(at.pack);
    if (intact === undefined) {
      const st = this.packStat(at.pack);
      // Whole seconds: on a file system whose clock ticks that slowly (ext3, FAT) a write in the
      // same second as pq's would keep the ctime, so its packs are always hashed.
      intact = st !== null && st.ctimeMs % 1000 !== 0 && packIdentity(st) === seal.identity && this.sealedLines(at.pack, seal);
      this.sealIntact.set(at.pack, intact);
    }
    return intact;
  }

  /** An object, and every base of its delta chain, read from sealed packs: its content needs no hashing. */
  private sealedChain(id: string): boolean {
    let at = this.load().get(id);
    for (let depth = 0; at && depth <= 64; depth++) {
      if (!this.sealed(at)) return false;
      if (at.base === undefined) return true;
      at = this.load().get(at.base);
    }
    return false;
  }

  /**
   * Is the object in the store with all its bytes (the pack is long enough), without reading
   * it? Cheap enough to ask for every version a cached push would reuse; a truncated pack
   * is caught here, a corrupted one when the executor reads back what it writes.
   */
  present(id: string): boolean {
    if (this.unflushed(id) || this.written.has(id) || this.presentIds.has(id)) return true;
    const at: Location | undefined = this.load().get(id);
    if (!at) return this.has(id);
    const size = this.packStat(at.pack)?.size ?? -1;
    const whole = at.offset + at.length <= size && (at.base === undefined || this.present(at.base));
    if (whole) this.presentIds.add(id);
    return whole;
  }

  /** Whether the store has `id` and its content is `text` (read back and checked as any read is). */
  holdsText(id: string, text: string): boolean {
    try {
      return this.present(id) && this.get(id) === text;
    } catch {
      return false; // damaged or gone: not this text's
    }
  }

  /**
   * Whether nothing was written to the store since this instance read its index (the index
   * file's stat is the same, or it was never read) and this instance wrote nothing itself: a
   * command's store made when it opened the stack then serves its operation too.
   */
  unchangedOnDisk(): boolean {
    if (this.spill || this.pending.size) return false;
    if (this.index === null) return true;
    const now = fileStat(join(this.dir, "index"));
    const then = this.indexStat;
    return now === null
      ? then === null
      : then !== null && now.size === then.size && now.mtimeMs === then.mtimeMs && now.ctimeMs === then.ctimeMs && now.ino === then.ino;
  }

  /** Is the object present and intact (its bytes read back and hash to its id)? */
  verify(id: string): boolean {
    // Written and fsynced by this process: known good without reading it back.
    if (this.unflushed(id) || this.written.has(id)) return true;
    // In sealed packs: as good as read back; whoever needs the bytes reads them once.
    if (this.sealedChain(id) && this.present(id)) return true;
    try {
      this.read(id, true);
      return true;
    } catch {
      // Forget the damaged copy, so that a put of the same content stores it again.
      this.load().delete(id);
      this.presentIds.delete(id);
      return false;
    }
  }

  has(id: string): boolean {
    return this.unflushed(id) || this.load().has(id) || existsSync(join(this.dir, id.slice(0, 2), id.slice(2)));
  }

  /** Forget an object found lost or damaged: a put of the same content then stores it again. */
  forget(id: string): void {
    if (this.unflushed(id)) return;
    this.load().delete(id);
    this.presentIds.delete(id);
    this.verified.delete(id);
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
    const lines = spill.lines.join("");
    let linesAt: number;
    try {
      linesAt = appendLines(join(this.dir, "index"), lines, true);
    } catch (e) {
      // An index pq may not append to (a sudo pq left it root's): the pack nothing names goes with the refusal (verify-16).
      rmSync(join(this.dir, spill.pack), { force: true });
      throw e;
    }
    for (const [id, at] of spill.ids) {
      this.load().set(id, at);
      this.written.add(id);
    }
    this.seal(spill.pack, linesAt, lines);
  }

  /**
   * Records the pack as flushed: its identity now, and its index lines. Not fsynced: a seal
   * lost in a crash only means that pack's objects are hashed when read.
   */
  private seal(pack: string, linesAt: number, lines: string): void {
    try {
      const st = statSync(join(this.dir, pack));
      appendLines(join(this.dir, "seals"), `${pack} ${packIdentity(st)} ${linesAt} ${lines.length} ${sha1(lines)}\n`, false);
      this.seals = null;
    } catch {
      /* only an accelerator */
    }
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
    this.verified.clear();
    this.packStats.clear();
    this.sealIntact.clear();
    this.seals = null;
    this.presentIds.clear();
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
      "pq pop -a, then pq push -a, stores the versions again from the tree and the patches (pop rebuilds what it cannot read; over unrefreshed edits, pq pop -a --force backs them up first, in .pq/backups)",
    ]);
  }
}

/**
 * `text` as pieces of `base`: their common start, the part of `text` between, their common
 * end. Compared a block at a time (slices compare natively), then within the block that differs.
 */
export function differingMiddle(base: string, text: string): DeltaPiece[] {
  const limit = Math.min(base.length, text.length);
  const BLOCK = 4096;
  let start = 0;
  while (start + BLOCK <= limit && base.slice(start, start + BLOCK) === text.slice(start, start + BLOCK)) start += BLOCK;
  while (start < limit && base.charCodeAt(start) === text.charCodeAt(start)) start++;
  let end = 0; // length of the common end, not reaching into the common start
  const room = limit - start;
  while (
    end + BLOCK <= room &&
    base.slice(base.length - end - BLOCK, base.length - end) === text.slice(text.length - end - BLOCK, text.length - end)
  )
    end += BLOCK;
  while (end < room && base.charCodeAt(base.length - end - 1) === text.charCodeAt(text.length - end - 1)) end++;
  const pieces: DeltaPiece[] = [];
  if (start > 0) pieces.push([0, start]);
  if (text.length - end > start) pieces.push(text.slice(start, text.length - end));
  if (end > 0) pieces.push([base.length - end, base.length]);
  return pieces;
}

/** A content read as bytes, as the latin1 string the rest of pq works with. */
function text(content: string | Buffer): string {
  return typeof content === "string" ? content : content.toString("latin1");
}

/**
 * A delta as text: `c<start>,<end>\n` copies that range of the base, `i<length>\n` followed
 * by that many characters adds them. Null when there is nothing to encode.
 */
export function encodeDelta(pieces: readonly DeltaPiece[]): string | null {
  if (!pieces.length) return null;
  const out: string[] = [];
  for (const p of pieces) out.push(typeof p === "string" ? `i${p.length}\n${p}` : `c${p[0]},${p[1]}\n`);
  return out.join("");
}

/** The content a delta makes of its base; null when the delta does not parse or reaches outside the base. */
export function decodeDelta(data: string, base: string): string | null {
  const out: string[] = [];
  let at = 0;
  while (at < data.length) {
    const nl = data.indexOf("\n", at);
    if (nl === -1) return null;
    const op = data[at];
    const arg = data.slice(at + 1, nl);
    if (op === "c") {
      const [start, end] = arg.split(",").map(Number);
      if (!(start >= 0 && end >= start && end <= base.length)) return null;
      out.push(base.slice(start, end));
      at = nl + 1;
    } else if (op === "i") {
      const length = Number(arg);
      if (!(length >= 0) || nl + 1 + length > data.length) return null;
      out.push(data.slice(nl + 1, nl + 1 + length));
      at = nl + 1 + length;
    } else return null;
  }
  return out.join("");
}

/**
 * The object index, read once per operation. A pop or a warm push asks for a few hundred of
 * its thousands of lines: one scan finds where each id's line starts (a later line for the
 * same id wins, as `keepWhole` needs), and a line is parsed when its object is asked for.
 * Matching every line with a regexp up front cost 4-7 ms of every such command.
 */
class PackIndex {
  private readonly locations = new Map<string, Location | number>();
  /** Set when a line did not parse: the whole index was then read the careful way. */
  private parsedAll = false;

  constructor(private readonly text: string) {
    for (let at = 0, end: number; at < text.length; at = end + 1) {
      end = text.indexOf("\n", at);
      if (end === -1) end = text.length;
      // A line torn by a crash is caught when parsed: see `parseAll`.
      if (end - at >= 47) this.locations.set(text.slice(at, at + 40), at);
    }
  }

  get(id: string): Location | undefined {
    const found = this.locations.get(id);
    if (typeof found !== "number") return found;
    const at = this.parseLine(found);
    if (at) {
      this.locations.set(id, at);
      return at;
    }
    // Not a whole line: a crash tore it (its objects were never referenced, as the journal
    // is written only after the index is durable). An earlier line for the id may be good.
    this.parseAll();
    return this.get(id);
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  /**
   * The line starting at `start` (its id already known to be there), field by field with
   * indexOf: what INDEX_LINE accepts, or null. A push asks for thousands of lines, and a
   * regexp call per line cost a few ms more than the scan saved.
   */
  private parseLine(start: number): Location | null {
    const t = this.text;
    const end = t.indexOf("\n", start);
    const packAt = start + 41;
    if (end === -1 || t.charCodeAt(start + 40) !== 0x20) return null;
    const offsetAt = t.indexOf(" ", packAt) + 1;
    if (offsetAt <= packAt + 1 || offsetAt > end) return null;
    const lengthAt = t.indexOf(" ", offsetAt) + 1;
    if (lengthAt <= offsetAt + 1 || lengthAt > end) return null;
    let baseAt = t.indexOf(" ", lengthAt) + 1;
    if (baseAt === 0 || baseAt > end) baseAt = end + 1;
    const offset = digits(t, offsetAt, lengthAt - 1);
    const length = digits(t, lengthAt, baseAt - 1);
    if (offset < 0 || length < 0) return null;
    const pack = t.slice(packAt, offsetAt - 1);
    if (baseAt > end) return { pack, offset, length, line: start };
    const base = t.slice(baseAt, end);
    return HEX40.test(base) ? { pack, offset, length, base, line: start } : null;
  }

  /** The index text from `start`, `length` characters (bytes: it is read as latin1). */
  slice(start: number, length: number): string {
    return this.text.slice(start, start + length);
  }

  set(id: string, at: Location): void {
    this.locations.set(id, at);
  }

  delete(id: string): void {
    this.locations.delete(id);
  }

  /** Every line matched whole, torn ones skipped; entries already resolved or changed stay. */
  private parseAll(): void {
    if (this.parsedAll) return;
    this.parsedAll = true;
    const whole = new Map<string, Location>();
    for (const m of this.text.matchAll(INDEX_LINE)) whole.set(m[1], locationOf(m));
    for (const [id, found] of this.locations) {
      if (typeof found !== "number") continue;
      const at = whole.get(id);
      if (at) this.locations.set(id, at);
      else this.locations.delete(id);
    }
  }
}

const HEX40 = /^[0-9a-f]{40}$/;

/** The decimal number in text[from, to), or -1 when that is empty or not all digits. */
function digits(text: string, from: number, to: number): number {
  if (to <= from) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function locationOf(m: RegExpMatchArray): Location {
  const [, , pack, offset, length, base] = m;
  const at: Location = { pack, offset: Number(offset), length: Number(length), line: m.index };
  if (base) at.base = base;
  return at;
}
