import { operandWords } from "../../core/shell-word.js";
import { defineCommand, refuseNamedTwice } from "../io.js";
import { openStack } from "../open-stack.js";

export default defineCommand({
  command: "fold <names..>",
  describe: "fold unapplied patches into the top patch (changes and messages)",
  builder: (y) =>
    y
      .positional("names", { type: "string", array: true, demandOption: true, describe: "unapplied patches to fold into the top one" })
      .option("message", { alias: "m", type: "string", describe: "message for the folded patch" })
      .option("keep", { alias: "k", type: "boolean", describe: "keep the folded patch files in the queue directory" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const names = (args.names as string[]).map((n) => stack.resolve(String(n)));
    refuseNamedTwice(names);
    const report = await stack.fold(names, { message: args.message, keep: args.keep });
    io.out(`folded ${names.join(", ")} into ${report.name}: ${report.files.join(", ") || "no files changed"}`);
    for (const { patch, hunks } of report.inexact ?? [])
      io.out(`  ${patch} did not apply exactly: ${hunks.join("; ")} (pq show ${operandWords(report.name)} shows where it went in)`);
  },
});
