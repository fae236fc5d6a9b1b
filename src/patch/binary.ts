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
  return [{ kind: m[1] as "literal" | "delta", size: Number(m[2]), data }, i + 1];
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

/** Larger binary files than this (1 GiB) are refused rather than allocated. */
const MAX_BINARY = 2 ** 30;

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
  if (dstSize > MAX_BINARY) throw new PqError("bad-patch", `binary delta claims a ${dstSize}-byte result, more than pq handles`);
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
  if (block.size > MAX_BINARY) throw new PqError("bad-patch", `binary ${block.kind} of ${block.size} bytes is more than pq handles`);
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

/** A "GIT binary patch" body: literal new content, and literal old content as the reverse. */
export function formatBinaryPatch(oldContent: string | null, newContent: string | null): string {
  const block = (content: string | null) => {
    const raw = Buffer.from(content ?? "", "latin1");
    const packed = zlib().deflateSync(raw);
    let text = `literal ${raw.length}\n`;
    for (let k = 0; k < packed.length; k += 52) text += encodeLine(packed.subarray(k, k + 52));
    return text + "\n";
  };
  return `GIT binary patch\n${block(newContent)}${block(oldContent)}`;
}
