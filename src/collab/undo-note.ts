import type { Stack } from "../queue/stack.js";
import { sharedStatus } from "./status.js";

/**
 * Runs an undo and says, where it took back a version the queue already has committed (and
 * pushed), that the next commit and sync would take it back there too, for everyone (t104's note).
 * The CLI's pq undo and the TUI's u say the same (t123 N4: the TUI said nothing of it).
 */
export async function undoWithSharedNote<T>(
  stack: Stack,
  undo: () => Promise<T>,
  files: (paths: string[]) => string,
): Promise<{ result: T; note?: string }> {
  const before = await sharedStatus(stack);
  const result = await undo();
  const after = before ? await sharedStatus(stack) : null;
  const taken = after ? after.uncommitted.filter((f) => !before!.uncommitted.includes(f)) : [];
  if (!after || !taken.length) return { result };
  const shared = after.upstream !== null;
  // ", and pushed" only where there is a remote branch that has it (t117 N2: a queue with no remote).
  const pushed = shared && !after.upstreamMissing && !after.ahead;
  return {
    result,
    note: `what this undo took back of ${files(taken)} is committed in the ${shared ? "shared " : ""}queue${pushed ? ", and pushed" : ""}: pq commit${shared ? " and pq sync" : ""} would take it back there too${shared ? ", for everyone" : ""}; pq redo brings it back here`,
  };
}
