import { colourPatch, patchText, resolvePatch } from "../../queue/queries.js";
import { terminalText } from "../../core/cells.js";
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
    if (!colour) return void io.outBytes(text.replace(/\n$/, ""));
    // The patch's own control characters shown first (on a terminal), then pq's colours added: a
    // colour code in someone's patch is shown as text, and a CR LF line keeps its pair (t66 N1, N2).
    const painted = colourPatch((io.isTTY ? terminalText(text, true) : text).replace(/\n$/, ""));
    if (io.outStyledBytes) io.outStyledBytes(painted);
    else io.outBytes(painted);
  },
});
