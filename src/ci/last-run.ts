/**
 * The last ci run over a tree's own stack, kept (without logs) in .pq/ci-last.json: the TUI
 * shows its verdicts next to the patches whose states it still describes (Stack.ciVerdicts),
 * whether the run was `pq ci` or the TUI's own.
 */
import { join, resolve } from "node:path";
import { loadState, statePaths } from "../queue/state.js";
import { asciiJson, writeAtomic } from "../tree/files.js";
import { readHeadCommit } from "../git/head.js";
import type { CiReport } from "./report.js";

/** `queue`: the queue the run tested, when named; a run of another queue than the tree's own is not kept. */
export function rememberLastRun(tree: string, queue: string | undefined, report: CiReport): void {
  const state = loadState(tree);
  if (!state || (queue && resolve(tree, state.queue) !== queue)) return;
  // The commit the stack sat on: a base tree moved since (a pull, a rebase whose patches apply as they were)
  // makes other states, whose badges would be stale (ci-7 #11).
  const slim = { ...report, head: readHeadCommit(tree), cells: report.cells.map(({ log: _log, ...cell }) => cell) };
  writeAtomic(join(statePaths(tree).dir, "ci-last.json"), asciiJson(slim));
}
