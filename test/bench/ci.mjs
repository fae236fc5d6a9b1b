#!/usr/bin/env node
// pq ci on the bundled series (every state x native, xen, vmi): wall time with a cold and a
// warm object cache, with --jobs 1 and --jobs 2.
//
//   node test/bench/ci.mjs
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
for (const jobs of [1, 2]) {
  const cache = mkdtempSync(join(tmpdir(), "pq-bench-ci-"));
  for (const label of ["cold", "warm"]) {
    const t = performance.now();
    const r = spawnSync(process.execPath, [join(root, "bin/pq.js"), "ci", "--queue", "queue", "--tree", "kernel-model", "--jobs", String(jobs)], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, PQ_CACHE_DIR: cache },
    });
    const s = (performance.now() - t) / 1000;
    const cells = /(\d+) cells: (.*)/.exec(r.stdout);
    console.log(`pq ci --jobs ${jobs}, ${label} cache: ${s.toFixed(1)} s  exit ${r.status}  ${cells ? cells[0] : r.stderr.slice(0, 200)}`);
  }
  rmSync(cache, { recursive: true, force: true });
}
