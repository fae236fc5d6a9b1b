import { defineCommand, positiveCount } from "../io.js";
import { openStack } from "../open-stack.js";
import { fileList, printUndoReport } from "../reports.js";
import { undoWithSharedNote } from "../../collab/undo-note.js";

export default defineCommand({
  command: "undo [count]",
  describe: "take back the last command (or the last COUNT) on the tree, the queue and the state",
  builder: (y) =>
    y
      .positional("count", { type: "string", describe: "how many commands to take back (default 1; a rebase or a sync counts as one)" })
      .option("force", { alias: "f", type: "boolean", describe: "undo over files changed since (they are backed up)" })
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const { result: report, note } = await undoWithSharedNote(
      stack,
      () => stack.undo({ count: positiveCount(args.count, "undo", 1), force: args.force }),
      fileList,
    );
    printUndoReport(io, "undid", report, args.json);
    if (note && !args.json) io.out(`note: ${note}`);
  },
});
