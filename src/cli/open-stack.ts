import { join, relative, resolve } from "node:path";
import type { EventSink } from "../core/events.js";
import { PqError } from "../errors.js";
import { Stack } from "../queue/stack.js";
import { directoryAt } from "../tree/stat.js";
import { invocation, type CliIO, type GlobalOptions } from "./io.js";
import { leadsOutside } from "../tree/paths.js";

/** The stack of --tree (or the nearest enclosing tree that has one). */
export function openStack(
  args: GlobalOptions,
  io: CliIO,
  onEvent?: EventSink,
  opts: { leaveInterrupted?: boolean; queueMayBeAway?: boolean } = {},
): Promise<Stack> {
  const tree = resolve(io.cwd, args.tree ?? ".");
  // Without a sink of its own, a command still says that it completed an interrupted operation.
  const events: EventSink = onEvent ?? ((e) => e.kind === "recover" && io.err(`pq: ${e.message}`));
  return Stack.find({
    tree,
    queue: args.queue ? resolve(io.cwd, args.queue) : undefined,
    onEvent: events,
    command: invocation.command,
    ...opts,
  });
}

export function printJson(io: CliIO, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

/**
 * Paths the user typed, relative to where they typed them (as git and quilt take them),
 * turned into paths relative to the stack's tree.
 */
export function treePaths(stack: Stack, io: CliIO, files: string[]): string[] {
  return files.map((f) => {
    const rel = relative(stack.tree, resolve(io.cwd, String(f)));
    if (leadsOutside(rel)) {
      throw new PqError(
        "usage",
        `${f} is outside the tree ${stack.tree}`,
        ["name files inside the working tree (paths are taken from the directory you are in)"],
        { file: f },
      );
    }
    // The tree itself (".") or any directory: pq's patches hold files, named one by one.
    // (lstat: a symlink to a directory is named as the link it is, and refused as one later.)
    if (rel === "" || directoryAt(join(stack.tree, rel), false)) {
      throw new PqError(
        "usage",
        `${f} is a directory; pq takes files, named one by one`,
        [`name the files in it (${rel ? `${rel}/` : ""}FILE ...)`],
        { file: f },
      );
    }
    return rel;
  });
}
