import { defineCommand } from "../io.js";
import { openStack, treePaths } from "../open-stack.js";
import { fileList } from "../reports.js";

export default defineCommand({
  command: "revert <files..>",
  describe: "drop files' unrefreshed changes: back to what the applied patches left (quilt revert; pq undo brings them back)",
  builder: (y) =>
    y.positional("files", { type: "string", array: true, demandOption: true, describe: "files whose unrefreshed changes to drop" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const reverted = await stack.revert(treePaths(stack, io, args.files as string[]));
    io.out(
      reverted.length
        ? `reverted ${fileList(reverted)} (pq undo brings the changes back)`
        : "nothing to revert: no unrefreshed changes in those files",
    );
  },
});
