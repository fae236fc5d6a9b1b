/**
 * pq init --shared [URL]: the queue directory becomes its own git repository (as
 * `hg qinit -c`), or a clone of an existing shared queue.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, rmSync } from "node:fs";
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
