import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { applyBinary, applyFilePatch, createFilePatch, parsePatch } from "../../src/patch/index.js";
import { makeDelta } from "../../src/patch/binary.js";
import { cleanup, git, makeRepo } from "../helpers/repo.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));

/** Deterministic bytes (a linear congruential generator): the same file every run. */
function noise(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const latin1 = (b: Buffer) => b.toString("latin1");

describe("binary deltas (interop-5 #40)", () => {
  it("a delta made by makeDelta gives the target back through the delta reader, for edits of every kind", () => {
    const source = noise(200_000, 7);
    const edits: [string, Buffer][] = [
      ["one byte changed", Buffer.concat([source.subarray(0, 1000), Buffer.from("X"), source.subarray(1001)])],
      ["bytes inserted", Buffer.concat([source.subarray(0, 5000), noise(300, 9), source.subarray(5000)])],
      ["bytes removed", Buffer.concat([source.subarray(0, 5000), source.subarray(9000)])],
      ["blocks moved", Buffer.concat([source.subarray(150_000), source.subarray(0, 150_000)])],
      ["a copy longer than one copy op", Buffer.concat([source, source.subarray(0, 70_000)])],
      ["nothing shared", noise(5000, 11)],
      ["shorter than a block", Buffer.from("tiny")],
    ];
    for (const [what, target] of edits) {
      const delta = makeDelta(source, target);
      const block = { kind: "delta" as const, size: delta.length, data: deflateSync(delta) };
      expect(applyBinary(latin1(source), block), what).toBe(latin1(target));
    }
  });

  it("a one-byte change to a big binary is a small patch that git apply takes, both ways", () => {
    const big = noise(2_000_000, 3);
    const changed = Buffer.concat([big.subarray(0, 1000), Buffer.from("X"), big.subarray(1001)]);
    const text = createFilePatch({ oldPath: "big.bin", newPath: "big.bin", oldContent: latin1(big), newContent: latin1(changed) });
    expect(text).toMatch(/^delta \d+$/m);
    expect(text).not.toMatch(/^literal /m);
    expect(text.length).toBeLessThan(2000);
    const fp = parsePatch(text).files[0];
    expect(applyBinary(latin1(big), fp.binary!.forward!)).toBe(latin1(changed));
    expect(applyBinary(latin1(changed), fp.binary!.reverse!)).toBe(latin1(big));
    // git reads what pq wrote: forward, then back.
    const repo = makeRepo({ "a.txt": "a\n" });
    dirs.push(repo);
    writeFileSync(join(repo, "big.bin"), big);
    git(repo, "add", "big.bin");
    git(repo, "commit", "-qm", "big");
    writeFileSync(join(repo, "p.diff"), text, "latin1");
    const forward = spawnSync("git", ["apply", "p.diff"], { cwd: repo, encoding: "utf8" });
    expect(forward.status, forward.stderr).toBe(0);
    expect(readFileSync(join(repo, "big.bin")).equals(changed)).toBe(true);
    const back = spawnSync("git", ["apply", "-R", "p.diff"], { cwd: repo, encoding: "utf8" });
    expect(back.status, back.stderr).toBe(0);
    expect(readFileSync(join(repo, "big.bin")).equals(big)).toBe(true);
  });

  it("a file made or removed, or one that shares nothing, is still written literal", () => {
    const a = noise(3000, 1);
    const b = noise(3000, 2);
    expect(createFilePatch({ oldPath: null, newPath: "n.bin", oldContent: null, newContent: latin1(a) })).not.toMatch(/^delta /m);
    expect(createFilePatch({ oldPath: "n.bin", newPath: null, oldContent: latin1(a), newContent: null })).not.toMatch(/^delta /m);
    expect(createFilePatch({ oldPath: "n.bin", newPath: "n.bin", oldContent: latin1(a), newContent: latin1(b) })).not.toMatch(/^delta /m);
  });
});

describe("a binary patch stating a file larger than pq holds (collab-8 C11)", () => {
  it("is refused as a bad patch before anything is inflated, not an internal error", async () => {
    const data = deflateSync(Buffer.alloc(16));
    for (const size of [2 ** 30, 2 ** 28 + 1]) {
      expect(() => applyBinary(null, { kind: "literal", size, data })).toThrow(/more than pq handles \(files up to 256 MiB\)/);
    }
  });
});

describe("a binary patch stating a file larger than pq holds, read", () => {
  it("is refused when the patch is parsed (an import, a sync's check of a remote queue)", () => {
    const small = createFilePatch({ oldPath: null, newPath: "big.bin", oldContent: null, newContent: "\0\x01\x02 small\0" });
    const text = small.replace(/^literal \d+$/m, "literal 1073741824");
    expect(text).toContain("literal 1073741824");
    expect(() => parsePatch(text)).toThrow(/binary literal of 1073741824 bytes is more than pq handles/);
  });
});

describe("a binary file larger than pq holds, written into a patch (verify-11 Z8)", () => {
  it("is refused when the patch is made, not when it is read back", async () => {
    const { formatBinaryPatch } = await import("../../src/patch/binary.js");
    const big = "\0".repeat(2 ** 28 + 1);
    expect(() => formatBinaryPatch(null, big)).toThrow(/a binary file of 268435457 bytes is more than pq puts into a patch/);
  });
});

describe("a binary patch whose index line names another result (t127 N1)", () => {
  it("is refused, as git apply refuses it ('creates incorrect result'); with the right id it applies", () => {
    const repo = makeRepo({ "blob.bin": latin1(noise(4000, 3)) });
    dirs.push(repo);
    writeFileSync(join(repo, "blob.bin"), noise(4000, 5));
    const diff = git(repo, "diff", "--binary", "--full-index");
    const before = latin1(noise(4000, 3));
    const good = parsePatch(diff).files[0];
    expect(applyFilePatch(before, good).ok).toBe(true);
    const forged = diff.replace(/^(index [0-9a-f]{40}\.\.)[0-9a-f]{40}/m, `$1${"1".repeat(40)}`);
    expect(applyFilePatch(before, parsePatch(forged).files[0]).ok).toBe(false);
    writeFileSync(join(repo, "forged.patch"), forged);
    git(repo, "checkout", "blob.bin");
    expect(spawnSync("git", ["apply", "--check", "forged.patch"], { cwd: repo }).status).not.toBe(0);
  });
});
