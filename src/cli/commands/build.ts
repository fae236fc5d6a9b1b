import { formatDiagnostic, type BuildResult } from "../../build/index.js";
import { readFileSync } from "node:fs";
import { buildCommand } from "../build-run.js";
import { defineCommand } from "../io.js";
import { printJson } from "../open-stack.js";

export default defineCommand({
  command: "build",
  describe: "compile the tree (build.json) for i386 with gcc/ld, through the shared object cache",
  builder: (y) =>
    y
      .option("jobs", { alias: "j", type: "string", describe: "parallel compilers (default: cores)" })
      .option("out", { type: "string", describe: "output directory (default: <tree>/.pq/build)" })
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    const result = await buildCommand(args, io);
    if (args.json) printJson(io, boundedForJson(result));
    else if (result.ok) {
      for (const d of result.diagnostics) io.err(formatDiagnostic(d));
      io.out(`built ${result.kernelPath} (${result.compiled} compiled, ${result.cached} from cache, ${result.ms} ms)`);
    } else {
      io.err(result.log.trimEnd());
      const errors = result.diagnostics.filter((d) => d.severity === "error").length;
      // A linker's or a killed compiler's failure names no file:line: say where to look instead of "0 errors".
      io.err(`pq: build failed (${errors ? `${errors} error(s)` : "see the log above: no error names a file and line"})`);
      io.err("  fix the tree (each error names the patch that last touched its line), pq refresh that patch, then pq build again");
    }
    return result.ok ? 0 : 9;
  },
});

/** How much of the log --json carries: its end, where the errors that stopped a build are (the whole log is in build.log). */
const JSON_LOG_CHARS = 1 << 20;
/** The longest diagnostic message --json carries, and how many diagnostics. */
const JSON_MESSAGE_CHARS = 4096;
const JSON_DIAGNOSTICS = 1000;

/**
 * The result with its compiler texts bounded: a tree whose warnings ran to tens of megabytes of
 * control bytes (each escaped to six characters) made JSON longer than V8's longest string,
 * and a build that succeeded ended as pq's internal error with no output (t137 N1). A log cut
 * is build.log's end (the compiler's own last lines, not the summary of blamed errors pq adds
 * after them: t138 N7), and `logCut` says how long that file's text is.
 */
function boundedForJson(result: BuildResult): unknown {
  const diagnostics = result.diagnostics
    .slice(0, JSON_DIAGNOSTICS)
    .map((d) => (d.message.length <= JSON_MESSAGE_CHARS ? d : { ...d, message: `${d.message.slice(0, JSON_MESSAGE_CHARS)} [cut]` }));
  let log = result.log;
  let logCut: { chars: number; kept: number; file?: string } | undefined;
  if (log.length > JSON_LOG_CHARS) {
    const whole = (result.logFile && readLog(result.logFile)) || log;
    log = whole.slice(Math.max(0, whole.length - JSON_LOG_CHARS));
    logCut = { chars: whole.length, kept: log.length, ...(result.logFile ? { file: result.logFile } : {}) };
  }
  return {
    ...result,
    diagnostics,
    ...(result.diagnostics.length > JSON_DIAGNOSTICS ? { diagnosticsOmitted: result.diagnostics.length - JSON_DIAGNOSTICS } : {}),
    log,
    ...(logCut ? { logCut } : {}),
  };
}

/** build.log as the build wrote it (UTF-8), or null when it cannot be read. */
function readLog(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return null;
  }
}
