/**
 * An operating system's refusal (ENOSPC, EACCES, EISDIR, ...) as the user's to fix, not a bug:
 * which file and why, and what to do, for the CLI's report and the TUI's status line alike.
 */
export interface SystemRefusal {
  message: string;
  next: string;
}

/** What to do about the operating system's common refusals. */
const NEXT_STEP: Record<string, string> = {
  ENOSPC: "free some space on that file system, then run the command again",
  EDQUOT: "free some space (you are over your disk quota), then run the command again",
  EACCES: "check the permissions of that file or directory, then run the command again",
  EPERM: "check the permissions of that file or directory, then run the command again",
  EROFS: "the file system is read-only: remount it writable or work in a copy, then run the command again",
  EISDIR:
    "a directory stands where pq reads or writes a file (a series entry, a file named like a patch): move it away, then run the command again",
  ENOTDIR: "a file stands where a directory is needed on that path: move it away, then run the command again",
  EMFILE: "too many open files: raise the limit (ulimit -n), then run the command again",
  ENFILE: "the system has too many open files: close some programs, then run the command again",
  ENAMETOOLONG: "use shorter patch or file names",
};

/** The refusal an error of the system's is, or null for any other error. */
export function systemRefusal(e: unknown): SystemRefusal | null {
  const err = e as NodeJS.ErrnoException;
  if (!err || typeof err.code !== "string" || !/^E[A-Z]+$/.test(err.code)) return null;
  const where = err.path ? ` (${err.path})` : "";
  return {
    message: `${err.code === "ENAMETOOLONG" ? "a file name is too long" : err.message.replace(/^[A-Z]+: /, "")}${where}`,
    next: NEXT_STEP[err.code] ?? "fix what the system refused, then run the command again",
  };
}
