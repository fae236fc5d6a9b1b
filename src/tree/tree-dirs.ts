/**
 * The tree's directories as the executor writes into them: each reached once, with the process's
 * working directory standing in for the directory descriptor node:fs does not offer (no openat).
 *
 * The checks before an operation's writes find no symlink among a path's parents, but a
 * directory can be swapped for a symlink to somewhere else while pq writes (t34 F1): a write
 * by the full path then went through the link and changed a file outside the tree. Here the
 * process changes into the directory and asks the kernel where it is (getcwd): if that is not
 * the tree's own directory, nothing is written there. Once checked, the names used are relative
 * to it, so a swap after the check changes nothing for pq: the kernel resolves them in the
 * directory pq is in, wherever that directory's name now leads.
 *
 * The process's own directory is put back before anything else can run (see `leave`): callers
 * leave before each await, failpoint and progress callback.
 *
 * A directory a write needs that is not there yet is made the same way, one level at a time in
 * its checked parent (see makeStepwise).
 */
import { mkdirSync, realpathSync, statSync } from "node:fs";
import { PqError } from "../errors.js";
import { firstSymlink, underRoot } from "./paths.js";

export class TreeDirs {
  /** The directory the process was in, to come back to (null: it was gone already). */
  private readonly home: string | null;
  /** The tree's real path, as getcwd gives it back. */
  private readonly realRoot: string = "";
  /** The tree's directory itself (device and inode): one moved away and made again by that name is not it. */
  private readonly rootId: string = "";
  /** The tree-relative directory the process is in now and found to be the tree's own (null: none such). */
  private current: string | null = null;
  /** The process is not in its own directory (in the tree's, or in one that failed the check). */
  private away = false;

  constructor(private readonly root: string) {
    let home: string | null = null;
    try {
      home = process.cwd();
    } catch {
      home = null; // the process's directory is gone: it comes back to the tree's top instead
    }
    this.home = home;
    try {
      this.realRoot = realpathSync.native(root);
      this.rootId = idOf(root);
    } catch {
      // The tree itself is gone (moved away): nothing is written by its old path (see enter).
      this.rootId = "";
    }
  }

  /**
   * The name to use for the tree file `path`: relative to the process's directory once that is
   * `path`'s directory, checked to be the tree's own; else its full path (the guard off, or the
   * directory cannot be entered: missing, not a directory, not searchable, for the system's
   * refusal to name it as before). `create`: a missing directory is made first (a write).
   * Throws an "unsafe-path" PqError when the directory on disk is not the tree's.
   */
  enter(path: string, create: boolean): string {
    if (this.rootId === "") throw this.notTheTrees(path, "");
    const slash = path.lastIndexOf("/");
    const dir = slash === -1 ? "" : path.slice(0, slash);
    const name = path.slice(slash + 1);
    if (dir === this.current) return name;
    const target = dir === "" ? this.root : underRoot(this.root, dir);
    this.current = null;
    this.away = true;
    try {
      process.chdir(target);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!(create && code === "ENOENT")) return this.fallback(path);
      // Not through a tree that is gone: made again by its path, the directories would be a
      // skeleton where the tree was (t37 N4: the tree renamed while pq wrote).
      if (idOf(this.root) !== this.rootId) {
        this.leave();
        throw this.notTheTrees(path, dir);
      }
      try {
        if (!this.makeStepwise(dir)) {
          this.leave();
          throw this.notTheTrees(path, dir);
        }
      } catch (e) {
        if (e instanceof PqError) throw e;
        return this.fallback(path);
      }
    }
    const expected = dir === "" ? this.realRoot : this.realRoot === "/" ? `/${dir}` : `${this.realRoot}/${dir}`;
    // And the tree's own directory is above it, reached by its parents (not by a path someone
    // may have made again: t37 N4, the tree moved away and another directory put in its place).
    const top = dir === "" ? "." : "../".repeat(dir.split("/").length).slice(0, -1);
    if (process.cwd() !== expected || idOf(top) !== this.rootId) {
      this.leave();
      throw this.notTheTrees(path, dir);
    }
    this.current = dir;
    return name;
  }

  /**
   * Makes the missing directories of tree-relative `dir` one at a time, each by its name in its
   * parent, the process in that parent and the parent checked to be the tree's own: a symlink
   * swapped in above leads no mkdir outside (by its full path, `mkdir -p` left empty directories
   * where the link led). Leaves the process in `dir`; false when a directory on the way is not
   * the tree's. A system error (a file where a directory goes, no permission) is thrown as it is.
   */
  private makeStepwise(dir: string): boolean {
    process.chdir(this.root);
    if (process.cwd() !== this.realRoot || idOf(".") !== this.rootId) return false;
    let expected = this.realRoot === "/" ? "" : this.realRoot;
    for (const part of dir.split("/")) {
      try {
        process.chdir(part);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        mkdirSync(part);
        process.chdir(part);
      }
      expected += `/${part}`;
      if (process.cwd() !== expected) return false;
    }
    return true;
  }

  /** Back in the process's own directory (before anything else may run, and when done); never throws. */
  leave(): void {
    if (!this.away) return;
    this.current = null;
    this.away = false;
    for (const dir of [this.home, this.root]) {
      if (dir === null) continue;
      try {
        process.chdir(dir);
        return;
      } catch {
        // Gone meanwhile (the operation removed the directory the user was in, or the tree moved): the next one.
      }
    }
  }

  /**
   * A system error met at `path` as it names the file: by its path in the tree's directory, not
   * the name relative to the directory the process was in (`unlink 'n.c'` says too little).
   */
  named(e: unknown, path: string): unknown {
    const err = e as NodeJS.ErrnoException | null;
    const slash = path.lastIndexOf("/");
    const name = path.slice(slash + 1);
    if (!err || typeof err.path !== "string" || err.path !== name) return e;
    const full = underRoot(this.root, path);
    err.message = err.message.replace(`'${name}'`, `'${full}'`);
    err.path = full;
    return err;
  }

  private fallback(path: string): string {
    this.leave();
    return underRoot(this.root, path);
  }

  private notTheTrees(path: string, dir: string): PqError {
    // The tree's own directory moved or replaced (by a symlink or another directory): said of it, not of a directory in it (t37 N7).
    if (this.rootId === "" || idOf(this.root) !== this.rootId || realPathOf(this.root) !== this.realRoot) {
      return new PqError(
        "unsafe-path",
        `${path} was not written: the tree's directory ${this.root} was moved or replaced while pq was writing; pq writes only inside the working tree`,
        [`put the tree back at ${this.root}, then run any pq command there: it completes the operation`],
        { file: path, tree: this.root },
      );
    }
    const parts = dir.split("/");
    const link = firstSymlink(this.root, parts);
    const where =
      link === null
        ? `its directory ${dir} is not the tree's own any more (moved or replaced)`
        : `it goes through the symlink ${parts.slice(0, link).join("/")}`;
    return new PqError(
      "unsafe-path",
      `${path} was not written: ${where}, made while pq was writing; pq writes only inside the working tree`,
      [
        link === null
          ? `put the directory ${dir} back where it was, then run any pq command: it completes the operation`
          : `replace the symlink ${parts.slice(0, link).join("/")} with the directory it stood for, then run any pq command: it completes the operation`,
      ],
      { file: path, ...(link === null ? {} : { symlink: parts.slice(0, link).join("/") }) },
    );
  }
}

/** A directory's device and inode, following links ("" when it is not there). */
function idOf(path: string): string {
  const st = statSync(path, { throwIfNoEntry: false });
  return st ? `${st.dev}:${st.ino}` : "";
}

/** A path's real path ("" when it is not there). */
function realPathOf(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    return "";
  }
}
