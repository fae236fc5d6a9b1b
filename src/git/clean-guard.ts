/**
 * Keeping pq's state directory out of `git clean -fdx`'s reach. That clean removes ignored files
 * too: `.pq/` (the operation log, the object store, the copies `pq restore-queue` writes the queue
 * back from) went with the untracked queue directory, and every unapplied patch was lost for good
 * (t102 N5). git clean leaves a nested repository alone unless it is forced twice (`-ffdx`), so
 * `.pq/` is made to look like one: a `.git` directory holding an empty HEAD, objects/ and refs/,
 * nothing else (git's test for a repository). git status and git add would then show `.pq/` as an
 * embedded repository, so it is listed in the repository's `info/exclude` first (its own
 * `.gitignore` no longer reaches across the nested repository's edge). After such a clean,
 * `pq restore-queue` writes the queue back.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, sep } from "node:path";
import { commonGitDir, repositoryAt } from "./head.js";

/** The marker's path in a state directory: its presence means the guard is in place. */
export function cleanGuardPath(stateDir: string): string {
  return join(stateDir, ".git");
}

/**
 * Puts the guard on `stateDir` (a tree's `.pq/`) when the tree is in a git repository and the
 * guard is not there yet. Best effort: a repository whose `info/` cannot be written keeps `.pq/`
 * as it was (ignored by its own `.gitignore`), since the marker without the exclude line would
 * make `git add -A` fail over it.
 */
export function guardStateDirFromClean(tree: string, stateDir: string): void {
  const found = repositoryAt(tree);
  if (!found) return;
  const marker = cleanGuardPath(stateDir);
  const exclude = join(commonGitDir(found.gitDir), "info", "exclude");
  let now: string;
  try {
    now = existsSync(exclude) ? readFileSync(exclude, "utf8") : "";
  } catch {
    return;
  }
  // Checked at every command, not only when the marker is made: the line went missing when the tree
  // moved inside the repository (git mv sub lib) or a hand edit took it out, and git add -A then
  // failed over the marker (t103 N1). Unanchored, it matches the tree wherever it is.
  const listed = now.split("\n").includes(EXCLUDE_LINE);
  if (listed && existsSync(marker)) return;
  try {
    if (!listed) {
      mkdirSync(dirname(exclude), { recursive: true });
      appendFileSync(exclude, `${now && !now.endsWith("\n") ? "\n" : ""}# pq's state (see pq's README, "git clean")\n${EXCLUDE_LINE}\n`);
    }
    mkdirSync(join(marker, "objects"), { recursive: true });
    mkdirSync(join(marker, "refs"), { recursive: true });
    writeFileSync(join(marker, "HEAD"), "ref: refs/heads/pq-state\n");
  } catch {
    // The line could not be written: the marker goes too (git add -A would fail over it), and
    // .pq/ stays ignored by its own .gitignore, as before.
    if (!existsSync(exclude) || !readFileSync(exclude, "utf8").split("\n").includes(EXCLUDE_LINE))
      rmSync(marker, { recursive: true, force: true });
  }
}

/** Every directory named .pq, at any depth: a tree's state directory wherever the tree is in the repository. */
const EXCLUDE_LINE = ".pq/";

/** Whether `stateDir` is kept from git clean -fdx: its marker is there (false also where the tree has no git at all). */
export function stateDirGuarded(stateDir: string): boolean {
  return existsSync(join(cleanGuardPath(stateDir), "HEAD"));
}

/**
 * A shared queue made a git repository of its own inside the tree: listed in the repository's
 * `info/exclude`, anchored, so that `git status` does not show it untracked and `git add -A`
 * does not stage it as an embedded repository (t118 N9). Best effort, as for `.pq/`.
 */
export function excludeQueueRepository(tree: string, queueDir: string): void {
  const found = repositoryAt(tree);
  if (!found) return;
  const rel = relative(found.top, queueDir).split(sep).join("/");
  if (!rel || rel === ".." || rel.startsWith("../") || isAbsolute(rel) || /[*?[\\]|^[#!]|\s$/.test(rel)) return;
  const line = `/${rel}/`;
  const exclude = join(commonGitDir(found.gitDir), "info", "exclude");
  try {
    const now = existsSync(exclude) ? readFileSync(exclude, "utf8") : "";
    if (now.split("\n").includes(line)) return;
    mkdirSync(dirname(exclude), { recursive: true });
    appendFileSync(exclude, `${now && !now.endsWith("\n") ? "\n" : ""}# pq's shared queue, a git repository of its own\n${line}\n`);
  } catch {
    /* not writable: git status shows the queue, as it did */
  }
}

/** The queue lock's files (see src/queue/queue-lock.ts), anchored at the queue repository's top. */
const QUEUE_LOCK_EXCLUDE = "/.pq-lock*";

/**
 * A queue directory that is a git repository of its own (a shared queue) and is locked by the
 * trees that use it: its lock files listed in that repository's `info/exclude`, so that `git
 * status` there does not show them (the live lock during every command, or what a kill left)
 * and `git add -A` does not commit them (t140 N6). Only where the repository's top is the queue
 * directory itself (a .git in it); best effort, as for `.pq/`.
 */
export function excludeQueueLock(queueDir: string): void {
  if (!existsSync(join(queueDir, ".git"))) return;
  const found = repositoryAt(queueDir);
  if (!found) return;
  const exclude = join(commonGitDir(found.gitDir), "info", "exclude");
  try {
    const now = existsSync(exclude) ? readFileSync(exclude, "utf8") : "";
    if (now.split("\n").includes(QUEUE_LOCK_EXCLUDE)) return;
    mkdirSync(dirname(exclude), { recursive: true });
    appendFileSync(
      exclude,
      `${now && !now.endsWith("\n") ? "\n" : ""}# the lock of pq's trees that use this queue directory\n${QUEUE_LOCK_EXCLUDE}\n`,
    );
  } catch {
    /* not writable: git status shows the lock, as it did */
  }
}
