/**
 * Executable bits where git does not trust the file system's (core.fileMode = false; see
 * execBitsTrusted): a file's bit is the one pq knows for it, as git takes the index's.
 */
import { gitOut } from "./git-cli.js";
import { versionExec, type AppliedPatch } from "./state.js";

/**
 * The bit a file of `tree` has for pq, by what it knows (asked lazily, once per operation):
 * a chmod staged with `git update-index --chmod` (the way to make a file executable there),
 * else the version the applied patches leave, else git's index, else not executable (git's
 * rule for a new file). The file system's bit is never read: where git does not trust it,
 * every file may read as executable.
 */
export function knownExecBits(tree: string, applied: () => readonly AppliedPatch[]): (path: string) => boolean {
  let known: { staged: Map<string, boolean>; stack: Map<string, boolean>; index: Map<string, boolean> } | null = null;
  return (path) => {
    known ??= {
      staged: stagedChmods(tree),
      stack: stackBits(applied()),
      index: indexBits(tree),
    };
    return known.staged.get(path) ?? known.stack.get(path) ?? known.index.get(path) ?? false;
  };
}

const isExec = (mode: string) => mode === "100755";
const isFileMode = (mode: string) => mode === "100644" || mode === "100755";

/** Paths whose index entry has another file mode than HEAD's (git update-index --chmod), with the staged bit. */
function stagedChmods(tree: string): Map<string, boolean> {
  return new Map([...stagedModes(tree)].map(([path, m]) => [path, isExec(m.mode)]));
}

/**
 * Of `paths`, those whose staged change is their mode alone (the blob is HEAD's): where git does
 * not trust the file system's bits, a refresh takes that mode into the patch, and so unstages it
 * even when the work tree has edits besides (t50 N1: it stayed staged, and went into the next commit).
 */
export function stagedModeAlone(tree: string, paths: readonly string[]): Set<string> {
  if (!paths.length) return new Set();
  const modes = stagedModes(tree);
  return new Set(paths.filter((p) => modes.get(p)?.blobSame));
}

/** Index entries with another file mode than HEAD's: the staged mode, and whether the blob is HEAD's. */
function stagedModes(tree: string): Map<string, { mode: string; blobSame: boolean }> {
  const map = new Map<string, { mode: string; blobSame: boolean }>();
  let out: string;
  try {
    out = gitOut(tree, ["diff-index", "--cached", "--raw", "-z", "--no-renames", "--relative", "HEAD", "--"]);
  } catch {
    return map; // no commit yet: nothing staged against HEAD
  }
  // ":<old mode> <new mode> <old id> <new id> <status>" NUL <path> NUL
  const fields = out.split("\0");
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [oldMode, newMode, oldId, newId] = fields[i].slice(1).split(" ");
    if (isFileMode(oldMode) && isFileMode(newMode) && oldMode !== newMode) map.set(fields[i + 1], { mode: newMode, blobSame: oldId === newId });
  }
  return map;
}

/** Each path's bit in the version the applied patches leave (a file one deletes: none). */
function stackBits(applied: readonly AppliedPatch[]): Map<string, boolean> {
  const map = new Map<string, boolean>();
  for (const record of applied) {
    for (const path in record.files) {
      const post = record.files[path].post;
      if (post === null) map.delete(path);
      else map.set(path, versionExec(post));
    }
  }
  return map;
}

/** The index's file modes under the tree (git ls-files names them relative to it). */
function indexBits(tree: string): Map<string, boolean> {
  const map = new Map<string, boolean>();
  let out: string;
  try {
    out = gitOut(tree, ["ls-files", "-s", "-z"]);
  } catch {
    return map;
  }
  // "<mode> <id> <stage>\t<path>" NUL
  for (const entry of out.split("\0")) {
    const tab = entry.indexOf("\t");
    if (tab === -1) continue;
    const mode = entry.slice(0, entry.indexOf(" "));
    if (isFileMode(mode)) map.set(entry.slice(tab + 1), isExec(mode));
  }
  return map;
}
