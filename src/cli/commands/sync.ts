import { operandWords } from "../../core/shell-word.js";
import { conflictRefresh } from "../../collab/conflict-refresh.js";
import { PqError } from "../../errors.js";
import { backendList, commandText } from "../ci-options.js";
import { ciGate } from "../../collab/gate.js";
import { sync, syncAbort, syncContinue, type SyncReport } from "../../collab/sync.js";
import { finishedWords, restackFailure, upstreamWithCommit, type RestackReport } from "../../collab/restack.js";
import { defineCommand, type CliIO } from "../io.js";
import { openStack, printJson } from "../open-stack.js";
import { progressSink } from "../progress.js";

function printRestack(io: CliIO, r: RestackReport | undefined): void {
  if (r?.backup) io.out(`files you had changed were saved in ${r.backup} before the tree was put back`);
  if (r?.queueBackup)
    io.out(
      `queue files changed while the sync was stopped (refreshed or new patches) were saved in ${r.queueBackup} before the queue was put back`,
    );
  if (!r || (!r.popped.length && !r.pushed.length)) return;
  io.out(`stack: popped ${r.popped.length}, pushed ${r.pushed.length}; top: ${r.top ?? "(none)"}`);
  for (const l of r.left ?? []) {
    if (l.why === "finished") {
      io.out(
        `${finishedWords(l)}, and left the stack here: pq rebase brings the tree to ${upstreamWithCommit(l)}, carrying the applied patches; then pq push -a`,
      );
      continue;
    }
    if (l.why === "not-in-series" && l.inItsPlace) {
      io.out(
        `${l.name}, applied here, is no longer in the queue's series; ${l.inItsPlace}, new there, is applied in its place (the same patch renamed and changed there?): pq log -p ${operandWords(l.inItsPlace)} shows it`,
      );
      continue;
    }
    const why =
      l.why === "renamed"
        ? `was renamed ${l.now} in the queue, and the stack did not go back up to it`
        : l.why === "guarded"
          ? "is guarded off by the selected guards in the new queue"
          : l.why === "made-meanwhile"
            ? `was made while the sync was stopped and goes with the abort (its file is in ${r.queueBackup})`
            : // A colleague's pq finish looks the same from here (collab-17 F14): the way on is the tree's pull.
              "is no longer in the queue's series (deleted, renamed and changed, or finished into a commit there: then pq rebase and pq push -a)";
    io.out(`${l.name}, applied here, ${why}: its changes left the tree`);
  }
}

export default defineCommand({
  command: "sync",
  describe: "fetch the shared queue, merge it with yours patch by patch, push; your applied stack follows",
  builder: (y) =>
    y
      .option("continue", { type: "boolean", describe: "finish a sync that stopped on conflicts (after pq refresh)" })
      .option("abort", {
        type: "boolean",
        describe: "take back a sync that stopped (on conflicts, or cut short): queue and tree as before",
      })
      .option("check", {
        type: "boolean",
        describe: "run pq ci on the merged queue and refuse to push a state that passed before and fails now",
      })
      .option("backends", { alias: "b", type: "string", describe: "backends for --check (default: all)" })
      .option("run", {
        type: "string",
        describe: "with --check: judge each state by this shell command instead of build and boot (as pq ci --run)",
      })
      .option("retries", {
        type: "number",
        requiresArg: true,
        default: 5,
        describe: "how many times to merge again after losing a push race",
      })
      .option("json", { type: "boolean", describe: "print the result as JSON" })
      .conflicts("continue", "abort"),
  run: async (args, io) => {
    // Without --check nothing is judged: a --run or -b given alone was ignored, and the push went
    // out unchecked (t35 F7).
    if (!args.check && (args.run !== undefined || args.backends !== undefined)) {
      const option = args.run !== undefined ? "--run" : "-b/--backends";
      throw new PqError(
        "usage",
        `${option} says how --check judges the merged queue, and --check was not given: nothing would be checked`,
        [
          `add --check (pq sync --check ${args.run !== undefined ? "--run CMD" : "-b LIST"}) to refuse a push that breaks a state, or leave ${option} out`,
        ],
      );
    }
    const stack = await openStack(args, io);
    if (args.abort) {
      const r = await syncAbort(stack);
      const failed = restackFailure(r, { restack: r });
      if (args.json) {
        if (failed) throw failed; // one JSON document: the refusal, with the report in its data
        return void printJson(io, r);
      } else {
        printRestack(io, r);
        io.out(
          r.error
            ? "sync aborted: the queue is as before, the applied stack is not (below)"
            : `sync aborted: the queue and the tree are as before${r.top ? ` (top: ${r.top})` : ""}`,
        );
      }
      if (failed) throw failed;
      return;
    }
    // A count of merges after lost races (collab-17 F18: -1 and abc ran nothing and said it lost "0"/"NaN" races).
    if (args.retries !== undefined && !(Number.isInteger(args.retries) && args.retries >= 0)) {
      throw new PqError("usage", `--retries takes a whole number, 0 or more${Number.isNaN(args.retries) ? "" : `, not ${args.retries}`}`);
    }
    const sink = progressSink(io, args.json ? [] : ["sync"]);
    let report: SyncReport;
    try {
      const opts = {
        maxRetries: args.retries,
        onEvent: sink,
        gate: args.check
          ? ciGate(stack, { backends: args.backends === undefined ? undefined : backendList(args.backends), run: commandText(args.run) })
          : undefined,
      };
      report = args.continue ? await syncContinue(stack, opts) : await sync(stack, opts);
    } finally {
      sink.done();
    }
    const failed = restackFailure(report.restack, { sync: report });
    if (args.json) {
      if (!failed) printJson(io, report);
    } else {
      for (const n of report.notes) io.out(`note: ${n}`);
      printRestack(io, report.restack);
      // A patch the sync pushed that now needs fuzz (a patch below it changed its context there):
      // said here, where status said it only later, and the queue shared it so (t118 N6).
      const pushedNow = new Set(report.restack?.pushed ?? []);
      for (const record of stack.appliedRecords())
        if (record.inexact === "fuzz" && pushedNow.has(record.name))
          io.out(
            `note: ${record.name} applies here only with fuzz (a patch below it changed its context): pq goto ${operandWords(record.name)} and pq refresh rewrite it, then pq commit and pq sync share it`,
          );
    }
    if (report.result === "conflicts") {
      // Each conflict's own line may say the next step already (a header's does): not said twice (collab-17 F23.3).
      const allSayNext = report.conflicts.every((c) => c.message.includes("pq sync --continue"));
      // The refresh names the conflicted files: a plain one took an unrelated edit of the user's
      // into the patch, which --continue pushed to everyone (t130 N5).
      const refresh = conflictRefresh(report.conflicts) ?? "pq refresh";
      throw new PqError(
        "conflict",
        `the merge has ${report.conflicts.length} conflict(s); nothing was pushed`,
        [
          ...report.conflicts.map((c) => c.message),
          report.conflicts.some((c) => c.otherUpstream)
            ? `or pq sync --continue keeps yours, which carries the queue back onto this tree's upstream for everyone`
            : report.conflicts.some((c) => c.kind === "content" || c.kind === "apply")
              ? `edit the conflicted files (pq goto PATCH if it is not applied), ${refresh}, then pq sync --continue; or pq sync --abort`
              : allSayNext
                ? "or pq sync --abort to take the sync back"
                : "decide as said above, then pq sync --continue; or pq sync --abort",
        ],
        // Files named from the tree's top: from a folder below it, the CLI says to cd there first (t131 N7).
        { pathsFrom: stack.tree },
      );
    }
    if (report.result === "gate-failed") {
      if (!args.json) io.out(report.gate!.report);
      throw new PqError("ci-failed", "the merged queue breaks a state that passed before; nothing was pushed", [
        "fix the failing patch (pq goto, edit, pq refresh, pq commit) and pq sync --check again",
      ]);
    }
    if (args.json) {
      if (failed) throw failed;
      return;
    }
    if (report.gate && /not blocking/.test(report.gate.report)) io.out(report.gate.report);
    const what = {
      "up-to-date": "already up to date",
      "fast-forward": "took the remote's changes (nothing of yours to push)",
      pushed: report.merged === false ? "pushed (nothing to merge)" : "merged and pushed",
      conflicts: "",
      "gate-failed": "",
    }[report.result];
    io.out(
      `${what}${report.attempts > 1 ? ` (after ${report.attempts - 1} lost push race(s))` : ""}; queue at ${report.head?.slice(0, 12) ?? "(empty)"}`,
    );
    if (failed) throw failed;
  },
});
