import { defineCommand } from "../io.js";
import { openStack } from "../open-stack.js";
import { progressSink } from "../progress.js";
import { PqError } from "../../errors.js";
import type { PushReport } from "../../queue/stack.js";
import { skippedGuarded, type SkippedPatch } from "../../queue/queries.js";
import { skippedLines } from "../reports.js";

/**
 * The pushed patches' offsets and fuzz, as push prints them (goto's own line says where it
 * ended), and the guarded patches it passed over, each where the series has it (tui-8 T7).
 */
function printFuzzNotes(io: { out(text: string): void }, pushed: PushReport["pushed"], skipped: SkippedPatch[]): void {
  for (const p of pushed) {
    for (const line of skippedLines(skipped.filter((s) => s.before === p.name))) io.out(line);
    if (p.notes.length) io.out([`applied ${p.name}`, ...p.notes.map((n) => `  ${n}`)].join("\n"));
  }
}

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
      const report = await stack.goto(args.target, { force: args.force }).catch((e: unknown) => {
        sink.done();
        // As push: what it applied before it stopped, offsets and fuzz included (verify-6 N6).
        const partial = e instanceof PqError ? (e.data as Partial<PushReport>) : undefined;
        if (partial?.pushed?.length) printFuzzNotes(io, partial.pushed, []);
        throw e;
      });
      if ("backup" in report) backup = report.backup;
      if ("pushed" in report) printFuzzNotes(io, report.pushed, skippedGuarded(stack, report, false));
    } finally {
      sink.done();
    }
    // As pop --force says: where the unrefreshed changes it took out of the tree were saved.
    if (backup) io.out(`unrefreshed changes were saved in ${backup}`);
    io.out(stack.top() ? `now at: ${stack.top()}` : "patch queue now empty");
  },
});
