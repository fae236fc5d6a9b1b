/** The shared queue's line in the TUI: the same facts as `pq status --json`'s `shared`. */
import React from "react";
import { Text } from "ink";
import type { SharedStatus } from "../collab/status.js";

export function SharedLine({ shared }: { shared: SharedStatus | null }) {
  if (!shared) return null;
  const where = shared.kind === "own" ? "own repository" : "in the tree's repository";
  const track = shared.upstream ? `${shared.ahead} ahead, ${shared.behind} behind ${shared.upstream}` : "no upstream";
  return (
    <Text color={shared.conflicted.length ? "red" : undefined} dimColor={!shared.conflicted.length}>
      shared queue ({where}): {track}
      {shared.uncommitted.length ? ` · uncommitted: ${shared.uncommitted.length}` : ""}
      {shared.conflicted.length ? ` · sync stopped on conflicts in ${shared.conflicted.join(", ")} (pq sync --continue / --abort)` : ""}
      {shared.syncInProgress && !shared.conflicted.length ? " · an interrupted sync: pq sync completes it" : ""}
    </Text>
  );
}
