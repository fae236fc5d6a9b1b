/** What `pq status` says about the shared queue: which kind, ahead/behind, conflicts. */
import type { Stack } from "../queue/stack.js";
import { QueueRepo, type QueueRepoKind } from "./queue-repo.js";
import { loadSyncState } from "./sync.js";

export interface SharedStatus {
  /** own: the queue directory is its own repository; in-tree: it is versioned with the tree. */
  kind: QueueRepoKind;
  upstream: string | null;
  /** Commits not yet pushed / not yet merged, against the last fetch. */
  ahead: number;
  behind: number;
  uncommitted: string[];
  /** Patches a stopped sync left with conflicts (pq sync --continue after resolving them). */
  conflicted: string[];
  syncInProgress: boolean;
}

export async function sharedStatus(stack: Stack): Promise<SharedStatus | null> {
  const qr = await QueueRepo.open(stack.queueDir);
  if (!qr) return null;
  const up = await qr.upstream();
  const ab = await qr.aheadBehind(up);
  const sync = loadSyncState(stack.tree);
  return {
    kind: qr.kind,
    upstream: up ? up.ref.replace(/^refs\/remotes\//, "") : null,
    ahead: ab?.ahead ?? 0,
    behind: ab?.behind ?? 0,
    uncommitted: await qr.uncommitted(),
    conflicted: sync?.phase === "conflicts" ? [...new Set(sync.conflicts.map((c) => c.patch))] : [],
    syncInProgress: sync !== null,
  };
}
