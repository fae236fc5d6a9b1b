/**
 * The TUI's view of a stack: a snapshot of the series for rendering, the status of the
 * tree, and `run`, which performs one library operation at a time (the same calls as the
 * CLI) with its progress events, then reloads the snapshot. Nothing here blocks a frame:
 * operations are awaited, and the snapshot is cheap (names, guards, applied set).
 */
import { useCallback, useEffect, useRef, useState } from "react";
import type { ProgressEvent } from "../core/events.js";
import { isPushable } from "../queue/series.js";
import type { Stack, StackStatus } from "../queue/stack.js";
import { errorView, type ErrorView } from "./error-view.js";

export interface SeriesRow {
  name: string;
  state: "applied" | "unapplied" | "guarded";
  guards: string[];
}

export interface StackView {
  rows: SeriesRow[];
  top: string | null;
  selected: string[];
  status: StackStatus | null;
  busy: string | null;
  progress: ProgressEvent | null;
  message: string | null;
  error: ErrorView | null;
  /** Bumped after every operation: caches keyed on patch contents drop their entries. */
  generation: number;
}

export function snapshotRows(stack: Stack): SeriesRow[] {
  const applied = new Set(stack.applied());
  const guards = stack.selectedGuards();
  return stack.series().map((e) => ({
    name: e.name,
    guards: e.guards,
    state: applied.has(e.name) ? "applied" : isPushable(e, guards) ? "unapplied" : "guarded",
  }));
}

export type Operation = (onEvent: (e: ProgressEvent) => void) => Promise<string>;

export function useStack(stack: Stack) {
  const [view, setView] = useState<StackView>(() => ({
    rows: snapshotRows(stack),
    top: stack.top(),
    selected: stack.selectedGuards(),
    status: null,
    busy: null,
    progress: null,
    message: null,
    error: null,
    generation: 0,
  }));
  const busyRef = useRef(false);

  const reload = useCallback(
    async (message: string | null = null, error: ErrorView | null = null) => {
      // The series first (a frame with the new markers), the status (a refresh plan) after.
      setView((v) => ({ ...v, rows: snapshotRows(stack), top: stack.top(), selected: stack.selectedGuards(), busy: null, progress: null, message, error, generation: v.generation + 1 }));
      const status = await stack.status().catch(() => null);
      setView((v) => ({ ...v, status }));
    },
    [stack],
  );

  useEffect(() => {
    void reload();
  }, [reload]);

  /** Run one operation at a time; a second key while one runs says so instead of queueing. */
  const run = useCallback(
    async (label: string, op: Operation): Promise<boolean> => {
      if (busyRef.current) {
        setView((v) => ({ ...v, message: `busy: ${v.busy ?? "an operation"} is still running` }));
        return false;
      }
      busyRef.current = true;
      setView((v) => ({ ...v, busy: label, progress: null, message: null, error: null }));
      try {
        const message = await op((e) => setView((v) => ({ ...v, progress: e })));
        await reload(message);
        return true;
      } catch (e) {
        await reload(null, errorView(e));
        return false;
      } finally {
        busyRef.current = false;
      }
    },
    [reload],
  );

  const say = useCallback((message: string | null, error: ErrorView | null = null) => setView((v) => ({ ...v, message, error })), []);
  const setBusy = useCallback((busy: string | null, progress: ProgressEvent | null = null) => setView((v) => ({ ...v, busy, progress })), []);
  return { view, run, reload, say, setBusy, busyRef };
}

export function describePush(r: { pushed: { name: string; cached: boolean; needsRefresh?: string }[]; top: string | null }): string {
  if (!r.pushed.length) return "nothing to push";
  const forced = r.pushed.filter((p) => p.needsRefresh).map((p) => p.name);
  return `pushed ${r.pushed.length} (${r.pushed.filter((p) => p.cached).length} reused); now at: ${r.top}${forced.length ? ` (needs refresh: ${forced.join(", ")})` : ""}`;
}

export function describePop(r: { popped: string[]; top: string | null; backup?: string }): string {
  if (!r.popped.length) return "no patches applied";
  return `popped ${r.popped.length}; ${r.top ? `now at: ${r.top}` : "queue empty"}${r.backup ? ` (backup in ${r.backup})` : ""}`;
}
