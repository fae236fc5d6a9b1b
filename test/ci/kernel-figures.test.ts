import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script (node scripts/kernel-figures.mjs), without types
import { BACKENDS, collectFigures, renderFigures } from "../../scripts/kernel-figures.mjs";

/**
 * The README's kernel figures come from scripts/kernel-figures.mjs: real builds and boots of
 * the top of the bundled series. This runs the same collection and checks the claims the
 * README makes about them, not the exact numbers (the workload's include timer ticks).
 */
type Op = { raw: number; call: number; site: number };
type Boot = {
  ops: Record<string, Op>;
  counts: Record<string, Record<string, number>>;
  insns: Record<string, { total: number; perIteration: number }>;
  workload: { total: number; sites: string };
  calibration: { tenNops: number; tenMovs: number };
};
type Figures = Record<"patched" | "nopatch", Record<string, Boot>>;

let fig: Figures;
beforeAll(async () => {
  fig = await collectFigures();
}, 240_000);

describe("kernel figures (scripts/kernel-figures.mjs)", () => {
  it("is calibrated: ten known instructions read 10 on every boot", () => {
    for (const mode of ["patched", "nopatch"] as const)
      for (const b of BACKENDS as string[]) expect(fig[mode][b].calibration, `${mode} ${b}`).toEqual({ tenNops: 10, tenMovs: 10 });
  });

  it("per op: patched <= unpatched call on every backend, native patched within 2 of raw, and exact", () => {
    for (const b of BACKENDS as string[]) {
      const ops = Object.entries(fig.patched[b].ops);
      expect(ops.length).toBe(6);
      for (const [name, op] of ops) {
        expect(op.site, `${b} ${name}`).toBeLessThanOrEqual(op.call);
        expect(op.raw, `${b} ${name}`).toBeLessThan(op.call);
        // The unpatched call column does not depend on patching: the nopatch boot reads the same.
        expect(fig.nopatch[b].ops[name], `${b} ${name} nopatch`).toEqual({ raw: op.raw, call: op.call, site: op.call });
      }
    }
    for (const [name, op] of Object.entries(fig.patched.native.ops)) expect(op.site - op.raw, name).toBeLessThanOrEqual(2);
  });

  it("the lmbench-like workload: patched takes fewer instructions than nopatch on every backend", () => {
    for (const b of BACKENDS as string[]) {
      expect(fig.patched[b].workload.sites).toBe("patched");
      expect(fig.nopatch[b].workload.sites).toBe("unpatched");
      expect(fig.patched[b].workload.total, b).toBeLessThan(fig.nopatch[b].workload.total);
      for (const bench of ["null-syscall", "sysenter-null", "ctx-switch", "page-fault"])
        expect(fig.patched[b].insns[bench].perIteration, `${b} ${bench}`).toBeLessThanOrEqual(fig.nopatch[b].insns[bench].perIteration);
    }
  });

  it("op counts emerge from the workload: every group the paths use is counted, irq ops the most", () => {
    for (const b of BACKENDS as string[]) {
      const c = fig.patched[b].counts;
      expect(c["null-syscall"].cpu + c["null-syscall"].mmu).toBe(0);
      expect(c["sysenter-null"].cpu + c["sysenter-null"].mmu).toBe(0);
      expect(c["sysenter-null"].irq, b).toBeGreaterThanOrEqual(3 * c["sysenter-null"].iterations); // enable, disable, sysexit
      expect(c["ctx-switch"].cpu, b).toBeGreaterThanOrEqual(2 * c["ctx-switch"].iterations); // a cr3 write per switch
      expect(c["page-fault"].mmu, b).toBeGreaterThanOrEqual(3 * c["page-fault"].iterations); // set_pte, flush, unmap
      expect(c.all.irq, b).toBeGreaterThan(c.all.cpu + c.all.mmu + c.all.io);
    }
    const table = renderFigures(fig);
    expect(table).toContain("| op | raw | native call / patched | xen call / patched | vmi call / patched |");
    expect(table.split("\n").filter((l: string) => l.startsWith("| native |")).length).toBe(6);
  });

  it("the README carries the per-op table exactly as the script prints it now", () => {
    const perOp = (text: string) => text.split("\n\n").find((block) => block.startsWith("| op | raw |"));
    const fresh = perOp(renderFigures(fig));
    expect(fresh).toBeDefined();
    // notes/kernel-readme.md until the section is folded into README.md.
    const readme = readFileSync("README.md", "utf8");
    const text = perOp(readme) ? readme : readFileSync("notes/kernel-readme.md", "utf8");
    expect(perOp(text)).toBe(fresh);
  });
});
