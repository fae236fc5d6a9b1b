import { resolve } from "node:path";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTree } from "../../src/build/index.js";
import { openScratch } from "../../src/ci/scratch.js";
import { bootKernel, type BootResult } from "../../src/emulator/index.js";
import { machineStats } from "../../src/emulator/machine.js";
import { fixtureKernelTree } from "../helpers/kernels.js";
import { cleanup, tempDir } from "../helpers/repo.js";

/**
 * Reused emulators (reset to a saved state, new kernel loaded) must judge exactly as
 * fresh instances: states of the bundled series on every backend, booted both ways.
 */
const backends = ["native", "xen", "vmi"];
const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));
const kernels = new Map<number, Uint8Array>();
/** States where the kernel gains what a boot exercises: the base, each backend's first state, the top (every op patched). */
const STATES = new Set([0, 6, 7]);

beforeAll(async () => {
  const cacheDir = tempDir("pq-cache-");
  dirs.push(cacheDir);
  const scratch = await openScratch({ tree: resolve("kernel-model"), queue: resolve("queue") });
  try {
    STATES.add(scratch.patches.length);
    for (const k of [...STATES].sort((a, b) => a - b)) {
      await scratch.stack.goto(k === 0 ? 0 : scratch.patches[k - 1], { force: true });
      const built = await buildTree({ tree: scratch.stack.tree, cacheDir });
      expect(built.ok).toBe(true);
      kernels.set(k, new Uint8Array(readFileSync(built.kernelPath!)));
    }
  } finally {
    scratch.dispose();
  }
}, 180_000);

// Lines whose numbers count timer ticks or events that raced them: they differ between two fresh boots too.
const TIMING = /\b(ticks|halts|held|pending|events-held-while-masked|still-pending|interrupts-from-user|cycles|insns|ms)=/;
const comparable = (r: BootResult) => ({
  verdict: r.verdict,
  reason: r.reason,
  backends: r.backendsAvailable,
  log: r.log
    .replace(/\r/g, "")
    .split("\n")
    .map((l) => (TIMING.test(l) ? l.replace(/=\d+/g, "=N") : l)),
});

describe("reused emulator instances", () => {
  it("give the base, each backend's first state and the top of the bundled series the verdict and serial log a fresh instance gives", async () => {
    // Generous limit: this compares outcomes, and a loaded machine must not turn a slow boot into a hang.
    const timeoutMs = 20_000;
    const resetsBefore = machineStats.reset;
    for (const [state, kernel] of kernels) {
      for (const backend of backends) {
        const fresh = await bootKernel(kernel, { backend, timeoutMs, freshInstance: true });
        const reused = await bootKernel(kernel, { backend, timeoutMs });
        expect(comparable(reused), `state ${state} on ${backend}`).toEqual(comparable(fresh));
        expect(fresh.verdict === "pass" || fresh.verdict === "skip", `state ${state} on ${backend}: ${fresh.verdict}`).toBe(true);
      }
    }
    // Sequential boots: all but the first few ran on a reset machine, not a new one.
    expect(machineStats.reset - resetsBefore).toBeGreaterThanOrEqual(kernels.size * backends.length - 1);
  }, 300_000);

  it("after a hang or a crash (whose machine is destroyed, not reused) the next boots are judged correctly", async () => {
    const trees = ["spin", "triple-fault", "pass", "fail"].map((v) => fixtureKernelTree(v));
    dirs.push(...trees);
    const cacheDir = tempDir("pq-cache-");
    dirs.push(cacheDir);
    const [spin, crash, pass, fail] = await Promise.all(
      trees.map(async (tree) => new Uint8Array(readFileSync((await buildTree({ tree, cacheDir })).kernelPath!))),
    );
    expect((await bootKernel(spin, { backend: "native", timeoutMs: 600 })).verdict).toBe("hang");
    expect((await bootKernel(pass, { backend: "native" })).verdict).toBe("pass");
    expect((await bootKernel(crash, { backend: "native", timeoutMs: 3000 })).verdict).toBe("crash");
    const after = await bootKernel(fail, { backend: "native" });
    expect([after.verdict, after.reason]).toEqual(["fail", "demo check failed"]);
    expect((await bootKernel(pass, { backend: "native" })).log).toContain("pq: smoke=pass");
  }, 120_000);
});
