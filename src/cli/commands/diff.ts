import { defineCommand } from "../io.js";
import { openStack } from "../open-stack.js";

export default defineCommand({
  command: "diff",
  describe: "show the top patch as a refresh would write it (its diff plus unrefreshed changes)",
  builder: (y) => y,
  run: async (args, io) => {
    const text = await (await openStack(args, io)).diff();
    if (text) io.outBytes(text.replace(/\n$/, ""));
  },
});
