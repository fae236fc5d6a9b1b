/**
 * pq bisect over a real series: move a scratch stack to each probed state and judge it,
 * either through the same evaluation (and caches) as pq ci, or by a command's exit code.
 */
import { cacheTrustWarning, defaultCacheDir } from "../build/build.js";
import { logTail } from "../core/log-tail.js";
import { PqError } from "../errors.js";
import { ignoreEvents, type EventSink } from "../core/events.js";
import { bisectStates, judgeExitCode, type BisectResult, type Judgement } from "./bisect.js";
import { runCommand, stateEnv } from "./run-command.js";
import { StateEvaluator } from "./evaluate.js";
import { leftOutNote, openScratch, patchNotApplied, refuseWithoutBuild, scratchFailure, aroundCommand } from "./scratch.js";
import { FAILING, RUN_COLUMN, type Outcome } from "./report.js";
import { ciFirstBoots } from "../queue/ci-verdicts.js";

export interface BisectOptions {
  tree: string;
  queue?: string;
  backends: string[];
  run?: string;
  select?: string[];
  jobs?: number;
  timeoutMs?: number;
  cacheDir?: string;
  noCache?: boolean;
  reuseFailures?: boolean;
  /** Boots of each image judged (see EvaluateOptions.repeat). */
  repeat?: number;
  onEvent?: EventSink;
}

export interface BisectReport extends BisectResult {
  patches: number;
  /** Probed states whose every verdict came from the cache (no build, no boot). */
  reused: number[];
  patch?: string;
  author?: string;
  subject?: string;
  /** What failed at the first bad state: a backend and its log, or the compiler's errors or command output. */
  failure?: { backend?: string; outcome: string; log: string };
  /** Backends skipped at the top state when it passed on the others (not in its kernel: gone, or not there yet). */
  topSkipped?: string[];
  /** States booted again, without the cache, and judged the same: the first bad one and the good one below it. */
  confirmed?: number[];
  /**
   * The first bad state's kernel is flaky: boots of its image gave these verdicts (worst first).
   * Bad on some boots, it is not "confirmed" (t30 F2: a fresh pass was reported as a confirmation).
   */
  flaky?: Outcome[];
}

/**
 * The answer's two ends judged again by fresh boots: a verdict is taken as a function of the
 * kernel image, but a guest that reads the time (rdtsc follows the host's clock in v86) can
 * pass one boot and panic the next, and a cached lucky or unlucky boot then decides the search
 * for ever (ci-17 F1: bisect blamed an innocent patch on every run). A disagreement is said,
 * not answered.
 */
export async function confirmBoundary(result: BisectResult, judgeFresh: (state: number) => Promise<Judgement>): Promise<number[]> {
  const bad = result.firstBad!;
  const goodBelow = result.evaluations.some((e) => e.state === bad - 1 && e.judgement === "good");
  const ends = [...(goodBelow ? [[bad - 1, "good"] as const] : []), [bad, "bad"] as const];
  for (const [state, was] of ends) {
    const now = await judgeFresh(state);
    if (now !== was) {
      throw new PqError(
        "refused",
        `pq bisect cannot decide: state ${state} was judged ${was} and is ${now} when booted again: this series' boots do not give the same verdict every time`,
        [
          `boot that state a few times to see it (pq goto, then pq boot), or pq ci --no-cache for fresh verdicts of every state`,
          "a kernel whose verdict depends on the time it reads (rdtsc, the timer) is flaky under any emulator",
        ],
        { state, was, now },
      );
    }
  }
  return ends.map(([state]) => state);
}

export async function runBisect(opts: BisectOptions): Promise<BisectReport> {
  try {
    return await bisectInScratch(opts);
  } catch (e) {
    throw scratchFailure(e, "pq bisect");
  }
}

async function bisectInScratch(opts: BisectOptions): Promise<BisectReport> {
  const emit = opts.onEvent ?? ignoreEvents;
  const scratch = await openScratch({
    tree: opts.tree,
    queue: opts.queue,
    select: opts.select,
    command: "pq bisect",
    forCommand: opts.run !== undefined,
  });
  if (scratch.leftOut.length) emit({ kind: "note", message: leftOutNote(scratch.leftOut) });
  // A cache others can write: its verdicts are theirs to decide (ci-17 F6).
  // (Not for --run, whose verdicts are not kept there.)
  const untrusted = opts.noCache || opts.run !== undefined ? null : cacheTrustWarning(opts.cacheDir ?? defaultCacheDir());
  if (untrusted) emit({ kind: "note", message: untrusted });
  if (opts.run === undefined) refuseWithoutBuild(scratch, opts.tree, "pq bisect");
  // No patch, nothing to blame: not "the top passes" after no evaluation (ci-17 F10).
  if (!scratch.patches.length) {
    scratch.dispose();
    throw new PqError("refused", "nothing to bisect: the series has no patch to push (guards included)", [
      "pq ci judges the base tree alone; pq series -v shows the series and its guards",
    ]);
  }
  const evaluatorWith = (freshBoots: boolean) =>
    new StateEvaluator({
      backends: opts.backends,
      jobs: opts.jobs ?? Math.min(2, opts.backends.length),
      timeoutMs: opts.timeoutMs,
      cacheDir: opts.cacheDir,
      noCache: opts.noCache,
      reuseFailures: opts.reuseFailures,
      repeat: opts.repeat,
      onNote: (message) => emit({ kind: "note", message }),
      freshBoots,
    });
  const evaluator = evaluatorWith(false);
  const failures = new Map<number, BisectReport["failure"]>();
  const reused: number[] = [];
  /** States whose kernel image gave different verdicts on different boots (see Cell.flaky). */
  const flakyStates = new Map<number, Outcome[]>();
  try {
    const { stack, patches } = scratch;
    /** The lowest state each backend is known to have booted at (see the cells' mapping below). */
    const firstBoots = new Map<string, number>();
    if (opts.run === undefined) {
      // (The scratch's queue is a copy of the tree's, byte for byte: the patches ci's record names are checked against it.)
      for (const [backend, boot] of ciFirstBoots(opts.tree, stack.queueDir, patches)) {
        if (opts.backends.includes(backend)) firstBoots.set(backend, boot.state);
      }
    }
    const evaluate = async (state: number, by: StateEvaluator = evaluator): Promise<Judgement> => {
      try {
        await stack.goto(state === 0 ? 0 : patches[state - 1], { force: true });
      } catch (e) {
        // A patch on the way that does not apply (or that pq refuses): that state is bad, as pq
        // ci marks it (no build, no command), and so is every one above it.
        const stopped = patchNotApplied(e);
        if (!stopped) throw e;
        emit({ kind: "bisect-step", message: `state ${state}: ${(e as PqError).message}` });
        // (Its advice, pq push --force and the like, is for a stack the user has, not this scratch copy.)
        failures.set(state, { outcome: "does not apply", log: [(e as PqError).message, ...stopped.why.split("\n").slice(1)].join("\n") });
        return "bad";
      }
      emit({ kind: "bisect-step", message: `testing state ${state} (${state === 0 ? "the base tree" : patches[state - 1]})` });
      if (opts.run) {
        const command = opts.run;
        const r = await aroundCommand(stack, () =>
          runCommand(command, stack.tree, {
            env: stateEnv(state, state === 0 ? null : patches[state - 1]),
            timeoutMs: opts.timeoutMs,
          }),
        );
        // Killed at the limit: a hang, bad (as ci --run counts it).
        if (r.timedOut) {
          failures.set(state, { outcome: "hang", log: logTail(r.output, 30) });
          return "bad";
        }
        const j = judgeExitCode(r.code, opts.run);
        if (j === "bad") failures.set(state, { outcome: `exit ${r.code}`, log: logTail(r.output, 30) });
        return j;
      }
      // A backend skipped (not in this state's kernel) above a state where it booted: a patch
      // dropped it, a fail, as pq ci marks it (markGoneBackends); the states it booted at are
      // known from the last pq ci of this stack and from this bisection's own boots (t155 N1).
      const cells = (await (await by.evaluate(state, stack)).cells).map((c) => {
        const at = firstBoots.get(c.backend);
        if (c.outcome !== "skip" || c.backend === RUN_COLUMN || at === undefined || at >= state) return c;
        return {
          ...c,
          outcome: "fail" as const,
          reason: `${c.backend} booted at state ${at} and is gone from this state's kernel (${c.reason ?? "skipped"})`,
        };
      });
      for (const c of cells)
        if (
          c.outcome !== "skip" &&
          c.outcome !== "build-error" &&
          c.backend !== RUN_COLUMN &&
          (firstBoots.get(c.backend) ?? Infinity) > state
        )
          firstBoots.set(c.backend, state);
      if (cells.length && cells.every((c) => c.reused)) reused.push(state);
      for (const c of cells) if (c.flaky) flakyStates.set(state, c.flaky);
      // A boot failure is what the search follows, when the top shows one.
      const bad =
        cells.find((c) => FAILING.has(c.outcome) && c.outcome !== "build-error") ?? cells.find((c) => c.outcome === "build-error");
      const topFirst = state === patches.length && topFails === undefined;
      if (topFirst) topFails = bad === undefined ? null : bad.outcome === "build-error" ? "build" : "boot";
      if (topFirst && !bad) topSkipped = cells.filter((c) => c.outcome === "skip").map((c) => c.backend);
      // A state that does not build cannot show the boot failure the top has: untestable, as
      // `make || exit 125` makes it for git bisect run (t51 N6: a build break a later patch
      // fixed was blamed for the top's boot failure).
      if (bad?.outcome === "build-error" && topFails === "boot") {
        emit({
          kind: "note",
          message: `state ${state} does not build: skipped, since the top fails by booting, which a state that does not build cannot show`,
        });
        return "skip";
      }
      if (bad?.outcome === "build-error") failures.set(state, { outcome: bad.outcome, log: bad.log ?? "" });
      else if (bad)
        failures.set(state, { backend: bad.backend, outcome: bad.outcome, log: `${bad.reason ?? ""}\n${bad.log ?? ""}`.trim() });
      // Every backend skipped at the top (none of them in its kernel): nothing was booted, so
      // nothing passed (t51 N2: the top was called passing and the bisection ended, exit 0).
      // Below the top such a state is one the backend has not come to yet: no failure there.
      if (!bad && state === patches.length && cells.length && cells.every((c) => c.outcome === "skip")) {
        emit({
          kind: "note",
          message: `state ${state}: ${cells.map((c) => `${c.backend} skipped (${c.reason ?? "not booted"})`).join("; ")}: it cannot be tested`,
        });
        return "skip";
      }
      return bad ? "bad" : "good";
    };
    /** How the top state fails (judged first): by a build error or by booting; null: it passes. */
    let topFails: "build" | "boot" | null | undefined;
    let topSkipped: string[] = [];
    const result = await bisectStates(patches.length, evaluate);
    const report: BisectReport = {
      ...result,
      patches: patches.length,
      reused,
      ...(result.topGood && topSkipped.length ? { topSkipped } : {}),
    };
    // A boot's verdict is checked again; a patch that does not apply or a compile error is no boot (and as certain as the tree).
    const failedBy = failures.get(result.firstBad ?? -1)?.outcome;
    if (result.firstBad !== null && opts.run === undefined && failedBy !== "does not apply" && failedBy !== "build-error") {
      report.confirmed = await confirmBoundary(result, (state) => {
        const fresh = evaluatorWith(true);
        return evaluate(state, fresh).finally(() => fresh.close());
      });
      const flaky = flakyStates.get(result.firstBad);
      if (flaky) {
        report.flaky = flaky;
        delete report.confirmed;
      }
    }
    if (result.firstBad !== null) {
      const name = patches[result.firstBad - 1];
      const header = await stack.patchHeader(name);
      report.patch = name;
      if (header.author) report.author = header.author;
      if (header.subject) report.subject = header.subject;
      report.failure = failures.get(result.firstBad);
    } else if (result.baseBad) report.failure = failures.get(0);
    return report;
  } finally {
    await evaluator.close();
    scratch.dispose();
  }
}
