/**
 * The stack's refusals of a tree or queue directory that is not where, or what, its state says:
 * gone since it was opened, led out of the tree by a symbolic link, missing its series, or a
 * nested repository with no stack of its own. Every command meets them when it opens the stack.
 */
import { existsSync, realpathSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { shellWord } from "../core/shell-word.js";
import { PqError } from "../errors.js";
import { firstSymlink, leadsOutside } from "../tree/paths.js";
import { loadState, statePaths } from "./state.js";

/** A stack held open (the TUI's) whose .pq/ went since it was opened (git clean -fdx). */
export function goneStack(tree: string): PqError {
  return new PqError("no-queue", `no pq stack in ${tree} any more (its .pq/ is gone: git clean -fdx?)`, ["run pq init (or pass --tree DIR)"]);
}

export function refuseGoneStack(tree: string): void {
  if (!existsSync(statePaths(tree).state)) throw goneStack(tree);
}

/**
 * A queue directory the state places inside the tree that leads out of it through a symlink
 * (committed as one by a colleague, in a queue kept in the tree's repository): refused by
 * every command, restore-queue's writes included. pq had worked on it there, outside the tree
 * and every repository, unversioned and unshared (t60 N14). A link that stays inside the tree
 * (patches -> debian/patches) is that queue.
 */
export function refuseQueueLinkedOut(
  tree: string,
  queueDir: string,
  /** The way out, for a queue directory not in use yet (init, queue create): named by where the link leads. */
  wayOut?: (target: string) => string,
): void {
  const rel = relative(tree, queueDir);
  if (rel === "" || leadsOutside(rel)) return;
  if (firstSymlink(tree, rel.split("/")) === null) return;
  let real: string;
  try {
    real = realpathSync(queueDir);
  } catch {
    return; // a dangling link: said as a missing queue
  }
  const inside = relative(realpathSync(tree), real);
  if (inside !== "" && !leadsOutside(inside)) return;
  const message = `the queue directory ${queueDir} leads out of the tree, to ${real}, through a symbolic link`;
  if (wayOut) throw new PqError("unsafe-path", message, [wayOut(real)], { queue: queueDir, target: real });
  throw new PqError("unsafe-path", message, [
    "nothing was changed; a queue kept in the tree's repository is a directory of it: git log of the link says who made it",
    `git checkout the directory back (git rm the link, git checkout HEAD~1 -- ${rel}, or git revert the commit that made it), then run the command again`,
    // A link made by hand and never committed (t142 N4): git rm does not know it.
    `a link you made yourself, never committed: rm ${shellWord(queueDir)} (the link alone), then mv ${shellWord(real)} ${shellWord(queueDir)} puts the queue back in the tree`,
  ], { queue: queueDir, target: real });
}

/**
 * Removed behind pq's back (git clean -fd takes an untracked patches/): every command would
 * otherwise act on a stack whose patches are gone, or fail on the first file it reads.
 */
export function refuseMissingQueue(queueDir: string): void {
  if (existsSync(join(queueDir, "series"))) return;
  throw new PqError(
    "damaged",
    `the queue ${existsSync(queueDir) ? `directory ${queueDir} has no series file` : `directory ${queueDir} is missing`} (git clean -fd or -fdx removes an untracked queue, and git stash -u takes it into the stash)`,
    [
      "if git stash -u took it: git stash pop brings it back (run that, not restore-queue, or the stash's untracked files will not come back)",
      "pq restore-queue writes back every queue file pq wrote, from its operation log and object store",
      "a queue that is committed or shared comes back with git instead (git checkout, or git clone of the queue's remote)",
    ],
    { queue: queueDir },
  );
}

/**
 * A command run in a git repository of its own inside a stack's tree (a submodule, a nested
 * repository) with no stack there: git works on that repository, and pq had worked on the
 * enclosing tree's stack, a refresh taking the superproject's edits into a patch made for the
 * submodule (t113 N9). The stack's own repositories (a shared queue, .pq/'s marker) are its.
 */
export function refuseEnclosingStack(tree: string, repository: string): void {
  const queue = loadState(tree)?.queue;
  const within = (dir: string) => !leadsOutside(relative(dir, repository));
  if ((queue !== undefined && within(resolve(tree, queue))) || within(statePaths(tree).dir)) return;
  throw new PqError("no-queue", `no pq stack in ${repository}, a git repository of its own (a submodule or a nested repository) inside ${tree}, whose stack is that tree's`, [
    `pq init there starts a stack for that repository; pq --tree ${shellWord(tree)} works on the enclosing tree's`,
  ]);
}
