/**
 * The two questions a rebase asks of each patch on the new base, answered from pq's
 * recorded file versions (the exact pre- and post-image of every file the patch touched
 * when it was last applied), not from `index` lines that may name blobs git never saw:
 *  - does upstream already contain the patch's change? (drop it)
 *  - if it no longer applies, what does a real three-way merge make of it?
 */
import { childProcess } from "../core/child-process.js";
import { statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { GitRepo } from "../git/repo.js";
import { applyFilePatch, createFilePatch, isBinaryContent, parsePatch, reverseFilePatch, sameFileMoved, type FilePatch } from "../patch/index.js";
import { readText } from "../tree/files.js";
import { diffOf, dropCommitter, dropDiffstat, headerOf, joinHeaderAndDiff } from "./patch-text.js";
import { versionExec, type AppliedPatch, type Version } from "./state.js";
import { execBitsTrusted } from "../git/head.js";
import { gitOut } from "./git-cli.js";

type Content = (v: Version) => string | null;

const current = (tree: string, path: string) => readText(join(tree, path));

/**
 * Upstream contains the change when every file the patch touched already has its
 * recorded post-image, or (without a record, or when upstream changed the files further)
 * when the patch applies in reverse exactly and no longer applies forward.
 */
export function containedUpstream(
  tree: string | ((path: string) => string | null),
  text: string,
  record: AppliedPatch | undefined,
  content: Content,
  /** Where upstream renamed a file to (undefined: it did not): a deletion of one is not "already done" there (verify-8 W2). Asked only of deleted files. */
  renamedUpstream: (path: string) => string | undefined = () => undefined,
): boolean {
  const now = typeof tree === "string" ? (path: string) => current(tree, path) : tree;
  if (record) {
    const paths = Object.keys(record.files);
    // ...unless the patch makes that same move itself (it creates the file upstream renamed it to: verify-9 X4).
    const movedAway = (p: string) => {
      const to = record.files[p].post === null ? renamedUpstream(p) : undefined;
      return to !== undefined && record.files[to]?.pre !== null;
    };
    if (paths.some(movedAway)) return false;
    if (paths.length && paths.every((p) => now(p) === content(record.files[p].post))) return true;
  }
  let files: FilePatch[];
  try {
    files = parsePatch(text).files;
  } catch {
    return false;
  }
  if (!files.length || files.some((f) => f.binary || f.kind === "rename" || f.kind === "copy" || !f.hunks.length)) return false;
  let forwardFails = false;
  for (const fp of files) {
    const here = now((fp.newPath ?? fp.oldPath)!);
    const back = applyFilePatch(here, reverseFilePatch(fp), { fuzz: 0 });
    if (!back.ok || back.hunks.some((h) => h.status === "fuzz")) return false;
    if (!applyFilePatch(fp.kind === "create" ? here : now(fp.oldPath!), fp, { fuzz: 0 }).ok) forwardFails = true;
  }
  return forwardFails;
}

/** The upstream commit that brought a dropped patch's change: same subject, else one that added its longest line. */
export async function upstreamCommitFor(git: GitRepo, range: string, subjects: Map<string, string>, subject: string | undefined, text: string): Promise<string | null> {
  if (subject && subjects.has(subject)) return subjects.get(subject)!;
  let best: { line: string; path: string } | null = null;
  try {
    for (const fp of parsePatch(text).files) {
      for (const h of fp.hunks) for (const l of h.lines) {
        const line = l.text.replace(/\r?\n$/, "");
        if (l.op === "+" && line.trim().length > (best?.line.trim().length ?? 0)) best = { line, path: (fp.newPath ?? fp.oldPath)! };
      }
    }
  } catch {
    return null;
  }
  if (!best) return null;
  try {
    const out = await git.run(["log", "--reverse", "--format=%H %s", `-S${best.line}`, range, "--", git.prefix + best.path]);
    return out.split("\n").find(Boolean) ?? null;
  } catch {
    return null;
  }
}

/**
 * git's own test for "already upstream" (what git rebase uses): the patch id, a hash of
 * the diff without line numbers or whitespace. Returns patch id -> upstream commit for
 * the commits in `range` (merges as their first-parent diff).
 */
export function upstreamPatchIds(tree: string, range: string): Map<string, string> {
  const log = childProcess().spawnSync("git", ["log", "-p", "--no-color", "--no-ext-diff", "--diff-merges=first-parent", "--format=commit %H", range], { cwd: tree, encoding: "latin1", maxBuffer: 1 << 30 });
  const ids = new Map<string, string>();
  if (log.status !== 0) return ids;
  for (const [id, commit] of patchIds(tree, log.stdout)) if (!ids.has(id)) ids.set(id, commit);
  return ids;
}

/** Patch ids of patch texts (their diffs only; headers could hold lines patch-id takes for commit ids). */
export function patchIdsOf(tree: string, texts: string[]): (string | undefined)[] {
  const fake = (i: number) => i.toString(16).padStart(40, "0");
  const input = texts.map((t, i) => `commit ${fake(i + 1)}\n${diffOf(t)}`).join("");
  const out: (string | undefined)[] = texts.map(() => undefined);
  for (const [id, commit] of patchIds(tree, input)) out[parseInt(commit, 16) - 1] = id;
  return out;
}

function patchIds(tree: string, input: string): [string, string][] {
  const r = childProcess().spawnSync("git", ["patch-id", "--stable"], { cwd: tree, input: Buffer.from(input, "latin1"), encoding: "latin1", maxBuffer: 1 << 30 });
  if (r.status !== 0) return [];
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" ") as [string, string]);
}

/**
 * The files upstream renamed between two commits (old path -> new path), as git's rename
 * detection sees them (git diff -M, 50% similar): a patch's change to the old name follows the
 * file, as git rebase's merge does (stack-6 #2).
 */
export function upstreamRenames(tree: string, from: string, to: string): Map<string, string> {
  const r = childProcess().spawnSync("git", ["-c", "core.quotePath=false", "diff", "--name-status", "-M", "-z", "--no-ext-diff", from, to], { cwd: tree, encoding: "utf8", maxBuffer: 1 << 30 });
  const renames = new Map<string, string>();
  if (r.status !== 0) return renames;
  const fields = r.stdout.split("\0");
  for (let i = 0; i < fields.length - 1; ) {
    const status = fields[i];
    if (status.startsWith("R")) {
      renames.set(fields[i + 1], fields[i + 2]);
      i += 3;
    } else i += status.startsWith("C") ? 3 : 2;
  }
  return renames;
}

export interface MergeResult {
  /** The patch rewritten against the current tree (empty diff: nothing left to apply). */
  text: string;
  conflicts: string[];
  /** What the merge did that the user should know (a change that followed an upstream rename). */
  notes: string[];
  empty: boolean;
}

/**
 * Three-way merge of a patch onto the current tree, file by file: base = the recorded
 * pre-image, theirs = the recorded post-image, ours = the file as upstream has it now.
 * Returns the patch re-made as "current tree -> merged result", so a push applies it exactly.
 */
export async function mergePatch(
  git: GitRepo,
  tree: string,
  name: string,
  text: string,
  record: AppliedPatch,
  content: Content,
  renamedUpstream: Map<string, string> = new Map(),
): Promise<MergeResult> {
  const conflicts: string[] = [];
  const notes: string[] = [];
  const parts: string[] = [];
  const renames = new Map((record.renames ?? []).map(([from, to]) => [to, from]));
  // A rename the patch holds as a deletion and a new file (mv, pq add): paired by similarity, as
  // git does, so upstream's change to the old name is merged into the new one (verify-9 X4, X8).
  for (const [from, to] of implicitRenames(record, content, renames, renamedUpstream)) renames.set(to, from);
  const renamedAway = new Set(renames.values());
  const mode = (v: Version) => (versionExec(v) ? "100755" : "100644");
  for (const path of Object.keys(record.files).sort()) {
    if (renamedAway.has(path)) continue; // handled with its target
    const { post } = record.files[path];
    const pre = record.files[renames.get(path) ?? path].pre;
    // A file the patch changes or deletes and upstream renamed away: the change goes to its new
    // name (a deletion too: verify-8 W2, where it was taken as done, or left a copy beside the renamed file).
    const movedTo = !renames.has(path) && pre !== null ? renamedUpstream.get(path) : undefined;
    // The patch makes the same move itself (deletes the old name, creates the new one): nothing to follow (verify-9 X4).
    const sameMove = movedTo !== undefined && post === null && record.files[movedTo]?.pre === null;
    const follows = movedTo !== undefined && !sameMove && current(tree, path) === null && current(tree, movedTo) !== null;
    if (follows) notes.push(`${path}: upstream renamed it to ${movedTo}; the ${post === null ? "deletion" : "change"} follows it there`);
    let source = follows ? movedTo : (renames.get(path) ?? path);
    const target = follows ? movedTo : path;
    // A file the patch renames that upstream renamed too (t46 N8: "upstream deleted it", and the
    // refresh asked for left a copy beside upstream's): the patch's move goes on from upstream's
    // name, with upstream's edits merged; to another name than the patch's, a rename/rename
    // conflict (as git rebase says it), since only a person can tell which name is right.
    const upstreamMove = renames.has(path) && current(tree, source) === null ? renamedUpstream.get(source) : undefined;
    if (upstreamMove !== undefined && current(tree, upstreamMove) !== null) {
      if (upstreamMove === target) notes.push(`${path}: upstream made the patch's move of ${source} too; the patch's edits are merged there`);
      else
        conflicts.push(
          `${target}: upstream renamed ${source} to ${upstreamMove}, the patch renames it to ${target} (rename/rename): the patch's move is kept, now from ${upstreamMove}, with upstream's edits merged; git mv ${target} ${upstreamMove} and pq refresh if upstream's name is right`,
        );
      source = upstreamMove;
    }
    // A file the patch creates where upstream moved the file the patch deletes (both made the same
    // move): merged from that file's old version, so the patch's edits carry over (verify-9 X4).
    const movedFrom =
      pre === null ? Object.keys(record.files).find((p) => record.files[p].post === null && renamedUpstream.get(p) === path) : undefined;
    const base = content(movedFrom !== undefined ? record.files[movedFrom].pre : pre);
    const theirs = content(post);
    const ours = current(tree, source);
    let merged: string | null;
    if (ours === base) merged = theirs;
    else if (ours === theirs) merged = ours;
    else if (theirs === null) {
      conflicts.push(`${target}: the patch deletes it, but upstream changed it (kept upstream's version)`);
      merged = ours;
    } else if (ours === null && base !== null) {
      conflicts.push(`${target}: upstream deleted it, the patch changes it (kept the patch's version)`);
      merged = theirs;
    } else if (isBinaryContent(ours) || isBinaryContent(base) || isBinaryContent(theirs)) {
      conflicts.push(`${target}: binary file changed both upstream and by the patch (kept upstream's version)`);
      merged = ours;
    } else {
      const m = await git.mergeFile(ours ?? "", base ?? "", theirs, ["upstream", `${name} (before)`, name]);
      if (m.conflicts) conflicts.push(`${target}: ${m.conflicts} conflict(s), markers in the file`);
      merged = m.content;
    }
    const oldPath = ours === null ? null : source;
    if (oldPath === target && merged === ours && mode(post) === modeOfTree(tree, source)) continue;
    if (oldPath === null && merged === null) continue;
    parts.push(
      createFilePatch({
        oldPath,
        newPath: merged === null ? null : target,
        oldContent: ours,
        newContent: merged,
        oldMode: ours === null ? undefined : modeOfTree(tree, source),
        newMode: merged === null ? undefined : mode(post),
      }),
    );
  }
  notes.push(...addedInMovedFolders(Object.keys(record.files).filter((p) => record.files[p].pre === null && record.files[p].post !== null), renamedUpstream));
  const diff = parts.join("");
  // Nothing left to change is "upstream has it" only without a conflict: a file kept as upstream
  // has it because the patch's change could not be merged (a deletion of a file upstream
  // changed, a binary both changed) leaves nothing here either, and is the user's to decide (stack-6 #1, #9).
  return {
    text: joinHeaderAndDiff(dropCommitter(dropDiffstat(headerOf(text))), diff),
    conflicts,
    notes,
    empty: diff === "" && diffOf(text) !== "" && !conflicts.length,
  };
}

function modeOfTree(tree: string, path: string): string {
  // Where git does not trust the file system's bit (core.fileMode false), the index's mode, as git takes it.
  if (!execBitsTrusted(tree)) {
    try {
      return /^100755 /.test(gitOut(tree, ["ls-files", "-s", "-z", "--", `:(literal)${path}`])) ? "100755" : "100644";
    } catch {
      return "100644";
    }
  }
  try {
    return statSync(join(tree, path)).mode & 0o111 ? "100755" : "100644";
  } catch {
    return "100644";
  }
}

/** Folders upstream renamed whole (every renamed file of a folder went to one other folder): old -> new. */
function folderMoves(renames: Map<string, string>): Map<string, string> {
  const to = new Map<string, string | null>();
  for (const [from, dest] of renames) {
    const [a, b] = [dirname(from), dirname(dest)];
    if (a === b) continue;
    to.set(a, to.has(a) && to.get(a) !== b ? null : b);
  }
  return new Map([...to].filter((e): e is [string, string] => e[1] !== null));
}

/**
 * Notes for files a patch adds in a folder upstream renamed whole (git mv src lib): the file
 * brings the old folder back, which git's merge stops on; said, the move left to the user (verify-8 W6).
 */
export function addedInMovedFolders(created: string[], renames: Map<string, string>): string[] {
  const moved = folderMoves(renames);
  return created.flatMap((path) => {
    const to = moved.get(dirname(path));
    return to === undefined ? [] : [`${path}: added in ${dirname(path)}/, which upstream renamed to ${to}/ (mv ${path} ${to}/${basename(path)}, pq add ${to}/${basename(path)} and pq refresh to follow it)`];
  });
}

/**
 * Deleted-and-created pairs of a patch's files that are one file moved (at least half of the
 * lines the same), where neither side is already a rename: [from, to] pairs.
 */
function implicitRenames(record: AppliedPatch, content: Content, explicit: Map<string, string>, renamedUpstream: Map<string, string>): [string, string][] {
  const files = Object.entries(record.files);
  const taken = new Set([...explicit.keys(), ...explicit.values()]);
  const deleted = files.filter(([p, c]) => c.pre !== null && c.post === null && !taken.has(p) && !renamedUpstream.has(p));
  const created = files.filter(([p, c]) => c.pre === null && c.post !== null && !taken.has(p));
  const out = new Map<string, string>();
  for (const [to, c] of created) {
    const made = content(c.post);
    if (made === null || isBinaryContent(made)) continue;
    const match = deleted.find(([from, d]) => ![...out.values()].includes(from) && sameFileMoved(content(d.pre), made));
    if (match) out.set(match[0], to);
  }
  return [...out];
}

