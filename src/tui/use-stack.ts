/**
 * The TUI's view of a stack: a snapshot for rendering plus intents (push, pop, goto,
 * refresh) that call the same library operations as the CLI, with their progress events.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import type { ProgressEvent } from "../core/events.js";
import { isPqError } from "../errors.js";
import { isPushable } from "../queue/series.js";
import type { Stack, StackStatus } from "../queue/stack.js";
import { sharedStatus, type SharedStatus } from "../collab/status.js";

export interface SeriesRow {
  name: string;
  state: "applied" | "unapplied" | "guarded";
  guards: string[];
}

export interface StackView {
  rows: SeriesRow[];
  status: StackStatus | null;
  /** The shared queue's state (null when the queue is not versioned). */
  shared?: SharedStatus | null;
  busy: string | null;
  progress: ProgressEvent | null;
  message: string | null;
  error: string | null;
}

export function snapshotRows(stack: Stack): SeriesRow[] {
  const applied = new Set(stack.applied());
  const guards = stack.selectedGuards();
  return stack.series().map((e) => ({ name: e.name, guards: e.guards, state: applied.has(e.name) ? "applied" : isPushable(e, guards) ? "unapplied" : "guarded" }));
}

export function useStack(stack: Stack) {
  const [view, setView] = useState<StackView>({ rows: snapshotRows(stack), status: null, busy: null, progress: null, message: null, error: null });
  const busyRef = useRef(false);

  const reload = useCallback(async (message: string | null = null, error: string | null = null) => {
    const status = await stack.status().catch(() => null);
    const shared = await sharedStatus(stack).catch(() => null);
    setView({ rows: snapshotRows(stack), status, shared, busy: null, progress: null, message, error });
  }, [stack]);

  useEffect(() => {
    void reload();
  }, [reload]);

  /** Run one operation at a time; its progress events drive the view. */
  const run = useCallback(
    async (label: string, op: (onEvent: (e: ProgressEvent) => void) => Promise<string>) => {
      if (busyRef.current) return;
      busyRef.current = true;
      setView((v) => ({ ...v, busy: label, progress: null, message: null, error: null }));
      try {
        const message = await op((e) => setView((v) => ({ ...v, progress: e })));
        await reload(message);
      } catch (e) {
        const text = isPqError(e) ? [e.message, ...e.details].join("\n") : String((e as Error).message ?? e);
        await reload(null, text);
      } finally {
        busyRef.current = false;
      }
    },
    [reload],
  );

  const intents = {
    push: () => run("push", async (onEvent) => describePush(await stack.push({ onEvent }))),
    pushAll: () => run("push -a", async (onEvent) => describePush(await stack.push({ all: true, onEvent }))),
    pop: () => run("pop", async (onEvent) => describePop(await stack.pop({ onEvent }))),
    popAll: () => run("pop -a", async (onEvent) => describePop(await stack.pop({ all: true, onEvent }))),
    goto: (name: string) =>
      run(`goto ${name}`, async (onEvent) => {
        await stack.goto(name, { onEvent });
        return stack.top() ? `now at: ${stack.top()}` : "patch queue now empty";
      }),
    refresh: () =>
      run("refresh", async () => {
        const r = await stack.refresh();
        return `refreshed ${r.name}: ${r.files.length ? r.files.join(", ") : "no changes"}`;
      }),
    reload: () => reload(),
  };
  return { view, intents };
}

function describePush(r: { pushed: { name: string; cached: boolean }[]; top: string | null }): string {
  if (!r.pushed.length) return "nothing to push";
  return `pushed ${r.pushed.length} (${r.pushed.filter((p) => p.cached).length} reused); now at: ${r.top}`;
}

function describePop(r: { popped: string[]; top: string | null; backup?: string }): string {
  if (!r.popped.length) return "no patches applied";
  return `popped ${r.popped.length}; ${r.top ? `now at: ${r.top}` : "queue empty"}${r.backup ? ` (backup in ${r.backup})` : ""}`;
}
