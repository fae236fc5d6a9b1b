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
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const guards = ((args.guards as string[] | undefined) ?? []).map(String);
    if (args.none && guards.length)
      throw new PqError("usage", `--none and ${guards.join(" ")} cannot be given together`, [
        "pq select --none selects no guard; pq select G ... selects those",
      ]);
    if (guards.length || args.none) {
      const excluded = await stack.select(args.none ? [] : guards);
      if (excluded.length) io.out(`applied but now guarded (pop and push to drop them): ${excluded.join(", ")}`);
    }
    const selected = stack.selectedGuards();
    if (args.json) return void printJson(io, selected);
    io.out(selected.length ? selected.join("\n") : "no guards selected");
  },
});
