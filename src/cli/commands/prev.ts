import { defineCommand } from "../io.js";
import { openStack, printJson } from "../open-stack.js";

export default defineCommand({
  command: "prev",
  describe: "print the patch below the top",
  builder: (y) => y.option("json", { type: "boolean" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const name = stack.prev();
    if (args.json) return void printJson(io, { name });
    if (name === null) {
      io.err("pq: no such patch");
      return 1;
    }
    io.out(name);
  },
});
