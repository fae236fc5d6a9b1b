/**
 * What a stopped or interrupted pq sync leaves in .pq/sync.json: the conflicts --continue
 * resolves, where --abort goes back to, and the merge a killed sync was moving to.
 */
import { existsSync, unlinkSync } from "node:fs";
import { operandWords } from "../core/shell-word.js";
import { diffOf } from "../queue/patch-text.js";
import { asPathMap, statePaths } from "../queue/state.js";
import { asciiJson, readText, sha1, writeAtomic } from "../tree/files.js";
import type { Finished } from "./finished.js";
import type { QueueConflict } from "./types.js";

/** What an interrupted or conflicted sync left behind. */
export interface SyncState {
  version: 1;
  /**
   * stopping: the conflicted merge is being written (a kill here is rolled back and the
   * sync redone); conflicts: written, waiting for --continue/--abort; integrating: moving
   * to a finished merge (a kill here is completed).
   */
  phase: "stopping" | "conflicts" | "integrating";
  origHead: string | null;
  theirs: string;
  origTop: string | null;
  origApplied: string[];
  conflicts: QueueConflict[];
  renamed: Record<string, string>;
  /** Patches the incoming commits record as finished by a colleague (see finished.ts), by name. */
  finished?: Record<string, Finished>;
  /** MergeOutcome.apart, for the merge commit --continue makes. */
  apart?: Record<string, string>;
  /** phase integrating: the commit the queue is being moved to. */
  target?: string;
  /**
   * phase conflicts: the queue files as the stopped sync left them (path -> sha1, "series"
   * included). --abort saves any file that is neither this nor the pre-sync version (work done
   * while the sync was stopped: a refresh, a new patch) before it puts the queue back (collab-7 #3).
   */
  written?: Record<string, string>;
  /**
   * phase conflicts: patches the last --continue found not applying after the resolution, with
   * their text's sha1 then and why, so that pq status names them while they are unchanged
   * (t37 N10: it went on naming the conflict already resolved).
   */
  notApplying?: NotApplying[];
  /**
   * A --abort began (its first write is next): cut short (git's index locked, a kill), the abort
   * is what is left to do, not the sync: a --continue then pushed a merge that dropped the
   * colleague's side the abort had taken out of the tree (t79 N4).
   */
  aborting?: true;
  /** The --abort's first run: where it saved the queue files made while the sync was stopped, and which. */
  abortSaved?: { dir: string; files: string[] };
  /**
   * Where the sync started, when an earlier round of it (a merge whose push lost a race) moved
   * the queue and the stack before this round: --abort goes back there, not to the earlier
   * round's merge (t144 N7: it kept that merge and said the queue was as before).
   */
  syncStart?: { head: string | null; top: string | null; applied: string[] };
  /**
   * The remote's tree commits come in with its queue (an in-tree queue, both sides' queues
   * changed, nothing applied): integrating moves the files beside the queue from origHead's
   * versions to the target's too (see QueueRepo.moveOutsideFiles; t144 N9, t150 N5).
   */
  withTree?: true;
}

/** A patch a refused --continue found not applying (see SyncState.notApplying). */
export interface NotApplying {
  patch: string;
  /**
   * The queue files its failure depends on, by diffId of their text then: the patch itself, the
   * other patches found failing with it, and the conflicted patches (the resolution). Once one's
   * diff changes, the failure is not known any more (t40 N1: a new resolution let it apply, and
   * status still said it did not).
   */
  unchanged: Record<string, string>;
  failures: string[];
  /** Why a three-way merge cannot help it (its index blob unknown, or the patch does not apply to it: edited by hand): pq push --force is the way then (t42 N4). */
  noMerge?: string;
  /**
   * Set by pq status: the patch is applied now to be fixed, with its conflicts marked (pq push
   * --merge) or its hunks that did not fit in .rej files (pq push --force).
   */
  fixing?: "markers" | "rejects";
}

/** A patch text's diff, as a sha1 ("" : no such patch): what applies, its header apart (t41 N8). */
export function diffId(text: string | null): string {
  return text === null ? "" : sha1(diffOf(text));
}

/** How to fix a patch that does not apply after a resolution (pq goto refuses it: t40 N3). */
export function fixNotApplying(patch: Pick<NotApplying, "patch" | "noMerge">): string {
  return patch.noMerge === undefined
    ? `pq push --merge ${operandWords(patch.patch)} (its conflicts are marked in the tree), fix them and pq refresh`
    : `pq push --force ${operandWords(patch.patch)} (a three-way merge cannot help: ${patch.noMerge}; the hunks that do not fit go to .rej files), fix them and pq refresh`;
}

export const syncStatePath = (tree: string) => statePaths(tree).sync;

export function loadSyncState(tree: string): SyncState | null {
  const text = readText(syncStatePath(tree));
  if (text === null) return null;
  const state = JSON.parse(text) as SyncState;
  // Maps by patch name: a patch may be named `constructor` (see pathMap).
  for (const map of [state.renamed, state.finished, state.apart, state.written, ...(state.notApplying ?? []).map((n) => n.unchanged)])
    if (map) asPathMap<unknown>(map);
  return state;
}

export function saveSyncState(tree: string, s: SyncState): void {
  writeAtomic(syncStatePath(tree), asciiJson(s, 1) + "\n", true);
}

export function clearSyncState(tree: string): void {
  if (existsSync(syncStatePath(tree))) unlinkSync(syncStatePath(tree));
}
