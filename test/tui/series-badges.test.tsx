/**
 * The series pane's ci badges: a flaky image's verdict (its boots disagreed) is marked `~`,
 * as its cell is in pq ci's matrix, and the badge column stays aligned around it (t30 F7:
 * the TUI showed a flaky cell's worst verdict as a plain one).
 */
import React from "react";
import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import { SeriesPane } from "../../src/tui/series-pane.js";
import { badgesFromCells } from "../../src/tui/integrations.js";
import type { Cell } from "../../src/ci/report.js";
import { makeTheme } from "../../src/tui/theme.js";

const theme = makeTheme({ NO_COLOR: "1" });
const cell = (state: number, backend: string, outcome: Cell["outcome"], flaky?: Cell["outcome"][]) =>
  ({ state, backend, outcome, ...(flaky ? { flaky } : {}) }) as Cell;

describe("the series pane's badges", () => {
  it("mark a flaky image's verdict with ~ and keep the column aligned", () => {
    const states = [
      { index: 1, patch: "steady.patch" },
      { index: 2, patch: "flaky.patch" },
    ];
    const badges = badgesFromCells(new Map(), states, [
      cell(1, "native", "pass"),
      cell(1, "xen", "skip"),
      cell(2, "native", "panic", ["panic", "pass"]),
      cell(2, "xen", "skip"),
    ]);
    expect(badges.get("flaky.patch")).toEqual({ native: "panic~", xen: "skip" });
    const frame = render(
      <SeriesPane
        rows={[
          { name: "steady.patch", state: "applied", guards: [] },
          { name: "flaky.patch", state: "applied", guards: [] },
        ]}
        cursor={0}
        offset={0}
        height={5}
        width={100}
        top="flaky.patch"
        selected={[]}
        applied={2}
        headers={new Map()}
        headersVersion={0}
        badges={badges}
        focused
        search={null}
        theme={theme}
      />,
    ).lastFrame()!;
    const lines = frame.split("\n");
    const steady = lines.find((l) => l.includes("steady.patch"))!;
    const flaky = lines.find((l) => l.includes("flaky.patch"))!;
    expect(steady).toMatch(/n\+ {2}x- *$/);
    expect(flaky).toMatch(/nP~ x- *$/);
    // Each backend's badges in one column (t32 F5): the xen badge starts at the same place in both rows.
    expect(steady.lastIndexOf("x-")).toBe(flaky.lastIndexOf("x-"));
    expect(steady.indexOf("n+")).toBe(flaky.indexOf("nP~"));
  });

  it("mark only a list of at least two different verdicts (a hand-edited .pq/ci-last.json may hold anything)", () => {
    const states = [{ index: 1, patch: "p.patch" }];
    const badge = (flaky: unknown) =>
      badgesFromCells(new Map(), states, [{ state: 1, backend: "native", outcome: "pass", flaky } as unknown as Cell]).get("p.patch")!
        .native;
    expect(badge(["fail", "pass"])).toBe("pass~");
    for (const odd of [["pass", "pass"], ["pass"], [], ["weird", "zzz"], [["fail"], { x: 1 }, null, 5], "fail,pass", 3, null, { a: 1 }]) {
      expect(badge(odd), JSON.stringify(odd)).toBe("pass");
    }
  });
});
