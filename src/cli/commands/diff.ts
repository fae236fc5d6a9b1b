import { defineCommand } from "../io.js";
import { openStack } from "../open-stack.js";

export default defineCommand({
  command: "diff",
  describe: "show the top patch as a refresh would write it (its diff plus unrefreshed changes)",
  builder: (y) => y,
  run: async (args, io) => {
    const text = await (await openStack(args, io)).diff();
    // Patch text is latin1-decoded bytes; re-decode as UTF-8 so the terminal sees the original bytes.
    if (text) io.out(Buffer.from(text, "latin1").toString("utf8").replace(/\n$/, ""));
  },
});
