/**
 * The shared queue's git repository: either the queue directory's own repository (as
 * `hg qinit -c` makes) or the tree's repository when the queue lives inside it (as
 * queue/ does in this project). Everything here addresses only the queue directory's
 * paths, so a commit, a merge or a reset never takes anything else of the tree.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { PqError } from "../errors.js";
import { GitRepo } from "../git/repo.js";
import { readText, writeAtomic } from "../tree/files.js";
import type { QueueVersion } from "./types.js";

export type QueueRepoKind = "own" | "in-tree";

export class QueueRepo {
  private constructor(
    readonly git: GitRepo,
    readonly queueDir: string,
    readonly kind: QueueRepoKind,
  ) {}

  /** The repository that versions `queueDir`, or null when it is not in one. */
  static async open(queueDir: string): Promise<QueueRepo | null> {
    const git = await GitRepo.open(queueDir);
    if (!git) return null;
    return new QueueRepo(git, queueDir, git.prefix === "" ? "own" : "in-tree");
  }

  static async require(queueDir: string): Promise<QueueRepo> {
    const repo = await QueueRepo.open(queueDir);
    if (!repo) throw new PqError("no-queue", `the queue ${queueDir} is not in a git repository`, ["pq init --shared makes it one (or clones a shared queue: pq init --shared URL)"]);
    return repo;
  }

  get prefix(): string {
    return this.git.prefix;
  }

  run(args: string[]): Promise<string> {
    return this.git.run(args);
  }

  async head(): Promise<string | null> {
    return (await this.git.hasHead()) ? (await this.run(["rev-parse", "HEAD"])).trim() : null;
  }

  async branch(): Promise<string> {
    return (await this.run(["symbolic-ref", "--short", "HEAD"])).trim();
  }

  /** The remote-tracking branch (e.g. origin/main) and its remote, if one is configured. */
  async upstream(): Promise<{ remote: string; ref: string; branch: string } | null> {
    try {
      const branch = await this.branch();
      const remote = (await this.run(["config", `branch.${branch}.remote`])).trim();
      const merge = (await this.run(["config", `branch.${branch}.merge`])).trim().replace(/^refs\/heads\//, "");
      return remote ? { remote, ref: `refs/remotes/${remote}/${merge}`, branch: merge } : null;
    } catch {
      return null;
    }
  }

  async resolve(rev: string): Promise<string | null> {
    try {
      return (await this.run(["rev-parse", "--verify", "--quiet", `${rev}^{commit}`])).trim() || null;
    } catch {
      return null;
    }
  }

  async isAncestor(a: string, b: string): Promise<boolean> {
    // The answer is the exit status alone (1 = no), which simple-git does not report.
    const r = spawnSync("git", ["merge-base", "--is-ancestor", a, b], { cwd: this.queueDir });
    if (r.status !== 0 && r.status !== 1) throw new PqError("git", `git merge-base failed: ${String(r.stderr).trim()}`);
    return r.status === 0;
  }

  async mergeBase(a: string, b: string): Promise<string | null> {
    try {
      return (await this.run(["merge-base", a, b])).trim() || null;
    } catch {
      return null;
    }
  }

  async aheadBehind(): Promise<{ ahead: number; behind: number } | null> {
    const up = await this.upstream();
    if (!up || !(await this.resolve(up.ref)) || !(await this.head())) return null;
    const [ahead, behind] = (await this.run(["rev-list", "--left-right", "--count", `HEAD...${up.ref}`])).trim().split(/\s+/).map(Number);
    return { ahead, behind };
  }

  /** The queue as committed at `rev` (the empty queue for null). */
  async versionAt(rev: string | null): Promise<QueueVersion> {
    if (!rev) return { series: "", patches: {} };
    const files = await this.git.filesAt(rev);
    return splitVersion(files);
  }

  /** The queue directory as it is on disk. */
  readDisk(): QueueVersion {
    const files: Record<string, string> = {};
    for (const name of readdirSync(this.queueDir)) {
      if (name.startsWith(".")) continue;
      const full = join(this.queueDir, name);
      if (!statSync(full).isFile()) continue;
      files[name] = readText(full)!;
    }
    return splitVersion(files);
  }

  /** Make the queue directory hold exactly `version` (files of `previous` it lacks are removed). */
  writeDisk(version: QueueVersion, previous: QueueVersion): void {
    for (const name of Object.keys(previous.patches)) if (!(name in version.patches)) unlinkSync(join(this.queueDir, name));
    for (const [name, text] of Object.entries(version.patches)) if (readText(join(this.queueDir, name)) !== text) writeAtomic(join(this.queueDir, name), text);
    if (readText(join(this.queueDir, "series")) !== version.series) writeAtomic(join(this.queueDir, "series"), version.series);
  }

  /** Queue files that differ from HEAD (new, changed or deleted). */
  async uncommitted(): Promise<string[]> {
    const out = await this.run(["status", "--porcelain=v1", "-z", "--untracked-files=all", "--", "."]);
    return out
      .split("\0")
      .filter((f) => f.length > 3)
      .map((f) => f.slice(3))
      .filter((p) => !p.split("/").some((c) => c.startsWith(".")) || p.endsWith(".gitignore"));
  }

  /** Commit the queue directory's changes, and only them, with the user's identity. */
  async commit(message: string): Promise<string | null> {
    if (!(await this.uncommitted()).length) return null;
    await this.run(["add", "-A", "--", "."]);
    await this.run(["commit", "-q", "-m", message, "--", "."]);
    return this.head();
  }

  /** Move HEAD (its branch) to `commit` and make the index's queue entries match it. */
  async moveHead(commit: string, expected: string | null): Promise<void> {
    await this.run(["update-ref", "-m", "pq sync", "HEAD", commit, ...(expected ? [expected] : [])]);
    await this.run(["reset", "-q", "HEAD", "--", "."]);
  }

  async fetch(remote: string): Promise<void> {
    try {
      await this.git.git.raw(["fetch", "--quiet", remote]);
    } catch (e) {
      throw new PqError("git", `git fetch ${remote} failed: ${(e as Error).message.trim()}`, ["check the remote (git -C QUEUE remote -v) and your access to it"]);
    }
  }

  /** Paths outside the queue directory that differ between two commits (in-tree queues only). */
  async changesOutsideQueue(a: string, b: string): Promise<string[]> {
    if (this.kind === "own") return [];
    const out = await this.run(["diff", "--name-only", "-z", a, b, "--", ":/", `:(exclude,top)${this.prefix}`]);
    return out.split("\0").filter(Boolean);
  }
}

export function splitVersion(files: Record<string, string>): QueueVersion {
  const { series = "", ...rest } = files;
  const patches: Record<string, string> = {};
  for (const [name, text] of Object.entries(rest)) if (!name.includes("/") && !name.startsWith(".")) patches[name] = text;
  return { series, patches };
}
