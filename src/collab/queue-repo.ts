/**
 * The shared queue's git repository: either the queue directory's own repository (as
 * `hg qinit -c` makes) or the tree's repository when the queue lives inside it (as
 * queue/ does in this project). Everything here addresses only the queue directory's
 * paths, so a commit, a merge or a reset never takes anything else of the tree.
 */
import { isGitDirAlias } from "../tree/paths.js";
import { shellWord } from "../core/shell-word.js";
import { childProcess } from "../core/child-process.js";
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { gitFailed, gitWriteRefused, PqError } from "../errors.js";
import { GitRepo, readBlobs } from "../git/repo.js";
import { plainBranch, plainGitDir, readHeadCommit, readPlainRef } from "../git/head.js";
import { readText, removeFile, writeAtomic } from "../tree/files.js";
import { bytesToName } from "../patch/paths.js";
import { gitBlobId } from "../patch/index.js";
import type { QueueVersion } from "./types.js";
import { failpoint } from "../core/failpoint.js";
import { pathMap } from "../queue/state.js";
import { Series } from "../queue/series.js";
import { isQueueLockFile } from "../queue/queue-lock.js";
import { firstSymlink } from "../tree/paths.js";

export type QueueRepoKind = "own" | "in-tree";

/** What a commit of the queue would take: HEAD then, the queue's files on disk, and those that differ. */
export interface PendingQueue {
  head: string | null;
  disk: Record<string, string>;
  changed: string[];
  /** Symlinks in the queue directory: not part of it (see refuseSymlinks). */
  links: string[];
  /** Untracked editor backups and leftovers (P.patch~, .P.patch.swp, P.patch.orig): never committed (see EDITOR_LEFTOVER). */
  leftOut: string[];
  /**
   * Other untracked files the series does not list (a TODO, a scratch diff): not committed unless
   * git add made them tracked, as git commit -a leaves them (t60 N15: pq commit published a
   * private note to everyone, and pq sync had refused until it did).
   */
  unlisted: string[];
}

/**
 * Files an editor or a hand merge leaves beside a patch (emacs's NAME~ and #NAME#, vim's
 * .NAME.swp, patch's NAME.orig and NAME.rej): no queue file. Not committed while untracked
 * (collab-17 F17: pq commit published them to everyone); one committed already stays tracked.
 */
const EDITOR_LEFTOVER = /(^|\/)(\.[^/]*\.sw[a-p]|[^/]*~|#[^/]*#|\.#[^/]*|[^/]*\.(orig|rej))$/;

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
    if (git.prefix === "") {
      try {
        keepQueueBytesExact(queueDir, "", git.rootDir);
      } catch {
        // A repository this user may not write (read-only, another owner): read as it is.
      }
      return new QueueRepo(git, queueDir, "own");
    }
    // Inside the tree's repository it is versioned only if git tracks it (an untracked
    // patches/ is an ordinary, unshared queue).
    const tracked = childProcess().spawnSync("git", ["ls-files", "--", "series"], { cwd: queueDir, encoding: "latin1" });
    if (!(tracked.status === 0 && tracked.stdout.trim())) return null;
    try {
      keepQueueBytesExact(queueDir, git.prefix, git.rootDir);
    } catch {
      // A repository this user may not write: read as it is.
    }
    return new QueueRepo(git, queueDir, "in-tree");
  }

  static async require(queueDir: string): Promise<QueueRepo> {
    const repo = await QueueRepo.open(queueDir);
    if (!repo) {
      // A stack with a queue that is not shared: refused in this state (12), not "no stack" (3).
      throw new PqError("refused", `the queue ${queueDir} is not versioned`, [
        "pq init --shared makes it a git repository of its own (pq init --shared URL also makes an empty remote at URL its upstream, which the next pq sync pushes to)",
        "or commit it into the tree's repository (git add QUEUE && git commit) to share it with the tree",
      ]);
    }
    return repo;
  }

  get prefix(): string {
    return this.git.prefix;
  }

  /**
   * A git merge, rebase, cherry-pick or revert left unfinished in the queue's repository (a
   * `git pull` that conflicted): its conflicted files are no patches to commit or sync.
   */
  refuseUnfinishedGitOperation(what: string): void {
    const ops: [string, string, string][] = [
      ["MERGE_HEAD", "a merge (a git pull?)", "merge --abort"],
      ["rebase-merge", "a rebase", "rebase --abort"],
      ["rebase-apply", "a rebase or git am", "rebase --abort (or git am --abort)"],
      ["CHERRY_PICK_HEAD", "a cherry-pick", "cherry-pick --abort"],
      ["REVERT_HEAD", "a revert", "revert --abort"],
    ];
    // Read from a plain repository's .git, else one git for all five paths (sync and commit ask every time).
    const gitDir = plainGitDir(this.queueDir);
    let paths: string[];
    if (gitDir !== null) paths = ops.map(([file]) => join(gitDir, file));
    else {
      const r = childProcess().spawnSync("git", ["rev-parse", ...ops.flatMap(([file]) => ["--git-path", file])], {
        cwd: this.queueDir,
        encoding: "utf8",
      });
      if (r.status !== 0) return;
      paths = r.stdout.split("\n");
    }
    for (const [i, [, op, abort]] of ops.entries()) {
      if (!paths[i] || !existsSync(resolve(this.queueDir, paths[i]))) continue;
      throw new PqError(
        "refused",
        `the queue's git repository is in the middle of ${op}: ${what} would take its half-done files for the queue`,
        [
          `git -C ${shellWord(this.queueDir)} ${abort}, then pq sync: it merges the queue patch by patch, and stops on a real conflict with pq's own resolution`,
        ],
      );
    }
  }

  run(args: string[]): Promise<string> {
    return this.git.run(args);
  }

  /** `git rev-parse --git-path FILE`: read from a plain repository's .git, else asked (null when git fails). */
  private gitPath(file: string): string | null {
    const gitDir = plainGitDir(this.queueDir);
    if (gitDir !== null) return join(gitDir, file);
    const r = childProcess().spawnSync("git", ["rev-parse", "--git-path", file], { cwd: this.queueDir, encoding: "latin1" });
    return r.status === 0 ? resolve(this.queueDir, r.stdout.trim()) : null;
  }

  /** The branch HEAD names, read from a plain repository's files (null: ask git). */
  private plainBranch(): string | null {
    const gitDir = plainGitDir(this.queueDir);
    return gitDir === null ? null : plainBranch(gitDir);
  }

  async head(): Promise<string | null> {
    // A plain repository's HEAD from its files (no git for what every sync and commit asks); git for anything else.
    const known = plainGitDir(this.queueDir) === null ? null : readHeadCommit(this.queueDir);
    if (known !== null) return known;
    // Exit status 1 with no output means "no commit yet", which simple-git does not report.
    const r = childProcess().spawnSync("git", ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], {
      cwd: this.queueDir,
      encoding: "latin1",
    });
    return r.status === 0 ? r.stdout.trim() : null;
  }

  async branch(): Promise<string> {
    const branch = this.plainBranch();
    if (branch !== null) return branch;
    return (await this.run(["symbolic-ref", "--short", "HEAD"])).trim();
  }

  /** Whether HEAD is on no branch (a git checkout of a commit): no upstream, and commits made there are on no branch. */
  async detached(): Promise<boolean> {
    try {
      await this.branch();
      return false;
    } catch {
      return (await this.head()) !== null;
    }
  }

  /** The remote-tracking branch (e.g. origin/main) and its remote, if one is configured. */
  async upstream(): Promise<{ remote: string; ref: string; branch: string } | null> {
    try {
      const branch = await this.branch();
      // Both settings in one git: the key is a pattern, so the branch name's own dots and
      // other pattern characters are escaped.
      const key = `^branch\\.${branch.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.(remote|merge)$`;
      const values = new Map<string, string>();
      for (const line of (await this.run(["config", "--get-regexp", key])).split("\n")) {
        const space = line.indexOf(" ");
        if (space > 0) values.set(line.slice(line.lastIndexOf(".", space) + 1, space), line.slice(space + 1));
      }
      const remote = values.get("remote") ?? "";
      const merge = (values.get("merge") ?? "").replace(/^refs\/heads\//, "");
      return remote ? { remote, ref: `refs/remotes/${remote}/${merge}`, branch: merge } : null;
    } catch {
      return null;
    }
  }

  async resolve(rev: string): Promise<string | null> {
    const gitDir = plainGitDir(this.queueDir);
    const known = gitDir === null ? null : readPlainRef(gitDir, rev);
    if (known !== null) return known;
    const r = childProcess().spawnSync("git", ["rev-parse", "--verify", "--quiet", `${rev}^{commit}`], {
      cwd: this.queueDir,
      encoding: "latin1",
    });
    return r.status === 0 ? r.stdout.trim() || null : null;
  }

  /**
   * Whether any value `ref` has had here is in the history of `ours`: whether this queue was
   * cloned from that branch or ever merged it. The values are read from the ref's reflog file,
   * both sides of each entry: a clone leaves no reflog for its remote-tracking refs, but the
   * first fetch that moves one records the value the clone gave it as the old side.
   */
  async everMerged(ref: string, ours: string): Promise<boolean> {
    const logFile = this.gitPath(`logs/${ref}`);
    const text = logFile === null ? null : readText(logFile);
    const values = new Set<string>();
    for (const line of (text ?? "").split("\n")) {
      const [from, to] = line.split(" ", 2);
      for (const v of [from, to]) if (v && /^[0-9a-f]{40,64}$/.test(v) && !/^0+$/.test(v)) values.add(v);
    }
    const now = await this.resolve(ref);
    if (now) values.add(now);
    if (!values.size) return false;
    const history = childProcess().spawnSync("git", ["rev-list", ours, "--"], {
      cwd: this.queueDir,
      encoding: "latin1",
      maxBuffer: 1 << 28,
    });
    if (history.status !== 0) throw gitFailed("git rev-list", String(history.stderr).trim());
    return history.stdout.split("\n").some((c) => values.has(c));
  }

  /** A commit's parents, in order (none for a root commit, or an unknown commit). */
  parents(commit: string): string[] {
    const r = childProcess().spawnSync("git", ["rev-list", "--parents", "-n", "1", commit, "--"], {
      cwd: this.queueDir,
      encoding: "latin1",
    });
    return r.status === 0 ? r.stdout.trim().split(/\s+/).slice(1) : [];
  }

  async isAncestor(a: string, b: string): Promise<boolean> {
    return this.git.isAncestor(a, b);
  }

  async mergeBase(a: string, b: string): Promise<string | null> {
    try {
      return (await this.run(["merge-base", a, b])).trim() || null;
    } catch {
      return null;
    }
  }

  /** Commits HEAD has that `up` (default: the upstream) lacks, and the other way round. */
  async aheadBehind(up?: { ref: string } | null): Promise<{ ahead: number; behind: number; upstreamMissing?: true } | null> {
    if (up === undefined) up = await this.upstream();
    if (!up || !(await this.head())) return null;
    // No such branch on the remote yet (an empty remote, a push it refused): every commit here is unpushed,
    // not "0 ahead" (collab-17 F5).
    if (!(await this.resolve(up.ref)))
      return { ahead: Number((await this.run(["rev-list", "--count", "HEAD"])).trim()), behind: 0, upstreamMissing: true };
    const [ahead, behind] = (await this.run(["rev-list", "--left-right", "--count", `HEAD...${up.ref}`])).trim().split(/\s+/).map(Number);
    return { ahead, behind };
  }

  /** The queue as committed at `rev` (the empty queue for null). */
  /** Refuses commit `rev` where git cannot check it out (see refuseUncheckoutable). */
  refuseUncheckoutableAt(rev: string, what: string, ways: string[]): void {
    refuseUncheckoutable(this.git.rootDir, rev, what, ways);
  }

  /** Whether the queue's series file is in commit `rev`. */
  hasSeriesAt(rev: string): boolean {
    return childProcess().spawnSync("git", ["cat-file", "-e", `${rev}:${this.prefix}series`], { cwd: this.git.rootDir }).status === 0;
  }

  /**
   * Whether `theirs` took the queue's series away: it has none, where the history it shares with
   * `ours` had one (a hosting site's README-only start never had one, and is merged in).
   */
  seriesRemovedBy(ours: string, theirs: string): boolean {
    if (this.hasSeriesAt(theirs)) return false;
    const base = childProcess().spawnSync("git", ["merge-base", ours, theirs], { cwd: this.git.rootDir, encoding: "latin1" });
    return base.status === 0 && this.hasSeriesAt(base.stdout.trim());
  }

  async versionAt(rev: string | null): Promise<QueueVersion> {
    if (!rev) return { series: "", patches: pathMap() };
    const files = await this.git.filesAt(rev);
    return splitVersion(files);
  }

  /** The queue directory as it is on disk. */
  readDisk(): QueueVersion {
    return splitVersion(this.diskFiles());
  }

  /** Make the queue directory hold exactly `version` (files of `previous` it lacks are removed). */
  writeDisk(version: QueueVersion, previous: QueueVersion): void {
    failpoint("queue-disk-write");
    // A patch in a directory (bugfix/x86/fix.patch) takes its emptied directories with it.
    for (const name of Object.keys(previous.patches)) if (!(name in version.patches)) removeFile(join(this.queueDir, name), this.queueDir);
    for (const [name, text] of Object.entries(version.patches))
      if (readText(join(this.queueDir, name)) !== text) writeAtomic(join(this.queueDir, name), text);
    if (readText(join(this.queueDir, "series")) !== version.series) writeAtomic(join(this.queueDir, "series"), version.series);
  }

  /** Every file under the queue directory (subdirectories too, .git aside), by relative path. */
  diskFiles(): Record<string, string> {
    return this.walkDisk().files;
  }

  /** The queue directory's regular files, and the symlinks in it (which a queue does not hold). */
  private walkDisk(): { files: Record<string, string>; links: string[] } {
    const files = pathMap<string>();
    const links: string[] = [];
    const walk = (dir: string, rel: string) => {
      for (const name of readdirSync(dir)) {
        // A `NAME.tmp-PID` is a write of pq in flight (writeAtomic), or left by a killed one: never a queue file.
        // The queue's lock (see queue-lock.ts), held while a pq command runs: never a queue file either.
        if (name === ".git" || /\.tmp-\d+$/.test(name) || (rel === "" && isQueueLockFile(name))) continue;
        const full = join(dir, name);
        // lstat: a symlink in the queue directory is not followed (it could point anywhere, or loop).
        const st = lstatSync(full);
        if (st.isDirectory()) walk(full, `${rel}${name}/`);
        else if (st.isFile()) files[`${rel}${name}`] = readText(full)!;
        else if (st.isSymbolicLink()) links.push(`${rel}${name}`);
      }
    };
    walk(this.queueDir, "");
    return { files, links: links.sort() };
  }

  /**
   * A symlink in the queue directory (made by hand, or committed with plain git) is no queue
   * file: committed, it would point into each colleague's own file system; left out, a commit
   * would delete it from the queue's history without a word. Refused, with the way out.
   */
  refuseSymlinks(links: string[], what: string): void {
    if (!links.length) return;
    const [first] = links;
    throw new PqError(
      "refused",
      `${links.join(", ")} in the queue directory ${links.length === 1 ? "is a symlink" : "are symlinks"}: a shared queue holds regular files only, so ${what} would leave ${links.length === 1 ? "it" : "them"} out`,
      [
        // Where it points, said: a link that came from someone else may name any file of this machine (collab-17 F4).
        `${first} points to ${linkTarget(join(this.queueDir, first))}: remove it (git -C ${shellWord(this.queueDir)} rm ${first}), or, only if you made it and that file is a patch of yours to share, replace it by a copy of that file; then run the command again`,
      ],
      { files: links },
    );
  }

  /**
   * Queue files that differ from HEAD (new, changed or deleted), by content: git's stat
   * check can miss a rewrite of the same size within one timestamp tick.
   */
  async uncommitted(): Promise<string[]> {
    return (await this.pending()).changed;
  }

  /** HEAD, the queue directory as it is on disk, and the files that differ between the two. */
  async pending(): Promise<PendingQueue> {
    const head = await this.head();
    const committed = head ? await this.git.filesAt(head) : {};
    const { files: disk, links } = this.walkDisk();
    const listed = listedNames(disk.series);
    const untracked = Object.keys(disk).filter((p) => committed[p] === undefined && p !== "series" && !listed?.has(p));
    // What git add staged is shared as any tracked file, a leftover too (t67 N2: the note's own advice did nothing).
    const staged = untracked.length ? new Set((await this.run(["ls-files", "-z", "--", "."])).split("\0")) : new Set<string>();
    const leftOut = untracked.filter((p) => EDITOR_LEFTOVER.test(p) && !staged.has(p)).sort();
    for (const p of leftOut) delete disk[p];
    const unlisted = listed ? untracked.filter((p) => !staged.has(p) && !leftOut.includes(p)).sort() : [];
    for (const p of unlisted) delete disk[p];
    const changed = [...new Set([...Object.keys(committed), ...Object.keys(disk)])].filter((p) => committed[p] !== disk[p]).sort();
    return { head, disk, changed, links, leftOut, unlisted };
  }

  /**
   * Commit the queue directory, and nothing else, with the user's identity: as `seen` found it
   * (what the caller checked), else as it is on disk now.
   */
  async commit(message: string, seen?: PendingQueue): Promise<string | null> {
    const { head, disk, changed, links } = seen ?? (await this.pending());
    this.refuseSymlinks(links, "a commit");
    if (!changed.length) return null;
    try {
      const commit = await this.git.commitDirectory(head, this.prefix, disk, head ? [head] : [], message);
      await this.moveHead(commit, head);
      return commit;
    } catch (e) {
      // git may not write its objects, branch or reflog there: the system's refusal, with the way on (t95 N3).
      if (e instanceof Error && gitWriteRefused(e.message))
        throw new PqError("system", `git cannot write the queue's commit in ${this.queueDir} (permission denied)`, [
          "make the queue's git directory writable for you (its objects, refs and logs; chmod -R u+w, by its owner if that is not you), then pq commit again",
          `git said: ${e.message.split("\n")[0]}`,
        ]);
      throw e;
    }
  }

  /**
   * Move HEAD (its branch) to `commit` and make the index's queue entries match it. The index
   * first: a kill between the two steps leaves the new version staged over the old HEAD (a plain
   * git commit makes the same commit, and so does the next pq commit), where the other order left
   * the old version staged over the new HEAD, a revert for the next git commit (t83 N2).
   */
  async moveHead(commit: string, expected: string | null): Promise<void> {
    await this.run(["reset", "-q", commit, "--", "."]);
    failpoint("queue-index-set");
    try {
      await this.run(["update-ref", "-m", "pq sync", "HEAD", commit, ...(expected ? [expected] : [])]);
    } catch (e) {
      // HEAD moved meanwhile (update-ref's check): the index goes back to what HEAD is.
      await this.run(["reset", "-q", "HEAD", "--", "."]).catch(() => undefined);
      throw e;
    }
    failpoint("queue-head-moved");
    await this.checkOutExtras(expected, commit);
  }

  /**
   * The files beside the queue's own (.gitattributes, .gitignore, .github/) written as `to` has
   * them, where the disk still has them as `from` did: a sync wrote only the series and the
   * patches, git then saw the colleague's new dotfiles as deleted, and the next pq commit
   * deleted them from the shared queue (t60 N13). One changed here is left as it is; nothing is
   * written through a symlink in the queue directory.
   */
  async checkOutExtras(from: string | null, to: string): Promise<void> {
    // The paths the move changes, asked of git first: a pq commit's or a sync's move rarely
    // touches one of these files, and reading both commits' every file cost each of them.
    if (from) {
      const changed = await this.run(["diff-tree", "-r", "-z", "--name-only", "--no-renames", "--relative", from, to, "--", "."]);
      if (!changed.split("\0").some((path) => path && isQueueExtra(path))) return;
    }
    const [before, after] = await Promise.all([from ? this.git.filesAt(from) : Promise.resolve(pathMap<string>()), this.git.filesAt(to)]);
    for (const path of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (!isQueueExtra(path) || before[path] === after[path]) continue;
      const full = join(this.queueDir, path);
      if (firstSymlink(this.queueDir, path.split("/")) !== null) continue;
      if (readText(full) !== (before[path] ?? null)) continue;
      if (after[path] === undefined) removeFile(full, this.queueDir);
      else {
        mkdirSync(dirname(full), { recursive: true });
        writeAtomic(full, after[path]);
      }
    }
  }

  async fetch(remote: string): Promise<void> {
    try {
      await this.git.git.raw(["fetch", "--quiet", remote]);
    } catch (e) {
      const message = (e as Error).message;
      // The disk here, not the remote (t72 N7): said as pq says the system's other refusals.
      if (/No space left on device|Disk quota exceeded/i.test(message))
        throw new PqError(
          "system",
          `git fetch ${remote} could not write what it fetched: ${/Disk quota/i.test(message) ? "over your disk quota" : "no space left on device"}`,
          ["free some space on that file system, then run the command again; nothing was changed"],
        );
      // The queue's own git directory refused a write (FETCH_HEAD, its objects, its refs): not the remote (t95 N3).
      if (gitWriteRefused(message) && !/Could not read from remote|fatal: unable to access/i.test(message))
        throw new PqError(
          "system",
          `git fetch ${remote} could not write into the queue's git directory in ${this.queueDir} (permission denied)`,
          [
            "make the queue's git directory writable for you (chmod -R u+w, by its owner if that is not you), then run the command again; nothing was changed",
            `git said: ${message.split("\n")[0]}`,
          ],
        );
      throw gitFailed(`git fetch ${remote}`, message, [
        `check the remote (git -C ${shellWord(this.queueDir)} remote -v) and your access to it`,
      ]);
    }
  }

  /**
   * Moves the files outside the queue directory (an in-tree queue's tree) from `from`'s versions
   * to `to`'s, in git's index and the work tree, as a checkout of `to` would: a sync that takes
   * a colleague's tree commits in with their queue. Each file is taken as it is: at `to`'s
   * version already (a sync cut short part way: t152 N6), left; at `from`'s, moved; anything
   * else (an edit of yours, an untracked or ignored file where `to` adds one) refuses the whole
   * move before anything is written. `checkOnly`: the refusal alone.
   */
  async moveOutsideFiles(from: string, to: string, opts: { checkOnly?: boolean } = {}): Promise<void> {
    const paths = await this.changesOutsideQueue(from, to);
    if (!paths.length) return;
    const top = this.git.rootDir;
    // Run at the tree's top with the paths as they are (simple-git runs in the queue directory, and
    // ls-tree takes no pathspec magic): top-relative names in, top-relative names out.
    const listed = (args: string[]) =>
      new Set(
        String(
          childProcess().spawnSync("git", ["--literal-pathspecs", ...args, "--", ...paths], {
            cwd: top,
            encoding: "latin1",
            maxBuffer: 1 << 30,
          }).stdout ?? "",
        )
          .split("\0")
          .filter(Boolean),
      );
    const inTree = (rev: string) => listed(["ls-tree", "-r", "-z", "--name-only", "--full-tree", rev]);
    const [inFrom, inTo] = [inTree(from), inTree(to)];
    const offFrom = new Set([
      ...listed(["diff", "--name-only", "--no-renames", "-z", from]),
      ...listed(["diff", "--cached", "--name-only", "--no-renames", "-z", from]),
    ]);
    const offTo = new Set([
      ...listed(["diff", "--name-only", "--no-renames", "-z", to]),
      ...listed(["diff", "--cached", "--name-only", "--no-renames", "-z", to]),
    ]);
    // Files git does not track (untracked or ignored) on a path: none is at a version that lacks the path.
    const untracked = listed(["ls-files", "-z", "--full-name", "--others"]);
    const ignored = listed(["ls-files", "-z", "--full-name", "--others", "--ignored", "--exclude-standard"]);
    const onDisk = (p: string) => lstatSync(join(top, p), { throwIfNoEntry: false }) !== undefined;
    const at = (p: string, inRev: Set<string>, off: Set<string>) =>
      inRev.has(p) ? !off.has(p) : !untracked.has(p) && !onDisk(p) && !off.has(p);
    const toMove = paths.filter((p) => !at(p, inTo, offTo));
    const blocked = toMove.filter((p) => !at(p, inFrom, offFrom));
    if (blocked.length) {
      // An edit of a tracked file goes through git stash and back; a file git does not track where
      // they add one (ignored too, which git stash -u leaves) cannot come back over theirs (t152 N3).
      const notTracked = blocked.filter((p) => untracked.has(p));
      const edited = blocked.filter((p) => !untracked.has(p));
      const list = (files: string[]) => `${files.slice(0, 5).join(", ")}${files.length > 5 ? ", ..." : ""}`;
      throw new PqError(
        "dirty",
        `the remote's tree commits change files you have changes in: ${[
          ...(edited.length ? [`${list(edited)} (edited)`] : []),
          ...(notTracked.length
            ? [
                `${list(notTracked)} (${notTracked.some((p) => ignored.has(p)) ? "files git does not track or ignores" : "files git does not track"}, where they add one)`,
              ]
            : []),
        ].join("; ")}: nothing was changed`,
        [
          ...(edited.length ? [`set the edits aside: git stash, pq sync, then git stash pop`] : []),
          ...(notTracked.length
            ? [
                `move ${notTracked.length === 1 ? "that file" : "those files"} out of the tree, pq sync, then compare yours with what came in`,
              ]
            : []),
        ],
        { files: blocked },
      );
    }
    if (opts.checkOnly || !toMove.length) return;
    const kept = toMove.filter((p) => inTo.has(p));
    const gone = toMove.filter((p) => !inTo.has(p));
    if (kept.length) await this.run(["checkout", to, "--", ...kept.map((p) => `:(top,literal)${p}`)]);
    failpoint("tree-files-checked-out");
    if (gone.length) await this.run(["rm", "-q", "-f", "--ignore-unmatch", "--", ...gone.map((p) => `:(top,literal)${p}`)]);
  }

  /** Paths outside the queue directory that differ between two commits (in-tree queues only). */
  async changesOutsideQueue(a: string, b: string): Promise<string[]> {
    if (this.kind === "own") return [];
    // --no-renames: a moved file is its old path and its new one (a sync taking them in deletes the one, writes the other).
    const out = await this.run(["diff", "--name-only", "--no-renames", "-z", a, b, "--", ":/", `:(exclude,top)${this.prefix}`]);
    return out.split("\0").filter(Boolean);
  }
}

/**
 * The attributes pattern for everything under the directory `prefix` ("dir/"): its glob
 * characters escaped, and the whole C-quoted when it has a space or a quote (git unquotes a
 * pattern that starts with a double quote, then matches it as a glob).
 */
export function attributesPattern(prefix: string): string {
  const glob = `/${prefix.replace(/[\\*?[]/g, (c) => `\\${c}`)}**`;
  return /[\s"]/.test(glob) ? `"${glob.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"` : glob;
}

/** The attributes pq gives the queue's files (in info/attributes): none is converted on checkout or commit. */
const EXACT_ATTRIBUTES = "-text -eol -filter -ident -working-tree-encoding";

/**
 * A queue's files are checked out and compared byte for byte, whatever the user's git would
 * convert. With `core.autocrlf=true` (common where the same account is used from Windows) a
 * clone wrote every patch with CRLF line ends: they no longer matched the committed blobs
 * (`pq status`: "uncommitted" for every patch, and `pq commit` would have committed the
 * CRs) and changed what the patches said about CRLF files. info/attributes takes precedence
 * over any .gitattributes in the repository: `* ...` in a queue's own repository (with
 * core.autocrlf=false as well), `/QUEUE/** ...` for a queue inside the tree's repository,
 * whose other files keep the user's settings. `top` is the repository's top directory (git's
 * answer, not a path walked up from the queue's, which a symlink would mislead). Written once; copies an earlier checkout
 * converted (same blob once converted back) are then rewritten with the committed bytes.
 */
export function keepQueueBytesExact(queueDir: string, prefix = "", top = queueDir): void {
  // A directory name with a tab or a newline is left as it is (git would need it C-quoted with escapes).
  if (/[\x00-\x1f\x7f]/.test(prefix)) return;
  // The file is bytes (read and written as latin1), and git reads its patterns as UTF-8: written
  // as the name's characters, a directory like qüeue/ had its pattern in Latin-1, which matched
  // nothing, and every patch was converted (t35 F1).
  const line = Buffer.from(`${prefix === "" ? "*" : attributesPattern(prefix)} ${EXACT_ATTRIBUTES}`, "utf8").toString("latin1");
  const dotGit = join(top, ".git");
  const has = (text: string | null) => (text ?? "").split("\n").includes(line);
  if (lstatSync(dotGit, { throwIfNoEntry: false })?.isDirectory() && has(readText(join(dotGit, "info", "attributes")))) return;
  const path = childProcess().spawnSync("git", ["rev-parse", "--git-path", "info/attributes"], { cwd: top, encoding: "latin1" });
  if (path.status !== 0) return;
  const file = resolve(top, path.stdout.trim());
  const now = readText(file);
  if (has(now)) return;
  const converted = convertedCopies(top, prefix);
  mkdirSync(dirname(file), { recursive: true });
  writeAtomic(file, `${now ?? ""}${now && !now.endsWith("\n") ? "\n" : ""}# pq: queue files are kept byte for byte\n${line}\n`);
  if (prefix === "") childProcess().spawnSync("git", ["config", "core.autocrlf", "false"], { cwd: top });
  for (const c of converted) writeAtomic(join(top, c.path), c.content);
  // git's index still holds the converted copies' sizes, so git status would call them modified
  // (with an empty diff): index entries that are HEAD's blob are re-read; a staged change stays.
  if (converted.length) {
    const staged = childProcess().spawnSync("git", ["ls-files", "-s", "-z", "--", ...converted.map((c) => `:(top,literal)${c.path}`)], {
      cwd: top,
      encoding: "latin1",
    }).stdout;
    const indexIds = new Map<string, string>();
    for (const e of staged.split("\0")) {
      const m = /^\d+ ([0-9a-f]{40}) 0\t(.*)$/.exec(e);
      if (m) indexIds.set(m[2], m[1]);
    }
    const refresh = converted.filter((c) => indexIds.get(c.bytes) === c.id).map((c) => c.path);
    if (refresh.length) childProcess().spawnSync("git", ["update-index", "-q", "--", ...refresh], { cwd: top });
  }
}

/**
 * The queue files (under `prefix`) whose copy on disk differs from HEAD's blob only by git's
 * conversion: their bytes are not the blob's, but git would store them as that blob. Returns
 * each with its blob's id and bytes. Paths that are no UTF-8 are left out (and alone).
 */
function convertedCopies(top: string, prefix: string): { path: string; bytes: string; id: string; content: string }[] {
  const tree = childProcess().spawnSync("git", ["ls-tree", "-r", "-z", "--full-tree", "HEAD", "--", prefix === "" ? "." : prefix], {
    cwd: top,
    encoding: "latin1",
  });
  if (tree.status !== 0) return []; // no commit yet
  // `bytes`: the path as git lists it (its UTF-8 bytes read as latin1), `path` as the file system is asked for it.
  const differing: { path: string; bytes: string; id: string }[] = [];
  for (const entry of tree.stdout.split("\0")) {
    const m = /^100644 blob ([0-9a-f]{40})\t([^\x00-\x1f\x7f]+)$/.exec(entry);
    if (!m) continue;
    // A name that is no UTF-8 is left alone (the file system could not be asked for it by name).
    const path = bytesToName(m[2]);
    if (/[\x80-\xff]/.test(path) && path === m[2]) continue;
    const text = readText(join(top, path));
    if (text !== null && gitBlobId(text) !== m[1]) differing.push({ path, bytes: m[2], id: m[1] });
  }
  if (!differing.length) return [];
  // As git add would store each copy, with the conversion in force before the attributes change.
  const input = differing.map((d) => d.bytes).join("\n") + "\n";
  const stored = childProcess()
    .spawnSync("git", ["hash-object", "--stdin-paths"], { cwd: top, encoding: "latin1", input })
    .stdout.split("\n");
  const same = differing.filter((d, i) => stored[i] === d.id);
  const blobs = readBlobs(
    top,
    same.map((d) => d.id),
  );
  return same.map((d) => ({ ...d, content: blobs.get(d.id)! }));
}

/** The names a series text lists, or null when it cannot be read as one (then nothing is left out for it). */
function listedNames(series: string | undefined): Set<string> | null {
  try {
    return new Set(Series.fromBytes(series ?? "").names());
  } catch {
    return null;
  }
}

/** Files of a queue directory that are not part of the queue: anything under a dot-name (.git, .pc, .hgignore). */
export const isQueueExtra = (path: string) => path.split("/").some((c) => c.startsWith("."));

export function splitVersion(files: Record<string, string>): QueueVersion {
  const { series = "", ...rest } = files;
  const patches = pathMap<string>();
  // Patch names may have directories (Debian's bugfix/x86/foo.patch): every other file is a patch file.
  for (const [name, text] of Object.entries(rest)) if (!isQueueExtra(name)) patches[name] = text;
  return { series, patches };
}

/** Where a symlink points, as readlink says it (or "?" when it cannot be read). */
function linkTarget(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return "?";
  }
}

/**
 * Paths of a commit's tree that git refuses to put in an index or a work tree: a `.git` (or an
 * alias of it), `.` or `..` anywhere, and a name the tree lists twice (git mktree makes both; receive-pack
 * does not check them by default). A queue version holding one stopped every colleague's sync
 * half way, in git reset (t156 N13). `gitDir`: run there (a bare repository's folder works too).
 */
export function uncheckoutablePaths(cwd: string, rev: string): string[] {
  const r = childProcess().spawnSync("git", ["ls-tree", "-r", "-t", "-z", "--full-tree", "--name-only", rev], {
    cwd,
    encoding: "latin1",
    maxBuffer: 1 << 30,
  });
  if (r.status !== 0) return [];
  const seen = new Set<string>();
  const bad: string[] = [];
  for (const path of r.stdout.split("\0").filter(Boolean)) {
    // git's verify_path: no ".git" (nor an alias of it), ".", ".." or empty component (t157 N2).
    if (seen.has(path) || path.split("/").some((part) => part === "" || part === "." || part === ".." || isGitDirAlias(part)))
      bad.push(path);
    seen.add(path);
  }
  return [...new Set(bad)];
}

/**
 * The refusal of a commit whose tree git cannot check out (see uncheckoutablePaths), `what`
 * naming it ("the remote's queue (origin/main at ...)"): the gate's, the sync's and init --shared's.
 */
export function refuseUncheckoutable(cwd: string, rev: string, what: string, ways: string[]): void {
  const paths = uncheckoutablePaths(cwd, rev);
  if (paths.length)
    throw new PqError(
      "unsafe-path",
      `${what} holds ${paths.slice(0, 3).join(", ")}, which git cannot check out (a .git entry, or a name its tree lists twice)`,
      ways,
      {
        files: paths,
      },
    );
}
