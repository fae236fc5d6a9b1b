import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "junit2json";
import { afterEach, describe, expect, it } from "vitest";
import type { CiReport } from "../../src/ci/report.js";
import { cleanup, git, makeRepo, pq, read, tempDir, write } from "../helpers/repo.js";

/**
 * pq ci and pq bisect on a project that is not the kernel model: each state judged by the
 * user's command (git bisect run's exit codes), and a clear refusal without --run.
 */
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(cleanup));

/** Four patches on version.txt: 2 breaks the check, 3 is marked untestable, 4 hangs. */
async function series(): Promise<string> {
  const tree = makeRepo({ "version.txt": "1\n", "check.sh": "exit 0\n" });
  dirs.push(tree);
  await pq(tree, "init");
  const steps: [string, string][] = [
    ["one.patch", "exit 0"],
    ["two.patch", 'echo "check: version 2 is wrong" >&2; exit 3'],
    ["three.patch", "exit 125"],
    ["four.patch", "sleep 30"],
  ];
  for (const [name, check] of steps) {
    await pq(tree, "new", name);
    write(tree, "check.sh", `${check}\n`);
    write(tree, "version.txt", `${name}\n`);
    await pq(tree, "refresh", "check.sh", "version.txt");
  }
  return tree;
}

describe("pq ci --run", () => {
  it("judges every state by the command: pass, fail with its output, skip, and a hang killed at --timeout", async () => {
    const tree = await series();
    const r = await pq(tree, "ci", "--run", "sh check.sh", "--timeout", "2", "--json", "r.json", "--junit", "r.xml");
    expect(r.code, r.err).toBe(1);
    const report = JSON.parse(readFileSync(join(tree, "r.json"), "utf8")) as CiReport;
    expect(report.backends).toEqual(["run"]);
    expect(report.cells.map((c) => `${c.state}:${c.outcome}`)).toEqual(["0:pass", "1:pass", "2:fail", "3:skip", "4:hang"]);
    expect(report.cells[2].reason).toBe("exit 3");
    expect(report.cells[2].log).toContain("check: version 2 is wrong");
    expect(report.cells[4].reason).toMatch(/--timeout/);
    expect(r.out).toMatch(/first failure: state 2 \(two\.patch, .*\) by the command: FAIL - exit 3/);
    expect(r.out).toContain("| check: version 2 is wrong");
    const junit = (await parse(readFileSync(join(tree, "r.xml"), "utf8"))) as { tests: number; failures: number; errors: number };
    expect([junit.tests, junit.failures, junit.errors]).toEqual([5, 1, 1]);
    // The user's tree and stack are untouched: ci works in a scratch copy.
    expect(read(tree, "version.txt")).toBe("four.patch\n");
    expect((await pq(tree, "status")).out).toContain("applied 4");
  }, 60_000);

  it("tells the command which state it judges (PQ_STATE, PQ_PATCH) and runs it in that state's tree", async () => {
    const tree = await series();
    const out = join(tree, "seen.txt");
    const r = await pq(tree, "ci", "--run", `echo "$PQ_STATE $PQ_PATCH $(cat version.txt)" >> ${out}`, "--shard", "1/2");
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(out, "utf8")).toBe("0  1\n2 two.patch two.patch\n4 four.patch four.patch\n");
  }, 60_000);

  it("bisect --run: --timeout counts a hang as bad, a patch that does not apply is the bad one, --json keeps stdout for the report", async () => {
    const tree = await series();
    // four.patch's check sleeps 30 s: killed at 2 s, a hang, bad; two.patch is the first bad one either way.
    const r = await pq(tree, "bisect", "--run", "sh check.sh", "--timeout", "2", "--json");
    expect(r.code, r.err).toBe(1);
    const report = JSON.parse(r.out);
    expect(report.patch).toBe("two.patch");
    expect(r.err).toContain("testing state 4 (four.patch)");
    // three.patch broken so that it no longer applies: bad from there on, as ci marks it.
    write(tree, "patches/three.patch", read(tree, "patches/three.patch").replace(/^-two\.patch$/m, "-not-what-is-there"));
    await pq(tree, "pop", "-a");
    const na = await pq(tree, "bisect", "--run", "true");
    expect(na.code, na.err + na.out).toBe(1);
    expect(na.out).toContain("first bad patch: three.patch");
    expect(na.out).toContain("failure: does not apply");
    // Progress is on stderr, the answer alone on stdout (ci-17 F13), for ci as for bisect.
    expect(na.out).not.toContain("testing state");
    expect(na.err).toContain("testing state");
    const ci = await pq(tree, "ci", "--run", "true");
    expect(ci.out).not.toContain("running the command at state");
    expect(ci.err).toContain("running the command at state 0");
    expect(na.out).not.toContain("pq push --force");
  }, 60_000);

  it("a queue committed inside the tree: an edited patch is what ci tests, not an unrefreshed change; a killed run's scratch copy is removed", async () => {
    const tree = await series();
    // A scratch copy a killed run left (its process gone, unchanged for an hour) goes; a live one's stays.
    const dead = spawnSync("true").pid!;
    const left = join(tmpdir(), `pq-scratch-left-${dead}-abcdef`);
    const live = join(tmpdir(), `pq-scratch-live-${process.ppid}-abcdef`);
    for (const d of [left, live]) {
      mkdirSync(d, { recursive: true });
      const old = new Date(Date.now() - 2 * 3600_000);
      utimesSync(d, old, old);
      dirs.push(d);
    }
    await pq(tree, "pop", "-a");
    git(tree, "add", "patches");
    git(tree, "commit", "-qm", "the queue");
    expect((await pq(tree, "header", "one.patch", "-m", "one: a new description")).code).toBe(0);
    const r = await pq(tree, "ci", "--run", "true");
    expect(r.code, r.err).toBe(0);
    expect(existsSync(left)).toBe(false);
    expect(existsSync(live)).toBe(true);
  }, 60_000);

  it("without --run, a tree with no build.json is refused at once with the way to use a command (exit 12)", async () => {
    const tree = await series();
    for (const command of ["ci", "bisect"]) {
      const r = await pq(tree, command);
      expect(r.code).toBe(12);
      expect(r.err).toContain("has no build.json");
      expect(r.err).toContain(`pq ${command} --run`);
    }
    expect((await pq(tree, "ci", "--run", " ")).code).toBe(2);
    // A patch that edits a build.json (the base has none to edit) adds none: still refused (t124 N3).
    const queue = tempDir("pq-ci-edits-build-");
    dirs.push(queue);
    write(queue, "series", "edit.patch\n");
    write(queue, "edit.patch", '--- a/build.json\n+++ b/build.json\n@@ -1 +1 @@\n-{"sources": []}\n+{"sources": ["a.c"]}\n');
    const plain = makeRepo({ "a.c": "int a;\n" });
    dirs.push(plain);
    const edits = await pq(plain, "ci", "--queue", queue, "--tree", plain);
    expect([edits.code, edits.err]).toEqual([12, expect.stringContaining("has no build.json")]);
  }, 60_000);
  it("a --queue DIR run names the user's files, not its scratch copy's, and an empty series is nothing to bisect (ci-17 F10)", async () => {
    const tree = makeRepo({ "a.txt": "a\n" });
    const queue = tempDir("pq-ci-user-queue-");
    dirs.push(tree, queue);
    write(queue, "series", "one.patch\nmissing.patch\n");
    write(queue, "one.patch", "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+b\n");
    for (const cmd of ["ci", "bisect"]) {
      const r = await pq(tree, cmd, "--queue", queue, "--tree", tree, "--run", "true");
      expect(r.err).toContain(`${queue}/missing.patch`);
      expect(r.err).not.toContain("pq-scratch");
      expect(r.err).not.toContain("restore-queue");
      expect(r.err).toContain(`restore the file, or take its line out of the series, then run pq ${cmd} again`);
    }
    write(queue, "series", "one.patch\none.patch\n");
    const twice = await pq(tree, "ci", "--queue", queue, "--tree", tree, "--run", "true");
    expect(twice.err).toContain(`${queue}/series: series line 2: one.patch is listed twice`);
    expect(twice.err).not.toContain("pq init again");
    write(queue, "series", "");
    const empty = await pq(tree, "bisect", "--queue", queue, "--tree", tree, "--run", "true");
    expect([empty.code, empty.err]).toEqual([12, expect.stringContaining("nothing to bisect: the series has no patch to push")]);
  });
});

describe("pq ci over a patch that applies only with fuzz (t51 N7: all green, unsaid)", () => {
  it("says so on stderr and in the report's state, as git am would refuse the patch", async () => {
    const lines = Array.from({ length: 12 }, (_, i) => `line ${i + 1}\n`).join("");
    const tree = makeRepo({ "f.txt": lines });
    const queue = tempDir("pq-ci-fuzz-queue-");
    dirs.push(tree, queue);
    // Its context says "line 4" where the tree has "line 4 changed": GNU patch's fuzz 1.
    write(queue, "fuzzy.patch", "--- a/f.txt\n+++ b/f.txt\n@@ -4,5 +4,5 @@\n line 4\n line 5\n-line 6\n+six\n line 7\n line 8\n");
    write(queue, "series", "fuzzy.patch\n");
    write(tree, "f.txt", lines.replace("line 4\n", "line 4 changed\n"));
    git(tree, "commit", "-qam", "context moved");
    const report = join(queue, "report.json");
    const r = await pq(tree, "ci", "--queue", queue, "--tree", tree, "--run", "true", "--json", report);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain("fuzzy.patch applies only with fuzz (git am would refuse it): state 1 tests it as pq placed it");
    expect((JSON.parse(readFileSync(report, "utf8")) as CiReport).states[1].applied).toBe("fuzz");
  });
});
