/**
 * pq absorb (hg absorb, git-absorb) and pq refresh -p PATCH: put each hunk of the tree's
 * unrefreshed changes into the applied patch it belongs to, not the top one. A hunk
 * belongs to the patch that last touched its lines (line blame over the applied patches'
 * recorded versions, so exact); a hunk touching lines no patch added, or lines of two
 * patches, has no single owner and stays in the tree.
 *
 * The work, planned as one transaction: put the touched files back to what the stack
 * leaves, pop to the lowest owner, apply its hunks and refresh, push up patch by patch
 * doing the same for each owner (refreshing patches that then need offsets), and put the
 * user's files back as they were: the tree never changes, only which patch holds the change.
 */
import { operandWords } from "../core/shell-word.js";
import { join } from "node:path";
import { PqError } from "../errors.js";
import { applyFilePatch, diffHunks, isBinaryContent, parsePatch, splitLines, type FilePatch, type Hunk } from "../patch/index.js";
import { readText } from "../tree/files.js";
import { blameLine } from "./blame.js";
import { planPop } from "./ops/pop.js";
import { planPush } from "./ops/push.js";
import { planRefreshTop } from "./ops/refresh.js";
import { rewriteFromRecord } from "./rewrite.js";
import type { Stack } from "./stack.js";
import { versionExec } from "./state.js";

export interface AbsorbHunk {
  file: string;
  /** Lines of the stack's version of the file the hunk replaces (1-based; count 0 = insertion after `line - 1`). */
  line: number;
  removed: number;
  added: number;
  owner?: string;
  /** Why the hunk stays in the tree. */
  reason?: string;
}

export interface AbsorbReport {
  hunks: AbsorbHunk[];
  /** Patches that received hunks, bottom first. */
  patches: string[];
  /** Patches above an owner that were refreshed because they then applied with offsets. */
  refreshed: string[];
  dryRun: boolean;
  /** Files absorbed from the work tree that git's index has another version of staged: it stays staged (as refresh leaves it). */
  stagedApart?: string[];
}

interface FileChange {
  file: string;
  /** What the applied patches leave (top of stack), and what the tree has. */
  stackText: string;
  treeText: string;
  hunks: { hunk: Hunk; info: AbsorbHunk }[];
}

interface Pending {
  file: string;
  stackText: string | null;
  treeText: string | null;
}

async function unrefreshedChanges(stack: Stack): Promise<{ files: FileChange[]; skipped: AbsorbHunk[]; pending: Pending[] }> {
  const status = await stack.status();
  if (!status.top) throw new PqError("refused", "no patch is applied", ["absorb moves changes into applied patches"]);
  if (status.needsRefresh) throw new PqError("needs-refresh", `${status.top} needs a refresh first`);
  const git = await stack.repo();
  const files: FileChange[] = [];
  const skipped: AbsorbHunk[] = [];
  const pending: Pending[] = [];
  for (const file of status.pending) {
    const owner = [...stack.appliedRecords()].reverse().find((r) => r.files[file]);
    const stackText = owner ? stack.versionText(owner.files[file].post) : ((await git?.headContent(file)) ?? null);
    const treeText = readText(join(stack.tree, file));
    pending.push({ file, stackText, treeText });
    if (stackText !== null && stackText === treeText) {
      // Pending with the same bytes: only the executable bit changed (stack-6 #8).
      skipped.push({ file, line: 0, removed: 0, added: 0, reason: "only its mode changed: absorb moves lines; pq refresh takes the mode into the top patch" });
      continue;
    }
    if (stackText === null || treeText === null || isBinaryContent(stackText) || isBinaryContent(treeText)) {
      skipped.push({ file, line: 0, removed: 0, added: 0, reason: "the file is created, deleted or binary: pq refresh it into a patch" });
      continue;
    }
    const hunks = diffHunks(stackText, treeText, 0).map((hunk) => ({
      hunk,
      info: { file, line: hunk.oldLines ? hunk.oldStart : hunk.oldStart + 1, removed: hunk.oldLines, added: hunk.newLines } as AbsorbHunk,
    }));
    files.push({ file, stackText, treeText, hunks });
  }
  return { files, skipped, pending };
}

/** Decide each hunk's owner by blame; or give every hunk of the named files to one patch. */
async function assignOwners(stack: Stack, files: FileChange[], forced?: string): Promise<void> {
  if (forced) {
    for (const f of files) for (const h of f.hunks) h.info.owner = forced;
    return;
  }
  const patches: { name: string; files: FilePatch[] }[] = [];
  for (const name of stack.applied()) patches.push({ name, files: parsePatch(await stack.currentPatchText(name)).files });
  for (const f of files) {
    const total = splitLines(f.stackText).length;
    f.hunks = f.hunks.flatMap(({ hunk, info }) => {
      // Replaced lines are blamed themselves; an insertion is blamed on its neighbours.
      const lines = hunk.oldLines
        ? Array.from({ length: hunk.oldLines }, (_, k) => hunk.oldStart + k)
        : [hunk.oldStart, hunk.oldStart + 1].filter((n) => n >= 1 && n <= total);
      const blamed = lines.map((n) => blameLine(patches, f.file, n));
      const owners = new Set(blamed);
      if (owners.size === 1 && !owners.has(undefined)) info.owner = [...owners][0];
      // As many new lines as old ones, each old line a patch's: line k's fix goes to line k's
      // patch, as hg absorb maps such a chunk (stack-6 #13).
      else if (!owners.has(undefined) && hunk.oldLines === hunk.newLines) return lineByLine(f.file, hunk, blamed as string[]);
      else info.reason = owners.has(undefined) ? "touches lines no applied patch added" : `touches lines of ${[...owners].join(" and ")}`;
      return [{ hunk, info }];
    });
  }
}

/** A replacement of N lines by N lines as N one-line hunks, line k's given to `owners[k]`. */
function lineByLine(file: string, hunk: Hunk, owners: string[]): { hunk: Hunk; info: AbsorbHunk }[] {
  const removed = hunk.lines.filter((l) => l.op === "-");
  const added = hunk.lines.filter((l) => l.op === "+");
  return owners.map((owner, k) => ({
    hunk: { oldStart: hunk.oldStart + k, oldLines: 1, newStart: hunk.newStart + k, newLines: 1, section: hunk.section, lines: [removed[k], added[k]] },
    info: { file, line: hunk.oldStart + k, removed: 1, added: 1, owner },
  }));
}

/** The stack's version of the file with only `owner`'s hunks applied. */
function withHunks(f: FileChange, chosen: AbsorbHunk[]): string {
  const old = splitLines(f.stackText);
  const out: string[] = [];
  let at = 0; // 0-based next line of old
  for (const { hunk, info } of f.hunks) {
    if (!chosen.includes(info)) continue;
    const start = hunk.oldLines ? hunk.oldStart - 1 : hunk.oldStart;
    while (at < start) out.push(old[at++]);
    at += hunk.oldLines;
    for (const l of hunk.lines) if (l.op === "+") out.push(l.text);
  }
  while (at < old.length) out.push(old[at++]);
  return out.join("");
}

export async function absorb(stack: Stack, opts: { dryRun?: boolean; into?: string; files?: string[] } = {}): Promise<AbsorbReport> {
  let { files, skipped, pending } = await unrefreshedChanges(stack);
  if (opts.into) {
    if (!stack.applied().includes(opts.into)) throw new PqError("refused", `${opts.into} is not applied`, [`pq goto ${operandWords(opts.into)} first, or name an applied patch`]);
    const wanted = new Set((opts.files ?? []).map((p) => p.replace(/^\.\//, "")));
    if (!wanted.size) throw new PqError("usage", "name the files whose changes go into the patch");
    const unknown = [...wanted].filter((p) => !files.some((f) => f.file === p));
    const bad = skipped.filter((s) => wanted.has(s.file));
    // Refused in this state (exit 12), not a bad patch: the top patch's refresh takes such a change.
    if (bad.length) throw new PqError("refused", `${bad[0].file}: ${bad[0].reason}`, [], { file: bad[0].file });
    // A file no patch and no commit has (untracked): its whole content would be a creation, which refresh -p does not move.
    const notInStack = unknown.filter((p) => readText(join(stack.tree, p)) !== null && !stack.appliedRecords().some((r) => r.files[p]));
    // ... and not in git's HEAD either (a tracked file without changes has none to move: verify-14 F8).
    const head = notInStack.length ? await (await stack.repo())?.headBlobIds(notInStack) : null;
    const created = notInStack.find((p) => !head || head.get(p) === null);
    if (created)
      throw new PqError("unsupported", `${created} is a new file, in no patch and not in git: refresh -p moves changes to existing files`, [
        `to put it in ${opts.into}: pq goto ${operandWords(opts.into)}, pq add ${operandWords(created)}, pq refresh`,
      ]);
    if (unknown.length) throw new PqError("usage", `no unrefreshed changes in ${unknown.join(", ")}`);
    files = files.filter((f) => wanted.has(f.file));
    skipped = [];
  }
  await assignOwners(stack, files, opts.into);
  const hunks = [...files.flatMap((f) => f.hunks.map((h) => h.info)), ...skipped];
  const order = stack.applied();
  let owners = order.filter((n) => hunks.some((h) => h.owner === n));
  const report: AbsorbReport = { hunks, patches: owners, refreshed: [], dryRun: Boolean(opts.dryRun) };
  if (!owners.length) return report;
  // A dry run plans the same transaction (so it reports what the real run would do, hunks
  // that do not apply to their patch's version included) and drops it; so does a run in
  // which no hunk found its place (nothing to write, nothing for the log and for undo).
  const planOnly = new Error("pq absorb: plan only");

  const top = order.at(-1)!;
  // One transaction: the user's changed files are planned back to what the stack leaves (so
  // each refresh takes only its own hunks), the stack pops to the lowest owner and pushes
  // back up taking the hunks, and the files are planned as the user had them again. The net
  // effect on the tree is nothing; on the queue, the new patch texts; and a kill anywhere
  // leaves all of it or none, and one pq undo takes it back.
  // A patch above an owner that no longer applies over the hunks absorbed below it (a line in the
  // middle of its hunk changed, verify-8 W9): those hunks stay in the tree, and the move is planned
  // again without them, as often as that takes.
  let moved: string[] = [];
  for (let attempt = 0; owners.length && attempt <= hunks.length; attempt++) {
    try {
      moved = await planMove();
      break;
    } catch (e) {
      if (!(e instanceof UpperWouldFail)) throw e;
      // One hunk at a time, from the end of the file: the others may well fit.
      const blamed = hunks
        .filter((h) => h.owner && e.files.includes(h.file) && order.indexOf(h.owner) < order.indexOf(e.upper))
        .sort((a, b) => b.line - a.line)[0];
      if (!blamed) throw e.refusal;
      Object.assign(blamed, { owner: undefined, reason: `${e.upper}, a patch above ${blamed.owner}, would no longer apply over it` });
      owners = order.filter((n) => hunks.some((h) => h.owner === n));
    }
  }
  async function planMove(): Promise<string[]> {
    // Named as the user asked for it: pq refresh -p PATCH, or pq absorb (verify-16: "absorb into p1" for a refresh -p).
    const label = opts.into ? `refresh -p ${opts.into}` : `absorb into ${owners.join(", ")}`;
    return stack.runPlanner(label, async (ctx): Promise<string[]> => {
    const ws = ctx.tx.ws;
    const execOf = (file: string) => versionExec(ws.version(file));
    const userExec = new Map(pending.map((p) => [p.file, execOf(p.file)]));
    for (const p of pending) ws.set(p.file, p.stackText, userExec.get(p.file)!);
    planPop(ctx, { target: owners[0] });
    const refreshed: string[] = [];
    for (let i = order.indexOf(owners[0]); ; i++) {
      const name = order[i];
      if (owners.includes(name)) {
        for (const f of files) {
          const mine = f.hunks.filter((h) => h.info.owner === name).map((h) => h.info);
          if (!mine.length) continue;
          const here = ws.content(f.file);
          /** The file at `name` with the chosen hunks in it, or why they do not go there. */
          const place = async (chosen: AbsorbHunk[]): Promise<{ content: string | null; reason: string }> => {
            const target = withHunks(f, chosen);
            const fp: FilePatch = { oldPath: f.file, newPath: f.file, kind: "modify", hunks: diffHunks(f.stackText, target, 3) };
            const applied = applyFilePatch(here, fp, { fuzz: 1 });
            if (applied.ok) return { content: applied.content, reason: "" };
            // The hunk's context can hold a line an upper patch changed (an edit two lines from
            // another patch's change): merged three ways instead (git merge-file), as hg absorb
            // does, the edit lands in this patch's version when the two changes do not touch.
            const git = here === null ? null : await ctx.repo();
            const merged = git ? await git.mergeFile(here!, f.stackText, target, [name, "stack", "edit"]) : null;
            if (merged && merged.conflicts === 0) return { content: merged.content, reason: "" };
            // The edit touches lines next to a change of a patch above: git merge-file cannot keep both.
            return {
              content: null,
              reason: merged
                ? `touches lines next to a change a patch above ${name} makes, so it cannot go into ${name} alone`
                : `does not apply to ${name}'s version of the file`,
            };
          };
          let placed = await place(mine);
          if (placed.content === null && !opts.into) {
            // Together they do not fit: each hunk that fits by itself still goes in, the others
            // stay with why (refresh -p PATCH FILE moves the file's changes whole, or refuses).
            const kept: AbsorbHunk[] = [];
            for (const h of mine) {
              const alone = mine.length > 1 ? await place([...kept, h]) : placed;
              if (alone.content === null) Object.assign(h, { owner: undefined, reason: alone.reason });
              else {
                kept.push(h);
                placed = alone;
              }
            }
            if (!kept.length) continue;
          } else if (placed.content === null) {
            for (const h of mine) Object.assign(h, { owner: undefined, reason: placed.reason });
            continue;
          }
          ws.set(f.file, placed.content!, execOf(f.file));
        }
        if (hunks.some((h) => h.owner === name)) await planRefreshTop(ctx, {});
      }
      if (name === top) break;
      // Up to the next patch that takes hunks (or the top); patches that now apply with
      // offsets are rewritten against their new context.
      const next = owners.find((n) => order.indexOf(n) > i) ?? top;
      let outcome: Awaited<ReturnType<typeof planPush>>;
      try {
        outcome = await planPush(ctx, { target: next });
      } catch (e) {
        // Refused over the user's edits, which are what this move takes apart: the upper patch does not fit.
        if (e instanceof PqError && e.code === "dirty" && typeof e.data.patch === "string") throw new UpperWouldFail(e.data.patch, (e.data.files as string[]) ?? [], e);
        throw e;
      }
      const { report: pushed, failure } = outcome;
      if (failure) {
        const refusal = new PqError("apply-failed", `the patches above ${name} no longer apply after absorbing into it: ${failure.message}`, [
          "nothing was changed: the stack, the queue and your files are as they were",
        ]);
        const files = (failure.data.files as { path: string }[] | undefined)?.map((f) => f.path) ?? (typeof failure.data.file === "string" ? [failure.data.file] : []);
        if (typeof failure.data.patch === "string" && files.length) throw new UpperWouldFail(failure.data.patch, files, refusal);
        throw refusal;
      }
      // A patch that now needs offsets is rewritten against its new context, so the queue pushes
      // exactly; but one in another tool's form (quilt's Index: lines, a plain diff: a Debian
      // queue's) keeps its bytes while it applies as it is, offsets and all (verify-8 W7), and is
      // rewritten only when it no longer does (fuzz, line endings).
      const inexact = new Set(ctx.tx.state.applied.filter((r) => r.inexact).map((r) => r.name));
      const rewritten = pushed.pushed
        .filter((p) => p.notes.length && (inexact.has(p.name) || /^diff --git /m.test(ctx.tx.patchText(p.name))))
        .map((p) => p.name);
      rewritten.forEach((n) => rewriteFromRecord(ctx, n));
      refreshed.push(...rewritten);
      i = order.indexOf(next) - 1;
    }
    // refresh -p PATCH FILES asked for these changes in PATCH: if none of them fit, say so (nothing is written).
    if (opts.into && !hunks.some((h) => h.owner === opts.into)) throw noneWentInto(opts.into, hunks);
    if (opts.dryRun || !hunks.some((h) => h.owner)) throw planOnly;
    for (const p of pending) ws.set(p.file, p.treeText, userExec.get(p.file)!);
    return refreshed;
    }).catch((e: unknown) => {
      if (e === planOnly) return [] as string[];
      throw e;
    });
  }
  // Every hunk given up on the way (see UpperWouldFail): refresh -p PATCH FILE moved nothing, and says so (verify-9 X7).
  if (opts.into && !hunks.some((h) => h.owner === opts.into)) throw noneWentInto(opts.into, hunks);
  report.refreshed.push(...moved);
  report.patches = owners.filter((n) => hunks.some((h) => h.owner === n));
  const absorbedFiles = new Set(hunks.filter((h) => h.owner).map((h) => h.file));
  const stagedApart = ((await (await stack.repo())?.changedAndUntrackedFiles())?.stagedApart ?? []).filter((p) => absorbedFiles.has(p));
  if (stagedApart.length) report.stagedApart = stagedApart;
  return report;
}

/** A patch above the ones absorbed into that would not apply over them (see absorb): which, over which files. */
class UpperWouldFail extends Error {
  constructor(
    readonly upper: string,
    readonly files: string[],
    /** What to say when no absorbed hunk can be blamed. */
    readonly refusal: PqError,
  ) {
    super(`${upper} would not apply`);
  }
}

/** refresh -p PATCH FILES asked for these changes in PATCH, and none of them fit: said, with why (nothing is written). */
function noneWentInto(into: string, hunks: AbsorbHunk[]): PqError {
  const why = hunks.find((h) => h.reason)?.reason ?? "they do not apply to it";
  return new PqError("apply-failed", `none of the changes went into ${into}: ${why}`, ["nothing was changed; pq refresh takes them into the top patch instead"]);
}
