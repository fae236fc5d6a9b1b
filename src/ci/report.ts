/**
 * The CI report: one cell per (state, backend). JSON is the canonical form; sharded runs
 * merge into exactly what an unsharded run writes, so nothing in it depends on sharding.
 */
export type Outcome = "pass" | "fail" | "skip" | "panic" | "hang" | "crash" | "build-error";

/** The one column of a report judged by a command (pq ci --run) instead of backends. */
export const RUN_COLUMN = "run";

export const FAILING: ReadonlySet<Outcome> = new Set(["fail", "panic", "hang", "crash", "build-error"]);

/** Every verdict a cell can hold. */
export const OUTCOMES: ReadonlySet<string> = new Set<Outcome>(["pass", "skip", ...FAILING]);

export interface StateInfo {
  /** 0 = the base tree, k = after the k-th pushable patch. */
  index: number;
  patch: string | null;
  author?: string;
  subject?: string;
  /**
   * sha1 over the names and bytes of the patches up to this state, chained: a later look
   * (the TUI's badges) knows the verdict still describes this state only if it matches.
   */
  chain?: string;
  /** Its patch applied only with fuzz, line endings set aside or a merge (git am would refuse it). */
  applied?: "fuzz" | "eol" | "merge";
}

export { chainState } from "../core/state-chain.js";

export interface Cell {
  state: number;
  backend: string;
  outcome: Outcome;
  reason?: string;
  /** The end of the serial log, or the compiler's errors. */
  log?: string;
  /** How long this run spent on the cell (absent when reused). */
  ms?: number;
  /** The verdict came from the cache: this run did not boot. */
  reused?: boolean;
  /** The kernel image's sha256 (first 16 hex digits); equal images get equal verdicts, unless `flaky` says otherwise. */
  image?: string;
  /**
   * Boots of this very image have given these verdicts (worst first; the cell's outcome is the
   * worst): the guest is not deterministic, and its verdict is never reused.
   */
  flaky?: Outcome[];
}

export interface CiReport {
  version: 1;
  /** Identifies the series that was run (sha1 of the series and patch bytes). */
  queueId: string;
  /** Identifies the base tree (its files' paths, modes and bytes); absent in reports of pq before December 3. */
  baseId?: string;
  backends: string[];
  states: StateInfo[];
  cells: Cell[];
  /** Which shard this report covers ("K/N"); absent when complete. */
  shard?: string;
  /** The --run command that judged the states; absent for builds and boots. */
  run?: string;
}

export function sortCells(cells: Cell[], backends: string[]): Cell[] {
  return [...cells].sort((a, b) => a.state - b.state || backends.indexOf(a.backend) - backends.indexOf(b.backend));
}

export function failedCells(report: CiReport): Cell[] {
  return report.cells.filter((c) => FAILING.has(c.outcome));
}

/** Cells of state k: which shard runs them. States, not cells, are sharded: a state's build serves all its backends. */
export function stateInShard(state: number, shard: { index: number; count: number }): boolean {
  return state % shard.count === shard.index - 1;
}

export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) throw new Error(`--shard wants K/N with 1 <= K <= N, got ${text}`);
  return { index, count };
}

/**
 * A backend that booted at a state and is skipped at a later one (a patch dropped its
 * registration) is a regression, as a kernel test robot reports a boot test that no longer
 * runs: the skip is a fail, said with where it last booted (t51 N3: pq ci exited 0 with xen
 * PASS at state 6 and skipped at 7). A command's skip (exit 125) is the command's to decide.
 */
export function markGoneBackends(cells: Cell[]): Cell[] {
  const booted = new Map<string, number>();
  return [...cells]
    .sort((a, b) => a.state - b.state)
    .map((c) => {
      if (c.backend === RUN_COLUMN) return c;
      if (c.outcome !== "skip") {
        // A state that did not build booted nothing (t124 N6: its BUILD cell made every later skip a fail).
        if (c.outcome !== "build-error" && !booted.has(c.backend)) booted.set(c.backend, c.state);
        return c;
      }
      const at = booted.get(c.backend);
      if (at === undefined) return c;
      return {
        ...c,
        outcome: "fail" as const,
        reason: `${c.backend} booted at state ${at} and is gone from this state's kernel (${c.reason ?? "skipped"})`,
      };
    });
}

/** Merge shard reports of the same series into the report an unsharded run gives. */
export function mergeReports(reports: CiReport[]): CiReport {
  if (!reports.length) throw new Error("no reports to merge");
  const first = reports[0];
  for (const r of reports) {
    if (r.queueId !== first.queueId) throw new Error(`reports are from different series (${r.queueId} vs ${first.queueId})`);
    if (r.backends.join() !== first.backends.join()) throw new Error("reports ran different backends");
    // Shards judged by different commands are no one run's (t120 N4: merged, they passed a state one command failed).
    if (r.run !== first.run)
      throw new Error(
        `reports were judged by different commands (${JSON.stringify(first.run ?? null)} vs ${JSON.stringify(r.run ?? null)})`,
      );
    if (JSON.stringify(r.states.map((st) => st.patch)) !== JSON.stringify(first.states.map((st) => st.patch)))
      throw new Error("reports list different states");
    const base = reports.find((other) => other.baseId !== undefined && r.baseId !== undefined && other.baseId !== r.baseId);
    if (base) throw new Error(`reports are over different base trees (${r.baseId} vs ${base.baseId})`);
  }
  const seen = new Set<string>();
  const cells: Cell[] = [];
  for (const r of reports)
    for (const c of r.cells) {
      const key = `${c.state}/${c.backend}`;
      if (seen.has(key)) throw new Error(`cell ${key} appears in two reports`);
      seen.add(key);
      cells.push(c);
    }
  const shards = reports.map((r) => r.shard).filter(Boolean);
  const baseId = reports.find((r) => r.baseId !== undefined)?.baseId;
  const merged: CiReport = {
    version: 1,
    queueId: first.queueId,
    ...(baseId !== undefined ? { baseId } : {}),
    backends: first.backends,
    states: first.states,
    cells: sortCells(markGoneBackends(cells), first.backends),
    ...(first.run !== undefined ? { run: first.run } : {}),
  };
  const expected = first.states.length * first.backends.length;
  if (cells.length !== expected) merged.shard = `partial:${shards.join(",")}`;
  return merged;
}

/** The report without what depends on the run (timings, cache reuse): what two runs of the same series must agree on. */
export function withoutTimings(report: CiReport): CiReport {
  return { ...report, cells: report.cells.map(({ ms: _ms, reused: _reused, ...c }) => c) };
}

export function reusedCells(report: CiReport): Cell[] {
  return report.cells.filter((c) => c.reused);
}
