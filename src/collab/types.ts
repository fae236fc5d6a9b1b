/**
 * The shared queue's vocabulary. A queue version is what one commit of the queue
 * repository holds: the series text and the patch files by name (latin1 strings).
 * The merge is pure apart from two injected services: the base tree's files and a
 * three-way file merge (git merge-file in production), so it can be tested and later
 * driven by the stack's transaction executor without touching the disk itself.
 */
export interface QueueVersion {
  series: string;
  patches: Record<string, string>;
}

export interface MergeServices {
  /** A file of the tree the queue applies to (git HEAD), null when absent. */
  baseFile(path: string): Promise<string | null>;
  /** Three-way merge of one file's text (ours, base, theirs), conflict markers labelled. */
  /** `binary`: git cannot merge the file (a NUL in it); `content` is then ours, and the merge one conflict. */
  mergeFile(
    ours: string,
    base: string,
    theirs: string,
    labels: [string, string, string],
  ): Promise<{ content: string; conflicts: number; binary?: boolean }>;
  /** Guards selected in the tree: only pushable patches are applied when checking states. */
  guards?: string[];
  /** A git blob's content by its (possibly abbreviated) id, null when git has none: a patch's images where it no longer applies here. */
  blob?(id: string): Promise<string | null>;
  /** The file a patch was made over when git lacks its blob: one of HEAD's history's versions that the patches below (`through`) make into it. */
  madeOver?(path: string, blob: string, through: (content: string) => string | null): Promise<string | null>;
}

/**
 * content: markers in files; delete-change: a file of the patch deleted on one side and changed
 * (or moved) on the other, kept as the changed one (no markers: git's modify/delete); delete-modify:
 * a patch deleted on one side, changed on the other; apply:
 * does not apply; header: both sides changed the same header field (ours is in the patch,
 * theirs in the message); name: a patch of theirs and a file of ours (or the other way round)
 * share a name (the other is kept beside it); rename: both sides renamed one file of the patch,
 * to different names (ours is in the patch).
 */
export type ConflictKind = "content" | "delete-change" | "delete-modify" | "apply" | "header" | "name" | "rename";

export interface QueueConflict {
  patch: string;
  kind: ConflictKind;
  message: string;
  files?: string[];
  /** A delete/modify conflict: the name `pq delete` takes, which the message names (see deleteWay). */
  deletes?: string;
  /**
   * An apply conflict whose remote version starts from files this tree's HEAD does not have: a
   * colleague carried the queue onto a newer upstream, which only a rebase of this tree follows
   * (see madeOnAnotherUpstream in sync.ts).
   */
  otherUpstream?: true;
}

export interface MergeOutcome {
  queue: QueueVersion;
  conflicts: QueueConflict[];
  /** What the merge did that a user may want to know (renames followed, patches regenerated). */
  notes: string[];
  /** Our patch names that the merge renamed (theirs renamed them): ours → merged. */
  renamed: Record<string, string>;
  /**
   * Of those, ours that took a free name because theirs added another patch under the same one
   * (theirs keeps the name): ours → the name ours took. The merge commit records them (see
   * SYNC_RENAME_TRAILER), so that pq log tells the two patches apart.
   */
  apart?: Record<string, string>;
}

/** The merge commit's trailer for one of MergeOutcome.apart: "Pq-Renamed-Apart: OURS -> TAKEN". */
export const SYNC_RENAME_TRAILER = "Pq-Renamed-Apart";

export const CONFLICT_LABELS: [string, string, string] = ["ours", "base", "theirs"];
