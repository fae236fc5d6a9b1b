import { defineCommand } from "../io.js";
import { openStack } from "../open-stack.js";
import { progressSink } from "../progress.js";

export default defineCommand({
  command: "goto <target>",
  describe: "push or pop until TARGET is the top patch (0: nothing applied)",
  builder: (y) =>
    y
      .positional("target", { type: "string", demandOption: true, describe: "patch name or 1-based series position (0: none applied)" })
      .option("force", { alias: "f", type: "boolean", describe: "pop over unrefreshed changes (backed up)" }),
  run: async (args, io) => {
    const sink = progressSink(io);
    const stack = await openStack(args, io, sink);
    let backup: string | undefined;
    try {
      const report = await stack.goto(args.target, { force: args.force });
      if ("backup" in report) backup = report.backup;
    } finally {
      sink.done();
    }
    // As pop --force says: where the unrefreshed changes it took out of the tree were saved.
    if (backup) io.out(`unrefreshed changes were saved in ${backup}`);
    io.out(stack.top() ? `now at: ${stack.top()}` : "patch queue now empty");
  },
});
