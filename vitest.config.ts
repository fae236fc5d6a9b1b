import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    globalSetup: ["test/global-setup.ts"],
    // Tests drive real git, gcc and v86 boots: give them room, but never watch.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    watch: false,
  },
});
