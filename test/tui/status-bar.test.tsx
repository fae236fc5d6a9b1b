/**
 * The status lines under a long refusal or message: the tree's own warning keeps its line
 * (tui-22 F3), and a message cut at the terminal's width points to `!` as an error does (F5).
 */
import React from "react";
import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import { StatusBar } from "../../src/tui/status-bar.js";
import type { StackView } from "../../src/tui/use-stack.js";
import { makeTheme } from "../../src/tui/theme.js";

const theme = makeTheme({ NO_COLOR: "1" });
function view(extra: Partial<StackView>): StackView {
  return {
    rows: [],
    top: "p1",
    appliedCount: 1,
    topIndex: 0,
    selected: [],
    status: { top: "p1", applied: 1, unapplied: 0, pending: ["c.txt"], untracked: [], guards: [] },
    busy: null,
    progress: null,
    message: null,
    error: null,
    generation: 0,
    rebase: null,
    ...extra,
  };
}
/** The top patch changed in the queue since it was pushed, and a.c edited: two of pq status's warnings. */
const topChangedAndEdited = {
  top: "p1",
  applied: 1,
  unapplied: 0,
  pending: ["a.c"],
  untracked: [],
  guards: [],
  topChangedInQueue: true,
} as StackView["status"];
const longRefusal = {
  code: "refused",
  message: "/tmp/t has no build.json: pq builds and boots trees that describe their build in one (the kernel model's)",
  details: [
    "for any other project, pq ci --run 'make && make check' judges every state of the stack by a command (exit 0 passes, 125 skips, 1-127 fails)",
  ],
};

describe("the status lines (tui-22 F3, F5)", () => {
  it("keep the unrefreshed files in view under a refusal that would fill them, cutting the refusal with (! for all)", () => {
    const frame = render(<StatusBar view={view({ error: longRefusal })} width={80} theme={theme} />).lastFrame()!;
    expect(frame).toContain("unrefreshed: c.txt");
    expect(frame).toContain("(! for all)");
    // With nothing to warn of, the refusal has every line.
    const clean = view({ error: longRefusal, status: { top: "p1", applied: 1, unapplied: 0, pending: [], untracked: [], guards: [] } });
    expect(render(<StatusBar view={clean} width={80} theme={theme} />).lastFrame()!).not.toContain("unrefreshed");
  });

  it("cut a long message with the same pointer to the rest", () => {
    const message =
      "pushed 1 (0 reused); now at: 08-last; 1 hunk(s) with offset or fuzz: 08-last: b.txt: Hunk #1 succeeded at 25 with fuzz 1.; skipped, guarded: 06-will-fail";
    // The pending line and a fuzz line need two of the three lines: the message has one.
    const status = {
      top: "p1",
      applied: 1,
      unapplied: 0,
      pending: [],
      untracked: [],
      guards: [],
      inexact: [{ name: "08-last", reason: "fuzz" as const }],
    };
    const frame = render(<StatusBar view={view({ message, status })} width={80} theme={theme} />).lastFrame()!;
    expect(frame).toContain("(! for all)");
    expect(frame).toContain("applied only with fuzz: 08-last");
    // With a line to spare, the message goes on over it.
    const spare = render(<StatusBar view={view({ message, status: { ...status, inexact: [] } })} width={80} theme={theme} />).lastFrame()!;
    expect(spare).toContain("skipped, guarded: 06-will-fail");
    expect(render(<StatusBar view={view({ message: "popped 1" })} width={80} theme={theme} />).lastFrame()!).not.toContain("(! for all)");
  });
});

describe("the status line of a tree that lost what the patches put there (t44 N2, N6)", () => {
  it("says the changes or files are gone and the way back, not 'unrefreshed'", () => {
    const base = { top: "p2", applied: 2, unapplied: 0, pending: ["a.txt", "b.txt"], untracked: [], guards: [] };
    const gone = render(
      <StatusBar
        view={view({ status: { ...base, changesGone: { files: ["a.txt", "b.txt"], patches: ["p1"] } } })}
        width={200}
        theme={theme}
      />,
    ).lastFrame()!;
    expect(gone).toContain("the applied patches' changes are gone from the tree (git reset --hard, checkout or stash?)");
    expect(gone).not.toContain("unrefreshed:");
    const cleaned = render(
      <StatusBar view={view({ status: { ...base, filesGone: ["new.txt"] } })} width={200} theme={theme} />,
    ).lastFrame()!;
    expect(cleaned).toContain("new.txt, which the patches leave, gone from the tree (git clean -fd, or moved?): pq revert puts them back");
  });
});

describe("the status lines with more than one warning of pq status's (t54 N7)", () => {
  it("show each where the lines have room: the top changed in the queue, and the unrefreshed files", () => {
    const status = topChangedAndEdited;
    const frame = render(<StatusBar view={view({ status })} width={100} theme={theme} />).lastFrame()!;
    expect(frame).toContain("the top patch changed in the queue since it was pushed");
    expect(frame).toContain("unrefreshed: a.c");
    // Under a message, the first still shows.
    const busy = render(<StatusBar view={view({ status, message: "pushed p1" })} width={100} theme={theme} />).lastFrame()!;
    expect(busy).toContain("the top patch changed in the queue since it was pushed");
  });
});

describe("a long warning with lines free below it (t106 N3)", () => {
  it("wraps over them instead of being cut", () => {
    const status = { ...topChangedAndEdited!, topChangedInQueue: false, pending: [], changesGone: { files: ["a.c"], patches: ["p0"] } };
    const frame = render(<StatusBar view={view({ status })} width={60} theme={theme} />).lastFrame()!;
    expect(frame.replace(/\s+/g, " ")).toContain("pq status says how to put them back; a refresh refuses");
  });
});

describe("git's unresolved conflicts (t106 N1)", () => {
  it("are the first warning, as pq status puts them, with the top's changed-in-queue way out after (t106 N2)", () => {
    const status = { ...topChangedAndEdited!, unmerged: ["a.c"] };
    const frame = render(<StatusBar view={view({ status })} width={300} theme={theme} />).lastFrame()!;
    expect(frame).toContain("unresolved conflicts in git's index: a.c (a git pull, merge or stash pop stopped there)");
    expect(frame.indexOf("unresolved conflicts")).toBeLessThan(frame.indexOf("the top patch changed in the queue"));
    expect(frame).toContain("pop and push it to apply that version");
  });
});

describe("an applied patch whose series line was deleted by hand (t54 N8)", () => {
  it("is said on the status line, as pq status says it: no row shows it", () => {
    const frame = render(<StatusBar view={view({ unlisted: ["p2"] })} width={200} theme={theme} />).lastFrame()!;
    expect(frame).toContain("p2 is applied, but the series no longer lists it: put the line back, or pop all (O) and edit the series");
    expect(frame).toContain("unrefreshed: c.txt");
  });
});

describe("an unapplied patch below the top (t57 N5)", () => {
  it("is said on the status line, as pq status says it", () => {
    const frame = render(<StatusBar view={view({ below: ["burst1"] })} width={200} theme={theme} />).lastFrame()!;
    expect(frame).toContain(
      "burst1 is unapplied below the top (skipped while guarded off, or added there): pq select --reapply applies it in its place",
    );
  });
});

describe("more warnings than the status lines hold (t57 N9)", () => {
  it("says how many more pq status gives", () => {
    const status = topChangedAndEdited;
    const frame = render(<StatusBar view={view({ status, unlisted: ["p2"], below: ["p3"] })} width={200} theme={theme} />).lastFrame()!;
    expect(frame).toContain("(+1 more: pq status) ");
    // A patch applied with fuzz counts too (t58 N3: it was dropped unsaid).
    const fuzzy = { ...status, inexact: [{ name: "p1", reason: "fuzz" }] } as StackView["status"];
    const more = render(
      <StatusBar view={view({ status: fuzzy, unlisted: ["p2"], below: ["p3"] })} width={200} theme={theme} />,
    ).lastFrame()!;
    expect(more).toContain("(+2 more: pq status) ");
  });
});

describe("the title line with an applied patch the series no longer lists (t54 N8)", () => {
  it("counts it apart, not as more applied than there are rows", async () => {
    const { HeaderBar } = await import("../../src/tui/status-bar.js");
    const rows = [
      { name: "p1", guards: [], state: "applied" },
      { name: "p3", guards: [], state: "applied" },
    ] as StackView["rows"];
    const frame = render(
      <HeaderBar view={view({ rows, appliedCount: 3, unlisted: ["p2"], top: "p3" })} queue="/q" sync={null} width={200} theme={theme} />,
    ).lastFrame()!;
    expect(frame).toContain("pq · 2/2 applied (+1 not in the series)");
  });
});
