/**
 * Programs started from a small helper process instead of from pq itself.
 *
 * Node 20 (libuv 1.46) starts a program with fork(), which copies the page tables of the whole
 * process first. During `pq ci` that process holds the boot workers' emulators, 350-450 MB,
 * and each of a run's ~440 compiler starts cost 15-25 ms of kernel time before gcc ran (fork
 * and the child's teardown of the copy at exec: 16% of `npm start`'s CPU, perf, December 7),
 * with pq's main thread stopped meanwhile. A Node process that does nothing else is ~40 MB, and
 * forks in 1-3 ms. Its own start (~30-40 ms) is paid once per command, on the first program
 * started while pq is large (runProgram; a small pq starts its programs itself).
 *
 * The helper ends when pq does (its channel closes) and holds pq's event loop only while a
 * program it started is running.
 */
import type { ChildProcess } from "node:child_process";
import { PqError } from "../errors.js";
import { childProcess } from "./child-process.js";

export interface Started {
  /** The exit code; 127 when the program could not be started, 1 when a signal ended it. */
  code: number;
  /** The signal that ended it (SIGKILL from the out-of-memory killer, a timeout's SIGTERM), if one did. */
  signal?: NodeJS.Signals;
  /** Standard output as latin1 (byte for byte). */
  stdout: string;
  /** Standard error as UTF-8 text. */
  stderr: string;
}

interface Request {
  id: number;
  cmd: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/**
 * The helper. Output goes back as bytes through Node's "advanced" (structured clone) channel:
 * the JSON one escaped every control byte to six characters, and a 150 MB preprocessor output
 * no longer fit in a string (t136 N1). A failure of its own is said in one line, never as
 * Node's stack on pq's standard error (which a gate sends to the pusher).
 */
const HELPER_SOURCE = `
const { spawn } = require("node:child_process");
const fail = (e) => {
  try { process.stderr.write("pq's process starter failed: " + String((e && e.message) || e) + "\\n"); } catch {}
  process.exit(70);
};
process.on("uncaughtException", fail);
// Each program runs in a process group of its own (a compile is gcc, cc1 and as): when pq goes,
// its channel closes (a SIGKILL too), and what it left running is ended with it.
const running = new Set();
const end = (code) => {
  for (const child of running) try { process.kill(-child.pid, "SIGKILL"); } catch {}
  process.exit(code);
};
process.on("disconnect", () => end(0));
for (const [signal, number] of [["SIGINT", 2], ["SIGTERM", 15], ["SIGHUP", 1]]) process.on(signal, () => end(128 + number));
process.on("message", (m) => {
  let answered = false;
  const answer = (reply) => {
    if (answered) return;
    answered = true;
    try {
      process.send({ id: m.id, ...reply });
    } catch (e) {
      process.send({ id: m.id, failed: "its output could not be passed back to pq: " + String(e && e.message) });
    }
  };
  let child;
  try {
    child = spawn(m.cmd, m.args, { cwd: m.cwd, env: m.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    running.add(child);
  } catch (e) {
    answer({ code: 127, stdout: Buffer.alloc(0), stderr: Buffer.from(String(e && e.message)) });
    return;
  }
  const out = [];
  const err = [];
  child.stdout.on("data", (b) => out.push(b));
  child.stderr.on("data", (b) => err.push(b));
  child.on("error", (e) => (running.delete(child), answer({ code: 127, stdout: Buffer.alloc(0), stderr: Buffer.from(String(e.message)) })));
  child.on("close", (code, signal) => {
    running.delete(child);
    answer({ code: code ?? 1, ...(signal ? { signal } : {}), stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
  });
});
`;

interface Reply {
  id: number;
  code?: number;
  signal?: NodeJS.Signals;
  stdout?: Uint8Array;
  stderr?: Uint8Array;
  /** The helper could not pass the answer back. */
  failed?: string;
}

interface Waiter {
  cmd: string;
  resolve: (r: Started) => void;
  reject: (e: Error) => void;
}

let helper: ChildProcess | null = null;
const waiting = new Map<number, Waiter>();
let nextId = 1;

/** pq's event loop waits for the helper only while it runs something for pq. */
function holdLoop(hold: boolean): void {
  const channel = helper?.channel as { ref(): void; unref(): void } | undefined;
  if (hold) {
    helper?.ref();
    channel?.ref();
  } else {
    helper?.unref();
    channel?.unref();
  }
}

/** A failure of pq's own, not of the program or of the tree it builds (a build is not called failed for it). */
function starterFailed(cmd: string, why: string): PqError {
  return new PqError("internal", `pq could not run ${cmd}: ${why}`, [
    "this is a bug in pq, not in the tree: run the command again, and report it if it fails the same way",
  ]);
}

const bytes = (b: Uint8Array | undefined) => (b ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : Buffer.alloc(0));

function answered(m: Reply): void {
  const waiter = waiting.get(m.id);
  waiting.delete(m.id);
  if (!waiting.size) holdLoop(false);
  if (!waiter) return;
  if (m.failed !== undefined) return waiter.reject(starterFailed(waiter.cmd, m.failed));
  const stdout = bytes(m.stdout);
  try {
    waiter.resolve({
      code: m.code ?? 1,
      ...(m.signal ? { signal: m.signal } : {}),
      stdout: stdout.toString("latin1"),
      stderr: bytes(m.stderr).toString("utf8"),
    });
  } catch {
    // Past the longest string V8 makes (~512 MB): what pq read it into before this helper too.
    waiter.reject(
      new PqError("system", `${waiter.cmd} wrote ${stdout.length} bytes, more than pq can read as one text`, [
        "make the source smaller (a preprocessor output this large is usually a header included without a guard)",
      ]),
    );
  }
}

function startHelper(): ChildProcess {
  // The helper's own Node starts without what would slow or change it (the programs it starts get pq's whole environment).
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_OPTIONS;
  const started = childProcess().spawn(process.execPath, ["-e", HELPER_SOURCE], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
    serialization: "advanced",
    env,
  });
  started.on("message", answered);
  const ended = () => {
    if (helper !== started) return;
    helper = null;
    // What it was running is lost with it (a signal to the process group ends pq too).
    for (const waiter of waiting.values()) waiter.reject(starterFailed(waiter.cmd, "its process starter ended before the program did"));
    waiting.clear();
  };
  started.on("exit", ended);
  started.on("error", ended);
  return started;
}

/**
 * Above this much memory pq starts programs from the helper; below it, itself. A fork costs
 * ~0.07 ms per MB pq holds (2.9 ms bare, 11.4 ms at +100 MB), the helper ~40 ms to start plus
 * a copy of each output: a `pq build` (~100 MB) was 45-200 ms slower through it (t135 N4),
 * `pq ci` once its boot workers hold their emulators (350-450 MB) seconds faster.
 */
const HELPER_FROM_BYTES = 200 * 1024 * 1024;

/**
 * A compile or link: from the helper once pq is large or the helper runs already, else started
 * by pq itself. Both collect the output the same way; a program that cannot be started answers 127.
 */
export function runProgram(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Started> {
  if (helper || process.memoryUsage.rss() >= HELPER_FROM_BYTES) return runFromHelper(cmd, args, cwd, env);
  return new Promise((resolve) => {
    const child = childProcess().spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => resolve({ code: 127, stdout: "", stderr: String(e.message) }));
    child.on("close", (code, signal) =>
      resolve({
        code: code ?? 1,
        ...(signal ? { signal } : {}),
        stdout: Buffer.concat(out).toString("latin1"),
        stderr: Buffer.concat(err).toString("utf8"),
      }),
    );
  });
}

/**
 * Runs `cmd` with `args` in `cwd` and `env`, its standard input closed, and collects its output
 * (what build.ts's compiles and links need; not for programs that talk to a terminal). A
 * program that cannot be started answers 127; a failure of the helper itself is a PqError.
 */
export function runFromHelper(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Started> {
  helper ??= startHelper();
  const request: Request = { id: nextId++, cmd, args, cwd, env };
  return new Promise((resolve, reject) => {
    waiting.set(request.id, { cmd, resolve, reject });
    holdLoop(true);
    helper!.send(request);
  });
}

/**
 * Ends the helper, if one was started, and waits for it (a second at most, then it is killed):
 * the CPU of what it ran is then counted as pq's by whoever measures pq (GNU time, a CI job).
 */
export async function stopProcessStarter(): Promise<void> {
  const running = helper;
  if (!running) return;
  holdLoop(false);
  helper = null;
  // Nothing should be running at a command's end; whatever is, is not waited for.
  for (const waiter of waiting.values())
    waiter.reject(starterFailed(waiter.cmd, "pq's process starter was stopped before the program ended"));
  waiting.clear();
  const ended = new Promise<void>((resolve) => {
    if (running.exitCode !== null || running.signalCode !== null) resolve();
    else running.once("exit", () => resolve());
  });
  running.ref();
  if (running.connected) running.disconnect();
  const timer = setTimeout(() => running.kill("SIGKILL"), 1000);
  await ended;
  clearTimeout(timer);
}
