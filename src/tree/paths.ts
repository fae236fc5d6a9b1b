/**
 * Every path a patch names is checked here before anything is written: a patch must not
 * reach outside the tree (`..`, absolute paths, a symlinked directory) nor into the
 * repository's or pq's own bookkeeping.
 */
import { isDirectory, isRegular, isSymlink, statStamp } from "./stat.js";
import { isUtf8 } from "node:buffer";
import { existsSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, join, posix, relative } from "node:path";
import { PqError } from "../errors.js";
import { refuseNonUtf8Name } from "../patch/paths.js";

/** The longest name of one file or directory Linux file systems hold (NAME_MAX), in bytes. */
const NAME_MAX = 255;
/** quilt's state directory: .pc, or what QUILT_PC names (quilt reads it from the environment and .quiltrc). */
export const QUILT_STATE_DIR = process.env.QUILT_PC || ".pc";

/**
 * git's own rule (verify_path with core.protectNTFS and core.protectHFS): no component may
 * be ".git" in any case, nor one of the names that file systems turn into it: NTFS drops
 * trailing dots and spaces and alternate-stream suffixes and knows the short name GIT~1,
 * HFS+ ignores some invisible Unicode code points. Paths are byte strings: decode UTF-8.
 */
/**
 * Whether a path made by path.relative(from, to) leads out of `from`: `..` or `../...`, or an
 * absolute path (another drive). A name that only starts with two dots (`..q`) is inside: a
 * queue directory so named was taken for one outside the tree, and a patch could write into it (t26 F1).
 */
export function leadsOutside(rel: string): boolean {
  return rel === ".." || rel.startsWith("../") || isAbsolute(rel);
}

/** Whether two paths name one directory, through symlinks too (equal paths always; false when either is not there). */
export function sameDirectory(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/**
 * Where the queue directory is in the tree (a path relative to it, "" for the tree itself), or
 * null when it is outside: by real paths, so that a queue named through a symlink to the tree
 * is found inside it (t26 F2, t27 F3). A bind mount of a directory of the tree is not seen.
 */
export function queueInTree(tree: string, queueDir: string): string | null {
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return path;
    }
  };
  const rel = relative(real(tree), real(queueDir));
  return leadsOutside(rel) ? null : rel;
}

export function isGitDirAlias(component: string): boolean {
  // A name may reach here as decoded text or as UTF-8 bytes held one per character: try both.
  const readings = [component, Buffer.from(component, "latin1").toString("utf8")];
  return readings.some((reading) => {
    let c = reading.replace(/[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g, "").toLowerCase();
    c = c.replace(/:.*$/, "").replace(/[. ]+$/, "");
    return c === ".git" || c === "git~1";
  });
}

/**
 * Checks a tree-relative path and returns it normalised. `reserved` lists further
 * tree-relative directories no patch may write (the queue directory when it is inside).
 */
export function checkTreePath(tree: string, path: string, what = "path", reserved: readonly string[] = []): string {
  const refuse = (why: string, advice?: string): never => {
    throw new PqError(
      "unsafe-path",
      `${what} ${JSON.stringify(path)} ${why}; nothing was changed`,
      [
        advice ??
          // A file the user named (pq add, refresh, revert, remove) or one a patch names.
          (what === "file"
            ? `name a file of the working tree, outside .git, .pq, ${QUILT_STATE_DIR} and the queue directory`
            : "pq only writes inside the working tree; fix the patch's file names"),
      ],
      { path },
    );
  };
  if (!path || path.includes("\0")) refuse("is empty or contains NUL");
  refuseNonUtf8Name(path, what);
  if (path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path)) refuse("is absolute");
  // Inside the tree, but a directory separator where a patch may be applied (Windows): the
  // advice says that, not "outside the tree" (verify-13 N5).
  if (path.includes("\\"))
    refuse(
      "contains a backslash",
      "pq takes no file name with a backslash (a directory separator on Windows): rename the file (git mv)" +
        (what === "file" ? "" : " and the patch's file names to match"),
    );
  const normal = posix.normalize(path);
  if (normal !== path.replace(/\/+/g, "/").replace(/^\.\//, "")) refuse("is not a normal path (contains . or ..)");
  const parts = normal.split("/");
  if (parts.some((p) => p === ".." || p === ".")) refuse("leaves the tree");
  // Longer than a file system holds: found only by the write, after the journal, it stopped the
  // operation half way, and every later command with it (t154 N10).
  const long = parts.find((p) => Buffer.byteLength(p, "utf8") > NAME_MAX);
  if (long !== undefined)
    refuse(
      `has a name of ${Buffer.byteLength(long, "utf8")} bytes (${long.slice(0, 40)}...), longer than the ${NAME_MAX} a file system holds`,
    );
  const gitPart = parts.find(isGitDirAlias);
  if (gitPart !== undefined) refuse(`is inside a git directory (${gitPart})`);
  if (parts[0].toLowerCase() === ".pq") refuse("is inside .pq/ (pq's own state)");
  // quilt's state directory, which pq reads at a take-over: no file of a patch the user names (interop-17 F7).
  if (what === "file" && parts[0] === QUILT_STATE_DIR) refuse(`is inside ${QUILT_STATE_DIR}/ (quilt's state)`);
  for (const r of reserved) {
    if (normal === r || normal.startsWith(r + "/")) refuse(`is inside the queue directory ${r}/`);
  }
  if (!tree) return normal;
  // Any existing ancestor that is a symlink could point anywhere: refuse to write through it.
  const link = firstSymlink(tree, parts);
  // The link is in the tree, not in the patch's names: the advice says so (verify-14).
  if (link !== null)
    refuse(
      link === parts.length ? "is a symlink in the tree" : `goes through the symlink ${parts.slice(0, link).join("/")} in the tree`,
      `pq reads and writes regular files only, never through a link: replace ${parts.slice(0, link).join("/")} with the file or directory it points to (or take its change out of the patch), then run the command again`,
    );
  return normal;
}

/**
 * How many leading components of `parts` (under `root`) reach the first one that exists as a
 * symlink, or null if none does. Stops at the first component that does not exist: nothing
 * below it exists either.
 */
export function firstSymlink(root: string, parts: readonly string[]): number | null {
  let at = root;
  for (let i = 0; i < parts.length; i++) {
    at = join(at, parts[i]);
    try {
      const st = statStamp(at, false);
      if (!st) return null;
      if (isSymlink(st)) return i + 1;
    } catch {
      return null; // a file where a directory would be (ENOTDIR): nothing below it exists
    }
  }
  return null;
}

/**
 * What stands in a path's way on disk, checked once per directory for a whole operation: the
 * first parent that is a symlink (it could lead anywhere) or a file (nothing can be created
 * under it). Planning checks each path a patch names; this guards every read and write of an
 * operation, whose paths may come from a push cache, the log (undo, redo) or a journal, and a
 * directory may have been replaced by a symlink since they were recorded.
 */
export class ParentDirs {
  private directories = new Set<string>();
  constructor(private root: string) {}

  blocker(path: string): { at: string; what: "symlink" | "file" } | null {
    const slash = path.lastIndexOf("/");
    // Most paths share their directory with one checked before: one lookup.
    if (slash === -1 || this.directories.has(path.slice(0, slash))) return null;
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const at = parts.slice(0, i).join("/");
      const kind = this.kindOf(at);
      if (kind === null) return null; // nothing below a missing directory exists either
      if (kind !== "directory") return { at, what: kind };
    }
    return null;
  }

  /** What is at a tree path on disk (not followed if a link); a directory is remembered for the operation. */
  kindOf(at: string): "directory" | "symlink" | "file" | null {
    if (this.directories.has(at)) return "directory";
    const st = statStamp(underRoot(this.root, at), false);
    if (!st) return null;
    if (isSymlink(st)) return "symlink";
    if (!isDirectory(st)) return "file";
    this.directories.add(at);
    return "directory";
  }

  /** Refuses a path under a symlinked directory (reads and writes alike), naming it. */
  refuseSymlink(path: string): void {
    const b = this.blocker(path);
    if (b?.what === "symlink") throw throughSymlink(path, b.at);
  }
}

export function throughSymlink(path: string, link: string): PqError {
  return new PqError(
    "unsafe-path",
    `${path} goes through the symlink ${link}; pq reads and writes only inside the working tree, and nothing was changed`,
    [`replace the symlink ${link} with the directory it stood for (or take it out of the tree), then run the command again`],
    { file: path, symlink: link },
  );
}

/**
 * A tree-relative path under `root`: a plain concatenation for a normal path (no empty, "." or
 * ".." component, not absolute), which every recorded path is, else path.join. A warm push asks
 * for ~500 of them, and join's normalising cost more than the stat that follows (3-4 ms).
 */
export function underRoot(root: string, path: string): string {
  return path && !/(^|\/)\.{0,2}(\/|$)/.test(path) ? `${root}/${path}` : join(root, path);
}

/**
 * A directory named with a byte that is not UTF-8 (a Latin-1 `ü` made by an old tool) reaches
 * Node, and so pq, with U+FFFD in its place: the name Node then gives the system is another
 * one, which does not exist (t37 N14). Said as such instead of "does not exist" to a user who
 * is in it.
 */
export function notUtf8Path(path: string, from: "cwd" | { argument: string; mayBeMissing?: boolean } | null = null): PqError | null {
  if (!path.includes("\uFFFD")) return null;
  // A directory pq may make (pq init --queue DIR): made by Node's name, it would be a new one beside the user's (t41 N4).
  if (from !== null && from !== "cwd" && from.mayBeMissing && argumentIsUtf8(from.argument)) return null;
  // A name that is there may be a twin's, spelled with U+FFFD itself (t40 N7): the bytes say
  // whether Node's name is the directory's own (the process's directory's, or the argument's
  // as the command line had it).
  const own =
    from === "cwd"
      ? Buffer.compare(realpathSync.native(".", { encoding: "buffer" }), Buffer.from(path)) === 0
      : from !== null && !argumentIsUtf8(from.argument)
        ? false
        : existsSync(path);
  if (own) return null;
  return new PqError(
    "not-found",
    `${path} cannot be named: its path has a byte that is not UTF-8 (shown as \uFFFD), which Node, and so pq, cannot pass on`,
    ["rename that directory to a UTF-8 name (mv, or convmv -f latin1 -t utf8 --notest), then run pq again"],
  );
}

/**
 * Whether a command-line argument reached Node as the bytes it was typed with: Node decodes
 * argv as UTF-8, a byte that is not becoming U+FFFD. The kernel's copy (/proc/self/cmdline)
 * has the bytes; where it cannot be read, the argument is taken as it came.
 */
function argumentIsUtf8(argument: string): boolean {
  return typedBytes(argument) === null;
}

/**
 * The bytes an argument was typed with when they are not UTF-8 (its value alone for an
 * `--option=value` element), or null: an argument as Node has it, or one not found in the
 * kernel's copy of the command line (pq run in-process by a test or the TUI).
 */
function typedBytes(argument: string): Buffer | null {
  if (!argument.includes("\uFFFD")) return null;
  let raw: Buffer;
  try {
    raw = readFileSync("/proc/self/cmdline");
  } catch {
    return null;
  }
  const wanted = Buffer.from(argument);
  for (let start = 0; start < raw.length;) {
    const end = raw.indexOf(0, start);
    const arg = raw.subarray(start, end === -1 ? raw.length : end);
    start = end === -1 ? raw.length : end + 1;
    if (arg.toString() !== argument && !arg.toString().endsWith(`=${argument}`)) continue;
    if (isUtf8(arg)) continue;
    const equals = arg.toString() === argument ? -1 : arg.indexOf(0x3d);
    const value = arg.subarray(equals + 1);
    if (!value.equals(wanted)) return value;
  }
  return null;
}

/**
 * Any argument typed with a byte that is not UTF-8 (a Latin-1 file name for pq import, a local
 * URL for pq init --shared, a message): pq would get another name, or store other text, than
 * the one typed. A name that exists on disk by its bytes is one pq cannot name (exit 3, as a
 * tree is); anything else is refused as usage. Checked once, before any command runs.
 */
export function notUtf8Argument(args: string[], cwd: string): PqError | null {
  for (const argument of args) {
    const bytes = typedBytes(argument);
    if (bytes === null) continue;
    const onDisk = bytes[0] === 0x2f ? bytes : Buffer.concat([Buffer.from(`${cwd}/`), bytes]);
    if (existsSync(onDisk)) {
      return new PqError(
        "not-found",
        `${argument} cannot be named: it has a byte that is not UTF-8 (shown as \uFFFD), which Node, and so pq, cannot pass on; nothing was changed`,
        ["rename it to a UTF-8 name (mv, or convmv -f latin1 -t utf8 --notest), then run pq again"],
      );
    }
    return new PqError(
      "usage",
      `the argument ${JSON.stringify(argument)} has a byte that is not UTF-8 (shown as \uFFFD); nothing was changed`,
      ["type it in UTF-8 (a message in another encoding: iconv -f latin1 -t utf8), then run pq again"],
    );
  }
  return null;
}

/**
 * Where pq writes a queue file: the file itself or, for the series when it is a symlink to a
 * regular file beside it, that file, so the link stays. dpkg-source makes `series` a link to a vendor's
 * series (`debian.series`) and applies that one, and quilt writes through the link; replaced
 * by a file, pq's new and renamed patches never reached the source package (t55 N3).
 */
export function queueFileTarget(queueDir: string, path: string): string {
  const full = join(queueDir, path);
  // The series alone: a patch file that is a link is replaced, never written through (t57 N13:
  // deleting or renaming such a patch removed the file it pointed to).
  if (path !== "series") return full;
  try {
    const st = statStamp(full, false);
    if (st === null || !isSymlink(st)) return full;
    const target = readlinkSync(full, "latin1");
    if (target.includes("/") || target === "." || target === "..") return full;
    const dest = join(dirname(full), target);
    const to = statStamp(dest, false);
    return to !== null && isRegular(to) ? dest : full;
  } catch {
    return full; // unreadable: written as the file itself, which says what is wrong
  }
}
