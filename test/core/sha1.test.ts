import { createHash as nodeCreateHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ownSha1, sha1Latin1, sha1OfBytes } from "../../src/core/sha1.js";

const expected = (bytes: Uint8Array) => nodeCreateHash("sha1").update(bytes).digest("hex");

describe("pq's own SHA-1 (short inputs, before node:crypto is loaded)", () => {
  it("gives node:crypto's digest at every block edge and for random bytes", () => {
    for (const length of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 200, 511, 512, 4096, 70_000]) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 131 + length) & 0xff);
      expect(ownSha1(bytes)).toBe(expected(bytes));
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => ownSha1(bytes) === expected(bytes)),
      { numRuns: 300, seed: 20261205 },
    );
  });

  it("hashes strings by their latin1 bytes, short and long, before and after node:crypto is loaded", () => {
    // This file loads node:crypto itself, but src/core/sha1.ts keeps its own handle: the first
    // short inputs go through pq's own code, the long one loads the module, the rest go there.
    const texts = ["", "abc", "\u00e9t\u00e9", "\u20ac\u0101x", "x".repeat(300), "y".repeat(10_000), "z".repeat(40)];
    for (const text of texts) {
      expect(sha1Latin1(text)).toBe(expected(Buffer.from(text, "latin1")));
      expect(sha1OfBytes(Buffer.from(text, "latin1"))).toBe(expected(Buffer.from(text, "latin1")));
    }
    expect(sha1Latin1("abc")).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
  });
});
