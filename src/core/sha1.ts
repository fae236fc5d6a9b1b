/**
 * SHA-1 without starting OpenSSL when the input is small. Loading node:crypto costs every pq
 * process ~2.7 ms (the binding's start: measured as `node -e 0` against a require of it, and
 * in pq as the command's load with and without `node -r crypto`), while a pop of a thousand
 * patches hashes only a few short texts (an empty stack's state, an index line); so short
 * inputs are hashed here until node:crypto is loaded for a long one or for many, and from then on there.
 * Both give the same digest: the tests compare them over random inputs and the block edges.
 */
import { createRequire } from "node:module";

type Crypto = typeof import("node:crypto");
let crypto: Crypto | undefined;
const loadCrypto = (): Crypto => (crypto ??= createRequire(import.meta.url)("node:crypto") as Crypto);

/** node:crypto's createHash, the module loaded on first use. */
export function createHash(algorithm: string): import("node:crypto").Hash {
  return loadCrypto().createHash(algorithm);
}

/**
 * Inputs up to SMALL bytes are hashed in JavaScript while node:crypto is not loaded, BUDGET bytes
 * in all: before the JIT has compiled it, this code hashes ~3 bytes a microsecond (1.3 ms for
 * 4 KB in a new process), so a process that hashes more loads node:crypto after all.
 */
const SMALL = 512;
const BUDGET = 4096;
let hashedHere = 0;
const here = (length: number): boolean => crypto === undefined && length <= SMALL && (hashedHere += length) <= BUDGET;

/** The SHA-1 of a latin1 string's bytes (each character's low byte, as Buffer.from(text, "latin1")). */
export function sha1Latin1(text: string): string {
  if (here(text.length)) return smallSha1((i) => text.charCodeAt(i) & 0xff, text.length);
  return loadCrypto().createHash("sha1").update(text, "latin1").digest("hex");
}

export function sha1OfBytes(bytes: Uint8Array): string {
  if (here(bytes.length)) return smallSha1((i) => bytes[i], bytes.length);
  return loadCrypto().createHash("sha1").update(bytes).digest("hex");
}

/** pq's own SHA-1 of any bytes, whatever their length (for the tests that compare it with node:crypto's). */
export const ownSha1 = (bytes: Uint8Array): string => smallSha1((i) => bytes[i], bytes.length);

/** FIPS 180-4's SHA-1 over `length` bytes, `byteAt` giving each. */
function smallSha1(byteAt: (i: number) => number, length: number): string {
  const w = new Int32Array(80);
  let h0 = 0x67452301;
  let h1 = 0xefcdab89 | 0;
  let h2 = 0x98badcfe | 0;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0 | 0;
  // The message, a 0x80 byte, zeros, and its length in bits as the last 8 bytes of a 64-byte block.
  const blocks = ((length + 8) >> 6) + 1;
  for (let block = 0; block < blocks; block++) {
    for (let i = 0; i < 16; i++) {
      let word = 0;
      for (let j = 0; j < 4; j++) {
        const at = block * 64 + i * 4 + j;
        word = (word << 8) | (at < length ? byteAt(at) : at === length ? 0x80 : 0);
      }
      w[i] = word;
    }
    if (block === blocks - 1) {
      w[14] = Math.floor(length / 0x20000000);
      w[15] = (length * 8) | 0;
    }
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16];
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let i = 0; i < 80; i++) {
      let f: number;
      let k: number;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc | 0;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6 | 0;
      }
      const t = (((a << 5) | (a >>> 27)) + f + e + k + w[i]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  return [h0, h1, h2, h3, h4].map((h) => (h >>> 0).toString(16).padStart(8, "0")).join("");
}
