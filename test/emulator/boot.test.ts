import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTree } from "../../src/build/index.js";
import { bootKernel, BootPool } from "../../src/emulator/index.js";
import { fixtureKernelTree } from "../helpers/kernels.js";
import { cleanup, pq, tempDir } from "../helpers/repo.js";

const dirs: string[] = [];
const kernels: Record<string, string> = {};
const cacheDir = tempDir("pq-cache-");
dirs.push(cacheDir);

beforeAll(async () => {
  for (const v of ["pass", "fail", "spin", "panic", "triple-fault", "skip-listed", "native-fallback", "odd-verdict"]) {
    const tree = fixtureKernelTree(v);
    dirs.push(tree);
    const r = await buildTree({ tree, cacheDir });
    expect(r.ok).toBe(true);
    kernels[v] = r.kernelPath!;
  }
});
afterAll(() => dirs.forEach(cleanup));

describe("pq boot verdicts on v86", () => {
  it("pass, fail (with reason), panic", async () => {
    const pass = await bootKernel(kernels.pass, { backend: "native" });
    expect(pass.verdict).toBe("pass");
    expect(pass.backendsAvailable).toEqual(["native"]);
    expect(pass.log).toContain("pq: smoke=pass");
    const fail = await bootKernel(kernels.fail, { backend: "native" });
    expect(fail.verdict).toBe("fail");
    expect(fail.reason).toBe("demo check failed");
    const panic = await bootKernel(kernels.panic, { backend: "native" });
    expect(panic.verdict).toBe("panic");
    expect(panic.reason).toBe("fixture panic");
  });

  it("a backend the kernel does not list is a skip, even though it ran", async () => {
    const r = await bootKernel(kernels.pass, { backend: "xen" });
    expect(r.verdict).toBe("skip");
    expect(r.reason).toContain("no xen backend");
  });

  it("a skip of a backend the kernel lists is a fail (its probe broke); of one it does not list, a skip (ci-17 F8)", async () => {
    const listed = await bootKernel(kernels["skip-listed"], { backend: "xen" });
    expect(listed.verdict).toBe("fail");
    expect(listed.reason).toBe("the kernel lists the xen backend (backends=native,xen) but did not run on it: probe found no hypervisor");
    const unlisted = await bootKernel(kernels["skip-listed"], { backend: "vmi" });
    expect(unlisted.verdict).toBe("skip");
  });

  it("a pass on other ops than the backend asked for is a fail: native took over from a broken probe (t85 N1)", async () => {
    const xen = await bootKernel(kernels["native-fallback"], { backend: "xen" });
    expect([xen.verdict, xen.reason]).toEqual(["fail", "asked for the xen backend, the kernel ran on bare hardware"]);
    const native = await bootKernel(kernels["native-fallback"], { backend: "native" });
    expect(native.verdict).toBe("pass");
  });

  it("a verdict line with a value pq does not read is a fail at once, not a hang (t85 N4)", async () => {
    const r = await bootKernel(kernels["odd-verdict"], { backend: "native", timeoutMs: 60_000 });
    expect([r.verdict, r.reason]).toEqual(["fail", 'unknown smoke value "passed" (pq reads pass, fail and skip)']);
    expect(r.msToVerdict).toBeLessThan(60_000);
  });

  it("a kernel that spins is a hang; one that triple-faults is a crash", async () => {
    const hang = await bootKernel(kernels.spin, { backend: "native", timeoutMs: 600 });
    expect(hang.verdict).toBe("hang");
    expect(hang.msToVerdict).toBeGreaterThanOrEqual(600);
    const crash = await bootKernel(kernels["triple-fault"], { backend: "native", timeoutMs: 3000 });
    expect(crash.verdict).toBe("crash");
    // What v86's Rust said as the CPU stopped is the reason's detail, not a line on stderr (t85 N2).
    expect(crash.reason).toMatch(/^the CPU was reset \(triple fault\)$|\(v86: [^)]+\)/);
  });

  it("a pool of 2 workers boots 4 kernels correctly", async () => {
    const pool = new BootPool({ workers: 2 });
    try {
      const results = await Promise.all([
        pool.boot(kernels.pass, { backend: "native" }),
        pool.boot(kernels.fail, { backend: "native" }),
        pool.boot(kernels.panic, { backend: "native" }),
        pool.boot(kernels.pass, { backend: "vmi" }),
      ]);
      expect(results.map((r) => r.verdict)).toEqual(["pass", "fail", "panic", "skip"]);
    } finally {
      // The workers end on their own, none terminated while its emulator might run (tui-22 F1).
      expect(await pool.close()).toEqual({ terminated: 0 });
    }
  });

  it("the CLI prints one verdict per backend and exits non-zero on failure", async () => {
    const ok = await pq(tempDir(), "boot", "--kernel", kernels.pass, "--all");
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/native\s+PASS/);
    expect(ok.out).toMatch(/xen\s+SKIP/);
    const bad = await pq(tempDir(), "boot", "--kernel", kernels.spin, "--timeout", "0.5");
    expect(bad.code).toBe(10);
    expect(bad.out).toMatch(/native\s+HANG/);
    expect(bad.out).toContain("| pq: backends=native");
    // A file that is no multiboot kernel: said, with what pq boots (readme-15 F5).
    const notKernel = await pq(tempDir(), "boot", "--kernel", "/bin/true");
    expect(notKernel.code).toBe(10);
    expect(notKernel.err).toContain("the kernel has no multiboot header");
    expect(notKernel.err).toContain("pq boots an i386 multiboot ELF");
  });
});
