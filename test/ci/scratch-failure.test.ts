/**
 * A full disk during a ci or bisect run is said as the operating system's refusal (exit 14),
 * not as a half-done operation to complete nor as a bug of pq (ci-7 #14).
 */
import { describe, expect, it } from "vitest";
import { scratchFailure } from "../../src/ci/scratch.js";
import { PqError } from "../../src/errors.js";

describe("a file system that refuses during pq ci", () => {
  it("is a system refusal naming where pq works, whatever shape the error took", () => {
    const halfDone = new PqError("damaged", "push p1 stopped half way: no space left on device, write", ["its journal ..."], {
      cause: "ENOSPC",
      file: "/tmp/pq-scratch-x/.pq/journal.json",
    });
    const gitFailed = Object.assign(
      new Error("Command failed: git commit -q -m base\nfatal: unable to write loose object file: No space left on device"),
      {
        status: 128,
      },
    );
    const quota = Object.assign(new Error("EDQUOT: disk quota exceeded, write"), { code: "EDQUOT", path: "/tmp/pq-scratch-y/v" });
    for (const e of [halfDone, gitFailed, quota]) {
      const said = scratchFailure(e, "pq ci") as PqError;
      expect(said).toBeInstanceOf(PqError);
      expect(said.code).toBe("system");
      expect(said.exitCode).toBe(14);
      expect(said.message).toMatch(/^pq ci stopped: (no space left on device|a disk quota is used up)/);
      expect(said.details.join("\n")).toContain("nothing is left to complete");
    }
    expect((scratchFailure(quota, "pq bisect") as PqError).message).toContain("(writing /tmp/pq-scratch-y/v)");
    // Anything else passes through as it was.
    const other = new PqError("apply-failed", "p1 does not apply", []);
    expect(scratchFailure(other, "pq ci")).toBe(other);
  });
});
