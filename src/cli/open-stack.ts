import { resolve } from "node:path";
import type { EventSink } from "../core/events.js";
import { Stack } from "../queue/stack.js";
import type { CliIO, GlobalOptions } from "./io.js";

/** The stack of --tree (or the nearest enclosing tree that has one). */
export function openStack(args: GlobalOptions, io: CliIO, onEvent?: EventSink): Promise<Stack> {
  const tree = resolve(io.cwd, args.tree ?? ".");
  return Stack.find({ tree, queue: args.queue ? resolve(io.cwd, args.queue) : undefined, onEvent });
}

export function printJson(io: CliIO, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

/** "12" → 12 (a series position), anything else stays a name. */
export function parseTarget(value: string | number | undefined): string | number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "number") return value;
  return /^\d+$/.test(value) ? Number(value) : value;
}
