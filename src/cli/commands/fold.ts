import { defineCommand } from "../io.js";
import { openStack } from "../open-stack.js";

export default defineCommand({
  command: "fold <names..>",
  describe: "fold unapplied patches into the top patch (changes and messages)",
  builder: (y) =>
    y
      .positional("names", { type: "string", array: true, demandOption: true })
      .option("message", { alias: "m", type: "string", describe: "message for the folded patch" })
      .option("keep", { alias: "k", type: "boolean", describe: "keep the folded patch files in the queue directory" }),
  run: async (args, io) => {
    const report = await (await openStack(args, io)).fold(args.names as string[], { message: args.message, keep: args.keep });
    io.out(`folded ${(args.names as string[]).join(", ")} into ${report.name}: ${report.files.join(", ")}`);
  },
});
