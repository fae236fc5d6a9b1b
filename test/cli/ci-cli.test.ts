import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "junit2json";
import { afterAll, describe, expect, it } from "vitest";
import { seriesPrefix } from "../helpers/kernels.js";
import { cleanup, makeRepo, pq, snapshot, tempDir, write } from "../helpers/repo.js";

const out = tempDir("pq-ci-cli-");
afterAll(() => cleanup(out));
const root = resolve(".");

describe("pq ci and pq bisect from the command line", () => {
  it("runs shards, merges them into JUnit, JSON and HTML reports, and exits 0 on a clean series", async () => {
    process.env.PQ_CACHE_DIR = join(out, "cache");
    // The first five patches: shards, merging and the reports are the subject here; the whole
    // series is built and booted in test/ci/kernel-series.test.ts. Six states, three backends.
    const queue = seriesPrefix(join(root, "queue"), 5, join(out, "queue-5"));
    // A generous hang limit: a loaded machine must not turn a healthy boot into a hang here (the ci tests of hangs set their own).
    const slow = ["--timeout", "20"];
    const a = await pq(root, "ci", "--queue", queue, "--tree", "kernel-model", ...slow, "--shard", "1/2", "--json", join(out, "a.json"));
    const b = await pq(root, "ci", "--queue", queue, "--tree", "kernel-model", ...slow, "--shard", "2/2", "--json", join(out, "b.json"));
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.out).toContain("shard 1/2");
    const merged = await pq(out, "ci", "merge", "a.json", "b.json", "--junit", "j.xml", "--html", "m.html", "--json", "all.json");
    expect(merged.code).toBe(0);
    const [, cells, passed, skipped] = /(\d+) cells: (\d+) pass, (\d+) skip\n/.exec(merged.out)!.map(Number);
    expect([cells, passed + skipped]).toEqual([18, 18]);
    // Native boots at every state; the Xen and VMI backends are skipped until the patches that add them.
    expect(passed).toBeGreaterThanOrEqual(6);
    const junit = (await parse(readFileSync(join(out, "j.xml"), "utf8"))) as { tests: number; failures: number };
    expect([junit.tests, junit.failures]).toEqual([18, 0]);
    expect(readFileSync(join(out, "m.html"), "utf8")).toContain("all passing");
    expect(JSON.parse(readFileSync(join(out, "all.json"), "utf8")).shard).toBeUndefined();
    // The shards filled the cache: a full run reuses every cell and says so; bisect probes from the cache too.
    const warm = await pq(root, "ci", "--queue", queue, "--tree", "kernel-model", ...slow, "--json", join(out, "warm.json"));
    expect(warm.code).toBe(0);
    expect(warm.out).toContain("PASS*");
    expect(warm.out).toContain("* reused: 18 of 18 cells");
    expect(warm.out).toContain("0 cells run, 18 reused");
    expect(JSON.parse(readFileSync(join(out, "warm.json"), "utf8")).cells.every((c: { reused?: boolean }) => c.reused)).toBe(true);
    const bisect = await pq(root, "bisect", "--queue", queue, "--tree", "kernel-model", ...slow);
    expect(bisect.code).toBe(0);
    expect(bisect.out).toMatch(/no bad state to find: the top state \(\d+\) passes .*\(1 evaluation, 0 new, 1 reused from the cache\)/);
    // The backends the top's kernel does not have yet are said, not passed over (t52 N2).
    expect(bisect.out).toContain("passes on the backends it has, xen, vmi skipped there");
    const bad = await pq(out, "ci", "--shard", "3/2");
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--shard wants K/N");
    // A shard's report missing: the merge is not green; a file that is no report is named.
    const partial = await pq(out, "ci", "merge", "a.json");
    expect(partial.code).toBe(12);
    expect(partial.err).toContain("the merged report is incomplete");
    write(out, "junk.json", "not json\n");
    write(out, "empty.json", "{}\n");
    for (const f of ["junk.json", "empty.json", "missing.json"]) {
      const r = await pq(out, "ci", "merge", f);
      expect(r.code, f).toBe(2);
      expect(r.err).toContain(`${f} is not a pq ci report`);
    }
  }, 120_000);

  it("a patch that breaks build.json or does not apply is a red state in the matrix, and the run still reports", async () => {
    // The five patches the first test booted (in the cache) and a sixth that breaks the build:
    // only the broken state is new.
    const q = seriesPrefix(join(root, "queue"), 5, join(out, "q-broken"));
    write(
      q,
      "zz-break-build-json.patch",
      'From: Test User <test@example.org>\nSubject: build: typo in build.json\n\n---\ndiff --git a/build.json b/build.json\n--- a/build.json\n+++ b/build.json\n@@ -1,3 +1,3 @@\n {\n-  "output": "kernel.elf",\n+  "output": "kernel.elf"\n   "cflags": [\n',
    );
    write(q, "series", readFileSync(join(q, "series"), "utf8") + "zz-break-build-json.patch\n");
    const r = await pq(root, "ci", "--queue", q, "--tree", "kernel-model", "-b", "native", "--json", join(out, "broken.json"));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/zz-break-build-json\.patch +BUILD/);
    const cells = JSON.parse(readFileSync(join(out, "broken.json"), "utf8")).cells as { state: number; outcome: string; reason?: string }[];
    expect(cells.at(-1)).toMatchObject({ outcome: "build-error" });
    expect(cells.at(-1)!.reason).toContain("cannot read build.json");
    expect(cells.filter((c) => c.outcome === "pass").length).toBe(cells.length - 1);
    // A patch dropped from the middle of the series: the next one no longer applies, and the
    // one after it is not built. The series is cut after that one: the rest would only build.
    const series = readFileSync(join(root, "queue", "series"), "utf8")
      .split("\n")
      .filter(Boolean);
    const dropped = series.indexOf("vmi-backend.patch");
    series.splice(dropped + 3);
    write(q, "series", series.filter((n) => n !== "vmi-backend.patch").join("\n") + "\n");
    const r2 = await pq(root, "ci", "--queue", q, "--tree", "kernel-model", "-b", "native", "--json", join(out, "noapply.json"));
    expect(r2.code).toBe(1);
    const cells2 = JSON.parse(readFileSync(join(out, "noapply.json"), "utf8")).cells as {
      state: number;
      outcome: string;
      reason?: string;
    }[];
    expect(cells2[dropped + 1]).toMatchObject({ outcome: "build-error", reason: "paravirt-iret.patch does not apply" });
    expect(cells2.slice(0, dropped + 1).every((c) => c.outcome === "pass")).toBe(true);
    expect(cells2.at(-1)!.reason).toContain("not built: paravirt-iret.patch");
  }, 120_000);

  it("checks report paths before the run, and leaves no scratch copy behind when interrupted", async () => {
    const r = await pq(root, "ci", "--queue", "queue", "--tree", "kernel-model", "--json", join(out, "no", "such", "r.json"));
    expect(r.code).toBe(14);
    expect(r.err).toContain("cannot write into");
    expect(r.out).toBe("");
    // A directory, and one file named for two reports, are refused before the run too (t120 N2, N3).
    const dir = await pq(root, "ci", "--queue", "queue", "--tree", "kernel-model", "--json", out);
    expect([dir.code, dir.out]).toEqual([2, ""]);
    expect(dir.err).toContain(`--json ${out} is a directory`);
    const twice = await pq(root, "ci", "--queue", "queue", "--tree", "kernel-model", "--json", "r.out", "--junit", "r.out");
    expect([twice.code, twice.out]).toEqual([2, ""]);
    expect(twice.err).toContain("--json and --junit name one file, r.out");
    // By a link to it too (t121 N1).
    writeFileSync(join(out, "r.json"), "");
    symlinkSync(join(out, "r.json"), join(out, "r.link"));
    const linked = await pq(
      root,
      "ci",
      "--queue",
      "queue",
      "--tree",
      "kernel-model",
      "--json",
      join(out, "r.json"),
      "--junit",
      join(out, "r.link"),
    );
    expect([linked.code, linked.err]).toEqual([2, expect.stringContaining(`--json and --junit name one file, ${join(out, "r.link")}`)]);
    const tmp = tempDir("pq-ci-sigint-");
    const child = spawn(process.execPath, [resolve("bin/pq.js"), "ci", "--queue", "queue", "--tree", "kernel-model", "--no-cache"], {
      cwd: root,
      env: { ...process.env, TMPDIR: tmp, PQ_CACHE_DIR: join(tmp, "cache") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    let done = false;
    const exited = new Promise<number | null>((res) =>
      child.on("exit", (code) => {
        done = true;
        res(code);
      }),
    );
    // Once its scratch copy exists the run is under way (a cold run of 39 cells takes seconds).
    while (!readdirSync(tmp).some((n) => n.startsWith("pq-scratch-")) && !done) await new Promise((res) => setTimeout(res, 20));
    await new Promise((res) => setTimeout(res, 300));
    expect(done, err).toBe(false);
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(readdirSync(tmp).filter((n) => n.startsWith("pq-scratch-"))).toEqual([]);
    // Only pq got the SIGINT (a terminal's ^C reaches its compilers too): a compiler it had started
    // may still be putting an object into the build cache, so the removal waits for it.
    rmSync(tmp, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  }, 60_000);

  it("refuses options that would test something else than asked: a mistyped queue, backends, jobs, timeout", async () => {
    const typo = join(out, "no", "such", "queue");
    const r = await pq(root, "ci", "--queue", typo, "--tree", "kernel-model");
    expect(r.code).toBe(3);
    expect(r.err).toContain(`no queue at ${typo}`);
    expect(existsSync(join(out, "no"))).toBe(false);
    expect((await pq(root, "bisect", "--queue", typo, "--tree", "kernel-model")).code).toBe(3);
    const backends = await pq(root, "ci", "--queue", "queue", "--tree", "kernel-model", "--backends", "xne,vmi");
    expect(backends.code).toBe(2);
    expect(backends.err).toContain("no backend named xne");
    expect((await pq(root, "ci", "--queue", "queue", "--tree", "kernel-model", "--backends", ",")).code).toBe(2);
    const jobs = await pq(root, "ci", "--queue", "queue", "--tree", "kernel-model", "--jobs", "abc");
    expect(jobs.code).toBe(2);
    expect(jobs.err).toContain(`--jobs takes a positive whole number, not "abc"`);
    expect((await pq(root, "build", "--tree", "kernel-model", "-j", "0")).code).toBe(2);
    expect((await pq(root, "ci", "--queue", "queue", "--tree", "kernel-model", "--timeout", "-1")).code).toBe(2);
  });

  it("ci merge refuses shards of one series run over different base trees", async () => {
    const queue = seriesPrefix(join(root, "queue"), 3, join(out, "queue-base"));
    const other = join(out, "tree-other");
    cpSync(join(root, "kernel-model"), other, { recursive: true });
    write(other, "kernel/panic.c", readFileSync(join(other, "kernel/panic.c"), "utf8") + "int tester_base_diff(void) { return 5; }\n");
    const shard = async (tree: string, k: number, file: string) => {
      const r = await pq(root, "ci", "--queue", queue, "--tree", tree, "--run", "true", "--shard", `${k}/2`, "--json", join(out, file));
      expect(r.code, r.err).toBe(0);
    };
    await shard("kernel-model", 1, "base-1.json");
    await shard("kernel-model", 2, "base-2.json");
    await shard(other, 2, "other-2.json");
    const ids = ["base-1.json", "base-2.json", "other-2.json"].map((f) => JSON.parse(readFileSync(join(out, f), "utf8")).baseId);
    expect(ids[0]).toMatch(/^[0-9a-f]{16}$/);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
    const same = await pq(out, "ci", "merge", "base-1.json", "base-2.json");
    expect(same.code, same.err).toBe(0);
    // A run's option means nothing to merge: refused, not taken and ignored (readme-15 F4).
    const runOption = await pq(out, "ci", "merge", "base-1.json", "base-2.json", "--shard", "1/2");
    expect([runOption.code, runOption.err]).toEqual([2, expect.stringContaining("Unknown argument: --shard")]);
    const mixed = await pq(out, "ci", "merge", "base-1.json", "other-2.json");
    expect(mixed.code).toBe(2);
    expect(mixed.err).toContain("different base trees");
    expect(mixed.err).toContain("merge the --json reports of the shards of one ci run");
    // A damaged artifact, entry by entry: refused naming the file and the entry (ci-17 F12: exit 70, or a green matrix with a cell missing).
    const good = JSON.parse(readFileSync(join(out, "base-1.json"), "utf8"));
    const damaged: [string, (r: typeof good) => void, string][] = [
      ["null-state", (r) => (r.states[0] = null), "states[0] is not state 0"],
      ["null-cell", (r) => (r.cells[0] = null), "cells[0] is not a cell"],
      ["odd-outcome", (r) => (r.cells[0].outcome = "weird"), "cells[0] has no verdict pq gives (weird)"],
      ["odd-backend", (r) => (r.cells[0].backend = "arm"), "cells[0] names no backend of the report (arm)"],
      ["short-states", (r) => (r.states = r.states.slice(0, 1)), "cells[1] names no state of the report (2)"],
    ];
    for (const [name, damage, said] of damaged) {
      const report = structuredClone(good);
      damage(report);
      write(out, `${name}.json`, JSON.stringify(report));
      const r = await pq(out, "ci", "merge", `${name}.json`, "base-2.json");
      expect([name, r.code]).toEqual([name, 2]);
      expect(r.err).toContain(`${name}.json is not a whole pq ci report: ${said}`);
    }
  }, 60_000);

  it("ci and bisect refuse a tree whose pq operation stopped half way, and leave it, and the user's edits, as they are (ci-17 F15)", async () => {
    const tree = makeRepo({ "a.txt": "a\n", "b.txt": "b\n" });
    write(tree, ".git/info/exclude", "patches/\n");
    expect((await pq(tree, "init")).code).toBe(0);
    for (const [name, file] of [
      ["one.patch", "a.txt"],
      ["two.patch", "b.txt"],
    ]) {
      expect((await pq(tree, "new", name)).code).toBe(0);
      write(tree, file, `${file} changed\n`);
      expect((await pq(tree, "refresh")).code).toBe(0);
    }
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    const killed = spawnSync(process.execPath, [resolve("bin/pq.js"), "push", "-a"], {
      cwd: tree,
      env: { ...process.env, PQ_FAILPOINT: "tree-half" },
    });
    expect(killed.signal).toBe("SIGKILL");
    write(tree, "a.txt", "an edit made after the crash\n");
    const before = snapshot(tree);
    for (const cmd of [
      ["ci", "--run", "true"],
      ["bisect", "--run", "true"],
    ]) {
      const r = await pq(tree, ...cmd);
      expect([cmd[0], r.code]).toEqual([cmd[0], 13]);
      expect(r.err).toContain(
        `a pq operation in ${tree} stopped half way and waits to be completed; pq ${cmd[0]} tests states and never writes your tree`,
      );
      expect(r.err).toContain("pq status completes it");
      expect(snapshot(tree)).toEqual(before);
    }
  });

  it("bisect --run names the first bad patch, with its author, and exits 1", async () => {
    const tree = tempDir("pq-bisect-cli-tree-");
    const queue = tempDir("pq-bisect-cli-queue-");
    write(tree, "n.txt", "0\n");
    const names = [];
    for (let k = 1; k <= 20; k++) {
      const name = `step-${k}.patch`;
      write(
        queue,
        name,
        `From: Dev ${k} <dev${k}@example.org>\nSubject: step ${k}\n\ndiff --git a/n.txt b/n.txt\n--- a/n.txt\n+++ b/n.txt\n@@ -1 +1 @@\n-${k - 1}\n+${k}\n`,
      );
      names.push(name);
    }
    write(queue, "series", names.join("\n") + "\n");
    const r = await pq(out, "bisect", "--queue", queue, "--tree", tree, "--run", "test $(cat n.txt) -lt 13");
    expect(r.code).toBe(1);
    expect(r.out).toContain("first bad patch: step-13.patch (state 13 of 20");
    expect(r.out).toContain("author: Dev 13 <dev13@example.org>");
    expect(r.out).toMatch(/found in [1-7] evaluations/);
    // A failure from the base tree on is no patch's fault; a passing top leaves nothing to find
    // (even with a bad state in between); untestable everywhere is no answer.
    const base = await pq(out, "bisect", "--queue", queue, "--tree", tree, "--run", "false");
    expect(base.code).toBe(1);
    expect(base.out).toContain("the base tree (state 0) already fails");
    const top = await pq(out, "bisect", "--queue", queue, "--tree", tree, "--run", "test $(cat n.txt) -ne 4");
    expect(top.code).toBe(0);
    expect(top.out).toContain("no bad state to find: the top state (20) passes (1 evaluation)");
    const skip = await pq(out, "bisect", "--queue", queue, "--tree", tree, "--run", "exit 125");
    expect(skip.code).toBe(12);
    expect(skip.out).toMatch(
      /could not decide: states [\d, ]+ could not be tested \(all skipped\), so whether one of them fails is unknown/,
    );
    expect(existsSync(join(tree, ".pq"))).toBe(false); // the tree itself was never touched
    cleanup(tree);
    cleanup(queue);
  });
});
