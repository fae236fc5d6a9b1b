/**
 * A queue kept inside the tree (patches/) is left out of a state's key only as far as it is the
 * queue: its series and patch files, so that rewording a patch does not rebuild every state.
 * A file in that folder a source includes is an input like any other (t43 N1: the whole folder
 * was left out, and a header broken there kept a state's PASS from the cache).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fixtureKernelTree } from "../helpers/kernels.js";
import { cleanup, git, pq, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));

describe("the key of a state whose queue folder is inside the tree", () => {
  it("leaves the queue's own files out, and counts a header the build reads from that folder", async () => {
    const tree = fixtureKernelTree("pass");
    const cache = tempDir("pq-queue-inputs-cache-");
    dirs.push(tree, cache);
    process.env.PQ_CACHE_DIR = cache;
    const main = () => readFileSync(join(tree, "main.c"), "utf8");
    write(tree, "patches/cfg.h", "#define GREETING 1\n");
    write(tree, "main.c", `#include "patches/cfg.h"\n${main()}`);
    git(tree, "init", "-q", "-b", "main");
    git(tree, "add", "-A");
    git(tree, "commit", "-qm", "base");
    await pq(tree, "init");
    await pq(tree, "new", "more.patch", "-m", "Say more");
    write(tree, "main.c", `${main()}/* more */\n`);
    await pq(tree, "refresh");
    const report = join(cache, "report.json");
    const run = async () => {
      const r = await pq(tree, "ci", "-b", "native", "--timeout", "20", "--json", report);
      const cells = (JSON.parse(readFileSync(report, "utf8")) as { cells: { state: number; outcome: string; reused?: boolean }[] }).cells;
      return { code: r.code, out: r.out, cells: cells.map((c) => `${c.state} ${c.outcome}`) };
    };
    const first = await run();
    expect(first.code).toBe(0);
    expect(first.cells).toEqual(["0 pass", "1 pass"]);
    // A reworded patch: the same trees to build, every image reused.
    await pq(tree, "header", "-m", "Say more, reworded");
    const reworded = await run();
    expect(reworded.code).toBe(0);
    expect(reworded.out).toContain("reused: 2 of 2 cells");
    // The header in the queue's folder broken (and committed, so every state has it): built again, and failing.
    await pq(tree, "pop", "-a");
    write(tree, "patches/cfg.h", "#error the header in the queue folder is broken\n");
    git(tree, "commit", "-qam", "break the header");
    await pq(tree, "push", "-a");
    const broken = await run();
    expect(broken.code).toBe(1);
    expect(broken.cells).toEqual(["0 build-error", "1 build-error"]);
  });
});
