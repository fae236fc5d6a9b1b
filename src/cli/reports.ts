/**
 * Printing the reports of stack operations, shared by the commands that run them (push,
 * goto, import, undo, redo): commands never import each other.
 */
import { unstageCommand } from "../queue/git-cli.js";
import type { PushReport, Stack, UndoReport } from "../queue/stack.js";
import type { SkippedPatch } from "../queue/queries.js";
import type { FileFate } from "../queue/ops/push.js";
import { MERGED_NOTE } from "../queue/apply-patch.js";
import { betweenBackupNote } from "../queue/ops/undo-words.js";
import type { CliIO } from "./io.js";
import { printJson } from "./open-stack.js";
import { describeHunkResult } from "../patch/index.js";
import { quotePath } from "../patch/paths.js";
import { operandWords, shellWord } from "../core/shell-word.js";
import { join, relative } from "node:path";

/** hg qpush's "skipping NAME - guarded by ...", one line per guarded patch passed over. */
export function skippedLines(skipped: SkippedPatch[]): string[] {
  return skipped.map(
    (e) => `skipping ${e.name}: guarded (${e.guards.join(" ")}), and the selected guards (${e.selected.join(" ") || "none"}) exclude it`,
  );
}

export function printPushReport(io: CliIO, report: PushReport, skipped: SkippedPatch[] = []): void {
  // One write for the whole report: a push of a thousand patches prints a thousand lines.
  const lines: string[] = [];
  const out = (line: string) => void lines.push(line);
  for (const p of report.pushed) {
    for (const line of skippedLines(skipped.filter((s) => s.before === p.name))) out(line);
    out(`${report.dryRun ? "would apply" : "applying"} ${p.name}${p.cached ? " (unchanged: reused)" : ""}`);
    if (report.dryRun) for (const f of p.files ?? []) for (const line of fileFate(f, p.notes)) out(`  ${line}`);
    else for (const note of p.notes) out(`  ${note}`);
    if (p.binaryWithoutData?.length) {
      out(`  warning: binary diff without data (created empty or left as it was, as quilt does): ${p.binaryWithoutData.join(", ")}`);
    }
    if (p.rejects?.length) out(`  ${report.dryRun ? "rejects it would write" : "rejects written"}: ${p.rejects.join(", ")}`);
    if (p.rejectsReplaced?.length)
      out(
        `  ${p.rejectsReplaced.join(", ")} ${report.dryRun ? "would be" : p.rejectsReplaced.length === 1 ? "was" : "were"} written over: a file of that name was there already (pq undo of the push brings it back)`,
      );
    if (p.needsRefresh) {
      // A .rej left in the tree holds the refresh back: its removal is part of the fix (t145 N16).
      out(
        `  ${p.name} needs a refresh: ${p.needsRefresh === "conflict" ? "fix the conflict markers" : `apply the rejected hunks by hand and delete ${(p.rejects ?? []).length === 1 ? `${p.rejects![0]}` : "the .rej files"}`}, then pq refresh`,
      );
    }
  }
  for (const line of skippedLines(skipped.filter((s) => !s.before || !report.pushed.some((p) => p.name === s.before)))) out(line);
  // A push that stops part way is printed up to the patch it stops at; the refusal (on stderr) names that one.
  if (report.dryRun) out(`${report.pushed.length ? "" : "nothing to push "}(dry run: nothing was written)`);
  else out(report.pushed.length ? `now at: ${report.top}` : report.top ? `nothing to push; at: ${report.top}` : "nothing to push");
  io.out(lines.join("\n"));
}

/**
 * A dry run's lines for one file, in the words the push itself would print: each hunk's fate,
 * or the one line for a file that fails or is merged as a whole (`notes`: the push's lines).
 */
function fileFate(f: FileFate, notes: string[]): string[] {
  // What the patch does besides its hunks, on a line of its own (dry-6 #13).
  const c = f.change;
  const what = c
    ? [
        c.kind === "create"
          ? "created"
          : c.kind === "delete"
            ? "deleted"
            : c.kind === "rename"
              ? `renamed from ${c.from}`
              : c.kind === "copy"
                ? `copied from ${c.from}`
                : "",
        c.mode ? `mode ${c.mode[0]} -> ${c.mode[1]}` : "",
        c.binary ? "binary content changed" : "",
      ].filter(Boolean)
    : [];
  return [...(what.length ? [`${f.path}: ${what.join("; ")}`] : []), ...hunkFates(f, notes)];
}

function hunkFates(f: FileFate, notes: string[]): string[] {
  if (f.status === "conflict") return [`${f.path}: a three-way merge would leave conflict markers`];
  if (f.status === "merged") return [MERGED_NOTE(f.path)];
  // A file that fails as a whole (missing, created where one is, a binary that does not fit).
  const whole = f.missing || f.exists || f.binary ? notes.find((n) => n.startsWith(`${f.path}: `)) : undefined;
  if (whole) return [whole];
  return f.hunks.map((h) => `${f.path}: ${describeHunkResult(h)}`);
}

export function printUndoReport(io: CliIO, verb: string, report: UndoReport, json?: boolean): void {
  if (json) return printJson(io, report);
  for (const e of report.entries) io.out(`${verb} ${e.op} (${e.time.replace("T", " ").slice(0, 19)})`);
  if (report.backup) io.out(`files changed since were saved in ${report.backup}`);
  if (report.betweenBackup) io.out(betweenBackupNote(report.betweenBackup));
  if (report.rebaseStopped)
    io.out("the rebase is stopped again where that --continue went on from: pq rebase --continue, --skip or --abort");
}

/** A file taken from the work tree whose other, staged version stays staged (refresh, absorb). */
export function stagedApartNote(took: string, paths: string[], io: CliIO, tree: string): string {
  // Named from where the user is: the commands are to run there (t116 N3).
  const files = paths.map((p) => shellWord(relative(io.cwd || tree, join(tree, p)))).join(" ");
  return `note: ${took} the work tree's ${files}; a different version staged in git's index stays staged (git diff --cached -- ${files} shows it, ${unstageCommand(tree, files)} drops it)`;
}

/** quilt reads everything after a series line's `#` as a comment; pq (as hg mq) reads `#+g` / `#-g` as guards: said where a quilt series comes in. */
export function guardCommentNote(name: string, guards: string[]): string {
  const written = guards.map((g) => `#${g}`).join(" ");
  // Not `pq guard NAME --none`: that drops the words with the guard (t38 F7).
  return `note: ${name}: the series comment ${written} is read as a guard (hg mq's form; quilt itself ignores it): if it was only a comment, put a space after its '#' in the series file (${guards.map((g) => `# ${g}`).join(" ")}), which pq and hg read as a comment`;
}

/**
 * File names for a human's list ("a.c, b.c"): a name with a control character (a line break, a
 * tab) is C-quoted as git status quotes it, so that one name reads as one; others as they are.
 */
export function fileList(names: readonly string[]): string {
  return names.map((name) => (/[\x00-\x1f\x7f]/.test(name) ? quotePath(name) : name)).join(", ");
}

/** Said of a Debian queue's changed packaging files, which refresh leaves out (see refresh-plan's packagingPaths). */
export const PACKAGING_NOTE = "left out (Debian packaging, beside debian/patches: the patches do not carry it; pq add FILE takes one)";

/** Patches pushable now but unapplied below the top (skipped while guarded off, or added there), with the way to apply them. */
export function belowTopLines(stack: Pick<Stack, "skippedBelowTop">): string[] {
  const below = stack.skippedBelowTop();
  if (!below.length) return [];
  return [
    `${below.join(", ")} ${below.length === 1 ? "is" : "are"} unapplied below the top (skipped while guarded off, or added there): pq select --reapply applies ${below.length === 1 ? "it" : "them"} in ${below.length === 1 ? "its place" : "their places"} (the series' order kept), or pq push --move ${operandWords(below[0])} moves it on top`,
  ];
}
