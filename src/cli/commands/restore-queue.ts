import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { PqError } from "../../errors.js";
import { loadState, statePaths } from "../../queue/state.js";
import { takeWaiting, TreeLock } from "../../tree/lock.js";
import { takeQueueLock } from "../../queue/queue-lock.js";
import { restoreQueue } from "../../queue/restore-queue.js";
import { refuseQueueLinkedOut } from "../../queue/stack-refusals.js";
import { defineCommand } from "../io.js";
import { operandList } from "../../core/shell-word.js";

export default defineCommand({
  command: "restore-queue",
  describe:
    "write back the queue files pq wrote or found at pq init that are missing (a git clean -fd removed the queue directory), from its operation log and copies",
  builder: (y) => y,
  run: async (args, io) => {
    const tree = resolve(io.cwd, args.tree ?? ".");
    const state = loadState(tree);
    if (!state) throw new PqError("no-queue", `no pq stack in ${tree}`, ["run it in the tree whose queue is missing (or pass --tree DIR)"]);
    const queueDir = resolve(tree, state.queue);
    refuseQueueLinkedOut(tree, queueDir);
    // Under the tree lock, as every command that writes: beside another pq's operation it had
    // written back a patch file that operation was renaming away (t65 N5).
    const lock = await takeWaiting(() => TreeLock.acquire(statePaths(tree).lock));
    let releaseQueue: (() => void) | null = null;
    let result: ReturnType<typeof restoreQueue>;
    try {
      // And under the queue's, as every command that writes it: another tree may use the same queue directory.
      releaseQueue = await takeQueueLock(tree, queueDir);
      // A killed operation's journal, the queue there: completing it is the next command's first step, and
      // what it removes is not "missing" (t66: a killed delete's patch was "restored", then trashed again).
      if (existsSync(statePaths(tree).journal) && existsSync(join(queueDir, "series")))
        throw new PqError("refused", "an interrupted operation waits to be completed", [
          "pq status completes it; then pq restore-queue, if files are still missing",
        ]);
      result = restoreQueue(tree, queueDir, loadState(tree) ?? state);
    } finally {
      releaseQueue?.();
      lock.release();
    }
    const { restored, unlistedApplied, unlisted, lost, seriesSavedIn, neverWritten } = result;
    const neverWrittenNote = neverWritten.length
      ? `note: ${neverWritten.join(", ")}, listed in the series, ${neverWritten.length === 1 ? "has" : "have"} no file, and this tree's pq never wrote ${neverWritten.length === 1 ? "it" : "them"}: pq restore-queue in the tree that made ${neverWritten.length === 1 ? "it" : "them"} (another tree using the queue directory) writes ${neverWritten.length === 1 ? "it" : "them"} back; or pq delete ${operandList(neverWritten)}`
      : null;
    if (!restored.length && !lost.length && !unlistedApplied.length) {
      // No copy of anything, and no queue directory: not "every file is there" (t56 N5).
      if (!existsSync(join(queueDir, "series")))
        throw new PqError("not-found", `pq has no copy of the queue ${queueDir}: no operation wrote a file of it, and pq init kept none`, [
          "a copy elsewhere (a backup, a clone of the queue's repository) is the way back; pq init --queue DIR takes another queue",
        ]);
      io.out(`nothing to restore: every queue file ${neverWrittenNote ? "this tree's " : ""}pq wrote is in ${queueDir}`);
      if (neverWrittenNote) io.out(neverWrittenNote);
      if (seriesSavedIn) io.out(ownSeriesNote(seriesSavedIn));
      return;
    }
    if (restored.length) io.out(`restored ${restored.length} file(s) in ${queueDir}: ${restored.join(", ")}`);
    if (unlistedApplied.length)
      io.out(
        `note: ${unlistedApplied.join(", ")}, applied here, ${unlistedApplied.length === 1 ? "is" : "are"} not in the series (another tree using the queue directory restored an older series, or deleted or renamed ${unlistedApplied.length === 1 ? "it" : "them"}?): put ${unlistedApplied.length === 1 ? "its line" : "their lines"} back where ${unlistedApplied.length === 1 ? "it was" : "they were"} if ${unlistedApplied.length === 1 ? "it stays" : "they stay"}, or pq pop -a (pop goes by what was applied) and leave the series as it is`,
      );
    if (unlisted.length)
      io.out(
        `note: the series does not list ${unlisted.join(", ")} (deleted or renamed since, perhaps by another tree using the queue directory): add ${unlisted.length === 1 ? "its line" : "their lines"} to the series to keep ${unlisted.length === 1 ? "it" : "them"}, or remove the file${unlisted.length === 1 ? "" : "s"}`,
      );
    if (seriesSavedIn) io.out(ownSeriesNote(seriesSavedIn));
    if (neverWrittenNote) io.out(neverWrittenNote);
    if (lost.length) {
      throw new PqError("damaged", `pq has no copy of the applied patch(es) ${lost.join(", ")}`, [
        "their changes are still in the tree: pq new NAME and pq refresh make a patch of them again (after pq pop of the patches above)",
      ]);
    }
  },
});

/** Where this tree's own last series was saved, when the series there is another (see QueueRestore.seriesSavedIn). */
const ownSeriesNote = (dir: string) =>
  `note: the series there is not the one this tree's operations left (changed since by hand, or by another tree using the queue directory, which may have restored its own): this tree's is saved in ${dir}/series; compare the two (a line or guard only this tree's has is not in the series now)`;
