/**
 * Applies one patch file to a WorkingSet in memory: checks every path, applies every
 * file's hunks (offset and fuzz like GNU patch), and optionally falls back to a
 * three-way merge. Nothing reaches the disk here; the caller decides whether to commit.
 */
import { PqError } from "../errors.js";
import { operandWords, shellWord } from "../core/shell-word.js";
import type { GitRepo } from "../git/repo.js";
import { applyFilePatch, bestName, describeHunkResult, formatRejects, namesLeaving, namesWritten, readsBeforePatch, parseNamedPatch, type FileChangeKind, type FilePatch, type HunkResult } from "../patch/index.js";
import { pathMap, versionExec, versionId, type FileChange, type Version } from "./state.js";
import type { WorkingSet } from "./workset.js";

export interface FileOutcome {
  path: string;
  hunks: HunkResult[];
  status: "applied" | "failed" | "merged" | "conflict";
  /** The patch changes a file the tree does not have (GNU patch: "can't find file to patch"). */
  missing?: boolean;
  /**
   * The patch creates a file the tree already has (git apply: "already exists in working
   * directory"): "same" when it holds exactly what the patch would create.
   */
  exists?: "same" | "different";
  /** A git binary patch that does not fit the file (it has no hunks to report: its base is another version). */
  binary?: boolean;
  /** What the patch does to the file besides its hunks, when it does more than change lines (a dry run says it). */
  change?: FileChangeSummary;
}

/** A file made, removed, renamed or copied, a mode changed, or binary content changed. */
export interface FileChangeSummary {
  kind: FileChangeKind;
  /** The source of a rename or copy. */
  from?: string;
  /** Old and new git mode, when the patch changes the mode. */
  mode?: [string, string];
  binary?: true;
}

function changeSummary(fp: FilePatch): FileChangeSummary | undefined {
  const mode: [string, string] | undefined = fp.oldMode && fp.newMode && fp.oldMode !== fp.newMode ? [fp.oldMode, fp.newMode] : undefined;
  if (fp.kind === "modify" && !mode && !fp.binary) return undefined;
  return {
    kind: fp.kind,
    ...((fp.kind === "rename" || fp.kind === "copy") && fp.oldPath ? { from: fp.oldPath } : {}),
    ...(mode ? { mode } : {}),
    ...(fp.binary ? { binary: true as const } : {}),
  };
}

export interface PatchApplication {
  files: Record<string, FileChange>;
  renames: [string, string][];
  outcomes: FileOutcome[];
  /** `.rej` contents to write next to files whose hunks failed (only with force). */
  rejects: Record<string, string>;
  failed: boolean;
  conflicts: boolean;
  fuzzy: boolean;
  /**
   * Files whose diff said only "Binary files ... differ": applied as GNU patch and quilt do
   * (a new one created empty, a changed one left as it was), so the tree lacks their content.
   */
  binaryWithoutData: string[];
  /**
   * A file was chosen among the names a diff gives it (--- x.c / +++ src/x.c) by which of them
   * exist: another tree may choose another, so the push cache, which checks only the chosen
   * file, must not keep this result.
   */
  namesChosen: boolean;
  /**
   * Files the patch named and left as they were, with their version: a copy's source, a file
   * whose mode change was already made. The push cache checks them before it reuses the result.
   */
  reads: Record<string, Version>;
}

export interface ApplyOptions {
  force?: boolean;
  merge?: boolean;
  fuzz?: number;
  git?: GitRepo | null;
  /** Leading path components to drop from the patch's file names (quilt's -pN; default 1). */
  strip?: number;
  /** Whether a path is a file the stack's patches change (applied, or earlier in this operation). */
  stackFile?: (path: string) => boolean;
  /**
   * For --merge, a base git does not have: the file version (bytes) whose git blob id starts
   * with `blob`, from the versions pq recorded for `path` (see recordedBase in ops/push.ts).
   */
  recordedBase?: (path: string, blob: string) => string | null;
}

const modeExec = (mode: string | undefined, fallback: boolean): boolean => (mode ? (parseInt(mode, 8) & 0o111) !== 0 : fallback);

export async function applyPatchText(ws: WorkingSet, name: string, text: string, opts: ApplyOptions): Promise<PatchApplication> {
  const parsed = parseNamedPatch(name, text, { strip: opts.strip });
  const result: PatchApplication = {
    files: pathMap(),
    renames: [],
    outcomes: [],
    rejects: pathMap(),
    failed: false,
    conflicts: false,
    fuzzy: false,
    binaryWithoutData: [],
    namesChosen: false,
    reads: pathMap(),
  };
  // GNU patch skips a no-data binary line that has no git header: it changes nothing here either.
  const files: FilePatch[] = [];
  for (const fp of parsed.files) {
    if (fp.binary?.plain) result.binaryWithoutData.push(fp.newPath!);
    else if (fp.candidates) {
      // Only names inside the tree are looked up; an unsafe choice is refused by the checks below.
      const inTree = (p: string) => {
        try {
          ws.checkPath(p, "path");
          return true;
        } catch {
          return false;
        }
      };
      const path = bestName(fp.candidates, (p) => inTree(p) && ws.version(p) !== null);
      result.namesChosen = true;
      files.push({ ...fp, oldPath: path, newPath: path });
    } else files.push(fp);
  }
  // Check every path before applying anything: a bad path refuses the whole patch.
  for (const fp of files) {
    try {
      if (fp.oldPath !== null) ws.checkPath(fp.oldPath, `${name}: source path`);
      if (fp.newPath !== null) ws.checkPath(fp.newPath, `${name}: target path`);
    } catch (e) {
      // The refusal's data names the patch as well as the path.
      if (e instanceof PqError) throw new PqError(e.code, e.message, e.details, { patch: name, ...e.data });
      throw e;
    }
    if (isSymlinkChange(fp)) {
      const what = fp.oldMode === "120000" || fp.index?.mode === "120000" ? "changes the symlink" : "makes a symlink of";
      throw new PqError(
        "unsupported",
        `${name}: ${what} ${fp.newPath ?? fp.oldPath}; pq does not apply symlink patches (a link could lead out of the tree)`,
        ["apply that part by hand (quilt or git apply can), or take it out of the patch and make the link in the build"],
        { patch: name, file: fp.newPath ?? fp.oldPath },
      );
    }
    // A gitlink is a commit id, not a file: applied as a file change it would silently do nothing.
    if (isSubmoduleChange(fp)) {
      throw new PqError("unsupported", `${name}: ${fp.newPath ?? fp.oldPath} is a submodule (git mode 160000); pq does not apply submodule changes`, [
        "move the submodule with git (git submodule update, a commit) and keep the patch to files",
      ]);
    }
  }
  refuseFileAncestors(ws, name, files, opts.stackFile);
  refuseNameMadeTwice(name, files);
  const touch = (path: string) => {
    if (!result.files[path]) result.files[path] = { pre: ws.preserve(path), post: ws.version(path) };
  };
  // A copy or rename reads its source as it was before this patch, as git apply and GNU patch
  // do, even when the same patch also changes the source (and git lists that change first).
  // So does a deletion of a name another file patch writes, and neither removes what that one wrote
  // (t69 N4: of two files swapped by renames, the second rename removed the first one's result).
  const preimages = new Map<string, { content: string | null; version: Version }>();
  const leaving = namesLeaving(files);
  const written = namesWritten(files);
  const readsBefore = (fp: FilePatch) => readsBeforePatch(fp, written);
  // What this patch's file patches wrote so far (a deletion and a new file of the same name, in
  // that order, is a file made anew: t71 N2).
  const wroteHere = new Set<string>();
  for (const fp of files)
    if (readsBefore(fp) && fp.oldPath !== null && !preimages.has(fp.oldPath))
      preimages.set(fp.oldPath, { content: ws.content(fp.oldPath), version: ws.version(fp.oldPath) });
  for (const fp of files) {
    const source = fp.oldPath ?? fp.newPath!;
    const target = fp.newPath ?? fp.oldPath!;
    touch(source);
    touch(target);
    const from = fp.kind === "create" ? target : source;
    const preimage = readsBefore(fp) ? preimages.get(source) : undefined;
    const fromVersion = preimage ? preimage.version : ws.version(from);
    const old = preimage ? preimage.content : ws.content(from);
    const oldExec = versionExec(preimage ? preimage.version : ws.version(source));
    if (fp.kind === "create" && old !== null && old.length > 0) {
      // Not applied over the file that is there (GNU patch asks "Assume -R?", git apply refuses):
      // its hunks are reported as failed, and --force leaves the file as it is, with a .rej.
      const made = applyFilePatch(null, fp, { fuzz: opts.fuzz });
      const hunks = made.hunks.map((h): HunkResult => ({ ...h, status: "failed" }));
      result.outcomes.push({ path: target, hunks, status: "failed", exists: made.ok && made.content === old ? "same" : "different", change: changeSummary(fp) });
      result.failed = true;
      // A binary file made whole goes to the .rej whole, as a changed one does (verify-6 N4).
      if (opts.force && (fp.hunks.length || fp.binary?.forward)) result.rejects[target] = formatRejects(fp, hunks);
      continue;
    }
    if ((fp.kind === "rename" || fp.kind === "copy") && target !== source && !leaving.has(target) && ws.version(target) !== null) {
      // A rename or copy onto a file the tree has (tracked or not) would replace it without a
      // trace in the patch: refused as git apply refuses it, as a new file over one is (t49 N2).
      const hunks = fp.hunks.map((h, i): HunkResult => ({ index: i + 1, status: "failed", line: h.newStart, offset: 0, fuzz: 0 }));
      result.outcomes.push({ path: target, hunks, status: "failed", exists: "different", change: changeSummary(fp) });
      result.failed = true;
      continue;
    }
    // The line index a previous patch of this push produced for the file, if any: indexed once, not per patch.
    let outcome: ReturnType<typeof applyFilePatch>;
    try {
      outcome = applyFilePatch(fp.kind === "create" && old === null ? null : old, fp, {
        fuzz: opts.fuzz,
        index: preimage && preimage.version !== ws.version(from) ? undefined : ws.lineIndex(from),
      });
    } catch (e) {
      // Damaged binary data: said with the patch and the file it is for.
      if (!(e instanceof PqError) || e.code !== "bad-patch") throw e;
      throw new PqError(
        "bad-patch",
        `${name}: ${target}: ${e.message}`,
        ["the patch file was damaged (a cut or changed download): get it again (git format-patch --binary), or pq delete it"],
        { patch: name, file: target },
      );
    }
    let status: FileOutcome["status"] = outcome.ok ? "applied" : "failed";
    if (fp.binary && !fp.binary.forward) result.binaryWithoutData.push(target);
    let content = outcome.content;
    if (!outcome.ok && opts.merge && opts.git && fp.index) {
      const merged = await threeWayMerge(opts.git, fp, old, name, opts.recordedBase);
      if (merged) {
        content = merged.content;
        status = merged.conflicts ? "conflict" : "merged";
        if (merged.conflicts) result.conflicts = true;
      }
    }
    const missing = status === "failed" && old === null && fp.kind !== "create";
    const binary = status === "failed" && !missing && fp.binary !== undefined && fp.binary.forward !== null;
    const change = changeSummary(fp);
    result.outcomes.push({ path: target, hunks: outcome.hunks, status, ...(missing ? { missing } : {}), ...(binary ? { binary } : {}), ...(change ? { change } : {}) });
    // Fuzz and line endings set aside are said at every push: such a result is not reused silently.
    if (outcome.hunks.some((h) => h.status === "fuzz" || h.eol)) result.fuzzy = true;
    if (status === "failed") {
      result.failed = true;
      if (opts.force) {
        // A binary change that does not fit is kept whole in the .rej: a refresh must not drop it unsaid (dry-6 #5).
        if (fp.hunks.length || binary) result.rejects[target] = formatRejects(fp, outcome.hunks);
        // GNU patch writes the hunks that did apply even when others fail.
        content = outcome.content ?? old;
      } else {
        continue;
      }
    }
    const exec = fp.kind === "create" ? modeExec(fp.newMode, false) : modeExec(fp.newMode, oldExec);
    // A name an earlier file patch of this one wrote is not removed: git apply removes before it writes.
    if (fp.kind === "rename") {
      if (!wroteHere.has(source)) ws.set(source, null, false);
      result.renames.push([source, target]);
    }
    // A forced delete that failed keeps the file with the hunks that fit, as GNU patch does.
    if (fp.kind === "delete" && status !== "failed") {
      if (!wroteHere.has(source)) ws.set(source, null, false);
    } else {
      // Stored as a delta against the version it was made from (touch() stored that one).
      const base = outcome.delta && content === outcome.content && old !== null ? versionId(fromVersion) : null;
      ws.set(target, content, exec, outcome.index, base ? { base, pieces: outcome.delta! } : undefined);
      wroteHere.add(target);
    }
  }
  for (const path of Object.keys(result.files)) result.files[path].post = ws.version(path);
  // Drop paths the patch named but left as they were (e.g. a source of a copy): they are no
  // part of the patch's change, but its result depends on them (see `reads`).
  for (const [path, change] of Object.entries(result.files)) {
    if (change.pre !== change.post || result.renames.some((r) => r.includes(path))) continue;
    result.reads[path] = change.pre;
    delete result.files[path];
  }
  return result;
}

async function threeWayMerge(
  git: GitRepo,
  fp: FilePatch,
  current: string | null,
  name: string,
  recordedBase?: (path: string, blob: string) => string | null,
): Promise<{ content: string; conflicts: number } | null> {
  // A binary file has no lines to merge: git merge-file would report a conflict and keep ours,
  // and a refresh of that "resolution" would empty the patch.
  if (fp.binary) return null;
  // A version pq made (a patch below refreshed or absorbed into since) is in pq's store, not git's.
  const base = (await git.blob(fp.index!.oldBlob)) ?? recordedBase?.(fp.oldPath ?? fp.newPath!, fp.index!.oldBlob) ?? null;
  if (base === null || current === null) return null;
  const theirs = applyFilePatch(base, fp, { fuzz: 0 });
  if (!theirs.ok || theirs.content === null) return null;
  return git.mergeFile(current, base, theirs.content, ["current", "base", name]);
}

/** Lines naming each failed hunk, for the error message. */
/**
 * A patch that brings one name into being twice (two renames or copies onto it, or a new file
 * and a rename there), with no file patch between them that takes it away: git apply writes both
 * and keeps the second, losing the first one's content; no tree takes it as meant. Refused as a
 * bad patch before anything is read (t77 N3: it was refused as a file already in the tree).
 */
function refuseNameMadeTwice(name: string, files: readonly FilePatch[]): void {
  const made = new Map<string, string>();
  for (const fp of files) {
    if (fp.kind === "delete" || fp.kind === "rename") made.delete(fp.oldPath!);
    if (fp.kind === "delete") continue;
    const target = fp.newPath ?? fp.oldPath!;
    const how = fp.kind === "rename" ? `renamed from ${fp.oldPath}` : fp.kind === "copy" ? `copied from ${fp.oldPath}` : fp.kind === "create" ? "created" : null;
    if (how === null) continue;
    const before = made.get(target);
    if (before !== undefined) {
      throw new PqError(
        "bad-patch",
        `${name} makes ${target} twice (${before}, then ${how}): the second would replace the first, and its content would be lost`,
        [`edit the patch so that one file patch makes ${target} (pq show ${operandWords(name)} prints it), then push again`],
        { patch: name, file: target },
      );
    }
    made.set(target, how);
  }
}

export function describeFailures(app: PatchApplication): string[] {
  const lines: string[] = [];
  for (const o of app.outcomes) {
    if (o.status === "applied" || o.status === "merged") continue;
    if (o.status === "conflict") {
      lines.push(`${o.path}: three-way merge left conflict markers`);
      continue;
    }
    if (o.missing && o.change?.from !== undefined) {
      // A rename or copy whose source is not there: the name to look for is the source's.
      lines.push(`${o.path}: the ${o.change.kind} source ${o.change.from} does not exist`);
      continue;
    }
    if (o.missing) {
      // Every hunk fails for want of the file: one line, and the likelier cause (a name the strip level got wrong).
      lines.push(`${o.path}: no such file to patch (GNU patch: "can't find file to patch"); is the series' -pN right for this patch?`);
      continue;
    }
    if (o.binary) {
      lines.push(`${o.path}: the binary patch does not fit this file: it was made from another version of it (a binary file cannot be patched or merged in part)`);
      continue;
    }
    if (o.exists) {
      // Said once for the file, with what to do: no hunk of a new file can apply over another.
      lines.push(
        o.exists === "same"
          ? `${o.path}: the patch creates this file, and the tree already has it with the very content the patch makes (left from an earlier push, or already committed); remove it (and git rm --cached it where git add staged it; where HEAD has it, commit its removal: git rm -- ${shellWord(o.path)}, git commit), then push again`
          : o.change?.from !== undefined
            ? `${o.path}: the patch ${o.change.kind === "copy" ? "copies" : "renames"} ${o.change.from} to this name, but the tree already has a file there (git apply: "already exists in working directory"); move it away if it is yours, or, if HEAD has it, commit its removal (git rm -- ${shellWord(o.path)}, git commit) or make that a patch below this one (pq new, rm -- ${shellWord(o.path)}, pq refresh), then push again`
            : `${o.path}: the patch creates this file, but the tree already has one (git apply: "already exists in working directory"); move yours away (mv it, and git rm --cached it where git add staged it; where HEAD has it, commit its removal: git rm -- ${shellWord(o.path)}, git commit), then push again`,
      );
      continue;
    }
    // Every hunk that did not fit exactly, in order, as GNU patch prints them: the one that went in with fuzz
    // beside the one that failed is the one to look at before --force or a hand fix (interop-17 F9).
    for (const h of o.hunks) if (h.status !== "exact") lines.push(`${o.path}: ${describeHunkResult(h)}`);
    if (!o.hunks.length && app.binaryWithoutData.includes(o.path)) {
      lines.push(`${o.path}: a binary diff without data can only delete an empty file or change one that exists (as GNU patch)`);
    } else if (!o.hunks.length) lines.push(`${o.path}: the file is not in the state the patch expects`);
  }
  return lines;
}

/** What a patch that applied did otherwise than exactly: offsets, fuzz, and files merged three-way. */
export function describeFuzz(app: PatchApplication): string[] {
  const lines: string[] = [];
  for (const o of app.outcomes) {
    if (o.status === "merged") lines.push(MERGED_NOTE(o.path));
    // A file that did not apply whole is describeFailures', which lists its hunks that fit too (t145 N3: said twice).
    else if (o.status === "applied") for (const h of o.hunks) if (h.status !== "exact") lines.push(`${o.path}: ${describeHunkResult(h)}`);
  }
  return lines;
}

/** A file whose hunks did not fit and that a three-way merge made without conflicts: worth a look (dry-6 #2). */
export const MERGED_NOTE = (path: string) => `${path}: merged three-way (its hunks did not fit; review the result)`;

/**
 * A patch may not put a file under a path that is a file: on disk now, changed by this patch,
 * or changed by a patch of the stack. The push itself could half happen (the journal then
 * stops on "not a directory"), and a stack holding a file turned into a directory could never
 * be popped (restoring the file finds a directory). Refused before anything is planned, with
 * --dry-run too, as the opposite case (a directory where a file is expected) is.
 */
function refuseFileAncestors(ws: WorkingSet, name: string, files: FilePatch[], stackFile?: (path: string) => boolean): void {
  const ownFiles = new Set(files.flatMap((fp) => [fp.oldPath, fp.newPath]).filter((p): p is string => p !== null));
  for (const fp of files) {
    if (fp.newPath === null) continue;
    // A directory an earlier patch of this operation makes, not on disk yet: the disk's read
    // would not refuse it, and the executor found it only while writing (t117 N7).
    const inside = fp.oldPath === null ? ws.plannedFileUnder(fp.newPath) : undefined;
    if (inside !== undefined) {
      throw new PqError(
        "unsupported",
        `${fp.newPath} is a directory where pq expects a file (or no file): a patch pushed before ${name} makes ${inside}`,
        [`a name cannot be both a file and a directory: change ${name} to make its file under another name, or the patch that makes ${inside} to put it elsewhere`],
        { patch: name, file: fp.newPath, conflictsWith: inside },
      );
    }
    const parts = fp.newPath.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      const why = ownFiles.has(dir)
        ? "a file this patch also changes"
        : stackFile?.(dir)
          ? "a file the applied patches change"
          : ws.isFile(dir)
            ? "a file in the tree"
            : null;
      if (!why) continue;
      throw new PqError(
        "unsupported",
        `${name}: ${fp.newPath} would be created inside ${dir}, ${why}; pq does not turn a file into a directory (the patch could not be popped again)`,
        // Each way out where it works: git rm names only a file git tracks (t119 N6, t121 N2).
        [
          ownFiles.has(dir)
            ? `change ${name} to leave ${dir} a file, or to make ${fp.newPath} under another name`
            : stackFile?.(dir)
              ? `change ${name} to make ${fp.newPath} under another name, or the patch below it that makes or changes ${dir} to leave it alone (a file stays a file while its patch is applied)`
              : `move ${dir} away if it is a file of yours git does not track, or, where HEAD has it, commit its removal (git rm -- ${shellWord(dir)}, git commit); or change ${name} to make ${fp.newPath} under another name`,
        ],
        { patch: name, file: fp.newPath, conflictsWith: dir },
      );
    }
  }
}

/** A file of a patch that makes, changes or removes a symlink, which pq does not apply. */
/** Whether a file patch changes a gitlink (a submodule's commit, git mode 160000). */
export function isSubmoduleChange(fp: FilePatch): boolean {
  return fp.newMode === "160000" || fp.oldMode === "160000" || fp.index?.mode === "160000";
}

export function isSymlinkChange(fp: FilePatch): boolean {
  return fp.newMode === "120000" || fp.oldMode === "120000" || fp.index?.mode === "120000";
}
