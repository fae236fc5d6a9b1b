import { distModule } from "../../core/layout.js";
import { PqError } from "../../errors.js";
import { defineCommand } from "../io.js";
import { openStack } from "../open-stack.js";

export default defineCommand({
  command: "tui",
  describe: "an interactive view of the stack: move, push, pop, goto and refresh with single keys",
  builder: (y) => y,
  run: async (args, io) => {
    if (!process.stdin.isTTY || !process.stdout.isTTY)
      throw new PqError("usage", "pq tui needs a terminal", ["run it in an interactive terminal; scripts use the other commands"]);
    const stack = await openStack(args, io);
    // React's development build checks every render and costs the TUI frames; pq ships none of it.
    process.env.NODE_ENV ??= "production";
    // Loaded here, not at start-up: ink and react cost every other command ~100 ms.
    const { runTui } = (await import(distModule(import.meta.url, "tui/run.js"))) as typeof import("../../tui/run.js");
    await runTui(stack);
  },
});
