import { PqError } from "../../errors.js";
import { defineCommand } from "../io.js";
import { openStack } from "../open-stack.js";

export default defineCommand({
  command: "finish [target]",
  describe: "turn the applied patches up to TARGET (or --all) into git commits and drop them from the queue",
  builder: (y) =>
    y
      .positional("target", { type: "string", describe: "finish the applied patches up to this one (name or position)" })
      .option("all", { alias: "a", type: "boolean", describe: "finish every applied patch" }),
  run: async (args, io) => {
    // Both given: -a had won, and more patches became commits than the one named (t82 N4).
    if (args.all && args.target !== undefined)
      throw new PqError("usage", "give a patch or --all, not both", [
        "pq finish NAME finishes the applied patches up to NAME; pq finish -a finishes every applied one",
      ]);
    const stack = await openStack(args, io);
    const { commits } = await stack.finish({ target: args.target, all: args.all });
    for (const c of commits) io.out(`${c.commit.slice(0, 12)} ${c.name}`);
  },
});
