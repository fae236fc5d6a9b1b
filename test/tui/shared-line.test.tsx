import React from "react";
import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import { SharedLine } from "../../src/tui/shared-line.js";

describe("the TUI's shared-queue line", () => {
  it("shows ahead/behind and a stopped sync's conflicts, as status --json does", () => {
    const { lastFrame } = render(
      <SharedLine
        shared={{
          kind: "own",
          upstream: "origin/main",
          ahead: 1,
          behind: 2,
          uncommitted: [],
          conflicted: ["p1.patch"],
          conflicts: [{ patch: "p1.patch", kind: "content" }],
          syncInProgress: true,
        }}
      />,
    );
    expect(lastFrame()).toContain("shared queue (own repository): 1 ahead, 2 behind origin/main · sync stopped on conflicts in p1.patch");
    expect(render(<SharedLine shared={null} />).lastFrame()).toBe("");
  });
});
