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
import { readHeadCommit } from "../git/head.js";
import { readText, sha1 } from "../tree/files.js";
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
  /** The state (see stateChain) each build + boot badge was earned on: it holds while that stays. */
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
      // The tree is built as it is: with unrefreshed edits, the verdict is the tree's, not the
      // top patch's state, and it gets no badge (t155 N3: a patch that panics kept the `n+` of
      // an edit that undid the panic, after the edit was reverted).
      // Untracked files too: the build reads them, the patch holds none (t157 N8).
      const edited = async () => {
        const status = await stack.status();
        return [...status.pending, ...status.untracked];
      };
      const editsBefore = top ? await edited() : [];
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
      const edits = top ? [...new Set([...editsBefore, ...(await edited())])] : [];
      if (top && !edits.length) {
        bootChains.current.set(top, stateChain(stack, top) ?? "");
        onBadges((b) => new Map(b).set(top, verdicts));
      }
      const summary = BACKENDS.map((b) => `${b} ${verdicts[b]}`).join(", ");
      // Said first: the status line is cut at the terminal's width.
      const unbadged = edits.length
        ? `built with unrefreshed edits or untracked files (${edits.slice(0, 3).join(", ")}${edits.length > 3 ? ", ..." : ""}), no badge: `
        : "";
      finish(`done: ${unbadged}${summary}`);
      return `${top ?? "base"}: ${unbadged}${summary}`;
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
 * What the state of patch `name` is made of: HEAD, and the patches the series pushes up to it
 * (by name and file bytes), as a pq ci state is. A build + boot badge holds while it stays: a
 * pop and a push back keep it (t155 N4: `b o` lost it), an edited, moved or newly inserted
 * patch below it ends it. Null when the series does not push `name`.
 */
export function stateChain(stack: Stack, name: string): string | null {
  const order = stack.pushable();
  const at = order.indexOf(name);
  if (at === -1) return null;
  return [readHeadCommit(stack.tree) ?? "", ...order.slice(0, at + 1).map((n) => `${n}\0${sha1(readText(stack.patchPath(n)) ?? "")}`)].join(
    "\n",
  );
}
