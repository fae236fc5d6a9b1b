import { excludeQueueLock, excludeQueueRepository, stateDirGuarded } from "../../git/clean-guard.js";
import { repositoryAt } from "../../git/head.js";
import { existsSync, lstatSync, readdirSync } from "node:fs";
import { childProcess } from "../../core/child-process.js";
import { PqError } from "../../errors.js";
import { readText } from "../../tree/files.js";
import { leadsOutside, queueInTree, sameDirectory } from "../../tree/paths.js";
import { join, relative, resolve, sep } from "node:path";
import { Stack } from "../../queue/stack.js";
import { loadState, statePaths } from "../../queue/state.js";
import { BACK_THROUGH_QUILT, QUILT_STATE_DIR, quiltRecordedPatches } from "../../queue/quilt-takeover.js";
import { defineCommand, invocation } from "../io.js";
import { guardCommentNote } from "../reports.js";
import { operandWords, shellWord } from "../../core/shell-word.js";

export default defineCommand({
  command: "init",
  describe: "start a patch stack in this git tree (queue directory: --queue, default patches/)",
  builder: (y) =>
    y
      .option("shared", {
        type: "string",
        describe: "version the queue in its own git repository; with a URL, clone a shared queue into it",
      })
      .option("branch", {
        type: "string",
        describe: "with --shared URL: the remote's branch that holds the queue (default: the one its HEAD names)",
      }),
  run: async (args, io) => {
    const tree = resolve(io.cwd, args.tree ?? ".");
    // quilt's own setting for where the series lives, as quilt reads it (relative to the tree): QUILT_PATCHES, else
    // what quilt recorded in .pc/ (Debian's quiltrc sets debian/patches for quilt's commands only: interop-17 F1),
    // else a Debian source package's own (t38 F8: a packager's ~/.quiltrc is a shell script pq does not run).
    const quiltSetting = args.queue
      ? null
      : process.env.QUILT_PATCHES
        ? { dir: process.env.QUILT_PATCHES, from: "QUILT_PATCHES" }
        : (((dir) => (dir ? { dir, from: `quilt's ${QUILT_STATE_DIR}/.quilt_patches` } : null))(quiltRecordedPatches(tree)) ??
          // Not for a tree that has a stack: its queue is known (and init says so, or shares it).
          (loadState(tree) ? null : debianQueue(tree)));
    const fromQuilt = quiltSetting ? resolve(tree, quiltSetting.dir) : undefined;
    // .pc/.quilt_patches is part of the tree as it came (a tarball, a clone): a queue it names out
    // of the tree, or in a git directory, was written to there (t127 N10: another repository's .git).
    if (fromQuilt !== undefined && quiltSetting?.from.endsWith(".quilt_patches")) {
      const rel = relative(tree, fromQuilt);
      if (leadsOutside(rel) || rel.split(sep).includes(".git"))
        throw new PqError(
          "unsafe-path",
          `quilt's ${QUILT_STATE_DIR}/.quilt_patches names ${quiltSetting.dir} as the queue, ${leadsOutside(rel) ? "outside the tree" : "inside a git directory"}: a file that came with the tree decides nothing outside it`,
          [
            `nothing was written; if that is your queue, pq init --queue ${shellWord(fromQuilt)} names it yourself (or correct ${QUILT_STATE_DIR}/.quilt_patches)`,
          ],
          { queue: fromQuilt },
        );
    }
    const queue = args.queue ? resolve(io.cwd, args.queue) : fromQuilt;
    if (args.branch !== undefined) refuseBranchOption(args.branch, args.shared, tree);
    if (args.shared !== undefined && loadState(tree)) {
      // A stack that exists already: its queue becomes shared (hg qinit -c on an existing queue).
      const stack = await Stack.open({ tree });
      const { shareExistingQueue } = await import("../../collab/init-shared.js");
      // A path is the remote's from here, not from the queue directory git runs in.
      const url =
        args.shared && !/^[a-z][a-z0-9+.-]*:\/\//i.test(args.shared) && !/^[^/]+:/.test(args.shared)
          ? resolve(io.cwd, args.shared)
          : args.shared || null;
      io.out(`the queue ${stack.queueDir} is ${await shareExistingQueue(tree, stack.queueDir, url)}`);
      excludeQueueRepository(stack.tree, stack.queueDir);
      // Its lock files out of its own git status from the start, not from the next command's lock (t147 N6).
      excludeQueueLock(stack.queueDir);
      return;
    }
    if (args.shared !== undefined) {
      // Clone (or git init) first: Stack.init keeps a series the clone brought.
      const { prepareSharedQueue } = await import("../../collab/init-shared.js");
      const how = await prepareSharedQueue(tree, resolve(tree, queue ?? "patches"), args.shared || null, args.branch);
      const stack = await Stack.init({ tree, queue, command: invocation.command });
      await how.finish();
      excludeQueueRepository(stack.tree, stack.queueDir);
      excludeQueueLock(stack.queueDir);
      io.out(
        `initialised a pq stack in ${stack.tree} with the shared queue ${stack.queueDir} (${how.describe}, ${plural(stack.series().length, "patch", "patches")})`,
      );
      return;
    }
    // A queue the tree's repository versions (a shared queue inside the tree), as a clone under
    // core.autocrlf wrote it: its committed bytes are put back before the stack reads it, not at
    // the first pq status after a push has used the converted copies (collab-8 C13).
    const queueDir = queue ?? resolve(tree, "patches");
    if (queue === undefined && !loadState(tree)) refuseProjectDirectory(tree, queueDir);
    if (existsSync(join(queueDir, "series")) && !loadState(tree)) {
      const { QueueRepo } = await import("../../collab/queue-repo.js");
      await QueueRepo.open(queueDir).catch(() => null);
    }
    const stack = await Stack.init({ tree, queue, command: invocation.command });
    io.out(
      `initialised a pq stack in ${stack.tree} with the queue ${stack.queueDir}${quiltSetting ? ` (${quiltSetting.from})` : ""} (${plural(stack.series().length, "patch", "patches")} in its series)`,
    );
    const owner = queueOwnedElsewhere(stack.tree, stack.queueDir);
    if (owner)
      io.out(
        `note: ${stack.queueDir} is the queue inside ${owner}, whose commands do not take its lock: pq commands run there and here at the same moment can lose a series line; pq init --queue DIR with a directory outside both trees keeps them apart`,
      );
    // Where the repository's info/exclude could not be written, .pq/ has no guard from git clean -fdx: said (t103 N4).
    if (repositoryAt(stack.tree) && !stateDirGuarded(statePaths(stack.tree).dir))
      io.out(
        "note: .git/info/exclude could not be written, so pq's .pq/ is not kept from git clean -fdx (which would take the copies pq restore-queue needs); git clean -fdx -e .pq keeps it",
      );
    const dpkg = dpkgSourceNote(stack.tree, stack.queueDir);
    if (dpkg) io.out(dpkg);
    const vendor = vendorSeriesNote(stack.queueDir);
    if (vendor) io.out(vendor);
    // A series pq takes as it is (quilt's, Debian's): a comment that reads as a guard is said, as import --quilt says it (ci-7 #10).
    for (const entry of stack.series().filter((e) => e.guards.length)) io.out(guardCommentNote(entry.name, entry.guards));
    const { taken, inHead, rejects } = stack.takenOverFromQuilt;
    if (taken.length) {
      io.out(
        `took over the ${taken.length} patch(es) quilt had applied, up to ${taken.at(-1)}, as applied patches of this stack; quilt's ${QUILT_STATE_DIR}/ is removed (pq undo brings it back)`,
      );
    }
    if (rejects.length)
      io.err(
        `pq: warning: ${rejects.join(", ")} ${rejects.length === 1 ? "holds" : "hold"} hunks a forced quilt push of ${taken.at(-1)} left out, which the patch does not have if quilt refreshed it since: apply them by hand, then pq refresh takes them in (pq show ${operandWords(taken.at(-1)!)} shows what it has)`,
      );
    if (inHead.length) {
      const files = `${inHead.slice(0, 5).join(", ")}${inHead.length > 5 ? ", ..." : ""}`;
      io.err(
        `pq: warning: HEAD already holds the applied patches' changes to ${files} (the tree was committed with them applied): pq pop will refuse, since it would leave those commits reverted in the tree\n` +
          `  to work on the patches with pq: ${BACK_THROUGH_QUILT}`,
      );
    }
  },
});

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** --branch is for cloning a shared queue (git clone --branch), and names a branch git would accept. */
function refuseBranchOption(branch: string, shared: string | undefined, tree: string): void {
  if (!shared)
    throw new PqError("usage", "--branch names the branch of a shared queue to clone: it needs --shared URL", [
      "pq init --shared URL --branch NAME",
    ]);
  if (loadState(tree))
    throw new PqError("usage", "--branch is for cloning a shared queue into a new stack; this tree has a stack already", [
      "the queue's branch is the one checked out in its repository (git -C QUEUE checkout BRANCH)",
    ]);
  const valid = !branch.startsWith("-") && childProcess().spawnSync("git", ["check-ref-format", "--branch", branch]).status === 0;
  if (!valid)
    throw new PqError("usage", `--branch ${branch}: not a name git accepts for a branch`, [
      "git check-ref-format --branch NAME tells which names are",
    ]);
}

/**
 * A Debian source package keeps its queue in debian/patches, where dpkg-source (format "3.0
 * (quilt)") applies it: without a setting of quilt's, pq init takes that queue rather than start
 * an empty patches/ beside it, unless patches/ holds a series of its own (upstream may ship a
 * patches/ directory: t40 N10). A debian/patches/series pq would not take is refused, not
 * passed over in silence (t38 F8): --queue says which queue is meant.
 */
function debianQueue(tree: string): { dir: string; from: string } | null {
  const format = readText(join(tree, "debian", "source", "format"))?.trim();
  // patches/ a link to debian/patches (as some packagers make for quilt) is the same queue (t41 N6).
  const ownSeries = existsSync(join(tree, "patches", "series")) && !sameDirectory(join(tree, "patches"), join(tree, "debian", "patches"));
  if (format === "3.0 (quilt)" && !ownSeries) return { dir: "debian/patches", from: "debian/source/format: 3.0 (quilt)" };
  if (!existsSync(join(tree, "debian", "patches", "series"))) return null;
  throw new PqError(
    "usage",
    `this tree has a quilt queue in debian/patches${ownSeries ? " and another in patches/" : ""}, and no setting says which is pq's`,
    [
      "pq init --queue debian/patches takes the Debian package's queue (or set QUILT_PATCHES=debian/patches, as quilt reads it)",
      `pq init --queue patches ${ownSeries ? "takes the other" : "starts a new one beside it"}`,
    ],
  );
}

/**
 * dpkg-source -b reads every file of a Debian source tree but its own and quilt's (.pc/) as a
 * change to the package: pq's .pq/ stops it (binary files), unless told to ignore it (t38 F2).
 * Said once, at init, where the package does not say so already.
 */
function dpkgSourceNote(tree: string, queueDir: string): string | null {
  if (queueInTree(tree, queueDir) !== "debian/patches") return null;
  if ((readText(join(tree, "debian", "source", "local-options")) ?? "").includes(".pq")) return null;
  return "note: dpkg-source -b takes pq's .pq/ for a change to the package: add the line extend-diff-ignore = \"^\\.pq(/|$)\" to debian/source/local-options (or pass --extend-diff-ignore='^\\.pq(/|$)' to dpkg-source)";
}

/**
 * dpkg-source applies a vendor's series (debian.series, ubuntu.series) in place of `series`
 * when there is one, and makes `series` a link to it; pq writes through such a link. A `series`
 * that is a file of its own beside a vendor series is another list than the one the package
 * applies: said at init, with the link that makes them one (t55 N3).
 */
function vendorSeriesNote(queueDir: string): string | null {
  const series = join(queueDir, "series");
  if (lstatSync(series, { throwIfNoEntry: false })?.isSymbolicLink()) return null;
  let names: string[];
  try {
    names = readdirSync(queueDir).filter((name) => /^[a-z0-9][a-z0-9.+-]*\.series$/.test(name) && lstatSync(join(queueDir, name)).isFile());
  } catch {
    return null;
  }
  if (!names.length) return null;
  return `note: dpkg-source applies ${names.join(" or ")} (a vendor's series) in place of series where that vendor builds the package, and pq works on series: ln -sf ${names[0]} ${series} makes them one list, which pq then keeps (as quilt does)`;
}

/**
 * The tree whose own queue, inside it, `queueDir` is, when that is another tree than `tree`: its
 * commands take no queue lock (src/queue/queue-lock.ts), so the two trees are not kept apart
 * (t140 N5: pq init said nothing of it).
 */
function queueOwnedElsewhere(tree: string, queueDir: string): string | null {
  if (queueInTree(tree, queueDir) !== null) return null;
  const owner = Stack.enclosingTree(queueDir);
  if (owner === null || sameDirectory(owner, tree)) return null;
  try {
    const state = loadState(owner);
    return state && sameDirectory(resolve(owner, state.queue), queueDir) ? owner : null;
  } catch {
    return null; // its state unreadable: that tree's own commands say so
  }
}

/**
 * The default patches/ when it is the project's own directory: git tracks patch files in it and it
 * has no series (npm's patch-package keeps patches/PKG+VERSION.patch there). Taken as the queue, its
 * files were left out of every refresh without a word (t145 N13). Named with --queue, it is taken.
 */
function refuseProjectDirectory(tree: string, queueDir: string): void {
  if (existsSync(join(queueDir, "series")) || !existsSync(queueDir)) return;
  const r = childProcess().spawnSync("git", ["ls-files", "-z", "--", "."], { cwd: queueDir, encoding: "latin1" });
  if (r.status !== 0) return;
  // Patch files git tracks there with no series: another tool's patches (patch-package's). Other files (a README, a
  // header the build reads) are a queue folder's neighbours, as a queue kept in the tree may have.
  const tracked = r.stdout.split("\0").filter(Boolean);
  if (!tracked.some((path) => /\.(patch|diff)$/.test(path))) return;
  const rel = relative(tree, queueDir) || ".";
  throw new PqError(
    "exists",
    `${rel}/ holds ${tracked.length} file(s) the project's git tracks (${tracked.slice(0, 3).join(", ")}${tracked.length > 3 ? ", ..." : ""}) and no series: it is the project's own directory, not a patch queue, and as the queue its files would be left out of every patch`,
    [
      "pq init --queue DIR puts the queue in another directory (pq init --queue pq-patches, say)",
      `if ${rel}/ is a queue whose series file is missing, write the series (one patch name a line, in order), then pq init again`,
    ],
    { queue: queueDir },
  );
}
