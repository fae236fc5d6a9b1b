import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "junit2json";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mergeReports, withoutTimings, type CiReport } from "../../src/ci/report.js";
import { runCi } from "../../src/ci/run.js";
import { renderJUnit } from "../../src/ci/render.js";
import { runBisect } from "../../src/ci/bisect-run.js";
import { DEFAULT_BOOT_TIMEOUT_MS } from "../../src/emulator/boot.js";
import { seriesPrefix } from "../helpers/kernels.js";
import { cleanup, tempDir } from "../helpers/repo.js";

/**
 * The bundled kernel-model and queue, built and booted for real at every state: the
 * series test of the kernel-model issue and the ci/bisect acceptance tests.
 */
const TREE = resolve("kernel-model");
const QUEUE = resolve("queue");
const backends = ["native", "xen", "vmi"];
const cacheDir = tempDir("pq-ci-cache-");
// A hang is told from a slow boot only by a time limit. On a 2-core machine shared with other
// work, a healthy first boot in a fresh worker (which compiles v86's wasm) has taken over 5 s.
const HANG_MS = 15_000;
// The defect fixtures hang for real, and every hang waits out its limit: they use pq's own
// default (it counts from the moment the emulated CPU is ready, so emulator start-up on a busy
// machine is not in it; a healthy boot of this kernel reaches its verdict in well under 1 s).
const DEFECT_HANG_MS = DEFAULT_BOOT_TIMEOUT_MS;
const cutQueues = tempDir("pq-ci-cut-queues-");
afterAll(() => [cacheDir, cutQueues].forEach(cleanup));

let clean: CiReport;
beforeAll(async () => {
  clean = await runCi({ tree: TREE, queue: QUEUE, backends, jobs: 2, cacheDir, timeoutMs: HANG_MS });
}, 180_000);

describe("the bundled paravirt series", () => {
  it("every state builds and passes on every backend it has; backends before their patch are skips", () => {
    const xenFrom = clean.states.find((s) => s.patch === "xen-backend.patch")!.index;
    const vmiFrom = clean.states.find((s) => s.patch === "vmi-backend.patch")!.index;
    expect(clean.states.length).toBeGreaterThanOrEqual(9);
    for (const c of clean.cells) {
      const has = c.backend === "native" || (c.backend === "xen" && c.state >= xenFrom) || (c.backend === "vmi" && c.state >= vmiFrom);
      expect(`${c.state}/${c.backend}: ${c.outcome}`).toBe(`${c.state}/${c.backend}: ${has ? "pass" : "skip"}`);
    }
    expect(clean.states[1].author).toContain("Corin Paravirt");
  });

  it("shards 1/3, 2/3, 3/3 merge to the unsharded report, and JUnit reads back", async () => {
    const shards = [];
    for (const index of [1, 2, 3])
      shards.push(await runCi({ tree: TREE, queue: QUEUE, backends, jobs: 2, cacheDir, timeoutMs: HANG_MS, shard: { index, count: 3 } }));
    expect(withoutTimings(mergeReports(shards))).toEqual(withoutTimings(clean));
    const junit = (await parse(renderJUnit(clean))) as { tests: number; failures: number; errors: number };
    expect([junit.tests, junit.failures, junit.errors]).toEqual([clean.cells.length, 0, 0]);
  }, 180_000);
});

for (const fixture of ["queue-broken-build", "queue-xen-hang", "queue-missed-iret", "queue-xen-upcall-pending"]) {
  describe(`injected defect: ${fixture}`, () => {
    const full = resolve("test/fixtures", fixture);
    const expected = JSON.parse(readFileSync(join(full, "EXPECTED.json"), "utf8"));
    // Every hanging state waits out the hang limit: a hang fixture is cut two patches above its bad one
    // (the rest of the series adds only waiting). The other defects run on the whole series.
    const dir = expected.failing.outcome === "hang" ? seriesPrefix(full, expected.failing.fromState + 2, join(cutQueues, fixture)) : full;

    it("ci marks exactly the expected cells, and bisect names the injected patch", async () => {
      const report = await runCi({ tree: TREE, queue: dir, backends, jobs: 2, cacheDir, timeoutMs: DEFECT_HANG_MS });
      const failing = report.cells.filter((c) => !["pass", "skip"].includes(c.outcome)).map((c) => `${c.state}/${c.backend}:${c.outcome}`);
      const want = report.cells
        .filter((c) => c.state >= expected.failing.fromState && expected.failing.backends.includes(c.backend))
        .map((c) => `${c.state}/${c.backend}:${expected.failing.outcome}`);
      expect(failing).toEqual(want);
      expect(report.states[expected.badState].patch).toBe(expected.badPatch);

      // Bisect right after ci takes ci's verdicts from the cache. A hang is reused only when asked (a flaky
      // boot should be retried); asked here, which spares the test a minute of waiting out hang limits
      // (test/ci/cache.test.ts checks that hangs are booted again when not asked).
      const reuseFailures = true;
      const bisect = await runBisect({
        tree: TREE,
        queue: dir,
        backends: expected.failing.backends,
        timeoutMs: DEFECT_HANG_MS,
        cacheDir,
        reuseFailures,
      });
      expect(bisect.patch).toBe(expected.badPatch);
      expect(bisect.author).toContain("Careless Contributor");
      expect(bisect.failure?.outcome).toBe(expected.failing.outcome);
      expect(bisect.evaluations.length).toBeLessThanOrEqual(2 + Math.ceil(Math.log2(report.states.length - 1)));
    }, 300_000);
  });
}
