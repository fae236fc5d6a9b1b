import { PqError } from "../../errors.js";
import { defineCommand } from "../io.js";
import { openStack, printJson } from "../open-stack.js";

export default defineCommand({
  command: "guard [args..]",
  describe: "show or set a patch's guards: pq guard [NAME] [+g|-g ...] | --none | --list",
  builder: (y) =>
    y
      // hg's syntax: "pq guard NAME -- -neg"; guards that start with "-" look like options.
      .parserConfiguration({ "unknown-options-as-args": true, "populate--": true })
      .positional("args", { type: "string", array: true, describe: "[PATCH] then guards, +g or -g (as in hg: pq guard NAME -- -g)" })
      .option("none", { type: "boolean", describe: "remove all guards" })
      .option("list", { alias: "l", type: "boolean", describe: "list every patch's guards" })
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const rest = [
      ...((args.args as string[] | undefined) ?? []),
      ...(((args as unknown as Record<string, unknown>)["--"] as string[] | undefined) ?? []),
    ].map(String);
    const entries = stack.series();
    // --list shows; a name, guards or --none with it would be dropped without a word (t96 N6).
    if (args.list && (rest.length || args.none))
      throw new PqError("usage", `--list shows every patch's guards and takes no ${args.none ? "--none" : `${rest.join(" ")}`}`, [
        "pq guard --list; pq guard NAME +g -g to set a patch's guards, --none to remove them",
      ]);
    if (args.list) {
      if (args.json) return void printJson(io, entries);
      for (const e of entries) io.out(`${e.name}: ${e.guards.length ? e.guards.join(" ") : "unguarded"}`);
      return;
    }
    // A first word that is a patch's name is the patch, whatever it starts with: with --none (a patch
    // named -x: t89 N3), and `pq guard -- -g` as pq's advice names a patch -g, which set the guard "-g"
    // on the top patch instead (t125 N13).
    const namesPatch = rest.length > 0 && stack.series().some((e) => e.name === rest[0]);
    const name = namesPatch || (rest.length && !/^[+-]/.test(rest[0])) ? stack.resolve(rest.shift()!) : stack.top();
    // --none with guards (or a second name): one reading had won silently (t82 N4).
    if (args.none && rest.length)
      throw new PqError("usage", `--none and ${rest.join(" ")} cannot be given together`, [
        "pq guard NAME --none removes its guards; pq guard NAME +g -g sets them",
      ]);
    if (!name) throw new PqError("refused", "no patch named and none applied", ["name a patch: pq guard NAME +g"]);
    if (rest.length || args.none) await stack.setGuards(name, args.none ? [] : rest);
    const guards = stack.series().find((e) => e.name === name)!.guards;
    // Applied, and excluded by the selection now: a pop and push -a would leave it out, said as pq select says it (t77 N5).
    const guardedOff = stack.appliedGuardedOff().includes(name);
    if (args.json) return void printJson(io, { name, guards, ...(guardedOff ? { guardedOff } : {}) });
    io.out(`${name}: ${guards.length ? guards.join(" ") : "unguarded"}`);
    if (guardedOff) io.out(`${name} is applied but now guarded (pq select --reapply pops it and pushes back up to where the top was)`);
  },
});
