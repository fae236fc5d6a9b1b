import { PqError } from "../../errors.js";
import { defineCommand } from "../io.js";
import { openStack } from "../open-stack.js";

export default defineCommand({
  command: "rename <from> [to]",
  describe: "rename a patch (with one name: the top patch)",
  builder: (y) =>
    y
      .positional("from", { type: "string", demandOption: true, describe: "patch to rename (the new name alone renames the top one)" })
      .positional("to", { type: "string", describe: "new name" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    let [from, to] = [args.from, args.to];
    if (to === undefined) {
      const top = stack.top();
      if (!top) throw new PqError("refused", "no patch is applied to rename", ["name both: pq rename OLD NEW"]);
      [from, to] = [top, from];
    } else from = stack.resolve(from);
    const named = await stack.renamePatch(from, to);
    io.out(`renamed ${from} to ${named}`);
  },
});
