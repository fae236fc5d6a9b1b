/**
 * Finding the first bad state of a series. As git bisect needs a bad and a good end, the
 * top state is judged first (passing: nothing to look for) and then the base tree (failing:
 * no patch is to blame); in between, a binary search, at most ceil(log2(n)) more
 * evaluations plus one for each state that cannot be tested (skip).
 */
import { PqError } from "../errors.js";

export type Judgement = "good" | "bad" | "skip";

export interface BisectResult {
  /** The first bad state (1-based: the patch that made it bad), or null when none is bad. */
  firstBad: number | null;
  /** The top state passes: nothing to look for (a failure in between that a later patch fixes is not seen). */
  topGood?: boolean;
  /** The base tree (state 0) fails already: no patch is to blame. */
  baseBad?: boolean;
  /** When skips hide the answer: the states it could be. */
  candidates?: number[];
  evaluations: { state: number; judgement: Judgement }[];
}

export async function bisectStates(n: number, evaluate: (state: number) => Promise<Judgement>): Promise<BisectResult> {
  let lo = 1;
  let hi = n + 1; // hi = n+1 means "no bad state"
  const skipped = new Set<number>();
  const evaluations: BisectResult["evaluations"] = [];
  if (n >= 1) {
    const top = await evaluate(n);
    evaluations.push({ state: n, judgement: top });
    if (top === "good") return { firstBad: null, topGood: true, evaluations };
    // The search needs a good end: the base tree, judged even when the top could not be
    // (a base that fails blames no patch; an untestable one is taken for good, as git
    // bisect takes the good commit it is given).
    const base = await evaluate(0);
    evaluations.push({ state: 0, judgement: base });
    if (base === "bad") return { firstBad: null, baseBad: true, evaluations };
    if (top === "bad") hi = n;
    else skipped.add(n);
  }
  while (lo < hi) {
    const mid = pickProbe(lo, hi, skipped);
    if (mid === null) {
      // Everything left to test is untestable: report the range.
      const candidates = [];
      for (let k = lo; k <= Math.min(hi, n); k++) candidates.push(k);
      return { firstBad: null, candidates, evaluations };
    }
    const judgement = await evaluate(mid);
    evaluations.push({ state: mid, judgement });
    if (judgement === "skip") skipped.add(mid);
    else if (judgement === "bad") hi = mid;
    else lo = mid + 1;
  }
  return { firstBad: lo <= n ? lo : null, evaluations };
}

/** The middle of [lo, hi), or the untested state nearest to it. */
function pickProbe(lo: number, hi: number, skipped: Set<number>): number | null {
  const mid = Math.floor((lo + hi) / 2);
  for (let d = 0; d < hi - lo; d++) {
    for (const k of [mid - d, mid + d]) if (k >= lo && k < hi && !skipped.has(k)) return k;
  }
  return null;
}

/** `git bisect run` conventions: 0 good, 125 skip, 1-127 bad, anything else aborts. */
export function judgeExitCode(code: number, cmd: string): Judgement {
  if (code === 0) return "good";
  if (code === 125) return "skip";
  if (code >= 1 && code <= 127) return "bad";
  // The command asked to stop (or died of a signal, which a shell reports as 128+N): not a
  // usage error, and no verdict; the bisection stops where it is, as git bisect run does.
  throw new PqError(
    "refused",
    `bisect aborted: "${cmd}" exited with ${code} (above 127 means abort, as in git bisect run)`,
    ["make the command exit 0 (good), 1-127 (bad) or 125 (cannot test), then run pq bisect again"],
    { command: cmd, commandExit: code },
  );
}
