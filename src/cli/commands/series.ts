import { isPushable } from "../../queue/series.js";
import { defineCommand } from "../io.js";
import { openStack, printJson } from "../open-stack.js";

export default defineCommand({
  command: "series",
  describe: "list the patches in the series (-v: position, state and guards)",
  builder: (y) =>
    y
      .option("verbose", { alias: "v", type: "boolean", describe: "positions, applied/unapplied and guards" })
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const applied = new Set(stack.applied());
    const guards = stack.selectedGuards();
    const rows = stack.series().map((e, i) => ({
      index: i + 1,
      name: e.name,
      state: applied.has(e.name) ? "applied" : isPushable(e, guards) ? "unapplied" : "guarded",
      guards: e.guards,
    }));
    if (args.json) return void printJson(io, rows);
    for (const r of rows) {
      if (!args.verbose) io.out(r.name);
      else
        io.out(
          `${String(r.index).padStart(3)} ${r.state === "applied" ? "A" : r.state === "guarded" ? "G" : "U"} ${r.name}${r.guards.length ? `  ${r.guards.map((g) => "#" + g).join(" ")}` : ""}`,
        );
    }
  },
});
