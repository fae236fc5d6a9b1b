import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bisectStates, judgeExitCode } from "../../src/ci/bisect.js";
import { confirmBoundary, runBisect } from "../../src/ci/bisect-run.js";
import { PqError } from "../../src/errors.js";
import { createFilePatch } from "../../src/patch/index.js";
import { cleanup, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));

describe("bisect search", () => {
  it("finds any bad position among 1000 in at most 2 + ceil(log2(1000)) = 12 evaluations (the two ends first)", async () => {
    for (let trial = 0; trial < 200; trial++) {
      const bad = 1 + Math.floor(Math.random() * 1000);
      const r = await bisectStates(1000, async (k) => (k >= bad ? "bad" : "good"));
      expect(r.firstBad).toBe(bad);
      expect(r.evaluations.length).toBeLessThanOrEqual(12);
      expect(r.evaluations.slice(0, 2).map((e) => e.state)).toEqual([1000, 0]);
    }
    // The top passes: nothing to look for, in one evaluation (a failure in between that a later patch fixes is not bisect's to find).
    const none = await bisectStates(1000, async (k) => (k === 4 ? "bad" : "good"));
    expect(none).toMatchObject({ firstBad: null, topGood: true });
    expect(none.evaluations).toHaveLength(1);
    // The base fails as well as the top: no patch is to blame.
    const base = await bisectStates(10, async () => "bad");
    expect(base).toMatchObject({ firstBad: null, baseBad: true });
  });

  it("checks its answer's two ends by fresh boots, and says so when a boot's verdict changed instead of answering (ci-17 F1)", async () => {
    const found = await bisectStates(20, async (k) => (k >= 7 ? "bad" : "good"));
    const asked: number[] = [];
    expect(await confirmBoundary(found, async (k) => (asked.push(k), k >= 7 ? "bad" : "good"))).toEqual([6, 7]);
    expect(asked).toEqual([6, 7]);
    // State 6 passed once (a lucky boot, remembered) and fails now: no answer, the disagreement said.
    const flaky = await confirmBoundary(found, async () => "bad").catch((e: unknown) => e);
    expect(flaky).toBeInstanceOf(PqError);
    expect((flaky as PqError).message).toBe(
      "pq bisect cannot decide: state 6 was judged good and is bad when booted again: this series' boots do not give the same verdict every time",
    );
    expect((flaky as PqError).exitCode).toBe(12);
  });

  it("steps around untestable states, paying one evaluation per skip", async () => {
    const skips = new Set([500, 501, 750]);
    const r = await bisectStates(1000, async (k) => (skips.has(k) ? "skip" : k >= 600 ? "bad" : "good"));
    expect(r.firstBad).toBe(600);
    expect(r.evaluations.length).toBeLessThanOrEqual(12 + r.evaluations.filter((e) => e.judgement === "skip").length);
    // State 2 cannot be tested and 3 is bad: the culprit is 2 or 3, as git bisect would say.
    const hidden = await bisectStates(4, async (k) => (k === 2 ? "skip" : k >= 2 ? "bad" : "good"));
    expect(hidden.firstBad).toBeNull();
    expect(hidden.candidates).toEqual([2, 3]);
    // The top cannot be tested and the base fails: still no patch to blame (the base is judged either way).
    const skippedTop = await bisectStates(12, async (k) => (k === 12 ? "skip" : "bad"));
    expect(skippedTop).toMatchObject({ firstBad: null, baseBad: true });
  });

  it("follows git bisect run's exit codes", () => {
    expect(judgeExitCode(0, "x")).toBe("good");
    expect(judgeExitCode(125, "x")).toBe("skip");
    expect(judgeExitCode(1, "x")).toBe("bad");
    expect(judgeExitCode(127, "x")).toBe("bad");
    expect(() => judgeExitCode(128, "x")).toThrow(/abort/);
    // An abort is no usage error: exit 12, with the command and its code as data.
    expect(() => judgeExitCode(130, "x")).toThrow(
      expect.objectContaining({ code: "refused", exitCode: 12, data: { command: "x", commandExit: 130 } }),
    );
    // Its JSON says pq's exit code, not the command's (t120 N5).
    try {
      judgeExitCode(200, "x");
    } catch (e) {
      expect((e as PqError).toJSON()).toMatchObject({ error: "refused", exitCode: 12, commandExit: 200 });
    }
  });
});

describe("pq bisect --run on a 1000-patch series", () => {
  it("names the bad patch through the real stack in at most 12 evaluations (the two ends, then halving)", async () => {
    const tree = tempDir("pq-bisect-tree-");
    const queue = tempDir("pq-bisect-queue-");
    dirs.push(tree, queue);
    write(tree, "log.txt", "start\n");
    const bad = 1 + Math.floor(Math.random() * 1000);
    let content = "start\n";
    const names: string[] = [];
    for (let k = 1; k <= 1000; k++) {
      const next = content + (k === bad ? `entry ${k} BAD\n` : `entry ${k}\n`);
      const name = `${String(k).padStart(4, "0")}-entry.patch`;
      write(
        queue,
        name,
        `From: Author ${k} <a${k}@example.org>\nSubject: entry ${k}\n\n---\n` +
          createFilePatch({ oldPath: "log.txt", newPath: "log.txt", oldContent: content, newContent: next }),
      );
      names.push(name);
      content = next;
    }
    write(queue, "series", names.join("\n") + "\n");
    mkdirSync(join(tree, "sub"), { recursive: true });
    const report = await runBisect({ tree, queue, backends: [], run: "! grep -q BAD log.txt" });
    expect(report.patch).toBe(names[bad - 1]);
    expect(report.author).toBe(`Author ${bad} <a${bad}@example.org>`);
    expect(report.evaluations.length).toBeLessThanOrEqual(12);
  }, 120_000);
});
