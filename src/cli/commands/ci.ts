import { accessSync, constants, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { systemRefusal } from "../../core/system-refusal.js";
import { basename, dirname, join, resolve } from "node:path";
import { PqError } from "../../errors.js";
import { failedCells, mergeReports, OUTCOMES, parseShard, type CiReport } from "../../ci/report.js";
import { flakySet } from "../../ci/verdict-cache.js";
import { renderHtml, renderJUnit, renderMatrix } from "../../ci/render.js";
import { runCi } from "../../ci/run.js";
import { rememberLastRun } from "../../ci/last-run.js";
import { defineCommand, refuseEmptyOptions, type CliIO } from "../io.js";
import { progressSink } from "../progress.js";
import { backendList, commandText, jobCount, judgingArgs, judgingOptions, refuseRepeatWithRun } from "../ci-options.js";
import { ALL_BACKENDS } from "../ci-options.js";
import { commandTree } from "../build-run.js";

/**
 * Report files are checked before a run, not after: a directory that does not exist (or is
 * not writable) is refused at once instead of costing the whole run and hiding its matrix.
 */
/** A directory's real path, or the path itself where it is not there (the access check below says so). */
function realpathOr(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

function refuseUnwritableReports(args: { json?: string; junit?: string; html?: string }, io: CliIO): void {
  const named = new Map<string, string>();
  for (const [option, path] of [
    ["--json", args.json],
    ["--junit", args.junit],
    ["--html", args.html],
  ] as const) {
    if (path === undefined) continue;
    const full = resolve(io.cwd, path);
    // A directory of that name, or one file for two reports (the second overwrote the first: t120 N2, N3).
    if (statSync(full, { throwIfNoEntry: false })?.isDirectory())
      throw new PqError("usage", `${option} ${path} is a directory`, ["name a report file (in that directory, if you like)"]);
    // One file by any name: a link to it, or a path through a linked directory (t121 N1).
    const st = statSync(full, { throwIfNoEntry: false });
    const key = st ? `${st.dev}:${st.ino}` : join(realpathOr(dirname(full)), basename(full));
    const twice = named.get(key);
    if (twice) throw new PqError("usage", `${twice} and ${option} name one file, ${path}`, ["give each report a file of its own"]);
    named.set(key, option);
    const dir = dirname(full);
    try {
      accessSync(dir, constants.W_OK);
    } catch {
      throw new PqError("system", `${option} ${path}: cannot write into ${dir} (it does not exist or is not writable)`, [
        "name a report file in a directory that exists",
      ]);
    }
  }
}

function writeReports(report: CiReport, args: { json?: string; junit?: string; html?: string }, io: CliIO): void {
  if (args.json) writeFileSync(resolve(io.cwd, args.json), JSON.stringify(report, null, 1) + "\n");
  if (args.junit) writeFileSync(resolve(io.cwd, args.junit), renderJUnit(report));
  if (args.html) writeFileSync(resolve(io.cwd, args.html), renderHtml(report));
}

const reportOptions = {
  json: { type: "string", describe: "write the JSON report (the form ci merge reads)" },
  junit: { type: "string", describe: "write a JUnit XML report" },
  html: { type: "string", describe: "write a self-contained HTML matrix" },
} as const;

/** A shard's --json report, or a refusal naming the file. */
function readReport(path: string, shown: string): CiReport {
  let report: Partial<CiReport>;
  try {
    report = JSON.parse(readFileSync(path, "utf8")) as Partial<CiReport>;
  } catch (e) {
    const why =
      (e as NodeJS.ErrnoException).code === "ENOENT" ? "it does not exist" : `it is not JSON (${(e as Error).message.split("\n")[0]})`;
    throw new PqError("usage", `${shown} is not a pq ci report: ${why}`, ["pass the files pq ci --json wrote"]);
  }
  if (!report || report.version !== 1 || !Array.isArray(report.cells) || !Array.isArray(report.backends) || !Array.isArray(report.states)) {
    throw new PqError("usage", `${shown} is not a pq ci report (no version 1 with states, backends and cells)`, [
      "pass the files pq ci --json wrote",
    ]);
  }
  // Entry by entry (ci-17 F12): a damaged artifact gave exit 70, or a "complete" green matrix with a cell missing.
  const bad = badReportEntry(report as CiReport);
  if (bad)
    throw new PqError("usage", `${shown} is not a whole pq ci report: ${bad}`, ["pass the files pq ci --json wrote, as it wrote them"]);
  return report as CiReport;
}

/** The first entry of a report that no pq ci writes, said as where and what; null when every one is sound. */
function badReportEntry(report: CiReport): string | null {
  if (!report.backends.every((b) => typeof b === "string") || new Set(report.backends).size !== report.backends.length)
    return "its backends are not a list of names";
  for (const [i, st] of report.states.entries()) {
    if (typeof st !== "object" || st === null || st.index !== i || (st.patch !== null && typeof st.patch !== "string"))
      return `states[${i}] is not state ${i}`;
  }
  for (const [i, c] of report.cells.entries()) {
    if (typeof c !== "object" || c === null) return `cells[${i}] is not a cell`;
    if (!Number.isInteger(c.state) || c.state < 0 || c.state >= report.states.length)
      return `cells[${i}] names no state of the report (${String(c.state)})`;
    if (!report.backends.includes(c.backend)) return `cells[${i}] names no backend of the report (${String(c.backend)})`;
    if (!OUTCOMES.has(c.outcome)) return `cells[${i}] has no verdict pq gives (${String(c.outcome)})`;
    // A flaky cell lists its image's verdicts worst first and shows the worst (t30 F3).
    if (
      c.flaky !== undefined &&
      !(Array.isArray(c.flaky) && JSON.stringify(flakySet(c.flaky)) === JSON.stringify(c.flaky) && c.outcome === c.flaky[0])
    )
      return `cells[${i}] has a flaky list pq does not write (${JSON.stringify(c.flaky)})`;
  }
  return null;
}

const merge = defineCommand({
  command: "merge <reports..>",
  describe: "combine shard reports (--json from each shard) into one report",
  builder: (y) =>
    y
      .positional("reports", { type: "string", array: true, demandOption: true, describe: "JSON reports of ci shards (--json)" })
      .options(reportOptions),
  run: async (args, io) => {
    const reports = (args.reports as string[]).map((f) => readReport(resolve(io.cwd, String(f)), String(f)));
    refuseUnwritableReports(args, io);
    let merged: CiReport;
    try {
      merged = mergeReports(reports);
    } catch (e) {
      throw new PqError("usage", (e as Error).message, [
        "merge the --json reports of the shards of one ci run: pq ci --shard K/N --json FILE for K = 1..N, over the same queue and tree",
      ]);
    }
    io.out(renderMatrix(merged));
    writeReports(merged, args, io);
    // A shard that produced no report leaves cells unjudged: that run is not green.
    if (merged.shard) {
      throw new PqError("refused", `the merged report is incomplete (${merged.shard}): a shard's report is missing`, [
        "merge the reports of every shard (--shard K/N for K = 1..N); the reports written here hold what there is",
      ]);
    }
    return failedCells(merged).length ? 1 : 0;
  },
});

export default defineCommand({
  command: "ci",
  describe: "build and boot every state of the series on every backend (in a scratch copy)",
  builder: (y) =>
    // A run's options (global: false) are the run's: pq ci merge neither lists nor takes them (readme-15 F4).
    judgingOptions(y, false)
      .command(merge as never)
      .option("backends", {
        alias: "b",
        type: "string",
        default: ALL_BACKENDS.join(","),
        describe: "comma-separated backends",
        global: false,
      })
      .option("jobs", { alias: "j", type: "string", default: 2, describe: "boots at once (worker threads)", global: false })
      .option("select", { type: "string", array: true, describe: "guards to select in the scratch stack", global: false })
      .option("shard", { type: "string", describe: "run a deterministic share of the states: K/N", global: false })
      .option("run", {
        global: false,
        type: "string",
        describe:
          "judge each state by this shell command instead of build and boot: 0 passes, 125 skips, 1-127 fails (one column, never cached)",
      })
      .options(reportOptions),
  run: async (args, io) => {
    // Empty report paths or shard (t92 N5): not taken for "not given".
    refuseEmptyOptions(args, ["json", "junit", "html", "shard"] as never[]);
    let shard;
    try {
      shard = args.shard ? parseShard(args.shard) : undefined;
    } catch (e) {
      throw new PqError("usage", (e as Error).message);
    }
    refuseRepeatWithRun(args, "pq ci");
    refuseUnwritableReports(args, io);
    const sink = progressSink(io, ["ci-build"], { plainOn: "err" });
    const started = Date.now();
    const tree = commandTree(io.cwd, args.tree, { queue: args.queue });
    const queue = args.queue ? resolve(io.cwd, args.queue) : undefined;
    let report: CiReport;
    try {
      report = await runCi({
        tree,
        queue,
        backends: backendList(args.backends),
        jobs: jobCount(args.jobs, 2),
        select: (args.select as string[] | undefined)?.map(String),
        shard,
        ...judgingArgs(args),
        // A command has no limit unless one is given (a build may take minutes); a boot's is 5 s.
        ...(args.run !== undefined
          ? { run: commandText(args.run)!, timeoutMs: args.timeout === undefined ? undefined : judgingArgs(args).timeoutMs }
          : {}),
        onEvent: sink,
      });
    } finally {
      sink.done();
    }
    // The matrix first: a report that cannot be written (its folder removed meanwhile) still leaves the run's answer (ci-17 F13).
    io.out(renderMatrix(report));
    const reused = report.cells.filter((c) => c.reused).length;
    io.out(
      `(${((Date.now() - started) / 1000).toFixed(1)} s${shard ? `, shard ${args.shard}` : ""}; ${report.cells.length - reused} cells run, ${reused} reused)`,
    );
    writeReports(report, args, io);
    // The TUI's badges only: a tree pq cannot write into keeps the run's verdict (t93 N6: a passing run exited 14).
    if (!shard)
      try {
        rememberLastRun(tree, queue, report);
      } catch (e) {
        const refusal = systemRefusal(e);
        if (!refusal) throw e;
        io.err(`pq: note: the run is not remembered for the TUI's badges (.pq/ci-last.json): ${refusal.message}`);
      }
    return failedCells(report).length ? 1 : 0;
  },
});
