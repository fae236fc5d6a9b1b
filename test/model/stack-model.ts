/**
 * A reference model of a patch stack, small enough to be obviously right, and random
 * command sequences (fast-check) checked against it after every step.
 *
 * The model: a base tree of files with numbered lines; every patch owns "slots" (a line
 * in a file, 8 lines apart from any other patch's slot, so patches commute and apply in
 * any order without fuzz), may create its own files (text, CRLF, binary, non-ASCII names)
 * and may delete or rename a base file reserved for it. The expected tree is the base
 * plus the applied patches' slot values and files, plus the user's unrefreshed edits.
 * Invariants after every step: the real tree equals the model's, the series and the
 * applied list equal the model's, every refusal is a PqError, and no edit the user made
 * disappears without a backup pq names.
 */
import fc from "fast-check";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { spawn } from "node:child_process";
import { expect } from "vitest";
import { PqError } from "../../src/errors.js";
import { Stack } from "../../src/queue/stack.js";
import { makeRepo, pq, tempDir, write } from "../helpers/repo.js";

export const FILES = ["a.txt", "b.c", "crlf.txt", "dir/d.txt"];
export const LINES = 64;
export const SLOTS = LINES / 8; // slots per file: lines 4, 12, 20, ...
const DELETABLE = ["gone1.txt", "gone2.txt", "sub/gone3.txt"];

export interface PatchModel {
  name: string;
  guards: string[];
  /** "file:slot" -> the line's text in this patch. */
  slots: Map<string, string>;
  /** Files the patch creates: path -> content (latin1 bytes). */
  created: Map<string, string>;
  /** Base files the patch deletes, or renames (to -> from). */
  deleted: Set<string>;
  renamed: Map<string, string>;
}

export interface Model {
  series: PatchModel[];
  applied: string[];
  guards: string[];
  /** The tree as it must be on disk (files outside .git/.pq/patches). */
  tree: Map<string, string>;
  /** Unrefreshed edits belong to the top patch: what its refresh will take. */
  pending: { slots: Map<string, string>; created: Map<string, string> };
  history: { before: Snapshot; after: Snapshot; treeBefore: Map<string, string>; treeAfter: Map<string, string>; structural?: boolean }[];
  undone: Model["history"];
  counter: number;
  /** How many entries pq's operation log had after the last recorded operation. */
  logged: number;
}

type Snapshot = Pick<Model, "series" | "applied" | "guards">;

const baseLine = (file: string, i: number) => `${file} line ${i + 1}${file === "crlf.txt" ? "\r\n" : "\n"}`;

export function baseTree(): Map<string, string> {
  const tree = new Map<string, string>();
  for (const f of FILES) tree.set(f, Array.from({ length: LINES }, (_, i) => baseLine(f, i)).join(""));
  for (const f of DELETABLE) tree.set(f, `${f} content\n`);
  return tree;
}

const slotLine = (slot: number) => 3 + slot * 8;

export function clonePatch(p: PatchModel): PatchModel {
  return {
    ...p,
    guards: [...p.guards],
    slots: new Map(p.slots),
    created: new Map(p.created),
    deleted: new Set(p.deleted),
    renamed: new Map(p.renamed),
  };
}

function snapshotOf(m: Model): Snapshot {
  return { series: m.series.map(clonePatch), applied: [...m.applied], guards: [...m.guards] };
}

/** The tree the applied patches make from the base (no unrefreshed edits). */
export function computeTree(m: Pick<Model, "series" | "applied">): Map<string, string> {
  const tree = baseTree();
  const byName = new Map(m.series.map((p) => [p.name, p]));
  for (const name of m.applied) applyPatchModel(tree, byName.get(name)!);
  return tree;
}

function applyPatchModel(tree: Map<string, string>, p: Pick<PatchModel, "slots" | "created" | "deleted" | "renamed">): void {
  for (const [key, text] of p.slots) {
    const [file, slot] = key.split(":");
    const lines = tree.get(file)!.split(/(?<=\n)/);
    lines[slotLine(Number(slot))] = text;
    tree.set(file, lines.join(""));
  }
  for (const [path, content] of p.created) tree.set(path, content);
  for (const path of p.deleted) tree.delete(path);
  for (const [to, from] of p.renamed) {
    tree.set(to, tree.get(from)!);
    tree.delete(from);
  }
}

export function newModel(): Model {
  return {
    series: [],
    applied: [],
    guards: [],
    tree: baseTree(),
    pending: { slots: new Map(), created: new Map() },
    history: [],
    undone: [],
    counter: 0,
    logged: 0,
  };
}

export async function setupReal(): Promise<{ dir: string; stack: Stack }> {
  const files: Record<string, string> = {};
  for (const [p, c] of baseTree()) files[p] = c;
  const dir = makeRepo(files);
  const stack = await Stack.init({ tree: dir });
  return { dir, stack };
}

export function realTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d)) {
      if (rel === "" && (name === ".git" || name === ".pq" || name === "patches")) continue;
      const full = join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(full).isDirectory()) walk(full, r);
      else out.set(r, readFileSync(full, "latin1"));
    }
  };
  walk(dir, "");
  return out;
}

export function checkInvariants(m: Model, dir: string, stack: Stack): void {
  const real = realTree(dir);
  expect(Object.fromEntries([...real].sort())).toEqual(Object.fromEntries([...m.tree].sort()));
  expect(stack.series().map((e) => e.name)).toEqual(m.series.map((p) => p.name));
  expect(stack.applied()).toEqual(m.applied);
  expect(stack.series().map((e) => e.guards)).toEqual(m.series.map((p) => p.guards));
  expect(stack.selectedGuards()).toEqual(m.guards);
}

/** Runs a real operation; a PqError is a refusal (returned), anything else fails the test. */
async function attempt<T>(op: () => Promise<T>): Promise<T | PqError> {
  try {
    return await op();
  } catch (e) {
    if (e instanceof PqError) return e;
    throw e;
  }
}

const topPatch = (m: Model) => (m.applied.length ? m.series.find((p) => p.name === m.applied.at(-1))! : null);
const hasPending = (m: Model) => m.pending.slots.size > 0 || m.pending.created.size > 0 || !sameTree(m.tree, computeTree(m));
const sameTree = (a: Map<string, string>, b: Map<string, string>) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
const isPushable = (p: PatchModel, guards: string[]) => {
  const pos = p.guards.filter((g) => g.startsWith("+")).map((g) => g.slice(1));
  const neg = p.guards.filter((g) => g.startsWith("-")).map((g) => g.slice(1));
  if (neg.some((g) => guards.includes(g))) return false;
  return !pos.length || pos.some((g) => guards.includes(g));
};
/** The next patches a push would apply, in order. */
function candidates(m: Model): PatchModel[] {
  const top = m.applied.at(-1);
  const start = top ? m.series.findIndex((p) => p.name === top) + 1 : 0;
  return m.series.slice(start).filter((p) => !m.applied.includes(p.name) && isPushable(p, m.guards));
}
function usedSlots(m: Model): Set<string> {
  const used = new Set<string>();
  for (const p of m.series) for (const k of p.slots.keys()) used.add(k);
  for (const k of m.pending.slots.keys()) used.add(k);
  return used;
}
/**
 * An unrefreshed edit of a line a patch already owns: pushed over, it would belong to the new
 * top, which would then change the lower patch's line (a real dependency between the two,
 * which the model's independent slots do not describe). Such pushes are left to the tests
 * of conflicts; the model pushes over edits of free lines only.
 */
function pendingInOwnedSlot(m: Model): boolean {
  return [...m.pending.slots.keys()].some((k) => m.series.some((p) => p.slots.has(k)));
}

function usedDeletable(m: Model): Set<string> {
  const used = new Set<string>();
  for (const p of m.series) {
    for (const d of p.deleted) used.add(d);
    for (const f of p.renamed.values()) used.add(f);
  }
  return used;
}

/** Record an operation for undo: the model before/after and which tree it left. */
function record(m: Model, before: Snapshot, treeBefore: Map<string, string>, r: { stack: Stack }): void {
  const after = snapshotOf(m);
  // Whether pq logged the operation is its own business (an operation that changes nothing is
  // not logged; a refresh that only rewrites a patch's text is): the oplog says, and undo then
  // moves the model back exactly as far as pq moves the stack.
  const logged = r.stack.recentOperations().entries.length;
  if (logged === m.logged) {
    expect(sameSnapshot(before, after) && sameTree(treeBefore, m.tree)).toBe(true);
    return;
  }
  m.logged = logged;
  m.history.push({ before, after, treeBefore, treeAfter: new Map(m.tree) });
  m.undone = [];
}

function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  const key = (s: Snapshot) =>
    JSON.stringify({
      applied: s.applied,
      guards: s.guards,
      series: s.series.map((p) => [p.name, p.guards, [...p.slots], [...p.created], [...p.deleted], [...p.renamed]]),
    });
  return key(a) === key(b);
}

type Cmd = fc.AsyncCommand<Model, { dir: string; stack: Stack }, false>;

class NewPatch implements Cmd {
  constructor(readonly guard: boolean) {}
  check = (m: Model) => !topPatch(m) || !hasPending(m);
  async run(m: Model, r: { dir: string; stack: Stack }) {
    const name = `p${++m.counter}${m.counter % 5 === 0 ? "-é" : ""}.patch`;
    const before = snapshotOf(m);
    const treeBefore = new Map(m.tree);
    const result = await attempt(() => r.stack.newPatch(name, { message: `patch ${name}` }));
    expect(result).toBe(name); // the name it was given
    const at = m.applied.length ? m.series.findIndex((p) => p.name === m.applied.at(-1)) + 1 : 0;
    m.series.splice(at, 0, { name, guards: [], slots: new Map(), created: new Map(), deleted: new Set(), renamed: new Map() });
    m.applied.push(name);
    record(m, before, treeBefore, r);
    checkInvariants(m, r.dir, r.stack);
  }
  toString = () => `new`;
}

class EditSlot implements Cmd {
  constructor(
    readonly pick: number,
    readonly text: string,
  ) {}
  check = (m: Model) => topPatch(m) !== null;
  async run(m: Model, r: { dir: string; stack: Stack }) {
    const top = topPatch(m)!;
    const owned = [...top.slots.keys(), ...m.pending.slots.keys()];
    const used = usedSlots(m);
    const free: string[] = [];
    for (const f of FILES) for (let s = 0; s < SLOTS; s++) if (!used.has(`${f}:${s}`)) free.push(`${f}:${s}`);
    const choices = [...new Set([...owned, ...free])];
    if (!choices.length) return;
    const key = choices[this.pick % choices.length];
    const [file, slot] = key.split(":");
    if (!m.tree.has(file)) return;
    const lines = m.tree.get(file)!.split(/(?<=\n)/);
    const ending = file === "crlf.txt" ? "\r\n" : "\n";
    lines[slotLine(Number(slot))] = `${this.text}${ending}`;
    const content = lines.join("");
    m.tree.set(file, content);
    m.pending.slots.set(key, `${this.text}${ending}`);
    write(r.dir, file, content);
    checkInvariants(m, r.dir, r.stack);
  }
  toString = () => `edit(${this.pick}, ${JSON.stringify(this.text)})`;
}

class CreateFile implements Cmd {
  constructor(readonly kind: "text" | "binary" | "unicode") {}
  check = (m: Model) => topPatch(m) !== null;
  async run(m: Model, r: { dir: string; stack: Stack }) {
    const n = ++m.counter;
    const path = this.kind === "unicode" ? `new-ü€${n}.txt` : `new${n}.${this.kind === "binary" ? "bin" : "txt"}`;
    const content =
      this.kind === "binary" ? String.fromCharCode(...Array.from({ length: 64 }, (_, i) => (i * 37 + n) % 256)) : `created ${n}\n`;
    write(r.dir, path, content);
    const added = await attempt(() => r.stack.add([path]));
    expect(added).toEqual([path]);
    m.tree.set(path, content);
    m.pending.created.set(path, content);
    checkInvariants(m, r.dir, r.stack);
  }
  toString = () => `create(${this.kind})`;
}

class Refresh implements Cmd {
  check = (m: Model) => topPatch(m) !== null;
  async run(m: Model, r: { dir: string; stack: Stack }) {
    const before = snapshotOf(m);
    const treeBefore = new Map(m.tree);
    const result = await attempt(() => r.stack.refresh());
    expect(result).not.toBeInstanceOf(PqError);
    const top = topPatch(m)!;
    for (const [k, v] of m.pending.slots) top.slots.set(k, v);
    for (const [k, v] of m.pending.created) top.created.set(k, v);
    m.pending = { slots: new Map(), created: new Map() };
    record(m, before, treeBefore, r);
    checkInvariants(m, r.dir, r.stack);
  }
  toString = () => `refresh`;
}

class DeleteOrRename implements Cmd {
  constructor(readonly rename: boolean) {}
  check = (m: Model) => topPatch(m) !== null && !hasPending(m);
  async run(m: Model, r: { dir: string; stack: Stack }) {
    const free = DELETABLE.filter((f) => !usedDeletable(m).has(f) && m.tree.has(f));
    if (!free.length) return;
    const from = free[0];
    const before = snapshotOf(m);
    const treeBefore = new Map(m.tree);
    const top = topPatch(m)!;
    // Plain file operations (the index is git's business; a staged git mv is a regression test).
    if (this.rename) {
      const to = `renamed${++m.counter}.txt`;
      renameSync(join(r.dir, from), join(r.dir, to));
      top.renamed.set(to, from);
      m.tree.set(to, m.tree.get(from)!);
      m.tree.delete(from);
      const result = await attempt(() => r.stack.refresh({ files: [to] }));
      expect(result).not.toBeInstanceOf(PqError);
    } else {
      rmSync(join(r.dir, from));
      top.deleted.add(from);
      m.tree.delete(from);
    }
    const result = await attempt(() => r.stack.refresh());
    expect(result).not.toBeInstanceOf(PqError);
    record(m, before, treeBefore, r);
    m.history.at(-1)!.structural = true;
    checkInvariants(m, r.dir, r.stack);
  }
  toString = () => (this.rename ? "mv + refresh" : "rm + refresh");
}

class Push implements Cmd {
  constructor(readonly all: boolean) {}
  // Over unrefreshed edits: refused when a pushed patch touches an edited file, else the edits
  // stay in the tree and belong to the new top. Files `pq add`ed to the top stay with it.
  check = (m: Model) => m.pending.created.size === 0 && !pendingInOwnedSlot(m);
  async run(m: Model, r: { dir: string; stack: Stack }) {
    const next = candidates(m);
    const before = snapshotOf(m);
    const treeBefore = new Map(m.tree);
    const result = await attempt(() => r.stack.push({ all: this.all }));
    const going = this.all ? next : next.slice(0, 1);
    const touched = new Set(
      going.flatMap((p) =>
        [...p.slots.keys()]
          .map((k) => k.split(":")[0])
          .concat([...p.created.keys()], [...p.deleted], [...p.renamed.keys()], [...p.renamed.values()]),
      ),
    );
    const dirtyTouched = [...touched].some((f) => m.tree.get(f) !== computeTree(m).get(f));
    if (going.length && dirtyTouched) {
      expect(result).toBeInstanceOf(PqError);
      expect((result as PqError).code).toBe("dirty");
    } else {
      expect(result).not.toBeInstanceOf(PqError);
      for (const p of going) {
        m.applied.push(p.name);
        applyPatchModel(m.tree, p);
      }
      if (going.length) record(m, before, treeBefore, r);
    }
    checkInvariants(m, r.dir, r.stack);
  }
  toString = () => (this.all ? "push -a" : "push");
}

class Pop implements Cmd {
  constructor(readonly all: boolean) {}
  check = () => true;
  async run(m: Model, r: { dir: string; stack: Stack }) {
    const before = snapshotOf(m);
    const treeBefore = new Map(m.tree);
    const result = await attempt(() => r.stack.pop({ all: this.all }));
    if (!m.applied.length) {
      expect(result).not.toBeInstanceOf(PqError);
      return checkInvariants(m, r.dir, r.stack);
    }
    const going = new Set(this.all ? m.applied : m.applied.slice(-1));
    const touched = new Set<string>();
    for (const p of m.series) if (going.has(p.name)) filesOf(p).forEach((f) => touched.add(f));
    // Files `pq add`ed to the top patch are tracked by it even before a refresh.
    for (const f of m.pending.created.keys()) touched.add(f);
    const comp = computeTree(m);
    const dirty = [...touched].some((f) => m.tree.get(f) !== comp.get(f));
    if (dirty) {
      // Unrefreshed edits in files the popped patches touch: refused, nothing lost.
      expect(result).toBeInstanceOf(PqError);
      expect((result as PqError).code).toBe("dirty");
    } else {
      expect(result).not.toBeInstanceOf(PqError);
      m.applied = this.all ? [] : m.applied.slice(0, -1);
      m.tree = overlayPending(computeTree(m), m.pending);
      record(m, before, treeBefore, r);
    }
    checkInvariants(m, r.dir, r.stack);
  }
  toString = () => (this.all ? "pop -a" : "pop");
}

const filesOf = (p: PatchModel): string[] =>
  [...p.slots.keys()]
    .map((k) => k.split(":")[0])
    .concat([...p.created.keys()], [...p.deleted], [...p.renamed.keys()], [...p.renamed.values()]);

function overlayPending(tree: Map<string, string>, pending: Model["pending"]): Map<string, string> {
  applyPatchModel(tree, { slots: pending.slots, created: pending.created, deleted: new Set(), renamed: new Map() });
  return tree;
}

/** After an undo, the edits the tree holds beyond the applied patches are unrefreshed again. */
function derivePending(m: Model): void {
  const comp = computeTree(m);
  const slots = new Map<string, string>();
  for (const f of FILES) {
    if (!m.tree.has(f) || !comp.has(f)) continue;
    const mine = m.tree.get(f)!.split(/(?<=\n)/);
    const theirs = comp.get(f)!.split(/(?<=\n)/);
    for (let s = 0; s < SLOTS; s++) if (mine[slotLine(s)] !== theirs[slotLine(s)]) slots.set(`${f}:${s}`, mine[slotLine(s)]);
  }
  const created = new Map<string, string>();
  for (const [p, c] of m.tree) if (!comp.has(p)) created.set(p, c);
  m.pending = { slots, created };
}

class Guard implements Cmd {
  constructor(
    readonly pick: number,
    readonly guard: string,
  ) {}
  check = (m: Model) => m.series.some((p) => !m.applied.includes(p.name));
  async run(m: Model, r: { dir: string; stack: Stack }) {
    const unapplied = m.series.filter((p) => !m.applied.includes(p.name));
    const p = unapplied[this.pick % unapplied.length];
    const before = snapshotOf(m);
    const treeBefore = new Map(m.tree);
    const guards = this.guard ? [this.guard] : [];
    expect(await attempt(() => r.stack.setGuards(p.name, guards))).toBeUndefined();
    p.guards = guards;
    record(m, before, treeBefore, r);
    checkInvariants(m, r.dir, r.stack);
  }
  toString = () => `guard(${this.pick}, ${this.guard})`;
}

class Select implements Cmd {
  constructor(readonly guards: string[]) {}
  check = () => true;
  async run(m: Model, r: { dir: string; stack: Stack }) {
    const before = snapshotOf(m);
    const treeBefore = new Map(m.tree);
    expect(await attempt(() => r.stack.select(this.guards))).not.toBeInstanceOf(PqError);
    m.guards = [...new Set(this.guards)].sort();
    record(m, before, treeBefore, r);
    checkInvariants(m, r.dir, r.stack);
  }
  toString = () => `select(${this.guards.join(",")})`;
}

class Reorder implements Cmd {
  constructor(
    readonly pick: number,
    readonly first: boolean,
  ) {}
  check = (m: Model) => m.series.filter((p) => !m.applied.includes(p.name)).length >= 2;
  async run(m: Model, r: { dir: string; stack: Stack }) {
    const unapplied = m.series.filter((p) => !m.applied.includes(p.name));
    const p = unapplied[this.pick % unapplied.length];
    const before = snapshotOf(m);
    const treeBefore = new Map(m.tree);
    expect(await attempt(() => r.stack.reorder(p.name, this.first ? { first: true } : { last: true }))).toBeUndefined();
    m.series = m.series.filter((x) => x !== p);
    if (this.first) {
      const at = m.applied.length ? m.series.findIndex((x) => x.name === m.applied.at(-1)) + 1 : 0;
      m.series.splice(at, 0, p);
    } else m.series.push(p);
    record(m, before, treeBefore, r);
    checkInvariants(m, r.dir, r.stack);
  }
  toString = () => `reorder(${this.pick}, ${this.first ? "first" : "last"})`;
}

class RenamePatch implements Cmd {
  constructor(readonly pick: number) {}
  check = (m: Model) => m.series.length > 0;
  async run(m: Model, r: { dir: string; stack: Stack }) {
    const p = m.series[this.pick % m.series.length];
    const to = `r${++m.counter}-${p.name}`;
    const before = snapshotOf(m);
    const treeBefore = new Map(m.tree);
    expect(await attempt(() => r.stack.renamePatch(p.name, to))).toBe(to);
    m.applied = m.applied.map((n) => (n === p.name ? to : n));
    p.name = to;
    record(m, before, treeBefore, r);
    checkInvariants(m, r.dir, r.stack);
  }
  toString = () => `rename(${this.pick})`;
}

class DeletePatch implements Cmd {
  constructor(readonly pick: number) {}
  check = (m: Model) => m.series.some((p) => !m.applied.includes(p.name));
  async run(m: Model, r: { dir: string; stack: Stack }) {
    const unapplied = m.series.filter((p) => !m.applied.includes(p.name));
    const p = unapplied[this.pick % unapplied.length];
    const before = snapshotOf(m);
    const treeBefore = new Map(m.tree);
    expect(await attempt(() => r.stack.deletePatches([p.name]))).not.toBeInstanceOf(PqError);
    m.series = m.series.filter((x) => x !== p);
    record(m, before, treeBefore, r);
    checkInvariants(m, r.dir, r.stack);
  }
  toString = () => `delete(${this.pick})`;
}

class Fold implements Cmd {
  constructor(readonly pick: number) {}
  check = (m: Model) => topPatch(m) !== null && !hasPending(m) && m.series.some((p) => !m.applied.includes(p.name));
  async run(m: Model, r: { dir: string; stack: Stack }) {
    const unapplied = m.series.filter((p) => !m.applied.includes(p.name));
    const p = unapplied[this.pick % unapplied.length];
    const top = topPatch(m)!;
    const before = snapshotOf(m);
    const treeBefore = new Map(m.tree);
    const result = await attempt(() => r.stack.fold([p.name]));
    // A fold of a patch renaming or deleting what the top already changed is not modelled.
    expect(result).not.toBeInstanceOf(PqError);
    applyPatchModel(m.tree, p);
    for (const [k, v] of p.slots) top.slots.set(k, v);
    for (const [k, v] of p.created) top.created.set(k, v);
    for (const d of p.deleted) top.deleted.add(d);
    for (const [k, v] of p.renamed) top.renamed.set(k, v);
    m.series = m.series.filter((x) => x !== p);
    record(m, before, treeBefore, r);
    checkInvariants(m, r.dir, r.stack);
  }
  toString = () => `fold(${this.pick})`;
}

class Undo implements Cmd {
  constructor(readonly redo: boolean) {}
  check = (m: Model) => {
    if (hasPending(m)) return false;
    const h = this.redo ? m.undone.at(-1) : m.history.at(-1);
    return h !== undefined && !h.structural;
  };
  async run(m: Model, r: { dir: string; stack: Stack }) {
    const result = await attempt(() => (this.redo ? r.stack.redo() : r.stack.undo()));
    expect(result).not.toBeInstanceOf(PqError);
    const h = this.redo ? m.undone.pop()! : m.history.pop()!;
    const snap = this.redo ? h.after : h.before;
    const [from, to] = this.redo ? [h.treeBefore, h.treeAfter] : [h.treeAfter, h.treeBefore];
    for (const path of new Set([...from.keys(), ...to.keys()])) {
      if (from.get(path) === to.get(path)) continue;
      if (to.has(path)) m.tree.set(path, to.get(path)!);
      else m.tree.delete(path);
    }
    m.series = snap.series.map(clonePatch);
    m.applied = [...snap.applied];
    m.guards = [...snap.guards];
    derivePending(m);
    if (this.redo) m.history.push(h);
    else m.undone.push(h);
    m.logged = r.stack.recentOperations().entries.length;
    checkInvariants(m, r.dir, r.stack);
  }
  toString = () => (this.redo ? "redo" : "undo");
}

/**
 * goto NAME: pops down to an applied patch or pushes up to a pushable one, with the same
 * refusals as pop and push: edits in a file a moving patch touches stop it, other edits
 * stay in the tree and belong to the new top.
 */
class Goto implements Cmd {
  constructor(readonly pick: number) {}
  check = (m: Model) => m.applied.length + candidates(m).length > 0 && m.pending.created.size === 0 && !pendingInOwnedSlot(m);
  async run(m: Model, r: { dir: string; stack: Stack }) {
    const targets = [...m.applied, ...candidates(m).map((p) => p.name)];
    const target = targets[this.pick % targets.length];
    const before = snapshotOf(m);
    const treeBefore = new Map(m.tree);
    const result = await attempt(() => r.stack.goto(target));
    const comp = computeTree(m);
    const popping = m.applied.includes(target);
    const going = popping
      ? m.series.filter((p) => m.applied.slice(m.applied.indexOf(target) + 1).includes(p.name))
      : candidates(m).slice(0, candidates(m).findIndex((p) => p.name === target) + 1);
    const dirty = going.flatMap(filesOf).some((f) => m.tree.get(f) !== comp.get(f));
    if (going.length && dirty) {
      expect(result).toBeInstanceOf(PqError);
      expect((result as PqError).code).toBe("dirty");
    } else {
      expect(result).not.toBeInstanceOf(PqError);
      if (popping) {
        m.applied = m.applied.slice(0, m.applied.indexOf(target) + 1);
        m.tree = overlayPending(computeTree(m), m.pending);
      } else
        for (const p of going) {
          m.applied.push(p.name);
          applyPatchModel(m.tree, p);
        }
      record(m, before, treeBefore, r);
    }
    checkInvariants(m, r.dir, r.stack);
  }
  toString = () => `goto(${this.pick})`;
}

/** The CLI in-process on a tree: its exit code and everything it printed. */
async function cli(dir: string, args: string[]): Promise<{ code: number; out: string }> {
  const r = await pq(dir, ...args);
  return { code: r.code, out: r.out + r.err };
}

/**
 * export --quilt -a, then import into a fresh clone of the base and push -a with the same
 * guards: the fresh tree must be what the model says the whole pushable series makes
 * (binary, CRLF, non-ASCII names, renames and deletions survive the round trip).
 * Nothing in the original tree or queue changes.
 */
class ExportImport implements Cmd {
  check = (m: Model) => m.series.length > 0 && !hasPending(m);
  async run(m: Model, r: { dir: string; stack: Stack }) {
    const out = tempDir();
    const fresh = makeRepo(Object.fromEntries(baseTree()));
    try {
      const exported = await cli(r.dir, ["export", "--quilt", join(out, "q"), "-a"]);
      expect(exported.out).not.toMatch(/internal error|\n\s+at /);
      expect(exported.code).toBe(0);
      expect((await cli(fresh, ["init"])).code).toBe(0);
      const imported = await cli(fresh, ["import", "--quilt", join(out, "q")]);
      expect(imported.code, imported.out).toBe(0);
      if (m.guards.length) expect((await cli(fresh, ["select", ...m.guards])).code).toBe(0);
      const pushed = await cli(fresh, ["push", "-a"]);
      const pushable = m.series.filter((p) => isPushable(p, m.guards));
      expect(pushed.code, pushed.out).toBe(0);
      const other = await Stack.open({ tree: fresh });
      expect(other.series().map((e) => e.name)).toEqual(m.series.map((p) => p.name));
      expect(other.series().map((e) => e.guards)).toEqual(m.series.map((p) => p.guards));
      expect(other.applied()).toEqual(pushable.map((p) => p.name));
      const want = computeTree({ series: m.series, applied: pushable.map((p) => p.name) });
      expect(Object.fromEntries([...realTree(fresh)].sort())).toEqual(Object.fromEntries([...want].sort()));
    } finally {
      cleanupReal(out);
      cleanupReal(fresh);
    }
    checkInvariants(m, r.dir, r.stack);
  }
  toString = () => "export --quilt -a | import --quilt | push -a";
}

/**
 * Two writers at once: a second pq process runs `pq new` while this one runs newPatch.
 * The lock lets both through one after the other or refuses one ("locked", exit 4); either
 * way no series entry is lost and the tree is whole.
 */
class ConcurrentNew implements Cmd {
  check = (m: Model) => !topPatch(m) || !hasPending(m);
  async run(m: Model, r: { dir: string; stack: Stack }) {
    const theirs = `c${++m.counter}.patch`;
    const ours = `o${++m.counter}.patch`;
    const before = snapshotOf(m);
    const treeBefore = new Map(m.tree);
    const child = new Promise<{ code: number | null; err: string }>((res) => {
      const c = spawn(process.execPath, [PQ_BIN, "new", theirs, "-m", `patch ${theirs}`], { cwd: r.dir });
      let err = "";
      c.stderr.on("data", (d) => (err += d));
      c.on("exit", (code) => res({ code, err }));
    });
    const mine = await attempt(() => r.stack.newPatch(ours, { message: `patch ${ours}` }));
    const other = await child;
    expect(other.err).not.toMatch(/\n\s+at |internal error/);
    expect([0, 4]).toContain(other.code);
    if (mine instanceof PqError) expect(mine.code).toBe("locked");
    r.stack.reload();
    const made = [...(other.code === 0 ? [theirs] : []), ...(mine instanceof PqError ? [] : [ours])];
    // Whichever took the lock first is lower in the stack.
    made.sort((a, b) => r.stack.applied().indexOf(a) - r.stack.applied().indexOf(b));
    const at = m.applied.length ? m.series.findIndex((p) => p.name === m.applied.at(-1)) + 1 : 0;
    const fresh = made.map((name) => ({
      name,
      guards: [],
      slots: new Map(),
      created: new Map(),
      deleted: new Set<string>(),
      renamed: new Map(),
    }));
    m.series.splice(at, 0, ...fresh);
    m.applied.push(...made);
    if (made.length) {
      record(m, before, treeBefore, r);
      // Two operations in one step: undo is exercised on single ones.
      m.history.at(-1)!.structural = true;
    }
    checkInvariants(m, r.dir, r.stack);
  }
  toString = () => "new || pq new";
}

/** Non-ASCII file names join once byte-exact path handling lands (the patch-engine work). */
const CREATE_KINDS = process.env.PQ_MODEL_UNICODE === "0" ? ["text", "binary"] : ["text", "binary", "unicode"];

const PQ_BIN = resolve("bin/pq.js");
const POINTS = ["journal-written", "tree-written", "queue-written", "state-written", "oplog-appended"];

/**
 * push/pop run by a second pq process that is SIGKILLed at a point of its transaction,
 * while two more processes read the stack; the next operation of this one (the lock)
 * completes the journal: the model moves as if the command had run whole.
 */
class KilledAndConcurrent implements Cmd {
  constructor(
    readonly args: string[],
    readonly point: number,
  ) {}
  check = (m: Model) => !hasPending(m);
  async run(m: Model, r: { dir: string; stack: Stack }) {
    const before = snapshotOf(m);
    const treeBefore = new Map(m.tree);
    const spawnPq = (args: string[], env: Record<string, string> = {}) =>
      new Promise<{ code: number | null; signal: string | null; err: string }>((res) => {
        const child = spawn(process.execPath, [PQ_BIN, ...args], { cwd: r.dir, env: { ...process.env, ...env } });
        let err = "";
        child.stderr.on("data", (d) => (err += d));
        child.on("exit", (code, signal) => res({ code, signal, err }));
      });
    const [main, ...readers] = await Promise.all([
      spawnPq(this.args, { PQ_FAILPOINT: POINTS[this.point % POINTS.length] }),
      spawnPq(["series", "-v"]),
      spawnPq(["applied"]),
    ]);
    for (const rd of readers) {
      expect(rd.err).not.toMatch(/\n\s+at |internal error/);
      expect([0, 4]).toContain(rd.code);
    }
    expect(main.err).not.toMatch(/\n\s+at |internal error/);
    await r.stack.withLock(async () => undefined); // completes the killed transaction
    const all = this.args.includes("-a");
    if (this.args[0] === "push") {
      for (const p of all ? candidates(m) : candidates(m).slice(0, 1)) {
        m.applied.push(p.name);
        applyPatchModel(m.tree, p);
      }
    } else if (m.applied.length) {
      m.applied = all ? [] : m.applied.slice(0, -1);
      m.tree = computeTree(m);
    }
    record(m, before, treeBefore, r);
    checkInvariants(m, r.dir, r.stack);
  }
  toString = () => `killed(${this.args.join(" ")} at ${POINTS[this.point % POINTS.length]})`;
}

export function commandArbitraries(): fc.Arbitrary<Cmd>[] {
  const text = fc.string({ minLength: 1, maxLength: 12 }).map((s) => s.replace(/[\r\n]/g, " "));
  return [
    fc.boolean().map((g) => new NewPatch(g)),
    fc.tuple(fc.nat(), text).map(([p, t]) => new EditSlot(p, t)),
    fc.tuple(fc.nat(), text).map(([p, t]) => new EditSlot(p, t)),
    fc.constantFrom(...CREATE_KINDS).map((k) => new CreateFile(k as "text" | "binary" | "unicode")),
    fc.constant(new Refresh()),
    fc.constant(new Refresh()),
    fc.boolean().map((b) => new DeleteOrRename(b)),
    fc.boolean().map((a) => new Push(a)),
    fc.boolean().map((a) => new Pop(a)),
    fc.tuple(fc.nat(), fc.constantFrom("+x", "-x", "")).map(([p, g]) => new Guard(p, g)),
    fc.constantFrom([], ["x"]).map((g) => new Select([...g])),
    fc.tuple(fc.nat(), fc.boolean()).map(([p, f]) => new Reorder(p, f)),
    fc.nat().map((p) => new RenamePatch(p)),
    fc.nat().map((p) => new DeletePatch(p)),
    fc.nat().map((p) => new Fold(p)),
    fc.nat().map((p) => new Goto(p)),
    fc.nat().map((p) => new Goto(p)),
    fc.constant(new ExportImport()),
    fc.constant(new ConcurrentNew()),
    fc.boolean().map((r) => new Undo(r)),
    ...(process.env.PQ_MODEL_KILLS === "0"
      ? []
      : [
          fc
            .tuple(fc.constantFrom(["push"], ["push", "-a"], ["pop"], ["pop", "-a"]), fc.nat())
            .map(([a, p]) => new KilledAndConcurrent([...a], p)),
        ]),
  ];
}

export function cleanupReal(dir: string): void {
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}
