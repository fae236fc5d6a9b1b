/**
 * A user's shell command run against one state of a series (`pq bisect --run`, `pq ci --run`):
 * in the scratch tree, with the state named in its environment, its output kept for the
 * report. Only the end of the output is kept: a build of a large project prints megabytes,
 * and a report shows its last lines.
 */
import { childProcess } from "../core/child-process.js";
import { constants } from "node:os";

export interface CommandResult {
  /** The exit code; 128 + N for a command killed by signal N, as a shell reports it. */
  code: number;
  /** The signal that ended it, if one did. */
  signal?: NodeJS.Signals;
  /** It was still running at the limit and was killed. */
  timedOut: boolean;
  /** The end of its stdout and stderr, interleaved as they came. */
  output: string;
  ms: number;
}

/** How much of a command's output is kept (its end). */
const KEPT_OUTPUT = 64 * 1024;

export function runCommand(
  cmd: string,
  cwd: string,
  opts: { timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<CommandResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    // Its own process group: a command that hangs is killed with everything it started (make's
    // compilers, a test's server), not only its shell; and what it leaves running when it ends
    // is killed then, before the state is put back: a background job's late write had landed in
    // the next state's tree (t120 N1), and a signal that ended pq left it running (t120 N6).
    const child = childProcess().spawn(cmd, {
      cwd,
      shell: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...opts.env },
      detached: true,
    });
    let output = "";
    const take = (b: Buffer) => {
      output += b.toString("latin1");
      if (output.length > 2 * KEPT_OUTPUT) output = output.slice(-KEPT_OUTPUT);
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        /* gone already */
      }
    };
    // pq stopped by Ctrl-C or a kill leaves no command of its own group running.
    process.on("exit", killGroup);
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? null
        : setTimeout(() => {
            timedOut = true;
            killGroup();
          }, opts.timeoutMs);
    let settled = false;
    let grace: NodeJS.Timeout | null = null;
    let ms = 0;
    const finish = (code: number, signal?: NodeJS.Signals) => {
      if (settled) return;
      settled = true;
      killGroup();
      if (timer) clearTimeout(timer);
      if (grace) clearTimeout(grace);
      process.off("exit", killGroup);
      resolve({ code, ...(signal ? { signal } : {}), timedOut, output: output.slice(-KEPT_OUTPUT), ms: ms || Date.now() - started });
    };
    const exitCode = (code: number | null, signal: NodeJS.Signals | null) => code ?? 128 + (signal ? (constants.signals[signal] ?? 9) : 1);
    child.on("error", (e) => {
      output += `${e.message}\n`;
      finish(127);
    });
    // The verdict is the command's exit, as git bisect run takes it: a background process it
    // left (a test server, `selftest &`) that holds its output open is not waited for, nor
    // judged a hang (t51 N5: an exit 0 was killed as "still running" at the limit). The output
    // still in the pipes is read for a moment; then the leftovers of its group are killed.
    child.on("exit", (code, signal) => {
      ms = Date.now() - started;
      if (timer) clearTimeout(timer);
      grace = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(exitCode(code, signal), signal ?? undefined);
      }, 300);
    });
    child.on("close", (code, signal) => finish(exitCode(code, signal), signal ?? undefined));
  });
}

/** What a command learns of the state it judges: PQ_STATE (0 = the base tree) and PQ_PATCH (the top patch, empty at the base). */
export function stateEnv(state: number, patch: string | null): Record<string, string> {
  return { PQ_STATE: String(state), PQ_PATCH: patch ?? "" };
}
