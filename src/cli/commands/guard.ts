import { resolveName } from "../../queue/names.js";
import { defineCommand } from "../io.js";
import { openStack, printJson } from "../open-stack.js";

export default defineCommand({
  command: "guard [args..]",
  describe: "show or set a patch's guards: pq guard [NAME] [+g|-g ...] | --none | --list",
  builder: (y) =>
    y
      .parserConfiguration({ "unknown-options-as-args": true })
      .positional("args", { type: "string", array: true })
      .option("none", { type: "boolean", describe: "remove all guards" })
      .option("list", { alias: "l", type: "boolean", describe: "list every patch's guards" })
      .option("json", { type: "boolean" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const rest = ((args.args as string[] | undefined) ?? []).map(String);
    const entries = stack.series();
    if (args.list) {
      if (args.json) return void printJson(io, entries);
      for (const e of entries) io.out(`${e.name}: ${e.guards.length ? e.guards.join(" ") : "unguarded"}`);
      return;
    }
    // A first argument that is not a guard (+g/-g) names the patch: exactly, by position or by a unique part.
    const named = rest.length > 0 && !/^[+-]/.test(rest[0]);
    const name = named ? resolveName(entries.map((e) => e.name), rest.shift()!) : stack.top();
    if (!name) {
      io.err("pq: no patch named and none applied");
      return 2;
    }
    if (rest.length || args.none) await stack.setGuards(name, args.none ? [] : rest);
    const guards = stack.series().find((e) => e.name === name)!.guards;
    if (args.json) return void printJson(io, { name, guards });
    io.out(`${name}: ${guards.length ? guards.join(" ") : "unguarded"}`);
  },
});
