/**
 * node:child_process, loaded when pq first starts a process. Node's module brings net and
 * dgram with it (2-4 ms of a command's start here): a warm push or pop, which starts no
 * process, does not pay for it. Every module of pq that runs a program gets it from here.
 */
import type * as ChildProcess from "node:child_process";
import { createRequire } from "node:module";

let loaded: typeof ChildProcess | undefined;

export function childProcess(): typeof ChildProcess {
  // process.getBuiltinModule is Node 20.16's; createRequire's base path does not matter for a built-in module.
  loaded ??=
    (process.getBuiltinModule?.("node:child_process") as typeof ChildProcess | undefined) ??
    createRequire(process.execPath)("node:child_process");
  return loaded!;
}
