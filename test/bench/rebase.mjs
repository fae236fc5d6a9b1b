#!/usr/bin/env node
// Rebase benchmark: pq rebase of a long real series against git rebase of the same commits.
//
//   node test/bench/rebase.mjs REPO [N=1000] [AHEAD=200] [--shift]
//
// --shift adds one commit on top of the new base that puts a comment line at the top of
// every file the series touches: every later patch then needs offsets (or, for hunks at
// the top of a file, a three-way merge), the work a rebase onto a busy upstream is.
//
// Takes the last N first-parent commits of REPO as a series (git format-patch mails; a
// merge becomes one mail with its first-parent diff), pushes it with pq on the series'
// base, then times `pq rebase` onto the commit AHEAD commits newer, where the first AHEAD
// patches are already upstream and must be dropped. Next to it, the same mails made into
// commits with `git am` on the same base, and `git rebase` of them onto the same commit
// (git finds the upstream ones by patch id). Both results are checked against the tree of
// the series' last commit.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { exportSeries } from "./series-export.mjs";

const SHIFT = process.argv.includes("--shift");
const [repoArg, nArg, aheadArg] = process.argv.slice(2).filter((a) => a !== "--shift");
if (!repoArg) {
  console.error("usage: node test/bench/rebase.mjs REPO [N=1000] [AHEAD=200]");
  process.exit(2);
}
const REPO = resolve(repoArg);
const N = Number(nArg ?? 1000);
const AHEAD = Number(aheadArg ?? 200);
const PQ = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/pq.js");
const work = mkdtempSync(join(tmpdir(), "pq-bench-rebase-"));
const ENV = { ...process.env, GIT_COMMITTER_NAME: "Bench Example", GIT_COMMITTER_EMAIL: "bench@example.org" };

const git = (cwd, ...args) => execFileSync("git", args, { cwd, encoding: "latin1", maxBuffer: 1 << 30, env: ENV });
const sh = (cwd, cmd) => spawnSync("bash", ["-c", cmd], { cwd, encoding: "utf8", env: ENV, maxBuffer: 1 << 30 });
const time = (fn) => {
  const t = process.hrtime.bigint();
  const r = fn();
  return { s: Number(process.hrtime.bigint() - t) / 1e9, r };
};

// ---- the series
const queue = join(work, "series");
const { commits, base, names } = exportSeries(REPO, N, queue);
let upstream = commits[AHEAD - 1];
let lastTree = git(REPO, "rev-parse", `${commits.at(-1)}^{tree}`).trim();

const merges = commits.filter((c) => git(REPO, "rev-list", "--parents", "-n", "1", c).trim().split(" ").length > 2).length;

const source = SHIFT ? join(work, "source") : REPO;
if (SHIFT) {
  // The shift commit, and the tree the series should end at: the last commit's, shifted.
  git(work, "clone", "-q", "--shared", "--no-checkout", REPO, source);
  const touched = [
    ...new Set(
      git(REPO, "diff", "--name-only", "--diff-filter=AM", commits[AHEAD - 1], commits.at(-1))
        .split("\n")
        .filter((p) => /\.(c|h)$/.test(p)),
    ),
  ];
  const shifted = touched.filter(
    (p) => git(REPO, "ls-tree", commits[AHEAD - 1], "--", p).trim() && git(REPO, "ls-tree", commits.at(-1), "--", p).trim(),
  );
  const shift = (rev, label) => {
    git(source, "checkout", "-q", "--detach", rev);
    for (const p of shifted)
      writeFileSync(join(source, p), "/* shifted by the rebase bench */\n" + git(source, "show", `${rev}:${p}`), "latin1");
    git(source, "add", "-A");
    git(source, "commit", "-q", "-m", `bench: shift ${label}`);
    return git(source, "rev-parse", "HEAD").trim();
  };
  upstream = shift(commits[AHEAD - 1], "upstream");
  lastTree = git(source, "rev-parse", `${shift(commits.at(-1), "expected")}^{tree}`).trim();
  console.log(`--shift: a comment line on top of ${shifted.length} files`);
}
console.log(
  `series: ${N} patches from ${REPO} (${merges} merges as first-parent diffs), base ${base.slice(0, 10)}, ` +
    `rebased onto ${upstream.slice(0, 10)} (${AHEAD} commits newer${SHIFT ? ", plus the shift commit" : ""})`,
);

function clone(label) {
  const dir = join(work, label);
  git(work, "clone", "-q", "--shared", "--no-checkout", source, dir);
  git(dir, "checkout", "-q", "-b", "work", base);
  git(dir, "branch", "upstream", upstream);
  return dir;
}

/** The work tree (pq's state aside) as a tree id, through a scratch index. */
function treeOf(dir) {
  const env = { ...ENV, GIT_INDEX_FILE: join(work, `index-${Math.random().toString(36).slice(2)}`) };
  execFileSync("git", ["read-tree", "HEAD"], { cwd: dir, env });
  execFileSync("git", ["add", "-A", "-f", "--", ".", ":!.pq"], { cwd: dir, env });
  return execFileSync("git", ["write-tree"], { cwd: dir, env, encoding: "latin1" }).trim();
}

// ---- pq
const pqDir = clone("pq");
const pqQueue = join(work, "pq-queue");
execFileSync(process.execPath, [PQ, "init", "--queue", pqQueue], { cwd: pqDir });
const push = time(() => sh(pqDir, `node ${PQ} import --quilt ${queue} >/dev/null && node ${PQ} push -a >/dev/null`));
if (push.r.status !== 0) throw new Error(`pq push -a failed: ${push.r.stderr}`);
const rebase = time(() => sh(pqDir, `node ${PQ} rebase upstream --json`));
if (rebase.r.status !== 0) throw new Error(`pq rebase stopped (${rebase.r.status}): ${rebase.r.stderr}${rebase.r.stdout.slice(-2000)}`);
const report = JSON.parse(rebase.r.stdout);
const counts = {};
for (const s of report.steps) counts[s.outcome] = (counts[s.outcome] ?? 0) + 1;
const named = report.steps.filter((s) => s.outcome === "dropped" && s.commit).length;
const pqOk = treeOf(pqDir) === lastTree && git(pqDir, "rev-parse", "HEAD").trim() === upstream;
const offsetsLeft = sh(pqDir, `node ${PQ} pop -a >/dev/null && node ${PQ} push -a | grep -c -E 'offset|fuzz'`).stdout.trim();
const applied = sh(pqDir, `node ${PQ} applied | wc -l`).stdout.trim();

// ---- git: the same mails as commits (git am), then git rebase onto the same commit
const gitDir = clone("git");
const am = time(() => sh(gitDir, `git am -q --keep-cr ${names.map((n) => join(queue, n)).join(" ")}`));
if (am.r.status !== 0) throw new Error(`git am failed: ${am.r.stderr}`);
const gr = time(() => sh(gitDir, "git rebase -q upstream 2>&1"));
const kept = Number(git(gitDir, "rev-list", "--count", "upstream..HEAD").trim());
const gitOk = gr.r.status === 0 && git(gitDir, "rev-parse", "HEAD^{tree}").trim() === lastTree;

console.log("");
console.log(`pq import + push -a of the ${N} patches (setup): ${push.s.toFixed(1)} s`);
console.log(
  `pq rebase:  ${rebase.s.toFixed(1)} s  clean ${counts.clean ?? 0}, offsets ${counts.offsets ?? 0}, merged ${counts.merged ?? 0}, ` +
    `conflicted ${counts.conflicted ?? 0}, dropped ${counts.dropped ?? 0} (${named} named an upstream commit); ${applied} applied; ` +
    `tree = last commit's: ${pqOk}; hunks still needing offset/fuzz after pop -a, push -a: ${offsetsLeft}`,
);
console.log(`git am of the ${N} mails (setup): ${am.s.toFixed(1)} s`);
console.log(
  `git rebase: ${gr.s.toFixed(1)} s  ${kept} commits replayed, ${N - kept} dropped as already upstream; tree = last commit's: ${gitOk}`,
);
rmSync(work, { recursive: true, force: true });
