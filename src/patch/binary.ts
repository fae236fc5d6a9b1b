/**
 * git's binary patches ("GIT binary patch"): base85 lines carrying zlib-deflated data,
 * either the whole new file (literal) or a delta against the old one, so a format-patch
 * series that touches an image or a firmware blob still applies byte for byte.
 */
import { createRequire } from "node:module";

// zlib is loaded when a binary patch is met: loading it costs every pq start a few ms.
const zlib = (): typeof import("node:zlib") => createRequire(import.meta.url)("node:zlib");
import { PqError } from "../errors.js";
import type { BinaryBlock, BinaryPatch } from "./types.js";

const B85 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~";
const B85_VALUE = new Map([...B85].map((c, i) => [c, i]));

function decodeLine(line: string, lineNo: number): Uint8Array {
  const c = line[0];
  const len = c >= "A" && c <= "Z" ? c.charCodeAt(0) - 64 : c >= "a" && c <= "z" ? c.charCodeAt(0) - 96 + 26 : -1;
  const body = line.slice(1);
  if (len < 0 || body.length % 5 !== 0 || body.length / 5 < Math.ceil(len / 4)) {
    throw new PqError("bad-patch", `damaged binary patch data at line ${lineNo} of the patch`);
  }
  const out = new Uint8Array((body.length / 5) * 4);
  for (let g = 0; g < body.length / 5; g++) {
    let acc = 0;
    for (let k = 0; k < 5; k++) {
      const v = B85_VALUE.get(body[g * 5 + k]);
      if (v === undefined) throw new PqError("bad-patch", `invalid base85 character at line ${lineNo} of the patch`);
      acc = acc * 85 + v;
    }
    out[g * 4] = (acc >>> 24) & 255;
    out[g * 4 + 1] = (acc >>> 16) & 255;
    out[g * 4 + 2] = (acc >>> 8) & 255;
    out[g * 4 + 3] = acc & 255;
  }
  return out.subarray(0, len);
}

function encodeLine(chunk: Uint8Array): string {
  const len = chunk.length;
  let line = len <= 26 ? String.fromCharCode(64 + len) : String.fromCharCode(96 + len - 26);
  for (let g = 0; g < len; g += 4) {
    let acc = 0;
    for (let k = 0; k < 4; k++) acc = acc * 256 + (chunk[g + k] ?? 0);
    let group = "";
    for (let k = 0; k < 5; k++) {
      group = B85[acc % 85] + group;
      acc = Math.floor(acc / 85);
    }
    line += group;
  }
  return line + "\n";
}

function parseBlock(lines: string[], at: number): [BinaryBlock, number] {
  const m = /^(literal|delta) (\d+)\r?\n?$/.exec(lines[at] ?? "");
  if (!m) throw new PqError("bad-patch", `expected "literal N" or "delta N" at line ${at + 1} of the patch`);
  const chunks: Uint8Array[] = [];
  let i = at + 1;
  for (; i < lines.length; i++) {
    const l = lines[i].replace(/\r?\n$/, "");
    if (l === "") break;
    chunks.push(decodeLine(l, i + 1));
  }
  const data = Buffer.concat(chunks);
  const size = Number(m[2]);
  // Said when the patch is read (an import, a sync's check of the remote's queue), not when a push reaches it.
  if (size > MAX_BINARY)
    throw new PqError("bad-patch", `binary ${m[1]} of ${size} bytes is more than pq handles (files up to ${MAX_BINARY / 2 ** 20} MiB)`);
  return [{ kind: m[1] as "literal" | "delta", size, data }, i + 1];
}

/** Parses from a "GIT binary patch" or "Binary files ... differ" line; returns the next line index. */
export function parseBinaryPatch(lines: string[], at: number): [BinaryPatch, number] {
  if (lines[at].startsWith("Binary files ")) return [{ forward: null, reverse: null }, at + 1];
  const [forward, next] = parseBlock(lines, at + 1);
  let reverse: BinaryBlock | null = null;
  let i = next;
  if (i < lines.length && /^(literal|delta) \d+/.test(lines[i])) [reverse, i] = parseBlock(lines, i);
  return [{ forward, reverse }, i];
}

/** A binary patch's data as git writes it: "GIT binary patch", then each block in base85. */
export function formatBinaryBlocks(binary: BinaryPatch): string {
  const block = (b: BinaryBlock) => {
    let text = `${b.kind} ${b.size}\n`;
    for (let k = 0; k < b.data.length; k += 52) text += encodeLine(b.data.subarray(k, k + 52));
    return text + "\n";
  };
  return `GIT binary patch\n${binary.forward ? block(binary.forward) : ""}${binary.reverse ? block(binary.reverse) : ""}`;
}

/**
 * Larger binary files than this (256 MiB) are refused rather than allocated. pq holds a file's
 * content as one string, and V8's strings end at 512 MiB: a patch stating a 1 GiB file ended
 * every colleague's sync with an internal error (collab-8 C11). The half left over is for the
 * copies an apply makes (the old content, the new).
 */
const MAX_BINARY = 2 ** 28;

function readVarint(buf: Uint8Array, pos: { at: number }): number {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos.at++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(b & 0x80)) return value;
  }
}

function applyDelta(base: Uint8Array, delta: Uint8Array): Uint8Array {
  const pos = { at: 0 };
  const srcSize = readVarint(delta, pos);
  const dstSize = readVarint(delta, pos);
  if (srcSize !== base.length) throw new PqError("apply-failed", `binary delta expects a ${srcSize}-byte file, found ${base.length} bytes`);
  if (dstSize > MAX_BINARY)
    throw new PqError(
      "bad-patch",
      `binary delta claims a ${dstSize}-byte result, more than pq handles (files up to ${MAX_BINARY / 2 ** 20} MiB)`,
    );
  const out = new Uint8Array(dstSize);
  let o = 0;
  while (pos.at < delta.length) {
    const cmd = delta[pos.at++];
    if (cmd & 0x80) {
      let off = 0;
      let size = 0;
      for (let k = 0; k < 4; k++) if (cmd & (1 << k)) off |= delta[pos.at++] << (8 * k);
      for (let k = 0; k < 3; k++) if (cmd & (0x10 << k)) size |= delta[pos.at++] << (8 * k);
      if (size === 0) size = 0x10000;
      off >>>= 0;
      if (off + size > base.length || o + size > dstSize) throw new PqError("bad-patch", "binary delta copies outside its source");
      out.set(base.subarray(off, off + size), o);
      o += size;
    } else if (cmd) {
      if (pos.at + cmd > delta.length || o + cmd > dstSize)
        throw new PqError("bad-patch", "binary delta inserts more data than it has or than its result holds");
      out.set(delta.subarray(pos.at, pos.at + cmd), o);
      pos.at += cmd;
      o += cmd;
    } else throw new PqError("bad-patch", "binary delta has an invalid opcode");
  }
  if (o !== dstSize) throw new PqError("bad-patch", "binary delta produced the wrong size");
  return out;
}

/** The new content of a binary file, or null if the block cannot produce it from `old`. */
export function applyBinary(old: string | null, block: BinaryBlock): string {
  if (block.size > MAX_BINARY)
    throw new PqError(
      "bad-patch",
      `binary ${block.kind} of ${block.size} bytes is more than pq handles (files up to ${MAX_BINARY / 2 ** 20} MiB)`,
    );
  let data: Buffer;
  try {
    // Inflating never runs past the size the patch states (a damaged or hostile stream stops there).
    data = zlib().inflateSync(block.data, { maxOutputLength: Math.max(block.size, 1) });
  } catch (e) {
    throw new PqError("bad-patch", `damaged binary patch data (${(e as Error).message})`);
  }
  if (block.kind === "literal") {
    if (data.length !== block.size) throw new PqError("bad-patch", "binary literal has the wrong size");
    return data.toString("latin1");
  }
  return Buffer.from(applyDelta(Buffer.from(old ?? "", "latin1"), data)).toString("latin1");
}

export function isBinaryContent(content: string | null): boolean {
  return content !== null && content.slice(0, 8000).includes("\0");
}

/**
 * A "GIT binary patch" body: the new content, then the old as the reverse. Each is the
 * whole file (literal) or, when the old and new files share enough to make it smaller once
 * deflated, a delta against the other side, as git diff --binary chooses: a one-byte change
 * to a 5 MB file is a few hundred bytes of patch, not two copies of the file (interop-5 #40).
 */
export function formatBinaryPatch(oldContent: string | null, newContent: string | null): string {
  // A patch pq would then refuse to read back (a refresh of a 300 MB file: verify-11 Z8) is refused now.
  const largest = Math.max(oldContent?.length ?? 0, newContent?.length ?? 0);
  if (largest > MAX_BINARY)
    throw new PqError(
      "bad-patch",
      `a binary file of ${largest} bytes is more than pq puts into a patch (files up to ${MAX_BINARY / 2 ** 20} MiB)`,
      ["leave it out of the patch (git can carry it: commit it), or make it smaller"],
    );
  const oldBytes = Buffer.from(oldContent ?? "", "latin1");
  const newBytes = Buffer.from(newContent ?? "", "latin1");
  const block = (target: Buffer, source: Buffer) => {
    let kind = "literal";
    let size = target.length;
    let packed = zlib().deflateSync(target);
    // An empty side (a file made or removed) has nothing to copy from: literal, as git writes it.
    if (source.length && target.length) {
      const delta = makeDelta(source, target);
      const packedDelta = zlib().deflateSync(delta);
      // The stated size of a delta is the delta's own, before deflating.
      if (packedDelta.length < packed.length) [kind, size, packed] = ["delta", delta.length, packedDelta];
    }
    let text = `${kind} ${size}\n`;
    for (let k = 0; k < packed.length; k += 52) text += encodeLine(packed.subarray(k, k + 52));
    return text + "\n";
  };
  return `GIT binary patch\n${block(newBytes, oldBytes)}${block(oldBytes, newBytes)}`;
}

/** Bytes compared as one block when looking for what a delta can copy from its source. */
const DELTA_BLOCK = 16;
/** git's delta opcodes: an insert carries at most 127 bytes, a copy at most 64 KiB. */
const MAX_INSERT = 127;
const MAX_COPY = 0x10000;

/** Bytes appended into a buffer that doubles (a delta of a big file can be most of its size). */
class ByteWriter {
  private bytes = new Uint8Array(256);
  private length = 0;
  push(...values: number[]): void {
    this.room(values.length);
    for (const v of values) this.bytes[this.length++] = v;
  }
  pushBytes(from: Uint8Array, start: number, end: number): void {
    this.room(end - start);
    this.bytes.set(from.subarray(start, end), this.length);
    this.length += end - start;
  }
  done(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
  private room(more: number): void {
    if (this.length + more <= this.bytes.length) return;
    const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.length + more));
    bigger.set(this.bytes.subarray(0, this.length));
    this.bytes = bigger;
  }
}

function writeVarint(out: ByteWriter, value: number): void {
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
}

/**
 * A git delta (the format applyDelta reads) that makes `target` from `source`: the source is
 * indexed in blocks of DELTA_BLOCK bytes, a rolling hash over the target finds where a block
 * recurs, each match is grown both ways and copied; the bytes between go as inserts.
 */
export function makeDelta(source: Uint8Array, target: Uint8Array): Uint8Array {
  const out = new ByteWriter();
  writeVarint(out, source.length);
  writeVarint(out, target.length);
  const PRIME = 0x01000193;
  let power = 1; // PRIME ** (DELTA_BLOCK - 1), for taking the leaving byte out of the hash
  for (let k = 1; k < DELTA_BLOCK; k++) power = Math.imul(power, PRIME);
  const hashAt = (bytes: Uint8Array, at: number) => {
    let h = 0;
    for (let k = 0; k < DELTA_BLOCK; k++) h = (Math.imul(h, PRIME) + bytes[at + k]) | 0;
    return h;
  };
  const index = new Map<number, number>();
  for (let at = 0; at + DELTA_BLOCK <= source.length; at += DELTA_BLOCK) {
    const h = hashAt(source, at);
    if (!index.has(h)) index.set(h, at);
  }
  let pending = 0; // where the bytes not yet written (to go as inserts) begin
  const insert = (end: number) => {
    for (let at = pending; at < end; at += MAX_INSERT) {
      const n = Math.min(MAX_INSERT, end - at);
      out.push(n);
      out.pushBytes(target, at, at + n);
    }
    pending = end;
  };
  const copy = (from: number, length: number) => {
    for (let done = 0; done < length; done += MAX_COPY) {
      const size = Math.min(MAX_COPY, length - done);
      const offset = from + done;
      const args: number[] = [];
      let cmd = 0x80;
      for (let k = 0; k < 4; k++) {
        const byte = Math.floor(offset / 2 ** (8 * k)) & 0xff;
        if (!byte) continue;
        cmd |= 1 << k;
        args.push(byte);
      }
      // A size of 64 KiB is written as no size bytes at all.
      for (let k = 0; k < 3 && size !== MAX_COPY; k++) {
        const byte = (size >> (8 * k)) & 0xff;
        if (!byte) continue;
        cmd |= 0x10 << k;
        args.push(byte);
      }
      out.push(cmd, ...args);
    }
  };
  let at = 0;
  let h = target.length >= DELTA_BLOCK ? hashAt(target, 0) : 0;
  while (at + DELTA_BLOCK <= target.length) {
    const from = index.get(h);
    if (from !== undefined && equalBytes(source, from, target, at, DELTA_BLOCK)) {
      // Grown back over bytes not yet written, then forward as far as both agree.
      let back = 0;
      while (at - back > pending && from - back > 0 && source[from - back - 1] === target[at - back - 1]) back++;
      let length = DELTA_BLOCK;
      while (at + length < target.length && from + length < source.length && source[from + length] === target[at + length]) length++;
      insert(at - back);
      copy(from - back, back + length);
      const end = at + length;
      pending = at = end;
      if (at + DELTA_BLOCK <= target.length) h = hashAt(target, at);
      continue;
    }
    if (at + DELTA_BLOCK < target.length) h = (Math.imul(h - Math.imul(target[at], power), PRIME) + target[at + DELTA_BLOCK]) | 0;
    at++;
  }
  insert(target.length);
  return out.done();
}

function equalBytes(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (a[aAt + k] !== b[bAt + k]) return false;
  return true;
}
