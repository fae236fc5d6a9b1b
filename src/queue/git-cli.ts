/**
 * git run directly, for what simple-git hides or decodes: exit statuses, and output kept
 * as latin1 bytes (patch text) rather than decoded.
 */
import { childProcess } from "../core/child-process.js";
import { gitFailed } from "../errors.js";
import { repositoryFreeEnv } from "../git/env.js";
import { readHeadCommit } from "../git/head.js";

/** git with output kept as latin1 bytes (patch text) or UTF-8 (people's names and messages). */
export function gitOut(cwd: string, args: string[], encoding: "latin1" | "utf8" = "utf8"): string {
  try {
    // pq names its repository by directory: a git hook's GIT_DIR is the pushed-to repository's (see repositoryFreeEnv).
    return childProcess().execFileSync("git", args, { cwd, encoding, maxBuffer: 1 << 30, stdio: ["ignore", "pipe", "pipe"], env: repositoryFreeEnv() });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw gitFailed(`git ${args[0]}`, String(err.stderr || err.message).trim());
  }
}

/** Whether HEAD names a commit (not a branch with none yet): from the repository's files, or git's exit status. */
export function headHasCommit(tree: string): boolean {
  if (readHeadCommit(tree) !== null) return true;
  return childProcess().spawnSync("git", ["rev-parse", "--verify", "--quiet", "HEAD"], { cwd: tree, env: repositoryFreeEnv() }).status === 0;
}

/**
 * The git command that unstages `files` (shell words), keeping the work tree: `git restore
 * --staged`, which git refuses on a branch with no commit yet ("could not resolve HEAD"), where
 * `git rm --cached` does it (t139 N8).
 */
export function unstageCommand(tree: string, files: string): string {
  return headHasCommit(tree) ? `git restore --staged -- ${files}` : `git rm -q --cached -- ${files}`;
}

/** git diff --cached --quiet: exit status 1 means staged changes (simple-git's raw() hides it). */
export function stagedChanges(tree: string): boolean {
  return childProcess().spawnSync("git", ["diff", "--cached", "--quiet"], { cwd: tree, env: repositoryFreeEnv() }).status !== 0;
}

export interface TreeEntry {
  mode: string;
  blob: string;
}

/** ls-tree entries of `commit` for these tree-relative paths (absent: not in the map). */
export function entriesAt(tree: string, prefix: string, commit: string, paths: string[]): Map<string, TreeEntry> {
  const map = new Map<string, TreeEntry>();
  for (let i = 0; i < paths.length; i += 500) {
    const out = gitOut(tree, ["-c", "core.quotePath=false", "ls-tree", "-z", "--full-tree", commit, "--", ...paths.slice(i, i + 500).map((p) => prefix + p)], "latin1");
    for (const rec of out.split("\0").filter(Boolean)) {
      const [meta, path] = [rec.slice(0, rec.indexOf("\t")), rec.slice(rec.indexOf("\t") + 1)];
      const [mode, , blob] = meta.split(" ");
      // ls-tree's names are bytes (latin1 here): decoded as pq's paths are, the prefix taken off after.
      map.set(Buffer.from(path, "latin1").toString("utf8").slice(prefix.length), { mode, blob });
    }
  }
  return map;
}
