/**
 * pq init --shared [URL]: the queue directory becomes its own git repository (as
 * `hg qinit -c`), or a clone of an existing shared queue.
 */
import { shellWord } from "../core/shell-word.js";
import { childProcess } from "../core/child-process.js";
import { existsSync, mkdtempSync, readdirSync, realpathSync, renameSync, rmdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { removeDeadLeftovers } from "../tree/files.js";
import { PqError } from "../errors.js";
import { GitRepo } from "../git/repo.js";
import { keepQueueBytesExact, QueueRepo, refuseUncheckoutable } from "./queue-repo.js";

/**
 * A shared queue is committed to: git must know who commits, in this tree (the queue's
 * repository takes the tree's identity at init). Asked before anything is made (collab-17 F20:
 * an init that failed at its first commit left a half-made stack, and the identity git then
 * asked for, set in the tree, no longer reached the queue's repository).
 */
function refuseWithoutIdentity(tree: string): void {
  for (const ident of ["GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"]) {
    const r = childProcess().spawnSync("git", ["var", ident], { cwd: tree, encoding: "utf8" });
    if (r.status === 0) continue;
    throw new PqError("refused", `git does not know who you are, and a shared queue is committed to: nothing was made`, [
      `git config --global user.name "Your Name" and git config --global user.email you@example.org (or the same without --global, in ${tree}), then pq init --shared again`,
      ...(ident === "GIT_COMMITTER_IDENT"
        ? [
            "GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL alone name the author; git also needs the committer (GIT_COMMITTER_NAME/GIT_COMMITTER_EMAIL, or the config above)",
          ]
        : []),
    ]);
  }
}

/**
 * `branch`: the remote's branch that holds the queue (pq init --shared URL --branch NAME),
 * instead of the one its HEAD names; an empty remote's queue starts on it.
 */
export async function prepareSharedQueue(
  tree: string,
  queueDir: string,
  url: string | null,
  branch?: string,
): Promise<{ describe: string; finish(): Promise<void> }> {
  if (url) {
    // A newcomer to a shared queue commits to it (and starts it, when it is empty).
    refuseWithoutIdentity(tree);
    removeDeadClones(queueDir);
    // A clone a killed pq init left whole in place (the stack not made yet) is taken as it is.
    const earlier = existsSync(queueDir) && readdirSync(queueDir).length ? cloneOf(queueDir) : null;
    const reuse = earlier !== null && sameRemote(earlier, url);
    if (existsSync(queueDir) && readdirSync(queueDir).length && !reuse) {
      // A clone of the same repository under another remote name (git clone -o upstream): pq's
      // sync fetches from and pushes to origin, so it is named, not taken (t42 N9).
      const named = otherRemoteFor(queueDir, url);
      if (named !== null) {
        throw new PqError(
          "exists",
          `${queueDir} is a clone of ${url} already, with its remote named ${named}; pq syncs with the remote named origin`,
          [
            earlier === null
              ? `git -C ${shellWord(queueDir)} remote rename ${named} origin, then the same pq init again`
              : `its origin is ${earlier}: git -C ${shellWord(queueDir)} remote rename origin old-origin && git -C ${shellWord(queueDir)} remote rename ${named} origin, then the same pq init again`,
          ],
        );
      }
      throw new PqError("exists", `${queueDir} exists and is not empty; cannot clone the shared queue into it`, [
        "pass --queue DIR to clone into another directory",
      ]);
    }
    const starter = reuse ? null : cloneInto(url, queueDir, branch);
    if (reuse && branch !== undefined) refuseOtherBranch(queueDir, url, branch);
    inheritIdentity(tree, queueDir);
    const head = childProcess().spawnSync("git", ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], {
      cwd: queueDir,
      encoding: "latin1",
    });
    // A clone taken as it is may be on any branch: said, as --branch is (t41 N3).
    const taken = reuse && branch === undefined ? currentBranch(queueDir) : null;
    const follows = taken ? upstreamOf(queueDir) : null;
    const other =
      follows !== null && follows !== `refs/remotes/origin/${taken}` ? ` following ${follows.replace(/^refs\/remotes\//, "")}` : "";
    const on = branch !== undefined ? ` (branch ${branch})` : taken ? ` (as it was, on ${taken}${other})` : "";
    if (starter)
      return {
        describe: `cloned from ${url}${on}, which held no queue yet (${starter.join(", ")}): this queue starts it`,
        finish: () => startQueue(queueDir),
      };
    if (head.status === 0) return { describe: `cloned from ${url}${on}`, finish: async () => undefined };
    // An empty remote: this queue starts it, with the same first commit as a queue of its own,
    // so that the first pq sync pushes it (it refused over the uncommitted series before).
    return { describe: `cloned from ${url}${on}, which was empty: this queue starts it`, finish: () => startQueue(queueDir) };
  }
  // A queue that is not a repository of its own yet gets its first commit at init.
  if ((await QueueRepo.open(queueDir))?.kind !== "own") refuseWithoutIdentity(tree);
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

/** The branches a fresh clone has from its remote, by name. */
function remoteBranches(clone: string): string[] {
  const refs = childProcess().spawnSync("git", ["for-each-ref", "--format=%(refname:lstrip=3)", "refs/remotes/origin/"], {
    cwd: clone,
    encoding: "utf8",
  });
  return String(refs.stdout)
    .split("\n")
    .filter((b) => b && b !== "HEAD");
}

/**
 * A clone with nothing where HEAD points: a remote whose HEAD names a branch it does not have
 * (made with `git init -b main`, the queue pushed to master) was taken for an empty one: this
 * queue then started a second, unrelated queue beside the real one (t35 F10). Its only branch is
 * checked out instead; with several, the user says which (--branch).
 */
function takeTheOnlyBranch(url: string, clone: string): void {
  const branches = remoteBranches(clone);
  if (!branches.length) return; // empty indeed
  if (branches.length > 1) {
    throw new PqError(
      "refused",
      `${url} has no branch where its HEAD points, and several others (${branches.slice(0, 5).join(", ")}): which one holds the queue is not known`,
      [
        `name it: pq init --shared ${url} --branch BRANCH`,
        "or point the repository's HEAD at the queue's branch (git symbolic-ref HEAD refs/heads/BRANCH in it), for everyone who clones it",
      ],
      { branches },
    );
  }
  checkOutBranch(url, clone, branches[0]);
}

/**
 * The clone on `branch` (pq init --shared URL --branch NAME), tracking the remote's branch of
 * that name; on an empty remote, the branch this queue's first commit starts (and the first
 * pq sync pushes). A name the remote lacks while it has others is refused: a sync would start
 * a second queue beside the real one.
 */
function checkOutNamedBranch(url: string, clone: string, branch: string): void {
  const branches = remoteBranches(clone);
  if (branches.includes(branch)) return checkOutBranch(url, clone, branch);
  if (branches.length) {
    throw new PqError(
      "refused",
      `${url} has no branch ${branch}; it has ${branches.slice(0, 5).join(", ")}${branches.length > 5 ? ", ..." : ""}`,
      [`check the name: pq init --shared ${url} --branch BRANCH (or without --branch, for the branch its HEAD names)`],
    );
  }
  for (const args of [
    ["symbolic-ref", "HEAD", `refs/heads/${branch}`],
    ["config", `branch.${branch}.remote`, "origin"],
    ["config", `branch.${branch}.merge`, `refs/heads/${branch}`],
  ]) {
    const r = childProcess().spawnSync("git", args, { cwd: clone, encoding: "latin1" });
    if (r.status !== 0) throw new PqError("git", `git ${args.join(" ")} failed`, String(r.stderr).trim().split("\n"));
  }
}

/**
 * A clone a killed pq init left (or one made by hand), taken as it is, is on the branch --branch
 * names, or refused: the first sync would push to the branch it is on (t40 N5).
 */
function refuseOtherBranch(queueDir: string, url: string, branch: string): void {
  const current = currentBranch(queueDir);
  // And tracking the remote's branch of that name: a local `feature` following origin/main syncs with main (t41 N2).
  const up = upstreamOf(queueDir);
  if (current === branch && up === `refs/remotes/origin/${branch}`) return;
  const where =
    current === branch
      ? `on ${branch} following ${up?.replace(/^refs\/remotes\//, "") ?? "no remote branch"}`
      : `on ${current ?? "no branch"}`;
  // On that branch already, following another: what to change is what it follows (t42 N1).
  const fix =
    current === branch
      ? `git -C ${shellWord(queueDir)} branch --set-upstream-to origin/${branch} to have it follow origin's ${branch}`
      : `git -C ${shellWord(queueDir)} checkout ${branch} to take it on that branch`;
  throw new PqError("exists", `${queueDir} is a clone of ${url} already, ${where}, not on origin's ${branch}`, [
    `${fix}, or remove ${queueDir}; then pq init --shared ${url} --branch ${branch} again`,
  ]);
}

/** The full name of the remote branch the checked-out branch follows (null: none). */
function upstreamOf(dir: string): string | null {
  const up = childProcess().spawnSync("git", ["rev-parse", "--quiet", "--symbolic-full-name", "@{upstream}"], {
    cwd: dir,
    encoding: "utf8",
  });
  return up.status === 0 && up.stdout.trim() ? up.stdout.trim() : null;
}

/** The branch checked out in a repository (null: none, a detached HEAD). */
function currentBranch(dir: string): string | null {
  const on = childProcess().spawnSync("git", ["symbolic-ref", "--quiet", "--short", "HEAD"], { cwd: dir, encoding: "utf8" });
  return on.status === 0 ? on.stdout.trim() : null;
}

/** Checks out the remote's `branch` in a fresh clone, tracking it. */
function checkOutBranch(url: string, clone: string, branch: string): void {
  const co = childProcess().spawnSync("git", ["checkout", "--quiet", "--no-track", "-B", branch, `origin/${branch}`], {
    cwd: clone,
    encoding: "latin1",
  });
  if (co.status !== 0) throw new PqError("git", `git clone ${url} failed to check out ${branch}`, String(co.stderr).trim().split("\n"));
  childProcess().spawnSync("git", ["branch", "--quiet", "--set-upstream-to", `origin/${branch}`], { cwd: clone });
}

/**
 * Clones the shared queue into a directory beside `queueDir` and renames it into place once it
 * is checked out and checked: a pq killed during the clone leaves no half-made queue where the
 * next pq init --shared clones (safe-6 #13); the next clone removes such leftovers.
 */
function cloneInto(url: string, queueDir: string, branch?: string): string[] | null {
  const scratch = join(dirname(queueDir), `${basename(queueDir)}.clone-tmp-${process.pid}`);
  let starter: string[] | null = null;
  try {
    // Checked out only once the clone is told to keep the queue's bytes exact (keepQueueBytesExact).
    // "--": a URL starting with "-" is a URL, never an option of git clone (collab-17 F25).
    const r = childProcess().spawnSync("git", ["clone", "--quiet", "--no-checkout", "--", url, scratch], { encoding: "latin1" });
    if (r.status !== 0) throw new PqError("git", `git clone ${url} failed`, String(r.stderr).trim().split("\n"));
    refuseUncheckoutableClone(url, scratch);
    keepQueueBytesExact(scratch);
    const headCommitted = () =>
      childProcess().spawnSync("git", ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], { cwd: scratch }).status === 0;
    if (branch !== undefined) checkOutNamedBranch(url, scratch, branch);
    let committed = headCommitted();
    // Nothing where HEAD points: empty, or HEAD names a branch the remote lacks.
    if (!committed && branch === undefined) {
      takeTheOnlyBranch(url, scratch);
      committed = headCommitted();
    }
    if (committed) {
      refuseUncheckoutableClone(url, scratch);
      // A queue's branch has a series file at its top. Anything else (the project's own code,
      // a mistyped URL) is refused here: a later pq sync would push patches onto its branch.
      const series = childProcess().spawnSync("git", ["cat-file", "-e", "HEAD:series"], { cwd: scratch });
      if (series.status !== 0) {
        starter = starterFiles(scratch);
        if (!starter) {
          throw new PqError("refused", `${url} is not a pq queue: its branch has commits but no series file at the top`, [
            "check the URL (the shared queue's repository, not the project's); an empty repository starts a new queue, and so does one holding only what a hosting site makes with it (README, LICENSE, .gitignore)",
          ]);
        }
      }
      // A symlink in the queue would be read through on this machine (pq push, pq show: any file the link names),
      // as pq sync refuses it from the remote (collab-17 F4): refused before anything is checked out.
      const tree = childProcess().spawnSync("git", ["ls-tree", "-r", "-z", "HEAD"], { cwd: scratch, encoding: "latin1" });
      const links = String(tree.stdout)
        .split("\0")
        .filter((entry) => entry.startsWith("120000 ") || entry.startsWith("160000 "))
        .map((entry) => entry.slice(entry.indexOf("\t") + 1));
      if (links.length) {
        throw new PqError(
          "unsafe-path",
          `${url} holds ${links.length === 1 ? "a symlink (or submodule)" : "symlinks (or submodules)"}: ${links.slice(0, 5).join(", ")}; a shared queue holds regular files only`,
          [
            "nothing was made; ask whoever committed it to commit the patch file itself instead (git log -- FILE in that repository says who)",
          ],
          { files: links },
        );
      }
      const co = childProcess().spawnSync("git", ["reset", "--quiet", "--hard", "HEAD"], { cwd: scratch, encoding: "latin1" });
      if (co.status !== 0) throw new PqError("git", `git clone ${url} failed to check out`, String(co.stderr).trim().split("\n"));
    }
    if (existsSync(queueDir)) rmdirSync(queueDir); // empty (checked above)
    renameSync(scratch, queueDir);
    return starter;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * The files of a branch that holds no queue yet, only what a hosting site puts in a repository it
 * creates (a README, a licence, a .gitignore), or null for any other: such a branch starts a queue
 * as an empty one does, and pq sync already merged it into queues started before (t100 N4).
 */
function starterFiles(clone: string): string[] | null {
  const r = childProcess().spawnSync("git", ["ls-tree", "-z", "HEAD"], { cwd: clone, encoding: "latin1" });
  if (r.status !== 0) return null;
  const entries = String(r.stdout).split("\0").filter(Boolean);
  const starter = /^(README|LICEN[CS]E|COPYING|CONTRIBUTING|CODE_OF_CONDUCT|SECURITY)(\.[A-Za-z]+)?$|^\.git(ignore|attributes)$/i;
  const names = entries.map((e) => ({ blob: e.startsWith("100644 blob "), name: e.slice(e.indexOf("\t") + 1) }));
  return names.length && names.every((n) => n.blob && starter.test(n.name)) ? names.map((n) => n.name) : null;
}

/** Removes the scratch clones (QUEUE.clone-tmp-PID) of pq processes that were killed. */
function removeDeadClones(queueDir: string): void {
  const stem = `${basename(queueDir)}.clone-tmp-`;
  removeDeadLeftovers(dirname(queueDir), (name) =>
    name.startsWith(stem) && /^\d+$/.test(name.slice(stem.length)) ? Number(name.slice(stem.length)) : null,
  );
}

/** Two remote URLs naming one repository: a local path as git stores it (joined to the directory git ran in) or as typed. */
function sameRemote(a: string, b: string): boolean {
  const local = (u: string) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(u) && !/^[^/]+:/.test(u);
  return a === b || (local(a) && local(b) && resolve(a) === resolve(b));
}

/** The URL a queue directory was cloned from by pq init --shared, or null (not such a clone). */
function cloneOf(queueDir: string): string | null {
  if (!existsSync(join(queueDir, ".git"))) return null;
  const r = childProcess().spawnSync("git", ["config", "--get", "remote.origin.url"], { cwd: queueDir, encoding: "latin1" });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** The name of a remote other than origin that a queue directory's repository has for `url`, or null. */
function otherRemoteFor(queueDir: string, url: string): string | null {
  if (!existsSync(join(queueDir, ".git"))) return null;
  const r = childProcess().spawnSync("git", ["config", "--get-regexp", "^remote\\..*\\.url$"], { cwd: queueDir, encoding: "latin1" });
  for (const line of String(r.stdout).split("\n")) {
    const m = /^remote\.(.+)\.url (.*)$/.exec(line);
    if (m && m[1] !== "origin" && sameRemote(m[2], url)) return m[1];
  }
  return null;
}

/**
 * An identity set in the tree's own git config (not the global one, which both already see)
 * becomes the queue repository's too: pq commit and the queue's first commit are then made as
 * the person working in this tree, not as whoever the global config names.
 */
function inheritIdentity(tree: string, queueDir: string): void {
  for (const key of ["user.name", "user.email"]) {
    if (childProcess().spawnSync("git", ["config", "--local", "--get", key], { cwd: queueDir }).status === 0) continue;
    const mine = childProcess().spawnSync("git", ["config", "--local", "--get", key], { cwd: tree, encoding: "utf8" });
    if (mine.status === 0 && mine.stdout.trim())
      childProcess().spawnSync("git", ["config", "--local", key, mine.stdout.trim()], { cwd: queueDir });
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
  // Its first commit comes next: asked before the repository is made.
  if (!existing) refuseWithoutIdentity(tree);
  const git = (args: string[], cwd = queueDir) => childProcess().spawnSync("git", args, { cwd, encoding: "utf8" });
  // The remote is checked before anything is made: a refusal leaves the queue as it was. An
  // empty one's HEAD names the branch a colleague's clone will check out, as a clone learns it.
  let remoteBranch: string | null = null;
  let starter: string[] | null = null;
  if (url) {
    const origin = existing ? git(["remote", "get-url", "origin"]) : null;
    if (origin?.status === 0) {
      // The same URL again: shared already, nothing to change (collab-17 F23.2).
      if (origin.stdout.trim() === url || sameLocalRepository(origin.stdout.trim(), url, tree))
        throw new PqError("exists", `the queue is shared with ${url} already (its remote origin)`, [
          "pq sync fetches, merges and pushes it",
        ]);
      throw new PqError("exists", `the queue already has a remote, origin (${origin.stdout.trim()})`, [
        `git -C ${shellWord(queueDir)} remote set-url origin ${url} to change it, then pq sync`,
      ]);
    }
    const heads = git(["ls-remote", "--heads", "--", url], tree);
    if (heads.status !== 0) throw new PqError("git", `git ls-remote ${url} failed`, String(heads.stderr).trim().split("\n"));
    const probe = mkdtempSync(join(tmpdir(), "pq-remote-"));
    try {
      if (git(["clone", "--quiet", "--no-checkout", "--", url, join(probe, "q")], tree).status === 0) {
        remoteBranch = git(["symbolic-ref", "--short", "HEAD"], join(probe, "q")).stdout.trim() || null;
        // Only what a hosting site puts in a repository it makes (a README, a licence): taken as an
        // empty one, and the first sync merges it in, as it does for a queue started beside it (t108 N2).
        if (heads.stdout.trim()) starter = starterFiles(join(probe, "q"));
      }
    } finally {
      rmSync(probe, { recursive: true, force: true });
    }
    if (heads.stdout.trim() && !starter) {
      throw new PqError("refused", `${url} is not empty: it holds a queue (or something else) that this one would have to be merged into`, [
        "to join that queue, start from it: pq init --shared URL in a clone of the tree without a stack (git clone it anew), then pq import your patches (pq export --quilt DIR here writes them out)",
      ]);
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
    ["remote", "add", "origin", "--", url],
    ["config", `branch.${branch}.remote`, "origin"],
    ["config", `branch.${branch}.merge`, `refs/heads/${branch}`],
  ]) {
    const r = git(args);
    if (r.status !== 0) throw new PqError("git", `git ${args.join(" ")} failed`, String(r.stderr).trim().split("\n"));
  }
  // Its branch fetched, so that pq status counts against it at once rather than saying it does not exist yet (t109).
  if (starter) git(["fetch", "--quiet", "origin"]);
  return starter
    ? `${made}, with ${url} as its remote (which holds no queue yet, only ${starter.join(", ")}: the next pq sync merges those in and pushes this queue to it)`
    : `${made}, with ${url} as its remote (empty: the next pq sync pushes this queue to it)`;
}

/**
 * Whether two remote URLs are one repository on this machine: both local paths (or file://
 * URLs) that lead to the same directory. A setup script run twice names it the same way, but pq
 * kept it resolved from the tree (t144 N4: "change" the remote to itself was the advice).
 */
function sameLocalRepository(a: string, b: string, from: string): boolean {
  const local = (url: string): string | null => {
    const path = url.startsWith("file://") ? url.slice("file://".length) : /^[a-z][a-z0-9+.-]*:\/\/|^[^/]+:/i.test(url) ? null : url;
    if (path === null) return null;
    try {
      return realpathSync(resolve(from, path));
    } catch {
      return null;
    }
  };
  const [x, y] = [local(a), local(b)];
  return x !== null && x === y;
}

/** A tree git cannot check out (a .git entry, pushed where no gate runs): said as sync says it, before anything is checked out (t157 N9). */
function refuseUncheckoutableClone(url: string, clone: string): void {
  refuseUncheckoutable(clone, "HEAD", `${url}'s queue`, [
    "nothing was changed; ask whoever pushed it to push a version without it (git fsck in the queue's repository names it), then pq init --shared again",
  ]);
}
