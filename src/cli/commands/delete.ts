import { defineCommand, refuseNamedTwice } from "../io.js";
import { openStack } from "../open-stack.js";

export default defineCommand({
  command: "delete <names..>",
  describe: "remove unapplied patches from the series (files go to .pq/trash unless --keep)",
  builder: (y) =>
    y
      .positional("names", { type: "string", array: true, demandOption: true, describe: "unapplied patches to remove from the series" })
      .option("keep", { alias: "k", type: "boolean", describe: "leave the patch files in the queue directory" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const names = (args.names as string[]).map((n) => stack.resolve(String(n), { whole: true }));
    refuseNamedTwice(names);
    const moved = await stack.deletePatches(names, { keep: args.keep });
    for (const name of names) io.out(`deleted ${name}`);
    for (const path of moved) io.out(`  (file kept at ${path})`);
  },
});
