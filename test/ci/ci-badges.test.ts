/**
 * `pq ci` of the current stack is remembered for the TUI's badges: Stack.ciVerdicts()
 * gives each patch's verdicts while the patches up to it are byte for byte those ci ran,
 * and drops them for an edited patch and every patch above it; a rename keeps them.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Stack } from "../../src/queue/stack.js";
import { fixtureKernelTree } from "../helpers/kernels.js";
import { cleanup, git, makeRepo, pq, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));

/** The passing fixture kernel committed in a repository of its own, with a stack and an object cache of its own. */
async function passingKernelStack(): Promise<string> {
  const tree = fixtureKernelTree("pass");
  const cache = tempDir("pq-badge-cache-");
  dirs.push(tree, cache);
  process.env.PQ_CACHE_DIR = cache;
  git(tree, "init", "-q", "-b", "main");
  git(tree, "add", "-A");
  git(tree, "commit", "-qm", "base");
  await pq(tree, "init");
  return tree;
}

describe("ci verdicts kept for the stack", () => {
  it("badges the states ci judged, until a patch changes", async () => {
    const tree = await passingKernelStack();
    const main = () => readFileSync(join(tree, "main.c"), "utf8");
    await pq(tree, "new", "more.patch", "-m", "Say more");
    write(tree, "main.c", main().replace("smoke=pass", "check name=more ok\\npq: smoke=pass"));
    await pq(tree, "refresh");
    await pq(tree, "new", "break.patch", "-m", "Break it");
    write(tree, "main.c", main().replace("pq: smoke=pass", 'pq: smoke=fail reason=\\"broken\\"'));
    await pq(tree, "refresh");
    const ci = await pq(tree, "ci", "-b", "native", "--timeout", "20");
    expect(ci.code).toBe(1);
    const stack = await Stack.open({ tree });
    expect(Object.fromEntries(stack.ciVerdicts())).toEqual({ "more.patch": { native: "pass" }, "break.patch": { native: "fail" } });
    // A flaky image's cell (its boots disagreed) keeps its mark in the badge, as in the matrix (t30 F7).
    const lastRun = join(tree, ".pq", "ci-last.json");
    const kept = readFileSync(lastRun, "utf8");
    const flaky = JSON.parse(kept) as { cells: { outcome: string; flaky?: string[] }[] };
    for (const c of flaky.cells) if (c.outcome === "fail") c.flaky = ["fail", "pass"];
    writeFileSync(lastRun, JSON.stringify(flaky));
    expect(Object.fromEntries(stack.ciVerdicts())).toEqual({ "more.patch": { native: "pass" }, "break.patch": { native: "fail~" } });
    writeFileSync(lastRun, kept);
    // A rename changes no state: the verdicts follow the new name (readme-4 #21).
    expect((await pq(tree, "rename", "more.patch", "saying-more.patch")).code).toBe(0);
    expect(Object.fromEntries(stack.ciVerdicts())).toEqual({ "saying-more.patch": { native: "pass" }, "break.patch": { native: "fail" } });
    // A commit under the stack is another base: no state is what ci built (ci-7 #11).
    await pq(tree, "pop", "-a");
    write(tree, "notes.txt", "a base change\n");
    git(tree, "add", "notes.txt");
    git(tree, "commit", "-qm", "base moves");
    await pq(tree, "push", "-a");
    expect(Object.fromEntries(stack.ciVerdicts())).toEqual({});
    git(tree, "reset", "-q", "HEAD~1");
    expect(Object.fromEntries(stack.ciVerdicts())).toEqual({ "saying-more.patch": { native: "pass" }, "break.patch": { native: "fail" } });
    // Editing the lower patch invalidates it and everything above it.
    await pq(tree, "pop");
    await pq(tree, "header", "saying-more.patch", "-m", "Say more, reworded");
    expect(Object.fromEntries(stack.ciVerdicts())).toEqual({});
  });
});

describe("a backend a patch dropped (t155 N1)", () => {
  it("is found by pq bisect after a pq ci, as ci marks it: the patch that dropped it, exit 1", async () => {
    const tree = await passingKernelStack();
    const main = () => readFileSync(join(tree, "main.c"), "utf8");
    const patch = async (name: string, change: (text: string) => string) => {
      expect((await pq(tree, "new", name, "-m", name)).code).toBe(0);
      write(tree, "main.c", change(main()));
      expect((await pq(tree, "refresh")).code).toBe(0);
    };
    await patch("add-xen.patch", (t) => t.replace("backends=native", "backends=native,xen"));
    await patch("say-more.patch", (t) => t.replace("pq: smoke=pass", "pq: check name=more ok\\npq: smoke=pass"));
    await patch("drop-xen.patch", (t) => t.replace("backends=native,xen", "backends=native"));
    await patch("say-yet-more.patch", (t) => t.replace("pq: smoke=pass", "pq: check name=yet-more ok\\npq: smoke=pass"));
    const ci = await pq(tree, "ci", "-b", "native,xen", "--timeout", "20");
    expect(ci.code).toBe(1);
    expect(ci.out).toContain("xen booted at state 1 and is gone from this state's kernel");
    const bisect = await pq(tree, "bisect", "-b", "native,xen", "--timeout", "20");
    expect(bisect.out).toContain("first bad patch: drop-xen.patch (state 3 of 4");
    expect(bisect.out).toContain("xen booted at state 1 and is gone from this state's kernel");
    expect(bisect.code).toBe(1);
    // Without ci's record the top's missing xen is said, with the way to find the patch.
    rmSync(join(tree, ".pq", "ci-last.json"));
    const blind = await pq(tree, "bisect", "-b", "native,xen", "--timeout", "20");
    expect(blind.code).toBe(0);
    expect(blind.out).toContain("after a pq ci of this stack, pq bisect takes such a backend as ci does and finds that patch");
  });
});

describe("ci verdicts of a series whose order changed (t155 N5)", () => {
  it("go from a moved patch and every patch above it, and from the patches above one put below", async () => {
    const tree = makeRepo({ "base.txt": "base\n" });
    dirs.push(tree);
    await pq(tree, "init");
    for (const [name, file] of [
      ["addf", "f"],
      ["addg", "g"],
    ]) {
      expect((await pq(tree, "new", name, "-m", `add ${file}`)).code).toBe(0);
      write(tree, file, "1\n");
      expect((await pq(tree, "add", file)).code).toBe(0);
      expect((await pq(tree, "refresh")).code).toBe(0);
    }
    await pq(tree, "pop", "-a");
    expect((await pq(tree, "ci", "--run", "test ! -e g")).code).toBe(1);
    const stack = await Stack.open({ tree });
    expect(Object.fromEntries(stack.ciVerdicts())).toEqual({ addf: { run: "pass" }, addg: { run: "fail" } });
    expect((await pq(tree, "reorder", "addg", "--first")).code).toBe(0);
    expect(Object.fromEntries(stack.ciVerdicts())).toEqual({});
    expect((await pq(tree, "reorder", "addf", "--first")).code).toBe(0);
    expect(Object.fromEntries(stack.ciVerdicts())).toEqual({ addf: { run: "pass" }, addg: { run: "fail" } });
    // A patch put below both (pq new with nothing applied goes first): no state is what ci judged.
    expect((await pq(tree, "new", "below", "-m", "below")).code).toBe(0);
    await pq(tree, "pop", "-a");
    expect(Object.fromEntries(stack.ciVerdicts())).toEqual({});
  });
});
