import { defineCommand } from "../io.js";
import { openStack, treePaths } from "../open-stack.js";
import { fileList } from "../reports.js";

export default defineCommand({
  command: "add <files..>",
  describe: "track files in the top patch (needed for new, untracked files; quilt add)",
  builder: (y) => y.positional("files", { type: "string", array: true, demandOption: true, describe: "files for the top patch to track" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const added = await stack.add(treePaths(stack, io, args.files as string[]));
    io.out(added.length ? `added ${fileList(added)} to ${stack.top()}` : "nothing new to add");
  },
});
