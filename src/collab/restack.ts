/**
 * The applied stack follows a new version of the queue: pop down to the lowest applied
 * patch that changed (or moved), write the new queue files, push back up to where the
 * user was. Only the Stack's public operations are used, so unrefreshed edits are
 * refused exactly as `pq pop` refuses them, and the writes go through the stack's journal.
 */
import { PqError } from "../errors.js";
import { isPushable } from "../queue/series.js";
import type { PushReport, Stack } from "../queue/stack.js";
import { sha1 } from "../tree/files.js";
import { parseSeries } from "./simulate.js";
import type { QueueVersion } from "./types.js";

export interface RestackReport {
  popped: string[];
  pushed: string[];
  top: string | null;
  /** Set when the push back stopped early (a conflicted patch, or one that does not apply). */
  stoppedAt?: string;
  error?: string;
}

/** Refuse before anything changes if the tree has edits that a pop would lose. */
export async function refuseUnrefreshed(stack: Stack, what: string): Promise<void> {
  const s = await stack.status();
  if (s.needsRefresh)
    throw new PqError("needs-refresh", `${s.top} needs a refresh before you can ${what}`, ["resolve its conflicts, then pq refresh"]);
  if (s.pending.length) {
    throw new PqError("dirty", `unrefreshed changes in ${s.pending.slice(0, 8).join(", ")}; ${what} would have to pop them`, [
      "pq refresh to keep them in the top patch (then pq commit), or undo them first",
    ]);
  }
}

export async function restack(
  stack: Stack,
  next: QueueVersion,
  write: () => void,
  opts: { top: string | null; renamed?: Record<string, string>; stopAt?: string[]; upToStop?: boolean; force?: boolean },
): Promise<RestackReport> {
  const applied = stack.appliedRecords();
  const entries = parseSeries(next.series, "the merged");
  const pushable = entries.filter((e) => isPushable(e, stack.selectedGuards())).map((e) => e.name);
  let keep = 0;
  while (
    keep < applied.length &&
    applied[keep].name === pushable[keep] &&
    next.patches[pushable[keep]] !== undefined &&
    sha1(next.patches[pushable[keep]]) === applied[keep].hash
  )
    keep++;
  const report: RestackReport = { popped: [], pushed: [], top: stack.top() };
  if (keep < applied.length) {
    const r = await stack.pop(keep === 0 ? { all: true, force: opts.force } : { target: applied[keep - 1].name, force: opts.force });
    report.popped = r.popped;
  }
  write();
  let target = opts.top ? (opts.renamed?.[opts.top] ?? opts.top) : null;
  if (target && !pushable.includes(target)) {
    // The old top is gone: go back up as far as the old stack was high.
    target = pushable[Math.min(applied.length, pushable.length) - 1] ?? null;
  }
  const at = target ? pushable.indexOf(target) : -1;
  // A conflicted patch is where the user has work to do: the stack goes up to the lowest one
  // (even above the old top, so its markers are in the tree), never past it.
  const stop = (opts.stopAt ?? []).map((n) => pushable.indexOf(n)).filter((i) => i !== -1 && (opts.upToStop || i <= at));
  if (stop.length) {
    target = pushable[Math.min(...stop)];
    report.stoppedAt = target;
  }
  if (target && !stack.applied().includes(target)) {
    try {
      const r: PushReport = await stack.push({ target });
      report.pushed = r.pushed.map((p) => p.name);
    } catch (e) {
      if (!(e instanceof PqError)) throw e;
      report.error = e.message;
      report.stoppedAt = stack.top() ?? undefined;
    }
  }
  report.top = stack.top();
  return report;
}
