/** Options pq ci and pq bisect share: how a state is judged and how far the caches are trusted. */
import type { Argv } from "yargs";
import { PqError } from "../errors.js";
import { positiveCount } from "./io.js";

/** `global`: whether a subcommand (pq ci merge) takes them too. */
export function judgingOptions<T>(y: Argv<T>, global = true) {
  return y
    .option("timeout", {
      global,
      type: "number",
      // A bare --timeout or --repeat (a value forgotten) is refused, not read as no option (t30 F5).
      requiresArg: true,
      describe:
        "seconds without a verdict before a boot counts as a hang [default: 5]; with --run, the limit of each command [default: none]",
    })
    .option("cache", {
      global,
      type: "boolean",
      default: true,
      describe: "reuse images and verdicts from the cache ($PQ_CACHE_DIR); --no-cache links and boots everything again",
    })
    .option("reuse-failures", {
      global,
      type: "boolean",
      default: false,
      describe: "also reuse remembered hang and crash verdicts (by default such boots run again)",
    })
    .option("repeat", {
      global,
      type: "number",
      requiresArg: true,
      describe:
        "boots of each kernel image this run judges [default: 1]; images whose boots disagree are flaky: shown with ~ at their worst verdict and never reused",
    });
}

/** --repeat boots kernel images: with --run, which judges each state by a command once, it is refused. */
export function refuseRepeatWithRun(args: { run?: unknown; repeat?: unknown }, command: string): void {
  if (args.run === undefined || args.repeat === undefined) return;
  throw new PqError("usage", `--repeat boots each kernel image several times; ${command} --run judges states by a command, once each`, [
    "run the command more than once inside --run (for example --run 'for i in 1 2 3; do CMD || exit 1; done')",
  ]);
}

/** The most boots --repeat asks of one image. */
const MAX_REPEAT = 100;

/** The longest --timeout: Node's timers hold 2^31-1 ms and fire at once beyond it (ci-17 F5: every boot a HANG after 1 ms). */
const MAX_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export function judgingArgs(args: { timeout?: number; cache?: boolean; reuseFailures?: boolean; repeat?: number }) {
  if (args.repeat !== undefined && !(Number.isInteger(args.repeat) && args.repeat >= 1 && args.repeat <= MAX_REPEAT)) {
    throw new PqError(
      "usage",
      `--repeat takes a whole number of boots from 1 to ${MAX_REPEAT}${Number.isNaN(args.repeat) ? "" : `, not ${String(args.repeat)}`}`,
    );
  }
  if (args.timeout !== undefined && !(Number.isFinite(args.timeout) && args.timeout > 0)) {
    throw new PqError(
      "usage",
      `--timeout takes a positive number of seconds${Number.isNaN(args.timeout) ? "" : `, not ${String(args.timeout)}`}`,
    );
  }
  if (args.timeout !== undefined && args.timeout > MAX_TIMEOUT_SECONDS) {
    throw new PqError("usage", `--timeout ${args.timeout} is longer than pq can wait (${MAX_TIMEOUT_SECONDS} seconds, about 24 days)`, [
      `give at most --timeout ${MAX_TIMEOUT_SECONDS}; pq ci --run without --timeout waits as long as the command runs`,
    ]);
  }
  return {
    timeoutMs: Math.round((args.timeout ?? 5) * 1000),
    noCache: args.cache === false,
    reuseFailures: Boolean(args.reuseFailures),
    ...(args.repeat !== undefined ? { repeat: args.repeat } : {}),
  };
}

/** Every backend the kernel model knows, in matrix order. */
export const ALL_BACKENDS = ["native", "xen", "vmi"];

/**
 * A --backends list as typed: each one the kernel model knows, none twice, at least one. A
 * typo ("xne") would otherwise be a column of skips, which reads like a kernel without it.
 */
export function backendList(value: unknown, option = "--backends"): string[] {
  const names = String(value ?? "")
    .split(",")
    .map((b) => b.trim())
    .filter(Boolean);
  const unknown = names.filter((b) => !ALL_BACKENDS.includes(b));
  if (unknown.length)
    throw new PqError("usage", `${option}: no backend named ${unknown.join(", ")}`, [`the backends are ${ALL_BACKENDS.join(", ")}`]);
  if (!names.length) throw new PqError("usage", `${option} names no backend`, [`the backends are ${ALL_BACKENDS.join(", ")}`]);
  return [...new Set(names)];
}

/** A --jobs value as typed: a positive whole number. */
export function jobCount(value: unknown, fallback?: number): number | undefined {
  return positiveCount(value === undefined ? undefined : String(value), "--jobs", fallback);
}

/** A --run value as typed: a command, not an empty string (which a shell runs as success); undefined when not given. */
export function commandText(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const cmd = String(value);
  if (!cmd.trim())
    throw new PqError("usage", "--run names no command", ["--run 'make check' judges each state by the command's exit code"]);
  return cmd;
}
