/**
 * What pq bisect takes for untestable (t51): a state whose every backend was skipped booted
 * nothing, so it did not pass; a state that does not build cannot show the boot failure the top
 * has, so it is skipped, as `make || exit 125` makes it for git bisect run.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fixtureKernelTree } from "../helpers/kernels.js";
import { cleanup, git, pq, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));

/** The passing fixture kernel committed with an empty pq stack on it. */
async function passingStack(): Promise<string> {
  const tree = fixtureKernelTree("pass");
  dirs.push(tree);
  git(tree, "init", "-q", "-b", "main");
  git(tree, "add", "-A");
  git(tree, "-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "-qm", "base");
  await pq(tree, "init");
  return tree;
}

/** A patch of main.c, made by `change` of its text. */
async function patchMain(tree: string, name: string, change: (text: string) => string): Promise<void> {
  await pq(tree, "new", name, "-m", name);
  write(tree, "main.c", change(readFileSync(join(tree, "main.c"), "utf8")));
  expect((await pq(tree, "refresh")).code).toBe(0);
}

/** pq bisect with a cache folder of the test's own. */
async function bisect(tree: string, ...args: string[]) {
  const cacheDir = tempDir();
  dirs.push(cacheDir);
  const saved = process.env.PQ_CACHE_DIR;
  process.env.PQ_CACHE_DIR = cacheDir;
  try {
    return await pq(tree, "bisect", ...args);
  } finally {
    if (saved === undefined) delete process.env.PQ_CACHE_DIR;
    else process.env.PQ_CACHE_DIR = saved;
  }
}

describe("pq bisect over states it cannot test", () => {
  it("does not call a top whose every backend was skipped passing (t51 N2)", async () => {
    const tree = await passingStack();
    await patchMain(tree, "one", (t) => t.replace("pq: smoke=pass", "check name=one ok\\npq: smoke=pass"));
    // The fixture kernel lists native alone: xen is skipped at every state.
    const r = await bisect(tree, "-b", "xen");
    expect(r.out + r.err).not.toContain("the top state (1) passes");
    expect(r.code).toBe(12);
    expect(r.err).toContain("xen skipped");
  }, 120_000);

  it("skips a state that does not build when the top fails by booting, and names the boot failure's patch (t51 N6)", async () => {
    const tree = await passingStack();
    const pass = "pq: smoke=pass";
    await patchMain(tree, "ok1", (t) => t.replace(pass, `check name=ok1 ok\\n${pass}`));
    await patchMain(tree, "ok2", (t) => t.replace(pass, `check name=ok2 ok\\n${pass}`));
    await patchMain(tree, "ok3", (t) => t.replace(pass, `check name=ok3 ok\\n${pass}`));
    await patchMain(tree, "buildbreak", (t) => t.replace("void main(void) {", "void main(void) { int broken = ;"));
    await patchMain(tree, "buildfix", (t) => t.replace(" int broken = ;", ""));
    await patchMain(tree, "bootbreak", (t) => t.replace(pass, 'pq: smoke=fail reason=\\"bootbreak\\"'));
    await patchMain(tree, "ok7", (t) => t.replace("pq: smoke=fail", "check name=ok7 ok\\npq: smoke=fail"));
    await patchMain(tree, "ok8", (t) => t.replace("pq: smoke=fail", "check name=ok8 ok\\npq: smoke=fail"));
    const r = await bisect(tree, "-b", "native");
    // It blamed buildbreak, which the next patch fixed, for the top's boot failure.
    expect(r.out).toContain("first bad patch: bootbreak");
    expect(r.code).toBe(1);
    expect(r.err).toContain("state 4 does not build: skipped, since the top fails by booting");
  }, 240_000);
});
