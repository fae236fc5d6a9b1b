/**
 * One error type for everything pq refuses to do. The message says what happened and
 * what to do next; `code` is stable for scripts and tests; the CLI maps `exitCode`.
 */
export type PqErrorCode =
  | "usage"            // bad arguments
  | "no-queue"         // no queue/state where one was expected
  | "exists"           // a name or file already exists
  | "not-found"        // a patch, file or revision does not exist
  | "locked"           // another pq process holds the tree
  | "dirty"            // unrefreshed changes would be lost
  | "apply-failed"     // a patch does not apply
  | "conflict"         // a three-way merge left conflicts
  | "needs-refresh"    // the top patch was force-applied or conflicted
  | "unsafe-path"      // a path leaves the tree
  | "bad-patch"        // a patch file cannot be parsed
  | "unsupported"      // something pq chose not to handle (e.g. binary patches)
  | "toolchain"        // no compiler/linker that targets i386
  | "build-failed"     // the compiler or linker failed
  | "boot-failed"      // the emulator could not boot the kernel
  | "ci-failed"        // at least one CI cell failed
  | "git"              // git itself failed
  | "internal";

const EXIT_CODES: Record<PqErrorCode, number> = {
  usage: 2,
  "no-queue": 3,
  exists: 3,
  "not-found": 3,
  locked: 4,
  dirty: 5,
  "apply-failed": 6,
  conflict: 6,
  "needs-refresh": 5,
  "unsafe-path": 7,
  "bad-patch": 7,
  unsupported: 7,
  toolchain: 8,
  "build-failed": 9,
  "boot-failed": 10,
  "ci-failed": 1,
  git: 11,
  internal: 70,
};

export class PqError extends Error {
  readonly code: PqErrorCode;
  /** Extra lines shown under the message: what to do next, logs, hunks. */
  readonly details: string[];
  constructor(code: PqErrorCode, message: string, details: string[] = []) {
    super(message);
    this.name = "PqError";
    this.code = code;
    this.details = details;
  }
  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

export function isPqError(e: unknown): e is PqError {
  return e instanceof PqError;
}
