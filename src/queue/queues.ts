/**
 * Several queues on one tree (hg qqueue): each is its own directory with a series and
 * patch files; the tree's state names the active one. The names are kept in
 * `.pq/queues.json` (name -> directory, as the state writes queue paths: relative to the
 * tree when inside it). Switching is only a change of that pointer, so it refuses while
 * patches of the active queue are applied (or pops them first with --pop).
 */
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { PqError } from "../errors.js";
import { asciiJson, readText, writeAtomic } from "../tree/files.js";
import { TreeLock } from "../tree/lock.js";
import { Series } from "./series.js";
import type { Stack } from "./stack.js";
import { loadState, saveState, statePaths } from "./state.js";
import { leadsOutside } from "../tree/paths.js";

export interface QueueInfo {
  name: string;
  dir: string;
  active: boolean;
  patches: number;
}

type Registry = Record<string, string>;

const registryPath = (tree: string) => join(statePaths(tree).dir, "queues.json");

function activeDir(tree: string): string {
  const state = loadState(tree);
  if (!state) throw new PqError("no-queue", `no pq stack in ${tree}`);
  return state.queue;
}

/** The registry, with the active queue always in it (named after its directory the first time). */
function readRegistry(tree: string): Registry {
  const text = readText(registryPath(tree));
  const reg: Registry = text ? (JSON.parse(text) as Registry) : {};
  const active = activeDir(tree);
  if (!Object.values(reg).some((d) => resolve(tree, d) === resolve(tree, active))) {
    let name = basename(active) || "patches";
    while (reg[name]) name += "-1";
    reg[name] = active;
  }
  return reg;
}

function writeRegistry(tree: string, reg: Registry): void {
  writeAtomic(registryPath(tree), asciiJson(reg, 1) + "\n");
}

function validateQueueName(name: string): void {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) throw new PqError("usage", `invalid queue name "${name}": use letters, digits, '_', '.', '-'`);
}

function withTreeLock<T>(tree: string, fn: () => T): T {
  const lock = TreeLock.acquire(statePaths(tree).lock);
  try {
    return fn();
  } finally {
    lock.release();
  }
}

export function listQueues(stack: Stack): QueueInfo[] {
  const reg = readRegistry(stack.tree);
  const active = resolve(stack.tree, activeDir(stack.tree));
  return Object.entries(reg)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, dir]) => {
      const series = readText(join(resolve(stack.tree, dir), "series"));
      return { name, dir, active: resolve(stack.tree, dir) === active, patches: series === null ? 0 : Series.fromBytes(series).names().length };
    });
}

export function createQueue(stack: Stack, name: string, opts: { dir?: string } = {}): QueueInfo {
  validateQueueName(name);
  return withTreeLock(stack.tree, () => {
    const reg = readRegistry(stack.tree);
    if (reg[name]) throw new PqError("exists", `there is already a queue named ${name}`);
    // Next to the active queue, as hg keeps patches-NAME next to patches.
    const active = activeDir(stack.tree);
    const abs = opts.dir ? resolve(opts.dir) : join(dirname(resolve(stack.tree, active)), `patches-${name}`);
    if (Object.values(reg).some((d) => resolve(stack.tree, d) === abs)) throw new PqError("exists", `${abs} is already a queue's directory`);
    mkdirSync(abs, { recursive: true });
    if (!existsSync(join(abs, "series"))) writeAtomic(join(abs, "series"), "");
    const rel = relative(stack.tree, abs);
    reg[name] = leadsOutside(rel) ? abs : rel;
    writeRegistry(stack.tree, reg);
    return { name, dir: reg[name], active: false, patches: Series.fromBytes(readText(join(abs, "series")) ?? "").names().length };
  });
}

export async function switchQueue(stack: Stack, name: string, opts: { pop?: boolean } = {}): Promise<{ popped: string[] }> {
  const reg = readRegistry(stack.tree);
  if (!reg[name]) throw new PqError("not-found", `there is no queue named ${name}`, ["pq queue list shows them; pq queue create NAME makes one"]);
  // Switching to the queue in use changes nothing: --pop does not pop its patches for it.
  if (resolve(stack.tree, reg[name]) === resolve(stack.tree, activeDir(stack.tree))) {
    throw new PqError("refused", `${name} is the queue in use already; nothing was changed`, [], { queue: name });
  }
  let popped: string[] = [];
  if (stack.applied().length) {
    if (!opts.pop) {
      throw new PqError("refused", `${stack.applied().length} patch(es) of the active queue are applied`, ["pop them first, or pq queue switch --pop NAME"]);
    }
    popped = (await stack.pop({ all: true })).popped;
  }
  withTreeLock(stack.tree, () => {
    const state = loadState(stack.tree)!;
    if (state.applied.length) throw new PqError("refused", "patches were pushed meanwhile; pop them first");
    writeRegistry(stack.tree, reg); // the old active queue keeps its name
    state.queue = reg[name];
    saveState(stack.tree, state);
  });
  return { popped };
}

export function deleteQueue(stack: Stack, name: string, opts: { purge?: boolean } = {}): { trashed?: string } {
  return withTreeLock(stack.tree, () => {
    const reg = readRegistry(stack.tree);
    const dir = reg[name];
    if (!dir) throw new PqError("not-found", `there is no queue named ${name}`);
    if (resolve(stack.tree, dir) === resolve(stack.tree, activeDir(stack.tree))) {
      throw new PqError("refused", `${name} is the active queue`, ["pq queue switch to another queue first"]);
    }
    delete reg[name];
    let trashed: string | undefined;
    if (opts.purge && existsSync(resolve(stack.tree, dir))) {
      mkdirSync(statePaths(stack.tree).trash, { recursive: true });
      trashed = join(statePaths(stack.tree).trash, `${new Date().toISOString().replace(/[:.]/g, "-")}-queue-${name}`);
      renameSync(resolve(stack.tree, dir), trashed);
    }
    writeRegistry(stack.tree, reg);
    return trashed ? { trashed } : {};
  });
}
