import { fstatSync, writeSync } from "node:fs";
import { EXIT, PqError } from "../errors.js";
import { terminalText } from "../core/cells.js";
import type { Argv, CommandModule } from "yargs";

/** Where a command writes. Tests pass their own to capture output in-process. */
export interface CliIO {
  out(text: string): void;
  /**
   * Patch text as the bytes it holds: pq reads files as latin1 strings, one character per byte,
   * and writes them back as those bytes. Decoding them as UTF-8 first turned a byte that is not
   * UTF-8 (a latin1 source file) into U+FFFD, so `pq diff > fix.patch` no longer applied.
   */
  outBytes(text: string): void;
  err(text: string): void;
  /**
   * Bytes pq coloured itself, their text already made safe for a terminal (see terminalText):
   * written as they are, where out and outBytes show every control character. Absent: outBytes.
   */
  outStyledBytes?(text: string): void;
  /** Is stdout a terminal (progress bars, colour)? */
  isTTY: boolean;
  cwd: string;
}

export const processIO = (): CliIO => {
  const line = (text: string) => (text.endsWith("\n") ? text : text + "\n");
  // A terminal gets Node's stream (the progress bar and the TUI write there too); a file, a
  // pipe or /dev/null is written directly, see plainFd.
  const outPlain = plainFd(1);
  const errPlain = plainFd(2);
  // What reaches a terminal shows its control characters instead of obeying them (see
  // terminalText); a file or a pipe gets the bytes as they are, as git writes them.
  const outTerminal = !outPlain && Boolean(process.stdout.isTTY);
  const errTerminal = !errPlain && Boolean(process.stderr.isTTY);
  return {
    out: (text) => (outPlain ? writeFd(1, line(text)) : process.stdout.write(outTerminal ? terminalText(line(text)) : line(text))),
    outBytes: (text) =>
      outPlain
        ? writeFd(1, Buffer.from(line(text), "latin1"))
        : process.stdout.write(Buffer.from(outTerminal ? terminalText(line(text), true) : line(text), "latin1")),
    err: (text) => (errPlain ? writeFd(2, line(text)) : process.stderr.write(errTerminal ? terminalText(line(text)) : line(text))),
    outStyledBytes: (text) =>
      outPlain ? writeFd(1, Buffer.from(line(text), "latin1")) : process.stdout.write(Buffer.from(line(text), "latin1")),
    isTTY: !outPlain && Boolean(process.stdout.isTTY),
    cwd: currentDirectory(),
  };
};

/**
 * The process's directory, or "" when it is gone (a pop removed the directory the shell was
 * in): main then says so, where process.cwd() ended pq with Node's stack trace (t37 N6).
 */
function currentDirectory(): string {
  try {
    return process.cwd();
  } catch {
    return "";
  }
}

/**
 * Whether a standard stream's descriptor is surely not a terminal: not a character device, or
 * (Linux) one of the memory devices, /dev/null among them. Such a stream is written with
 * writeSync: making Node's process.stdout loads its stream modules (and for a pipe the
 * network ones), about 2 ms of every command here, for writes that Node makes synchronous on
 * Linux anyway.
 */
function plainFd(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    if (!st.isCharacterDevice()) return true;
    return process.platform === "linux" && st.rdev >> 8 === 1;
  } catch {
    return false; // closed or odd: Node's stream says what it is
  }
}

/** Ends a wait of one millisecond (Atomics.wait needs a shared word to wait on). */
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Said under a failed write of the output (exit 14 otherwise reads "nothing was changed"); bin/pq.cjs says the same. */
const OUTPUT_LOST = "pq stops here; pq status shows where the stack is (the next pq command completes an operation left half done)";

/** Descriptors whose write failed: later output to them is dropped while pq winds down. */
const failedFds = new Set<number>();

/** What git and other tools end with when the reader of their output goes (killed by SIGPIPE: 128 + 13). */
const READER_GONE = 141;

/**
 * All of `data` to the descriptor, as Node's stream would, waiting on a descriptor another
 * process made non-blocking. A failed stdout ends pq at the next turn of the event loop (as a
 * stream's error event came), so what runs on synchronously (an operation's last writes, a
 * refusal said on stderr) is not cut short: a command that ended by then keeps its own exit
 * code (pq log | head: 0; a refused push: 6), save that output lost to a full disk makes a
 * success 14; one still running (pq log -p | head) ends with 141 when the reader went, as
 * git does, and 14 for a full disk, never 0. A failed stderr is only dropped, so that a
 * refusal's exit code still reaches the caller.
 */
function writeFd(fd: number, data: string | Buffer): void {
  if (failedFds.has(fd)) return;
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  for (let done = 0; done < bytes.length;) {
    try {
      done += writeSync(fd, bytes, done);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") {
        Atomics.wait(pause, 0, 0, 1);
        continue;
      }
      failedFds.add(fd);
      // stderr gone: nothing to say it on, and the command's own exit code still tells.
      if (fd === 2) return;
      const readerGone = code === "EPIPE";
      if (!readerGone && !failedFds.has(2)) {
        try {
          writeSync(2, `pq: cannot write the output: ${(e as Error).message}\n  ${OUTPUT_LOST}\n`);
        } catch {
          /* stderr is gone too */
        }
      }
      setImmediate(() => {
        // The launcher sets the command's code when it ends; undefined: it is still running.
        const ended = process.exitCode === undefined ? undefined : Number(process.exitCode);
        if (readerGone) process.exit(ended ?? READER_GONE);
        process.exit(ended === undefined || ended === 0 ? EXIT.system : ended);
      });
      return;
    }
  }
}

/** Options every command understands. */
export interface GlobalOptions {
  tree?: string;
  queue?: string;
  json?: boolean;
}

export interface CommandSpec<A> {
  command: string | string[];
  describe: string;
  builder: (y: Argv<GlobalOptions>) => Argv<A>;
  /** Returns the exit code (0 when omitted). Throw PqError for refusals. */
  run: (args: A & GlobalOptions, io: CliIO) => Promise<number | void>;
}

/** The io and exit code of the command being run; set by main() for each invocation. */
export const invocation: { io: CliIO; exitCode: number; command: string; argv: string[] } = {
  io: processIO(),
  exitCode: 0,
  command: "pq",
  argv: [],
};

/** Whether the command line has a lone `-` (standard input or output, by convention), which the option parser drops. */
export function namesStdio(): boolean {
  const end = invocation.argv.indexOf("--");
  return (end === -1 ? invocation.argv : invocation.argv.slice(0, end)).includes("-");
}

export function defineCommand<A>(spec: CommandSpec<A>): CommandModule<GlobalOptions, A> {
  return {
    command: spec.command,
    describe: spec.describe,
    builder: spec.builder as unknown as CommandModule<GlobalOptions, A>["builder"],
    handler: async (args) => {
      const code = await spec.run(args as unknown as A & GlobalOptions, invocation.io);
      invocation.exitCode = code ?? 0;
    },
  };
}

/** A count the user typed ("3"), or `fallback` when none was given; anything else is refused as typed. */
export function positiveCount(value: string | number | undefined, what: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const text = String(value);
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new PqError("usage", `${what} takes a positive whole number, not ${JSON.stringify(text)}`);
  return Number(text);
}

/**
 * Options of a name or a place given an empty value (--dir "", -n "", a bare --dir): refused by
 * name, where the default had been taken without a word (t82 N3, t89 N1).
 */
export function refuseEmptyOptions<A extends object>(args: A, options: readonly (keyof A & string)[]): void {
  for (const option of options) {
    if ((args as Record<string, unknown>)[option] === "")
      throw new PqError("usage", `--${option} needs a value, and its value is empty`, [
        `give one, or leave --${option} out for the default`,
      ]);
  }
}

/** An author the user typed: "Name <address>" on one line, as a From: line and git need it. */
export function authorArg(value: string | undefined, option: string): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[^<>\r\n]*[^<>\s][^<>\r\n]* <[^<>\s]+>$/.test(value)) {
    throw new PqError("usage", `${option} takes an author as 'Name <address>', not ${JSON.stringify(value)}`, [
      `e.g. ${option} 'Ann Example <ann@example.org>'`,
    ]);
  }
  return value;
}

/** A list of patch names or files as typed: one named twice is refused by name (fold p2 p2 read as a failed apply). */
export function refuseNamedTwice(names: readonly string[], what = "patch"): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new PqError("usage", `${what} ${name} is named twice`, [`name each ${what} once`]);
    seen.add(name);
  }
}
