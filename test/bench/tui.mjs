#!/usr/bin/env node
// TUI benchmark: keypress-to-frame latency of pq tui on generated series.
//
//   npm run build && node test/bench/tui.mjs [SIZES] [MOVES]      (default: 1000,10000 and 60)
//
// For each size, a series of that many patches with the top in the middle; the TUI
// (dist/tui/app.js) is rendered by ink-testing-library at 100x30, and every frame ink
// writes is timestamped. Reported (medians, ms):
// - cursor move: "j" written to stdin -> the first frame with the cursor on the next row;
// - push / pop: the Stack operation's own time (the key -> its promise resolving), and the
//   lag from the operation finishing to the first frame showing the new applied count.
// Each latency is also given as CPU time (process.cpuUsage between key and frame): on a
// shared, loaded machine the wall-clock figure mostly measures waiting for a core.
// Keys are spaced 60 ms apart, as a person holding j at key-repeat speed would type them.
// ink-testing-library renders in debug mode (no frame throttle); in a terminal, ink's
// 60 fps limit (run.tsx) can add up to 16 ms to a frame.
process.env.NODE_ENV ??= "production"; // as pq tui runs React (src/cli/commands/tui.ts)
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { rmSync } from "node:fs";
import { seriesRepo } from "../helpers/series.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(join(root, "package.json"));
const React = require("react");
const { render } = await import(join(root, "node_modules/ink-testing-library/build/index.js"));
const { Stack } = await import(join(root, "dist/queue/stack.js"));
const { App } = await import(join(root, "dist/tui/app.js"));

const sizes = (process.argv[2] ?? "1000,10000").split(",").map(Number);
const MOVES = Number(process.argv[3] ?? 60);
const OPS = 15;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmt = (x) => x.toFixed(1);

async function bench(n) {
  const dir = seriesRepo(n);
  const stack = await Stack.init({ tree: dir });
  const top = Math.floor(n / 2);
  let t = performance.now();
  await stack.push({ target: top });
  const setupMs = performance.now() - t;

  let opDone = 0;
  for (const m of ["push", "pop"]) {
    const orig = stack[m].bind(stack);
    stack[m] = async (o) => {
      const r = await orig(o);
      opDone = performance.now();
      return r;
    };
  }

  const started = performance.now();
  const ui = render(React.createElement(App, { stack, env: { NO_COLOR: "1" } }));
  // Every frame, with the time ink wrote it; waiters resolve on the first frame that matches.
  let waiters = [];
  const origWrite = ui.stdout.write;
  ui.stdout.write = (frame) => {
    const at = performance.now();
    origWrite(frame);
    waiters = waiters.filter((w) => (w.re.test(frame) ? (w.resolve(at), false) : true));
  };
  const frameMatching = (re, ms = 30_000) =>
    new Promise((resolveP, reject) => {
      if (re.test(ui.lastFrame() ?? "")) return resolveP(performance.now());
      const w = { re, resolve: resolveP };
      waiters.push(w);
      setTimeout(() => reject(new Error(`no frame matched ${re} in ${ms} ms:\n${ui.lastFrame()}`)), ms).unref();
    });
  const firstFrame = (await frameMatching(new RegExp(`change number ${top} of`))) - started;

  const moves = [];
  const moveCpu = [];
  const cpuMs = (c) => (c.user + c.system) / 1000;
  for (let i = 1; i <= MOVES; i++) {
    const row = top + i;
    const wait = frameMatching(new RegExp(`▶ +${row} U`));
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    ui.stdin.write("j");
    moves.push((await wait) - t0);
    moveCpu.push(cpuMs(process.cpuUsage(c0)));
    await sleep(60);
  }
  // Back to the top patch for push/pop.
  ui.stdin.write("t");
  await frameMatching(new RegExp(`▶> +${top} A`));
  await sleep(300);

  const push = { op: [], lag: [], cpu: [] };
  const pop = { op: [], lag: [], cpu: [] };
  let cpuAtDone = null;
  for (const m of ["push", "pop"]) {
    const timed = stack[m];
    stack[m] = async (o) => {
      const r = await timed(o);
      cpuAtDone = process.cpuUsage();
      return r;
    };
  }
  let applied = top;
  for (let i = 0; i < OPS; i++) {
    for (const [key, rec, delta] of [
      ["p", push, 1],
      ["o", pop, -1],
    ]) {
      applied += delta;
      const wait = frameMatching(new RegExp(`pq · ${applied}/${n} applied`));
      const t0 = performance.now();
      ui.stdin.write(key);
      const at = await wait;
      rec.cpu.push(cpuMs(process.cpuUsage(cpuAtDone)));
      rec.op.push(opDone - t0);
      rec.lag.push(at - opDone);
      await sleep(150);
    }
  }
  ui.unmount();
  rmSync(dir, { recursive: true, force: true });
  return { n, setupMs, firstFrame, moves, moveCpu, push, pop };
}

const { loadavg, cpus } = await import("node:os");
console.log(
  `pq tui latency (node ${process.version}, ${MOVES} moves, ${OPS} push + ${OPS} pop per size; ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)})`,
);
for (const n of sizes) {
  const r = await bench(n);
  console.log(`\n${n} patches, top at ${n / 2} (setup: push ${n / 2} in ${fmt(r.setupMs)} ms)`);
  console.log(`  first frame with the top's subject: ${fmt(r.firstFrame)} ms`);
  console.log(
    `  cursor move, key -> frame:          median ${fmt(median(r.moves))} ms (p90 ${fmt(p90(r.moves))}), CPU median ${fmt(median(r.moveCpu))} ms`,
  );
  for (const [name, x] of [
    ["push", r.push],
    ["pop ", r.pop],
  ]) {
    console.log(
      `  ${name}: operation ${fmt(median(x.op))} ms; operation done -> frame: median ${fmt(median(x.lag))} ms (p90 ${fmt(p90(x.lag))}), CPU median ${fmt(median(x.cpu))} ms`,
    );
  }
}
process.exit(0);
