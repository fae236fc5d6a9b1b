/**
 * File names in patch text. Inside pq a file name is what Node's file system calls and
 * git's `-z` output give: a JS string of code points (the file's UTF-8 name decoded).
 * Patch text is latin1 bytes, so a name enters it as its UTF-8 bytes and, like git
 * writes it (core.quotePath), C-quoted with octal escapes for every byte outside
 * printable ASCII: `é.txt` is `"\303\251.txt"`. Reading reverses both steps.
 */
import { PqError } from "../errors.js";

/**
 * A file name whose bytes are not UTF-8 (a latin1 name on disk) reaches pq as U+FFFD from
 * Node and git's decoders, and from a patch as bytes with no code points: either way pq
 * cannot name the file exactly, so it refuses instead of writing another name.
 */
export function refuseNonUtf8Name(name: string, where: string): void {
  if (name.includes("\ufffd")) {
    throw new PqError("unsafe-path", `the file name ${JSON.stringify(name)} (${where}) is not valid UTF-8; nothing was changed`, [
      "pq handles UTF-8 file names only: rename the file (convmv or iconv convert names), or use git apply for this patch",
    ]);
  }
}

/** A name's UTF-8 bytes, one char per byte. */
export function nameToBytes(name: string): string {
  if (/^[\x00-\x7f]*$/.test(name)) return name;
  refuseNonUtf8Name(name, "in the tree");
  return Buffer.from(name, "utf8").toString("latin1");
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The name a patch's path bytes stand for: their UTF-8 decoding. Bytes that are not
 * UTF-8 (a latin1 file name in an old patch) are kept one char per byte.
 */
export function bytesToName(bytes: string): string {
  if (/^[\x00-\x7f]*$/.test(bytes) || /[^\x00-\xff]/.test(bytes)) return bytes;
  try {
    return utf8.decode(Buffer.from(bytes, "latin1"));
  } catch {
    return bytes;
  }
}

// git's quote.c: these control characters get a letter, the others three octal digits.
const LETTER: Record<number, string> = { 7: "a", 8: "b", 9: "t", 10: "n", 11: "v", 12: "f", 13: "r" };

/** `prefix + name` as git writes it in a patch: plain when nothing needs quoting, else C-quoted. */
export function quotePath(name: string, prefix = ""): string {
  const bytes = prefix + nameToBytes(name);
  if (!/[\x00-\x1f"\\\x7f-\xff]/.test(bytes)) return bytes;
  let out = '"';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    const code = bytes.charCodeAt(i);
    if (c === '"' || c === "\\") out += "\\" + c;
    else if (LETTER[code]) out += "\\" + LETTER[code];
    else if (code < 0x20 || code >= 0x7f) out += "\\" + code.toString(8).padStart(3, "0");
    else out += c;
  }
  return out + '"';
}

const UNESCAPE: Record<string, string> = { a: "\x07", b: "\b", t: "\t", n: "\n", v: "\v", f: "\f", r: "\r", '"': '"', "\\": "\\" };

/** Undo git's C quoting: `"a/t\303\251st"` → the bytes `a/t\xc3\xa9st` (not yet decoded). */
export function unquoteBytes(raw: string): string {
  if (!raw.startsWith('"')) return raw;
  if (raw.length < 2 || !raw.endsWith('"'))
    throw new PqError("bad-patch", `unterminated quoted file name ${JSON.stringify(raw.slice(0, 60))} in the patch`);
  let out = "";
  for (let i = 1; i < raw.length - 1; i++) {
    const c = raw[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const n = raw[++i];
    const octal = /^[0-3][0-7]{2}/.exec(raw.slice(i, i + 3));
    if (octal) {
      out += String.fromCharCode(parseInt(octal[0], 8));
      i += 2;
    } else if (n !== undefined && UNESCAPE[n] !== undefined && i < raw.length - 1) out += UNESCAPE[n];
    else throw new PqError("bad-patch", `bad escape in the quoted file name ${JSON.stringify(raw.slice(0, 60))} in the patch`);
  }
  return out;
}

/** A file name from a patch's path bytes; bytes that are not UTF-8 are refused (see refuseNonUtf8Name). */
export function patchPathToName(bytes: string): string {
  const name = bytesToName(bytes);
  if (name === bytes && /[\x80-\xff]/.test(bytes)) {
    throw new PqError("unsafe-path", `the file name ${quoteBytes(bytes)} in the patch is not UTF-8; nothing was changed`, [
      "pq handles UTF-8 file names only: rename the file in the patch (as its UTF-8 name), or use git apply for this patch",
    ]);
  }
  return name;
}

/** Bytes as git quotes them, for a message. */
function quoteBytes(bytes: string): string {
  return '"' + [...bytes].map((c) => (c.charCodeAt(0) >= 0x80 ? "\\" + c.charCodeAt(0).toString(8) : c)).join("") + '"';
}

/** A quoted or plain path from a patch, as a file name. */
export function unquotePath(raw: string): string {
  return patchPathToName(unquoteBytes(raw));
}
