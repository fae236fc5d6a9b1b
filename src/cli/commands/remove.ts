import { defineCommand } from "../io.js";
import { openStack, treePaths } from "../open-stack.js";
import { fileList } from "../reports.js";

export default defineCommand({
  command: "remove <files..>",
  describe: "take files out of the top patch, each back as it was below it (quilt remove; pq undo puts them back)",
  builder: (y) =>
    y.positional("files", { type: "string", array: true, demandOption: true, describe: "files to take out of the top patch" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const { removed, edited } = await stack.remove(treePaths(stack, io, args.files as string[]));
    io.out(`removed ${fileList(removed)} from ${stack.top()}`);
    if (edited.length) io.out(`the unrefreshed changes to ${fileList(edited)} went too (pq undo brings them back)`);
  },
});
