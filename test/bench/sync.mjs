#!/usr/bin/env node
// Shared-queue benchmark: pq sync of a large queue where two contributors each refreshed
// 10 different patches and reordered 5 pairs.
//
//   node test/bench/sync.mjs REPO [N]
//
// Exports the last N (default 1000) first-parent commits of REPO as a patch series (as
// core.mjs does), publishes it as a shared queue in a bare repository (Ann), clones it
// twice (Bob, and Cat for the cold baseline). Ann and Bob each change 10 patches (an
// added line of a file no later patch touches gets a comment, the way a refresh would)
// and swap 5 pairs of neighbouring patches that touch disjoint files. Ann pushes; Bob,
// with the whole stack applied, runs `pq sync`, timed, with its peak RSS (/usr/bin/time).
// The baseline is a cold `pq push -a` of the same queue in Cat's fresh clone.
// Finally every state of the merged queue is checked to apply, and Bob's tree to equal
// the merged queue's top state.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { exportSeries } from "./series-export.mjs";

const [repoArg, nArg] = process.argv.slice(2);
if (!repoArg) {
  console.error("usage: node test/bench/sync.mjs REPO [N]");
  process.exit(2);
}
const REPO = resolve(repoArg);
const N = Number(nArg ?? 1000);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const PQ = join(ROOT, "bin/pq.js");
const work = mkdtempSync(join(tmpdir(), "pq-bench-sync-"));
const git = (cwd, ...args) => execFileSync("git", args, { cwd, encoding: "latin1", maxBuffer: 1 << 30 });

/** Runs pq under /usr/bin/time: wall ms and peak RSS in MB. */
function pq(cwd, ...args) {
  const t = process.hrtime.bigint();
  const r = spawnSync("/usr/bin/time", ["-f", "%M", process.execPath, PQ, ...args], { cwd, encoding: "utf8", maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const rssKb = Number(r.stderr.trim().split("\n").at(-1));
  if (r.status !== 0) throw new Error(`pq ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return { ms, rssMb: rssKb / 1024, out: r.stdout };
}

// ---- export the series
const exported = join(work, "export");
const { commits, base, names } = exportSeries(REPO, N, exported);

// ---- which patches can be changed or swapped without touching any other patch
const filesOf = names.map((n) =>
  [...readFileSync(join(exported, n), "latin1").matchAll(/^diff --git a\/(\S+) b\/(\S+)$/gm)].flatMap((m) => [m[1], m[2]]),
);
const lastTouch = new Map();
filesOf.forEach((fs, i) => fs.forEach((f) => lastTouch.set(f, i)));
const editable = [];
names.forEach((n, i) => {
  const text = readFileSync(join(exported, n), "latin1");
  if (/^GIT binary patch$/m.test(text)) return;
  const own = filesOf[i].filter((f) => {
    if (lastTouch.get(f) !== i || !/\.[ch]$/.test(f)) return false;
    const at = text.indexOf(`diff --git a/${f} b/${f}\n`);
    if (at === -1) return false;
    const end = text.indexOf("\ndiff --git ", at + 1);
    return /^\+(?!\+\+ ).*[^\\\n]$/m.test(text.slice(at, end === -1 ? undefined : end));
  });
  if (own.length) editable.push({ i, file: own[0] });
});
const swappable = [];
for (let i = 0; i + 1 < names.length; i++) {
  const a = new Set(filesOf[i]);
  if (filesOf[i + 1].every((f) => !a.has(f)) && filesOf[i].length && filesOf[i + 1].length) swappable.push(i);
}
const pick = (xs, from, count, gap = 1) => {
  const out = [];
  for (const x of xs) {
    const at = typeof x === "number" ? x : x.i;
    if (at < from) continue;
    if (out.some((o) => Math.abs((typeof o === "number" ? o : o.i) - at) <= gap)) continue;
    out.push(x);
    if (out.length === count) break;
  }
  return out;
};
// Different patches for Ann and Bob (files touched by no later patch cluster near the end).
const annEdits = pick(editable, Math.floor(N * 0.1), 10);
const bobEdits = pick(
  editable.filter((e) => !annEdits.some((a) => Math.abs(a.i - e.i) <= 1)),
  Math.floor(N * 0.1),
  10,
);
const used = new Set([...annEdits, ...bobEdits].map((e) => e.i));
const annSwaps = pick(
  swappable.filter((i) => !used.has(i) && !used.has(i + 1)),
  Math.floor(N * 0.2),
  5,
  2,
);
const bobSwaps = pick(
  swappable.filter((i) => !used.has(i) && !used.has(i + 1)),
  Math.floor(N * 0.7),
  5,
  2,
);
if (annEdits.length < 10 || bobEdits.length < 10 || annSwaps.length < 5 || bobSwaps.length < 5)
  throw new Error("not enough independent patches to change in this history");

/** A refresh-like change: the first added line of the file gets a trailing comment. */
function refreshPatch(queue, name, file, who) {
  const path = join(queue, name);
  const text = readFileSync(path, "latin1");
  const at = text.indexOf(`diff --git a/${file} b/${file}\n`);
  const re = /^\+(?!\+\+ ).*[^\\\n]$/gm;
  re.lastIndex = at;
  const m = re.exec(text);
  if (!m) throw new Error(`no added line in ${name}`);
  writeFileSync(path, text.slice(0, m.index + m[0].length) + ` /* ${who} */` + text.slice(m.index + m[0].length), "latin1");
}
function swap(queue, i) {
  const series = readFileSync(join(queue, "series"), "latin1").trimEnd().split("\n");
  const a = names[i];
  const b = names[i + 1];
  const ia = series.indexOf(a);
  series.splice(ia, 2, b, a);
  writeFileSync(join(queue, "series"), series.join("\n") + "\n");
}

// ---- the shared queue
const remote = join(work, "queue.git");
git(work, "init", "-q", "--bare", "-b", "main", remote);
function contributor(name, email) {
  const dir = join(work, name.toLowerCase());
  git(work, "clone", "-q", "--shared", "--no-checkout", REPO, dir);
  git(dir, "checkout", "-q", base);
  git(dir, "config", "user.name", `${name} Example`);
  git(dir, "config", "user.email", email);
  pq(dir, "init", "--shared", remote);
  git(join(dir, "patches"), "config", "user.name", `${name} Example`);
  git(join(dir, "patches"), "config", "user.email", email);
  return { dir, queue: join(dir, "patches") };
}
const ann = contributor("Ann", "ann@example.org");
for (const n of names) writeFileSync(join(ann.queue, n), readFileSync(join(exported, n)));
writeFileSync(join(ann.queue, "series"), names.join("\n") + "\n");
pq(ann.dir, "commit", "-m", `import ${N} patches`);
pq(ann.dir, "sync");

const bob = contributor("Bob", "bob@example.org");
const cat = contributor("Cat", "cat@example.org");
const cold = pq(cat.dir, "push", "-a");
const bobPush = pq(bob.dir, "push", "-a");

for (const e of annEdits) refreshPatch(ann.queue, names[e.i], e.file, "ann");
for (const i of annSwaps) swap(ann.queue, i);
pq(ann.dir, "commit", "-m", "ann: 10 refreshes, 5 reorders");
pq(ann.dir, "sync");

// Bob refreshes his 10 through the queue files too (his stack is applied: pop to below
// the first one, edit, and keep them unapplied until the sync pushes everything back).
pq(bob.dir, "goto", names[Math.min(...bobEdits.map((e) => e.i), ...bobSwaps) - 1]);
for (const e of bobEdits) refreshPatch(bob.queue, names[e.i], e.file, "bob");
for (const i of bobSwaps) swap(bob.queue, i);
pq(bob.dir, "commit", "-m", "bob: 10 refreshes, 5 reorders");
pq(bob.dir, "push", "-a");

const sync = pq(bob.dir, "sync");
const applied = pq(bob.dir, "applied").out.trim().split("\n").length;
const series = readFileSync(join(bob.queue, "series"), "latin1").trim().split("\n");
const remoteSeries = git(remote, "show", "main:series").trim().split("\n");
const mergedOk = series.join("\n") === remoteSeries.join("\n");
const changedInMerge = [...annEdits, ...bobEdits].every((e) =>
  /\/\* (ann|bob) \*\//.test(readFileSync(join(bob.queue, names[e.i]), "latin1")),
);
// Every state applies: a fresh clone pushes the whole merged queue.
const dan = contributor("Dan", "dan@example.org");
const danPush = pq(dan.dir, "push", "-a");
const danApplied = pq(dan.dir, "applied").out.trim().split("\n").length;
const treeOf = (dir) => {
  git(dir, "add", "-A", "-f", "--", ".", ":!.pq", ":!patches");
  return git(dir, "write-tree").trim();
};
const bobTree = treeOf(bob.dir);
const danTree = treeOf(dan.dir);

const result = {
  repo: REPO,
  annEdits: annEdits.map((e) => e.i + 1),
  bobEdits: bobEdits.map((e) => e.i + 1),
  annSwaps: annSwaps.map((i) => i + 1),
  bobSwaps: bobSwaps.map((i) => i + 1),
  patches: names.length,
  base: base.slice(0, 12),
  coldPushAllMs: Math.round(cold.ms),
  coldPushAllRssMb: Math.round(cold.rssMb),
  syncMs: Math.round(sync.ms),
  syncRssMb: Math.round(sync.rssMb),
  ratio: Number((sync.ms / cold.ms).toFixed(2)),
  bobPushAllMs: Math.round(bobPush.ms),
  mergedSeriesPushed: mergedOk,
  allTwentyRefreshesKept: changedInMerge,
  bobApplied: applied,
  freshCloneAppliesAll: danApplied === names.length,
  freshClonePushAllMs: Math.round(danPush.ms),
  bobTreeEqualsFreshClone: bobTree === danTree,
};
console.log(JSON.stringify(result, null, 2));
rmSync(work, { recursive: true, force: true });
