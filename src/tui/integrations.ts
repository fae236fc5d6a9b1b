/**
 * The TUI's seams to features that land separately (undo/redo, ci verdicts per state,
 * shared-queue sync). Each adapter checks whether the Stack (or its module) offers the
 * method yet and degrades to "not available" when it does not, so wiring one in is a
 * change in this file only.
 */
import type { Stack } from "../queue/stack.js";
import type { Cell } from "../ci/report.js";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Loose = Record<string, any>;
const loose = (stack: Stack) => stack as unknown as Loose;

export interface UndoSupport {
  available: boolean;
  undo: () => Promise<string>;
  redo: () => Promise<string>;
}

const describe = (r: unknown, fallback: string): string => {
  if (typeof r === "string") return r;
  if (r && typeof r === "object") {
    const o = r as Loose;
    if (typeof o.message === "string") return o.message;
    if (typeof o.op === "string") return `${fallback}: ${o.op}`;
    if (typeof o.description === "string") return `${fallback}: ${o.description}`;
  }
  return fallback;
};

export function undoSupport(stack: Stack): UndoSupport {
  const s = loose(stack);
  const available = typeof s.undo === "function" && typeof s.redo === "function";
  return {
    available,
    undo: async () => {
      if (typeof s.undo !== "function") return "undo is not available in this build of pq";
      return describe(await s.undo(), "undone");
    },
    redo: async () => {
      if (typeof s.redo !== "function") return "redo is not available in this build of pq";
      return describe(await s.redo(), "redone");
    },
  };
}

/** What the header shows about a shared queue; null when sync is not available or not set up. */
export interface SyncStatus {
  ahead: number;
  behind: number;
  conflicted: number;
}

export async function syncStatus(stack: Stack): Promise<SyncStatus | null> {
  const s = loose(stack);
  const fn = s.syncStatus ?? s.sharedStatus;
  if (typeof fn !== "function") return null;
  try {
    const r = (await fn.call(stack)) as Loose | null;
    if (!r) return null;
    const n = (v: unknown) => (Array.isArray(v) ? v.length : typeof v === "number" ? v : 0);
    return { ahead: n(r.ahead), behind: n(r.behind), conflicted: n(r.conflicted ?? r.conflicts) };
  } catch {
    return null;
  }
}

/** Last known ci outcome per patch (the state where it is the top) and backend. */
export type Badges = Map<string, Record<string, Cell["outcome"]>>;

/** Verdicts pq keeps for the queue's states (ci caching), when that exists. */
export async function storedVerdicts(stack: Stack): Promise<Badges> {
  const s = loose(stack);
  const fn = s.ciVerdicts ?? s.ciResults;
  const out: Badges = new Map();
  if (typeof fn !== "function") return out;
  try {
    const r = (await fn.call(stack)) as unknown;
    const entries: [string, Record<string, string>][] = r instanceof Map ? [...r.entries()] : r && typeof r === "object" ? Object.entries(r as Loose) : [];
    for (const [patch, cells] of entries) out.set(patch, { ...(cells as Record<string, Cell["outcome"]>) });
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
    out.set(patch, { ...(out.get(patch) ?? {}), [c.backend]: c.outcome });
  }
  return out;
}
