import { defineCommand } from "../io.js";
import { openStack, printJson } from "../open-stack.js";

export default defineCommand({
  command: "applied",
  describe: "list the applied patches, bottom first",
  builder: (y) => y.option("json", { type: "boolean" }),
  run: async (args, io) => {
    const names = (await openStack(args, io)).applied();
    if (args.json) printJson(io, names);
    else names.forEach((n) => io.out(n));
  },
});
