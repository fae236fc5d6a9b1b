import { operandList, operandWords, shellWord } from "../../core/shell-word.js";
import { existsSync } from "node:fs";
import { readText } from "../../tree/files.js";
import { join } from "node:path";
import { handCommitAdvice } from "../../queue/ops/pop.js";
import { defineCommand } from "../io.js";
import { sharedStatus, stoppedSyncLine } from "../../collab/status.js";
import { keepsItsLineEndings, shortList } from "../../queue/ops/refresh.js";
import { queueVersioned } from "../../git/tracked.js";
import { openStack, printJson } from "../open-stack.js";
import { belowTopLines, fileList, PACKAGING_NOTE } from "../reports.js";
import { treeTopNotes } from "../tree-top.js";
import { rebaseStatus } from "../../queue/rebase.js";
import { quiltAppliedStack } from "../../queue/quilt-takeover.js";

export default defineCommand({
  command: "status",
  describe: "where the stack is, and what a refresh would take",
  builder: (y) => y.option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const s = await stack.status({ reportUnreadable: true });
    const shared = await sharedStatus(stack);
    if (args.json) return void printJson(io, shared ? { ...s, shared } : s);
    io.out(`queue: ${stack.queueDir}`);
    if (s.busy)
      io.out(
        `another pq (pid ${s.busy.pid}) is changing the stack now: what follows may be half of its work; run pq status again when it is done`,
      );
    io.out(
      `applied ${s.applied}, unapplied ${s.unapplied}${s.top ? `, top: ${s.top}` : ""}${s.guards.length ? `, guards selected: ${s.guards.join(" ")}` : ""}`,
    );
    // A Debian package's queue: dpkg-source -b stops at a patch with no diff (a pq new not yet refreshed), as quilt does (t55 N7).
    if (
      stack.queueDir === join(stack.tree, "debian", "patches") &&
      readText(join(stack.tree, "debian", "source", "format"))?.trim() === "3.0 (quilt)"
    ) {
      const empty = stack
        .appliedRecords()
        .filter((r) => Object.keys(r.files).length === 0)
        .map((r) => r.name);
      if (empty.length)
        io.out(
          `${empty.join(", ")} ${empty.length === 1 ? "has" : "have"} no diff yet: dpkg-source -b (and quilt push) stop at such a patch; pq refresh once it changes something, or pq delete it`,
        );
    }
    // A patch file gone from the queue (a git pull of a colleague's delete or rename, a delete by hand) is no new version to apply (t45 N5).
    const missingFiles = (s.changedInQueue ?? []).filter((name) => !existsSync(join(stack.queueDir, name)));
    if (missingFiles.length)
      io.out(
        `${missingFiles.join(", ")}, applied, ${missingFiles.length === 1 ? "has" : "have"} no file in the queue any more (a git pull of a colleague's delete or rename, or a delete by hand?): in a shared queue pq sync follows the pull; else pq restore-queue writes ${missingFiles.length === 1 ? "it" : "them"} back`,
      );
    if (s.unappliedMissing?.length) {
      const one = s.unappliedMissing.length === 1;
      io.out(
        `${shortList(s.unappliedMissing)}, unapplied, ${one ? "has" : "have"} no patch file in the queue (a delete by hand, or git clean of an untracked queue?): a push stops there; pq restore-queue writes back a patch file pq wrote, or pq delete ${operandList(s.unappliedMissing)} takes ${one ? "it" : "them"} out of the series`,
      );
    }
    const changed = (s.changedInQueue ?? []).filter((name) => !missingFiles.includes(name));
    if (changed.length) {
      const below = changed[0];
      io.out(
        `${changed.join(", ")} changed in the queue since ${changed.length === 1 ? "it was" : "they were"} pushed (a pull?): ` +
          (changed.length === 1 && below === s.top
            ? "pop and push to apply the new version"
            : `pop below ${below} (pq goto the patch before it, or pq pop -a) and push back up to apply the new versions`),
      );
    }
    // First: while git holds conflicts, every way out below that needs a clean merge fails (t102 N3).
    if (s.unmerged)
      io.out(
        `unresolved conflicts in git's index: ${fileList(s.unmerged)} (a git pull, merge or stash pop stopped there): resolve them and git add them before anything else; a refresh refuses until then`,
      );
    if (s.committedUnder?.length)
      io.out(
        [
          `${
            s.headMoved?.backward
              ? `HEAD is below the commit the applied patches were pushed on (it lost commits that change ${someFiles(s.committedUnder)})`
              : `HEAD has commits that change ${someFiles(s.committedUnder)}, which the applied patches change too`
          }: a pop of the patches that change ${s.committedUnder.length === 1 ? "it" : "them"} would refuse`,
          ...treeTopNotes(io.cwd, stack.tree),
          ...handCommitAdvice("status", s.headMoved, s.pushedOn),
        ].join("\n  "),
      );
    if (s.needsRefresh)
      io.out(
        // A sync's conflict over a binary file leaves no markers (yours is kept): said as a conflict, not as markers (t37 N9).
        `${s.top} needs a refresh (${s.needsRefresh === "conflict" ? "a conflict to resolve: its markers, or a file a sync kept as yours" : "rejected hunks to resolve"})`,
      );
    // Asked of git once, not once a patch: a CRLF checkout may have every patch applied so.
    let versionedQueue: boolean | undefined;
    const versioned = () => (versionedQueue ??= queueVersioned(stack.queueDir));
    // Changes to other files (your own, left by a pull's recipe) stay out of the rewrite: the patch's files named (t119 N4).
    const refreshOf = (name: string): string => {
      const own = Object.keys(stack.appliedRecords().find((r) => r.name === name)?.files ?? {}).sort();
      const others = (s.pending ?? []).some((f) => !own.includes(f));
      if (!others || !own.length) return "pq refresh";
      // Named from the tree's top: from a folder below it, a cd there first (t125 N3).
      const fromTop = treeTopNotes(io.cwd, stack.tree).length ? `cd ${shellWord(stack.tree)}, then ` : "";
      return own.length <= 8
        ? `${fromTop}pq refresh ${operandList(own)}`
        : `pq refresh with its ${own.length} files named (pq files ${operandWords(name)} lists them)`;
    };
    for (const { name, reason } of s.inexact ?? [])
      io.out(
        keepsItsLineEndings({ inexact: reason }, versioned)
          ? // A versioned queue keeps its patches' endings: the checkout converts them.
            `${name} applied only with its line endings set aside: this checkout converts line endings (core.autocrlf or an eol attribute); the queue's git keeps the patch as it is, and a pq refresh that takes no change leaves it so`
          : `${name} applied only ${reason === "eol" ? "with its line endings set aside" : reason === "merge" ? "by a three-way merge" : "with fuzz"}: its patch file does not apply as it is; ${name === s.top ? "" : `pq goto ${operandWords(name)} and `}${refreshOf(name)} rewrites it for this tree${
              // A colleague may have carried the shared queue onto a newer upstream: a refresh here puts it back on this tree's (t104 N2).
              shared?.upstream && reason !== "eol"
                ? ` (in a shared queue, first check whether a colleague carried it onto a newer upstream than this tree's: git fetch, then pq rebase takes this tree there; where this tree is the newer one, the refresh is right)`
                : ""
            }`,
      );
    if (s.changesGone?.checkedOut)
      io.out(
        `${shortList(s.changesGone.patches)}'s changes to ${shortList(s.changesGone.files.map((f) => fileList([f])))} are gone from the tree, each file as it was below the stack (a git checkout -- FILE?): pq revert FILE puts them back; a refresh would make ${s.top} revert them, and refuses`,
      );
    else if (s.changesGone?.topOnly)
      io.out(
        `${s.top}'s changes to ${shortList(s.changesGone.files.map((f) => fileList([f])))} are all gone from the tree, each as it was below the stack (a git reset --hard, git checkout or git stash?): ${
          // A patch a forced or merging push left needing a refresh pops only with --force, and pushes back the same way (t145 N2).
          s.needsRefresh === "forced"
            ? "pq pop --force, then pq push --force,"
            : s.needsRefresh === "conflict"
              ? "pq pop --force, then pq push --merge,"
              : "pq pop, then pq push,"
        } puts them back; a refresh would take them out of ${s.top}, and refuses`,
      );
    else if (s.changesGone)
      io.out(
        `the applied patches' changes to ${shortList(s.changesGone.files.map((f) => fileList([f])))} are gone from the tree, each as it was below the stack${s.changesGone.edited ? ` (with edits since in ${shortList(s.changesGone.edited.map((f) => fileList([f])))})` : ""} (a git reset --hard, git checkout or git stash?): ${s.headMoved ? "once HEAD is back on the commit they were pushed on (above), " : ""}${s.changesGone.edited ? "pq pop -a --force (your edits go to .pq/backups), then pq push -a" : "pq pop -a, then pq push -a"}, puts them back; a refresh would make ${s.top} revert ${shortList(s.changesGone.patches)}, and refuses`,
      );
    if (s.filesGone)
      io.out(
        `${fileList(s.filesGone)}, which the applied patches leave in the tree, ${s.filesGone.length === 1 ? "is" : "are"} gone from it (git clean -fd, or moved?): pq revert ${s.filesGone.length === 1 ? "FILE puts it" : "FILES puts them"} back; a refresh would take the deletion into ${s.top}`,
      );
    if (s.guardedOff?.length)
      io.out(
        `applied but guarded off by the selected guards (${s.guards.length ? s.guards.join(" ") : "none"}): ${fileList(s.guardedOff)}; pq select --reapply takes ${s.guardedOff.length === 1 ? "it" : "them"} off and pushes back up (pq guard or pq select to keep ${s.guardedOff.length === 1 ? "it" : "them"})`,
      );
    // A long list cut to ten (a checkout under a 1000-patch stack made one line of 6 KB: t92 N6); --json has them all.
    if (s.pending.length)
      io.out(
        `unrefreshed changes: ${shortList(s.pending.map((f) => fileList([f])))}${s.pending.length > 10 ? " (pq status --json lists them all)" : ""}`,
      );
    if (s.packaging?.length) io.out(`changed, ${PACKAGING_NOTE}: ${fileList(s.packaging)}`);
    if (s.unreadable)
      io.out(
        `unrefreshed changes unknown: ${s.unreadable.message.replace(/, and nothing was changed$/, "")}\n  ${s.unreadable.details.join("\n  ")}`,
      );
    // quilt pushed in this tree after pq init: its changes show as unrefreshed, and pq would refuse to push over them.
    const quilt = quiltAppliedStack(stack.tree);
    if (quilt)
      io.out(
        `quilt has ${quilt.applied.length} patch(es) applied here (up to ${quilt.applied.at(-1)}): quilt pop -a before pq pushes over them`,
      );
    // A series edited by hand can list applied patches in another order than they were applied
    // (pop goes by the order they were applied): say so, since series -v cannot show it.
    const applied = stack.applied();
    const isApplied = new Set(applied);
    const listed = stack
      .series()
      .map((e) => e.name)
      .filter((n) => isApplied.has(n));
    const isListed = new Set(listed);
    // A line of an applied patch deleted (or commented out) by hand: push, new, fold and finish refuse until it is back (t44 N3).
    const unlisted = applied.filter((n) => !isListed.has(n));
    if (unlisted.length)
      io.out(
        `${unlisted.join(", ")} ${unlisted.length === 1 ? "is" : "are"} applied, but the series no longer lists ${unlisted.length === 1 ? "it" : "them"}: put the line back, or pq pop -a, then edit the series (push, new, fold and finish refuse until then); after a git pull of a shared queue, pq sync takes a colleague's delete or rename with the stack`,
      );
    if (listed.join("\n") !== applied.filter((n) => isListed.has(n)).join("\n"))
      io.out(
        `the series lists the applied patches in another order than they were applied (${applied.slice(0, 8).join(", ")}${applied.length > 8 ? ", ..." : ""}): pq pop -a, then push`,
      );
    for (const line of belowTopLines(stack)) io.out(line);
    const rebasing = rebaseStatus(stack);
    if (rebasing) io.out(rebasing);
    if (shared) {
      const where = shared.kind === "own" ? "its own git repository" : "the tree's git repository";
      const track = shared.detached
        ? "; on a detached HEAD, not on its branch (git checkout BRANCH goes back)"
        : !shared.upstream
          ? "; no upstream"
          : shared.upstreamMissing
            ? `; ${shared.ahead} commit(s) not pushed: ${shared.upstream} does not exist yet (pq sync pushes them)`
            : `; ${shared.ahead} ahead, ${shared.behind} behind ${shared.upstream}`;
      io.out(`shared queue in ${where}${track}${shared.uncommitted.length ? `; uncommitted: ${shared.uncommitted.join(", ")}` : ""}`);
      if (shared.abortInterrupted) io.out("a pq sync --abort was interrupted: pq sync --abort finishes it (the sync cannot go on)");
      else if (shared.syncInProgress && !shared.conflicted.length)
        io.out("a sync was interrupted: pq sync completes it (pq sync --abort takes it back)");
      if (shared.conflicted.length && !shared.abortInterrupted) {
        // Its commands name files from the tree's top: from a folder below it, a cd first (t133 N4).
        const line = stoppedSyncLine(shared);
        io.out(
          treeTopNotes(io.cwd, stack.tree).length && / pq refresh \S/.test(line)
            ? `${line} (cd ${shellWord(stack.tree)} first: the files are named from there)`
            : line,
        );
      }
    }
    if (s.untracked.length) io.out(`untracked: ${fileList(s.untracked.slice(0, 20))}${s.untracked.length > 20 ? " ..." : ""}`);
  },
});

/** The first five of `files`, and "..." for more. */
function someFiles(files: readonly string[]): string {
  return `${files.slice(0, 5).join(", ")}${files.length > 5 ? ", ..." : ""}`;
}
