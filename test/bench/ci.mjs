#!/usr/bin/env node
// pq ci on the bundled series (every state x native, xen, vmi), wall time of the whole command
// (Node start-up included), then warm boots to verdict:
//   cold            empty cache folder: every state compiled, linked and booted
//   --no-cache      objects warm, every state linked and booted again (what ci cost before verdicts were cached)
//   warm            nothing changed: every cell reused from the cache (median of RUNS)
//   one patch       the 7th patch refreshed with a code change: only its states are linked and booted
//   comment-only    a comment added to kernel/panic.c: no boots, and only panic.c preprocessed in each state
//   boot            warm boot to verdict of the top state's kernel, reused emulator vs fresh instance
//
//   npm run build && node test/bench/ci.mjs [RUNS] [BOOTS] [boots-only]
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const RUNS = Number(process.argv[2] ?? 5);
const BOOTS = Number(process.argv[3] ?? 30);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const { openScratch } = await import(join(root, "dist/ci/scratch.js"));
const { buildTree, readBuildDescription } = await import(join(root, "dist/build/index.js"));
const { bootKernel } = await import(join(root, "dist/emulator/index.js"));

const work = mkdtempSync(join(tmpdir(), "pq-bench-ci-"));
const queue = join(work, "queue");
const tree = join(work, "tree");
cpSync(join(root, "queue"), queue, { recursive: true });
cpSync(join(root, "kernel-model"), tree, { recursive: true });
const cache = join(work, "cache");

function ci(label, ...extra) {
  const t = performance.now();
  // GNU time reports the CPU the command and its children used: a figure a loaded machine inflates far less than wall time.
  const argv = [process.execPath, join(root, "bin/pq.js"), "ci", "--queue", queue, "--tree", tree, "--jobs", "2", ...extra];
  const timed = existsSync("/usr/bin/time");
  const r = spawnSync(timed ? "/usr/bin/time" : argv[0], timed ? ["-f", "pq-bench-cpu %U %S", ...argv] : argv.slice(1), {
    encoding: "utf8",
    env: { ...process.env, PQ_CACHE_DIR: cache },
  });
  const s = (performance.now() - t) / 1000;
  const cpu = /pq-bench-cpu ([\d.]+) ([\d.]+)/.exec(r.stderr);
  const cpuS = cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN;
  const cells = /(\d+) cells: (.*)/.exec(r.stdout)?.[0] ?? r.stderr.slice(0, 200);
  const ran = /(\d+) cells run, (\d+) reused/.exec(r.stdout);
  if (label)
    console.log(
      `${label.padEnd(34)} ${s.toFixed(2)} s wall, ${cpuS.toFixed(2)} s CPU  exit ${r.status}  ${cells}  (${ran ? `${ran[1]} run, ${ran[2]} reused` : "?"})`,
    );
  return { s, cpuS, run: ran ? Number(ran[1]) : NaN };
}

const bootsOnly = process.argv[4] === "boots-only";
console.log(`pq ci --jobs 2 over the bundled series (${cpus()} cores, load ${loadavg()})`);
if (!bootsOnly) await ciFigures();

async function ciFigures() {
  ci("cold (empty cache)");
  ci("--no-cache (objects warm)", "--no-cache");
  const warm = [];
  for (let i = 0; i < RUNS; i++) warm.push(ci(""));
  const wall = warm.map((w) => w.s);
  const cpuTimes = warm.map((w) => w.cpuS);
  console.log(
    `${"warm, nothing changed".padEnd(34)} ${median(wall).toFixed(2)} s wall, ${median(cpuTimes).toFixed(2)} s CPU, medians of ${RUNS} (wall ${wall.map((s) => s.toFixed(2)).join(" ")})`,
  );

  // Refresh the 7th patch with a code change in a C file no later patch touches.
  const scratch = await openScratch({ tree, queue });
  {
    const { stack, patches } = scratch;
    const touched = (p) => [...readFileSync(stack.patchPath(p), "latin1").matchAll(/^\+\+\+ b\/(\S+)/gm)].map((m) => m[1]);
    const later = new Set(patches.slice(7).flatMap(touched));
    await stack.goto(patches[6], { force: true });
    const file = readBuildDescription(stack.tree).sources.find((s) => s.endsWith(".c") && !later.has(s));
    const path = join(stack.tree, file);
    writeFileSync(
      path,
      readFileSync(path, "latin1") + "\nint pq_bench_changed(void);\nint pq_bench_changed(void) { return 7; }\n",
      "latin1",
    );
    await stack.refresh({ files: [file] });
    // The scratch stack works on its own copy of a queue outside the tree (src/ci/scratch.ts): the
    // refreshed patch goes back to the queue the measured runs use (readme-15 F1: without this
    // copy the step measured an unchanged series, 0 cells run).
    cpSync(stack.patchPath(patches[6]), join(queue, patches[6]));
    console.log(`(patch 7, ${patches[6]}, refreshed with a new function in ${file})`);
  }
  scratch.dispose();
  ci("warm, after a one-patch change");
  ci("warm again after it");

  // A comment-only line in a base-tree C file: every state's images stay the same, and the
  // object cache's records (one per input variant of each source) spare every other source's
  // preprocessing. A gcc on PATH that logs its calls counts the -E runs.
  const bin = join(work, "bin");
  const log = join(work, "gcc.log");
  const gcc = spawnSync("sh", ["-c", "command -v gcc"], { encoding: "utf8" }).stdout.trim();
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "gcc"), `#!/bin/sh\necho "$*" >> ${log}\nexec ${gcc} "$@"\n`, { mode: 0o755 });
  const logged = { PATH: `${bin}:${process.env.PATH}` };
  ciWith(logged, "gcc wrapper on PATH (new identity)");
  const panic = join(tree, "kernel/panic.c");
  writeFileSync(panic, readFileSync(panic, "latin1") + "/* pq bench: a comment-only line */\n", "latin1");
  writeFileSync(log, "");
  ciWith(logged, "warm, after a comment-only change");
  const runs = readFileSync(log, "utf8")
    .split("\n")
    .filter((l) => / -E /.test(` ${l} `)).length;
  console.log(`${"  preprocessor runs in it".padEnd(34)} ${runs} (panic.c in each of the 13 states)`);
}

function ciWith(env, label) {
  const saved = process.env.PATH;
  process.env.PATH = env.PATH;
  try {
    return ci(label);
  } finally {
    process.env.PATH = saved;
  }
}

// Warm boot to verdict: the top state's kernel, sequential boots after a warm-up.
const top = await openScratch({ tree, queue });
await top.stack.goto(top.patches.at(-1), { force: true });
const built = await buildTree({ tree: top.stack.tree, cacheDir: cache });
const kernel = new Uint8Array(readFileSync(built.kernelPath));
top.dispose();
for (const [label, freshInstance] of [
  ["reused emulator", false],
  ["fresh instance", true],
]) {
  await bootKernel(kernel, { backend: "native", freshInstance }); // compile the module, build a machine
  const verdict = [];
  const first = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < BOOTS; i++) {
    const r = await bootKernel(kernel, { backend: ["native", "xen", "vmi"][i % 3], freshInstance });
    if (r.verdict !== "pass") throw new Error(`boot ${i}: ${r.verdict}`);
    verdict.push(r.msToVerdict);
    first.push(r.msToFirstByte);
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / BOOTS;
  console.log(
    `warm boot, ${label.padEnd(16)} verdict median ${median(verdict)} ms (min ${Math.min(...verdict)}, max ${Math.max(...verdict)}), first byte median ${median(first)} ms, CPU ${cpuMs.toFixed(0)} ms/boot, ${BOOTS} boots`,
  );
}
rmSync(work, { recursive: true, force: true });
process.exit(0);

function cpus() {
  return spawnSync("nproc", { encoding: "utf8" }).stdout.trim();
}
function loadavg() {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}
