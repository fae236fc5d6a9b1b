/**
 * The TUI's view of a stack: a snapshot of the series for rendering, the status of the
 * tree, and `run`, which performs one library operation at a time (the same calls as the
 * CLI) with its progress events, then reloads the snapshot. Nothing here blocks a frame:
 * operations are awaited, and the snapshot is cheap (names, guards, applied set).
 */
import { useCallback, useEffect, useRef, useState } from "react";
import type { ProgressEvent } from "../core/events.js";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { isPushable, type SeriesEntry } from "../queue/series.js";
import { rebaseStatus } from "../queue/rebase.js";
import { statePaths } from "../queue/state.js";
import type { Stack, StackStatus } from "../queue/stack.js";
import { PqError } from "../errors.js";
import { errorView, type ErrorView } from "./error-view.js";
import { withTextSaved } from "../core/refused-text.js";

export interface SeriesRow {
  name: string;
  state: "applied" | "unapplied" | "guarded";
  guards: string[];
}

export interface StackView {
  rows: SeriesRow[];
  top: string | null;
  /** Derived once per snapshot, not per frame: a frame must not walk 10,000 rows. */
  appliedCount: number;
  topIndex: number;
  selected: string[];
  status: StackStatus | null;
  busy: string | null;
  progress: ProgressEvent | null;
  message: string | null;
  error: ErrorView | null;
  /** Bumped after every operation: caches keyed on patch contents drop their entries. */
  generation: number;
  /** A rebase under way, as pq status says it (null: none). */
  rebase: string | null;
  /**
   * The stack could not be read the last time it was looked at (another terminal switched the
   * queue, broke the series file): the rows are as last read, and the tree's status is not
   * shown, as it would describe a stack that may no longer be (tui-22 F4).
   */
  stale?: boolean;
  /** Applied patches the series no longer lists (its line deleted by hand): no row shows them. */
  unlisted?: string[];
  /** Unapplied patches below the top the selected guards let through (skipped while guarded off, or added there). */
  below?: string[];
}

/**
 * The series file parsed once per version: push and pop change only which patches are
 * applied, and re-parsing 10,000 lines after each would cost the frame that shows them.
 * The queue writes the file atomically (a new inode), so inode+mtime+size identify it.
 */
const parsed = new WeakMap<Stack, { key: string; entries: SeriesEntry[] }>();
function seriesEntries(stack: Stack): SeriesEntry[] {
  let key = "";
  try {
    const st = statSync(join(stack.queueDir, "series"), { bigint: true });
    key = `${st.ino}:${st.mtimeNs}:${st.size}`;
  } catch {
    return stack.series();
  }
  const hit = parsed.get(stack);
  if (hit && hit.key === key) return hit.entries;
  const entries = stack.series();
  parsed.set(stack, { key, entries });
  return entries;
}

function snapshot(stack: Stack) {
  const rows = snapshotRows(stack);
  const top = stack.top();
  const listed = new Set(rows.map((r) => r.name));
  const applied = stack.applied();
  return {
    rows,
    top,
    unlisted: applied.filter((name) => !listed.has(name)),
    below: stack.skippedBelowTop(),
    appliedCount: applied.length,
    topIndex: top ? rows.findIndex((r) => r.name === top) : -1,
    selected: stack.selectedGuards(),
    rebase: safeRebaseStatus(stack),
  };
}

/** A stopped rebase, as pq status says it (tui-8 T18); an unreadable plan is pq status's to report. */
function safeRebaseStatus(stack: Stack): string | null {
  try {
    return rebaseStatus(stack);
  } catch {
    return null;
  }
}

export function snapshotRows(stack: Stack): SeriesRow[] {
  const applied = new Set(stack.applied());
  const guards = stack.selectedGuards();
  return seriesEntries(stack).map((e) => ({
    name: e.name,
    guards: e.guards,
    state: applied.has(e.name) ? "applied" : isPushable(e, guards) ? "unapplied" : "guarded",
  }));
}

const STATUS_POLL_MS = 2000;
const STATUS_AFTER_OP_MS = 200;

export type Operation = (onEvent: (e: ProgressEvent) => void) => Promise<string>;

export interface RunOptions {
  /**
   * The operation acts on no patch the screen showed (a new patch goes on whatever the top is):
   * not refused when another terminal changed the stack, which would drop what was typed for it
   * (t54 N6: the name and message typed for c were lost).
   */
  actsOnNoRowShown?: boolean;
  /** What the user typed for the operation (c's message): kept in a file the refusal names, should it be refused (t57 N4). */
  typed?: string;
}

export function useStack(stack: Stack, startMessage: string | null = null) {
  const [view, setView] = useState<StackView>(() => ({
    ...snapshot(stack),
    status: null,
    busy: null,
    progress: null,
    message: startMessage,
    error: null,
    generation: 0,
  }));
  const busyRef = useRef(false);
  /** When the last key arrived (App calls `keyPressed`). */
  const lastKey = useRef(0);
  const keyPressed = useCallback(() => {
    lastKey.current = Date.now();
  }, []);

  /**
   * The tree's status (what a refresh would take) is computed apart from the operations:
   * with thousands of applied patches it costs seconds, and neither the frame after an
   * operation nor the next queued operation waits for it. Requests made while one runs
   * coalesce into one more run; a failed look keeps the last status.
   */
  const statusRun = useRef({ running: false, again: false });
  const refreshStatus = useCallback(
    async (delayMs = 0) => {
      const s = statusRun.current;
      if (s.running) {
        s.again = true;
        return;
      }
      s.running = true;
      try {
        do {
          s.again = false;
          // Let the frame with the new rows go out first, and a burst of keys ("ppp") finish.
          await new Promise((r) => setTimeout(r, delayMs));
          const status = await stack.status({ reportUnreadable: true }).catch(() => undefined);
          if (status && !s.again) setView((v) => (v.stale || JSON.stringify(v.status) === JSON.stringify(status) ? v : { ...v, status }));
        } while (s.again);
      } finally {
        s.running = false;
      }
    },
    [stack],
  );

  /**
   * The stack as it is on disk now (another terminal may have pushed, popped or switched
   * queues), or the refusal that says why it cannot be shown (a series file with a bad
   * line): the refusal goes to the status line and the last good rows stay.
   */
  const lastSignature = useRef<string | null>(null);
  const fresh = useCallback((): { view?: ReturnType<typeof snapshot>; error?: ErrorView } => {
    try {
      if (!busyRef.current) stack.reload();
      const view = snapshot(stack);
      // What the rows now show is what the next poll compares with: a change made between
      // this read and that poll (in the TUI's first seconds, say) is seen, not taken as given.
      lastSignature.current = safeSignature(stack);
      return { view };
    } catch (e) {
      return { error: errorView(e) };
    }
  }, [stack]);

  /**
   * An interrupted operation completed by the next one the TUI runs (and where edits made
   * since were saved) is news the status line keeps, ahead of that operation's own result.
   */
  const recovered = useRef<string | null>(null);
  useEffect(() => {
    stack.setEventSink((e) => {
      if (e.kind === "recover") recovered.current = e.message;
    });
  }, [stack]);

  const errorFromDisk = useRef(false);
  const reload = useCallback(
    async (message: string | null = null, error: ErrorView | null = null, opts: { keepStatusLine?: boolean } = {}) => {
      if (recovered.current) {
        // A replay that saved files changed since the interrupted operation began is a warning to
        // read, not a ✓: said as the status line's error, once; the stack's own stop for it is
        // then spent, so a later key is not refused with old news (t97 N3).
        if (/ were saved in /.test(recovered.current) && !error) {
          error = {
            code: "recovered",
            message: recovered.current,
            details: ["look at what was saved (diff it with the tree) and carry over what you want"],
          };
          stack.acknowledgeRecovery();
        } else message = message ? `${recovered.current} · then ${message}` : recovered.current;
        recovered.current = null;
      }
      const now = fresh();
      // An error the disk itself gave (a series that cannot be read) goes once the disk is right again.
      const keepError = opts.keepStatusLine && !errorFromDisk.current;
      errorFromDisk.current = Boolean(now.error);
      setView((v) => ({
        ...v,
        ...(now.view ?? {}),
        busy: null,
        progress: null,
        // A reload because another pq changed the stack keeps what the status line says (a
        // refusal, where a recovery saved edits) until the next key's operation (tui-8 T14).
        message: now.error ? null : opts.keepStatusLine && !message ? v.message : message,
        error: now.error ?? (keepError && !error ? v.error : error),
        stale: Boolean(now.error),
        ...(now.error ? { status: null } : {}),
        generation: v.generation + 1,
      }));
      void refreshStatus(STATUS_AFTER_OP_MS);
    },
    [fresh, refreshStatus],
  );

  /** Why the stack cannot be read now, or null when it can. */
  /**
   * The stack on disk as another terminal's command would change it (the applied patches, the
   * series file, the patch files), or why it cannot be read now.
   */
  const readDisk = useCallback((): { signature: string } | { error: unknown } => {
    try {
      stack.reload();
      return { signature: signatureOf(stack) };
    } catch (e) {
      return { error: e };
    }
  }, [stack]);
  const diskSignature = useCallback((): string => {
    const disk = readDisk();
    return "error" in disk ? `error: ${(disk.error as Error).message}` : disk.signature;
  }, [readDisk]);

  // The first rows came from the snapshot the state started with: the mount only notes what
  // they show (for the poll) and looks at the tree's status. A reload here drew the same rows
  // again and read their headers twice, a frame of the TUI's first second on a busy machine.
  useEffect(() => {
    lastSignature.current = safeSignature(stack);
    void refreshStatus(STATUS_AFTER_OP_MS);
  }, [stack, refreshStatus]);

  // Edits made in another window show up as "unrefreshed" without a key press. The next
  // look waits ten times as long as the last one took, so polling never hogs the loop.
  useEffect(() => {
    let timer: NodeJS.Timeout;
    let stopped = false;
    const poll = async () => {
      const started = Date.now();
      // Not while keys are coming (someone scrolling): the look would compete with frames.
      if (!busyRef.current && started - lastKey.current > STATUS_POLL_MS) {
        // A command in another terminal changed the stack: show it (not only on ^l).
        const signature = diskSignature();
        if (lastSignature.current !== null && signature !== lastSignature.current) await reload(null, null, { keepStatusLine: true });
        lastSignature.current = signature;
        await refreshStatus();
      }
      if (!stopped) timer = setTimeout(poll, Math.max(STATUS_POLL_MS, 10 * (Date.now() - started)));
    };
    timer = setTimeout(poll, STATUS_POLL_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [refreshStatus, diskSignature, reload]);

  /**
   * Run operations one at a time, in the order their keys came: "pp" pushes two. Each
   * waits for the one before it; its result (or refusal) shows when it finishes.
   */
  const chain = useRef<Promise<unknown>>(Promise.resolve());
  const queued = useRef(0);
  /** Set on quit: operations queued behind the running one are dropped. */
  const quitting = useRef(false);
  /**
   * Operations by the order of their keys: `issued` numbers them, `keepThrough` is the last one
   * started. On quit, the first one not started yet counts as running when nothing is: its key
   * came before q in the same burst ("pq" pushes, then quits: tui-8 T6).
   */
  const issued = useRef(0);
  const keepThrough = useRef(-1);
  const run = useCallback(
    (label: string, op: Operation, onDone?: () => void, opts: RunOptions = {}): Promise<boolean> => {
      queued.current++;
      const seq = issued.current++;
      const next = chain.current.then(async () => {
        queued.current--;
        if (quitting.current && seq > keepThrough.current) return false;
        keepThrough.current = Math.max(keepThrough.current, seq);
        // The stack cannot be read now (a series file that is a directory, a queue gone): the
        // screen shows the stack as last read, and an operation's result could not be shown on
        // it (t54 N3: a pop was done while the screen kept the old stack and only the read error).
        const disk = readDisk();
        if ("error" in disk) {
          const refusal = unreadableRefusal(disk.error);
          setView((v) => ({
            ...v,
            error: errorView(opts.typed ? withTextSaved(refusal, opts.typed) : refusal),
            stale: true,
            status: null,
          }));
          return false;
        }
        // A command in another terminal changed the stack since this frame was drawn (the poll
        // waits while keys come): the key was meant for what the screen showed, so the
        // operation is refused and the screen brought up to date (tui-8 T3).
        if (!opts.actsOnNoRowShown && lastSignature.current !== null && disk.signature !== lastSignature.current) {
          await reload(null, errorView(staleScreen(stack)));
          return false;
        }
        // Another pq killed mid-operation left its journal: completing it (as the operation would
        // first) changes the stack the screen showed, so that is all this key does (t27 F5).
        if (existsSync(statePaths(stack.tree).journal)) {
          try {
            await stack.withLock(async () => undefined, { changes: false });
          } catch (e) {
            await reload(null, errorView(e));
            return false;
          }
          // The status line says what was completed (and where edits made since were saved), then this.
          await reload("the key did nothing else: press it again to act on the stack as it is now");
          return false;
        }
        busyRef.current = true;
        const more = queued.current ? ` (+${queued.current} queued)` : "";
        setView((v) => ({ ...v, busy: label + more, progress: null, message: null, error: null }));
        try {
          // After a pq queue switch elsewhere this refuses before the operation starts (an
          // editor opened on the old queue's patch would lose what was typed: tui-8 T5).
          stack.reload();
          // A recovery's news (where edits made while the operation ran were saved) is kept for the
          // status line, ahead of the result, not shown as progress the result then covers (t32 F4).
          const message = await op((e) => {
            if (e.kind === "recover") recovered.current = recovered.current ? `${recovered.current} · ${e.message}` : e.message;
            else setView((v) => ({ ...v, progress: e }));
          });
          onDone?.(); // before the new rows render (e.g. the cursor follows a moved patch)
          await reload(message);
          return true;
        } catch (e) {
          await reload(null, errorView(opts.typed ? withTextSaved(e, opts.typed) : e));
          return false;
        } finally {
          busyRef.current = false;
        }
      });
      chain.current = next;
      return next;
    },
    [reload, readDisk],
  );

  const say = useCallback((message: string | null, error: ErrorView | null = null) => setView((v) => ({ ...v, message, error })), []);
  const setBusy = useCallback(
    (busy: string | null, progress: ProgressEvent | null = null) => setView((v) => ({ ...v, busy, progress })),
    [],
  );
  /**
   * Runs `fn` in the same queue as the operations, without taking the status line: a build
   * and boot started after a push sees the tree the push left, and a pop pressed during the
   * build waits until the build has finished reading it.
   */
  const inTurn = useCallback(<T>(fn: () => Promise<T>): Promise<T | null> => {
    const next = chain.current.then(async () => {
      // Its turn came after q: dropped, as an operation queued behind the running one is (t57 N1).
      if (quitting.current) return null;
      turnRunning.current = true;
      try {
        return await fn();
      } finally {
        turnRunning.current = false;
      }
    });
    chain.current = next.catch(() => undefined);
    return next;
  }, []);
  /** A build, boot or ci run started with inTurn is under way: it runs as an operation does, for q. */
  const turnRunning = useRef(false);
  /** Whether an operation, or a job run in its turn, is under way now. */
  const running = useCallback(() => busyRef.current || turnRunning.current, []);

  /**
   * Quit: operations queued behind the running one are dropped (the user left before they
   * started); resolves when the running one, if any, has finished, with how many were dropped.
   */
  const quit = useCallback(async (): Promise<number> => {
    // Nothing running: the next operation in line is the one running now, as far as q goes.
    // A build or ci run under way counts as running: the keys queued behind it are dropped (t54 N1).
    if (!running() && queued.current) keepThrough.current = issued.current - queued.current;
    const dropped = issued.current - 1 - keepThrough.current;
    quitting.current = true;
    await chain.current.catch(() => undefined);
    return dropped;
  }, [running]);
  return { view, run, reload, say, setBusy, busyRef, running, keyPressed, quit, inTurn };
}

/** An operation key refused while the stack cannot be read: the reason, and that nothing was done. */
function unreadableRefusal(e: unknown): PqError {
  const why = errorView(e);
  return new PqError("refused", `nothing was done: the stack cannot be read now (${why.message})`, [
    ...why.details,
    "fix that (pq status says it too), then press the key again",
  ]);
}

function staleScreen(stack: Stack): PqError {
  let now = "";
  try {
    now = ` (the top is ${stack.top() ?? "none"})`;
  } catch {
    /* unreadable now: the reload says why */
  }
  return new PqError("refused", `the stack changed in another terminal since this screen was drawn${now}; nothing was done`, [
    "the screen shows it now: press the key again to act on it",
  ]);
}

export function describePush(
  r: {
    pushed: { name: string; cached: boolean; needsRefresh?: string; notes?: string[]; binaryWithoutData?: string[] }[];
    top: string | null;
  },
  /** Guarded patches the push passed over (as pq push names them). */
  skipped: string[] = [],
): string {
  // As pq push -a says it: where the stack is, and the guarded patches it passed over (t57 N5).
  if (!r.pushed.length)
    return `nothing to push${r.top ? `; at: ${r.top}` : ""}${skipped.length ? ` (skipping ${skipped.join(", ")}: guarded off by the selected guards)` : ""}`;
  const forced = r.pushed.filter((p) => p.needsRefresh).map((p) => p.name);
  // As the command line does: hunks that needed an offset or fuzz, and binary diffs that carried no data.
  const inexact = r.pushed.filter((p) => p.notes?.length && !p.needsRefresh);
  const notes = inexact.flatMap((p) => p.notes!.map((n) => `${p.name}: ${n}`));
  const noData = r.pushed.flatMap((p) => p.binaryWithoutData ?? []);
  return (
    `pushed ${r.pushed.length} (${r.pushed.filter((p) => p.cached).length} reused); now at: ${r.top}` +
    (forced.length ? ` (needs refresh: ${forced.join(", ")})` : "") +
    (notes.length
      ? `; ${notes.length} hunk(s) with offset or fuzz: ${notes.slice(0, 2).join("; ")}${notes.length > 2 ? "; ..." : ""}`
      : "") +
    (noData.length ? `; binary diff without data: ${noData.join(", ")}` : "") +
    (skipped.length ? `; skipped, guarded: ${skipped.join(", ")}` : "")
  );
}

export function describePop(r: { popped: string[]; top: string | null; backup?: string }): string {
  if (!r.popped.length) return "no patches applied";
  return `popped ${r.popped.length}; ${r.top ? `now at: ${r.top}` : "queue empty"}${r.backup ? ` (backup in ${r.backup})` : ""}`;
}

/**
 * The stack's state as a string that changes when another pq changes it: the applied patches,
 * the selected guards, the series file, each listed patch file (pq writes one by renaming a new
 * file into place, which gives it a new inode; an editor's save changes its time or size), and
 * the records of a stopped rebase or sync (a --continue in another terminal that changes nothing
 * else ended the rebase, and the status line told to run it for half a minute: t73 N2). Not the
 * queue directory's own time: a queue directory outside the tree holds the queue lock of every
 * command any tree runs on it, a dry run's too (t140 N3: each made the next key here refused).
 */
function signatureOf(stack: Stack): string {
  const stamp = (path: string) => {
    const st = statSync(path, { bigint: true, throwIfNoEntry: false });
    return st ? `${st.ino}:${st.mtimeNs}:${st.size}` : "-";
  };
  return [
    stack.applied().join("\n"),
    stack.selectedGuards().join(" "),
    stamp(join(stack.queueDir, "series")),
    stamp(statePaths(stack.tree).rebase),
    stamp(statePaths(stack.tree).sync),
    ...stack.series().map((e) => `${e.name}=${stamp(join(stack.queueDir, e.name))}`),
  ].join("|");
}

function safeSignature(stack: Stack): string {
  try {
    return signatureOf(stack);
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}
