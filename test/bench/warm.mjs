#!/usr/bin/env node
// Warm pop and push against git checkout, in clones that have settled.
//
//   node test/bench/warm.mjs REPO N [ROUNDS=9] [SETTLE_SECONDS=120] [--compare OTHER/bin/pq]
//
// --compare times a second pq build (another checkout's bin/pq, built) in the same rounds, for
// before/after figures of a change from one run: in a pq clone of its own, made and prepared by
// that build at the same time as the first one's (sharing a clone, each build found the other's
// caches in a format it does not read: the stat cache's change of December 5, the runs' of the
// twenty-third session).
//
// core.mjs compares in fresh clones, where (on this machine's ext4) creating and removing
// files stays several times slower for about a minute after a clone wrote its tree, which
// makes any one run's checkout time an accident of timing. This benchmark prepares one pq clone (series imported,
// pushed once, popped and pushed once more) and one checkout clone, waits SETTLE_SECONDS,
// then alternates, ROUNDS times: pq pop -a, git checkout, pq push -a, git checkout, and (issue 8
// asks the undo of a push -a to cost no more than the pop) pq undo of that push, git checkout,
// pq redo, git checkout. It reports medians of wall and CPU time (user + system), with
// `node -e 0` as the floor every Node program pays. Two untimed rounds come first: this machine's kernel pages out
// file pages nobody touched for a few seconds (DAMON reclaim: `pageout` of regions idle for
// 12 aggregation intervals of 0.5 s), so after the wait parts of the clones and of Node
// itself are read from disk again, and "warm" has to be made warm.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { exportSeries } from "./series-export.mjs";

const compareAt = process.argv.indexOf("--compare");
const OTHER = compareAt === -1 ? null : resolve(process.argv[compareAt + 1]);
const [repoArg, nArg, roundsArg, settleArg] = process.argv
  .slice(2)
  .filter((_, i, all) => all[i] !== "--compare" && all[i - 1] !== "--compare");
if (!repoArg || !nArg) {
  console.error("usage: node test/bench/warm.mjs REPO N [ROUNDS=9] [SETTLE_SECONDS=120] [--compare OTHER/bin/pq]");
  process.exit(2);
}
const REPO = resolve(repoArg);
const ROUNDS = Number(roundsArg ?? 9);
const SETTLE = Number(settleArg ?? 120);
const PQ = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/pq.js");
// Timed runs go through bin/pq, the command `npm link` installs, as a user's `pq` would.
const PQ_COMMAND = resolve(dirname(PQ), "pq");
// The start-up floor as bin/pq starts Node (without NODE_EXTRA_CA_CERTS, see bin/pq).
const NODE_FLOOR = "env -u NODE_EXTRA_CA_CERTS node -e 0";
const work = mkdtempSync(join(tmpdir(), "pq-bench-warm-"));
const git = (cwd, ...args) => execFileSync("git", args, { cwd, encoding: "latin1", maxBuffer: 1 << 30 });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Wall and CPU (user + system) milliseconds of one command, from /usr/bin/time. */
function timed(cwd, cmd) {
  const t = process.hrtime.bigint();
  const r = spawnSync("bash", ["-c", `/usr/bin/time -f 'pqbench %U %S' ${cmd} >/dev/null`], { cwd, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} failed in ${cwd}:\n${r.stderr}`);
  const m = /pqbench ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { ms, cpu: (Number(m[1]) + Number(m[2])) * 1000 };
}

const queue = join(work, "series");
const { commits, base } = exportSeries(REPO, Number(nArg), queue);
const head = commits.at(-1);
const clone = (label) => {
  const dir = join(work, label);
  git(work, "clone", "-q", "--shared", "--no-checkout", REPO, dir);
  git(dir, "checkout", "-q", base);
  return dir;
};
const pqDir = clone("pq");
const otherDir = OTHER ? clone("pq-other") : null;
const coDir = clone("checkout");
/** A pq clone prepared by one build (its launcher `command`): the series imported, pushed, popped and pushed again. */
const prepare = (dir, command, queueDir) => {
  for (const args of [
    ["init", "--queue", queueDir],
    ["import", "--quilt", queue],
    ["push", "-a"],
    ["pop", "-a"],
    ["push", "-a"],
  ])
    execFileSync(command, args, { cwd: dir, stdio: "ignore" });
};
prepare(pqDir, PQ_COMMAND, join(work, "queue"));
if (OTHER) prepare(otherDir, OTHER, join(work, "queue-other"));
git(coDir, "checkout", "-q", head);
git(coDir, "checkout", "-q", base);
console.log(`series: ${commits.length} patches of ${REPO}; settling ${SETTLE} s, then ${ROUNDS} rounds`);
for (let left = SETTLE; left > 0; left -= 60) {
  spawnSync("sleep", [String(Math.min(60, left))]);
  if (left > 60) console.log(`  ${left - 60} s to go`);
}

for (let r = 0; r < 2; r++) {
  for (const [dir, command] of OTHER
    ? [
        [pqDir, PQ_COMMAND],
        [otherDir, OTHER],
      ]
    : [[pqDir, PQ_COMMAND]]) {
    timed(dir, `${command} pop -a`);
    timed(coDir, `git checkout -q ${head}`);
    timed(dir, `${command} push -a`);
    timed(coDir, `git checkout -q ${base}`);
  }
  timed(pqDir, NODE_FLOOR);
}

const rows = {
  "pq pop -a": [],
  "pq push -a (warm)": [],
  "pq undo (of push -a)": [],
  "pq redo": [],
  "git checkout (one switch)": [],
  "node -e 0 (start-up floor)": [],
};
if (OTHER)
  Object.assign(rows, { "other pq pop -a": [], "other pq push -a (warm)": [], "other pq undo (of push -a)": [], "other pq redo": [] });
for (let r = 0; r < ROUNDS; r++) {
  // With --compare, the two builds take turns going first.
  const builds = OTHER
    ? r % 2
      ? [
          ["other ", OTHER, otherDir],
          ["", PQ_COMMAND, pqDir],
        ]
      : [
          ["", PQ_COMMAND, pqDir],
          ["other ", OTHER, otherDir],
        ]
    : [["", PQ_COMMAND, pqDir]];
  for (const [label, command, dir] of builds) {
    rows[`${label}pq pop -a`].push(timed(dir, `${command} pop -a`));
    rows["git checkout (one switch)"].push(timed(coDir, `git checkout -q ${head}`));
    rows[`${label}pq push -a (warm)`].push(timed(dir, `${command} push -a`));
    rows["git checkout (one switch)"].push(timed(coDir, `git checkout -q ${base}`));
    rows[`${label}pq undo (of push -a)`].push(timed(dir, `${command} undo`));
    rows["git checkout (one switch)"].push(timed(coDir, `git checkout -q ${head}`));
    rows[`${label}pq redo`].push(timed(dir, `${command} redo`));
    rows["git checkout (one switch)"].push(timed(coDir, `git checkout -q ${base}`));
  }
  rows["node -e 0 (start-up floor)"].push(timed(pqDir, NODE_FLOOR));
}
git(pqDir, "add", "-A", "-f", "--", ".", ":!.pq");
const reproduced = git(pqDir, "write-tree").trim() === git(REPO, "rev-parse", `${head}^{tree}`).trim();

const co = rows["git checkout (one switch)"];
const coMs = median(co.map((x) => x.ms));
const coCpu = median(co.map((x) => x.cpu));
console.log("");
console.log(`${"".padEnd(28)} ${"wall".padStart(8)}  ${"vs checkout".padStart(11)}  ${"CPU".padStart(8)}  ${"vs checkout".padStart(11)}`);
for (const [name, xs] of Object.entries(rows)) {
  const ms = median(xs.map((x) => x.ms));
  const cpu = median(xs.map((x) => x.cpu));
  console.log(
    `${name.padEnd(28)} ${(ms.toFixed(0) + " ms").padStart(8)}  ${(ms / coMs).toFixed(2).padStart(10)}x  ${(cpu.toFixed(0) + " ms").padStart(8)}  ${(cpu / coCpu).toFixed(2).padStart(10)}x`,
  );
}
if (OTHER) console.log(`\nother: ${OTHER}`);
console.log(`\npq's last push reproduced ${head.slice(0, 10)}'s tree: ${reproduced ? "yes" : "NO"}`);
rmSync(work, { recursive: true, force: true });
