/**
 * Building the tree from the command line, shared by build, boot and ci: the stack's
 * blame for compiler errors, progress, and where the kernel image goes.
 */
import { existsSync } from "node:fs";
import { jobCount } from "./ci-options.js";
import { join, resolve } from "node:path";
import { buildTree, requireBuildDescription } from "../build/index.js";
import { stackBlame } from "../queue/blame.js";
import { Stack } from "../queue/stack.js";
import { statePaths } from "../queue/state.js";
import type { CliIO, GlobalOptions } from "./io.js";
import { progressSink } from "./progress.js";

/** When the tree is a pq stack, compiler errors name the patch that last touched the line. */
export async function blameFor(tree: string) {
  if (!existsSync(statePaths(tree).state)) return undefined;
  return stackBlame(await Stack.open({ tree }));
}

/**
 * The tree a build, boot, ci or bisect works on: --tree, else the folder it runs in where that
 * describes a build (build.json) or has a stack, else the stack's tree around it, as every other
 * command finds it (t125 N9: from a subfolder, "no pq stack" and a pq init that refused).
 */
export function commandTree(cwd: string, tree: string | undefined, opts: { queue?: string } = {}): string {
  if (tree !== undefined) return resolve(cwd, tree);
  // --queue DIR over any tree: the folder it runs in, as typed (no stack of its own to look for).
  if (opts.queue !== undefined) return resolve(cwd);
  if (existsSync(join(cwd, "build.json"))) return resolve(cwd);
  return Stack.enclosingTree(cwd) ?? resolve(cwd);
}

export async function buildCommand(args: GlobalOptions & { jobs?: number | string; out?: string; json?: boolean }, io: CliIO) {
  const tree = commandTree(io.cwd, args.tree);
  requireBuildDescription(tree);
  const sink = progressSink(io);
  try {
    return await buildTree({
      tree,
      jobs: jobCount(args.jobs),
      outDir: args.out ? resolve(io.cwd, args.out) : undefined,
      blame: await blameFor(tree),
      onEvent: sink,
    });
  } finally {
    sink.done();
  }
}

export const defaultKernelPath = (tree: string) => join(tree, ".pq", "build", "kernel.elf");
