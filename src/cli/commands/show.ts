import { colourPatch, patchText, resolvePatch } from "../../queue/queries.js";
import { defineCommand } from "../io.js";
import { openStack } from "../open-stack.js";

export default defineCommand({
  command: "show [patch]",
  describe: "show a patch's header and diff (default: the top patch), coloured on a terminal as git show",
  builder: (y) =>
    y
      .positional("patch", { type: "string", describe: "patch name or 1-based series position" })
      .option("color", { type: "boolean", describe: "force colour on (or off with --no-color)" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const text = await patchText(stack, resolvePatch(stack, args.patch));
    const colour = args.color ?? (io.isTTY && !process.env.NO_COLOR);
    const shown = text.replace(/\n$/, "");
    io.outBytes(colour ? colourPatch(shown) : shown);
  },
});
