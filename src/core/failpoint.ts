/**
 * Fault injection for the crash tests: PQ_FAILPOINT=name kills pq with SIGKILL at that point;
 * PQ_FAILPOINT=name:eio fails there with an I/O error instead, as a full disk would (name:eio-once: the first time only);
 * PQ_FAILPOINT=name:sh runs the shell command PQ_FAILPOINT_SH there and goes on.
 */
import { childProcess } from "./child-process.js";

const failedOnce = new Set<string>();

export function failpoint(name: string): void {
  // Read once per call: unset (every real run), a string compare and nothing else.
  const set = process.env.PQ_FAILPOINT;
  if (set === undefined || !set.startsWith(name)) return;
  if (set === name) process.kill(process.pid, "SIGKILL");
  // Another process at work meanwhile (an editor's autosave): PQ_FAILPOINT_SH runs there.
  if (set === `${name}:sh`) childProcess().execSync(process.env.PQ_FAILPOINT_SH ?? "true", { cwd: process.cwd(), stdio: "ignore" });
  if (set === `${name}:eio`) throw Object.assign(new Error(`EIO: i/o error, write (failpoint ${name})`), { code: "EIO" });
  // Once per process: a refusal the same process's putting back does not meet again.
  if (set === `${name}:eio-once` && !failedOnce.has(name)) {
    failedOnce.add(name);
    throw Object.assign(new Error(`EIO: i/o error, write (failpoint ${name})`), { code: "EIO" });
  }
}
