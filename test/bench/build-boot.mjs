#!/usr/bin/env node
// Build and boot benchmark on the bundled kernel-model at the top of the bundled queue.
//
//   node test/bench/build-boot.mjs [BOOTS]
//
// Reports: cold and warm build of one state, the rebuild after a one-file change, time to
// first serial byte and to verdict per boot with and without reuse of the compiled wasm
// module and of the emulator instance, and boots per second with 1 and 2 worker threads.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const { buildTree } = await import(join(root, "dist/build/index.js"));
const { bootKernel, BootPool } = await import(join(root, "dist/emulator/index.js"));
const BOOTS = Number(process.argv[2] ?? 12);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const work = mkdtempSync(join(tmpdir(), "pq-bench-bb-"));
const tree = join(work, "tree");
cpSync(join(root, "kernel-model"), tree, { recursive: true });
// The top of the bundled series: apply it with git apply (the real tool), outside the timing.
const series = readFileSync(join(root, "queue/series"), "utf8")
  .split("\n")
  .filter((l) => l && !l.startsWith("#"));
execFileSync("git", ["init", "-q"], { cwd: tree });
for (const p of series) execFileSync("git", ["apply", join(root, "queue", p)], { cwd: tree });
const cacheDir = join(work, "cache");

const cold = await buildTree({ tree, cacheDir });
const warm = await buildTree({ tree, cacheDir });
const main = join(tree, "kernel/main.c");
writeFileSync(main, readFileSync(main, "utf8") + "\nint pq_bench_touched = 1;\n"); // a real change, not a comment
const one = await buildTree({ tree, cacheDir });
console.log(`build (state ${series.length}, ${cold.compiled} objects)`);
console.log(`  cold              ${cold.ms} ms (${cold.compiled} compiled)`);
console.log(`  warm              ${warm.ms} ms (${warm.compiled} compiled, ${warm.cached} cached)`);
console.log(`  one file changed  ${one.ms} ms (${one.compiled} compiled)`);

const kernel = new Uint8Array(readFileSync(cold.kernelPath));
const modes = [
  ["fresh wasm compile per boot", { coldWasm: true }],
  ["module reused, fresh emulator", { freshInstance: true }],
  ["module and emulator reused", {}],
];
for (const [label, extra] of modes) {
  const first = [];
  const verdict = [];
  for (let i = 0; i < BOOTS; i++) {
    const r = await bootKernel(kernel, { backend: ["native", "xen", "vmi"][i % 3], ...extra });
    if (r.verdict !== "pass") throw new Error(`boot ${i}: ${r.verdict}`);
    if (i === 0 && !extra.coldWasm) continue; // the first boot of a mode compiles the module or builds the machine
    first.push(r.msToFirstByte);
    verdict.push(r.msToVerdict);
  }
  console.log(`boot, ${label}: first serial byte ${median(first)} ms, verdict ${median(verdict)} ms (median of ${verdict.length})`);
}
for (const workers of [1, 2]) {
  const pool = new BootPool({ workers });
  await Promise.all([0, 1].map(() => pool.boot(kernel, { backend: "native" }))); // warm the workers
  const t = performance.now();
  const rs = await Promise.all(Array.from({ length: BOOTS }, (_, i) => pool.boot(kernel, { backend: ["native", "xen", "vmi"][i % 3] })));
  const s = (performance.now() - t) / 1000;
  await pool.close();
  if (rs.some((r) => r.verdict !== "pass")) throw new Error("a pooled boot failed");
  console.log(`boots/second with ${workers} worker(s): ${(BOOTS / s).toFixed(1)} (${BOOTS} boots in ${s.toFixed(2)} s)`);
}
rmSync(work, { recursive: true, force: true });
process.exit(0);
