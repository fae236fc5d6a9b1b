import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildTree, formatDiagnostic } from "../../build/index.js";
import { stackBlame } from "../../queue/blame.js";
import { Stack } from "../../queue/stack.js";
import { statePaths } from "../../queue/state.js";
import type { CliIO, GlobalOptions } from "../io.js";
import { defineCommand } from "../io.js";
import { printJson } from "../open-stack.js";
import { progressSink } from "../progress.js";

/** When the tree is a pq stack, compiler errors name the patch that last touched the line. */
export async function blameFor(tree: string) {
  if (!existsSync(statePaths(tree).state)) return undefined;
  return stackBlame(await Stack.open({ tree }));
}

export async function buildCommand(args: GlobalOptions & { jobs?: number; out?: string; json?: boolean }, io: CliIO) {
  const tree = resolve(io.cwd, args.tree ?? ".");
  const sink = progressSink(io);
  try {
    return await buildTree({ tree, jobs: args.jobs, outDir: args.out ? resolve(io.cwd, args.out) : undefined, blame: await blameFor(tree), onEvent: sink });
  } finally {
    sink.done();
  }
}

export default defineCommand({
  command: "build",
  describe: "compile the tree (build.json) for i386 with gcc/ld, through the shared object cache",
  builder: (y) =>
    y
      .option("jobs", { alias: "j", type: "number", describe: "parallel compilers (default: cores)" })
      .option("out", { type: "string", describe: "output directory (default: <tree>/.pq/build)" })
      .option("json", { type: "boolean" }),
  run: async (args, io) => {
    const result = await buildCommand(args, io);
    if (args.json) printJson(io, result);
    else if (result.ok) {
      for (const d of result.diagnostics) io.err(formatDiagnostic(d));
      io.out(`built ${result.kernelPath} (${result.compiled} compiled, ${result.cached} from cache, ${result.ms} ms)`);
    } else {
      io.err(result.log.trimEnd());
      io.err(`pq: build failed (${result.diagnostics.filter((d) => d.severity === "error").length} error(s))`);
    }
    return result.ok ? 0 : 9;
  },
});

export const defaultKernelPath = (tree: string) => join(tree, ".pq", "build", "kernel.elf");
