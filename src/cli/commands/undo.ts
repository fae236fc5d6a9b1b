import { defineCommand, positiveCount } from "../io.js";
import { openStack } from "../open-stack.js";
import { fileList, printUndoReport } from "../reports.js";
import { sharedStatus } from "../../collab/status.js";

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
    const before = await sharedStatus(stack);
    const report = await stack.undo({ count: positiveCount(args.count, "undo", 1), force: args.force });
    printUndoReport(io, "undid", report, args.json);
    // The version taken back may already be the shared queue's: said, as the next commit and sync
    // would take it back there for everyone (t104's note: the undo said nothing of it).
    const after = before ? await sharedStatus(stack) : null;
    const taken = after ? after.uncommitted.filter((f) => !before!.uncommitted.includes(f)) : [];
    if (taken.length && !args.json)
      io.out(
        // ", and pushed" only where there is a remote branch that has it (t117 N2: a queue with no remote).
        `note: what this undo took back of ${fileList(taken)} is committed in the ${after!.upstream ? "shared " : ""}queue${after!.upstream && !after!.upstreamMissing && !after!.ahead ? ", and pushed" : ""}: pq commit${after!.upstream ? " and pq sync" : ""} would take it back there too${after!.upstream ? ", for everyone" : ""}; pq redo brings it back here`,
      );
  },
});
