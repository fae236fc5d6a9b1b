import { PqError } from "../errors.js";
import type { Stack } from "../queue/stack.js";
import { defineCommand } from "./io.js";
import { openStack, printJson } from "./open-stack.js";

/**
 * A command that prints one patch name (top, next, prev). When there is none, `none` says
 * why and the exit code is the table's "refused in this state" (hg's qtop says 1; pq's
 * codes come from one table).
 */
export function singleNameCommand(
  command: string,
  describe: string,
  pick: (stack: Stack) => string | null,
  none: (stack: Stack) => string,
) {
  return defineCommand({
    command,
    describe,
    builder: (y) => y.option("json", { type: "boolean" }),
    run: async (args, io) => {
      const stack = await openStack(args, io);
      const name = pick(stack);
      if (args.json) return void printJson(io, { name });
      if (name === null) throw new PqError("refused", none(stack), ["pq series -v shows where the stack is"]);
      io.out(name);
    },
  });
}

/** A command that lists patch names (applied, unapplied). */
export function nameListCommand(command: string, describe: string, pick: (stack: Stack) => string[]) {
  return defineCommand({
    command,
    describe,
    builder: (y) => y.option("json", { type: "boolean" }),
    run: async (args, io) => {
      const names = pick(await openStack(args, io));
      if (args.json) printJson(io, names);
      else names.forEach((n) => io.out(n));
    },
  });
}
