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
    // vitest 4 defaults to one worker on a 2-core machine; most tests wait on git, gcc and emulated timers, so two overlap well.
    maxWorkers: 2,
    watch: false,
    sequence: { sequencer: LongestFirst },
  },
});
