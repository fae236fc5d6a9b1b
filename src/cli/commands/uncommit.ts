import { uncommit } from "../../queue/uncommit.js";
import { PqError } from "../../errors.js";
import { defineCommand, invocation } from "../io.js";
import { openStack, printJson } from "../open-stack.js";

export default defineCommand({
  command: "uncommit [range]",
  describe: "turn the top commit(s) of the branch (-n N, or REV..) into applied patches at the bottom of the stack (the inverse of finish)",
  builder: (y) =>
    y
      .positional("range", { type: "string", describe: "REV..: the commits after REV up to HEAD" })
      .option("number", { alias: "n", type: "number", requiresArg: true, describe: "how many commits (default 1)" })
      .conflicts("range", "number")
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    // -n "" reaches here as 0: said as the empty value it is (t95 N5).
    const at = invocation.argv.findIndex((a) => a === "-n" || a === "--number");
    if ((at !== -1 && invocation.argv[at + 1] === "") || invocation.argv.some((a) => a === "-n=" || a === "--number="))
      throw new PqError("usage", "-n needs a value, and its value is empty", [
        "pq uncommit -n 3 takes the last three commits back into patches",
      ]);
    const stack = await openStack(args, io);
    const report = await uncommit(stack, { count: args.number, range: args.range });
    if (args.json) return void printJson(io, report);
    for (const p of report.patches) io.out(`${p.commit.slice(0, 12)} -> ${p.name}`);
    io.out(`HEAD is now ${report.base.slice(0, 12)}; ${report.patches.length} patch(es) applied at the bottom of the stack`);
  },
});
