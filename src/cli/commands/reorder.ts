import { defineCommand } from "../io.js";
import { openStack } from "../open-stack.js";

export default defineCommand({
  command: "reorder <name>",
  describe: "move an unapplied patch within the series",
  builder: (y) =>
    y
      .positional("name", { type: "string", demandOption: true, describe: "unapplied patch to move" })
      .option("after", { type: "string", describe: "put it right after this patch" })
      .option("before", { type: "string", describe: "put it right before this patch" })
      .option("first", { type: "boolean", describe: "make it the next patch to push" })
      .option("last", { type: "boolean", describe: "move it to the end of the series" })
      .conflicts({ first: ["last", "after", "before"], last: ["after", "before"], after: "before" }),
  run: async (args, io) => {
    await (await openStack(args, io)).reorder(args.name, { after: args.after, before: args.before, first: args.first, last: args.last });
    io.out(`moved ${args.name}`);
  },
});
