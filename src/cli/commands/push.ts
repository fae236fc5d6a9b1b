import { defineCommand } from "../io.js";
import { openStack } from "../open-stack.js";
import type { PushReport } from "../../queue/stack.js";
import { progressSink } from "../progress.js";
import { belowTopLines, printPushReport, skippedLines } from "../reports.js";
import { nothingToPush, skippedGuarded } from "../../queue/queries.js";
import { PqError, EXIT } from "../../errors.js";

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
      .option("fuzz", { type: "string", describe: "most context lines to ignore when matching (0-3, default 2)" })
      .option("dry-run", { alias: "n", type: "boolean", describe: "say what would apply, hunk by hunk, and write nothing" })
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    const sink = progressSink(io, []);
    const stack = await openStack(args, io, sink, { leaveInterrupted: Boolean(args["dry-run"]) });
    try {
      if (Array.isArray(args.fuzz))
        throw new PqError("usage", "--fuzz is given more than once", ["give it once, with a whole number from 0 to 3"]);
      const fuzz = args.fuzz === undefined ? undefined : /^\s*\d+\s*$/.test(String(args.fuzz)) ? Number(args.fuzz) : NaN;
      if (fuzz !== undefined && !(Number.isInteger(fuzz) && fuzz >= 0 && fuzz <= 3)) {
        throw new PqError("usage", `--fuzz takes a whole number from 0 to 3, not ${JSON.stringify(args.fuzz)}`);
      }
      const report = await stack
        .push({
          target: args.target,
          all: args.all,
          force: args.force,
          merge: args.merge,
          move: args.move,
          fuzz,
          dryRun: args["dry-run"],
        })
        .catch((e: unknown) => {
          sink.done();
          // A push that stopped part way: the patches it applied (or would) are said first, with
          // their offsets and fuzz; the refusal follows on stderr (with --json, its data has them).
          const partial = e instanceof PqError ? (e.data as Partial<PushReport>) : undefined;
          if (!(e instanceof PqError) || !Array.isArray(partial?.pushed)) throw e;
          // The guarded patches it passed over on the way, as a push that ends names them (verify-6 N10).
          const skipped = skippedGuarded(stack, partial as PushReport, false, typeof e.data.patch === "string" ? e.data.patch : undefined);
          if (!args.json && partial.pushed.length) printPushReport(io, partial as PushReport, skipped);
          else if (!args.json) for (const line of skippedLines(skipped)) io.out(line);
          throw skipped.length ? new PqError(e.code, e.message, e.details, { ...e.data, skipped }) : e;
        });
      sink.done();
      // As quilt and hg: nothing to push is a refusal (exit 12), so `while pq push; do make || break; done` ends; push -a stays repeatable.
      // A dry run says what the push would: the same refusal.
      if (!report.pushed.length && !args.all && args.target === undefined) throw nothingToPush(stack);
      // --move puts its patch right above the top: it passes over nothing (a dry run, which moves nothing in the series, had named what lies between: t49 N3).
      const skipped = args.move ? [] : skippedGuarded(stack, report, Boolean(args.all));
      if (args.json) io.out(JSON.stringify(skipped.length ? { ...report, skipped } : report, null, 2));
      else if (!report.pushed.length && args.target !== undefined && !args.all) io.out(`nothing to push: the top is already ${report.top}`);
      else printPushReport(io, report, skipped);
      // push -a goes up, never back down: a patch below the top a new guard selection lets through is said, as a plain push says it (t44 N10).
      if (args.all && !args.json && !args["dry-run"]) for (const line of belowTopLines(stack)) io.out(line);
      return report.pushed.some((p) => p.needsRefresh) ? EXIT.applyFailed : EXIT.ok;
    } finally {
      sink.done();
    }
  },
});
