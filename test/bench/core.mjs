#!/usr/bin/env node
// Core benchmark: pq against git apply and quilt on the same real series.
//
//   node test/bench/core.mjs REPO N [RUNS]
//
// Exports the last N first-parent commits of REPO as a patch series (git format-patch
// mails; a merge commit becomes one mail holding its first-parent diff, so the series
// reproduces HEAD exactly), then, in fresh clones at the base, times (median of RUNS):
// pq import, cold push -a, pq pop -a, warm pq push -a, pq undo, a git apply loop and quilt
// push -a, and checks which reproduced the exact tree. Each warm pq run is followed at once
// by a git checkout between the same two trees in another clone (three per run), so that
// the "vs checkout" ratios compare runs made under the same conditions; CPU time (user +
// system, from /usr/bin/time) is reported beside wall time, as it varies less on a busy
// machine. `node -e 0` is timed too: the start-up every pq command pays before any work.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { exportSeries } from "./series-export.mjs";

const [repoArg, nArg, runsArg] = process.argv.slice(2);
if (!repoArg || !nArg) {
  console.error("usage: node test/bench/core.mjs REPO N [RUNS]");
  process.exit(2);
}
const REPO = resolve(repoArg);
const N = Number(nArg);
const RUNS = Number(runsArg ?? 3);
const PQ = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/pq.js");
// Timed runs go through bin/pq, the command `npm link` installs, as a user's `pq` would.
const PQ_COMMAND = resolve(dirname(PQ), "pq");
// The start-up floor as bin/pq starts Node (without NODE_EXTRA_CA_CERTS, see bin/pq).
const NODE_FLOOR = "env -u NODE_EXTRA_CA_CERTS node -e 0";
const work = mkdtempSync(join(tmpdir(), "pq-bench-core-"));

const git = (cwd, ...args) => execFileSync("git", args, { cwd, encoding: "latin1", maxBuffer: 1 << 30 });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (fn) => {
  const t = process.hrtime.bigint();
  const r = fn();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, r };
};
const sh = (cwd, cmd, env = {}) =>
  spawnSync("bash", ["-c", cmd], { cwd, encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 1 << 28 });

// ---- export the series
const queue = join(work, "series");
const { commits, base, names } = exportSeries(REPO, N, queue);
const headTree = git(REPO, "rev-parse", "HEAD^{tree}").trim();
console.log(`series: ${names.length} patches of ${REPO} (base ${base.slice(0, 10)}), ${RUNS} runs each`);

function freshClone(label) {
  const dir = join(work, `${label}-${Math.random().toString(36).slice(2, 8)}`);
  git(work, "clone", "-q", "--shared", "--no-checkout", REPO, dir);
  git(dir, "checkout", "-q", base);
  return dir;
}

/**
 * The tree the work tree holds (pq's state, the queue and quilt's aside), read through a
 * throwaway index: the index the timed tools use stays as they left it. (Until December 5 the
 * checks used the clone's own index: the git add and reset between pq's warm runs made each of
 * them ask git for the staged paths again, 40-80 ms of git processes that no user's pop meets
 * after a push.)
 */
function workTreeId(dir) {
  const env = { ...process.env, GIT_INDEX_FILE: join(work, `check-index-${Math.random().toString(36).slice(2, 8)}`) };
  try {
    // -f: files a .gitignore covers can still be tracked upstream (HEAD has them).
    execFileSync("git", ["add", "-A", "-f", "--", ".", ":!.pq", ":!patches", ":!.pc"], { cwd: dir, env });
    return execFileSync("git", ["write-tree"], { cwd: dir, env, encoding: "latin1" }).trim();
  } finally {
    rmSync(env.GIT_INDEX_FILE, { force: true });
  }
}

/** Does the work tree equal HEAD's tree (pq's own state and the queue aside)? */
const reproduces = (dir) => workTreeId(dir) === headTree;

const results = {};
const record = (name, ms, ok, extra = {}) => {
  results[name] ??= { ms: [], cpu: [], ok: true, ...extra };
  results[name].ms.push(ms);
  results[name].ok &&= ok;
  Object.assign(results[name], extra);
};
const recordCpu = (name, ms) => results[name].cpu.push(ms);

/** Runs a shell command under /usr/bin/time: wall ms, CPU ms (user + system), peak RSS MB. */
function timed(cwd, cmd, env = {}) {
  const t = time(() => sh(cwd, `/usr/bin/time -f 'pqbench %U %S %M' ${cmd}`, env));
  const m = /pqbench ([\d.]+) ([\d.]+) (\d+)/.exec(t.r.stderr ?? "");
  return { ms: t.ms, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN, rssMB: m ? Number(m[3]) / 1024 : 0, status: t.r.status };
}
const treeIs = (dir, commit) => workTreeId(dir) === git(dir, "rev-parse", `${commit}^{tree}`).trim();

for (let run = 0; run < RUNS; run++) {
  // pq: import, cold push -a, then pop -a, warm push -a and undo, each followed at once by a
  // git checkout between the same two trees in a second clone, so that each pq figure has a
  // checkout measured under the same conditions (page cache, writeback, other load) beside it.
  {
    const dir = freshClone("pq");
    const co = freshClone("checkout");
    const head = commits.at(-1);
    // Warm the checkout clone once both ways (its first checkout fills the index).
    sh(co, `git checkout -q ${head} && git checkout -q ${base}`);
    let coAt = base;
    const checkoutSwitch = () => {
      coAt = coAt === base ? head : base;
      const r = timed(co, `git checkout -q ${coAt}`);
      record("git checkout base<->head (one switch)", r.ms, r.status === 0 && treeIs(co, coAt), {
        note: "interleaved with pq's warm runs",
      });
      recordCpu("git checkout base<->head (one switch)", r.cpuMs);
    };
    const q = join(work, `pq-queue-${run}`);
    const cache = join(work, `pq-cache-${run}`);
    const env = { PQ_CACHE_DIR: cache };
    execFileSync(process.execPath, [PQ, "init", "--queue", q], { cwd: dir });
    // Import and the first (cold) push are timed apart: the git apply loop has no import step.
    const imp = timed(dir, `${PQ_COMMAND} import --quilt ${queue} >/dev/null`, env);
    record("pq import --quilt", imp.ms, imp.status === 0, { rssMB: Math.max(imp.rssMB, results["pq import --quilt"]?.rssMB ?? 0) });
    recordCpu("pq import --quilt", imp.cpuMs);
    const cold = timed(dir, `${PQ_COMMAND} push -a >/dev/null`, env);
    record("pq push -a (cold)", cold.ms, cold.status === 0 && reproduces(dir), {
      rssMB: Math.max(cold.rssMB, results["pq push -a (cold)"]?.rssMB ?? 0),
    });
    recordCpu("pq push -a (cold)", cold.cpuMs);
    const pop = timed(dir, `${PQ_COMMAND} pop -a >/dev/null`);
    checkoutSwitch();
    record("pq pop -a", pop.ms, pop.status === 0 && treeIs(dir, base), { rssMB: pop.rssMB });
    recordCpu("pq pop -a", pop.cpuMs);
    const warm = timed(dir, `${PQ_COMMAND} push -a >/dev/null`);
    checkoutSwitch();
    record("pq push -a (warm)", warm.ms, warm.status === 0 && reproduces(dir), { rssMB: warm.rssMB });
    recordCpu("pq push -a (warm)", warm.cpuMs);
    // Undo of that push -a: the same file writes as a pop, from the operation log.
    const undo = timed(dir, `${PQ_COMMAND} undo >/dev/null`);
    checkoutSwitch();
    record("pq undo (of push -a)", undo.ms, undo.status === 0 && treeIs(dir, base), { rssMB: undo.rssMB });
    recordCpu("pq undo (of push -a)", undo.cpuMs);
    // The floor under every pq command: Node starting and exiting, with no work.
    const node = timed(dir, NODE_FLOOR);
    record("node -e 0 (start-up floor)", node.ms, node.status === 0);
    recordCpu("node -e 0 (start-up floor)", node.cpuMs);
    rmSync(dir, { recursive: true, force: true });
    rmSync(co, { recursive: true, force: true });
  }
  // git apply, one process per patch, as a loop would run it.
  {
    const dir = freshClone("apply");
    const t = time(() =>
      sh(dir, `while read p; do git apply --binary --allow-empty --whitespace=nowarn "${queue}/$p" || exit 1; done < "${queue}/series"`),
    );
    record("git apply loop", t.ms, t.r.status === 0 && reproduces(dir));
    rmSync(dir, { recursive: true, force: true });
  }
  // quilt push -a over the same series.
  {
    const dir = freshClone("quilt");
    const t = time(() => sh(dir, `quilt push -a -q >/dev/null 2>quilt.err`, { QUILT_PATCHES: queue, QUILTRC: "/dev/null" }));
    let stopped = "";
    if (t.r.status !== 0) stopped = (sh(dir, "quilt applied 2>/dev/null | wc -l", { QUILT_PATCHES: queue }).stdout || "").trim();
    rmSync(join(dir, "quilt.err"), { force: true });
    record("quilt push -a", t.ms, t.r.status === 0 && reproduces(dir), stopped ? { note: `stopped after ${stopped} patches` } : {});
    rmSync(dir, { recursive: true, force: true });
  }
}

const applyMs = median(results["git apply loop"].ms);
const checkoutMs = median(results["git checkout base<->head (one switch)"].ms);
const checkoutCpu = median(results["git checkout base<->head (one switch)"].cpu);
console.log("");
console.log(
  `${"tool".padEnd(36)} ${"median".padStart(9)}  ${"vs git apply".padStart(12)}  ${"vs checkout".padStart(11)}  ${"CPU".padStart(8)}  ${"CPU vs checkout".padStart(15)}  reproduced  peak RSS`,
);
for (const [name, r] of Object.entries(results)) {
  const m = median(r.ms);
  const cpu = r.cpu.length ? median(r.cpu) : NaN;
  const cpuCols = Number.isNaN(cpu)
    ? `${"".padStart(8)}  ${"".padStart(15)}`
    : `${(cpu.toFixed(0) + " ms").padStart(8)}  ${(cpu / checkoutCpu).toFixed(2).padStart(14)}x`;
  console.log(
    `${name.padEnd(36)} ${(m.toFixed(0) + " ms").padStart(9)}  ${(m / applyMs).toFixed(2).padStart(11)}x  ${(m / checkoutMs).toFixed(2).padStart(10)}x  ${cpuCols}  ${(r.ok ? "yes" : "NO").padEnd(10)}  ${r.rssMB ? `${r.rssMB.toFixed(0)} MB` : ""}${r.note ? `  (${r.note})` : ""}`,
  );
}
rmSync(work, { recursive: true, force: true });
