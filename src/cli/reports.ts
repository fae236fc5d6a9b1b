/**
 * Printing the reports of stack operations, shared by the commands that run them (push,
 * goto, import, undo, redo): commands never import each other.
 */
import type { PushReport, UndoReport } from "../queue/stack.js";
import type { CliIO } from "./io.js";
import { printJson } from "./open-stack.js";
import { describeHunkResult } from "../patch/index.js";

export function printPushReport(io: CliIO, report: PushReport): void {
  // One write for the whole report: a push of a thousand patches prints a thousand lines.
  const lines: string[] = [];
  const out = (line: string) => void lines.push(line);
  for (const p of report.pushed) {
    out(`${report.dryRun ? "would apply" : "applying"} ${p.name}${p.cached ? " (unchanged: reused)" : ""}`);
    if (report.dryRun) for (const f of p.files ?? []) for (const h of f.hunks) out(`  ${f.path}: ${describeHunkResult(h)}`);
    else for (const note of p.notes) out(`  ${note}`);
    if (p.binaryWithoutData?.length) {
      out(`  warning: binary diff without data (created empty or left as it was, as quilt does): ${p.binaryWithoutData.join(", ")}`);
    }
    if (p.rejects?.length) out(`  rejects written: ${p.rejects.join(", ")}`);
    if (p.needsRefresh) {
      out(`  ${p.name} needs a refresh: fix the ${p.needsRefresh === "conflict" ? "conflict markers" : "rejected hunks"}, then pq refresh`);
    }
  }
  if (report.wouldFail) {
    out(`would stop at ${report.wouldFail.name}:`);
    for (const f of report.wouldFail.files ?? []) {
      if (f.status === "conflict") out(`  ${f.path}: a three-way merge would leave conflict markers`);
      // A file that fails as a whole (missing, or created where one is): the one line the push says.
      const whole = f.missing || f.exists || f.binary ? report.wouldFail.notes.find((n) => n.startsWith(`${f.path}: `)) : undefined;
      if (whole) out(`  ${whole}`);
      else for (const h of f.hunks) out(`  ${f.path}: ${describeHunkResult(h)}`);
    }
  }
  if (report.dryRun) out(`${report.pushed.length || report.wouldFail ? "" : "nothing to push "}(dry run: nothing was written)`);
  else out(report.pushed.length ? `now at: ${report.top}` : report.top ? `nothing to push; at: ${report.top}` : "nothing to push");
  io.out(lines.join("\n"));
}

export function printUndoReport(io: CliIO, verb: string, report: UndoReport, json?: boolean): void {
  if (json) return printJson(io, report);
  for (const e of report.entries) io.out(`${verb} ${e.op} (${e.time.replace("T", " ").slice(0, 19)})`);
  if (report.backup) io.out(`files changed since were saved in ${report.backup}`);
}
