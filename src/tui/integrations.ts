/**
 * What the TUI reads beside the stack's own view: undo and redo said in one line, the shared
 * queue's status (the facts `pq status --json` prints as `shared`), and the ci verdicts kept
 * per patch, as the series pane's badges.
 */
import type { Stack } from "../queue/stack.js";
import type { UndoReport } from "../queue/ops/undo.js";
import { betweenBackupNote } from "../queue/ops/undo-words.js";
import type { Cell } from "../ci/report.js";
import { badgeVerdict } from "../queue/ci-verdicts.js";
import { sharedStatus, type SharedStatus } from "../collab/status.js";

/** An undo's or redo's result as the TUI's status line says it (the words pq undo and pq redo use). */
export function describeUndo(r: UndoReport, verb: "undid" | "redid"): string {
  if (!r.entries.length) return `nothing to ${verb === "undid" ? "undo" : "redo"}`;
  return (
    `${verb} ${r.entries.map((e) => e.op).join(", ")}${r.backup ? ` (files changed since were saved in ${r.backup})` : ""}` +
    (r.betweenBackup ? `; ${betweenBackupNote(r.betweenBackup)}` : "") +
    // As pq undo says it (tui-8 T18): the undo of a --continue leaves the rebase stopped again.
    (r.rebaseStopped ? "; the rebase is stopped again where that --continue went on from (pq rebase --continue, --skip or --abort)" : "")
  );
}

/** The shared queue's status for the header line; null when the queue is not shared or its repository cannot be read. */
export async function syncStatus(stack: Stack): Promise<SharedStatus | null> {
  try {
    return await sharedStatus(stack);
  } catch {
    // The header line is decoration too: pq status says what is wrong with the repository.
    return null;
  }
}

/**
 * Last known ci outcome per patch (the state where it is the top) and backend; a flaky
 * image's ends in `~` (see badgeVerdict).
 */
export type Badges = Map<string, Record<string, string>>;

/** The verdicts pq keeps for the queue's states (see Stack.ciVerdicts), as badges. */
export function storedVerdicts(stack: Stack): Badges {
  try {
    return new Map([...stack.ciVerdicts()].map(([patch, cells]) => [patch, { ...cells }]));
  } catch {
    // Verdicts are decoration: a failure to read them must not stop the TUI.
    return new Map();
  }
}

/** Fold ci cells (state index -> patch name via the report's states) into badges. */
export function badgesFromCells(into: Badges, states: { index: number; patch: string | null }[], cells: Cell[]): Badges {
  const byIndex = new Map(states.map((s) => [s.index, s.patch]));
  const out = new Map(into);
  for (const c of cells) {
    const patch = byIndex.get(c.state);
    if (!patch) continue;
    out.set(patch, { ...(out.get(patch) ?? {}), [c.backend]: badgeVerdict(c) });
  }
  return out;
}
