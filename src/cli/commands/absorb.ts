import { absorb, type AbsorbReport } from "../../queue/absorb.js";
import { defineCommand, type CliIO } from "../io.js";
import { stagedApartNote } from "../reports.js";
import { openStack, printJson } from "../open-stack.js";

export function printAbsorbReport(io: CliIO, report: AbsorbReport, tree: string): void {
  const where = (h: AbsorbReport["hunks"][number]) =>
    `${h.file}:${h.line}${h.removed > 1 ? `-${h.line + h.removed - 1}` : ""} (-${h.removed} +${h.added})`;
  for (const h of report.hunks)
    io.out(
      h.owner ? `${report.dryRun ? "would absorb" : "absorbed"} ${where(h)} into ${h.owner}` : `left in the tree: ${where(h)}: ${h.reason}`,
    );
  for (const name of report.refreshed) io.out(`refreshed ${name} (its context changed below it: rewritten against the new one)`);
  if (report.stagedApart?.length)
    io.err(stagedApartNote(report.dryRun ? "the patches would take" : "the patches took", report.stagedApart, io, tree));
  if (!report.hunks.length) io.out("no unrefreshed changes");
}

export default defineCommand({
  command: "absorb",
  describe: "move each hunk of the unrefreshed changes into the applied patch that last touched its lines",
  builder: (y) =>
    y
      .option("dry-run", { alias: "n", type: "boolean", describe: "only show where each hunk would go" })
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const report = await absorb(stack, { dryRun: args["dry-run"] });
    if (args.json) printJson(io, report);
    else printAbsorbReport(io, report, stack.tree);
    return 0;
  },
});
