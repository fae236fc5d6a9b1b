import { defineConfig } from "vitest/config";
import LongestFirst from "./test/sequencer.js";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    globalSetup: ["test/global-setup.ts"],
    // Tests drive real git, gcc and v86 boots: give them room, but never watch.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // A fresh worker process for each file. Node 20 starts every program (git, gcc, the tests' own)
    // with fork(), whose cost grows with the forking process's memory: workers that ran many files
    // (isolate: false) grew to 250-400 MB, and each of the suite's tens of thousands of git starts
    // paid 10-25 ms for it. Fresh workers cost ~30 s of imports summed, and the run got faster:
    // 312-322 s with three shared workers, 287 s with four fresh ones (December 7, this 2-core
    // machine under load; notes/perf.md, thirty-ninth session). A file's changes to process.env or
    // the directory end with its process.
    isolate: true,
    // Most tests wait on git, gcc and emulated timers, so more workers than cores overlap well.
    maxWorkers: 4,
    watch: false,
    sequence: { sequencer: LongestFirst },
  },
});
