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
    // Patch text is latin1-decoded bytes; re-decode as UTF-8 so the terminal sees the original bytes.
    const shown = Buffer.from(text, "latin1").toString("utf8").replace(/\n$/, "");
    io.out(colour ? colourPatch(shown) : shown);
  },
});
