import { defineCommand } from "../io.js";
import { openStack, treePaths } from "../open-stack.js";

export default defineCommand({
  command: "diff [files..]",
  describe: "show the top patch as a refresh would write it (its diff plus unrefreshed changes)",
  builder: (y) =>
    y.positional("files", { type: "string", array: true, describe: "only these files" }).option("z", {
      alias: "since-refresh",
      type: "boolean",
      describe: "only the changes made since the last refresh (quilt diff -z), against what the patches left",
    }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const text = await stack.diff({
      sinceRefresh: Boolean(args.z),
      files: treePaths(stack, io, (args.files as string[] | undefined) ?? []),
    });
    if (text) io.outBytes(text.replace(/\n$/, ""));
  },
});
