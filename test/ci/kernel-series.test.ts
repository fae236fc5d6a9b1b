import { execFileSync, spawn } from "node:child_process";
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "junit2json";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readBuildDescription } from "../../src/build/index.js";
import { runBisect } from "../../src/ci/bisect-run.js";
import { mergeReports, withoutTimings, type CiReport } from "../../src/ci/report.js";
import { renderJUnit } from "../../src/ci/render.js";
import { runCi } from "../../src/ci/run.js";
import { Stack } from "../../src/queue/stack.js";
import { createFilePatch } from "../../src/patch/index.js";
import { seriesPrefix } from "../helpers/kernels.js";
import { cleanup, tempDir } from "../helpers/repo.js";

/**
 * The bundled kernel-model and queue, built and booted for real at every state: the series
 * test of the kernel-model issue, the ci/bisect acceptance tests, and ci and bisect through
 * the verdict and image caches. One cold run of the whole series serves them all (a cold run
 * builds 13 states and boots 39 cells); the cache tests work on copies of its cache.
 * Expectations come from what the runs report (which states' images changed), not from fixed
 * figures of the series.
 */
const TREE = resolve("kernel-model");
const QUEUE = resolve("queue");
const backends = ["native", "xen", "vmi"];
const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));
const temp = (prefix: string) => {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
};
// The series' own runs (the cold run and the cache tests) use a generous hang limit: a healthy boot
// of this kernel reaches its verdict in well under 1 s, but a loaded machine must not turn one into
// a hang. The defect fixtures hang for real and wait out pq's own limit, reusing the cold run's
// verdicts of the states they share (a verdict reached within a limit holds for it).
const SLOW = 20_000;
const cacheDir = temp("pq-ci-cache-");
const cutQueues = temp("pq-ci-cut-queues-");

let clean: CiReport;
/** The cache as the cold run left it, before the defect fixtures add to it. */
let baseCache: string;
beforeAll(async () => {
  clean = await runCi({ tree: TREE, queue: QUEUE, backends, jobs: 2, cacheDir, timeoutMs: SLOW });
  baseCache = join(temp("pq-cache-base-"), "cache");
  cpSync(cacheDir, baseCache, { recursive: true });
}, 300_000);

/** A private copy of the warm cache. */
function seededCache(prefix: string): string {
  const dir = join(temp(prefix), "cache");
  cpSync(baseCache, dir, { recursive: true });
  return dir;
}

/** A private copy of the series, the tree and the warm cache for one test. */
function workspace() {
  const root = temp("pq-ci-cache-ws-");
  cpSync(QUEUE, join(root, "queue"), { recursive: true });
  cpSync(TREE, join(root, "tree"), { recursive: true });
  cpSync(baseCache, join(root, "cache"), { recursive: true });
  return { queue: join(root, "queue"), tree: join(root, "tree"), cacheDir: join(root, "cache") };
}

const ci = (ws: ReturnType<typeof workspace>, extra: Partial<Parameters<typeof runCi>[0]> = {}) =>
  runCi({ tree: ws.tree, queue: ws.queue, backends, jobs: 2, cacheDir: ws.cacheDir, timeoutMs: SLOW, ...extra });
const ranStates = (r: CiReport) => [...new Set(r.cells.filter((c) => !c.reused).map((c) => c.state))].sort((a, b) => a - b);
const imageOf = (r: CiReport, state: number) => r.cells.find((c) => c.state === state)?.image;
const touched = (patch: string) => [...patch.matchAll(/^\+\+\+ b\/(\S+)/gm)].map((m) => m[1]);

/**
 * A stack over a git copy of the workspace's tree that edits the workspace's queue itself (a
 * ci scratch copy works on a copy of the queue, taken when it opens).
 */
async function editingStack(ws: ReturnType<typeof workspace>): Promise<{ stack: Stack; patches: string[]; dispose: () => void }> {
  const dir = temp("pq-ci-edit-");
  cpSync(ws.tree, dir, { recursive: true });
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, stdio: "ignore" });
  git("init", "-q");
  git("add", "-A");
  git("-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "-qm", "base");
  const stack = await Stack.init({ tree: dir, queue: ws.queue });
  return { stack, patches: stack.pushable(), dispose: () => cleanup(dir) };
}

/** Appends text to a C source of the series' k-th state that no later patch touches, and refreshes patch k with it. */
async function refreshWith(ws: ReturnType<typeof workspace>, k: number, text: (file: string) => string): Promise<string> {
  const scratch = await editingStack(ws);
  try {
    const { stack, patches } = scratch;
    const later = new Set(patches.slice(k).flatMap((p) => touched(readFileSync(stack.patchPath(p), "latin1"))));
    await stack.goto(patches[k - 1], { force: true });
    const file = readBuildDescription(stack.tree).sources.find((s) => s.endsWith(".c") && !later.has(s));
    expect(file, "a C source no later patch touches").toBeDefined();
    const path = join(stack.tree, file!);
    writeFileSync(path, readFileSync(path, "latin1") + text(file!), "latin1");
    await stack.refresh({ files: [file!] });
    return file!;
  } finally {
    scratch.dispose();
  }
}

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
      shards.push(await runCi({ tree: TREE, queue: QUEUE, backends, jobs: 2, cacheDir, timeoutMs: SLOW, shard: { index, count: 3 } }));
    expect(withoutTimings(mergeReports(shards))).toEqual(withoutTimings(clean));
    const junit = (await parse(renderJUnit(clean))) as { tests: number; failures: number; errors: number };
    expect([junit.tests, junit.failures, junit.errors]).toEqual([clean.cells.length, 0, 0]);
  }, 180_000);
});

for (const fixture of ["queue-broken-build", "queue-xen-hang", "queue-missed-iret", "queue-xen-upcall-pending"]) {
  describe(`injected defect: ${fixture}`, () => {
    const full = resolve("test/fixtures", fixture);
    const expected = JSON.parse(readFileSync(join(full, "EXPECTED.json"), "utf8"));
    // A fixture is cut one patch above its bad one: that state shows the failure stays, and the
    // rest of the series adds only more of the same (for a hang, waiting out the hang limit at
    // every state; for a build error, one more failed compile each).
    const keep = expected.failing.fromState + 1;
    const series = readFileSync(join(full, "series"), "utf8").split("\n").filter(Boolean);
    const dir = keep < series.length ? seriesPrefix(full, keep, join(cutQueues, fixture)) : full;

    it("ci marks exactly the expected cells, and bisect names the injected patch", async () => {
      const report = await runCi({ tree: TREE, queue: dir, backends, jobs: 2, cacheDir });
      const failing = report.cells.filter((c) => !["pass", "skip"].includes(c.outcome)).map((c) => `${c.state}/${c.backend}:${c.outcome}`);
      const want = report.cells
        .filter((c) => c.state >= expected.failing.fromState && expected.failing.backends.includes(c.backend))
        .map((c) => `${c.state}/${c.backend}:${expected.failing.outcome}`);
      expect(failing).toEqual(want);
      expect(report.states[expected.badState].patch).toBe(expected.badPatch);

      // Bisect right after ci takes ci's verdicts from the cache. A hang is reused only when asked (a flaky
      // boot should be retried); asked here, which spares the test a minute of waiting out hang limits
      // (the cache tests below check that hangs are booted again when not asked).
      const reuseFailures = true;
      const bisect = await runBisect({
        tree: TREE,
        queue: dir,
        backends: expected.failing.backends,
        cacheDir,
        reuseFailures,
      });
      expect(bisect.patch).toBe(expected.badPatch);
      expect(bisect.author).toContain("Careless Contributor");
      expect(bisect.failure?.outcome).toBe(expected.failing.outcome);
      expect(bisect.evaluations.length).toBeLessThanOrEqual(2 + Math.ceil(Math.log2(report.states.length - 1)));
      // A boot's verdict at the answer's two ends is checked by fresh boots (ci-17 F1); a compile error is not a boot.
      if (expected.failing.outcome !== "build-error") expect(bisect.confirmed).toEqual([expected.badState - 1, expected.badState]);
    }, 300_000);
  });
}

describe("pq ci through the caches", () => {
  it("a run with nothing changed boots nothing and reports the same matrix", async () => {
    expect(clean.cells.some((c) => c.reused)).toBe(false);
    const again = await ci(workspace());
    expect(again.cells.every((c) => c.reused)).toBe(true);
    expect(withoutTimings(again)).toEqual(withoutTimings(clean));
  }, 120_000);

  // The third patch from the top: its states and the two above it are rebuilt, and the rest of the series shows what is kept.
  const changedPatch = () => clean.states.length - 3;

  it("a code change refreshed into a patch reboots exactly the states from it on; --no-cache reboots all", async () => {
    const ws = workspace();
    const n = clean.states.length - 1;
    const k = changedPatch();
    expect(k).toBeGreaterThanOrEqual(7);
    await refreshWith(
      ws,
      k,
      (f) => `\nint pq_cache_test_${f.replace(/\W/g, "_")}(void);\nint pq_cache_test_${f.replace(/\W/g, "_")}(void) { return 7; }\n`,
    );
    const r = await ci(ws);
    expect(ranStates(r)).toEqual(Array.from({ length: n - k + 1 }, (_, i) => k + i));
    for (let s = k; s <= n; s++) expect(imageOf(r, s)).not.toBe(imageOf(clean, s));
    expect(r.cells.filter((c) => c.state < k).every((c) => c.reused)).toBe(true);
    expect(r.cells.map((c) => c.outcome)).toEqual(clean.cells.map((c) => c.outcome));

    // One backend and a third of the states are enough to see that nothing is reused (and spare 35 builds and boots).
    const forced = await ci(ws, { noCache: true, backends: ["native"], shard: { index: 1, count: 3 } });
    expect(forced.cells.length).toBeGreaterThanOrEqual(4);
    expect(forced.cells.some((c) => c.reused)).toBe(false);
    const shardStates = new Set(forced.cells.map((c) => c.state));
    expect(withoutTimings(forced).cells).toEqual(withoutTimings(r).cells.filter((c) => c.backend === "native" && shardStates.has(c.state)));
  }, 240_000);

  it("a comment-only refresh reboots nothing: the images are unchanged", async () => {
    const ws = workspace();
    await refreshWith(ws, changedPatch(), () => "\n/* pq cache test: a comment changes no code */\n");
    const r = await ci(ws);
    expect(ranStates(r)).toEqual([]);
    for (const s of r.states) expect(imageOf(r, s.index)).toBe(imageOf(clean, s.index));
  }, 120_000);

  it("swapping two commuting patches reboots only the state whose image is new", async () => {
    const ws = workspace();
    // Two patches of our own at the top of the series, touching different files: they commute.
    const scratch = await editingStack(ws);
    const names = ["pq-test-a.patch", "pq-test-b.patch"];
    try {
      const { stack, patches } = scratch;
      await stack.goto(patches.at(-1)!, { force: true });
      const files = readBuildDescription(stack.tree)
        .sources.filter((s) => s.endsWith(".c"))
        .slice(-2);
      expect(files).toHaveLength(2);
      files.forEach((file, i) => {
        const old = readFileSync(join(stack.tree, file), "latin1");
        const fn = `pq_cache_test_${"ab"[i]}`;
        const diff = createFilePatch({
          oldPath: file,
          newPath: file,
          oldContent: old,
          newContent: `${old}\nint ${fn}(void);\nint ${fn}(void) { return ${i + 1}; }\n`,
        });
        writeFileSync(
          join(ws.queue, names[i]),
          `From: Cache Tester <cache@example.org>\nSubject: test patch ${"ab"[i]}\n\n---\n${diff}`,
          "latin1",
        );
      });
    } finally {
      scratch.dispose();
    }
    const series = join(ws.queue, "series");
    const base = readFileSync(series, "utf8").trimEnd();
    writeFileSync(series, `${base}\n${names[0]}\n${names[1]}\n`);
    const before = await ci(ws);
    const n = before.states.length - 1;
    expect(ranStates(before)).toEqual([n - 1, n]);
    writeFileSync(series, `${base}\n${names[1]}\n${names[0]}\n`);
    const after = await ci(ws);
    // State n-1 now holds b alone (a new image); n holds a and b, the same tree as before.
    expect(ranStates(after)).toEqual([n - 1]);
    expect(imageOf(after, n)).toBe(imageOf(before, n));
    expect(imageOf(after, n - 1)).not.toBe(imageOf(before, n - 1));
    expect(after.cells.map((c) => c.outcome)).toEqual(before.cells.map((c) => c.outcome));
  }, 240_000);

  it("a corrupt verdict entry is recomputed, not trusted", async () => {
    const ws = workspace();
    const dir = join(ws.cacheDir, "verdicts");
    const victim = readdirSync(dir).sort()[0];
    const text = readFileSync(join(dir, victim), "latin1");
    writeFileSync(
      join(dir, victim),
      text.replace(/"verdict":"(\w+)"/, (_m, v) => `"verdict":"${v === "pass" ? "fail" : "pass"}"`),
      "latin1",
    );
    const r = await ci(ws);
    expect(r.cells.filter((c) => !c.reused)).toHaveLength(1);
    expect(withoutTimings(r)).toEqual(withoutTimings(clean));
    const verdictIn = (t: string) => /"verdict":"(\w+)"/.exec(t)?.[1];
    expect(verdictIn(readFileSync(join(dir, victim), "latin1"))).toBe(verdictIn(text)); // rewritten by the new boot
    const again = await ci(ws);
    expect(again.cells.every((c) => c.reused)).toBe(true);
  }, 180_000);

  it("bisect right after ci judges every probed state from the cache", async () => {
    const ws = workspace();
    const r = await runBisect({ tree: ws.tree, queue: ws.queue, backends, cacheDir: ws.cacheDir, timeoutMs: SLOW });
    expect(r.firstBad).toBeNull();
    expect(r.evaluations.length).toBeGreaterThan(0);
    expect(r.reused).toEqual(r.evaluations.map((e) => e.state));
  }, 120_000);

  it("two concurrent ci processes sharing one empty cache both finish with correct reports", async () => {
    const cacheDir = temp("pq-cache-shared-");
    const out = temp("pq-ci-concurrent-");
    // The first six patches of the series: the race is over the shared cache's entries, which six
    // states (built and booted twice at once) exercise as well as thirteen.
    const queue = join(temp("pq-ci-concurrent-queue-"), "queue");
    cpSync(QUEUE, queue, { recursive: true });
    writeFileSync(join(queue, "series"), readFileSync(join(QUEUE, "series"), "utf8").split("\n").slice(0, 6).join("\n") + "\n");
    const run = (i: number) =>
      new Promise<number>((done) => {
        const child = spawn(
          process.execPath,
          // One backend: the race is over the shared cache's entries, and three backends only triple the boots.
          [
            resolve("bin/pq.js"),
            "ci",
            "--queue",
            queue,
            "--tree",
            TREE,
            "--backends",
            "native",
            "--timeout",
            "20",
            "--json",
            join(out, `r${i}.json`),
          ],
          {
            env: { ...process.env, PQ_CACHE_DIR: cacheDir },
            stdio: "ignore",
          },
        );
        child.on("close", (code) => done(code ?? 1));
      });
    expect(await Promise.all([run(1), run(2)])).toEqual([0, 0]);
    const nativeCells = (r: CiReport) => withoutTimings(r).cells.filter((c) => c.backend === "native" && c.state <= 6);
    for (const i of [1, 2]) {
      const r = JSON.parse(readFileSync(join(out, `r${i}.json`), "utf8")) as CiReport;
      expect(r.cells).toHaveLength(7);
      expect(nativeCells(r)).toEqual(nativeCells(clean));
    }
    const third = await runCi({ tree: TREE, queue, backends: ["native"], jobs: 2, cacheDir, timeoutMs: SLOW });
    expect(third.cells.every((c) => c.reused)).toBe(true);
  }, 300_000);

  it("a hang is booted again unless --reuse-failures", async () => {
    const fixture = resolve("test/fixtures/queue-xen-hang");
    const expected = JSON.parse(readFileSync(join(fixture, "EXPECTED.json"), "utf8")) as { failing: { fromState: number } };
    // Two hanging states (the bad patch and one above it) are enough, and each one waits out the limit twice.
    const queue = seriesPrefix(fixture, expected.failing.fromState + 1, temp("pq-queue-hang-"));
    // Seeded with the series' warm cache: the states before the defect are the series' own.
    const cacheDir = seededCache("pq-cache-hang-");
    const run = (reuseFailures = false) =>
      // Only the hanging states are booted (the cache has the rest), and each waits out the limit: a short one.
      runCi({ tree: TREE, queue, backends: ["xen"], jobs: 2, cacheDir, timeoutMs: 1500, reuseFailures });
    const outcome = (r: CiReport, state: number) => r.cells.find((c) => c.state === state)!.outcome;
    const first = await run();
    const hangs = first.cells.filter((c) => c.outcome === "hang").map((c) => c.state);
    const real = first.cells.filter((c) => c.state >= expected.failing.fromState).map((c) => c.state);
    // Every real hang is one (a loaded machine may add a false one: that is what re-booting is for).
    expect(hangs).toEqual(expect.arrayContaining(real));
    const second = await run();
    expect(ranStates(second)).toEqual(hangs);
    for (const s of real) expect(outcome(second, s)).toBe("hang");
    const third = await run(true);
    expect(ranStates(third)).toEqual([]);
    expect(third.cells.map((c) => c.outcome)).toEqual(second.cells.map((c) => c.outcome));
  }, 180_000);

  it("a state that fails to build is remembered: the next ci and a bisect compile nothing", async () => {
    const fixture = resolve("test/fixtures/queue-broken-build");
    const expected = JSON.parse(readFileSync(join(fixture, "EXPECTED.json"), "utf8")) as { failing: { fromState: number } };
    // Two broken states (the bad patch and one above it): the rest of the series only fails to compile again.
    const queue = seriesPrefix(fixture, expected.failing.fromState + 1, temp("pq-queue-broken-"));
    const cacheDir = seededCache("pq-cache-broken-");
    const first = await runCi({ tree: TREE, queue, backends: ["native"], jobs: 2, cacheDir, timeoutMs: SLOW });
    const broken = first.cells.filter((c) => c.outcome === "build-error").map((c) => c.state);
    expect(broken).toEqual([expected.failing.fromState, expected.failing.fromState + 1]);
    const again = await runCi({ tree: TREE, queue, backends: ["native"], jobs: 2, cacheDir, timeoutMs: SLOW });
    expect(ranStates(again)).toEqual([]);
    expect(withoutTimings(again)).toEqual(withoutTimings(first));
    const bisect = await runBisect({ tree: TREE, queue, backends: ["native"], cacheDir, timeoutMs: SLOW });
    expect(bisect.firstBad).toBe(broken[0]);
    expect(bisect.failure?.outcome).toBe("build-error");
    expect(bisect.reused).toEqual(bisect.evaluations.map((e) => e.state));
  }, 180_000);
});
