import { quotedLog } from "../../core/log-tail.js";
import { resolve } from "node:path";
import { runBisect } from "../../ci/bisect-run.js";
import { defineCommand } from "../io.js";
import { printJson } from "../open-stack.js";
import { progressSink } from "../progress.js";
import { backendList, commandText, judgingArgs, judgingOptions, refuseRepeatWithRun } from "../ci-options.js";
import { commandTree } from "../build-run.js";

export default defineCommand({
  command: "bisect",
  describe: "find the first patch whose state fails (build + boot, or --run CMD with git bisect run exit codes)",
  builder: (y) =>
    judgingOptions(y)
      .option("backends", { alias: "b", type: "string", default: "native,xen,vmi", describe: "backends to boot at each probed state" })
      .option("run", { type: "string", describe: "judge each state by this shell command: 0 good, 125 skip, 1-127 bad, >127 abort" })
      .option("select", { type: "string", array: true, describe: "guards to select" })
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    refuseRepeatWithRun(args, "pq bisect");
    // With --json, stdout holds the report alone: the steps go to stderr.
    const sink = progressSink(args.json ? { ...io, isTTY: false } : io, ["bisect-step"], { plainOn: "err" });
    let report;
    try {
      report = await runBisect({
        tree: commandTree(io.cwd, args.tree, { queue: args.queue }),
        queue: args.queue ? resolve(io.cwd, args.queue) : undefined,
        backends: backendList(args.backends),
        // An empty --run is refused as ci refuses it (t92 N4: bisect ran build and boot instead).
        run: commandText(args.run),
        select: (args.select as string[] | undefined)?.map(String),
        ...judgingArgs(args),
        onEvent: sink,
      });
    } finally {
      sink.done();
    }
    // 0: the top passes, nothing to find; 1: a failure found (a first bad patch, or a broken
    // base); 12: the untestable states hide the answer.
    const seenBad = report.evaluations.some((e) => e.judgement === "bad");
    const code = report.firstBad !== null || report.baseBad ? 1 : report.candidates?.length ? (seenBad ? 1 : 12) : 0;
    if (args.json) {
      printJson(io, report);
      return code;
    }
    const n = report.evaluations.length;
    const fresh = args.run ? "" : `, ${n - report.reused.length} new, ${report.reused.length} reused from the cache`;
    if (report.baseBad) {
      const topBad = report.evaluations[0]?.judgement === "bad";
      io.out(`the base tree (state 0) already fails${topBad ? ", as does the top" : ""}: no patch is to blame (${n} evaluations${fresh})`);
      if (report.failure) {
        io.out(`failure: ${report.failure.backend ? `${report.failure.backend} ` : ""}${report.failure.outcome}`);
        io.out(quotedLog(report.failure.log, 20));
      }
      return code;
    }
    if (report.firstBad === null) {
      if (report.candidates?.length)
        io.out(
          seenBad
            ? `could not decide: the first bad patch is one of states ${report.candidates.join(", ")} (untestable states were skipped)`
            : report.candidates.length === 1
              ? `could not decide: state ${report.candidates[0]} could not be tested (skipped), so whether it fails is unknown`
              : `could not decide: states ${report.candidates.join(", ")} could not be tested (all skipped), so whether one of them fails is unknown`,
        );
      else
        io.out(
          `no bad state to find: the top state (${report.patches}) passes${report.topSkipped?.length ? ` on the backends it has, ${report.topSkipped.join(", ")} skipped there (not in its kernel: one that booted at an earlier state and a patch dropped is a fail in pq ci, which checks every state; after a pq ci of this stack, pq bisect takes such a backend as ci does and finds that patch)` : ""} (${n} evaluation${n === 1 ? "" : "s"}${fresh}); bisect assumes a failure stays once it appears, pq ci checks every state`,
        );
      return code;
    }
    io.out(
      `first bad patch: ${report.patch} (state ${report.firstBad} of ${report.patches}, found in ${n} evaluations${fresh}${report.confirmed ? `; confirmed by fresh boots of state${report.confirmed.length > 1 ? "s" : ""} ${report.confirmed.join(" and ")}` : ""})`,
    );
    if (report.flaky)
      io.out(
        `flaky: boots of state ${report.firstBad}'s kernel image gave ${report.flaky.join(" and ")}; the state below passed its boots, which a flaky kernel can do by luck (pq bisect --repeat N boots each state N times)`,
      );
    if (report.author) io.out(`author: ${report.author}`);
    if (report.subject) io.out(`subject: ${report.subject}`);
    if (report.failure) {
      io.out(`failure: ${report.failure.backend ? `${report.failure.backend} ` : ""}${report.failure.outcome}`);
      io.out(quotedLog(report.failure.log, 20));
    }
    return 1;
  },
});
