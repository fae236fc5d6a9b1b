import { authorArg, defineCommand } from "../io.js";
import { openStack } from "../open-stack.js";

export default defineCommand({
  command: "new <name>",
  describe: "create a new patch on top of the applied ones",
  builder: (y) =>
    y
      .positional("name", { type: "string", demandOption: true, describe: "patch file name" })
      .option("message", { alias: "m", type: "string", describe: "commit message (first line is the subject)" })
      .option("author", { alias: ["u", "user"], type: "string", describe: "author, as 'Name <email>'" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const name = await stack.newPatch(args.name, { message: args.message, author: authorArg(args.author, "--author") });
    io.out(`now at: ${name}`);
  },
});
