import { PqError } from "../../errors.js";
import { defineCommand } from "../io.js";
import { openStack, printJson } from "../open-stack.js";

export default defineCommand({
  command: "select [guards..]",
  describe: "show or set the selected guards (--none to clear)",
  builder: (y) =>
    y
      .positional("guards", { type: "string", array: true, describe: "guards to select (replacing the selection)" })
      .option("none", { alias: "n", type: "boolean", describe: "select no guard" })
      .option("reapply", {
        type: "boolean",
        describe:
          "then pop the patches the selection guards off and push back up to where the top was, as hg qselect --reapply (the series' order stays)",
      })
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const guards = ((args.guards as string[] | undefined) ?? []).map(String);
    if (args.none && guards.length)
      throw new PqError("usage", `--none and ${guards.join(" ")} cannot be given together`, [
        "pq select --none selects no guard; pq select G ... selects those",
      ]);
    const asked = guards.length || args.none ? (args.none ? [] : guards) : null;
    if (args.reapply) {
      const before = stack.top();
      const { moved } = await stack.selectReapply(asked);
      if (moved) {
        io.out(
          `reapplied with the selection: now at ${stack.top() ?? "nothing applied"}${stack.top() === before ? "" : ` (was ${before})`}`,
        );
        // The patches below the new top that the selection keeps out, as hg's reapply names them.
        const names = stack.series().map((e) => e.name);
        const pushable = new Set(stack.pushable());
        const top = stack.top();
        const skipped = top ? names.slice(0, names.indexOf(top)).filter((name) => !pushable.has(name)) : [];
        if (skipped.length) io.out(`skipped (guarded off): ${skipped.join(", ")}`);
      }
    } else if (asked) {
      const excluded = await stack.select(asked);
      if (excluded.length)
        io.out(`applied but now guarded: ${excluded.join(", ")} (pq select --reapply pops them and pushes back up to where the top was)`);
    }
    const selected = stack.selectedGuards();
    if (args.json) return void printJson(io, selected);
    io.out(selected.length ? selected.join("\n") : "no guards selected");
  },
});
