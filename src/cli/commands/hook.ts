import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { validateIncoming } from "../../collab/incoming.js";
import { refuseUncheckoutable } from "../../collab/queue-repo.js";
import { backendList, commandText } from "../ci-options.js";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gitFailed, PqError } from "../../errors.js";
import { checkVersions, exportTree, versionInGitDir } from "../../collab/gate.js";
import type { QueueVersion } from "../../collab/types.js";
import { untriedGuardsNote } from "../../collab/simulate.js";
import { defineCommand, refuseEmptyOptions } from "../io.js";
import { childProcess } from "../../core/child-process.js";
import { leadsOutside } from "../../tree/paths.js";

const ZERO = /^0+$/;
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** bin/pq.js of this installation, found from this module (bundled or not). */
function pqScript(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, "bin", "pq.js"))) return join(dir, "bin", "pq.js");
  }
  throw new PqError("internal", "cannot find bin/pq.js next to this installation");
}

const install = defineCommand({
  command: "install <dir>",
  describe: "install a pre-receive hook in a bare shared-queue repository: pushes that break a state are refused",
  builder: (y) =>
    y
      .positional("dir", { type: "string", demandOption: true, describe: "the bare repository" })
      .option("base", { type: "string", describe: "directory with the tree the queue applies to (not with --subdir)" })
      .option("subdir", {
        type: "string",
        default: "",
        describe:
          "the queue's directory inside the repository (in-tree queues), e.g. queue/: each pushed commit's other files are the tree it applies to",
      })
      .option("backends", { alias: "b", type: "string", default: "native,xen,vmi", describe: "backends to boot each state on" })
      .option("run", { type: "string", describe: "judge each state by this shell command instead of build and boot (as pq ci --run)" }),
  run: async (args, io) => {
    refuseEmptyOptions(args, ["base"]);
    const run = commandText(args.run);
    const dir = resolve(io.cwd, String(args.dir));
    if (!existsSync(join(dir, "HEAD")) || !existsSync(join(dir, "objects")))
      throw new PqError("not-found", `${dir} is not a bare git repository`);
    const sub = subdirOf(args.subdir);
    refuseBaseWithSubdir(args.base, sub);
    // Checked now as hook check would check them: a gate installed with a backend it refuses, or
    // a --subdir the branch does not have, refused every push or checked none (t156 N14, N15).
    backendList(args.backends);
    if (sub) {
      // Any branch that holds the queue will do (a HEAD that names no branch, as git init --bare's may: t157 N3).
      const branches = childProcess()
        .spawnSync("git", ["--git-dir", dir, "for-each-ref", "--format=%(objectname)", "refs/heads/"], { encoding: "latin1" })
        .stdout.split("\n")
        .filter(Boolean);
      const hasQueue = branches.some(
        (b) => childProcess().spawnSync("git", ["--git-dir", dir, "cat-file", "-e", `${b}:${sub}series`]).status === 0,
      );
      if (branches.length && !hasQueue)
        throw new PqError("usage", `no branch of ${dir} has ${sub}series: a gate with --subdir ${sub.slice(0, -1)} would check no push`, [
          "name the queue's directory as the repository holds it (git ls-tree BRANCH shows its folders)",
        ]);
    }
    // With --subdir, each pushed commit carries its own tree: no base directory.
    const base = sub ? null : resolve(io.cwd, String(args.base));
    if (base !== null) {
      if (!existsSync(base)) throw new PqError("not-found", `${base} does not exist`);
      // Checked now, not at the first push: a hook that cannot build the base refuses every push.
      if (run === undefined && !existsSync(join(base, "build.json"))) {
        throw new PqError("usage", `${base} has no build.json: the hook could not build and boot its states`, [
          "pass --run CMD to check each state with a command instead (exit 0 passes, 125 skips, 1-127 fails)",
        ]);
      }
    }
    // Where git runs it: core.hooksPath (a site-wide hooks directory) if set, else hooks/ (t60 N6: a hook
    // written to hooks/ under a hooksPath was "installed" and never ran).
    const where = childProcess().spawnSync("git", ["rev-parse", "--git-path", "hooks/pre-receive"], { cwd: dir, encoding: "utf8" });
    if (where.status !== 0) throw gitFailed("git rev-parse --git-path", String(where.stderr).trim());
    const hook = resolve(dir, where.stdout.trim());
    mkdirSync(dirname(hook), { recursive: true });
    if (existsSync(hook) && !readFileSync(hook, "latin1").includes("installed by pq hook install")) {
      throw new PqError("exists", `${hook} exists and was not written by pq`, ["move it away first, or call pq hook check from it"]);
    }
    // Every value single-quoted, as one word to pq hook check whatever it holds (a --run command
    // that starts with a quoted path was written raw and split by the hook's shell: t156 N5); only
    // the hook's own shell variables are expanded there.
    const shellVariable = new Set(['"$PWD"', '"$old"', '"$new"']);
    const cmd = [
      process.execPath,
      pqScript(),
      "hook",
      "check",
      "--git-dir",
      '"$PWD"',
      "--old",
      '"$old"',
      "--new",
      '"$new"',
      ...(base !== null ? ["--base", base] : []),
      "--subdir",
      sub,
      "--backends",
      String(args.backends),
      ...(run !== undefined ? ["--run", run] : []),
    ]
      .map((a) => (shellVariable.has(a) ? a : shq(a)))
      .join(" ");
    const script = `#!/bin/sh
# installed by pq hook install: every pushed queue version runs pq ci; a state that passed
# before and fails in the pushed version refuses the push.
while read old new ref; do
  case "$new" in *[!0]*) ;; *) continue ;; esac
  ${cmd} || exit 1
done
`;
    // A hooks directory outside the repository (core.hooksPath) is every such repository's: a gate of
    // another queue there is not replaced by this one's (t64 N9: the first queue lost its gate unsaid).
    const shared = leadsOutside(relative(dir, hook));
    if (shared && existsSync(hook) && readFileSync(hook, "latin1") !== script)
      throw new PqError(
        "exists",
        `${hook} holds the gate of another configuration (core.hooksPath makes it every repository's that uses it)`,
        ["set core.hooksPath for this repository alone (git -C DIR config core.hooksPath hooks), or move the shared hook away first"],
      );
    writeFileSync(hook, script);
    chmodSync(hook, 0o755);
    io.out(
      `installed ${hook} (checks ${run !== undefined ? `each state with ${run}` : args.backends} over ${base ?? `each pushed commit's tree, the queue in ${sub}`})`,
    );
  },
});

const check = defineCommand({
  command: "check",
  describe: "check one pushed queue version against the previous one (what the pre-receive hook runs)",
  builder: (y) =>
    y
      .option("git-dir", { type: "string", demandOption: true, describe: "the repository receiving the push (set by the hook)" })
      .option("old", { type: "string", demandOption: true, describe: "the queue branch before the push" })
      .option("new", { type: "string", demandOption: true, describe: "the queue branch after the push" })
      .option("base", { type: "string", describe: "the tree the queue applies to (not with --subdir)" })
      .option("subdir", { type: "string", default: "", describe: "the queue's directory inside the repository" })
      .option("backends", { alias: "b", type: "string", default: "native,xen,vmi", describe: "backends to boot each state on" })
      .option("run", { type: "string", describe: "judge each state by this shell command instead of build and boot" }),
  run: async (args, io) => {
    refuseEmptyOptions(args, ["base"]);
    const gitDir = resolve(io.cwd, String(args["git-dir"]));
    const sub = subdirOf(args.subdir);
    if (!sub && args.base === undefined)
      throw new PqError("usage", "pq hook check needs --base TREE (or --subdir DIR for a queue in the tree's repository)");
    const tip = String(args.new);
    const old = String(args.old);
    // A new branch (old is zeros) is judged against the repository's HEAD, asked once.
    const newBranch = ZERO.test(old);
    const repoHead = newBranch ? headCommit(gitDir) : null;
    // A tag of a tree or a blob is no queue version: said, and let through as git would (t60 N10).
    const kind = childProcess().spawnSync("git", ["--git-dir", gitDir, "cat-file", "-t", tip], { encoding: "latin1" }).stdout.trim();
    if (kind !== "commit" && kind !== "tag") {
      io.err(`pq: ${tip.slice(0, 12)} is a ${kind || "missing object"}, not a commit: no queue version, not checked`);
      return 0;
    }
    const hasSeries = (rev: string) =>
      childProcess().spawnSync("git", ["--git-dir", gitDir, "cat-file", "-e", `${rev}:${sub}series`]).status === 0;
    if (!hasSeries(tip)) {
      // A queue branch the push would leave without its series (deleted, or the queue directory made a link): every colleague's stack would lose it (t64 N11).
      if (!newBranch && hasSeries(old)) {
        io.err(`pq: refusing ${tip.slice(0, 12)}: it takes the queue away (no ${sub}series file where ${old.slice(0, 12)} had one)`);
        io.err(`  put the series file back (git checkout ${old.slice(0, 12)} -- ${sub}series), then ${RETRY}`);
        return 1;
      }
      io.err(`pq: ${tip.slice(0, 12)} has no ${sub}series file: no queue version, not checked`);
      return 0;
    }
    const judge = { backends: backendList(args.backends), run: commandText(args.run) };
    const baseDir = args.base === undefined ? "" : resolve(io.cwd, String(args.base));
    // Every commit the push brings is checked against its first parent, oldest first, and the tip
    // against the branch before the push: a broken commit under a good tip had landed in the
    // shared history (t60 N2), which pq log -p, range-diff and a checkout of it then served.
    // The first push into an empty repository brings a queue's whole history: its tip is checked.
    // Otherwise what the tip's history holds that no queue version the gate let in holds: the
    // branch before the push, and every ref whose tip has a series (a ref without one was not
    // checked: a refused commit under it, then pushed as a good commit's parent, had gone in
    // unchecked, t156 N1; as had a new branch where HEAD names no branch, t156 N2).
    const checked = [...(!newBranch && hasSeries(old) ? [old] : []), ...refsHoldingQueue(gitDir, sub)];
    const intermediate = newBranch && !anyRef(gitDir) ? [] : newCommits(gitDir, tip, checked);
    // What the branch was (or, for a new branch, the repository's HEAD): a commit that does not
    // descend from it (a new root, a side history a merge joins) is checked against it too, not
    // only against a parent the pusher made (t156 N6: a root whose tree failed everywhere let a
    // broken patch through as "already failing").
    // Where that names no queue version (a branch whose tip held none, a HEAD that names no
    // branch), any ref that holds one the gate let in serves (t157 N1: a made-up root came in
    // through such a branch).
    const named = newBranch ? repoHead : old;
    const reference = named !== null && hasSeries(named) ? named : (checked[0] ?? null);
    for (const [i, commit] of intermediate.entries()) {
      io.err(`pq: checking ${commit.slice(0, 12)} (${i + 1} of ${intermediate.length + 1} pushed commits)`);
      // A version the gate cannot read (a bad patch name) is said as that commit's, with the way on (t157 N6).
      const atCommit = <T>(check: () => Promise<T>) => namingCommit(check, tip, commit);
      let verdict = await atCommit(() => checkPair(gitDir, sub, baseDir, firstParent(gitDir, commit), commit, judge));
      let against = "in the commit before it";
      if (verdict.ok && reference !== null && !descendsFrom(gitDir, commit, reference)) {
        verdict = await atCommit(() => checkPair(gitDir, sub, baseDir, reference, commit, judge));
        against = `in ${reference === named ? (newBranch ? "the repository's HEAD" : "the branch before the push") : "the queue the repository holds"} (${reference.slice(0, 12)}), which it does not descend from`;
      }
      if (!verdict.ok) {
        io.err(`pq: refusing ${tip.slice(0, 12)}: its commit ${commit.slice(0, 12)} breaks a state that passed ${against}`);
        io.err(verdict.report);
        // A tree change under a patch, and the queue's carry-over in a later commit: each commit is checked (t150 N6).
        if (sub && changesOutside(gitDir, sub, commit))
          io.err(
            "pq: that commit changes the tree beside the queue: a tree change that moves a patch's lines is pushed in one commit with the queue change that carries the patch over (git reset --soft to the commit below both, git commit, then push again)",
          );
        return 1;
      }
    }
    // A new branch is judged against the repository's HEAD (what it would be merged into), not
    // against nothing: against nothing, a state that already failed there refused it (t37 N13).
    const beforeRev = newBranch ? repoHead : old;
    const verdict = await checkPair(gitDir, sub, baseDir, beforeRev, tip, judge);
    if (verdict.ok) {
      // Not "every state green" when a cell that failed before still does: shown, as not blocking (t37 N13).
      if (verdict.failing) io.err(verdict.report);
      else if (verdict.untried?.length) io.err(`pq: ${untriedGuardsNote(verdict.untried)}`);
      io.err(
        verdict.failing
          ? `pq: the pushed queue breaks no state that passed before (${tip.slice(0, 12)})`
          : `pq: the pushed queue keeps every state ${verdict.untried?.length ? "it checked " : ""}green (${tip.slice(0, 12)})`,
      );
      return 0;
    }
    io.err(`pq: refusing ${tip.slice(0, 12)}: it breaks a state that passed before`);
    io.err(verdict.report);
    return 1;
  },
});

/** One pushed queue version checked against another (null: none before it). */
async function checkPair(
  gitDir: string,
  sub: string,
  /** --base, resolved (unused with --subdir). */
  baseDir: string,
  beforeRev: string | null,
  afterRev: string,
  judge: { backends: string[]; run: string | undefined },
) {
  const before = beforeRev === null ? null : previousVersion(gitDir, beforeRev, sub);
  // A tree git cannot check out stops every colleague's sync half way (t156 N13).
  refuseUncheckoutable(gitDir, afterRev, afterRev.slice(0, 12), ["push a version without it (git fsck names it)"]);
  const after = versionInGitDir(gitDir, afterRev, sub);
  // A patch that writes into the queue's own directory is refused by every contributor's push (t156 N3).
  if (sub) validateIncoming(after, before ?? { series: "", patches: {} }, "the pushed", undefined, [sub.replace(/\/$/, "")]);
  // A queue in the tree's repository applies to the files its own commit has beside it: a push
  // that changes the tree is checked against the tree it pushes (t35 F3: a fixed --base
  // passed a tree change that broke a patch, and refused one that carried the queue over).
  // A hook installed before this passes --base too, which the pushed commit replaces.
  const trees = sub ? { before: beforeRev === null ? null : treeOf(gitDir, beforeRev, sub), after: treeOf(gitDir, afterRev, sub) } : null;
  const base = trees ?? baseDir;
  try {
    return await checkVersions(base, before, after, {
      ...judge,
      describe: {
        tree: trees ? `the pushed commit's tree (${afterRev.slice(0, 12)})` : String(base),
        command: "pq hook install",
        // Read by the pusher, through git's remote: lines: their way on is a fixed commit, pushed (t127 N13).
        // The gate checks every commit a push brings: a fix committed on top of the refused one is refused with it (t131 N2).
        retry: RETRY,
      },
    });
  } finally {
    if (trees) for (const dir of [trees.before, trees.after]) if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The version a push is compared with, or null when it holds what no pushed version may (a
 * link that landed before the gate refused links): the push that takes it out must pass.
 */
function previousVersion(gitDir: string, rev: string, sub: string): QueueVersion | null {
  try {
    return versionInGitDir(gitDir, rev, sub);
  } catch (e) {
    if (e instanceof PqError && e.code === "unsafe-path") return null;
    throw e;
  }
}

/** The commits of the tip's history that none of `checked` holds, oldest first, but the tip itself. */
function newCommits(gitDir: string, tip: string, checked: string[]): string[] {
  const r = childProcess().spawnSync("git", ["--git-dir", gitDir, "rev-list", "--reverse", "--topo-order", "--stdin"], {
    input: [tip, ...checked.map((c) => `^${c}`)].join("\n") + "\n",
    encoding: "latin1",
    maxBuffer: 1 << 30,
  });
  if (r.status !== 0) throw gitFailed("git rev-list", String(r.stderr).trim());
  return r.stdout.split("\n").filter((c) => c && c !== tip);
}

/** Whether a commit changes files outside the queue's folder `sub` ("queue/"), against its first parent. */
function changesOutside(gitDir: string, sub: string, commit: string): boolean {
  const r = childProcess().spawnSync(
    "git",
    ["--git-dir", gitDir, "diff-tree", "--no-commit-id", "--name-only", "-r", "-z", "--root", commit],
    {
      encoding: "latin1",
      maxBuffer: 1 << 30,
    },
  );
  return r.status === 0 && r.stdout.split("\0").some((p) => p !== "" && !p.startsWith(sub));
}

/** A commit's first parent, or null for a root commit. */
/** Whether `commit` has `ancestor` in its history (or is it). */
function descendsFrom(gitDir: string, commit: string, ancestor: string): boolean {
  return childProcess().spawnSync("git", ["--git-dir", gitDir, "merge-base", "--is-ancestor", ancestor, commit]).status === 0;
}

function firstParent(gitDir: string, commit: string): string | null {
  const r = childProcess().spawnSync("git", ["--git-dir", gitDir, "rev-parse", "--verify", "--quiet", `${commit}^1`], {
    encoding: "latin1",
  });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** --subdir as a directory prefix ("queue/"), or "" for a queue in a repository of its own. */
function subdirOf(subdir: unknown): string {
  const sub = String(subdir ?? "");
  return sub && !sub.endsWith("/") ? `${sub}/` : sub;
}

/** The commit the repository's HEAD names, or null (an empty repository, a HEAD naming no branch). */
function headCommit(gitDir: string): string | null {
  const r = childProcess().spawnSync("git", ["--git-dir", gitDir, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"], {
    encoding: "latin1",
  });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** A commit's files outside the queue's directory `sub`: the tree its queue applies to. */
function treeOf(gitDir: string, rev: string, sub: string): string {
  const dir = exportTree(["--git-dir", gitDir], rev, "");
  rmSync(join(dir, sub), { recursive: true, force: true });
  return dir;
}

/** --base names a tree for a queue in a repository of its own; with --subdir the pushed commits carry it. */
function refuseBaseWithSubdir(base: unknown, sub: string): void {
  if (base === undefined && !sub)
    throw new PqError("usage", "pq hook install needs --base TREE (or --subdir DIR for a queue in the tree's repository)");
  if (base !== undefined && sub)
    throw new PqError(
      "usage",
      "--base and --subdir do not go together: with --subdir, each pushed commit's files beside the queue are the tree it applies to",
      ["leave --base out for a queue kept in the tree's repository; a queue in a repository of its own takes --base without --subdir"],
    );
}

export default defineCommand({
  command: "hook",
  describe: "the shared queue's server-side gate (pq hook install DIR --base TREE)",
  builder: (y) =>
    y
      .command(install as never)
      .command(check as never)
      .demandCommand(1, "pq hook install DIR --base TREE"),
  run: async () => undefined,
});

/** Whether the repository has any ref at all (a push into one that has none brings a queue's whole history). */
function anyRef(gitDir: string): boolean {
  const r = childProcess().spawnSync("git", ["--git-dir", gitDir, "for-each-ref", "--count=1", "--format=%(refname)"], {
    encoding: "latin1",
  });
  if (r.status !== 0) throw gitFailed("git for-each-ref", String(r.stderr).trim());
  return r.stdout.trim() !== "";
}

/** The commits of the refs (branches and tags) whose tip holds a queue version: each was let in by the gate, or was there before it. */
function refsHoldingQueue(gitDir: string, sub: string): string[] {
  const refs = childProcess().spawnSync("git", ["--git-dir", gitDir, "for-each-ref", "--format=%(objectname)^{commit}"], {
    encoding: "latin1",
    maxBuffer: 1 << 30,
  });
  if (refs.status !== 0) throw gitFailed("git for-each-ref", String(refs.stderr).trim());
  const tips = [...new Set(refs.stdout.split("\n").filter(Boolean))];
  if (!tips.length) return [];
  // One git for all of them: each tip's commit id, and whether it has the series file.
  const check = childProcess().spawnSync("git", ["--git-dir", gitDir, "cat-file", "--batch-check=%(objectname) %(objecttype)"], {
    input: tips.flatMap((t) => [t, `${t}:${sub}series`]).join("\n") + "\n",
    encoding: "latin1",
    maxBuffer: 1 << 30,
  });
  if (check.status !== 0) throw gitFailed("git cat-file", String(check.stderr).trim());
  const lines = check.stdout.split("\n");
  const out: string[] = [];
  for (let i = 0; i < tips.length; i++) {
    const [commit, type] = (lines[2 * i] ?? "").split(" ");
    if (type === "commit" && (lines[2 * i + 1] ?? "").endsWith(" blob")) out.push(commit);
  }
  return out;
}

/** What a pusher does after a refusal: the gate checks every commit a push brings, so a fix on top is refused with the commit it fixes. */
const RETRY =
  "make the fix part of the refused commit (git commit --amend, or squash the commits with git rebase -i: the gate checks every commit a push brings) and git push again";

/** A check of one pushed commit under the tip: a refusal of its own (a version pq cannot read) names that commit and the way on. */
async function namingCommit<T>(check: () => Promise<T>, tip: string, commit: string): Promise<T> {
  try {
    return await check();
  } catch (e) {
    if (!(e instanceof PqError)) throw e;
    const ways = e.details.some((d) => d.includes(RETRY)) ? e.details : [...e.details, RETRY];
    throw new PqError(e.code, `refusing ${tip.slice(0, 12)}: its commit ${commit.slice(0, 12)}: ${e.message}`, ways, e.data);
  }
}
