import { distModule, inBundle } from "../../core/layout.js";
import { PqError } from "../../errors.js";
import { defineCommand } from "../io.js";
import { openStack } from "../open-stack.js";
import { importModule } from "../../core/dynamic-import.js";

export default defineCommand({
  command: "tui",
  describe: "an interactive view of the stack: move, push, pop, goto and refresh with single keys",
  builder: (y) => y,
  run: async (args, io) => {
    if (!process.stdin.isTTY || !process.stdout.isTTY)
      throw new PqError("usage", "pq tui needs a terminal", ["run it in an interactive terminal; scripts use the other commands"]);
    // An interrupted operation completed while opening is said on the TUI's status line.
    let recovered: string | null = null;
    const stack = await openStack(args, io, (e) => {
      if (e.kind === "recover") recovered = e.message;
    });
    // React's development build checks every render and costs the TUI frames; pq ships none of it.
    process.env.NODE_ENV ??= "production";
    // Loaded here, not at start-up: ink and react cost every other command ~100 ms.
    const { runTui } = await loadTuiOnTerminal();
    await runTui(stack, recovered);
  },
});

/**
 * ink decides once, when it is loaded, whether it runs in CI (CI or CONTINUOUS_INTEGRATION
 * set), and then draws only the last frame at exit: on a terminal that is a blank screen.
 * pq tui only ever runs on a terminal, so ink is loaded with those variables hidden; they
 * are put back at once for the git and gcc processes the TUI starts.
 */
async function loadTuiOnTerminal(): Promise<typeof import("../../tui/run.js")> {
  const hidden = ["CI", "CONTINUOUS_INTEGRATION"] as const;
  const saved = hidden.map((key) => [key, process.env[key]] as const);
  for (const key of hidden) delete process.env[key];
  try {
    // The bundled TUI when pq runs from its bundle (one file instead of some two hundred modules).
    return await importModule<typeof import("../../tui/run.js")>(distModule(import.meta.url, inBundle() ? "bundle/tui.mjs" : "tui/run.js"));
  } finally {
    for (const [key, value] of saved) if (value !== undefined) process.env[key] = value;
  }
}
