import { existsSync } from "node:fs";
import { basename, dirname } from "node:path";

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
  // A file pq was making (a lock, a temporary copy, a pack: NAME.PID, NAME.tmp-PID) in a directory
  // it may not write: the directory is what to fix, not a file that never existed (t93 N1).
  if ((err.code === "EACCES" || err.code === "EPERM") && err.path && !existsSync(err.path) && existsSync(dirname(err.path))) {
    const dir = dirname(err.path);
    return {
      message: `${dir} is not writable for you (permission denied, making ${basename(err.path)} there)`,
      next: `make ${dir} writable for you (chmod u+w, by its owner if that is not you)${/[\\/]\.cache[\\/]pq|pq-cache/.test(dir) || process.env.PQ_CACHE_DIR ? ", or set PQ_CACHE_DIR to a folder of your own" : ""}, then run the command again`,
    };
  }
  // Node's message names the path already: it is said once.
  const text = err.message.replace(/^[A-Z]+: /, "");
  const where = err.path && !text.includes(err.path) ? ` (${err.path})` : "";
  return {
    message: `${err.code === "ENAMETOOLONG" ? "a file name is too long" : text}${where}`,
    next: NEXT_STEP[err.code] ?? "fix what the system refused, then run the command again",
  };
}
