/**
 * pq ci: push each patch in turn in a scratch stack, build every state through the
 * shared object cache, boot each backend, and collect one cell per (state, backend).
 * Boots of a state run in the background while the next state is pushed and built.
 */
import { readFileSync } from "node:fs";
import { buildTree, formatDiagnostic } from "../build/index.js";
import { ignoreEvents, type EventSink } from "../core/events.js";
import { BootPool, type BootResult } from "../emulator/index.js";
import { stackBlame } from "../queue/blame.js";
import { openScratch } from "./scratch.js";
import { sortCells, stateInShard, type Cell, type CiReport, type StateInfo } from "./report.js";

export interface CiOptions {
  tree: string;
  queue?: string;
  backends: string[];
  jobs?: number;
  select?: string[];
  shard?: { index: number; count: number };
  timeoutMs?: number;
  cacheDir?: string;
  onEvent?: EventSink;
}

const tail = (log: string, lines = 40) => log.replace(/\r/g, "").trimEnd().split("\n").slice(-lines).join("\n");

export function cellFromBoot(state: number, r: BootResult): Cell {
  const cell: Cell = { state, backend: r.backend, outcome: r.verdict, ms: r.msToVerdict };
  if (r.reason) cell.reason = r.reason;
  if (r.verdict !== "pass" && r.verdict !== "skip") cell.log = tail(r.log);
  return cell;
}

export async function runCi(opts: CiOptions): Promise<CiReport> {
  const emit = opts.onEvent ?? ignoreEvents;
  const scratch = await openScratch({ tree: opts.tree, queue: opts.queue, select: opts.select });
  const pool = new BootPool({ workers: Math.max(1, opts.jobs ?? 1) });
  try {
    const { stack, patches } = scratch;
    const states: StateInfo[] = [{ index: 0, patch: null }];
    for (const [i, name] of patches.entries()) {
      const h = await stack.patchHeader(name).catch(() => ({ author: undefined, subject: undefined }));
      states.push({ index: i + 1, patch: name, ...(h.author ? { author: h.author } : {}), ...(h.subject ? { subject: h.subject } : {}) });
    }
    const wanted = states.filter((s) => !opts.shard || stateInShard(s.index, opts.shard));
    const total = wanted.length * opts.backends.length;
    let done = 0;
    const cells: Cell[] = [];
    const boots: Promise<void>[] = [];
    const record = (cell: Cell) => {
      cells.push(cell);
      done++;
      emit({ kind: "ci-cell", message: `state ${cell.state} ${cell.backend}: ${cell.outcome}`, current: done, total, data: { cell } });
    };
    for (const s of wanted) {
      await stack.goto(s.index === 0 ? 0 : patches[s.index - 1], { force: true });
      emit({ kind: "ci-build", message: `building state ${s.index}${s.patch ? ` (${s.patch})` : ""}`, current: done, total });
      const built = await buildTree({ tree: stack.tree, cacheDir: opts.cacheDir, blame: await stackBlame(stack) });
      if (!built.ok) {
        const errors = built.diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic).join("\n");
        for (const backend of opts.backends) record({ state: s.index, backend, outcome: "build-error", reason: "the build failed", log: tail(errors || built.log), ms: built.ms });
        continue;
      }
      // Read the kernel now: the next state's build overwrites the file while these boot.
      const kernel = new Uint8Array(readFileSync(built.kernelPath!));
      for (const backend of opts.backends) {
        boots.push(pool.boot(kernel, { backend, timeoutMs: opts.timeoutMs }).then((r) => record(cellFromBoot(s.index, r))));
      }
    }
    await Promise.all(boots);
    const report: CiReport = { version: 1, queueId: scratch.queueId, backends: opts.backends, states, cells: sortCells(cells, opts.backends) };
    if (opts.shard) report.shard = `${opts.shard.index}/${opts.shard.count}`;
    return report;
  } finally {
    await pool.close();
    scratch.dispose();
  }
}
