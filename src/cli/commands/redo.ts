import { defineCommand, positiveCount } from "../io.js";
import { openStack } from "../open-stack.js";
import { printUndoReport } from "../reports.js";

export default defineCommand({
  command: "redo [count]",
  describe: "re-do what the last undo took back",
  builder: (y) =>
    y
      .positional("count", { type: "string", describe: "how many commands to re-do (default 1; a rebase or a sync counts as one)" })
      .option("force", { alias: "f", type: "boolean", describe: "redo over files changed since (they are backed up)" })
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const report = await stack.redo({ count: positiveCount(args.count, "redo", 1), force: args.force });
    printUndoReport(io, "redid", report, args.json);
  },
});
