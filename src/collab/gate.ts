/**
 * The gate that keeps a shared queue green: run pq ci on the queue before and after a
 * change and refuse when a cell that did not fail before fails now (cells that were
 * already failing are reported, not blocking). Used by `pq sync --check` on the merged
 * queue and by the pre-receive hook on every pushed queue version.
 */
import { childProcess } from "../core/child-process.js";
import { visible } from "../core/log-tail.js";
import { operandWords } from "../core/shell-word.js";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { gitFailed, PqError } from "../errors.js";
import { renderMatrix } from "../ci/render.js";
import { FAILING, RUN_COLUMN, type CiReport } from "../ci/report.js";
import { runCi } from "../ci/run.js";
import type { Stack } from "../queue/stack.js";
import { validatePatchName } from "../queue/names.js";
import { splitVersion } from "./queue-repo.js";
import type { Gate, GateVerdict } from "./sync.js";
import type { QueueVersion } from "./types.js";
import { pathMap } from "../queue/state.js";
import { readText } from "../tree/files.js";
import { leadsOutside } from "../tree/paths.js";
import { guardedCause, guardedCauseWords, guardsNamed, MAX_GUARDS_TRIED, simulateQueue, untriedGuardsNote } from "./simulate.js";

const ALL = ["native", "xen", "vmi"];

function writeQueue(dir: string, v: QueueVersion): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "series"), v.series, "latin1");
  for (const [name, text] of Object.entries(v.patches)) {
    // A name may have directories (debian/foo.patch), and must stay inside (a pushed queue is anyone's).
    validatePatchName(name);
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text, "latin1");
  }
}

const key = (r: CiReport, state: number, backend: string) => `${r.states[state]?.patch ?? "(base tree)"}\0${backend}`;

/** Runs ci on both versions over a plain directory of base files and compares them cell by cell. */
export async function checkVersions(
  /** The tree the queue applies to; or, for a queue kept in the tree's repository, each version's own (see hook check --subdir). */
  baseTree: string | { before: string | null; after: string },
  before: QueueVersion | null,
  after: QueueVersion,
  opts: {
    backends?: string[];
    /** Judge each state by this shell command instead of build and boot (pq ci --run). */
    run?: string;
    /** How a refusal names the base tree and the command that checks. */
    describe?: { tree: string; command: string; retry?: string };
  } = {},
): Promise<GateVerdict> {
  const { backends = ALL, run: command, describe } = opts;
  const dir = mkdtempSync(join(tmpdir(), "pq-gate-"));
  try {
    const run = async (v: QueueVersion, name: "before" | "after") => {
      writeQueue(join(dir, name), v);
      try {
        return await runCi({
          tree: typeof baseTree === "string" ? baseTree : (baseTree[name] ?? baseTree.after),
          queue: join(dir, name),
          backends,
          jobs: 1,
          run: command,
          describe,
        });
      } catch (e) {
        // The queue's files by their names in the queue (series), not by this gate's scratch copy of them (t127 N13).
        if (!(e instanceof PqError)) throw e;
        const named = (text: string) => text.split(`${join(dir, name)}/`).join("");
        throw new PqError(e.code, named(e.message), e.details.map(named), e.data);
      }
    };
    const afterReport = await run(after, "after");
    const beforeOutcome = new Map<string, boolean>(); // key -> failed
    let beforeUnreadable: string | null = null;
    if (before && afterReport.cells.some((c) => FAILING.has(c.outcome))) {
      try {
        const beforeReport = await run(before, "before");
        for (const c of beforeReport.cells) beforeOutcome.set(key(beforeReport, c.state, c.backend), FAILING.has(c.outcome));
      } catch (e) {
        // The version before cannot be read (a series that was pushed before the gate): nothing
        // passed there to compare with, and its error is not the push's (t156 N7: the fix of
        // that very series was refused for the error it fixed).
        if (!(e instanceof PqError)) throw e;
        beforeUnreadable = e.message;
      }
    }
    const failedAfter = new Set(afterReport.cells.filter((c) => FAILING.has(c.outcome)).map((c) => `${c.state}\0${c.backend}`));
    const failing = afterReport.cells.filter((c) => FAILING.has(c.outcome));
    // A known state blocks when it passed before; a new state (a new patch) blocks when the
    // state under it does not fail, i.e. the new patch itself broke it. The base tree with no
    // version before it (the first push into an empty queue) is no patch's doing (t62 N5).
    const blocking = failing.filter((c) => {
      const was = beforeOutcome.get(key(afterReport, c.state, c.backend));
      return was === undefined ? c.state > 0 && !failedAfter.has(`${c.state - 1}\0${c.backend}`) : !was;
    });
    const lines = [renderMatrix(afterReport)];
    if (beforeUnreadable !== null && blocking.length)
      lines.push(
        `the branch's version before this push cannot be read (${beforeUnreadable}): no state passed there to compare with, so every failing state of the pushed version counts as new; push a version whose every state passes (a known-broken patch taken out of the series)`,
      );
    if (failing.length > blocking.length)
      lines.push(`${failing.length - blocking.length} failing cell(s) already failed before or sit on a failing state (not blocking)`);
    if (blocking.length) {
      lines.push(
        `newly failing: ${blocking.map((c) => `state ${c.state} (${afterReport.states[c.state].patch ?? "base tree"}) ${c.backend === RUN_COLUMN ? "by the command" : `on ${c.backend}`}: ${c.outcome}`).join("; ")}`,
      );
      const first = blocking[0];
      lines.push(changesBelow(before, after, afterReport, first.state, typeof baseTree !== "string"));
      // ci applies the queue with no guard selected: a patch that applies only with a guard its lower patch needs is said as that (t151 N4).
      const patch = afterReport.states[first.state].patch;
      if (patch) {
        const dependency = await guardDependency(typeof baseTree === "string" ? baseTree : baseTree.after, after, patch);
        if (dependency) lines.push(dependency);
      }
      if (first.log)
        lines.push(
          `first failing log (state ${first.state}, ${first.backend}):`,
          ...visible(first.log)
            .split("\n")
            .slice(-20)
            .map((l) => `    | ${l}`),
        );
    }
    // ci applies the queue with no guard selected: a patch only a guard turns on (#+xen) is checked
    // as pq sync checks it, applied with that guard selected (t60 N1: a broken one passed the gate).
    const guarded = blocking.length ? { refusal: null, untried: [] } : await guardedBreak(baseTree, before, after);
    if (guarded.refusal) lines.push(guarded.refusal);
    if (guarded.untried.length) lines.push(untriedGuardsNote(guarded.untried));
    // The gate's pusher may use plain git: a fix committed on top is refused with the broken commit (t156 N11).
    if ((blocking.length || guarded.refusal) && describe?.retry) lines.push(`fix the patch, then ${describe.retry}`);
    return {
      ok: blocking.length === 0 && !guarded.refusal,
      report: lines.join("\n"),
      failing: failing.length,
      ...(guarded.untried.length ? { untried: guarded.untried } : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A patch that no longer applies, or applies for the first time broken, when a guard the
 * series turns on is selected (each such guard in turn, at most 8, as pq sync tries them),
 * said as a refusal; null when there is none. A patch that did not apply before either is no
 * change of this push's.
 */
async function guardedBreak(
  baseTree: string | { before: string | null; after: string },
  before: QueueVersion | null,
  after: QueueVersion,
): Promise<{ refusal: string | null; untried: string[] }> {
  // A guard a patch is kept out by (#-xen) changes what is applied when selected, as one that lets a patch in does (t64 N2).
  const named = guardsNamed(after.series, "the pushed");
  const guards = named.slice(0, MAX_GUARDS_TRIED);
  const untried = named.slice(MAX_GUARDS_TRIED);
  const afterTree = typeof baseTree === "string" ? baseTree : baseTree.after;
  const beforeTree = typeof baseTree === "string" ? baseTree : (baseTree.before ?? baseTree.after);
  for (const guard of guards) {
    const sim = await simulateQueue(after, treeFiles(afterTree), [guard], "the pushed");
    const failing = [...sim.runs].filter(([, run]) => run.pushable && !run.ok).map(([name]) => name);
    if (!failing.length) continue;
    const was = before ? await simulateQueue(before, treeFiles(beforeTree), [guard], "the previous") : null;
    const broken = failing.find((name) => !was || was.runs.get(name)?.ok !== false);
    if (!broken) continue;
    const run = sim.runs.get(broken)!;
    // Applied with no guard (as ci applies it), it may apply: a guarded patch below makes the difference (t144 N3).
    const unguarded = await simulateQueue(after, treeFiles(afterTree), [], "the pushed");
    const cause = guardedCause(broken, { sim, guards: [guard] }, { sim: unguarded, guards: [] });
    return {
      refusal: [
        `newly failing: ${broken} does not apply when the guard ${guard} is selected`,
        ...run.failures.slice(0, 5).map((f) => `    ${f}`),
        ...(cause ? [`    ${guardedCauseWords(broken, cause, guard, true)}`] : []),
      ].join("\n"),
      untried,
    };
  }
  return { refusal: null, untried };
}

/** A checked-out tree's files, as a simulation reads them (a path leading outside it is no file). */
const treeFiles = (dir: string) => async (path: string) => {
  const full = resolve(dir, path);
  return leadsOutside(relative(dir, full)) ? null : readText(full);
};

/**
 * Why a patch that does not apply with no guard selected (as ci applies the queue) applies with
 * one of the series' guards: a guarded patch below it it builds on (see guardedCause), said with
 * the ways out; null when no guard makes it apply.
 */
async function guardDependency(tree: string, version: QueueVersion, patch: string): Promise<string | null> {
  const named = guardsNamed(version.series, "the pushed").slice(0, MAX_GUARDS_TRIED);
  if (!named.length) return null;
  const files = treeFiles(tree);
  const plain = await simulateQueue(version, files, [], "the pushed");
  for (const selected of [...named.map((g) => [g]), named]) {
    const cause = guardedCause(
      patch,
      { sim: plain, guards: [] },
      { sim: await simulateQueue(version, files, selected, "the pushed"), guards: selected },
    );
    if (!cause) continue;
    const guard =
      selected.find((g) => [...cause.needed, ...cause.inTheWay].some((e) => e.guards.some((eg) => eg.slice(1) === g))) ?? selected[0];
    return [
      `${patch} applies with the guard ${selected.join(" and ")} selected and not with none: ${guardedCauseWords(patch, cause, guard, false)}`,
      `    guard it as what it builds on is guarded, where one guard list says it (pq guard NAME +GUARD), or take the guards off what it builds on (${cause.needed.map((e) => `pq guard ${operandWords(e.name)} --none`).join(", ") || "pq guard --list shows them"}); then pq commit and pq sync (pq sync checks each guard)`,
    ].join("\n");
  }
  return null;
}

/**
 * What this change did to the patches at or below a newly failing state. The state names
 * its own patch, but the patch that broke it can be a lower one someone rewrote (the push's
 * author, not the failing patch's): the line says which were added, rewritten or taken out.
 */
function changesBelow(before: QueueVersion | null, after: QueueVersion, report: CiReport, state: number, ownTrees = false): string {
  const below = report.states.slice(1, state + 1).flatMap((s) => (s.patch ? [s.patch] : []));
  const how = (name: string) =>
    before?.patches[name] === undefined ? "new" : before.patches[name] !== after.patches[name] ? "rewritten" : null;
  const changed = below.flatMap((name) => (how(name) ? [`${name} (${how(name)})`] : []));
  const removed = before ? Object.keys(before.patches).filter((name) => !(name in after.patches)) : [];
  const parts = [...changed, ...removed.map((name) => `${name} (taken out)`)];
  return parts.length
    ? `changed by this version at or below state ${state}: ${parts.join(", ")}`
    : `no patch at or below state ${state} is new or rewritten: ${ownTrees ? "the tree it applies to (the pushed commit's files beside the queue), " : ""}the series order or the guards changed what it applies`;
}

/**
 * The files of a commit's tree (under `sub`) written to a new directory, as a checkout writes
 * them: read into a scratch index and checked out from it. Not with git archive, which obeys
 * the archived tree's own .gitattributes (export-subst rewrote a file, export-ignore left one
 * out): the pusher decided what the gate saw, and every checkout had other files (t60 N4).
 */
export function exportTree(gitArgs: string[], rev: string, sub: string): string {
  const dir = mkdtempSync(join(tmpdir(), "pq-gate-tree-"));
  const index = join(mkdtempSync(join(tmpdir(), "pq-gate-index-")), "index");
  try {
    const env = { ...process.env, GIT_INDEX_FILE: index };
    const git = (args: string[]) => childProcess().spawnSync("git", [...gitArgs, ...args], { env, maxBuffer: 1 << 30 });
    const read = git(["read-tree", sub ? `${rev}:${sub.replace(/\/$/, "")}` : rev]);
    if (read.status !== 0) throw gitFailed("git read-tree", String(read.stderr).trim());
    const out = git(["--work-tree", dir, "checkout-index", "-a", "-f"]);
    if (out.status !== 0) throw gitFailed("git checkout-index", String(out.stderr).trim());
    return dir;
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  } finally {
    rmSync(dirname(index), { recursive: true, force: true });
  }
}

/** The gate for pq sync --check: the base tree is the tree's git HEAD. */
export function ciGate(stack: Stack, opts: { backends?: string[]; run?: string } = {}): Gate {
  return async (before, after) => {
    const git = await stack.repo();
    if (!git) throw new PqError("no-queue", `${stack.tree} is not a git work tree`);
    const tree = exportTree(["-C", git.rootDir], "HEAD", git.prefix);
    try {
      return await checkVersions(tree, before, after, {
        backends: opts.backends?.length ? opts.backends : ALL,
        run: opts.run,
        describe: { tree: `${stack.tree} (its git HEAD)`, command: "pq sync --check" },
      });
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  };
}

/** A queue version read straight from a (bare) repository, as a pre-receive hook sees it. */
export function versionInGitDir(gitDir: string, rev: string, sub = ""): QueueVersion {
  const git = (args: string[], input?: string) =>
    childProcess().spawnSync("git", ["--git-dir", gitDir, ...args], { input, maxBuffer: 1 << 30 });
  const ls = git(["ls-tree", "-r", "-z", rev, ...(sub ? ["--", sub] : [])]);
  if (ls.status !== 0) throw gitFailed(`git ls-tree ${rev}`, String(ls.stderr).trim());
  // The listing is bytes (read as latin1): the directory is compared as its UTF-8 bytes too. As
  // the name it was given, a directory like qüeue/ matched no file, and the queue read as empty
  // passed every check (t35 F2).
  const subBytes = Buffer.from(sub, "utf8").toString("latin1");
  const records = ls.stdout
    .toString("latin1")
    .split("\0")
    .map((rec) => /^(\d+) (blob|commit) ([0-9a-f]+)\t(.*)$/s.exec(rec))
    .filter((m): m is RegExpExecArray => m !== null && m[4].startsWith(subBytes));
  // A patch or series committed as a symbolic link (or a submodule): pq reads no queue file
  // through a link that can lead out of the queue (t60 N5), and the gate read the link's target
  // path as a patch with no diff, which passed.
  const linked = records.find((m) => m[1] === "120000" || m[2] === "commit");
  if (linked)
    throw new PqError(
      "unsafe-path",
      `${linked[4].slice(subBytes.length)} in the pushed queue is ${linked[2] === "commit" ? "a submodule" : "a symbolic link"}, not a file`,
      ["a queue holds its series and patch files themselves: commit the file, not a link to it"],
      { patch: linked[4].slice(subBytes.length) },
    );
  const entries = records.map((m) => ({ id: m[3], path: m[4].slice(subBytes.length) }));
  const files = pathMap<string>();
  for (const e of entries) files[e.path] = git(["cat-file", "blob", e.id]).stdout.toString("latin1");
  return splitVersion(files);
}
