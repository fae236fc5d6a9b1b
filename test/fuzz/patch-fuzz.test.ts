/**
 * A short run of the patch fuzzer on the TypeScript sources (the long run, `npm run
 * fuzz:patch`, drives the compiled dist/ for a million inputs and watches for hangs).
 */
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { PqError } from "../../src/errors.js";
import * as engine from "../../src/patch/index.js";
import { loadCorpus, makeInput, runOne, type FuzzFailure } from "./patch-fuzz-core.mjs";

describe("patch engine fuzz (short)", () => {
  it("2,000 random and mutated patches end in success or a PqError, seed 20261125", () => {
    const corpus = loadCorpus(resolve(__dirname, "../.."));
    expect(corpus.patches.length).toBeGreaterThan(20);
    const seed = 20261125;
    const failures: (FuzzFailure & { i: number })[] = [];
    for (let i = 0; i < 2000; i++) {
      const failure = runOne(makeInput(seed, i, corpus), corpus, engine, PqError);
      if (failure) failures.push({ i, ...failure });
    }
    expect(failures.map((f) => `input ${f.i}: ${f.kind} in ${f.stage}: ${f.message.split("\n")[0]}`)).toEqual([]);
  });
});
