import { resolve } from "node:path";
import { Stack } from "../../queue/stack.js";
import { defineCommand } from "../io.js";

export default defineCommand({
  command: "init",
  describe: "start a patch stack in this git tree (queue directory: --queue, default patches/)",
  builder: (y) => y,
  run: async (args, io) => {
    const stack = await Stack.init({ tree: resolve(io.cwd, args.tree ?? "."), queue: args.queue ? resolve(io.cwd, args.queue) : undefined });
    io.out(`initialised a pq stack in ${stack.tree} with the queue ${stack.queueDir} (${stack.series().length} patches in its series)`);
  },
});
