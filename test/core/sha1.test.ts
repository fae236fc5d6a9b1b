import { createHash as nodeCreateHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sha1Latin1, sha1OfBytes } from "../../src/core/sha1.js";

const expected = (bytes: Uint8Array) => nodeCreateHash("sha1").update(bytes).digest("hex");

describe("SHA-1 of short inputs without node:crypto", () => {
  // This test file loads node:crypto itself, but src/core/sha1.ts keeps its own handle: until
  // it loads the module for a long input, short ones go through its own implementation.
  it("gives node:crypto's digest at every block edge and for random bytes and strings", () => {
    for (const length of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 1000, 4095, 4096]) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 131 + length) & 0xff);
      expect(sha1OfBytes(bytes)).toBe(expected(bytes));
      expect(sha1Latin1(Buffer.from(bytes).toString("latin1"))).toBe(expected(bytes));
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(sha1OfBytes(bytes)).toBe(expected(bytes));
        expect(sha1Latin1(Buffer.from(bytes).toString("latin1"))).toBe(expected(bytes));
      }),
      { numRuns: 300, seed: 20261205 },
    );
    // Characters beyond latin1 count by their low byte, as Buffer.from(text, "latin1") takes them.
    expect(sha1Latin1("\u20ac\u0101x")).toBe(expected(Buffer.from("\u20ac\u0101x", "latin1")));
  });

  it("hashes long inputs through node:crypto, and short ones the same way after that", () => {
    const long = new Uint8Array(10_000).map((_, i) => i & 0xff);
    expect(sha1OfBytes(long)).toBe(expected(long));
    expect(sha1Latin1("abc")).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
  });
});
