import { abortRebase, continueRebase, rebase, skipRebasePatch, type RebaseReport, type RebaseStep } from "../../queue/rebase.js";
import { defineCommand, type CliIO } from "../io.js";
import { openStack, printJson } from "../open-stack.js";

const LABEL: Record<RebaseStep["outcome"], string> = {
  clean: "clean     ",
  offsets: "offsets   ",
  merged: "merged    ",
  conflicted: "CONFLICT  ",
  resolved: "resolved  ",
  dropped: "dropped   ",
};

function printStep(io: CliIO, step: RebaseStep): void {
  io.out(`${LABEL[step.outcome]}${step.name}`);
  for (const note of step.notes) io.out(`          ${note}`);
}

function printSummary(io: CliIO, report: RebaseReport): void {
  const count = (o: RebaseStep["outcome"]) => report.steps.filter((s) => s.outcome === o).length;
  const parts = (["clean", "offsets", "merged", "resolved", "dropped", "conflicted"] as const)
    .filter((o) => count(o))
    .map((o) => `${count(o)} ${o}`);
  if (report.upToDate) return void io.out(`already based on ${report.upstream} (${report.newHead.slice(0, 12)}): nothing to do`);
  if (report.stopped) {
    io.out(`rebase stopped at ${report.stopped} (${parts.join(", ")})`);
    io.out(
      `  fix the conflicts in the tree, pq refresh, then pq rebase --continue (or pq rebase --skip to drop this patch, pq rebase --abort to put everything back)`,
    );
  } else {
    io.out(`rebased onto ${report.upstream} (${report.newHead.slice(0, 12)}): ${parts.join(", ") || "no patches applied"}`);
    io.out(
      `  the queue as it was is in .pq/rebase-last (compare: pq range-diff .pq/rebase-last QUEUE_DIR; pq oplog lists the operations, pq undo N takes them back)`,
    );
  }
}

export default defineCommand({
  command: "rebase [upstream]",
  describe: "move the stack onto a new upstream commit (default: the branch's upstream after a fetch), merging and refreshing each patch",
  builder: (y) =>
    y
      .positional("upstream", { type: "string", describe: "commit or branch to rebase onto" })
      .option("continue", { type: "boolean", describe: "go on after fixing a conflicted patch and pq refresh" })
      .option("abort", { type: "boolean", describe: "put the base, the queue files and the tree back as they were" })
      .option("skip", { type: "boolean", describe: "drop the patch the rebase stopped at (to .pq/trash) and go on" })
      .conflicts("continue", "abort")
      .conflicts("skip", ["continue", "abort"])
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const onStep = args.json ? undefined : (s: RebaseStep) => printStep(io, s);
    if (args.abort) {
      const r = await abortRebase(stack);
      if (args.json) printJson(io, r);
      else {
        io.out(`rebase aborted: back on ${r.oldHead.slice(0, 12)} with the queue as it was`);
        if (r.backup) io.out(`files you had changed since the rebase stopped were saved in ${r.backup}`);
        if (r.queueBackup)
          io.out(`queue files changed while the rebase was stopped (refreshes, new patches) were saved in ${r.queueBackup}`);
        if (r.madeMeanwhile?.length)
          io.out(
            `${r.madeMeanwhile.join(", ")}, made while the rebase was stopped, ${r.madeMeanwhile.length === 1 ? "goes" : "go"} with the abort: ${r.madeMeanwhile.length === 1 ? "its file is" : "their files are"} in ${r.queueBackup} (pq import takes ${r.madeMeanwhile.length === 1 ? "it" : "them"} back)`,
          );
      }
      return 0;
    }
    const report = args.skip
      ? await skipRebasePatch(stack, { onStep })
      : args.continue
        ? await continueRebase(stack, { onStep })
        : await rebase(stack, { upstream: args.upstream, onStep });
    if (args.json) printJson(io, report);
    else printSummary(io, report);
    return report.stopped ? 6 : 0;
  },
});
