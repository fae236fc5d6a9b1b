/**
 * The check before the journal that the operation may write what it writes: the tree's files,
 * the queue's, pq's own files written after the tree, and git's lock files (see refuseUnwritable).
 */
import { accessSync, constants, existsSync, lstatSync, statSync, type Stats } from "node:fs";
import { dirname, join, relative } from "node:path";
import { PqError } from "../errors.js";
import { execBitsTrusted, gitDirOf, refFile } from "../git/head.js";
import type { OplogEntry } from "./oplog.js";
import { statePaths, versionExec } from "./state.js";
import { leadsOutside, underRoot } from "../tree/paths.js";

/**
 * A file the operation cannot write or remove for want of permission (or on a read-only file
 * system) is refused here, before the journal exists: found while the tree is written, it
 * left the operation half done, and every command stopped on it until someone changed the
 * permission (verify-10 Y2). Asked of the system (access(2)) once per directory: a file in a
 * directory pq may write in can always be written (in place, or removed and made again), so
 * the file itself is looked at only in a directory it may not write in.
 */
export function refuseUnwritable(ctx: { tree: string; queueDir: string }, entry: OplogEntry): void {
  const writable = new Map<string, boolean>();
  /** May pq make and remove names in `dir` (or, if it is not there yet, in the directory it would be made in)? */
  const canWriteIn = (dir: string): boolean => {
    let known = writable.get(dir);
    if (known === undefined) {
      // The slash: a file there (one the operation removes to make the directory) answers ENOTDIR, as a missing directory answers ENOENT.
      const answer = accessAnswer(`${dir}/`);
      const up = dirname(dir);
      known = (answer === "ENOENT" || answer === "ENOTDIR") && up !== dir ? canWriteIn(up) : answer === "ok";
      writable.set(dir, known);
    }
    return known;
  };
  const euid = process.geteuid?.() ?? 0;
  const sticky = new Map<string, boolean>();
  /**
   * A sticky directory (chmod +t, as /tmp) someone else owns: access(2) says it is writable,
   * yet only a file's owner may remove or replace the file (root may always).
   */
  const othersSticky = (dir: string): boolean => {
    let known = sticky.get(dir);
    if (known === undefined) {
      const st = euid === 0 ? undefined : statSync(dir, { throwIfNoEntry: false });
      known = st !== undefined && (st.mode & 0o1000) !== 0 && st.uid !== euid;
      sticky.set(dir, known);
    }
    return known;
  };
  /** A file of someone else's in such a directory, which pq could not remove or replace. */
  const ownedByOther = (full: string): boolean => {
    if (!othersSticky(dirname(full))) return false;
    const st = lstatSync(full, { throwIfNoEntry: false });
    return st !== undefined && st.uid !== euid;
  };
  const stickyWhy = "a sticky directory, where only a file's owner may remove or replace it";
  const refuse = (path: string, what: string, dir: string, shown: string, why?: string) => {
    // Asked of the directory that is there (a new one's parent), or of the file itself (.pq/oplog).
    const readOnly = accessAnswer(existingAncestor(dir)) === "EROFS";
    return new PqError(
      "system",
      `${entry.op} would ${what} ${path}, but ${shown} is not writable (${why ?? (readOnly ? "a read-only file system" : "permission denied")}); nothing was changed`,
      [
        why === stickyWhy
          ? `the file's owner can give it to you (chown) or change it; then run the command again`
          : readOnly
            ? `mount that file system read-write (or work in a copy of the tree elsewhere), then run the command again`
            : `make ${shown} writable for you (chmod or chown, by its owner if that is not you), then run the command again`,
      ],
      { file: path, dir: shown },
    );
  };
  for (const [path, , after] of entry.tree) {
    const full = underRoot(ctx.tree, path);
    const dir = dirname(full);
    const inDir = canWriteIn(dir);
    if (inDir && !othersSticky(dir)) continue;
    let st: Stats | null;
    try {
      st = lstatSync(full, { throwIfNoEntry: false }) ?? null;
    } catch {
      continue; // a file where a directory should be: refuseBlockedWrites said so, or the write will
    }
    if (st === null && (after === null || inDir)) continue; // nothing to remove; a new name in a directory pq may write in
    // Rewritten in place (see replaceFile): a regular file pq may write, with one link and the executable bit it keeps.
    const inPlace = after !== null && st !== null && st.isFile() && st.nlink === 1 && (((st.mode & 0o111) !== 0) === versionExec(after) || !execBitsTrusted(ctx.tree));
    if (inPlace && accessAnswer(full) === "ok") continue;
    if (inDir && !ownedByOther(full)) continue;
    throw refuse(path, after === null ? "remove" : st ? "replace" : "create", dir, shownDir(ctx.tree, dir), inDir ? stickyWhy : undefined);
  }
  for (const [path, , after] of entry.queue) {
    const full = join(ctx.queueDir, path);
    const inDir = canWriteIn(dirname(full));
    // A queue file is written whole and renamed over the old one: its directory must take that.
    if (inDir && !ownedByOther(full)) continue;
    throw refuse(path, after === null ? "remove" : "write", dirname(full), shownDir(ctx.tree, dirname(full)), inDir ? stickyWhy : undefined);
  }
  // pq's own files written after the tree: the trash copies and the operation log's new line (verify-14 F3, F4).
  const paths = statePaths(ctx.tree);
  if (entry.trash.length && !canWriteIn(paths.trash)) throw refuse("a copy of the patch", "keep", paths.trash, shownDir(ctx.tree, paths.trash));
  if (existsSync(paths.oplog) && accessAnswer(paths.oplog) !== "ok") throw refuse("its entry", "log", paths.oplog, shownDir(ctx.tree, paths.oplog));
  // git's lock files: the branch's (ref.lock beside it) and the index's (index.lock in the git directory).
  const gitDir = entry.git ? gitDirOf(ctx.tree) : null;
  if (entry.git && gitDir !== null) {
    const ref = refFile(gitDir, entry.git.ref);
    const branch = entry.git.ref.replace(/^refs\/heads\//, "");
    if (!entry.git.indexOnly && !canWriteIn(dirname(ref))) throw refuse(`${branch} (git's lock file for it)`, "move", dirname(ref), shownDir(ctx.tree, dirname(ref)));
    // The reflogs git appends to as it moves the branch: a refused one failed update-ref after the
    // branch had moved, half way through the operation (t93 N3).
    if (!entry.git.indexOnly)
      for (const log of [join(gitDir, "logs", "HEAD"), join(gitDir, "logs", entry.git.ref)])
        if (existsSync(log) && accessAnswer(log) !== "ok") throw refuse(`${branch} (git's reflog of it)`, "move", log, shownDir(ctx.tree, log));
    if (entry.git.index.length && !canWriteIn(gitDir)) throw refuse("git's index (its lock file)", "update", gitDir, shownDir(ctx.tree, gitDir));
  }
}

/**
 * A directory pq names in a refusal: inside the tree as a tree path (as the files in the same
 * message are), else whole; the tree's top by its whole path, not "." (which from a
 * subdirectory names another directory: verify-14 F7).
 */
function shownDir(tree: string, dir: string): string {
  const existing = existingAncestor(dir);
  const rel = relative(tree, existing);
  return rel === "" || leadsOutside(rel) ? existing : rel;
}

/** What access(2) says of writing in `path`: "ok", or the error's code. */
function accessAnswer(path: string): string {
  try {
    accessSync(path, constants.W_OK);
    return "ok";
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? "error";
  }
}

/** `dir`, or the nearest directory above it that is there. */
function existingAncestor(dir: string): string {
  for (let at = dir; ; at = dirname(at)) if (existsSync(at) || dirname(at) === at) return at;
}
