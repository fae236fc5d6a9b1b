import { patchesTouching } from "../../queue/queries.js";
import { defineCommand } from "../io.js";
import { openStack, printJson, treePaths } from "../open-stack.js";

export default defineCommand({
  command: "patches <file>",
  describe: "list the patches that touch FILE, in series order (A applied, U unapplied)",
  builder: (y) =>
    y
      .positional("file", { type: "string", demandOption: true, describe: "a file of the tree" })
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const [file] = treePaths(stack, io, [String(args.file)]);
    const hits = await patchesTouching(stack, file);
    if (args.json) return void printJson(io, hits);
    for (const h of hits) io.out(`${h.applied ? "A" : "U"} ${h.name}  +${h.added} -${h.removed}`);
    if (!hits.length) io.err(`no patch in the series touches ${args.file}`);
  },
});
