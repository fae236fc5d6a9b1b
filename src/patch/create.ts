/**
 * Writes one file's change as a `diff --git` section that both `git apply` and
 * `patch -p1` accept: git's extended headers (modes, new/deleted file, rename, index with
 * real blob ids so a later three-way merge can find the base), 3 lines of context.
 */
import { createHash } from "../core/sha1.js";
import { diffArrays } from "diff";
import { formatBinaryPatch, isBinaryContent } from "./binary.js";
import { formatHunk } from "./apply.js";
import { parsePatch, splitLines } from "./parse.js";
import { quotePath } from "./paths.js";
import type { FilePatch, Hunk, HunkLine } from "./types.js";

/** The id git gives a blob with this content. */
export function gitBlobId(content: string | null): string {
  if (content === null) return "0".repeat(40);
  return createHash("sha1").update(`blob ${content.length}\0`, "latin1").update(content, "latin1").digest("hex");
}

/** A ---/+++ line's name: git ends it with a TAB when it holds a space, so patch(1) reads it whole. */
const headerName = (prefix: string, path: string) => quotePath(path, prefix) + (path.includes(" ") ? "\t" : "");

/**
 * git's default hunk heading: the nearest line above the hunk's first one that starts with a
 * letter, '_' or '$' (xdiff's default function-name rule), cut at 80 bytes, trailing blanks
 * dropped. Written as git writes it, a refreshed patch keeps the headings a git-made one had.
 */
function hunkHeading(lines: string[], firstLine: number): string {
  for (let k = firstLine - 2; k >= 0; k--) {
    if (/^[A-Za-z_$]/.test(lines[k]))
      return lines[k]
        .replace(/\r?\n$/, "")
        .slice(0, 80)
        .replace(/\s+$/, "");
  }
  return "";
}

/**
 * Regions up to this many lines on both sides together are diffed by Myers' algorithm (as git
 * diffs by default), whose cost grows with the lines times the edits: a region of 100,000
 * lines changed every other line took more than ten minutes (t94 N1). Larger regions are first
 * cut at lines that occur once on each side, in order (patience diff's anchors), and each piece
 * is diffed alone.
 */
const MYERS_LINES = 4000;

/** The most lines-times-edits Myers' algorithm is given for one region (~a second's work here) before the coarse edit. */
const MYERS_WORK = 40_000_000;

/** The edit of a[aLo..aHi) into b[bLo..bHi) as hunk lines, appended to `out`. */
function diffRegion(a: string[], aLo: number, aHi: number, b: string[], bLo: number, bHi: number, out: HunkLine[]): void {
  while (aLo < aHi && bLo < bHi && a[aLo] === b[bLo]) (out.push({ op: " ", text: a[aLo++] }), bLo++);
  const after: HunkLine[] = [];
  while (aHi > aLo && bHi > bLo && a[aHi - 1] === b[bHi - 1]) (after.push({ op: " ", text: a[--aHi] }), bHi--);
  const anchors = aHi - aLo + (bHi - bLo) > MYERS_LINES ? uniqueAnchors(a, aLo, aHi, b, bLo, bHi) : [];
  if (anchors.length) {
    for (const [ai, bi] of anchors) {
      diffRegion(a, aLo, ai, b, bLo, bi, out);
      out.push({ op: " ", text: a[ai] });
      aLo = ai + 1;
      bLo = bi + 1;
    }
    diffRegion(a, aLo, aHi, b, bLo, bHi, out);
  } else {
    // Myers' work grows with the lines times the edits: bounded, so that a region with no line to cut
    // at (every line changed, as a CRLF conversion; repeated lines) cannot take minutes (t95 N1).
    const lines = aHi - aLo + (bHi - bLo);
    const changes = diffArrays(a.slice(aLo, aHi), b.slice(bLo, bHi), {
      maxEditLength: Math.max(64, Math.floor(MYERS_WORK / Math.max(1, lines))),
    });
    if (changes) for (const c of changes) for (const text of c.value) out.push({ op: c.added ? "+" : c.removed ? "-" : " ", text });
    else {
      // Past the bound: all out and all in, a correct if coarse edit.
      for (let k = aLo; k < aHi; k++) out.push({ op: "-", text: a[k] });
      for (let k = bLo; k < bHi; k++) out.push({ op: "+", text: b[k] });
    }
  }
  for (let k = after.length - 1; k >= 0; k--) out.push(after[k]);
}

/**
 * Lines that occur exactly once in a[aLo..aHi) and once in b[bLo..bHi), as [aIndex, bIndex]
 * pairs, the longest run of them in the same order on both sides (patience sorting).
 */
function uniqueAnchors(a: string[], aLo: number, aHi: number, b: string[], bLo: number, bHi: number): [number, number][] {
  const inA = new Map<string, number>();
  for (let k = aLo; k < aHi; k++) inA.set(a[k], inA.has(a[k]) ? -1 : k);
  const inB = new Map<string, number>();
  for (let k = bLo; k < bHi; k++) if (inA.has(b[k]) && inA.get(b[k])! >= 0) inB.set(b[k], inB.has(b[k]) ? -1 : k);
  const pairs: [number, number][] = [];
  for (let k = aLo; k < aHi; k++) {
    const bi = inA.get(a[k]) === k ? inB.get(a[k]) : undefined;
    if (bi !== undefined && bi >= 0) pairs.push([k, bi]);
  }
  // The longest increasing run of b indexes, in a's order: tails[i] ends the best run of length i+1.
  const tails: number[] = [];
  const back: number[] = new Array(pairs.length).fill(-1);
  for (let i = 0; i < pairs.length; i++) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pairs[tails[mid]][1] < pairs[i][1]) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) back[i] = tails[lo - 1];
    tails[lo] = i;
  }
  const run: [number, number][] = [];
  for (let i = tails.length ? tails[tails.length - 1] : -1; i !== -1; i = back[i]) run.push(pairs[i]);
  return run.reverse();
}

/** Line hunks between two texts (unified diff with `context` lines). */
export function diffHunks(oldText: string, newText: string, context = 3): Hunk[] {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  // Trim the common head and tail first: diffs of big files with small changes stay cheap.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const ops: HunkLine[] = [];
  for (let k = 0; k < head; k++) ops.push({ op: " ", text: a[k] });
  diffRegion(a, head, a.length - tail, b, head, b.length - tail, ops);
  for (let k = a.length - tail; k < a.length; k++) ops.push({ op: " ", text: a[k] });

  const hunks: Hunk[] = [];
  let i = 0;
  let oldLine = 1;
  let newLine = 1;
  // Positions (in ops) with their old/new line numbers, to cut hunks with context around changes.
  const oldAt: number[] = [];
  const newAt: number[] = [];
  for (const op of ops) {
    oldAt.push(oldLine);
    newAt.push(newLine);
    if (op.op !== "+") oldLine++;
    if (op.op !== "-") newLine++;
  }
  while (i < ops.length) {
    if (ops[i].op === " ") {
      i++;
      continue;
    }
    let start = Math.max(0, i - context);
    // Extend the hunk while the next change is within 2*context lines.
    let end = i;
    for (;;) {
      while (end < ops.length && ops[end].op !== " ") end++;
      let next = end;
      while (next < ops.length && ops[next].op === " ") next++;
      if (next < ops.length && next - end <= 2 * context) {
        end = next;
        continue;
      }
      end = Math.min(ops.length, end + context);
      break;
    }
    const lines = ops.slice(start, end);
    const oldCount = lines.filter((l) => l.op !== "+").length;
    const newCount = lines.filter((l) => l.op !== "-").length;
    hunks.push({
      oldStart: oldCount === 0 ? oldAt[start] - 1 : oldAt[start],
      oldLines: oldCount,
      newStart: newCount === 0 ? newAt[start] - 1 : newAt[start],
      newLines: newCount,
      section: hunkHeading(a, oldAt[start]),
      lines,
    });
    i = end;
    start = end;
  }
  return hunks;
}

export function createFilePatch(a: {
  oldPath: string | null;
  newPath: string | null;
  oldContent: string | null;
  newContent: string | null;
  oldMode?: string;
  newMode?: string;
  context?: number;
  /** Text hunks even where a NUL makes the content binary to git: what the patch carried already (GNU patch and quilt apply those, not git's binary form). */
  asText?: boolean;
}): string {
  const oldPath = a.oldPath ?? a.newPath!;
  const newPath = a.newPath ?? a.oldPath!;
  const oldMode = a.oldMode ?? "100644";
  const newMode = a.newMode ?? "100644";
  let text = `diff --git ${quotePath(oldPath, "a/")} ${quotePath(newPath, "b/")}\n`;
  if (a.oldPath === null) text += `new file mode ${newMode}\n`;
  else if (a.newPath === null) text += `deleted file mode ${oldMode}\n`;
  else if (oldMode !== newMode) text += `old mode ${oldMode}\nnew mode ${newMode}\n`;
  const renamed = a.oldPath !== null && a.newPath !== null && a.oldPath !== a.newPath;
  if (renamed) {
    if (a.oldContent === a.newContent) text += "similarity index 100%\n";
    text += `rename from ${quotePath(oldPath)}\nrename to ${quotePath(newPath)}\n`;
  }
  if (a.oldContent === a.newContent && a.oldPath !== null && a.newPath !== null) return text;
  const modeSuffix = a.oldPath !== null && a.newPath !== null && oldMode === newMode ? ` ${oldMode}` : "";
  // git apply refuses a binary patch "without full index line": binary files get whole ids, as format-patch --binary writes them.
  const binary = !a.asText && (isBinaryContent(a.oldContent) || isBinaryContent(a.newContent));
  const idLength = binary ? 40 : 12;
  text += `index ${gitBlobId(a.oldContent).slice(0, idLength)}..${gitBlobId(a.newContent).slice(0, idLength)}${modeSuffix}\n`;
  if (binary) return text + formatBinaryPatch(a.oldContent, a.newContent);
  const hunks = diffHunks(a.oldContent ?? "", a.newContent ?? "", a.context ?? 3);
  if (!hunks.length) return text;
  text += `--- ${a.oldPath === null ? "/dev/null" : headerName("a/", oldPath)}\n`;
  text += `+++ ${a.newPath === null ? "/dev/null" : headerName("b/", newPath)}\n`;
  for (const h of hunks) text += formatHunk(h);
  return text;
}

/**
 * One file's change between two texts as a parsed file patch, to apply again or take out (a
 * recorded change tested against a file as it is now); undefined when nothing but a mode changed.
 */
export function filePatchBetween(path: string, before: string | null, after: string | null): FilePatch | undefined {
  return parsePatch(
    createFilePatch({
      oldPath: before === null ? null : path,
      newPath: after === null ? null : path,
      oldContent: before,
      newContent: after,
    }),
  ).files[0];
}
