/**
 * A --run command's verdict is its exit, as git bisect run takes it (t51 N5: a command that
 * exited 0 and left a background process holding its output was waited for, and with
 * --timeout killed as a hang).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCommand } from "../../src/ci/run-command.js";
import { tempDir, cleanup } from "../helpers/repo.js";

describe("runCommand", () => {
  it("takes the exit of a command that leaves a background process, with or without a limit, and keeps its output", async () => {
    const dir = tempDir();
    try {
      // With a limit the leftover would outlive it (a hang, before); without one it would be waited
      // for, past this test's own limit.
      for (const timeoutMs of [undefined, 3000]) {
        const r = await runCommand("echo before; sleep 40 & echo after; exit 0", dir, { timeoutMs });
        expect(r.timedOut).toBe(false);
        expect(r.code).toBe(0);
        expect(r.output).toContain("before");
        expect(r.output).toContain("after");
      }
      const failed = await runCommand("sleep 6 & exit 3", dir, { timeoutMs: 3000 });
      expect([failed.code, failed.timedOut]).toEqual([3, false]);
      // A command that is itself still running at the limit is a hang.
      const hang = await runCommand("sleep 6", dir, { timeoutMs: 300 });
      expect(hang.timedOut).toBe(true);
    } finally {
      cleanup(dir);
    }
  }, 30_000);

  it("kills what the command left running when it ends, with or without a limit: nothing writes into the next state (t120 N1)", async () => {
    const dir = tempDir();
    try {
      for (const timeoutMs of [undefined, 3000]) {
        const r = await runCommand("(sleep 0.5; echo late > late.txt) >/dev/null 2>&1 & exit 0", dir, { timeoutMs });
        expect(r.code).toBe(0);
        await new Promise((done) => setTimeout(done, 1200));
        expect(existsSync(join(dir, "late.txt"))).toBe(false);
      }
    } finally {
      cleanup(dir);
    }
  }, 30_000);
});
