import { defineCommand } from "../io.js";
import { openStack, printJson } from "../open-stack.js";

export default defineCommand({
  command: "unapplied",
  describe: "list the patches not applied, in series order",
  builder: (y) => y.option("json", { type: "boolean" }),
  run: async (args, io) => {
    const names = (await openStack(args, io)).unapplied();
    if (args.json) printJson(io, names);
    else names.forEach((n) => io.out(n));
  },
});
