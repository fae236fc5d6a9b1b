/**
 * pq ci: push each patch in turn in a scratch stack and judge every state on every
 * backend through the shared caches (src/ci/evaluate.ts): one cell per (state, backend).
 * Boots of a state run in the background while the next state is pushed and built.
 */
import { cacheTrustWarning, defaultCacheDir } from "../build/build.js";
import { logTail } from "../core/log-tail.js";
import { ignoreEvents, type EventSink } from "../core/events.js";
import { StateEvaluator } from "./evaluate.js";
import { leftOutNote, openScratch, patchNotApplied, refuseWithoutBuild, scratchFailure, aroundCommand } from "./scratch.js";
import { runCommand, stateEnv, type CommandResult } from "./run-command.js";
import type { AppliedPatch } from "../queue/state.js";
import { chainState, markGoneBackends, RUN_COLUMN, sortCells, stateInShard, type Cell, type CiReport, type StateInfo } from "./report.js";

export interface CiOptions {
  tree: string;
  queue?: string;
  backends: string[];
  jobs?: number;
  select?: string[];
  shard?: { index: number; count: number };
  timeoutMs?: number;
  cacheDir?: string;
  /** Build and boot every state again (the results still refresh the caches). */
  noCache?: boolean;
  /** Reuse remembered hang and crash verdicts too. */
  reuseFailures?: boolean;
  /** Boots of each image judged (see EvaluateOptions.repeat). */
  repeat?: number;
  /**
   * Judge each state by this shell command instead of building and booting it: one column,
   * "run". Never cached: a command's result can depend on more than the tree.
   */
  run?: string;
  /** How a refusal names the tree and the command (pq sync --check runs ci on a temporary copy). */
  /** How refusals name the base tree, the command that checks, and (retry) what the one who reads them does after fixing the queue: the gate's pusher commits and pushes again. */
  describe?: { tree: string; command: string; retry?: string };
  onEvent?: EventSink;
}

export { cellFromBoot } from "./evaluate.js";

export async function runCi(opts: CiOptions): Promise<CiReport> {
  try {
    return await runInScratch(opts);
  } catch (e) {
    throw scratchFailure(e, opts.describe?.command ?? "pq ci", opts.describe?.retry);
  }
}

async function runInScratch(opts: CiOptions): Promise<CiReport> {
  const emit = opts.onEvent ?? ignoreEvents;
  const scratch = await openScratch({
    tree: opts.tree,
    queue: opts.queue,
    select: opts.select,
    command: opts.describe?.command,
    forCommand: opts.run !== undefined,
  });
  if (scratch.leftOut.length) emit({ kind: "note", message: leftOutNote(scratch.leftOut) });
  // A cache others can write: its verdicts are theirs to decide (ci-17 F6).
  // (Not for --run, whose verdicts are not kept there.)
  const untrusted = opts.noCache || opts.run !== undefined ? null : cacheTrustWarning(opts.cacheDir ?? defaultCacheDir());
  if (untrusted) emit({ kind: "note", message: untrusted });
  const backends = opts.run === undefined ? opts.backends : [RUN_COLUMN];
  if (opts.run === undefined) refuseWithoutBuild(scratch, opts.describe?.tree ?? opts.tree, opts.describe?.command ?? "pq ci");
  const evaluator = new StateEvaluator({
    backends: opts.backends,
    jobs: opts.jobs,
    timeoutMs: opts.timeoutMs,
    cacheDir: opts.cacheDir,
    noCache: opts.noCache,
    reuseFailures: opts.reuseFailures,
    repeat: opts.repeat,
    onNote: (message) => emit({ kind: "note", message }),
  });
  try {
    const { stack, patches } = scratch;
    const states: StateInfo[] = [{ index: 0, patch: null, chain: "" }];
    let chain = "";
    for (const [i, name] of patches.entries()) {
      const h = await stack.patchHeader(name).catch(() => ({ author: undefined, subject: undefined }));
      chain = chainState(chain, name, await stack.readPatch(name).catch(() => ""));
      states.push({
        index: i + 1,
        patch: name,
        chain,
        ...(h.author ? { author: h.author } : {}),
        ...(h.subject ? { subject: h.subject } : {}),
      });
    }
    const wanted = states.filter((s) => !opts.shard || stateInShard(s.index, opts.shard));
    const total = wanted.length * backends.length;
    let done = 0;
    const cells: Cell[] = [];
    const pending: Promise<Cell[]>[] = [];
    const record = (cell: Cell) => {
      cells.push(cell);
      done++;
      emit({
        kind: "ci-cell",
        message: `state ${cell.state} ${cell.backend}: ${cell.outcome}${cell.reused ? " (reused)" : ""}`,
        current: done,
        total,
        data: { cell },
      });
    };
    // A patch that does not apply ends the series there: its state and every later one are
    // shown as not built, with the hunks that failed, and the states before it keep their verdicts.
    let blocked: { patch: string; state: number; reason: string; why: string } | null = null;
    // A patch applied only with fuzz (or with line endings set aside) is tested as pq placed it,
    // which git am would refuse: said once, and in the report's state (t51 N7: all green, unsaid).
    const inexactSaid = new Set<string>();
    const noteInexact = (records: readonly AppliedPatch[]) => {
      for (let i = records.length - 1; i >= 0 && !inexactSaid.has(records[i].name); i--) {
        const record = records[i];
        inexactSaid.add(record.name);
        if (!record.inexact) continue;
        const state = states[patches.indexOf(record.name) + 1];
        if (state) state.applied = record.inexact;
        const how =
          record.inexact === "fuzz" ? "with fuzz" : record.inexact === "eol" ? "with its line endings set aside" : "by a three-way merge";
        emit({
          kind: "note",
          message: `${record.name} applies only ${how} (git am would refuse it): state ${state?.index ?? "?"} tests it as pq placed it`,
        });
      }
    };
    for (const s of wanted) {
      if (!blocked) {
        try {
          await stack.goto(s.index === 0 ? 0 : patches[s.index - 1], { force: true });
          noteInexact(stack.appliedRecords());
        } catch (e) {
          const stopped = patchNotApplied(e);
          if (!stopped) throw e;
          const patch = stopped.patch ?? s.patch ?? "?";
          blocked = { patch, state: patches.indexOf(patch) + 1, reason: stopped.reason, why: stopped.why };
        }
      }
      if (blocked && s.index >= blocked.state) {
        const reason =
          s.index === blocked.state
            ? blocked.reason
            : `not built: ${blocked.patch} (state ${blocked.state}) ${blocked.reason.slice(blocked.patch.length + 1)}`;
        for (const backend of backends) record({ state: s.index, backend, outcome: "build-error", reason, log: blocked.why });
        continue;
      }
      if (opts.run !== undefined) {
        emit({
          kind: "ci-build",
          message: `running the command at state ${s.index}${s.patch ? ` (${s.patch})` : ""}`,
          current: done,
          total,
        });
        const command = opts.run;
        record(
          commandCell(
            s.index,
            await aroundCommand(stack, () =>
              runCommand(command, stack.tree, { timeoutMs: opts.timeoutMs, env: stateEnv(s.index, s.patch) }),
            ),
          ),
        );
        continue;
      }
      emit({ kind: "ci-build", message: `building state ${s.index}${s.patch ? ` (${s.patch})` : ""}`, current: done, total });
      pending.push((await evaluator.evaluate(s.index, stack, record)).cells);
    }
    await Promise.all(pending);
    const report: CiReport = {
      version: 1,
      queueId: scratch.queueId,
      baseId: scratch.baseId,
      backends,
      states,
      cells: sortCells(markGoneBackends(cells), backends),
    };
    if (opts.shard) report.shard = `${opts.shard.index}/${opts.shard.count}`;
    if (opts.run !== undefined) report.run = opts.run;
    return report;
  } finally {
    await evaluator.close();
    scratch.dispose();
  }
}

/**
 * A --run command's verdict on one state, with git bisect run's exit codes: 0 passes, 125
 * cannot be tested (skip), 1-127 fails; a command killed by a signal crashed, and one still
 * running at the limit hangs.
 */
export function commandCell(state: number, r: CommandResult): Cell {
  const cell: Cell = { state, backend: RUN_COLUMN, outcome: "pass", ms: r.ms };
  if (r.timedOut) Object.assign(cell, { outcome: "hang", reason: `still running after ${(r.ms / 1000).toFixed(1)} s (--timeout); killed` });
  else if (r.signal || r.code > 127)
    Object.assign(cell, { outcome: "crash", reason: r.signal ? `killed by ${r.signal}` : `exit ${r.code}` });
  else if (r.code === 125) Object.assign(cell, { outcome: "skip", reason: "exit 125: cannot be tested" });
  else if (r.code !== 0) Object.assign(cell, { outcome: "fail", reason: `exit ${r.code}` });
  if (cell.outcome !== "pass" && cell.outcome !== "skip") cell.log = logTail(r.output, 40);
  return cell;
}
