/**
 * Long runs the TUI starts and watches: build + boot of the current state (progress line,
 * serial log streaming in) and ci over the series (cells filling in). They run on the
 * event loop like everything else (the compiler is a child process, v86 yields between
 * ticks), and their output reaches React at most every 50 ms, so the screen stays live.
 */
import { useCallback, useRef, useState } from "react";
import { buildTree, formatDiagnostic, requireBuildDescription } from "../build/index.js";
import { runCi } from "../ci/run.js";
import { rememberLastRun } from "../ci/last-run.js";
import type { Cell } from "../ci/report.js";
import { bootKernel } from "../emulator/index.js";
import { stackBlame } from "../queue/blame.js";
import type { Stack } from "../queue/stack.js";
import { PqError } from "../errors.js";
import { errorView, type ErrorView } from "./error-view.js";
import { badgesFromCells, type Badges } from "./integrations.js";

/** pq boot --all's backends. */
export const BACKENDS = ["native", "xen", "vmi"];
const FLUSH_MS = 50;
const LOG_KEEP = 400;

export interface Job {
  kind: "boot" | "ci";
  title: string;
  progress: string;
  running: boolean;
  log: string[];
  cells: Cell[];
  states: { index: number; patch: string | null }[];
  error: ErrorView | null;
}

export function useJobs(stack: Stack, onBadges: (update: (b: Badges) => Badges) => void) {
  const [job, setJob] = useState<Job | null>(null);
  const running = useRef(false);
  /** The applied stack (names and patch hashes) each build + boot badge was earned on: it holds while that stays. */
  const bootChains = useRef(new Map<string, string>());
  const pending = useRef<{ log: string; progress?: string; cells: Cell[] }>({ log: "", cells: [] });
  const timer = useRef<NodeJS.Timeout | null>(null);

  const flush = useCallback(() => {
    timer.current = null;
    const p = pending.current;
    pending.current = { log: "", cells: [] };
    setJob((j) => {
      if (!j) return j;
      const lines = [...j.log];
      if (p.log) {
        const parts = p.log.replace(/\r/g, "").split("\n");
        if (lines.length) lines[lines.length - 1] += parts.shift();
        lines.push(...parts);
      }
      return {
        ...j,
        log: lines.slice(-LOG_KEEP),
        progress: p.progress ?? j.progress,
        cells: p.cells.length ? [...j.cells, ...p.cells] : j.cells,
      };
    });
  }, []);
  const later = useCallback(() => {
    timer.current ??= setTimeout(flush, FLUSH_MS);
  }, [flush]);
  const append = useCallback((text: string) => ((pending.current.log += text), later()), [later]);
  const progress = useCallback((text: string) => ((pending.current.progress = text), later()), [later]);
  const finish = useCallback(
    (progressText: string, error: ErrorView | null = null) => {
      if (timer.current) clearTimeout(timer.current);
      flush();
      setJob((j) => (j ? { ...j, running: false, progress: progressText, error } : j));
      running.current = false;
    },
    [flush],
  );

  const start = (kind: Job["kind"], title: string): boolean => {
    if (running.current) return false;
    running.current = true;
    pending.current = { log: "", cells: [] };
    setJob({ kind, title, progress: "starting…", running: true, log: [""], cells: [], states: [], error: null });
    return true;
  };

  const buildAndBoot = useCallback(async (): Promise<string | null> => {
    const top = stack.top();
    if (!start("boot", `build + boot of ${top ?? "the base tree"}`)) return null;
    try {
      requireBuildDescription(stack.tree);
      const built = await buildTree({
        tree: stack.tree,
        blame: await stackBlame(stack),
        onEvent: (e) => progress(`build: ${e.current ? `${e.current}/${e.total} ` : ""}${e.message}`),
      });
      if (!built.ok) {
        const errors = built.diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic);
        append(errors.join("\n") || built.log);
        const view = {
          code: "build-failed",
          message: `the build failed (${errors.length} error(s)); the log pane (l) has them`,
          details: errors.slice(0, 2),
        };
        finish(`build failed (${errors.length} error(s))`, view);
        throw new PqError("build-failed", view.message, view.details);
      }
      append(`built ${built.kernelPath} (${built.compiled} compiled, ${built.cached} from cache, ${built.ms} ms)\n`);
      const verdicts: Record<string, Cell["outcome"]> = {};
      for (const backend of BACKENDS) {
        progress(`booting ${backend}…`);
        append(`--- ${backend}\n`);
        const r = await bootKernel(built.kernelPath!, { backend, onSerial: append });
        verdicts[backend] = r.verdict;
        append(`\n=> ${backend} ${r.verdict.toUpperCase()} in ${r.msToVerdict} ms${r.reason ? `: ${r.reason}` : ""}\n`);
      }
      if (top) {
        bootChains.current.set(top, appliedChain(stack, top) ?? "");
        onBadges((b) => new Map(b).set(top, verdicts));
      }
      const summary = BACKENDS.map((b) => `${b} ${verdicts[b]}`).join(", ");
      finish(`done: ${summary}`);
      return `${top ?? "base"}: ${summary}`;
    } catch (e) {
      if (running.current) {
        const view = errorView(e);
        finish(`stopped: ${view.message}`, view);
      }
      throw e;
    }
  }, [stack, append, progress, finish, onBadges]);

  const ci = useCallback(async (): Promise<string | null> => {
    if (!start("ci", "ci over the series")) return null;
    try {
      // The states runCi walks (as pq ci does here: the tree's own queue, in a scratch copy):
      // the base, then each patch the selected guards let through. Read inside the try: a series
      // that cannot be read ends the job (it had stayed "running" for the session: t57 N14).
      const states = [{ index: 0, patch: null as string | null }, ...stack.pushable().map((patch, i) => ({ index: i + 1, patch }))];
      setJob((j) => (j ? { ...j, states } : j));
      const report = await runCi({
        tree: stack.tree,
        backends: BACKENDS,
        jobs: 2,
        select: stack.selectedGuards(),
        onEvent: (e) => {
          progress(`${e.current ?? 0}/${e.total ?? "?"} ${e.message}`);
          const cell = e.data?.cell as Cell | undefined;
          if (cell) {
            pending.current.cells.push(cell);
            onBadges((b) => badgesFromCells(b, states, [cell]));
          }
        },
      });
      const failed = report.cells.filter((c) => c.outcome !== "pass" && c.outcome !== "skip").length;
      // Kept as pq ci keeps it: the badges outlive this session, and go when a patch under them changes.
      try {
        rememberLastRun(stack.tree, undefined, report);
      } catch {
        /* a read-only .pq only costs the badges of the next session */
      }
      onBadges((b) => badgesFromCells(b, report.states, report.cells));
      finish(`ci done: ${report.cells.length} cells, ${failed} failing`);
      return `ci: ${report.cells.length} cells, ${failed} failing`;
    } catch (e) {
      const view = errorView(e);
      finish(`stopped: ${view.message}`, view);
      throw e;
    }
  }, [stack, progress, finish, onBadges]);

  return { job, buildAndBoot, ci, running, bootChains };
}

/**
 * The applied patches up to `top` (by name and file hash), what that state's verdict depends on
 * in the queue; null when `top` is not applied.
 */
export function appliedChain(stack: Stack, top: string): string | null {
  const records = stack.appliedRecords();
  const at = records.findIndex((r) => r.name === top);
  if (at === -1) return null;
  return records
    .slice(0, at + 1)
    .map((r) => `${r.name}\0${r.hash}`)
    .join("\n");
}
