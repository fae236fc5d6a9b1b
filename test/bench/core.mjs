#!/usr/bin/env node
// Core benchmark: pq against git apply and quilt on the same real series.
//
//   node test/bench/core.mjs REPO N [RUNS]
//
// Exports the last N first-parent commits of REPO as a patch series (git format-patch
// mails; a merge commit becomes one mail holding its first-parent diff, so the series
// reproduces HEAD exactly), then, in fresh clones at the base, times (median of RUNS):
// pq import, cold push -a, pq pop -a, warm pq push -a, a git apply loop, quilt push -a
// and git checkout between the two trees, and checks which reproduced HEAD's tree.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const [repoArg, nArg, runsArg] = process.argv.slice(2);
if (!repoArg || !nArg) {
  console.error("usage: node test/bench/core.mjs REPO N [RUNS]");
  process.exit(2);
}
const REPO = resolve(repoArg);
const N = Number(nArg);
const RUNS = Number(runsArg ?? 3);
const PQ = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/pq.js");
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
const commits = git(REPO, "rev-list", "--first-parent", "-n", String(N), "HEAD").trim().split("\n").reverse();
const base = git(REPO, "rev-parse", `${commits[0]}^`).trim();
const headTree = git(REPO, "rev-parse", "HEAD^{tree}").trim();
const queue = join(work, "series");
mkdirSync(queue);
const names = [];
commits.forEach((c, i) => {
  const parents = git(REPO, "rev-list", "--parents", "-n", "1", c).trim().split(" ").slice(1);
  const name = `${String(i + 1).padStart(4, "0")}-${c.slice(0, 10)}.patch`;
  let text;
  if (parents.length === 1) text = git(REPO, "format-patch", "-1", "--stdout", "--no-signature", "--binary", c);
  else {
    const who = git(REPO, "log", "-1", "--format=%an <%ae>%n%ad%n%s", c).split("\n");
    text = `From: ${who[0]}\nDate: ${who[1]}\nSubject: ${who[2]}\n\n---\n` + git(REPO, "diff", "--binary", "--full-index", parents[0], c);
  }
  writeFileSync(join(queue, name), text, "latin1");
  names.push(name);
});
writeFileSync(join(queue, "series"), names.join("\n") + "\n");
console.log(`series: ${names.length} patches of ${REPO} (base ${base.slice(0, 10)}), ${RUNS} runs each`);

function freshClone(label) {
  const dir = join(work, `${label}-${Math.random().toString(36).slice(2, 8)}`);
  git(work, "clone", "-q", "--shared", "--no-checkout", REPO, dir);
  git(dir, "checkout", "-q", base);
  return dir;
}

/** Does the work tree equal HEAD's tree (pq's own state and the queue aside)? */
function reproduces(dir) {
  // -f: files a .gitignore covers can still be tracked upstream (HEAD has them).
  git(dir, "add", "-A", "-f", "--", ".", ":!.pq", ":!patches", ":!.pc");
  return git(dir, "write-tree").trim() === headTree;
}

const results = {};
const record = (name, ms, ok, extra = {}) => {
  results[name] ??= { ms: [], ok: true, ...extra };
  results[name].ms.push(ms);
  results[name].ok &&= ok;
  Object.assign(results[name], extra);
};

for (let run = 0; run < RUNS; run++) {
  // pq: import, cold push -a, then pop -a and warm push -a.
  {
    const dir = freshClone("pq");
    const q = join(work, `pq-queue-${run}`);
    const cache = join(work, `pq-cache-${run}`);
    const env = { PQ_CACHE_DIR: cache };
    execFileSync(process.execPath, [PQ, "init", "--queue", q], { cwd: dir });
    // Import and the first (cold) push are timed apart: the git apply loop has no import step.
    const imp = time(() => sh(dir, `/usr/bin/time -f 'maxrss %M' node ${PQ} import --quilt ${queue} >/dev/null`, env));
    const impRss = Number(/maxrss (\d+)/.exec(imp.r.stderr)?.[1] ?? 0) / 1024;
    record("pq import --quilt", imp.ms, imp.r.status === 0, { rssMB: Math.max(impRss, results["pq import --quilt"]?.rssMB ?? 0) });
    const cold = time(() => sh(dir, `/usr/bin/time -f 'maxrss %M' node ${PQ} push -a >/dev/null`, env));
    const rss = Number(/maxrss (\d+)/.exec(cold.r.stderr)?.[1] ?? 0) / 1024;
    record("pq push -a (cold)", cold.ms, cold.r.status === 0 && reproduces(dir), {
      rssMB: Math.max(rss, results["pq push -a (cold)"]?.rssMB ?? 0),
    });
    git(dir, "reset", "-q");
    const pop = time(() => sh(dir, `/usr/bin/time -f 'maxrss %M' node ${PQ} pop -a >/dev/null`));
    const popRss = Number(/maxrss (\d+)/.exec(pop.r.stderr)?.[1] ?? 0) / 1024;
    git(dir, "add", "-A", "-f", "--", ".", ":!.pq");
    const popOk = git(dir, "write-tree").trim() === git(dir, "rev-parse", `${base}^{tree}`).trim();
    git(dir, "reset", "-q");
    record("pq pop -a", pop.ms, pop.r.status === 0 && popOk, { rssMB: popRss });
    const warm = time(() => sh(dir, `/usr/bin/time -f 'maxrss %M' node ${PQ} push -a >/dev/null`));
    const warmRss = Number(/maxrss (\d+)/.exec(warm.r.stderr)?.[1] ?? 0) / 1024;
    record("pq push -a (warm)", warm.ms, warm.r.status === 0 && reproduces(dir), { rssMB: warmRss });
    git(dir, "reset", "-q");
    // Undo of that push -a: the same file writes as a pop, from the operation log.
    const undo = time(() => sh(dir, `/usr/bin/time -f 'maxrss %M' node ${PQ} undo >/dev/null`));
    const undoRss = Number(/maxrss (\d+)/.exec(undo.r.stderr)?.[1] ?? 0) / 1024;
    git(dir, "add", "-A", "-f", "--", ".", ":!.pq");
    const undoOk = git(dir, "write-tree").trim() === git(dir, "rev-parse", `${base}^{tree}`).trim();
    git(dir, "reset", "-q");
    record("pq undo (of push -a)", undo.ms, undo.r.status === 0 && undoOk, { rssMB: undoRss });
    rmSync(dir, { recursive: true, force: true });
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
  // git checkout between the two trees: what "about a checkout" means. Warm it up once,
  // then take the median of several switches (a single one varies with the page cache).
  {
    const dir = freshClone("checkout");
    const head = commits.at(-1);
    sh(dir, `git checkout -q ${head} && git checkout -q ${base}`);
    const switches = [];
    for (let k = 0; k < 3; k++) {
      switches.push(time(() => sh(dir, `git checkout -q ${head}`)).ms);
      switches.push(time(() => sh(dir, `git checkout -q ${base}`)).ms);
    }
    record("git checkout base<->head (one switch)", median(switches), true, { note: "median of 6 switches" });
    rmSync(dir, { recursive: true, force: true });
  }
}

const applyMs = median(results["git apply loop"].ms);
const checkoutMs = median(results["git checkout base<->head (one switch)"].ms);
console.log("");
console.log(
  `${"tool".padEnd(44)} ${"median".padStart(9)}  ${"vs git apply".padStart(12)}  ${"vs checkout".padStart(11)}  reproduced HEAD  peak RSS`,
);
for (const [name, r] of Object.entries(results)) {
  const m = median(r.ms);
  console.log(
    `${name.padEnd(44)} ${(m.toFixed(0) + " ms").padStart(9)}  ${(m / applyMs).toFixed(2).padStart(11)}x  ${(m / checkoutMs).toFixed(2).padStart(10)}x  ${(r.ok ? "yes" : "NO").padEnd(15)}  ${r.rssMB ? `${r.rssMB.toFixed(0)} MB` : ""}${r.note ? `  (${r.note})` : ""}`,
  );
}
rmSync(work, { recursive: true, force: true });
