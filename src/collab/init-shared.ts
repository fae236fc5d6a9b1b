/**
 * pq init --shared [URL]: the queue directory becomes its own git repository (as
 * `hg qinit -c`), or a clone of an existing shared queue.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PqError } from "../errors.js";
import { GitRepo } from "../git/repo.js";
import { keepQueueBytesExact, QueueRepo } from "./queue-repo.js";

export async function prepareSharedQueue(
  tree: string,
  queueDir: string,
  url: string | null,
): Promise<{ describe: string; finish(): Promise<void> }> {
  if (url) {
    if (existsSync(queueDir) && readdirSync(queueDir).length) {
      throw new PqError("exists", `${queueDir} exists and is not empty; cannot clone the shared queue into it`, [
        "pass --queue DIR to clone into another directory",
      ]);
    }
    // Checked out only once the clone is told to keep the queue's bytes exact (keepQueueBytesExact).
    const r = spawnSync("git", ["clone", "--quiet", "--no-checkout", url, queueDir], { encoding: "latin1" });
    if (r.status !== 0) throw new PqError("git", `git clone ${url} failed`, String(r.stderr).trim().split("\n"));
    keepQueueBytesExact(queueDir);
    inheritIdentity(tree, queueDir);
    const head = spawnSync("git", ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], { cwd: queueDir, encoding: "latin1" });
    if (head.status === 0) {
      // A queue's branch has a series file at its top. Anything else (the project's own code,
      // a mistyped URL) is refused here: a later pq sync would push patches onto its branch.
      const series = spawnSync("git", ["cat-file", "-e", "HEAD:series"], { cwd: queueDir });
      if (series.status !== 0) {
        rmSync(queueDir, { recursive: true, force: true });
        throw new PqError("refused", `${url} is not a pq queue: its branch has commits but no series file at the top`, [
          "check the URL (the shared queue's repository, not the project's); an empty repository starts a new queue",
        ]);
      }
      const co = spawnSync("git", ["reset", "--quiet", "--hard", "HEAD"], { cwd: queueDir, encoding: "latin1" });
      if (co.status !== 0) throw new PqError("git", `git clone ${url} failed to check out`, String(co.stderr).trim().split("\n"));
      return { describe: `cloned from ${url}`, finish: async () => undefined };
    }
    // An empty remote: this queue starts it, with the same first commit as a queue of its own,
    // so that the first pq sync pushes it (it refused over the uncommitted series before).
    return { describe: `cloned from ${url}, which was empty: this queue starts it`, finish: () => startQueue(queueDir) };
  }
  return {
    describe: "its own git repository",
    finish: async () => {
      const existing = await QueueRepo.open(queueDir);
      if (existing?.kind === "own") return;
      await GitRepo.init(queueDir);
      keepQueueBytesExact(queueDir);
      inheritIdentity(tree, queueDir);
      await startQueue(queueDir);
    },
  };
}

/**
 * An identity set in the tree's own git config (not the global one, which both already see)
 * becomes the queue repository's too: pq commit and the queue's first commit are then made as
 * the person working in this tree, not as whoever the global config names.
 */
function inheritIdentity(tree: string, queueDir: string): void {
  for (const key of ["user.name", "user.email"]) {
    if (spawnSync("git", ["config", "--local", "--get", key], { cwd: queueDir }).status === 0) continue;
    const mine = spawnSync("git", ["config", "--local", "--get", key], { cwd: tree, encoding: "utf8" });
    if (mine.status === 0 && mine.stdout.trim()) spawnSync("git", ["config", "--local", key, mine.stdout.trim()], { cwd: queueDir });
  }
}

async function startQueue(queueDir: string): Promise<void> {
  const qr = (await QueueRepo.open(queueDir))!;
  await qr.commit("pq: start the shared queue");
}

/**
 * pq init --shared [URL] in a tree that already has a stack (hg qinit -c on an existing queue):
 * its queue directory becomes a git repository of its own with the patches committed, and
 * with URL, an empty remote the next pq sync pushes to. Returns what was done.
 */
export async function shareExistingQueue(tree: string, queueDir: string, url: string | null): Promise<string> {
  const existing = await QueueRepo.open(queueDir);
  if (existing && existing.kind !== "own") {
    throw new PqError("refused", `the queue ${queueDir} is versioned in the tree's own repository already`, [
      "share it with the tree: git commit it there and push the tree's branch (pq sync follows that branch)",
    ]);
  }
  const git = (args: string[], cwd = queueDir) => spawnSync("git", args, { cwd, encoding: "utf8" });
  // The remote is checked before anything is made: a refusal leaves the queue as it was. An
  // empty one's HEAD names the branch a colleague's clone will check out, as a clone learns it.
  let remoteBranch: string | null = null;
  if (url) {
    const origin = existing ? git(["remote", "get-url", "origin"]) : null;
    if (origin?.status === 0) {
      throw new PqError("exists", `the queue already has a remote, origin (${origin.stdout.trim()})`, [
        `git -C ${queueDir} remote set-url origin ${url} to change it, then pq sync`,
      ]);
    }
    const heads = git(["ls-remote", "--heads", url], tree);
    if (heads.status !== 0) throw new PqError("git", `git ls-remote ${url} failed`, String(heads.stderr).trim().split("\n"));
    if (heads.stdout.trim()) {
      throw new PqError("refused", `${url} is not empty: it holds a queue (or something else) that this one would have to be merged into`, [
        "to join that queue, start from it: pq init --shared URL in a tree without a stack (or with --queue DIR), then pq import your patches",
      ]);
    }
    const probe = mkdtempSync(join(tmpdir(), "pq-remote-"));
    try {
      if (git(["clone", "--quiet", "--no-checkout", url, join(probe, "q")], tree).status === 0)
        remoteBranch = git(["symbolic-ref", "--short", "HEAD"], join(probe, "q")).stdout.trim() || null;
    } finally {
      rmSync(probe, { recursive: true, force: true });
    }
  }
  if (!existing) {
    await GitRepo.init(queueDir);
    keepQueueBytesExact(queueDir);
    inheritIdentity(tree, queueDir);
    await startQueue(queueDir);
  }
  const made = existing ? "its own git repository already" : "now its own git repository, its patches committed";
  if (!url) return made;
  let branch = git(["symbolic-ref", "--short", "HEAD"]).stdout.trim() || "main";
  if (remoteBranch && remoteBranch !== branch && git(["branch", "-m", remoteBranch]).status === 0) branch = remoteBranch;
  for (const args of [
    ["remote", "add", "origin", url],
    ["config", `branch.${branch}.remote`, "origin"],
    ["config", `branch.${branch}.merge`, `refs/heads/${branch}`],
  ]) {
    const r = git(args);
    if (r.status !== 0) throw new PqError("git", `git ${args.join(" ")} failed`, String(r.stderr).trim().split("\n"));
  }
  return `${made}, with ${url} as its remote (empty: the next pq sync pushes this queue to it)`;
}
