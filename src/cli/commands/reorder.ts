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
    const stack = await openStack(args, io);
    const name = stack.resolve(args.name);
    await stack.reorder(args.name, { after: args.after, before: args.before, first: args.first, last: args.last });
    // Where it landed, said: --first puts it after the applied patches, not at the series' start (stack-6 #17c).
    const names = stack.series().map((e) => e.name);
    const at = names.indexOf(name);
    const where = at <= 0 ? "first in the series" : `after ${names[at - 1]}`;
    io.out(`moved ${name}: now ${where}${stack.next() === name ? " (the next patch to push)" : ""}`);
  },
});
