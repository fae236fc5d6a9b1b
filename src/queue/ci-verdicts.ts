/**
 * The badges the TUI shows beside a patch: the verdicts of the last `pq ci` of this stack
 * (.pq/ci-last.json, written by src/ci/last-run.ts), for the states it still describes. A
 * state counts while every patch up to it has the same name and bytes as when ci ran (the
 * chain of hashes in the report), on the same HEAD.
 */
import { join } from "node:path";
import { OUTCOMES } from "../ci/report.js";
import { chainState } from "../core/state-chain.js";
import { readHeadCommit } from "../git/head.js";
import { asciiJson, readText, writeAtomic } from "../tree/files.js";
import { statePaths } from "./state.js";

/** What this module reads of .pq/ci-last.json (see src/ci/last-run.ts). */
interface CiLastState {
  index: number;
  patch: string | null;
  chain?: string;
}
interface CiLastRun {
  /** The tree's HEAD when ci ran (the base its states were built on). */
  head?: string | null;
  states?: CiLastState[];
  cells?: { state: number; backend: string; outcome: string; flaky?: unknown }[];
}

/**
 * Verdicts of the last `pq ci` of this stack (.pq/ci-last.json), by patch and backend, for
 * the states it still describes: a state counts while every patch up to it has the same
 * name and bytes as when ci ran (the chain in the report), so an edited or reordered
 * patch, and everything above it, loses its badges. A flaky image's verdict (its boots
 * disagreed, Cell.flaky) ends in `~`, as its cell does in pq ci's matrix.
 */
export function ciVerdicts(tree: string, queueDir: string, order: readonly string[]): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  const report = lastCiRun(tree);
  if (!report) return out; // none, or damaged: the badges are decoration
  const valid = new Map<number, string>();
  for (const { state } of statesStillValid(tree, queueDir, report, undefined, order)) valid.set(state.index, state.patch);
  for (const c of report.cells ?? []) {
    const patch = valid.get(c.state);
    if (patch) out.set(patch, { ...(out.get(patch) ?? {}), [c.backend]: badgeVerdict(c) });
  }
  return out;
}

/**
 * Where the last `pq ci` of this stack first booted each backend (any verdict but a skip or a
 * build error), among the states it still describes: its state number and patch. pq bisect takes
 * a backend skipped above such a state as ci does, a patch that dropped it (t155 N1).
 */
export function ciFirstBoots(tree: string, queueDir: string, order: readonly string[]): Map<string, { state: number; patch: string }> {
  const out = new Map<string, { state: number; patch: string }>();
  const report = lastCiRun(tree);
  if (!report) return out;
  const valid = new Map<number, string>();
  for (const { state } of statesStillValid(tree, queueDir, report, undefined, order)) valid.set(state.index, state.patch);
  for (const c of report.cells ?? []) {
    const patch = valid.get(c.state);
    if (patch === undefined || c.outcome === "skip" || c.outcome === "build-error" || !OUTCOMES.has(c.outcome)) continue;
    const seen = out.get(c.backend);
    if (!seen || c.state < seen.state) out.set(c.backend, { state: c.state, patch });
  }
  return out;
}

/**
 * A cell's verdict as a badge shows it: `~` after a flaky image's (see ciVerdicts), whose boots
 * gave at least two different verdicts; a hand-edited list that does not say so is no mark (t32 F5).
 */
export function badgeVerdict(cell: { outcome: string; flaky?: unknown }): string {
  const seen = Array.isArray(cell.flaky) ? new Set(cell.flaky.filter((v): v is string => typeof v === "string" && OUTCOMES.has(v))) : null;
  return seen !== null && seen.size >= 2 ? `${cell.outcome}~` : cell.outcome;
}

/**
 * A rename changes no state's tree: the last ci run's verdicts (ciVerdicts) still describe
 * them. Its states are re-keyed to the new name, each still valid state's chain made again
 * with it; states that no longer held before the rename stay as they were (still invalid).
 * A decoration outside the transaction: undoing the rename only costs the badges.
 */
export function carryCiVerdicts(tree: string, queueDir: string, from: string, to: string): void {
  const report = lastCiRun(tree);
  if (!report?.states?.some((s) => s.patch === from)) return;
  let chain = "";
  for (const { state, name, text } of statesStillValid(tree, queueDir, report, (n) => (n === from ? to : n))) {
    chain = chainState(chain, name, text);
    Object.assign(state, { patch: name, chain });
  }
  try {
    writeAtomic(join(statePaths(tree).dir, "ci-last.json"), asciiJson(report));
  } catch {
    /* a read-only .pq: the badges go, nothing else */
  }
}

/** The last ci run of this stack (.pq/ci-last.json), or null when there is none or it is damaged. */
function lastCiRun(tree: string): CiLastRun | null {
  try {
    const text = readText(join(statePaths(tree).dir, "ci-last.json"));
    return text === null ? null : (JSON.parse(text) as CiLastRun);
  } catch {
    return null;
  }
}

/**
 * The last ci run's states that still describe the stack, bottom first: each patch up to it
 * byte for byte the one ci ran (its chain). `nameNow` maps a recorded name to the patch's name now.
 * `order`: the patches the series pushes now, in order (Stack.pushable): state k is the first k of
 * them, so a patch moved, or one put below, ends the states that still hold (t155 N5: a reordered
 * series kept every badge, each on another state than ci judged).
 */
function* statesStillValid(
  tree: string,
  queueDir: string,
  report: CiLastRun,
  nameNow: (recorded: string) => string = (n) => n,
  order?: readonly string[],
): Generator<{ state: CiLastState & { patch: string }; name: string; text: string }> {
  // Another base under the stack: no state is what ci built.
  if (report.head !== undefined && report.head !== readHeadCommit(tree)) return;
  let chain = "";
  for (const state of report.states ?? []) {
    if (state.patch === null) continue;
    const name = nameNow(state.patch);
    if (order !== undefined && order[state.index - 1] !== name) return;
    const text = readText(join(queueDir, name));
    if (text === null || state.chain === undefined) return;
    chain = chainState(chain, state.patch, text);
    if (chain !== state.chain) return;
    yield { state: state as CiLastState & { patch: string }, name, text };
  }
}
