import { parse } from "junit2json";
import { describe, expect, it } from "vitest";
import {
  markGoneBackends,
  mergeReports,
  sortCells,
  stateInShard,
  withoutTimings,
  type CiReport,
  type Cell,
  type Outcome,
} from "../../src/ci/report.js";
import { renderHtml, renderJUnit, renderMatrix } from "../../src/ci/render.js";
import { cellWidth } from "../../src/core/cells.js";

const backends = ["native", "xen", "vmi"];
const outcomes: Outcome[] = ["pass", "fail", "skip", "panic", "hang", "crash", "build-error"];

function synthetic(states: number): CiReport {
  const cells: Cell[] = [];
  for (let s = 0; s <= states; s++)
    for (const [b, backend] of backends.entries())
      cells.push({
        state: s,
        backend,
        outcome: outcomes[(s * 3 + b) % outcomes.length],
        ms: 10 + s,
        ...(s % 2 ? { log: "pq: smoke=fail <&>\x01" } : {}),
      });
  return {
    version: 1,
    queueId: "abc",
    backends,
    states: Array.from({ length: states + 1 }, (_, i) => ({ index: i, patch: i ? `p${i}.patch` : null, author: "A <a@x>" })),
    cells,
  };
}

function shardOf(report: CiReport, index: number, count: number): CiReport {
  return { ...report, cells: report.cells.filter((c) => stateInShard(c.state, { index, count })), shard: `${index}/${count}` };
}

describe("ci reports", () => {
  it("shards partition the states, and 1/3 + 2/3 + 3/3 merge to the unsharded report", () => {
    const full = synthetic(10);
    const shards = [1, 2, 3].map((k) => shardOf(full, k, 3));
    expect(shards.reduce((n, s) => n + s.cells.length, 0)).toBe(full.cells.length);
    // Order of the inputs does not matter; a backend gone at a later state is judged over the whole series (see below).
    const unsharded = { ...full, cells: sortCells(markGoneBackends(full.cells), backends) };
    expect(withoutTimings(mergeReports([shards[2], shards[0], shards[1]]))).toEqual(withoutTimings(unsharded));
    expect(() => mergeReports([shards[0], shards[0]])).toThrow(/appears in two reports/);
    expect(() => mergeReports([shards[0], { ...shards[1], queueId: "other" }])).toThrow(/different series/);
    // Shards judged by different --run commands (t120 N4), or one by a command and one by boots.
    expect(() =>
      mergeReports([
        { ...shards[0], run: "make check" },
        { ...shards[1], run: "true" },
      ]),
    ).toThrow(/judged by different commands/);
    expect(() => mergeReports([{ ...shards[0], run: "make check" }, shards[1]])).toThrow(/judged by different commands/);
    expect(
      mergeReports([
        { ...shards[0], run: "true" },
        { ...shards[1], run: "true" },
        { ...shards[2], run: "true" },
      ]).run,
    ).toBe("true");
    expect(mergeReports([shards[0]]).shard).toMatch(/^partial/);
    // The same series over two base trees; a report without a base id (pq before December 3) is taken.
    expect(() => mergeReports([{ ...shards[0], baseId: "1111" }, { ...shards[1], baseId: "2222" }, shards[2]])).toThrow(
      /different base trees/,
    );
    expect(mergeReports([{ ...shards[0], baseId: "1111" }, shards[1], { ...shards[2], baseId: "1111" }]).baseId).toBe("1111");
  });

  it("JUnit stays well-formed when a failure's reason holds control characters (a kernel's panic text)", async () => {
    const report = synthetic(2);
    for (const c of report.cells) if (c.outcome !== "pass" && c.outcome !== "skip") c.reason = "bad \x1b[31m\x01 state <&>";
    const xml = renderJUnit(report);
    expect(xml).not.toMatch(/[\x00-\x08\x0b\x0c\x0e-\x1f]/);
    expect(xml).toContain("bad \\x1b[31m\\x01 state &lt;&amp;&gt;");
    const parsed = (await parse(xml)) as { tests: number };
    expect(parsed.tests).toBe(report.cells.length);
  });

  it("JUnit output is read back by a JUnit parser with the right counts", async () => {
    const report = synthetic(4);
    const xml = renderJUnit(report);
    const parsed = (await parse(xml)) as {
      tests: number;
      failures: number;
      errors: number;
      skipped: number;
      testsuite: { testcase: { name: string; classname: string; failure?: unknown; error?: unknown; skipped?: unknown }[] }[];
    };
    expect(parsed.tests).toBe(15);
    const count = (o: Outcome[]) => report.cells.filter((c) => o.includes(c.outcome)).length;
    expect(parsed.failures).toBe(count(["fail", "panic"]));
    expect(parsed.errors).toBe(count(["hang", "crash", "build-error"]));
    expect(parsed.skipped).toBe(count(["skip"]));
    const cases = parsed.testsuite[0].testcase;
    expect(cases).toHaveLength(15);
    expect(cases[3]).toMatchObject({ classname: "state-01.p1", name: "native" });
  });

  it("the text matrix and the HTML page show every cell", () => {
    const report = synthetic(2);
    const text = renderMatrix(report);
    expect(text).toContain("(base tree)");
    expect(text).toContain("first failure:");
    const html = renderHtml(report);
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html.match(/<td class="cell/g)).toHaveLength(9);
    expect(html).not.toMatch(/<script|https?:\/\//); // self-contained
  });

  it("the text matrix keeps its columns for names of wide characters (t23 F10)", () => {
    const report = synthetic(2);
    report.states[1] = { ...report.states[1], patch: "na\u00efve-\u540d\u524d.patch" };
    report.states[2] = { ...report.states[2], patch: "\u{1f389}.patch" };
    const rows = renderMatrix(report)
      .split("\n")
      .filter((l) => /^ ?\d  /.test(l));
    // Each row is the name field, then one padded field a backend: as wide as the others, in terminal cells.
    expect(rows).toHaveLength(3);
    expect(new Set(rows.map(cellWidth)).size).toBe(1);
  });

  it("reused cells are marked in the matrix, JSON, JUnit and HTML; reuse is not part of what runs must agree on", async () => {
    const report = synthetic(2);
    report.cells = report.cells.map((c, i) => (i % 2 ? { ...c, reused: true, ms: undefined, image: "0123456789abcdef" } : c));
    const reused = report.cells.filter((c) => c.reused).length;
    const text = renderMatrix(report);
    expect(text).toMatch(/PASS\*|skip\*|FAIL\*|PANIC\*/);
    expect(text).toContain(`* reused: ${reused} of ${report.cells.length} cells`);
    const xml = renderJUnit(report);
    expect(xml.match(/<property name="pq.reused" value="true"\/>/g)).toHaveLength(reused);
    const parsed = (await parse(xml)) as { tests: number; failures: number };
    expect(parsed.tests).toBe(report.cells.length);
    const html = renderHtml(report);
    expect(html.match(/<td class="cell reused"/g)).toHaveLength(reused);
    expect(html).toContain(`${reused} of ${report.cells.length} cells reused from the cache`);
    // One backend is one (t51 N9: "1 backends").
    const one = { ...report, backends: ["native"], cells: report.cells.filter((c) => c.backend === "native") };
    expect(renderHtml(one)).toContain(`${one.states.length} states × 1 backend,`);
    expect(JSON.parse(JSON.stringify(report)).cells[1].reused).toBe(true);
    const plain = { ...report, cells: report.cells.map(({ reused: _r, ...c }) => c) };
    expect(withoutTimings(report)).toEqual(withoutTimings(plain));
  });
});

describe("a backend that booted at a state and is skipped later (t51 N3: ci exited 0)", () => {
  it("is a fail there, said with where it last booted; a backend not there yet and a command's skip stay skips", () => {
    const cell = (state: number, backend: string, outcome: Outcome, reason?: string): Cell => ({
      state,
      backend,
      outcome,
      ...(reason ? { reason } : {}),
    });
    const cells = [
      cell(0, "xen", "skip", "no xen backend in this kernel"),
      cell(1, "xen", "pass"),
      cell(2, "xen", "skip", "no xen backend in this kernel"),
      cell(2, "native", "pass"),
      cell(0, "run", "pass"),
      cell(1, "run", "skip", "exit 125: cannot be tested"),
    ];
    const marked = markGoneBackends(cells);
    expect(marked.map((c) => [c.state, c.backend, c.outcome])).toEqual([
      [0, "xen", "skip"],
      [0, "run", "pass"],
      [1, "xen", "pass"],
      [1, "run", "skip"],
      [2, "xen", "fail"],
      [2, "native", "pass"],
    ]);
    expect(marked.find((c) => c.state === 2 && c.backend === "xen")?.reason).toBe(
      "xen booted at state 1 and is gone from this state's kernel (no xen backend in this kernel)",
    );
    // A state that did not build booted nothing: the skips after it stay skips (t124 N6).
    const broken = markGoneBackends([
      cell(0, "xen", "skip", "no xen backend in this kernel"),
      cell(1, "xen", "build-error"),
      cell(2, "xen", "skip", "no xen backend in this kernel"),
      cell(3, "xen", "pass"),
      cell(4, "xen", "skip", "no xen backend in this kernel"),
    ]);
    expect(broken.map((c) => c.outcome)).toEqual(["skip", "build-error", "skip", "pass", "fail"]);
  });
});
