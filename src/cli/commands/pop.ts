import { PqError } from "../../errors.js";
import { defineCommand } from "../io.js";
import { openStack } from "../open-stack.js";
import { progressSink } from "../progress.js";

export default defineCommand({
  command: "pop [target]",
  describe: "unapply the top patch (or down to TARGET, which stays applied)",
  builder: (y) =>
    y
      .positional("target", { type: "string", describe: "patch name or 1-based series position (0: all)" })
      .option("all", { alias: "a", type: "boolean", describe: "unapply every patch" })
      .option("force", { alias: "f", type: "boolean", describe: "pop even over unrefreshed changes (they are backed up)" })
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    const sink = progressSink(io);
    const stack = await openStack(args, io, sink);
    try {
      const target = args.target;
      const report = await stack.pop({ target, all: args.all, force: args.force });
      sink.done();
      // As hg's qpop: nothing to pop is a refusal (exit 12), so `while pq pop; do ...; done` ends; pop -a stays repeatable.
      if (!report.popped.length && !report.top && !args.all) {
        if (target !== undefined && !stack.meansNothing(target))
          throw new PqError("refused", `${stack.resolve(target)} is not applied (no patch is)`, ["pq push NAME applies up to it"]);
        throw new PqError("refused", "no patches applied", ["pq push applies the next one; pq series lists them"]);
      }
      if (args.json) return void io.out(JSON.stringify(report, null, 2));
      // One write: a pop of a thousand patches printed line by line cost 5-6 ms of write calls.
      const lines = report.popped.map((name) => `popping ${name}`);
      if (report.backup) lines.push(`unrefreshed changes were saved in ${report.backup}`);
      lines.push(
        report.popped.length
          ? report.top
            ? `now at: ${report.top}`
            : "patch queue now empty"
          : report.top
            ? `nothing to pop: the top is already ${report.top}`
            : "no patches applied",
      );
      io.out(lines.join("\n"));
    } finally {
      sink.done();
    }
  },
});
