/**
 * Finding the first bad state of a series. State 0 (the base tree) is taken as good; the
 * answer is a state in 1..n, or "none". Searching n+1 possibilities takes at most
 * ceil(log2(n+1)) evaluations, plus one for each state that cannot be tested (skip).
 */
import { spawn } from "node:child_process";
import { PqError } from "../errors.js";

export type Judgement = "good" | "bad" | "skip";

export interface BisectResult {
  /** The first bad state (1-based: the patch that made it bad), or null when none is bad. */
  firstBad: number | null;
  /** When skips hide the answer: the states it could be. */
  candidates?: number[];
  evaluations: { state: number; judgement: Judgement }[];
}

export async function bisectStates(n: number, evaluate: (state: number) => Promise<Judgement>): Promise<BisectResult> {
  let lo = 1;
  let hi = n + 1; // hi = n+1 means "no bad state"
  const skipped = new Set<number>();
  const evaluations: BisectResult["evaluations"] = [];
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
  throw new PqError("usage", `bisect aborted: "${cmd}" exited with ${code} (above 127 means abort, as in git bisect run)`);
}

export function runShell(cmd: string, cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, { cwd, shell: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (b: Buffer) => (output += b.toString()));
    child.stderr.on("data", (b: Buffer) => (output += b.toString()));
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 + 9 : 1), output }));
  });
}
