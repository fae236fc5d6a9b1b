/**
 * A kernel image whose boots disagree (a guest that reads the time can pass one boot and panic
 * the next) is flaky: its cell shows the worst verdict any boot of it gave, marked, and is booted
 * again on every run instead of serving one lucky boot from the cache for ever (ci-17 F1).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cellFromBoot } from "../../src/ci/evaluate.js";
import { renderJUnit, renderMatrix } from "../../src/ci/render.js";
import type { Outcome } from "../../src/ci/report.js";
import { runCi } from "../../src/ci/run.js";
import { VerdictCache } from "../../src/ci/verdict-cache.js";
import type { BootResult } from "../../src/emulator/index.js";
import { fixtureKernelTree } from "../helpers/kernels.js";
import { cleanup, git, pq, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));

/** The passing fixture kernel committed with an empty pq stack on it, and a cache folder of its own. */
async function passingStack(): Promise<{ tree: string; cacheDir: string }> {
  const tree = fixtureKernelTree("pass");
  const cacheDir = tempDir();
  dirs.push(tree, cacheDir);
  git(tree, "init", "-q", "-b", "main");
  git(tree, "add", "-A");
  git(tree, "-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "-qm", "base");
  await pq(tree, "init");
  return { tree, cacheDir };
}

const boot = (verdict: BootResult["verdict"]): BootResult => ({ backend: "native", verdict, log: "", lines: [], msToVerdict: 500 });

describe("remembered verdicts of one image", () => {
  it("keep every decided verdict once two boots disagree, worst first; hangs and crashes are not counted", () => {
    const dir = tempDir("pq-verdicts-");
    dirs.push(dir);
    const cache = new VerdictCache(dir);
    const key = "a".repeat(64);
    expect(cache.put(key, boot("pass"), 5000).seen).toBeUndefined();
    expect(cache.put(key, boot("hang"), 5000).seen).toBeUndefined();
    expect(cache.put(key, boot("crash"), 5000).seen).toBeUndefined();
    expect(cache.get(key)?.seen).toBeUndefined();
    expect(cache.put(key, boot("pass"), 5000).seen).toBeUndefined();
    expect(cache.put(key, { ...boot("panic"), log: "panic: unlucky" }, 5000).seen).toEqual(["panic", "pass"]);
    // Later boots that agree with one of them do not make it deterministic again.
    expect(cache.put(key, boot("pass"), 5000)).toEqual({ seen: ["panic", "pass"], worst: { verdict: "panic", log: "panic: unlucky" } });
    expect(cache.put(key, boot("fail"), 5000).seen).toEqual(["panic", "fail", "pass"]);
    expect(cache.get(key)).toMatchObject({ verdict: "fail", seen: ["panic", "fail", "pass"] });
    // The worst boot is kept for its log; a fresh history (--no-cache) starts again.
    expect(cache.get(key)?.worst).toMatchObject({ verdict: "panic" });
    expect(cache.put(key, boot("pass"), 5000, true)).toEqual({});
    expect(cache.get(key)?.seen).toBeUndefined();
    // Boots in a row that agree are counted (pq ci --repeat N reuses a verdict only from N).
    cache.put(key, boot("pass"), 5000);
    expect(cache.get(key)?.boots).toBe(2);
    // An entry whose list is not one pq writes is not trusted.
    const store = (cache as unknown as { store: { put(k: string, v: unknown): void } }).store;
    for (const seen of [["pass"], ["pass", "panic"], ["panic", "hang"], "panic"]) {
      store.put(key, { backend: "native", verdict: "pass", log: "", msToVerdict: 500, timeoutMs: 5000, seen });
      expect(cache.get(key)).toBeNull();
    }
  });
});

describe("a cell of a flaky image", () => {
  it("shows the worst verdict the image gave, unless this run's boot failed on its own (a hang, a crash: t31 F2)", () => {
    const flaky: Outcome[] = ["skip", "pass"];
    expect(cellFromBoot(3, boot("pass"), { flaky }).outcome).toBe("skip");
    expect(cellFromBoot(3, boot("hang"), { flaky })).toMatchObject({ outcome: "hang", flaky });
    expect(cellFromBoot(3, boot("crash"), { flaky }).outcome).toBe("crash");
  });
});

describe("pq ci over a flaky image", () => {
  it("shows it at its worst verdict, marked, boots it again on every run, and --repeat boots each image N times", async () => {
    const { tree, cacheDir } = await passingStack();
    const first = await runCi({ tree, backends: ["native"], cacheDir });
    expect(first.cells).toMatchObject([{ state: 0, outcome: "pass" }]);
    // An earlier boot of this very image panicked (as a guest that reads the time can): the
    // cache holds what that boot would have left, beside this run's pass.
    const [key] = readdirSync(join(cacheDir, "verdicts")).filter((f) => /^[0-9a-f]{64}$/.test(f));
    const verdicts = new VerdictCache(cacheDir);
    verdicts.put(key, { ...boot("panic"), reason: "rdtsc bit 10", log: "pq: panic: unlucky tsc" }, 5000);
    expect(verdicts.get(key)?.seen).toEqual(["panic", "pass"]);

    const again = await runCi({ tree, backends: ["native"], cacheDir });
    const [cell] = again.cells;
    expect(cell).toMatchObject({ outcome: "panic", flaky: ["panic", "pass"] });
    // Booted in this run, not served from the cache.
    expect(cell.reused).toBeUndefined();
    expect(cell.ms).toBeGreaterThan(0);
    expect(cell.reason).toBe("an earlier boot of this same image gave panic (rdtsc bit 10); this one pass");
    // The panicking boot's log, which the cache kept (t30 F4).
    expect(cell.log).toContain("pq: panic: unlucky tsc");
    expect(renderMatrix(again)).toContain("PANIC~");
    expect(renderMatrix(again)).toContain(
      "~ flaky: 1 cell(s) whose kernel image gave different verdicts on different boots (panic and pass",
    );
    expect(renderJUnit(again)).toContain('<property name="pq.flaky" value="panic,pass"/>');

    // Through the command: a failing run, and --repeat boots the image that many times.
    const saved = process.env.PQ_CACHE_DIR;
    process.env.PQ_CACHE_DIR = cacheDir;
    try {
      const cli = await pq(tree, "ci", "-b", "native", "--repeat", "3");
      expect(cli.code).not.toBe(0);
      expect(cli.out).toContain("PANIC~");
      expect((await pq(tree, "ci", "-b", "native", "--repeat", "0")).code).toBe(2);
      // A bare --repeat or --timeout (a value forgotten) is refused, not taken as no option (t30 F5).
      for (const option of ["--repeat", "--timeout"]) {
        const bare = await pq(tree, "ci", "-b", "native", option);
        expect(bare.code).toBe(2);
        expect(bare.err).toContain(`Not enough arguments following: ${option.slice(2)}`);
      }
      // So are the other commands' number options (t31 F3).
      for (const [command, option, name] of [
        ["boot", "--timeout", "timeout"],
        ["uncommit", "-n", "n"],
        ["sync", "--retries", "retries"],
        ["import", "--strip", "strip"],
      ]) {
        const bare = await pq(tree, command, option);
        expect(bare.code, command).toBe(2);
        expect(bare.err).toContain(`Not enough arguments following: ${name}`);
      }
      expect((await pq(tree, "ci", "--run", "true", "--repeat", "2")).err).toContain("pq ci --run judges states by a command, once each");
      expect((await pq(tree, "bisect", "--run", "true", "--repeat", "2")).err).toContain(
        "pq bisect --run judges states by a command, once each",
      );
      expect((await pq(tree, "ci", "-b", "native", "--repeat", "1.5")).err).toContain(
        "--repeat takes a whole number of boots from 1 to 100",
      );
    } finally {
      if (saved === undefined) delete process.env.PQ_CACHE_DIR;
      else process.env.PQ_CACHE_DIR = saved;
    }
    // A report whose flaky list pq does not write is refused by ci merge, not an internal error (t30 F3).
    const json = join(cacheDir, "r.json");
    for (const [flaky, outcome] of [
      ["x", "panic"],
      [["pass", "panic"], "panic"],
      [["panic", "pass"], "pass"],
    ] as const) {
      writeFileSync(json, JSON.stringify({ ...again, cells: [{ ...again.cells[0], flaky, outcome }] }));
      const merged = await pq(cacheDir, "ci", "merge", "r.json");
      expect(merged.code).toBe(2);
      expect(merged.err).toContain("has a flaky list pq does not write");
    }
    writeFileSync(json, JSON.stringify(again));
    expect((await pq(cacheDir, "ci", "merge", "r.json")).code).toBe(1);
    // --no-cache starts the image's history again (the only way a flaky mark goes, t30 F6).
    const fresh = await runCi({ tree, backends: ["native"], cacheDir, noCache: true });
    expect(fresh.cells[0]).toMatchObject({ outcome: "pass" });
    expect(fresh.cells[0].flaky).toBeUndefined();
    expect((await runCi({ tree, backends: ["native"], cacheDir })).cells[0].reused).toBe(true);
  }, 120_000);

  it("--repeat N reuses a verdict only N boots in a row gave, boots the rest, and then reuses it (t30 F1)", async () => {
    const { tree, cacheDir } = await passingStack();
    expect((await runCi({ tree, backends: ["native"], cacheDir })).cells[0].ms).toBeGreaterThan(0);
    const [key] = readdirSync(join(cacheDir, "verdicts")).filter((f) => /^[0-9a-f]{64}$/.test(f));
    expect(new VerdictCache(cacheDir).get(key)?.boots).toBeUndefined();
    // One boot known: two more.
    const report = await runCi({ tree, backends: ["native"], cacheDir, repeat: 3 });
    expect(report.cells[0]).toMatchObject({ outcome: "pass" });
    expect(report.cells[0].reused).toBeUndefined();
    expect(report.cells[0].flaky).toBeUndefined();
    expect(new VerdictCache(cacheDir).get(key)?.boots).toBe(3);
    expect((await runCi({ tree, backends: ["native"], cacheDir, repeat: 3 })).cells[0].reused).toBe(true);
    expect((await runCi({ tree, backends: ["native"], cacheDir })).cells[0].reused).toBe(true);
    expect((await runCi({ tree, backends: ["native"], cacheDir, repeat: 4 })).cells[0].reused).toBeUndefined();
  }, 120_000);
});

describe("pq bisect over a flaky first bad state", () => {
  it("names the patch and says the state is flaky instead of confirmed (t30 F2)", async () => {
    const { tree, cacheDir } = await passingStack();
    for (const name of ["one", "two"]) {
      await pq(tree, "new", `${name}.patch`, "-m", name);
      write(tree, "main.c", readFileSync(join(tree, "main.c"), "utf8").replace("pq: smoke=pass", `check name=${name} ok\\npq: smoke=pass`));
      await pq(tree, "refresh");
    }
    const ci = await runCi({ tree, backends: ["native"], cacheDir });
    expect(ci.cells.map((c) => c.outcome)).toEqual(["pass", "pass", "pass"]);
    // An earlier unlucky boot of state 2's image: its cache entry, found by the check only it prints.
    const verdicts = new VerdictCache(cacheDir);
    const top = readdirSync(join(cacheDir, "verdicts"))
      .filter((f) => /^[0-9a-f]{64}$/.test(f))
      .find((key) => verdicts.get(key)?.log.includes("name=two"))!;
    expect(top).toBeDefined();
    verdicts.put(top, { ...boot("panic"), log: "pq: panic: unlucky tsc" }, 5000, true);
    const saved = process.env.PQ_CACHE_DIR;
    process.env.PQ_CACHE_DIR = cacheDir;
    try {
      const bisect = await pq(tree, "bisect", "-b", "native");
      expect(bisect.code).toBe(1);
      expect(bisect.out).toContain("first bad patch: two.patch");
      expect(bisect.out).not.toContain("confirmed by fresh boots");
      expect(bisect.out).toContain("flaky: boots of state 2's kernel image gave panic and pass");
    } finally {
      if (saved === undefined) delete process.env.PQ_CACHE_DIR;
      else process.env.PQ_CACHE_DIR = saved;
    }
  }, 180_000);
});

describe("a verdicts folder that cannot be used (t85 N5)", () => {
  it("is said once, as a note, and the run goes on", async () => {
    const { tree, cacheDir } = await passingStack();
    writeFileSync(join(cacheDir, "verdicts"), "not a folder\n");
    const notes: string[] = [];
    const report = await runCi({ tree, backends: ["native", "xen"], cacheDir, onEvent: (e) => e.kind === "note" && notes.push(e.message) });
    expect(report.cells.map((c) => c.outcome)).toEqual(["pass", "skip"]);
    expect(notes).toEqual([
      expect.stringMatching(/^boot verdicts cannot be kept in .*verdicts \(.*\): the next run boots these states again/),
    ]);
  });
});

describe("a ci run whose tree cannot keep .pq/ci-last.json (t93 N6)", () => {
  it("keeps its verdict (exit 0) and says the run is not remembered for the TUI", async () => {
    const { tree } = await passingStack();
    mkdirSync(join(tree, ".pq", "ci-last.json", "in-the-way"), { recursive: true });
    const r = await pq(tree, "ci", "-b", "native");
    expect([r.code, r.err], r.err).toEqual([
      0,
      expect.stringContaining("pq: note: the run is not remembered for the TUI's badges (.pq/ci-last.json)"),
    ]);
  });
});
