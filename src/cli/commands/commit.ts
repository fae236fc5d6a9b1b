import { operandWords, shellWord } from "../../core/shell-word.js";
import { QueueRepo } from "../../collab/queue-repo.js";
import { loadSyncState } from "../../collab/sync-state.js";
import { PqError } from "../../errors.js";
import { addsConflictMarkers } from "../../queue/patch-text.js";
import { abortCutShort, refuseDuringInterruptedSync, stoppedSyncRefresh } from "../../queue/state.js";
import { parsePatch } from "../../patch/index.js";
import { readText } from "../../tree/files.js";
import { defineCommand, type CliIO } from "../io.js";
import { rebaseInProgress } from "../../queue/rebase.js";
import type { Stack } from "../../queue/stack.js";
import { childProcess } from "../../core/child-process.js";
import { finishedTrailers } from "../../collab/finished.js";
import { parseSeries } from "../../collab/simulate.js";
import { openStack } from "../open-stack.js";

export default defineCommand({
  command: "commit",
  describe: "commit the queue's changes (series and patch files, nothing else of the tree) with your git identity",
  builder: (y) => y.option("message", { alias: "m", type: "string", describe: "the commit message (default: the patches that changed)" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    // Under the tree's lock, as every command that changes what a sync reads: a commit made while
    // a sync ran was pushed by it unchecked (t35 F4); now the commit waits its turn (exit 4).
    await stack.withLock(() => commitQueue(stack, args, io), { changes: false });
  },
});

/** The commit itself, under the lock. */
async function commitQueue(stack: Stack, args: { message?: string }, io: CliIO): Promise<void> {
  refuseDuringInterruptedSync(stack.tree, "a commit made now");
  // A stopped rebase's patches are half carried over (conflict markers as added lines): not for everyone (t35 F6).
  if (rebaseInProgress(stack)) {
    throw new PqError("refused", "a pq rebase is stopped: its patches are not final, and a commit would share them as they are", [
      "pq rebase --continue (after resolving and pq refresh) or pq rebase --abort, then pq commit",
    ]);
  }
  const sync = loadSyncState(stack.tree);
  if (sync?.aborting) throw abortCutShort("pq commit");
  if (sync?.phase === "conflicts") {
    throw new PqError(
      "refused",
      "a sync stopped on conflicts: its resolution is committed by pq sync --continue, as the merge",
      [`resolve, ${stoppedSyncRefresh(stack.tree)}, then pq sync --continue (or pq sync --abort)`],
      { pathsFrom: stack.tree },
    );
  }
  const qr = await QueueRepo.require(stack.queueDir);
  qr.refuseUnfinishedGitOperation("a commit");
  const pending = await qr.pending();
  qr.refuseSymlinks(pending.links, "a commit");
  const changed = pending.changed;
  if (!changed.length) return void io.out("nothing to commit: the queue matches its last commit");
  // A patch that does not parse (conflict markers from a merge done by hand) would reach everyone
  // unusable; an incoming one is refused the same way (exit 7).
  const entries = new Map(stack.series().map((e) => [e.name, e]));
  // Applied patches pushed with conflicts to resolve (a stop's markers): a fixture file with marker lines in another patch is no conflict.
  const conflicted = new Set(
    stack
      .appliedRecords()
      .filter((r) => r.needsRefresh === "conflict")
      .map((r) => r.name),
  );
  for (const name of changed) {
    const entry = entries.get(name);
    if (!entry) continue;
    const text = readText(stack.patchPath(name)) ?? "";
    // A patch that adds a merge's conflict markers (an undo that took a resolution back, a stop
    // refreshed as it was) would reach everyone as it is; pq sync refuses to push it (t79 N2).
    if (conflicted.has(name) && addsConflictMarkers(text) && /^\+=======\r?$/m.test(text))
      throw new PqError(
        "conflict",
        `${name} adds conflict markers (<<<<<<< ======= >>>>>>>) to the tree; nothing was committed`,
        [`resolve them in the tree (pq goto ${operandWords(name)} if it is not applied), pq refresh, then pq commit`],
        { patch: name },
      );
    try {
      parsePatch(text, { strip: entry.strip ?? 1 });
    } catch (e) {
      if (!(e instanceof PqError)) throw e;
      throw new PqError(
        "bad-patch",
        `${name} does not parse as a patch: ${e.message}; nothing was committed`,
        [
          `fix the file (a merge's conflict markers?) or put it back (git -C ${shellWord(stack.queueDir)} checkout -- ${shellWord(name)}), then pq commit`,
        ],
        { patch: name },
      );
    }
  }
  // A series entry with no file (deleted, or git mv'd away): committed, every colleague's sync refuses the queue (t67 N1).
  const listed = parseSeries(pending.disk.series ?? "", "your").map((e) => e.name);
  const missing = listed.filter((name) => pending.disk[name] === undefined);
  if (missing.length)
    throw new PqError(
      "not-found",
      `the series lists ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", ..." : ""}, which ${missing.length === 1 ? "has" : "have"} no file in ${stack.queueDir}; nothing was committed`,
      [
        `put the file back (git -C ${shellWord(stack.queueDir)} checkout -- NAME), or take it out of the series (pq delete NAME), then pq commit`,
      ],
      { patches: missing },
    );
  // An empty -m is no message: the trailers below must not become the subject (t23 F9).
  const subject = args.message?.trim()
    ? args.message
    : `pq: update ${changed.slice(0, 5).join(", ")}${changed.length > 5 ? ` and ${changed.length - 5} more` : ""}`;
  // Patches this commit takes out of the series that pq finish made commits of: named, so a
  // colleague's sync says so (collab-17 F14).
  const committedSeries = pending.head ? ((await qr.git.filesAt(pending.head)).series ?? "") : "";
  const listedNow = new Set(listed);
  const removed = parseSeries(committedSeries, "the committed")
    .map((e) => e.name)
    .filter((name) => !listedNow.has(name));
  // Asked of git by its exit code: simple-git takes an exit with no output as success (t23 F1).
  const trailers = await finishedTrailers(
    stack.tree,
    removed,
    async (commit) =>
      childProcess().spawnSync("git", ["merge-base", "--is-ancestor", commit, "HEAD"], { cwd: stack.tree, stdio: "ignore" }).status === 0,
  );
  const message = trailers.length ? `${subject.replace(/\s+$/, "")}\n\n${trailers.join("\n")}\n` : subject;
  const id = await qr.commit(message, pending);
  io.out(`committed ${changed.length} queue file(s) as ${id!.slice(0, 12)}: ${changed.join(", ")}`);
  if (pending.leftOut.length)
    io.err(
      `note: not committed (editor backups and leftovers; git add them in the queue's repository to share one): ${pending.leftOut.join(", ")}`,
    );
  if (pending.unlisted.length)
    io.err(
      `note: not committed (untracked, and not in the series; git -C ${shellWord(stack.queueDir)} add one to share it): ${pending.unlisted.join(", ")}`,
    );
}
