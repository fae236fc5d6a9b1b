import { defineCommand } from "../io.js";
import { openStack, parseTarget } from "../open-stack.js";
import { progressSink } from "../progress.js";
import type { PushReport } from "../../queue/stack.js";
import type { CliIO } from "../io.js";

export function printPushReport(io: CliIO, report: PushReport): void {
  for (const p of report.pushed) {
    io.out(`applying ${p.name}${p.cached ? " (unchanged: reused)" : ""}`);
    for (const note of p.notes) io.out(`  ${note}`);
    if (p.rejects?.length) io.out(`  rejects written: ${p.rejects.join(", ")}`);
    if (p.binaryWithoutData?.length) {
      io.out(`  warning: binary diff without data (created empty or left as it was, as quilt does): ${p.binaryWithoutData.join(", ")}`);
    }
    if (p.needsRefresh) io.out(`  ${p.name} needs a refresh: fix the ${p.needsRefresh === "conflict" ? "conflict markers" : "rejected hunks"}, then pq refresh`);
  }
  io.out(report.pushed.length ? `now at: ${report.top}` : report.top ? `nothing to push; at: ${report.top}` : "nothing to push");
}

export default defineCommand({
  command: "push [target]",
  describe: "apply the next patch (or up to TARGET: a name or series position)",
  builder: (y) =>
    y
      .positional("target", { type: "string", describe: "patch name or 1-based series position" })
      .option("all", { alias: "a", type: "boolean", describe: "apply every pushable patch" })
      .option("force", { alias: "f", type: "boolean", describe: "apply what applies, write .rej files, mark the patch for refresh" })
      .option("merge", { alias: "m", type: "boolean", describe: "fall back to a three-way merge (needs the patch's index blobs in git)" })
      .option("move", { type: "boolean", describe: "move TARGET to just after the top and push it" })
      .option("fuzz", { type: "number", describe: "most context lines to ignore when matching (0-2, default 2)" })
      .option("json", { type: "boolean" }),
  run: async (args, io) => {
    const sink = progressSink(io, []);
    const stack = await openStack(args, io, sink);
    try {
      const report = await stack.push({ target: parseTarget(args.target), all: args.all, force: args.force, merge: args.merge, move: args.move, fuzz: args.fuzz });
      sink.done();
      if (args.json) io.out(JSON.stringify(report, null, 2));
      else printPushReport(io, report);
      return report.pushed.some((p) => p.needsRefresh) ? 6 : 0;
    } finally {
      sink.done();
    }
  },
});
