#!/usr/bin/env node
/**
 * Fuzzes the compiled patch engine (dist/patch, built by `npm run build` or `tsc`): random
 * and mutated patches through parsePatch, applyFilePatch, reverseFilePatch, formatRejects
 * and createFilePatch. Every outcome must be a success or a PqError: any other exception,
 * a broken round trip or an input that runs longer than --timeout ms is a failure.
 *
 *   node test/fuzz/patch-fuzz.mjs [--count N] [--seed S] [--start I] [--timeout MS] [--only I] [--out DIR]
 *
 * Input I of seed S is reproducible on its own: --only I prints it and runs it alone.
 * A worker runs the inputs; the main thread watches a shared counter and kills the worker
 * when one input takes too long (a hang), then goes on after it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { loadCorpus, makeInput, runOne } from "./patch-fuzz-core.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

async function engine() {
  const E = await import(pathToFileURL(join(root, "dist/patch/index.js")).href);
  const { PqError } = await import(pathToFileURL(join(root, "dist/errors.js")).href);
  return { E, PqError };
}

if (!isMainThread) {
  const { seed, start, end, shared } = workerData;
  const counter = new Int32Array(shared);
  const { E, PqError } = await engine();
  const corpus = loadCorpus(root);
  const slowest = [];
  for (let i = start; i < end; i++) {
    Atomics.store(counter, 0, i);
    const t0 = performance.now();
    const failure = runOne(makeInput(seed, i, corpus), corpus, E, PqError);
    const ms = performance.now() - t0;
    if (slowest.length < 5 || ms > slowest[slowest.length - 1].ms) {
      slowest.push({ i, ms });
      slowest.sort((a, b) => b.ms - a.ms);
      slowest.length = Math.min(slowest.length, 5);
    }
    if (failure) parentPort.postMessage({ type: "failure", i, failure });
    if ((i + 1) % 50000 === 0) parentPort.postMessage({ type: "progress", i: i + 1 });
  }
  parentPort.postMessage({ type: "done", slowest });
} else {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const k = args.lastIndexOf(`--${name}`); // the last one wins: npm run fuzz:patch -- --count N
    return k === -1 ? dflt : args[k + 1];
  };
  const seed = Number(opt("seed", 1));
  const count = Number(opt("count", 100000));
  const start = Number(opt("start", 0));
  const timeout = Number(opt("timeout", 3000));
  const outDir = opt("out", join(tmpdir(), `pq-patch-fuzz-${seed}`));
  const only = opt("only", null);

  if (only !== null) {
    const { E, PqError } = await engine();
    const corpus = loadCorpus(root);
    const input = makeInput(seed, Number(only), corpus);
    const failure = runOne(input, corpus, E, PqError);
    process.stdout.write(`input ${only} of seed ${seed}: ${failure ? `${failure.kind} in ${failure.stage}\n${failure.message}` : "ok"}\n`);
    process.stdout.write(`--- text (JSON) ---\n${JSON.stringify(failure?.text ?? input.text)}\n`);
    process.exit(failure ? 1 : 0);
  }

  const failures = [];
  let slowest = [];
  const t0 = Date.now();
  const end = start + count;
  const record = (i, failure) => {
    failures.push({ i, ...failure });
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, `${i}.json`), JSON.stringify({ seed, i, ...failure }, null, 1));
    process.stderr.write(`FAIL input ${i}: ${failure.kind} in ${failure.stage}: ${failure.message.split("\n")[0]}\n`);
  };
  let next = start;
  while (next < end) {
    const shared = new SharedArrayBuffer(4);
    const counter = new Int32Array(shared);
    Atomics.store(counter, 0, next);
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { seed, start: next, end, shared } });
    const outcome = await new Promise((resolveRun) => {
      let last = -1;
      let since = Date.now();
      let ready = false;
      const watch = setInterval(() => {
        const now = Atomics.load(counter, 0);
        if (now !== last) {
          last = now;
          since = Date.now();
        } else if (ready && Date.now() - since > timeout) {
          clearInterval(watch);
          void worker.terminate();
          resolveRun({ hang: now });
        }
      }, 100);
      worker.on("message", (m) => {
        ready = true;
        if (m.type === "failure") record(m.i, m.failure);
        else if (m.type === "progress")
          process.stderr.write(`${m.i - start} inputs, ${failures.length} failures, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
        else if (m.type === "done") {
          clearInterval(watch);
          resolveRun({ slowest: m.slowest });
        }
      });
      // The first message may take a while (corpus from git); the watchdog starts once the worker runs.
      setTimeout(() => (ready = true), 20000);
      worker.on("error", (e) => {
        clearInterval(watch);
        resolveRun({ error: e, at: Atomics.load(counter, 0) });
      });
    });
    if (outcome.hang !== undefined) {
      record(outcome.hang, { kind: "hang", stage: "?", text: null, message: `input ran longer than ${timeout} ms` });
      next = outcome.hang + 1;
    } else if (outcome.error) {
      record(outcome.at, { kind: "crash", stage: "worker", text: null, message: String(outcome.error.stack ?? outcome.error) });
      next = outcome.at + 1;
    } else {
      slowest = outcome.slowest;
      next = end;
    }
  }
  const secs = (Date.now() - t0) / 1000;
  const kinds = failures.reduce((acc, f) => ((acc[f.kind] = (acc[f.kind] ?? 0) + 1), acc), {});
  console.log(`patch fuzz: ${count} inputs (${start}..${end - 1}), seed ${seed}, ${secs.toFixed(1)} s`);
  console.log(`failures: ${failures.length}${failures.length ? ` ${JSON.stringify(kinds)}, written to ${outDir}` : ""}`);
  for (const f of failures.slice(0, 20)) console.log(`  input ${f.i}: ${f.kind} in ${f.stage}: ${f.message.split("\n")[0]}`);
  console.log(`slowest inputs (of the last worker run): ${slowest.map((s) => `${s.i} ${s.ms.toFixed(1)} ms`).join(", ")}`);
  process.exit(failures.length ? 1 : 0);
}
