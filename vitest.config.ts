import { defineConfig } from "vitest/config";
import LongestFirst from "./test/sequencer.js";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    globalSetup: ["test/global-setup.ts"],
    // Tests drive real git, gcc and v86 boots: give them room, but never watch.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    setupFiles: ["test/restore-env.ts"],
    pool: "forks",
    // One worker process runs many files: each file no longer pays a fresh Node, the import of
    // src/ and v86's WebAssembly (import time fell from 27 s to 8 s summed, the run by about a
    // fifth). test/restore-env.ts puts process.env and the directory back after each file.
    isolate: false,
    // vitest 4 defaults to one worker on a 2-core machine; most tests wait on git, gcc and emulated
    // timers, so more overlap well: on this 2-core machine the whole run took 324 s with two workers
    // and 265-275 s with three (December 6, two runs each way, no failures).
    maxWorkers: 3,
    watch: false,
    sequence: { sequencer: LongestFirst },
  },
});
