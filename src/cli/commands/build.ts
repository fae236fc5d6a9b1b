import { formatDiagnostic } from "../../build/index.js";
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
    if (args.json) printJson(io, result);
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
