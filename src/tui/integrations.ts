/**
 * The TUI's seams to features that land separately (undo/redo, ci verdicts per state,
 * shared-queue sync). Each adapter checks whether the Stack (or its module) offers the
 * method yet and degrades to "not available" when it does not, so wiring one in is a
 * change in this file only.
 */
import type { Stack } from "../queue/stack.js";
import type { Cell } from "../ci/report.js";
import { badgeVerdict } from "../queue/ci-verdicts.js";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Loose = Record<string, any>;
const loose = (stack: Stack) => stack as unknown as Loose;

export interface UndoSupport {
  available: boolean;
  undo: () => Promise<string>;
  redo: () => Promise<string>;
}

const describe = (r: unknown, verb: string): string => {
  if (typeof r === "string") return r;
  if (r && typeof r === "object") {
    const o = r as Loose;
    // Stack.undo/redo's UndoReport: the oplog entries taken back or re-done.
    if (Array.isArray(o.entries)) {
      if (!o.entries.length) return `nothing to ${verb === "undid" ? "undo" : "redo"}`;
      const ops = o.entries.map((e: Loose) => String(e.op ?? e.id ?? "?")).join(", ");
      return (
        `${verb} ${ops}${typeof o.backup === "string" ? ` (files changed since were saved in ${o.backup})` : ""}` +
        // As pq undo says it (tui-8 T18): the undo of a --continue leaves the rebase stopped again.
        (o.rebaseStopped
          ? "; the rebase is stopped again where that --continue went on from (pq rebase --continue, --skip or --abort)"
          : "")
      );
    }
    if (typeof o.message === "string") return o.message;
    if (typeof o.op === "string") return `${verb} ${o.op}`;
  }
  return verb;
};

export function undoSupport(stack: Stack): UndoSupport {
  const s = loose(stack);
  const available = typeof s.undo === "function" && typeof s.redo === "function";
  return {
    available,
    undo: async () => {
      if (typeof s.undo !== "function") return "undo is not available in this build of pq";
      return describe(await s.undo(), "undid");
    },
    redo: async () => {
      if (typeof s.redo !== "function") return "redo is not available in this build of pq";
      return describe(await s.redo(), "redid");
    },
  };
}

/** What the header shows about a shared queue; null when sync is not available or not set up. */
export interface SyncStatus {
  /** own: the queue is a repository of its own; in-tree: versioned with the tree. */
  kind: string | null;
  upstream: string | null;
  ahead: number;
  behind: number;
  uncommitted: number;
  conflicted: string[];
  syncInProgress: boolean;
}

/**
 * The shared queue's state: a Stack method if there is one, else the shared-queue
 * module's `sharedStatus(stack)` (src/collab/status.ts, the facts `pq status --json`
 * prints). The module is loaded by a computed path so this file builds without it.
 */
export async function syncStatus(stack: Stack): Promise<SyncStatus | null> {
  const s = loose(stack);
  let fn: (() => Promise<unknown>) | null = null;
  if (typeof s.syncStatus === "function") fn = () => s.syncStatus();
  else if (typeof s.sharedStatus === "function") fn = () => s.sharedStatus();
  else {
    const mod = await collabStatus();
    if (mod && typeof mod.sharedStatus === "function") fn = () => mod.sharedStatus(stack);
  }
  if (!fn) return null;
  try {
    const r = (await fn()) as Loose | null;
    if (!r) return null;
    const n = (v: unknown) => (Array.isArray(v) ? v.length : typeof v === "number" ? v : 0);
    const conflicted = Array.isArray(r.conflicted) ? r.conflicted.map(String) : [];
    return {
      kind: typeof r.kind === "string" ? r.kind : null,
      upstream: typeof r.upstream === "string" ? r.upstream : null,
      ahead: n(r.ahead),
      behind: n(r.behind),
      uncommitted: n(r.uncommitted),
      conflicted,
      syncInProgress: !!r.syncInProgress,
    };
  } catch {
    return null;
  }
}

let collab: Promise<Loose | null> | undefined;
function collabStatus(): Promise<Loose | null> {
  const path = ["..", "collab", "status.js"].join("/");
  collab ??= import(path).then(
    (m) => m as Loose,
    () => null,
  );
  return collab;
}

/**
 * Last known ci outcome per patch (the state where it is the top) and backend; a flaky
 * image's ends in `~` (see badgeVerdict).
 */
export type Badges = Map<string, Record<string, string>>;

/** Verdicts pq keeps for the queue's states (ci caching), when that exists. */
export async function storedVerdicts(stack: Stack): Promise<Badges> {
  const s = loose(stack);
  const fn = s.ciVerdicts ?? s.ciResults;
  const out: Badges = new Map();
  if (typeof fn !== "function") return out;
  try {
    const r = (await fn.call(stack)) as unknown;
    const entries: [string, Record<string, string>][] =
      r instanceof Map ? [...r.entries()] : r && typeof r === "object" ? Object.entries(r as Loose) : [];
    for (const [patch, cells] of entries) out.set(patch, { ...cells });
  } catch {
    // verdicts are decoration: a failure to read them must not stop the TUI
  }
  return out;
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
