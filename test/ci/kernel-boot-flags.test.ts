import { execFileSync } from "node:child_process";
import { cpSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildTree } from "../../src/build/index.js";
import { bootKernel, type BootResult } from "../../src/emulator/index.js";
import { cleanup, tempDir } from "../helpers/repo.js";

/**
 * Defects and checks that only show under a boot flag, which `pq ci` cells do not pass:
 * the wrong clobber declaration that pvdebug exposes, and the VMI scan past a bad ROM; and
 * a missed sysexit site, booted at two states only (cheaper than ci + bisect).
 * Each state is built from kernel-model plus the first N patches of a series (git apply).
 */
const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));
const cacheDir = tempDir("pq-flags-cache-");
dirs.push(cacheDir);

const seriesOf = (queue: string) =>
  readFileSync(join(queue, "series"), "utf8")
    .split("\n")
    .filter((l) => l && !l.startsWith("#"));

async function buildState(queue: string, n: number): Promise<string> {
  const tree = tempDir("pq-flags-tree-");
  dirs.push(tree);
  cpSync(resolve("kernel-model"), tree, { recursive: true });
  execFileSync("git", ["init", "-q"], { cwd: tree });
  for (const p of seriesOf(queue).slice(0, n)) execFileSync("git", ["apply", join(queue, p)], { cwd: tree });
  const built = await buildTree({ tree, cacheDir });
  if (!built.ok || !built.kernelPath) throw new Error(`state ${n} of ${queue} does not build:\n${built.log}`);
  return built.kernelPath;
}

const boot = (kernel: string, backend: string, extraCmdline = ""): Promise<BootResult> =>
  bootKernel(kernel, { backend, extraCmdline, timeoutMs: 30_000 });

describe("injected defect: queue-wrong-clobber (shows only with pvdebug)", () => {
  const dir = resolve("test/fixtures/queue-wrong-clobber");
  const expected = JSON.parse(readFileSync(join(dir, "EXPECTED.json"), "utf8"));

  it("passes before the bad patch and without pvdebug; fails with it from the bad patch on", async () => {
    expect(seriesOf(dir)[expected.badState - 1]).toBe(expected.badPatch);
    const before = await buildState(dir, expected.badState - 1);
    const bad = await buildState(dir, expected.badState);
    const top = await buildState(dir, seriesOf(dir).length);
    expect((await boot(before, "native", expected.cmdline)).verdict).toBe("pass");
    expect((await boot(bad, "native")).verdict).toBe("pass");
    expect((await boot(bad, "native", expected.cmdline)).verdict).toBe(expected.failing.outcome);
    for (const backend of expected.failing.backends as string[]) {
      expect((await boot(top, backend)).verdict, backend).toBe("pass");
      const r = await boot(top, backend, expected.cmdline);
      expect(r.verdict, backend).toBe(expected.failing.outcome);
      expect(r.log).toContain("check name=irq-save-restore failed");
    }
  }, 240_000);
});

describe("injected defect: queue-missed-sysexit (an unrecorded sysexit site)", () => {
  const dir = resolve("test/fixtures/queue-missed-sysexit");
  const expected = JSON.parse(readFileSync(join(dir, "EXPECTED.json"), "utf8"));

  // Cheaper than a ci + bisect run: the state before the bad patch and the bad state, booted.
  it("passes before the bad patch and panics on the poisoned op from it on, on every backend", async () => {
    expect(seriesOf(dir)[expected.badState - 1]).toBe(expected.badPatch);
    const before = await buildState(dir, expected.badState - 1);
    const bad = await buildState(dir, expected.badState);
    for (const backend of expected.failing.backends as string[]) {
      expect((await boot(before, backend)).verdict, backend).toBe("pass");
      const r = await boot(bad, backend);
      expect(r.verdict, backend).toBe(expected.failing.outcome);
      expect(r.log).toContain("a sysexit site was missed by patching");
    }
  }, 240_000);
});

describe("VMI ROM scan", () => {
  it("goes on past a ROM that fails its checks to the good one", async () => {
    const queue = resolve("queue");
    const top = await buildState(queue, seriesOf(queue).length);
    const r = await boot(top, "vmi", "vmi-decoy-rom");
    expect(r.verdict).toBe("pass");
    expect(r.log).toContain("pq: vmi-rom decoy=c0000");
    expect(r.log).toContain("pq: vmi rom=c0000 rejected, scanning on");
    expect(r.log).toContain("pq: vmi rom=c8000 api=3.0");
  }, 120_000);
});
