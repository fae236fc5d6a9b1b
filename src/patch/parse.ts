/**
 * Parses unified diffs: plain `diff -u`, `git diff` / `git format-patch` with extended
 * headers, quilt's `Index:` style. Hunk extents come from the hunk header counts, so a
 * mail signature ("-- \n2.39.5") after the last hunk is never read as context.
 */
import { PqError } from "../errors.js";
import { parseBinaryPatch } from "./binary.js";
import { contextToUnified, isContextDiff } from "./context-diff.js";
import { bytesToName, patchPathToName, unquoteBytes } from "./paths.js";
import type { FilePatch, Hunk, HunkLine, ParsedPatch } from "./types.js";

export function splitLines(text: string): string[] {
  if (!text) return [];
  const lines: string[] = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf("\n", start);
    if (nl === -1) {
      if (start < text.length) lines.push(text.slice(start));
      return lines;
    }
    lines.push(text.slice(start, nl + 1));
    start = nl + 1;
  }
}

const eol = (line: string) => line.replace(/\r?\n$/, "");

/** The file name a patch path stands for: `strip` leading components dropped, its UTF-8 bytes decoded. */
function stripComponents(path: string, strip: number, lineNo: number): string {
  // Past the strip-th slash (as split("/").slice(strip).join("/") would cut, without the arrays: a path per file of every patch).
  let at = 0;
  for (let i = 0; i < strip; i++) {
    const slash = path.indexOf("/", at);
    if (slash === -1)
      throw new PqError("bad-patch", `path ${JSON.stringify(path)} has fewer than ${strip + 1} components at line ${lineNo} of the patch`, [
        strip === 1
          ? "its paths have no a/ b/ prefixes (git diff --no-prefix, a -p0 patch): pq import -p0 reads it so (in a quilt series, -p0 after its name)"
          : `its paths have fewer than the ${strip} leading components -p${strip} strips: import it with a smaller -p`,
      ]);
    at = slash + 1;
  }
  // GNU patch (and quilt) take "./src/m.c" and "src//m.c" for src/m.c: a diff made from the tree's
  // root with ./ paths was pushed as another file, and the write stopped half way (t154 N8).
  return patchPathToName(path.slice(at))
    .replace(/\/{2,}/g, "/")
    .replace(/^(?:\.\/)+/, "");
}

/**
 * A path from a ---/+++ line: drop the timestamp after a TAB, unquote, /dev/null → null.
 * In a plain (non-git) diff an unquoted name without a TAB after it ends at the first
 * space, as GNU patch reads it (and so quilt and dpkg-source): `+++ b/New Dir/x` patches `New`.
 */
function headerPath(rest: string, strip: number, lineNo: number, plain = false): string | null {
  let p = eol(rest);
  const quoted = /^"(?:[^"\\]|\\.)*"/.exec(p);
  if (quoted) {
    p = unquoteBytes(quoted[0]);
  } else {
    const tab = p.indexOf("\t");
    // After a TAB comes the timestamp (or nothing: git's marker for a name with spaces); the name keeps its own spaces.
    if (tab !== -1) p = p.slice(0, tab);
    else if (plain) p = p.split(/\s/)[0];
    else p = p.replace(/\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?( [+-]\d{4})?$/, "").trimEnd();
  }
  if (p === "/dev/null") return null;
  return stripComponents(p, strip, lineNo);
}

/**
 * Whether a ---/+++ line's time, after its TAB, is the epoch: "1970-01-01 00:00:00.000000000 +0000"
 * (or the same instant in another zone, "1969-12-31 19:00:00 -0500"), or "Thu Jan  1 00:00:00 1970".
 */
function isEpochStamp(line: string): boolean {
  const tab = line.indexOf("\t");
  if (tab === -1) return false;
  const stamp = eol(line.slice(tab + 1)).trim();
  const iso = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.\d+)?(?: ([+-])(\d\d)(\d\d))?$/.exec(stamp);
  if (iso) {
    const [y, mo, d, h, mi, sec] = iso.slice(1, 7).map(Number);
    const offset = iso[7] ? (iso[7] === "-" ? -1 : 1) * (Number(iso[8]) * 60 + Number(iso[9])) : 0;
    return Date.UTC(y, mo - 1, d, h, mi, sec) - offset * 60_000 === 0;
  }
  return /^\w{3} Jan +1 00:00:00(?:\.\d+)? 1970$/.test(stamp);
}

/** The two paths of a "diff --git a/X b/Y" line (used when no ---/+++ lines follow). */
function gitLinePaths(rest: string, strip: number, lineNo: number): [string, string] | null {
  const line = eol(rest);
  if (line.startsWith('"')) {
    const m = /^("(?:[^"\\]|\\.)*") ("(?:[^"\\]|\\.)*"|\S.*)$/.exec(line);
    if (!m) return null;
    return [stripComponents(unquoteBytes(m[1]), strip, lineNo), stripComponents(unquoteBytes(m[2]), strip, lineNo)];
  }
  // "a/x b/x": without quotes the split is ambiguous if names contain " b/"; both halves are the same path for non-renames.
  const half = (line.length - 1) / 2;
  if (Number.isInteger(half) && line[half] === " " && line.slice(2, half) === line.slice(half + 3)) {
    return [stripComponents(line.slice(0, half), strip, lineNo), stripComponents(line.slice(half + 1), strip, lineNo)];
  }
  // Other prefixes (format-patch --src-prefix=old/ --dst-prefix=new/) and names with spaces: the
  // split where both halves name one path once the strip level's components are gone, as git apply
  // finds it (t84 N1, N2: a new empty file named "a b" was left with no name).
  for (let sp = line.indexOf(" "); sp !== -1; sp = line.indexOf(" ", sp + 1)) {
    const pair = strippedPair(line.slice(0, sp), line.slice(sp + 1), strip, lineNo);
    if (pair && pair[0] === pair[1]) return pair;
  }
  const m = /^(\S+) (\S+)$/.exec(line);
  return m ? [stripComponents(m[1], strip, lineNo), stripComponents(m[2], strip, lineNo)] : null;
}

/** Both names with the strip level's components gone, or null where one has too few. */
function strippedPair(a: string, b: string, strip: number, lineNo: number): [string, string] | null {
  try {
    return [stripComponents(a, strip, lineNo), stripComponents(b, strip, lineNo)];
  } catch {
    return null;
  }
}

/**
 * Whether a line (with the one after it) starts a patch's diff, as quilt's patch_header and
 * GNU patch see it: any diff command line ("diff --git", hg's "diff -r", "diff -Naurp a b"
 * from a tarball diff), "Index:", a unified file header ("--- " then "+++ "), a context one
 * ("*** " then "--- "), or plain diff's line for a binary file that comes first.
 */
export function startsDiff(line: string, next: string): boolean {
  if (/^(diff -|Index: )/.test(line)) return true;
  if (line.startsWith("--- ")) return next.startsWith("+++ ");
  if (line.startsWith("*** ")) return next.startsWith("--- ");
  return /^Binary files .+ differ\r?$/.test(line);
}

const HUNK_RE = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$/;

/** parsePatch, with the patch's name in front of what a refusal says (an import or a push reads many). */
export function parseNamedPatch(name: string, text: string, opts: { strip?: number } = {}): ParsedPatch {
  try {
    return parsePatch(text, opts);
  } catch (e) {
    if (e instanceof PqError && e.code === "bad-patch")
      throw new PqError("bad-patch", `${name}: ${e.message}`, e.details, { ...e.data, patch: name });
    throw e;
  }
}

/** The first bytes of gzip, bzip2, xz and zstd data. */
const COMPRESSED = /^(\x1f\x8b|BZh[1-9]1AY&SY|\xfd7zXZ\0|\x28\xb5\x2f\xfd)/;

export function parsePatch(text: string, opts: { strip?: number } = {}): ParsedPatch {
  // Context diffs (diff -c) are read as the unified diffs they stand for, as GNU patch reads them.
  if (isContextDiff(text)) text = contextToUnified(text);
  const strip = opts.strip ?? 1;
  const lines = splitLines(text);
  const files: FilePatch[] = [];
  let i = 0;
  let headerEnd = -1;

  const isPlainStart = (k: number) => lines[k].startsWith("--- ") && k + 1 < lines.length && lines[k + 1].startsWith("+++ ");
  const isStart = (k: number) =>
    lines[k].startsWith("diff --git ") ||
    isPlainStart(k) ||
    (lines[k].startsWith("Index: ") && k + 1 < lines.length && /^={20,}/.test(lines[k + 1]));

  while (i < lines.length) {
    if (!isStart(i)) {
      // The description ends where quilt's ends (a "diff -Naurp a b" line, or a binary file's line first).
      if (headerEnd === -1 && startsDiff(eol(lines[i]), i + 1 < lines.length ? eol(lines[i + 1]) : "")) headerEnd = i;
      // Past the description, a change pq would pass over unread (and a refresh then drop): refused.
      if (headerEnd !== -1) refuseUnreadChange(lines, i);
      // Between files, plain diff's no-data line for a binary file (after its "diff -r" line).
      if (headerEnd !== -1 && lines[i].startsWith("Binary files ")) files.push(plainBinary(lines[i], null, strip));
      i++;
      continue;
    }
    if (headerEnd === -1) headerEnd = i;
    const fp: FilePatch = { oldPath: null, newPath: null, kind: "modify", hunks: [] };
    let sawGit = false;
    let gitPaths: [string, string] | null = null;
    if (lines[i].startsWith("Index: ")) {
      const indexName = eol(lines[i].slice(7));
      i += 2;
      // CVS and svn write lines of their own between the ==== line and the diff (RCS file:,
      // retrieving revision, diff -u -r1.1 f.c; svn's note for a binary file): passed over, as GNU
      // patch passes over them (t146 N5: refused as a header without --- / +++ lines).
      const from = i;
      while (
        i < lines.length &&
        !isPlainStart(i) &&
        !isStart(i) &&
        !/^(Binary files |GIT binary patch|@@ )/.test(lines[i]) &&
        !NORMAL_DIFF_COMMAND.test(eol(lines[i]))
      )
        i++;
      const between = lines.slice(from, i).join("");
      if (i < lines.length && lines[i].startsWith("Binary files ")) {
        files.push(plainBinary(lines[i++], indexName, strip));
        continue;
      }
      // svn's binary file ("Cannot display: file marked as a binary type."): no diff to apply, said as a binary file is.
      if ((i >= lines.length || isStart(i)) && /binary/i.test(between)) {
        files.push(plainBinary("", indexName, strip));
        continue;
      }
      if (i >= lines.length) throw new PqError("bad-patch", `the patch ends after "Index: ${indexName}" with no diff`);
    }
    if (lines[i].startsWith("diff --git ")) {
      sawGit = true;
      gitPaths = gitLinePaths(lines[i].slice(11), strip, i + 1);
      i++;
      // Extended header lines.
      for (; i < lines.length; i++) {
        const l = eol(lines[i]);
        let m: RegExpExecArray | null;
        if ((m = /^old mode (\d+)$/.exec(l))) fp.oldMode = m[1];
        else if ((m = /^new mode (\d+)$/.exec(l))) fp.newMode = m[1];
        else if ((m = /^new file mode (\d+)$/.exec(l))) {
          fp.newMode = m[1];
          fp.kind = "create";
        } else if ((m = /^deleted file mode (\d+)$/.exec(l))) {
          fp.oldMode = m[1];
          fp.kind = "delete";
        } else if ((m = /^(?:similarity|dissimilarity) index (\d+)%$/.exec(l))) fp.similarity = Number(m[1]);
        else if ((m = /^rename from (.*)$/.exec(l))) {
          fp.kind = "rename";
          fp.oldPath = stripComponents("x/" + unquoteBytes(m[1]), 1, i + 1);
        } else if ((m = /^rename to (.*)$/.exec(l))) fp.newPath = stripComponents("x/" + unquoteBytes(m[1]), 1, i + 1);
        else if ((m = /^copy from (.*)$/.exec(l))) {
          fp.kind = "copy";
          fp.oldPath = stripComponents("x/" + unquoteBytes(m[1]), 1, i + 1);
        } else if ((m = /^copy to (.*)$/.exec(l))) fp.newPath = stripComponents("x/" + unquoteBytes(m[1]), 1, i + 1);
        else if ((m = /^index ([0-9a-f]+)\.\.([0-9a-f]+)(?: (\d+))?$/.exec(l))) {
          fp.index = { oldBlob: m[1], newBlob: m[2], ...(m[3] ? { mode: m[3] } : {}) };
        } else break;
      }
    }
    if (i < lines.length && lines[i].startsWith("--- ") && i + 1 < lines.length && lines[i + 1].startsWith("+++ ")) {
      const oldP = headerPath(lines[i].slice(4), strip, i + 1, !sawGit);
      const newP = headerPath(lines[i + 1].slice(4), strip, i + 2, !sawGit);
      // GNU patch (so quilt) takes a rename's names from these lines, not from "rename from/to":
      // they differ in diffs made with a path prefix (qemu's submodule diffs in Debian).
      if (fp.kind !== "rename" && fp.kind !== "copy") {
        fp.oldPath = oldP;
        fp.newPath = newP;
      } else {
        if (oldP !== null) fp.oldPath = oldP;
        if (newP !== null) fp.newPath = newP;
      }
      if (oldP === null && newP !== null) fp.kind = "create";
      if (newP === null && oldP !== null) fp.kind = "delete";
      const [oldLine, newLine] = [lines[i], lines[i + 1]];
      i += 2;
      while (i < lines.length && lines[i].startsWith("@@")) {
        const [hunk, next] = parseHunk(lines, i);
        fp.hunks.push(hunk);
        i = next;
      }
      if (!fp.hunks.length)
        throw new PqError("bad-patch", `no hunks after the +++ line at line ${i} of the patch`, ["the patch is truncated or damaged"]);
      // diff -N (diff -Nurp, the kernel's way) names a missing file with the epoch as its time, not /dev/null: GNU patch reads that side as no file.
      if (!sawGit && fp.kind === "modify") {
        if (isEpochStamp(oldLine) && fp.hunks.every((h) => h.oldLines === 0)) fp.kind = "create";
        else if (isEpochStamp(newLine) && fp.hunks.every((h) => h.newLines === 0)) fp.kind = "delete";
      }
    } else if (i < lines.length && (lines[i].startsWith("GIT binary patch") || lines[i].startsWith("Binary files "))) {
      const [binary, next] = parseBinaryPatch(lines, i);
      fp.binary = binary;
      i = next;
    } else if (!sawGit) {
      throw new PqError("bad-patch", `a diff header without --- / +++ lines at line ${i + 1} of the patch`);
    } else if ((fp.kind === "rename" || fp.kind === "copy") && gitPaths) {
      // A rename without ---/+++ lines: GNU patch names it after the diff --git line, for the same reason.
      [fp.oldPath, fp.newPath] = gitPaths;
    }
    if (sawGit && (fp.oldPath === null || fp.newPath === null) && fp.kind !== "create" && fp.kind !== "delete") {
      if (!gitPaths) throw new PqError("bad-patch", `cannot read the paths of the diff --git line before line ${i + 1}`);
      if (fp.oldPath === null) fp.oldPath = gitPaths[0];
      if (fp.newPath === null) fp.newPath = gitPaths[1];
    }
    if (sawGit && fp.kind === "create" && fp.newPath === null && gitPaths) fp.newPath = gitPaths[1];
    if (sawGit && fp.kind === "delete" && fp.oldPath === null && gitPaths) fp.oldPath = gitPaths[0];
    // A new or deleted file with no name read (t84 N2: it went on nameless, and a push failed inside pq).
    if ((fp.kind === "create" && fp.newPath === null) || (fp.kind === "delete" && fp.oldPath === null))
      throw new PqError("bad-patch", `cannot read the paths of the diff --git line before line ${i + 1}`);
    // "--- src/x.c.orig / +++ src/x.c" names one file two ways, not a rename: GNU patch picks one
    // (an Index: name counts only when both are missing, which a ---/+++ pair never is). A git
    // diff names a rename with "rename from/to" lines; without them, two names mean a strip
    // level the patch was not made for (a/f.c and b/f.c read with -p0), which GNU patch (and so
    // quilt) also resolves by picking the existing one.
    if (fp.kind === "modify" && fp.oldPath !== fp.newPath) fp.candidates = [fp.oldPath!, fp.newPath!];
    if (fp.kind === "create") fp.oldPath = null;
    if (fp.kind === "delete") fp.newPath = null;
    files.push(fp);
  }
  // No diff, and no text either: a compressed or binary file saved as a patch would go in as an
  // empty patch, its state green and the next patch blamed (ci-17 F9). GNU patch says "Only
  // garbage was found". A description alone (pq new's empty patch) stays a patch.
  if (!files.length && (text.includes("\0") || COMPRESSED.test(text))) {
    throw new PqError("bad-patch", "it holds no diff and is not text (a compressed or binary file?)", [
      "put the plain text diff in the patch file (gunzip a .patch.gz first), then run the command again",
    ]);
  }
  // Hunks and no file header at all (its --- / +++ lines lost): taken for a description, the
  // patch was pushed as changing nothing, here and by the gate (t156 N8). GNU patch: "Only garbage".
  // (A description that quotes a lone @@ line is still one: only a whole hunk, its lines as many as it says, is refused.)
  if (!files.length) {
    const hunk = lines.findIndex((_, k) => isWholeHunk(lines, k));
    if (hunk !== -1) refuseUnreadChange(lines, hunk);
  }
  refuseMarkedHeader(lines, headerEnd === -1 ? lines.length : headerEnd);
  return { header: headerEnd === -1 ? text : lines.slice(0, headerEnd).join(""), files };
}

/**
 * A merge's conflict block in the description (both sides changed the subject, then a git pull in
 * the queue): refused as markers between the file sections are (t146 N2: the block became the
 * message everyone got, and a finish's subject). All three marker lines, in order, so that a
 * description quoting one line of them is a description.
 */
function refuseMarkedHeader(lines: string[], end: number): void {
  const open = lines.findIndex((l, i) => i < end && /^<{7}( |$)/.test(eol(l)));
  if (open === -1) return;
  const middle = lines.findIndex((l, i) => i > open && i < end && eol(l) === "=======");
  const close = lines.findIndex((l, i) => i > middle && i < end && /^>{7}( |$)/.test(eol(l)));
  if (middle === -1 || close === -1) return;
  // A conflict in the header's fields (both sides changed the Subject:), not a block the description
  // quotes (a message about conflicts may show one: t148 N2).
  if (!lines.slice(open + 1, close).some((l) => /^[A-Z][\w-]*: /.test(l))) return;
  throw new PqError(
    "bad-patch",
    `line ${open + 1} of the patch (${eol(lines[open])}) is a merge's conflict marker in its description: the patch file holds both sides of a conflict`,
    [MARKERS_WAY_OUT],
  );
}

/** A merge's opening or closing conflict marker line (its middle one is a bare "======="). */
export const CONFLICT_MARKER = /^(<{7}|>{7})( |$)/;

/** How to get out of a patch file a merge left its conflict markers in (committed or not: t146 N1, git merge --abort alone failed after a commit). */
const MARKERS_WAY_OUT =
  "resolve the conflict in the patch file by hand (keep what the patch should say, drop the <<<<<<< ======= >>>>>>> lines), then run the command again; if a git pull in the queue directory left it so and its merge is not committed yet, git merge --abort there and pq sync merges the two versions instead";

/** A normal-format diff's command line (`5c5`, `2,3d1`, `1a2`), as plain `diff` without -u writes one. */
const NORMAL_DIFF_COMMAND = /^\d+(?:,\d+)?[acd]\d+(?:,\d+)?$/;

/**
 * Refuses a line, between a patch's file sections, that holds a change pq would not read: a
 * hunk with no file header before it (its --- or +++ line lost in a hand edit: GNU patch guesses
 * the file, t145 N20), or a normal-format diff (t145 N19). Passed over, the push reported
 * success without that change, and the next refresh wrote the patch without it.
 */
/** Whether line `k` is a hunk's header followed by as many old and new lines as it counts. */
function isWholeHunk(lines: string[], k: number): boolean {
  const m = HUNK_RE.exec(eol(lines[k]));
  if (!m) return false;
  let old = m[2] === undefined ? 1 : Number(m[2]);
  let added = m[4] === undefined ? 1 : Number(m[4]);
  for (let j = k + 1; j < lines.length && (old > 0 || added > 0); j++) {
    const c = lines[j][0];
    if (c === " ") (old--, added--);
    else if (c === "-") old--;
    else if (c === "+") added--;
    else if (c !== "\\") return false;
  }
  return old === 0 && added === 0;
}

function refuseUnreadChange(lines: string[], i: number): void {
  const line = eol(lines[i]);
  // A git merge's conflict markers (a git pull in the queue that conflicted, t144 N6): the hunks past them went unread.
  if (CONFLICT_MARKER.test(line))
    throw new PqError(
      "bad-patch",
      `line ${i + 1} of the patch (${line}) is a merge's conflict marker: the patch file holds both sides of a conflict`,
      [MARKERS_WAY_OUT],
    );
  // The line before it, when it is what ended the file section above (a blank line, a stray one: t146 N6).
  const before = i > 0 ? eol(lines[i - 1]) : null;
  const endedBy =
    before !== null && !/^(\+\+\+ |--- |diff |Index: |={20,})/.test(before)
      ? ` after line ${i} (${before === "" ? "a blank line" : JSON.stringify(before.slice(0, 40))}), which is no hunk line and ends the file's section above,`
      : "";
  if (HUNK_RE.test(line))
    throw new PqError(
      "bad-patch",
      `the hunk at line ${i + 1} of the patch (${line})${endedBy} has no file header before it, so pq cannot tell which file it changes`,
      [
        "put its file's --- a/FILE and +++ b/FILE lines back right above it (GNU patch guesses the file from one of them or a diff line; pq does not), then run the command again",
      ],
    );
  const next = i + 1 < lines.length ? lines[i + 1] : "";
  if (NORMAL_DIFF_COMMAND.test(line) && (next.startsWith("< ") || next.startsWith("> ")))
    throw new PqError(
      "bad-patch",
      `line ${i + 1} of the patch (${line}) starts a normal-format diff, which pq does not read: it reads unified and context diffs`,
      [
        "make it a unified diff: apply it with patch in a copy of the tree and diff -u the result against the original (or quilt push then quilt refresh, which writes it unified), then run the command again",
      ],
    );
}

/**
 * A "Binary files A and B differ" line without a git header (quilt's and plain diff's
 * output): GNU patch skips it, pq keeps it only to name the file in a warning.
 */
function plainBinary(line: string, indexName: string | null, strip: number): FilePatch {
  const m = /^Binary files (.+) and (.+) differ$/.exec(eol(line));
  const raw = m ? (m[2] === "/dev/null" ? m[1] : m[2]) : (indexName ?? "");
  let path: string;
  try {
    path = stripComponents(unquoteBytes(raw), strip, 0);
  } catch (e) {
    if (e instanceof PqError && e.code === "unsafe-path") throw e;
    path = bytesToName(indexName ?? raw);
  }
  return { oldPath: path, newPath: path, kind: "modify", binary: { forward: null, reverse: null, plain: true }, hunks: [] };
}

/**
 * GNU patch's choice between a plain diff's old and new names: of those that exist,
 * the fewest directory components, then the shortest base name, then the shortest name,
 * then the first. When none exists, the same rule over all of them.
 */
/** The names a patch's file patches move or delete away: a rename may land on one of them (two files swapped). */
export function namesLeaving(files: readonly FilePatch[]): Set<string> {
  return new Set(files.flatMap((fp) => ((fp.kind === "rename" || fp.kind === "delete") && fp.oldPath !== null ? [fp.oldPath] : [])));
}

/**
 * The paths a patch's file patches write (what a change, a creation, a rename or a copy leaves
 * there). One that is also removed by another of them (two files swapped by renames, A to B
 * and B to A; a deletion and a rename onto the same name) keeps what is written: git apply
 * removes every old file before it writes the new ones.
 */
export function namesWritten(files: readonly FilePatch[]): Set<string> {
  return new Set(files.flatMap((fp) => (fp.kind === "delete" ? [] : [fp.newPath ?? fp.oldPath!])));
}

/**
 * Whether a file patch reads its source as it was before the patch (see namesWritten): a rename's
 * or a copy's, and a deletion's of a name another file patch writes. `written`: namesWritten of
 * the patch's file patches.
 */
export function readsBeforePatch(fp: FilePatch, written: ReadonlySet<string>): boolean {
  return fp.kind === "copy" || fp.kind === "rename" || (fp.kind === "delete" && fp.oldPath !== null && written.has(fp.oldPath));
}

export function bestName(candidates: string[], exists: (path: string) => boolean): string {
  const present = candidates.filter(exists);
  const pool = present.length ? present : candidates;
  const key = (p: string) => [p.split("/").length, p.slice(p.lastIndexOf("/") + 1).length, p.length];
  let best = pool[0];
  for (const p of pool.slice(1)) {
    const [a, b] = [key(p), key(best)];
    if (a[0] < b[0] || (a[0] === b[0] && (a[1] < b[1] || (a[1] === b[1] && a[2] < b[2])))) best = p;
  }
  return best;
}

function parseHunk(lines: string[], at: number): [Hunk, number] {
  const m = HUNK_RE.exec(eol(lines[at]));
  if (!m)
    throw new PqError("bad-patch", `malformed hunk header at line ${at + 1} of the patch: ${JSON.stringify(eol(lines[at]).slice(0, 60))}`);
  const hunk: Hunk = {
    oldStart: Number(m[1]),
    oldLines: m[2] === undefined ? 1 : Number(m[2]),
    newStart: Number(m[3]),
    newLines: m[4] === undefined ? 1 : Number(m[4]),
    section: m[5] ?? "",
    lines: [],
  };
  let oldLeft = hunk.oldLines;
  let newLeft = hunk.newLines;
  let i = at + 1;
  while (oldLeft > 0 || newLeft > 0) {
    if (i >= lines.length)
      throw new PqError(
        "bad-patch",
        `the hunk at line ${at + 1} of the patch ends early (${oldLeft} old and ${newLeft} new lines missing)`,
        ["the patch is truncated"],
      );
    const line = lines[i];
    const op = line[0];
    let hl: HunkLine;
    if (op === " " || op === "-" || op === "+") hl = { op, text: line.slice(1) };
    // Some mailers and editors strip the space of an empty context line.
    else if (line === "\n" || line === "\r\n") hl = { op: " ", text: line };
    else if (op === "\\") {
      noNewline(hunk, i);
      i++;
      continue;
    } else
      throw new PqError(
        "bad-patch",
        `unexpected line inside the hunk at line ${i + 1} of the patch: ${JSON.stringify(eol(line).slice(0, 60))}`,
        // A merge's marker there is a conflict to resolve, not a count to fix (t146 N8).
        [
          CONFLICT_MARKER.test(eol(line)) || /^={7}( |$)/.test(eol(line))
            ? MARKERS_WAY_OUT
            : "hunk header counts do not match its lines; the patch may have been edited by hand",
        ],
      );
    // The patch's last line cut off in the middle (no newline, no "\ No newline" marker after
    // it): git apply calls it corrupt and GNU patch malformed; applied, its text would be half a line.
    if (!line.endsWith("\n") && !(i + 1 < lines.length && lines[i + 1][0] === "\\")) {
      throw new PqError(
        "bad-patch",
        `the patch ends in the middle of line ${i + 1} (no newline, no "\\ No newline at end of file" marker)`,
        ["the patch is truncated"],
      );
    }
    if (hl.op !== "+") oldLeft--;
    if (hl.op !== "-") newLeft--;
    if (oldLeft < 0 || newLeft < 0)
      throw new PqError("bad-patch", `the hunk at line ${at + 1} of the patch has more lines than its header says`);
    hunk.lines.push(hl);
    i++;
  }
  if (i < lines.length && lines[i][0] === "\\") {
    noNewline(hunk, i);
    i++;
  }
  return [hunk, i];
}

function noNewline(hunk: Hunk, i: number): void {
  const last = hunk.lines.at(-1);
  if (!last) throw new PqError("bad-patch", `"\\ No newline" marker with no line before it at line ${i + 1} of the patch`);
  last.text = last.text.endsWith("\n") ? last.text.slice(0, -1) : last.text;
}
