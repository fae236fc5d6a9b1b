import { defineCommand } from "../io.js";
import { openStack, printJson } from "../open-stack.js";

export default defineCommand({
  command: "next",
  describe: "print the patch a push would apply",
  builder: (y) => y.option("json", { type: "boolean" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const name = stack.next();
    if (args.json) return void printJson(io, { name });
    if (name === null) {
      io.err("pq: no such patch");
      return 1;
    }
    io.out(name);
  },
});
