/**
 * A repository with a long generated series, for the TUI's tests, end-to-end run and
 * benchmark (plain JS so node scripts can use it too): patch k bumps the version line of
 * notes.txt (k-1 -> k) and adds p/k.txt, with a git-style header by a fictional author.
 * Written as files directly (fast for 10,000 patches).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const patchName = (k) => `${String(k).padStart(5, "0")}-change-${k}.patch`;

/** notes.txt as it is after `k` patches. */
export const notesAfter = (k) => `header\nversion = ${k} (build ${k})\nfooter\n`;

export function patchText(k) {
  return [
    `From: Author ${k % 7} <author${k % 7}@example.org>`,
    "Date: Mon, 2 Nov 2026 10:00:00 +0000",
    `Subject: [PATCH] change number ${k} of the series`,
    "",
    `Bump the version to ${k} and record it.`,
    "",
    "---",
    "diff --git a/notes.txt b/notes.txt",
    "--- a/notes.txt",
    "+++ b/notes.txt",
    "@@ -1,3 +1,3 @@",
    " header",
    `-version = ${k - 1} (build ${k - 1})`,
    `+version = ${k} (build ${k})`,
    " footer",
    `diff --git a/p/${k}.txt b/p/${k}.txt`,
    "new file mode 100644",
    "--- /dev/null",
    `+++ b/p/${k}.txt`,
    "@@ -0,0 +1,2 @@",
    `+file ${k}`,
    "+second line",
    "",
  ].join("\n");
}

const git = (cwd, ...args) => execFileSync("git", args, { cwd, encoding: "latin1" });

/** A git repo with notes.txt committed and `count` patches in patches/ (no stack yet). */
export function seriesRepo(count) {
  const dir = mkdtempSync(join(tmpdir(), "pq-tui-"));
  git(dir, "init", "-q", "-b", "main");
  git(dir, "config", "user.name", "Test Author");
  git(dir, "config", "user.email", "author@example.org");
  writeFileSync(join(dir, "notes.txt"), notesAfter(0));
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "base");
  writeSeries(dir, count);
  return dir;
}

/** Writes the queue's patch files and series into `<tree>/patches`. */
export function writeSeries(tree, count) {
  const dir = join(tree, "patches");
  mkdirSync(dir, { recursive: true });
  const names = [];
  for (let k = 1; k <= count; k++) {
    writeFileSync(join(dir, patchName(k)), patchText(k), "latin1");
    names.push(patchName(k));
  }
  writeFileSync(join(dir, "series"), names.join("\n") + "\n");
}
