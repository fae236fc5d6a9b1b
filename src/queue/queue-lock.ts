/**
 * The queue directory's own lock. The tree lock (.pq/lock) keeps two pq commands in one tree
 * apart, but several trees can use one queue directory (`pq init --queue DIR` in each, as quilt
 * users share a patches/ between build trees): two commands in two trees then read and wrote
 * one `series` at once, and the later write dropped the other's line (t114 N1: a patch applied
 * in one tree no longer listed). Every command that takes its tree's lock takes this one too,
 * after it, so two pq processes always take the two in the same order.
 *
 * Only a queue directory outside the tree is locked: one inside (patches/, debian/patches, a
 * shared queue's clone) is the tree's own, kept by its tree lock (unless another tree names it
 * with --queue: that pair is not kept apart, README says so), and a lock file made and removed
 * there at every command would show in the tree's `git status` and change the directory's time,
 * which pq tui reads as another terminal's change.
 *
 * A queue directory pq may not write (another user's, a read-only mount) takes no lock: the
 * commands that only read it go on, and one that would write it is refused by the executor's
 * own checks, as before.
 */
import { dirname, join, resolve } from "node:path";
import { excludeQueueLock } from "../git/clean-guard.js";
import { takeWaiting, TreeLock } from "../tree/lock.js";
import { queueInTree } from "../tree/paths.js";

/** The lock's name in the queue directory: never a queue file (the shared queue's commits and ci's copies leave it out). */
export const QUEUE_LOCK_NAME = ".pq-lock";

/** Whether `name`, at the top of a queue directory, is the lock or one of the files its taking leaves for a moment. */
export function isQueueLockFile(name: string): boolean {
  return name === QUEUE_LOCK_NAME || name.startsWith(`${QUEUE_LOCK_NAME}.`);
}

/** The locks this process holds, by path, with how many takers: a command built from others takes it once. */
const held = new Map<string, { lock: TreeLock; takers: number }>();

/**
 * Takes the lock of `tree`'s queue directory `queueDir` when it is outside the tree, waiting for
 * another live pq as the tree lock does (PQ_LOCK_TIMEOUT), and returns its release. A missing
 * queue directory takes none: the command's own check says it is missing.
 */
export async function takeQueueLock(tree: string, queueDir: string): Promise<() => void> {
  if (queueInTree(tree, queueDir) !== null) return () => undefined;
  const path = join(resolve(queueDir), QUEUE_LOCK_NAME);
  let entry = held.get(path);
  if (entry) {
    entry.takers++;
  } else {
    const lock = await takeWaiting(() => acquireQueueLock(path));
    // Under the lock: two trees' first commands would both have added the line.
    excludeQueueLock(dirname(path));
    entry = { lock, takers: 1 };
    held.set(path, entry);
  }
  const taken = entry;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--taken.takers > 0) return;
    held.delete(path);
    taken.lock.release();
  };
}

function acquireQueueLock(path: string): TreeLock {
  try {
    return TreeLock.acquireToRead(path, { sweep: false, what: `the queue directory ${dirname(path)}` });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return TreeLock.none();
    throw e;
  }
}
