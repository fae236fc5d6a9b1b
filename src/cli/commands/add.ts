import { defineCommand } from "../io.js";
import { openStack } from "../open-stack.js";

export default defineCommand({
  command: "add <files..>",
  describe: "track files in the top patch (needed for new, untracked files; quilt add)",
  builder: (y) => y.positional("files", { type: "string", array: true, demandOption: true }),
  run: async (args, io) => {
    const added = await (await openStack(args, io)).add(args.files as string[]);
    io.out(added.length ? `added ${added.join(", ")} to ${(await openStack(args, io)).top()}` : "nothing new to add");
  },
});
