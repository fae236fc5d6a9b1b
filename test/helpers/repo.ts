import { expect } from "vitest";
import { PqError } from "../../src/errors.js";
import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { main } from "../../src/cli/main.js";
import type { CliIO } from "../../src/cli/io.js";

export function tempDir(prefix = "pq-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "latin1",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "Test Author",
      GIT_AUTHOR_EMAIL: "author@example.org",
      GIT_COMMITTER_NAME: "Test Author",
      GIT_COMMITTER_EMAIL: "author@example.org",
    },
  });
}

export function write(root: string, path: string, content: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content, "latin1");
}

export function read(root: string, path: string): string {
  return readFileSync(join(root, path), "latin1");
}

/**
 * A work tree's git identity, as `git config user.name` and `user.email` write it, written into
 * its .git/config (two git processes fewer for each of the suite's ~800 repositories).
 */
export function setGitIdentity(dir: string, name: string, email: string): void {
  const config = join(dir, ".git", "config");
  if (!existsSync(config)) {
    git(dir, "config", "user.name", name);
    git(dir, "config", "user.email", email);
    return;
  }
  appendFileSync(config, `[user]\n\tname = ${name}\n\temail = ${email}\n`);
}

/** A git repo with the given files committed. */
export function makeRepo(files: Record<string, string>): string {
  const dir = tempDir();
  git(dir, "init", "-q", "-b", "main");
  setGitIdentity(dir, "Test Author", "author@example.org");
  for (const [p, c] of Object.entries(files)) write(dir, p, c);
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "--allow-empty", "-m", "base");
  return dir;
}

/** Every file under root (except .git and .pq) with its bytes: compare whole trees. */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir)) {
      if (rel === "" && (name === ".git" || name === ".pq")) continue;
      const full = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(full).isDirectory()) walk(full, r);
      else out[r] = readFileSync(full, "latin1");
    }
  };
  walk(root, "");
  return out;
}

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in-process with captured output. */
export async function pq(cwd: string, ...argv: string[]): Promise<CliRun> {
  let out = "";
  let err = "";
  const io: CliIO = {
    out: (t) => void (out += t.endsWith("\n") ? t : t + "\n"),
    // As a terminal shows the bytes: UTF-8 text reads as text (tests of bytes spawn the CLI).
    outBytes: (t) => void (out += Buffer.from(t.endsWith("\n") ? t : t + "\n", "latin1").toString("utf8")),
    err: (t) => void (err += t.endsWith("\n") ? t : t + "\n"),
    isTTY: false,
    cwd,
  };
  const code = await main(argv, io);
  return { code, out, err };
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Awaits p and expects it to fail with a PqError of this code; returns the error. */
export async function expectPqError(p: Promise<unknown>, code: string): Promise<PqError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(PqError);
    expect((e as PqError).code).toBe(code);
    return e as PqError;
  }
  throw new Error(`expected a PqError ${code}`);
}

/**
 * A git repository with `files`, a pq stack and one patch `name` made of `edits` and refreshed:
 * where many tests start. The caller removes the directory.
 */
export async function repoWithPatch(files: Record<string, string>, name: string, edits: Record<string, string>): Promise<string> {
  const dir = makeRepo(files);
  for (const argv of [["init"], ["new", name]]) expect((await pq(dir, ...argv)).code).toBe(0);
  for (const [path, content] of Object.entries(edits)) write(dir, path, content);
  expect((await pq(dir, "refresh")).code).toBe(0);
  return dir;
}
