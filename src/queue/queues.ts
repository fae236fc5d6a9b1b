/**
 * Several queues on one tree (hg qqueue): each is its own directory with a series and
 * patch files; the tree's state names the active one. The names are kept in
 * `.pq/queues.json` (name -> directory, as the state writes queue paths: relative to the
 * tree when inside it). Switching is only a change of that pointer, so it refuses while
 * patches of the active queue are applied (or pops them first with --pop).
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmdirSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { PqError } from "../errors.js";
import { shellWord } from "../core/shell-word.js";
import { asciiJson, readText, writeAtomic } from "../tree/files.js";
import { takeWaiting, TreeLock } from "../tree/lock.js";
import { takeQueueLock } from "./queue-lock.js";
import { Series } from "./series.js";
import type { Stack } from "./stack.js";
import { refuseQueueLinkedOut } from "./stack-refusals.js";
import { loadState, saveState, statePaths } from "./state.js";
import { leadsOutside, sameDirectory } from "../tree/paths.js";
import { checkNameOnDisk, validatePatchName } from "./names.js";
import { recordPurge } from "./restore-queue.js";

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

/** `fn` under the tree lock, taken as every command takes it: waiting for another live pq (PQ_LOCK_TIMEOUT, t138 N9). */
async function withTreeLock<T>(tree: string, fn: () => T | Promise<T>): Promise<T> {
  const lock = await takeWaiting(() => TreeLock.acquire(statePaths(tree).lock));
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** The name `pq queue switch` takes for the queue in `dir` (as the state names it), or null when none is registered. */
export function queueNameOf(tree: string, dir: string): string | null {
  try {
    return Object.entries(readRegistry(tree)).find(([, d]) => resolve(tree, d) === resolve(tree, dir))?.[0] ?? null;
  } catch {
    return null; // an unreadable registry: the refusal names the directory
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

export async function createQueue(stack: Stack, name: string, opts: { dir?: string } = {}): Promise<QueueInfo> {
  validateQueueName(name);
  return withTreeLock(stack.tree, () => {
    const reg = readRegistry(stack.tree);
    if (reg[name]) throw new PqError("exists", `there is already a queue named ${name}`);
    // Next to the active queue, as hg keeps patches-NAME next to patches.
    const active = activeDir(stack.tree);
    const abs = opts.dir ? resolve(opts.dir) : join(dirname(resolve(stack.tree, active)), `patches-${name}`);
    // By the directory itself, not its path: a symlink to a queue's directory is that queue (t96 N1: a
    // second queue through a link to the active one, purged, took the active queue's files).
    if (Object.values(reg).some((d) => sameDirectory(resolve(stack.tree, d), abs))) throw new PqError("exists", `${abs} is already a queue's directory`);
    refuseForeignDirectory(stack.tree, abs);
    // A directory of the tree that is a link out of it: every command refuses such a queue once it is in use (t141 N8).
    refuseQueueLinkedOut(stack.tree, abs, (target) => `pq queue create ${name} --dir ${shellWord(target)} makes the queue in that directory itself`);
    mkdirSync(abs, { recursive: true });
    if (!existsSync(join(abs, "series"))) writeAtomic(join(abs, "series"), "");
    const rel = relative(stack.tree, abs);
    reg[name] = leadsOutside(rel) ? abs : rel;
    writeRegistry(stack.tree, reg);
    return { name, dir: reg[name], active: false, patches: Series.fromBytes(readText(join(abs, "series")) ?? "").names().length };
  });
}

/**
 * A queue's directory is new, empty, or a queue's already (it has a series): a directory of other
 * files (a source folder, one outside the tree) became a queue, and queue delete --purge then took
 * it whole into .pq/trash (t82 N1). Nor is it the tree, a folder above it, or pq's or git's own.
 */
function refuseForeignDirectory(tree: string, abs: string): void {
  const root = resolve(tree);
  if (root === abs || root.startsWith(`${abs}/`) || abs === "/") {
    throw new PqError("refused", `${abs} holds the tree itself: it cannot be a queue's directory`, ["name a directory of its own with --dir, or leave --dir out (patches-NAME)"]);
  }
  const inside = relative(root, abs);
  if (!leadsOutside(inside) && /^(\.git|\.pq)(\/|$)/.test(inside)) {
    throw new PqError("refused", `${inside} is ${inside.startsWith(".git") ? "git's" : "pq's"} own directory: it cannot be a queue's directory`, ["name another directory with --dir"]);
  }
  let entries: string[];
  try {
    entries = readdirSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return;
    if (code === "ENOTDIR") throw new PqError("refused", `${abs} is a file, not a directory`, ["name a directory with --dir"]);
    throw e;
  }
  if (!entries.length || entries.includes("series")) return;
  throw new PqError(
    "refused",
    `${abs} holds other files (${entries.slice(0, 3).join(", ")}${entries.length > 3 ? ", ..." : ""}) and is not a queue's directory (no series file): nothing was changed`,
    ["name a new or empty directory with --dir (pq makes it), or a queue's own (one with a series file)"],
  );
}

/** The files of a queue that are its own: the series, hg's status and guards, and the patch files the series names. */
function queueOwnFiles(dir: string): string[] {
  const series = readText(join(dir, "series"));
  // Only names a patch can have, and none through a symlink: a series naming ../x (or a linked
  // folder) must not make the purge move a file from outside the queue.
  const safe = (name: string) => {
    try {
      validatePatchName(name);
      checkNameOnDisk(dir, name);
      return true;
    } catch {
      return false;
    }
  };
  let names: string[] = [];
  try {
    names = series === null ? [] : Series.fromBytes(series).names().filter(safe);
  } catch {
    names = []; // a series that does not parse: its own files only, the patches stay
  }
  // Regular files only: a series line naming a folder does not take the folder (t96 N2).
  return ["series", "status", "guards", ...names].filter((name, i, all) => all.indexOf(name) === i && lstatSync(join(dir, name), { throwIfNoEntry: false })?.isFile() === true);
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
  await withTreeLock(stack.tree, () => {
    const state = loadState(stack.tree)!;
    if (state.applied.length) throw new PqError("refused", "patches were pushed meanwhile; pop them first");
    writeRegistry(stack.tree, reg); // the old active queue keeps its name
    state.queue = reg[name];
    saveState(stack.tree, state);
  });
  return { popped };
}

export async function deleteQueue(
  stack: Stack,
  name: string,
  opts: { purge?: boolean } = {},
): Promise<{ trashed?: string; left?: { dir: string; files: string[] } }> {
  return withTreeLock(stack.tree, async () => {
    const reg = readRegistry(stack.tree);
    const dir = reg[name];
    if (!dir) throw new PqError("not-found", `there is no queue named ${name}`);
    if (sameDirectory(resolve(stack.tree, dir), resolve(stack.tree, activeDir(stack.tree)))) {
      throw new PqError("refused", `${name} is the active queue${resolve(stack.tree, dir) === resolve(stack.tree, activeDir(stack.tree)) ? "" : " (its directory is the active queue's, through a symlink)"}`, [
        "pq queue switch to another queue first",
      ]);
    }
    const abs = resolve(stack.tree, dir);
    const root = resolve(stack.tree);
    if (opts.purge && (root === abs || root.startsWith(`${abs}/`))) {
      throw new PqError("refused", `${name}'s directory ${abs} holds the tree itself: --purge would move the tree`, [
        `pq queue delete ${name} without --purge forgets the queue and leaves its files`,
      ]);
    }
    delete reg[name];
    let trashed: string | undefined;
    let left: string[] = [];
    if (opts.purge && existsSync(abs)) {
      // The queue's own files only, into the trash (a patch file in a subdirectory keeps its path
      // there); whatever else the directory holds stays, and the directory goes only when empty.
      // Under that directory's lock, as every command on it (another tree may use it: t140 N8).
      const releaseQueue = await takeQueueLock(stack.tree, abs);
      let own: string[];
      try {
        own = queueOwnFiles(abs);
        trashed = join(statePaths(stack.tree).trash, `${new Date().toISOString().replace(/[:.]/g, "-")}-queue-${name}`);
        for (const file of own) {
          mkdirSync(dirname(join(trashed, file)), { recursive: true });
          renameSync(join(abs, file), join(trashed, file));
        }
      } finally {
        releaseQueue();
      }
      removeEmptyDirs(abs, own);
      recordPurge(stack.tree, abs);
      left = existsSync(abs) ? readdirSync(abs) : [];
      if (!own.length) trashed = undefined;
    }
    writeRegistry(stack.tree, reg);
    return { ...(trashed ? { trashed } : {}), ...(left.length ? { left: { dir: abs, files: left } } : {}) };
  });
}

/** The folders the moved files leave empty (a patch's subdirectory), then `dir` itself when empty. */
function removeEmptyDirs(dir: string, moved: string[]): void {
  const folders = new Set<string>();
  for (const file of moved) for (let d = dirname(file); d !== "."; d = dirname(d)) folders.add(d);
  for (const folder of [...folders].sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(join(dir, folder));
    } catch {
      /* not empty: kept */
    }
  }
  try {
    rmdirSync(dir);
  } catch {
    /* not empty: kept, and said */
  }
}
