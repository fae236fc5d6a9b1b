/**
 * Read-only questions about the queue: which files a patch touches (with +/- counts),
 * which patches touch a file, and a patch's text as `git show` would present it.
 * Applied patches are read as they apply now (from their recorded file versions);
 * unapplied ones as stored.
 */
import { operandWords } from "../core/shell-word.js";
import { PqError } from "../errors.js";
import { parsePatch, type FilePatch } from "../patch/index.js";
import type { PushReport, Stack } from "./stack.js";

export interface FileCount {
  path: string;
  /** The path before a rename/copy, when it differs. */
  from?: string;
  added: number;
  removed: number;
  binary: boolean;
}

export function countFile(fp: FilePatch): FileCount {
  let added = 0;
  let removed = 0;
  for (const h of fp.hunks) for (const l of h.lines) if (l.op === "+") added++;
  else if (l.op === "-") removed++;
  const path = fp.newPath ?? fp.oldPath!;
  return { path, ...(fp.oldPath && fp.newPath && fp.oldPath !== fp.newPath ? { from: fp.oldPath } : {}), added, removed, binary: Boolean(fp.binary) };
}

/** A patch name from the user (name, unique prefix, or 1-based position), or the top patch. */
export function resolvePatch(stack: Stack, wanted: string | undefined): string {
  if (wanted === undefined) {
    const top = stack.applied().at(-1);
    if (!top) throw new PqError("refused", "no patch is applied", ["name a patch (pq series lists them)"]);
    return top;
  }
  return stack.resolve(wanted);
}

/** The patch's text as it applies now (applied: from its recorded versions). */
export async function patchText(stack: Stack, name: string): Promise<string> {
  return stack.applied().includes(name) ? stack.currentPatchText(name) : stack.readPatch(name);
}

export async function patchFiles(stack: Stack, name: string): Promise<FileCount[]> {
  return parsePatch(await patchText(stack, name)).files.map(countFile);
}

export interface PatchTouch {
  name: string;
  applied: boolean;
  added: number;
  removed: number;
}

/** Every patch in the series that touches `path` (as source or target), in series order. */
export async function patchesTouching(stack: Stack, path: string): Promise<PatchTouch[]> {
  const file = path.replace(/^\.\//, "");
  // An applied patch's record names its files: only those that name this one have their text
  // made again from the recorded versions (a few ms each, seconds for a thousand-patch stack).
  const records = new Map(stack.appliedRecords().map((r) => [r.name, r]));
  const out: PatchTouch[] = [];
  for (const { name } of stack.series()) {
    const record = records.get(name);
    if (record && !record.files[file] && !(record.renames ?? []).some((r) => r.includes(file))) continue;
    let files: FilePatch[];
    try {
      const text = record ? await stack.currentPatchText(name) : await stack.readPatch(name);
      // Cheaper than parsing: a patch whose text never spells the name cannot touch the file (quoted names aside).
      if (!record && !text.includes(file) && !text.includes('"')) continue;
      files = parsePatch(text).files;
    } catch {
      continue; // an unreadable patch cannot answer; pq push would name the problem
    }
    const hits = files.filter((f) => f.newPath === file || f.oldPath === file);
    if (!hits.length) continue;
    const counts = hits.map(countFile);
    out.push({ name, applied: record !== undefined, added: counts.reduce((s, c) => s + c.added, 0), removed: counts.reduce((s, c) => s + c.removed, 0) });
  }
  return out;
}

const ESC = "\x1b[";
const paint = (code: string, text: string) => `${ESC}${code}m${text}${ESC}m`;

/** Colours a patch as git show does: meta bold, hunk headers cyan, -/+ red/green. */
export function colourPatch(text: string): string {
  let inDiff = false;
  return text
    .split("\n")
    .map((line) => {
      if (/^diff (--git|-r) /.test(line)) inDiff = true;
      if (!inDiff) return /^(From|Subject|Date): /.test(line) ? paint("33", line) : line;
      if (/^(diff |index |--- |\+\+\+ |(new|deleted) file mode|old mode|new mode|similarity|rename |copy )/.test(line)) return paint("1", line);
      if (line.startsWith("@@")) {
        const m = /^(@@[^@]*@@)(.*)$/.exec(line);
        return m ? paint("36", m[1]) + m[2] : line;
      }
      if (line.startsWith("+")) return paint("32", line);
      if (line.startsWith("-")) return paint("31", line);
      return line;
    })
    .join("\n");
}

/** A guarded patch a push passed over, as hg's qpush names it ("skipping NAME - guarded by ..."). */
export interface SkippedPatch {
  name: string;
  guards: string[];
  /** The guards selected when the push ran. */
  selected: string[];
  /** The pushed patch it comes before in the series (null: after the last one pushed). */
  before?: string | null;
}

/**
 * hg's qpush says "skipping NAME - guarded by ...": the guarded patches this push passed over
 * (from its first patch up to its last, or to the end of the series with -a), each named.
 */
export function skippedGuarded(stack: Stack, report: PushReport, all: boolean, stoppedAt?: string): SkippedPatch[] {
  // push -a names them even when it pushed nothing (t36 F1), as hg qpush -a says what it skipped.
  if (!report.pushed.length && stoppedAt === undefined && !all) return [];
  // Most series have no guards: known without copying a thousand entries (~1.5 ms of a push).
  if (!stack.seriesHasGuards()) return [];
  const series = stack.series();
  const pushed = new Set(report.pushed.map((p) => p.name));
  // From just above the top before this push.
  const appliedNow = stack.applied();
  const before = appliedNow.filter((name) => !pushed.has(name));
  const from = before.length ? series.findIndex((e) => e.name === before.at(-1)) + 1 : 0;
  // Up to the last patch pushed, or to the one a stopped push stopped at.
  const to = all ? series.length : series.findIndex((e) => e.name === (stoppedAt ?? report.pushed.at(-1)!.name)) + 1;
  const applied = new Set(appliedNow);
  const pushable = new Set(stack.pushable());
  const selected = stack.selectedGuards();
  // Each is said where the series has it, before the next patch pushed (as hg's qpush says it; stack-6 #17f).
  const range = series.slice(Math.max(0, from), to);
  return range
    .map((e, i) => ({ e, next: range.slice(i + 1).find((later) => pushed.has(later.name))?.name ?? null }))
    .filter(({ e }) => !applied.has(e.name) && !pushable.has(e.name))
    .map(({ e, next }) => ({ name: e.name, guards: e.guards, selected, before: next }));
}

/** Why a push found nothing: every patch is applied, or the ones that are not are guarded off. */
export function nothingToPush(stack: Stack): PqError {
  const pushable = new Set(stack.pushable());
  const guarded = stack.unapplied().filter((name) => !pushable.has(name));
  const top = stack.top();
  // Pushable now but below the top: skipped while guarded off (or listed there by hand); a push never goes back down.
  const below = stack.skippedBelowTop();
  if (below.length)
    return new PqError(
      "refused",
      `nothing to push above the top (${top}); ${below.join(", ")} ${below.length === 1 ? "is" : "are"} unapplied below it (skipped while guarded off, or added there)`,
      [`pq select --reapply applies ${below.length === 1 ? "it" : "them"} in ${below.length === 1 ? "its place" : "their places"} (the series' order kept), or pq push --move ${operandWords(below[0])} moves it on top`],
      { below },
    );
  if (!stack.series().length)
    return new PqError("refused", `nothing to push: the series in ${stack.queueDir} is empty`, [
      "pq new NAME starts a new patch; pq import adds patches (is this the queue you meant? pq status names it)",
    ]);
  if (!guarded.length)
    return new PqError("refused", `nothing to push: every patch is applied${top ? ` (top: ${top})` : ""}`, [
      "pq new NAME starts a new patch",
    ]);
  return new PqError(
    "refused",
    `nothing to push: the unapplied patches are guarded off by the selected guards: ${guarded.slice(0, 8).join(", ")}${guarded.length > 8 ? ", ..." : ""}`,
    ["pq select GUARD to select their guards (pq guard NAME shows a patch's guards)"],
    { guarded },
  );
}
