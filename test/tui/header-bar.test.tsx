/**
 * The TUI's header line says what a stopped sync waits for, as pq status does (t37 N10): the
 * conflicts to resolve, then a patch a --continue found not applying, then --continue itself.
 */
import React from "react";
import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import { HeaderBar, StatusBar } from "../../src/tui/status-bar.js";
import type { StackView } from "../../src/tui/use-stack.js";
import type { SharedStatus } from "../../src/collab/status.js";
import { makeTheme } from "../../src/tui/theme.js";

const theme = makeTheme({ NO_COLOR: "1" });
const view = { rows: [], top: null, appliedCount: 0, topIndex: -1, selected: [], status: null } as unknown as StackView;
const stopped = (over: Partial<SharedStatus>): SharedStatus => ({
  kind: "own",
  upstream: "origin/main",
  ahead: 1,
  behind: 2,
  uncommitted: ["p2.patch"],
  conflicted: ["p2.patch"],
  conflicts: [{ patch: "p2.patch", kind: "content" }],
  unresolved: ["p2.patch"],
  notApplying: [],
  syncInProgress: true,
  ...over,
});
/** The header line as a 200-column terminal shows it (ink-testing-library's own is 100 wide). */
const header = (sync: SharedStatus | null) => {
  const bar = <HeaderBar view={view} queue="/q" sync={sync} width={200} theme={theme} />;
  const ui = render(bar);
  Object.defineProperty(ui.stdout, "columns", { value: 200, configurable: true });
  ui.rerender(bar);
  return ui.lastFrame();
};

describe("the TUI's header line on a shared queue", () => {
  it("says ahead and behind, and what a stopped sync waits for", () => {
    expect(header(stopped({}))).toContain(
      "pq · 0/0 applied  ·  sync stopped on conflicts in p2.patch  ·  shared (own repository): 1 ahead, 2 behind origin/main · 1 uncommitted",
    );
    expect(header(stopped({ unresolved: [] }))).toContain("sync stopped, its conflicts resolved: pq sync --continue");
    expect(
      header(stopped({ unresolved: [], notApplying: [{ patch: "p3.patch", unchanged: {}, failures: ["b.c: hunk #1 failed"] }] })),
    ).toContain("sync stopped: p3.patch does not apply over the resolution");
    expect(header(null)).not.toContain("shared");
  });
});

describe("the TUI's status line under a stopped sync (t130 N6)", () => {
  it("says what the sync waits for whole, a header to choose too, where the top line only names it", () => {
    const sync = stopped({ conflicts: [{ patch: "p2.patch", kind: "header" }] });
    const bar = <StatusBar view={{ ...view, status: { pending: [] } } as unknown as StackView} sync={sync} width={200} theme={theme} />;
    const ui = render(bar);
    Object.defineProperty(ui.stdout, "columns", { value: 200, configurable: true });
    ui.rerender(bar);
    expect(ui.lastFrame()!.replace(/\s+/g, " ")).toContain("choose p2.patch's header with pq header NAME -m/-u; then pq sync --continue");
  });
});
