/**
 * One error type for everything pq refuses to do. The message says what happened and
 * what to do next; `code` is stable for scripts and tests; `data` carries the facts a
 * caller (the CLI's --json, the TUI, the collaboration code) reads instead of parsing the
 * message; the CLI maps `exitCode` from the one table below. A `data.pathsFrom` (a tree's
 * top) says the details name files from there, as commands to run there: the CLI says where
 * that is when the user is in a folder below it (git apply skips files outside the folder it
 * runs in, and pq and git read paths from it).
 */
export type PqErrorCode =
  | "usage" // bad arguments
  | "refused" // the stack's state does not allow it (nothing applied, already applied, ...)
  | "no-queue" // no queue/state where one was expected
  | "exists" // a name or file already exists
  | "not-found" // a patch, file or revision does not exist
  | "locked" // another pq process holds the tree
  | "dirty" // unrefreshed changes would be lost
  | "apply-failed" // a patch does not apply
  | "conflict" // a three-way merge left conflicts
  | "needs-refresh" // the top patch was force-applied or conflicted
  | "unsafe-path" // a path leaves the tree
  | "bad-patch" // a patch file cannot be parsed
  | "unsupported" // something pq chose not to handle (e.g. symlink patches)
  | "toolchain" // no compiler/linker that targets i386
  | "build-failed" // the compiler or linker failed
  | "boot-failed" // the emulator could not boot the kernel
  | "ci-failed" // at least one CI cell failed
  | "git" // git itself failed
  | "damaged" // pq's own state (.pq/) is damaged
  | "system" // the operating system refused (a full disk, a permission, a missing directory)
  | "internal";

/** Exit codes, the only place they are defined (the README and --help list them). */
export const EXIT = {
  ok: 0,
  failures: 1,
  usage: 2,
  notFound: 3,
  locked: 4,
  dirty: 5,
  applyFailed: 6,
  badPatch: 7,
  toolchain: 8,
  buildFailed: 9,
  bootFailed: 10,
  git: 11,
  refused: 12,
  damaged: 13,
  system: 14,
  internal: 70,
} as const;

const EXIT_CODES: Record<PqErrorCode, number> = {
  usage: EXIT.usage,
  refused: EXIT.refused,
  "no-queue": EXIT.notFound,
  exists: EXIT.notFound,
  "not-found": EXIT.notFound,
  locked: EXIT.locked,
  dirty: EXIT.dirty,
  "apply-failed": EXIT.applyFailed,
  conflict: EXIT.applyFailed,
  "needs-refresh": EXIT.dirty,
  "unsafe-path": EXIT.badPatch,
  "bad-patch": EXIT.badPatch,
  unsupported: EXIT.badPatch,
  toolchain: EXIT.toolchain,
  "build-failed": EXIT.buildFailed,
  "boot-failed": EXIT.bootFailed,
  "ci-failed": EXIT.failures,
  git: EXIT.git,
  damaged: EXIT.damaged,
  system: EXIT.system,
  internal: EXIT.internal,
};

/** The exit-code legend printed by --help and kept in step with the README. */
export const EXIT_LEGEND =
  "Exit codes: 0 ok, 1 ci/bisect found failures, 2 usage, 3 unknown patch, file or revision, already existing patch, or no stack, 4 locked, " +
  "5 unrefreshed changes / needs refresh, 6 patch does not apply or conflicts, 7 bad or unsafe patch, " +
  "8 no toolchain, 9 build failed, 10 boot failed, 11 git failed, 12 refused in this state, " +
  "13 pq's state damaged (or an operation stopped half way), 14 the operating system refused (disk full, permissions), 70 internal error (a bug), " +
  "141 the reader of the output went away while the command still ran.";

export class PqError extends Error {
  readonly code: PqErrorCode;
  /** Extra lines shown under the message: what to do next, logs, hunks. */
  readonly details: string[];
  /** Structured facts about the refusal, e.g. `{ patch, file, hunk }` for apply-failed. */
  readonly data: Record<string, unknown>;
  constructor(code: PqErrorCode, message: string, details: string[] = [], data: Record<string, unknown> = {}) {
    super(message);
    this.name = "PqError";
    this.code = code;
    this.details = details;
    this.data = data;
  }
  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
  toJSON(): Record<string, unknown> {
    // The data after, but never over, what every refusal says (t120 N5: a command's exit status named exitCode hid pq's).
    const json: Record<string, unknown> = {
      error: this.code,
      message: this.message,
      details: this.details,
      exitCode: this.exitCode,
      ...this.data,
    };
    json.error = this.code;
    json.exitCode = this.exitCode;
    return json;
  }
}

/**
 * A PqError by shape, not by class: the TUI runs as a bundle of its own, and the stack it
 * drives throws the CLI bundle's PqError class, which `instanceof` of the TUI's does not know.
 */
export function isPqError(e: unknown): e is PqError {
  return e instanceof Error && typeof (e as PqError).code === "string" && Array.isArray((e as PqError).details);
}

/**
 * A git command failed. When git could not take one of its lock files (another git is
 * running, or a killed one left it), git's paragraph about it is replaced by what to do.
 */
/** Whether git's words say it may not write here (its objects, a ref's lock, a reflog, a temporary file): the system's refusal, not git's failure. */
export function gitWriteRefused(output: string): boolean {
  return /insufficient permission|Permission denied|unable to create temporary file|cannot lock ref|unable to append/i.test(output);
}

export function gitFailed(what: string, output: string, details: string[] = []): PqError {
  const text = output.trim();
  const lock = /Unable to create '([^']+\.lock)': File exists/.exec(text);
  if (!lock) return new PqError("git", `${what} failed: ${text}`, details, { output: text });
  const firstLine = text.split("\n")[0];
  return new PqError(
    "git",
    `${what} failed: git's lock file ${lock[1]} exists (${firstLine.replace(/^(fatal|error): /, "")})`,
    [
      "another git is working in that repository (an editor, an IDE, a prompt): wait for it, then run the pq command again",
      `if no git is running, a killed one left the lock: remove ${lock[1]}, then run the pq command again`,
    ],
    { output: text, lock: lock[1] },
  );
}
