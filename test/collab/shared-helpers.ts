import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { GitRepo } from "../../src/git/repo.js";
import { simulateQueue } from "../../src/collab/simulate.js";
import { versionInGitDir } from "../../src/collab/gate.js";
import { git, pq, setGitIdentity, tempDir, write, type CliRun } from "../helpers/repo.js";

export const lines = (n: number, tag = "line") => Array.from({ length: n }, (_, i) => `${tag} ${i + 1}\n`).join("");
export const BASE_FILES = { "a.c": lines(40), "b.c": lines(20, "bee") };

export interface Person {
  name: string;
  email: string;
  tree: string;
  queue: string;
}

/** Runs pq and fails the test with its stderr when it does not exit 0. */
export async function ok(cwd: string, ...argv: string[]): Promise<CliRun> {
  const r = await pq(cwd, ...argv);
  if (r.code !== 0) throw new Error(`pq ${argv.join(" ")} exited ${r.code}\n${r.out}\n${r.err}`);
  return r;
}

export function setIdentity(dir: string, name: string, email: string): void {
  setGitIdentity(dir, name, email);
}

/** A bare remote and the tree everyone's patches apply to. */
export function world(): { root: string; remote: string; base: string } {
  const root = tempDir("pq-shared-");
  const remote = join(root, "queue.git");
  execFileSync("git", ["init", "-q", "--bare", "-b", "main", remote]);
  const base = join(root, "base");
  execFileSync("git", ["init", "-q", "-b", "main", base]);
  for (const [p, c] of Object.entries(BASE_FILES)) write(base, p, c);
  git(base, "add", "-A");
  git(base, "commit", "-q", "-m", "base tree");
  return { root, remote, base };
}

export async function join_(w: { root: string; base: string }, url: string, name: string, email: string): Promise<Person> {
  const tree = join(w.root, name.split(" ")[0].toLowerCase());
  execFileSync("git", ["clone", "-q", w.base, tree]);
  setIdentity(tree, name, email);
  await ok(tree, "init", "--shared", url);
  const queue = join(tree, "patches");
  setIdentity(queue, name, email);
  return { name, email, tree, queue };
}

export function readQueueDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir))
    if (!n.startsWith(".") && statSync(join(dir, n)).isFile()) out[n] = readFileSync(join(dir, n), "latin1");
  return out;
}

/** Every file of a tree (its queue too), except git and pq internals. */
export function fullSnapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir)) {
      if (name === ".git" || (rel === "" && name === ".pq")) continue;
      const full = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(full).isDirectory()) walk(full, r);
      else out[r] = readFileSync(full, "latin1");
    }
  };
  walk(root, "");
  return out;
}

export function remoteQueue(remote: string): { series: string; patches: Record<string, string> } {
  return versionInGitDir(remote, "main");
}

/** Nobody's change is missing: every clone's queue equals the remote's, and every state applies. */
export async function expectConverged(remote: string, people: Person[], base: string): Promise<void> {
  const r = remoteQueue(remote);
  for (const p of people) {
    expect(
      {
        series: readFileSync(join(p.queue, "series"), "latin1"),
        patches: Object.fromEntries(Object.entries(readQueueDir(p.queue)).filter(([n]) => n !== "series")),
      },
      p.name,
    ).toEqual(r);
  }
  const repo = (await GitRepo.open(base))!;
  const sim = await simulateQueue(r, (path) => repo.headContent(path));
  for (const [name, run] of sim.runs) expect(run.ok, `${name}: ${run.failures.join("; ")}`).toBe(true);
}

/** Replace line `at` (1-based) of a tree file. */
export function editLine(dir: string, path: string, at: number, text: string): void {
  const content = readFileSync(join(dir, path), "latin1").split("\n");
  content[at - 1] = text;
  write(dir, path, content.join("\n"));
}

/** A new patch NAME changing one line of a file, refreshed and committed to the queue (not synced). */
export async function commitNewPatch(
  who: Person,
  name: string,
  edit: { file: string; line: number; text: string },
  message = name,
): Promise<void> {
  await ok(who.tree, "new", name, "-m", message);
  editLine(who.tree, edit.file, edit.line, edit.text);
  await ok(who.tree, "refresh");
  await ok(who.tree, "commit", "-m", `add ${name}`);
}

/** An applied patch of `who`'s changed (goto it, edit one line, refresh) and committed to the queue. */
export async function commitEditOf(
  who: Person,
  name: string,
  edit: { file: string; line: number; text: string },
  message: string,
): Promise<void> {
  await ok(who.tree, "goto", name);
  editLine(who.tree, edit.file, edit.line, edit.text);
  await ok(who.tree, "refresh");
  await ok(who.tree, "commit", "-m", message);
}

/** Ann starts the shared queue with P.patch (a.c line 10, "ten P") and syncs; Bob joins and pushes it. */
export async function annAndBobShareP(w: { root: string; base: string; remote: string }): Promise<{ ann: Person; bob: Person }> {
  const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
  await ok(ann.tree, "new", "P.patch", "-m", "P");
  editLine(ann.tree, "a.c", 10, "ten P");
  await ok(ann.tree, "refresh");
  await ok(ann.tree, "commit", "-m", "P");
  await ok(ann.tree, "sync");
  const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
  await ok(bob.tree, "push", "-a");
  return { ann, bob };
}

/** Ann shares P.patch and Q.patch (lines 10 and 11 of a.c: Q's context holds P's line, so Q applies only over P). */
export async function annSharesPAndQ(w: { root: string; base: string; remote: string }): Promise<Person> {
  const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
  for (const [name, line, text] of [
    ["P.patch", 10, "ten P"],
    ["Q.patch", 11, "eleven Q"],
  ] as const) {
    await ok(ann.tree, "new", name, "-m", name);
    editLine(ann.tree, "a.c", line, text);
    await ok(ann.tree, "refresh");
  }
  await ok(ann.tree, "commit", "-m", "P and Q");
  await ok(ann.tree, "sync");
  return ann;
}
