#!/usr/bin/env node
/**
 * The Debian corpus: for each source package below (all "3.0 (quilt)"), fetch the source
 * (`apt-get source --download-only`, cached), unpack it twice without its patches
 * (`dpkg-source -x --skip-patches`), then
 *   - copy A: `quilt push -a`, `quilt pop -a` (QUILT_PATCHES = the package's queue)
 *   - copy B: git init + commit, `pq init`, `pq import --quilt`, `pq push -a`, `pq pop -a`
 * and compare the two trees byte for byte after the push (files, symlinks, exec bits) and
 * each tree with the pristine unpack after the pop. Each step's time and peak RSS come from
 * /usr/bin/time. Not part of `npm test`: it downloads (the kernel alone is 140 MB).
 *
 *   npm run corpus                      # every package
 *   npm run corpus -- linux curl        # some of them
 *   options: --cache DIR (default ~/.cache/pq-corpus), --json FILE, --md FILE, --keep (keep unpacked trees),
 *            --runs N (time N cold rounds of each tool and keep the best: the figures are steadier),
 *            --report FILE.json (only print the table of an earlier run's --json file)
 *
 * Needs deb-src entries in apt's sources, dpkg-dev (dpkg-source) and quilt, and a built
 * pq (npm run build).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { cpus, homedir, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** name=version pins what this corpus was measured on; `extra` queues are appended to debian/patches. */
const PACKAGES = [
  { name: "linux", version: "6.1.8-1", extra: ["debian/patches-rt"], why: "kernel: 108 patches in subdirectories + 50 PREEMPT_RT, offsets and fuzz" },
  { name: "glibc", why: "subdirectories, git binary diffs without data" },
  { name: "imagemagick", why: "193 patches, many on the same files" },
  { name: "python3.11", why: "83 patches" },
  { name: "exim4", why: "66 patches" },
  { name: "perl", why: "60 patches in debian/ and fixes/" },
  { name: "openssh", why: "53 gbp-pq patches" },
  { name: "curl", why: "51 patches" },
  { name: "util-linux", why: "48 patches, all in subdirectories" },
  { name: "php8.2", why: "47 patches" },
  { name: "samba", why: "subdirectories" },
  { name: "libxml2", why: "39 patches, two subdirectories" },
  { name: "qemu", why: "38 patches" },
  { name: "gnupg2", why: "gbp-pq topic subdirectories" },
  { name: "systemd", why: "debian/ and p/ subdirectories" },
  { name: "unzip", why: "28 patches, old DOS-era sources" },
  { name: "cups", why: "26 patches" },
  { name: "nginx", why: "25 patches" },
  { name: "binutils", why: "large tree" },
  { name: "openssl", why: "23 patches" },
  { name: "tiff", why: "22 patches" },
  { name: "bash", why: "19 upstream patchlevels" },
  { name: "krb5", why: "subdirectories" },
  { name: "postfix", why: "16 patches" },
  { name: "openldap", why: "15 patches" },
  { name: "shadow", why: "one subdirectory" },
  { name: "vim", why: "debian/ and upstream/ subdirectories" },
  { name: "screen", why: "14 patches" },
  { name: "isc-dhcp", why: "10 patches" },
  { name: "procps", why: "9 patches" },
  { name: "zsh", why: "8 patches" },
  { name: "texinfo", why: "8 patches" },
  { name: "p7zip", why: "CRLF sources" },
  { name: "git", why: "7 patches" },
  { name: "grep", why: "7 patches" },
  { name: "tar", why: "7 patches" },
  { name: "sudo", why: "7 patches" },
  { name: "apache2", why: "7 patches" },
  { name: "ncurses", why: "7 patches" },
  { name: "less", why: "6 patches" },
  { name: "netpbm-free", why: "6 patches" },
  { name: "pam", why: "subdirectories" },
  { name: "wget", why: "4 patches" },
  { name: "nmap", why: "4 patches" },
  { name: "coreutils", why: "3 patches" },
  { name: "gawk", why: "3 patches" },
  { name: "bind9", why: "3 patches" },
];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PQ = join(ROOT, "bin", "pq.js");
const args = process.argv.slice(2);
const opt = (flag) => {
  const i = args.indexOf(flag);
  return i === -1 ? undefined : args.splice(i, 2)[1];
};
const CACHE = resolve(opt("--cache") ?? process.env.PQ_CORPUS_CACHE ?? join(homedir(), ".cache", "pq-corpus"));
const JSON_OUT = opt("--json");
const MD_OUT = opt("--md");
const RUNS = Number(opt("--runs") ?? 1);
const KEEP = args.includes("--keep") ? (args.splice(args.indexOf("--keep"), 1), true) : false;
const only = new Set(args);
const LOAD_AT_START = loadavg()[0];
const REPORT_ONLY = opt("--report");
const QUILTRC = ["--quiltrc", "/dev/null"]; // the user's ~/.quiltrc must not change quilt's behaviour

function sh(cmd, argv, o = {}) {
  return execFileSync(cmd, argv, { encoding: "latin1", maxBuffer: 1 << 30, stdio: ["ignore", "pipe", "pipe"], ...o });
}

/**
 * Run one measured step: wall time, CPU time (user + sys, children included: quilt runs
 * patch once per patch) and peak RSS (the largest single process, as getrusage reports it).
 * On a loaded machine the CPU time is the steadier figure of the two.
 */
function timed(cmd, argv, o = {}) {
  const out = join(CACHE, "work", ".time");
  const r = spawnSync("/usr/bin/time", ["-f", "%e %U %S %M", "-o", out, cmd, ...argv], { encoding: "latin1", maxBuffer: 1 << 30, ...o });
  const [secs, user, sys, kb] = readFileSync(out, "latin1").trim().split("\n").at(-1).split(" ").map(Number);
  return { ok: r.status === 0, secs, cpu: user + sys, mb: kb / 1024, out: (r.stdout ?? "") + (r.stderr ?? "") };
}

function fetchSource(pkg) {
  const dir = join(CACHE, "src", pkg.name);
  mkdirSync(dir, { recursive: true });
  const have = () => readdirSync(dir).find((f) => f.endsWith(".dsc"));
  if (have()) return join(dir, have());
  // The pinned version first; security updates come and go, so fall back to any version apt still has.
  const versions = sh("apt-cache", ["showsrc", pkg.name])
    .split("\n\n")
    .filter((b) => b.startsWith(`Package: ${pkg.name}\n`))
    .map((b) => /^Version: (.*)$/m.exec(b)?.[1])
    .filter(Boolean);
  if (!versions.length) throw new Error(`apt knows no source for ${pkg.name}: add deb-src entries (see notes/corpus.md) and apt-get update`);
  const tries = [pkg.version, ...versions.sort().reverse()].filter(Boolean);
  for (const v of tries) {
    const r = spawnSync("apt-get", ["source", "--download-only", `${pkg.name}=${v}`], { cwd: dir, encoding: "latin1" });
    if (r.status === 0 && have()) return join(dir, have());
  }
  throw new Error(`apt-get source could not download any version of ${pkg.name}`);
}

function unpack(dsc, dest) {
  rmSync(dest, { recursive: true, force: true });
  sh("dpkg-source", ["--no-check", "-x", "--skip-patches", dsc, dest], { env: { ...process.env, LC_ALL: "C" } });
}

/** Every file, symlink and directory below `dir` (not .git, .pc, .pq) with its content hash and exec bit. */
function treeHash(dir) {
  const entries = new Map();
  const walk = (rel) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      if (!rel && (name === ".git" || name === ".pc" || name === ".pq")) continue;
      const path = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(dir, path));
      if (st.isSymbolicLink()) entries.set(path, `link ${readlinkSync(join(dir, path))}`);
      else if (st.isDirectory()) {
        entries.set(path, "dir");
        walk(path);
      } else entries.set(path, `${st.mode & 0o111 ? "x" : "-"} ${createHash("sha1").update(readFileSync(join(dir, path))).digest("hex")}`);
    }
  };
  walk("");
  return entries;
}

function treeDiff(a, b) {
  const diffs = [];
  for (const [p, v] of a) if (b.get(p) !== v) diffs.push(`${p}: ${v} vs ${b.get(p) ?? "missing"}`);
  for (const [p, v] of b) if (!a.has(p)) diffs.push(`${p}: missing vs ${v}`);
  return diffs;
}

/** The queue both tools use: debian/patches, or (linux) debian/patches followed by debian/patches-rt. */
function makeQueue(pkg, tree, work) {
  if (!pkg.extra) return join(tree, "debian", "patches");
  const queue = join(work, "queue");
  rmSync(queue, { recursive: true, force: true });
  cpSync(join(tree, "debian", "patches"), queue, { recursive: true });
  let series = readFileSync(join(queue, "series"), "latin1");
  for (const extra of pkg.extra) {
    const sub = extra.split("/").at(-1);
    cpSync(join(tree, extra), join(queue, sub), { recursive: true });
    const lines = readFileSync(join(tree, extra, "series"), "latin1").split("\n");
    series += lines.map((l) => (l.trim() && !l.trim().startsWith("#") ? `${sub}/${l.trim()}` : l)).join("\n");
    rmSync(join(queue, sub, "series"));
  }
  writeFileSync(join(queue, "series"), series);
  return queue;
}

function countPatches(queue) {
  return readFileSync(join(queue, "series"), "latin1").split("\n").filter((l) => l.trim() && !l.trim().startsWith("#")).length;
}

function runPackage(pkg) {
  const work = join(CACHE, "work", pkg.name);
  try {
    return measure(pkg, work);
  } finally {
    if (!KEEP) rmSync(work, { recursive: true, force: true });
  }
}

function measure(pkg, work) {
  const row = { name: pkg.name, why: pkg.why };
  const dsc = fetchSource(pkg);
  row.version = /_(.*)\.dsc$/.exec(dsc)[1];
  mkdirSync(work, { recursive: true });
  const qTree = join(work, "quilt");
  const pTree = join(work, "pq");
  unpack(dsc, qTree);
  unpack(dsc, pTree);
  const pristine = treeHash(qTree);
  const queueQ = makeQueue(pkg, qTree, work);
  const queueP = pkg.extra ? queueQ : join(pTree, "debian", "patches");
  row.patches = countPatches(queueQ);

  const quiltEnv = { ...process.env, QUILT_PATCHES: queueQ, LC_ALL: "C" };
  const qPush = timed("quilt", [...QUILTRC, "push", "-a", "-q"], { cwd: qTree, env: quiltEnv });
  row.quilt = { push: qPush.secs, pushCpu: qPush.cpu, mb: qPush.mb };
  if (!qPush.ok) {
    row.status = "quilt-fails";
    row.detail = qPush.out.trim().split("\n").slice(-3).join(" / ");
    return row;
  }
  const afterQuilt = treeHash(qTree);
  const qPop = timed("quilt", [...QUILTRC, "pop", "-a", "-q"], { cwd: qTree, env: quiltEnv });
  row.quilt.pop = qPop.secs;
  row.quilt.mb = Math.max(row.quilt.mb, qPop.mb);
  const quiltPopDiffs = qPop.ok ? treeDiff(pristine, treeHash(qTree)) : ["quilt pop -a failed"];

  // pq keeps its patches on top of a git tree; the commit is setup, not measured.
  const git = (...a) => sh("git", ["-c", "user.name=Corpus", "-c", "user.email=corpus@example.org", "-c", "core.autocrlf=false", ...a], { cwd: pTree });
  git("init", "-q");
  git("add", "-A", "-f", ".");
  git("commit", "-q", "-m", "pristine", "--no-verify");
  const pqQueue = join(work, "pq-queue");
  rmSync(pqQueue, { recursive: true, force: true });
  const pq = (...a) => timed(process.execPath, [PQ, ...a], { cwd: pTree });
  const steps = [
    ["init", pq("init", "--queue", pqQueue)],
    ["import", null],
    ["push", null],
  ];
  steps[1][1] = steps[0][1].ok ? pq("import", "--quilt", queueP) : steps[0][1];
  steps[2][1] = steps[1][1].ok ? pq("push", "-a") : steps[1][1];
  row.pq = { import: steps[1][1].secs, push: steps[2][1].secs, pushCpu: steps[2][1].cpu, mb: Math.max(...steps.map((s) => s[1].mb)) };
  const failed = steps.find((s) => !s[1].ok);
  if (failed) {
    row.status = `pq ${failed[0]} failed`;
    row.detail = failed[1].out.trim().split("\n").slice(0, 4).join(" / ");
    return row;
  }
  const pushDiffs = treeDiff(afterQuilt, treeHash(pTree));
  const pPop = pq("pop", "-a");
  row.pq.pop = pPop.secs;
  row.pq.mb = Math.max(row.pq.mb, pPop.mb);
  const popDiffs = pPop.ok ? treeDiff(pristine, treeHash(pTree)) : ["pq pop -a failed: " + pPop.out.trim().split("\n")[0]];
  row.pushSame = pushDiffs.length === 0;
  row.popSame = popDiffs.length === 0;
  row.quiltPopSame = quiltPopDiffs.length === 0;
  row.status = row.pushSame && row.popSame ? "same" : "differs";
  if (!row.pushSame || !row.popSame) row.detail = [...pushDiffs.slice(0, 5), ...popDiffs.slice(0, 5).map((d) => `after pop: ${d}`)].join(" / ");
  const pushOut = steps[2][1].out.split("\n");
  row.fuzzy = pushOut.filter((l) => /succeeded at .*(offset|fuzz)/.test(l)).length;
  row.noData = pushOut.filter((l) => /binary diff without data/.test(l)).reduce((n, l) => n + l.slice(l.lastIndexOf("):") + 2).split(",").length, 0);
  if (row.status === "same") for (let run = 1; run < RUNS; run++) remeasure(row, { qTree, quiltEnv, pTree, pqQueue, queueP, pq });
  return row;
}

/**
 * Another cold round of both tools (best of --runs N): quilt pushes and pops again; pq
 * starts over (no .pq, so no caches), imports, pushes and pops.
 */
function remeasure(row, { qTree, quiltEnv, pTree, pqQueue, queueP, pq }) {
  const best = (obj, key, value) => (obj[key] = Math.min(obj[key], value));
  const qPush = timed("quilt", [...QUILTRC, "push", "-a", "-q"], { cwd: qTree, env: quiltEnv });
  const qPop = timed("quilt", [...QUILTRC, "pop", "-a", "-q"], { cwd: qTree, env: quiltEnv });
  if (!qPush.ok || !qPop.ok) throw new Error(`quilt failed on run 2+ of ${row.name}`);
  best(row.quilt, "push", qPush.secs);
  best(row.quilt, "pushCpu", qPush.cpu);
  best(row.quilt, "pop", qPop.secs);
  rmSync(join(pTree, ".pq"), { recursive: true, force: true });
  rmSync(pqQueue, { recursive: true, force: true });
  const init = pq("init", "--queue", pqQueue);
  const imp = init.ok ? pq("import", "--quilt", queueP) : init;
  const push = imp.ok ? pq("push", "-a") : imp;
  const pop = push.ok ? pq("pop", "-a") : push;
  if (!pop.ok) throw new Error(`pq failed on run 2+ of ${row.name}: ${pop.out.trim().split("\n")[0]}`);
  best(row.pq, "import", imp.secs);
  best(row.pq, "push", push.secs);
  best(row.pq, "pushCpu", push.cpu);
  best(row.pq, "pop", pop.secs);
  row.runs = (row.runs ?? 1) + 1;
}

const f2 = (n) => (n === undefined ? "" : n.toFixed(2));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

function report(rows) {
  const pushed = rows.filter((r) => r.status !== "quilt-fails" && !r.error);
  const lines = [
    "| package | version | patches | pq import s | pq push -a s (cpu) | quilt push -a s (cpu) | pq pop -a s | quilt pop -a s | peak MB pq / quilt | offset/fuzz hunks | binary w/o data | push tree | pop tree |",
    "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|",
  ];
  for (const r of pushed) {
    const same = (b) => (b === undefined ? "-" : b ? "identical" : "DIFFERS");
    lines.push(
      `| ${r.name} | ${r.version ?? ""} | ${r.patches ?? ""} | ${f2(r.pq?.import)} | ${f2(r.pq?.push)} (${f2(r.pq?.pushCpu)}) | ${f2(r.quilt?.push)} (${f2(r.quilt?.pushCpu)}) | ${f2(r.pq?.pop)} | ${f2(r.quilt?.pop)} | ` +
        `${r.pq ? Math.round(r.pq.mb) : ""} / ${r.quilt ? Math.round(r.quilt.mb) : ""} | ${r.fuzzy ?? ""} | ${r.noData ?? ""} | ${r.status === "same" || r.status === "differs" ? same(r.pushSame) : r.status} | ${same(r.popSame)} |`,
    );
  }
  const apart = rows.filter((r) => r.status === "quilt-fails" || r.error);
  if (apart.length) {
    lines.push("", "Not counted (quilt itself cannot push the series, or the source could not be fetched):", "");
    for (const r of apart) lines.push(`- ${r.name} ${r.version ?? ""}: ${r.error ?? r.detail}`);
  }
  const bad = pushed.filter((r) => r.status !== "same");
  if (bad.length) {
    lines.push("", "Differences and failures:", "");
    for (const r of bad) lines.push(`- ${r.name}: ${r.status}: ${r.detail ?? ""}`);
  }
  const same = pushed.filter((r) => r.status === "same");
  const ratio = (key) => median(same.map((r) => r.quilt[key] / Math.max(r.pq[key], 0.01))).toFixed(1);
  const big = same.filter((r) => r.patches >= 40);
  const bigRatio = median(big.map((r) => r.quilt.push / Math.max(r.pq.push, 0.01))).toFixed(1);
  lines.push(
    "",
    `${same.length} of ${pushed.length} series reproduce quilt's tree; pq median ${ratio("push")}x faster (push -a, wall clock; ${ratio("pushCpu")}x in CPU time)`,
  );
  if (!REPORT_ONLY) lines.push(`load average (1 min) at start and end: ${LOAD_AT_START.toFixed(1)}, ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs`);
  if (big.length) lines.push(`series of 40 patches or more (${big.length}): pq median ${bigRatio}x faster (push -a, wall clock)`);
  return lines.join("\n");
}

if (REPORT_ONLY) {
  // Reprint the table of an earlier run (its --json file) without measuring anything.
  console.log(report(JSON.parse(readFileSync(REPORT_ONLY, "latin1"))));
  process.exit(0);
}
mkdirSync(join(CACHE, "work"), { recursive: true });
if (!existsSync(join(ROOT, "dist"))) throw new Error("build pq first: npm run build");
const rows = [];
for (const pkg of PACKAGES.filter((p) => !only.size || only.has(p.name))) {
  process.stderr.write(`${pkg.name} ... `);
  let row;
  try {
    row = runPackage(pkg);
  } catch (e) {
    row = { name: pkg.name, status: "error", error: String(e.message ?? e).split("\n")[0] };
  }
  rows.push(row);
  process.stderr.write(`${row.status}${row.pq ? ` pq ${f2(row.pq.push)} s, quilt ${f2(row.quilt.push)} s` : ""}\n`);
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(rows, null, 2));
}
const text = report(rows);
if (MD_OUT) writeFileSync(MD_OUT, text + "\n");
console.log(text);
