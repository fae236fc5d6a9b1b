/**
 * pq bisect over a real series: move a scratch stack to each probed state and judge it,
 * either by build + boot on the given backends or by a command's exit code.
 */
import { readFileSync } from "node:fs";
import { buildTree, formatDiagnostic } from "../build/index.js";
import { ignoreEvents, type EventSink } from "../core/events.js";
import { BootPool } from "../emulator/index.js";
import { stackBlame } from "../queue/blame.js";
import { bisectStates, judgeExitCode, runShell, type BisectResult, type Judgement } from "./bisect.js";
import { cellFromBoot } from "./run.js";
import { openScratch } from "./scratch.js";
import { FAILING } from "./report.js";

export interface BisectOptions {
  tree: string;
  queue?: string;
  backends: string[];
  run?: string;
  select?: string[];
  jobs?: number;
  timeoutMs?: number;
  onEvent?: EventSink;
}

export interface BisectReport extends BisectResult {
  patches: number;
  patch?: string;
  author?: string;
  subject?: string;
  /** What failed at the first bad state: a backend and its log, or the compiler's errors or command output. */
  failure?: { backend?: string; outcome: string; log: string };
}

export async function runBisect(opts: BisectOptions): Promise<BisectReport> {
  const emit = opts.onEvent ?? ignoreEvents;
  const scratch = await openScratch({ tree: opts.tree, queue: opts.queue, select: opts.select });
  const pool = new BootPool({ workers: Math.max(1, opts.jobs ?? Math.min(2, opts.backends.length)) });
  const failures = new Map<number, BisectReport["failure"]>();
  try {
    const { stack, patches } = scratch;
    const evaluate = async (state: number): Promise<Judgement> => {
      await stack.goto(state === 0 ? 0 : patches[state - 1], { force: true });
      emit({ kind: "bisect-step", message: `testing state ${state} (${patches[state - 1]})` });
      if (opts.run) {
        const r = await runShell(opts.run, stack.tree);
        const j = judgeExitCode(r.code, opts.run);
        if (j === "bad") failures.set(state, { outcome: `exit ${r.code}`, log: r.output.trimEnd().split("\n").slice(-30).join("\n") });
        return j;
      }
      const built = await buildTree({ tree: stack.tree, blame: await stackBlame(stack) });
      if (!built.ok) {
        failures.set(state, { outcome: "build-error", log: built.diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic).join("\n") || built.log });
        return "bad";
      }
      const kernel = new Uint8Array(readFileSync(built.kernelPath!));
      const cells = await Promise.all(opts.backends.map((backend) => pool.boot(kernel, { backend, timeoutMs: opts.timeoutMs }).then((r) => cellFromBoot(state, r))));
      const bad = cells.find((c) => FAILING.has(c.outcome));
      if (bad) failures.set(state, { backend: bad.backend, outcome: bad.outcome, log: `${bad.reason ?? ""}\n${bad.log ?? ""}`.trim() });
      return bad ? "bad" : "good";
    };
    const result = await bisectStates(patches.length, evaluate);
    const report: BisectReport = { ...result, patches: patches.length };
    if (result.firstBad !== null) {
      const name = patches[result.firstBad - 1];
      const header = await stack.patchHeader(name);
      report.patch = name;
      if (header.author) report.author = header.author;
      if (header.subject) report.subject = header.subject;
      report.failure = failures.get(result.firstBad);
    }
    return report;
  } finally {
    await pool.close();
    scratch.dispose();
  }
}
