import { describe, expect, it } from "vitest";
import { describePush } from "../../src/tui/use-stack.js";

describe("the TUI's push report", () => {
  it("says what the command line says: offsets and fuzz, patches needing a refresh, binary diffs without data", () => {
    expect(describePush({ pushed: [], top: null })).toBe("nothing to push");
    // As pq push -a says it (t57 N5): where the stack is, and the guarded patches passed over.
    expect(describePush({ pushed: [], top: "p2" }, ["burst1"])).toBe(
      "nothing to push; at: p2 (skipping burst1: guarded off by the selected guards)",
    );
    const line = describePush({
      pushed: [
        { name: "a.patch", cached: false, notes: ["f.c: Hunk #1 succeeded at 14 with fuzz 1."] },
        { name: "b.patch", cached: true, notes: [], binaryWithoutData: ["logo.png"] },
      ],
      top: "b.patch",
    });
    expect(line).toBe(
      "pushed 2 (1 reused); now at: b.patch; 1 hunk(s) with offset or fuzz: a.patch: f.c: Hunk #1 succeeded at 14 with fuzz 1.; binary diff without data: logo.png",
    );
  });

  it("names the guarded patches the push passed over, as pq push does (tui-8 T7)", () => {
    expect(describePush({ pushed: [{ name: "c.patch", cached: false }], top: "c.patch" }, ["xen-only.patch"])).toBe(
      "pushed 1 (0 reused); now at: c.patch; skipped, guarded: xen-only.patch",
    );
  });
});
