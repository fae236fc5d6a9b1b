/**
 * Context diffs (`diff -c`), read as GNU patch (and so quilt) reads them: each file's
 * section is rewritten as the unified diff it stands for, which the unified parser then
 * reads. Old patch sets and some distribution queues still carry them.
 *
 * A context hunk lists the old lines ("  " same, "- " removed, "! " changed) under
 * `*** a,b ****` and the new ones ("  ", "+ ", "! ") under `--- c,d ----`; a side with no
 * change of its own is left out and is its context lines. A single number is a one-line
 * range, or, with no lines, the line after which the change goes (unified's `-a,0`).
 */
import { PqError } from "../errors.js";

/** A context diff's file header and first hunk: "*** old", "--- new", the row of stars, "*** 9,15 ****". */
const CONTEXT_DIFF = /^\*\*\* [^\n]*\n--- [^\n]*\n\*{15}[^\n]*\n\*\*\* \d+(?:,\d+)? \*\*\*\*\r?$/m;

export function isContextDiff(text: string): boolean {
  // The row of stars first: one plain search, where the multi-line expression tried every line
  // of every patch (4 ms of a cold push of 1000 unified diffs).
  return text.includes("***************") && CONTEXT_DIFF.test(text);
}

const STARS = /^\*{15}(.*?)\r?\n?$/;
const OLD_RANGE = /^\*\*\* (\d+)(?:,(\d+))? \*\*\*\*\r?\n?$/;
const NEW_RANGE = /^--- (\d+)(?:,(\d+))? ----\r?\n?$/;
const NO_NEWLINE = "\\";

interface Line {
  tag: " " | "-" | "+" | "!";
  text: string;
  /** The "\ No newline at end of file" line that followed it. */
  noNewline?: string;
}

function splitKeepingNewlines(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  return lines.at(-1) === "" ? lines.slice(0, -1) : lines;
}

/** The tag of a section line, or null when the line is not one of the section's. */
function tagOf(line: string, allowed: string): Line["tag"] | null {
  // An empty context line whose two spaces a mailer or an editor stripped.
  if (line === "\n" || line === "\r\n" || line === " \n" || line === " \r\n") return " ";
  const tag = line[0];
  if (!allowed.includes(tag) || (line[1] !== " " && line[1] !== "\t")) return null;
  return tag as Line["tag"];
}

function readSection(
  lines: string[],
  at: number,
  allowed: string,
  stop: (line: string) => boolean,
  max: number,
): { section: Line[]; next: number } {
  const section: Line[] = [];
  let i = at;
  while (i < lines.length && section.length < max && !stop(lines[i])) {
    const line = lines[i];
    if (line.startsWith(NO_NEWLINE) && section.length) {
      section[section.length - 1].noNewline = line;
      i++;
      continue;
    }
    const tag = tagOf(line, allowed);
    if (tag === null) break;
    const text = /^ ?\r?\n$/.test(line) ? line.replace(/^ /, "") : line.slice(2);
    section.push({ tag, text });
    i++;
  }
  // A marker after the section's last line.
  if (i < lines.length && lines[i].startsWith(NO_NEWLINE) && section.length) section[section.length - 1].noNewline = lines[i++];
  return { section, next: i };
}

const rangeCount = (start: number, end: string | undefined): number => (end === undefined ? 1 : Number(end) - start + 1);

/** One hunk, from its row of stars; returns the unified lines and where the next thing starts. */
function convertHunk(lines: string[], at: number): { out: string[]; next: number } {
  const where = `line ${at + 1}`;
  const bad = (why: string): never => {
    throw new PqError("bad-patch", `the context diff hunk at ${where} is malformed: ${why}`, [
      "make the patch again with diff -u (or convert it: filterdiff --format=unified)",
    ]);
  };
  const heading = STARS.exec(lines[at])![1];
  const oldRange = OLD_RANGE.exec(lines[at + 1] ?? "");
  if (!oldRange) bad("no *** a,b **** line after the stars");
  const oldStart = Number(oldRange![1]);
  const oldMax = rangeCount(oldStart, oldRange![2]);
  const old = readSection(lines, at + 2, " -!", (l) => NEW_RANGE.test(l), oldMax);
  const newRange = NEW_RANGE.exec(lines[old.next] ?? "");
  if (!newRange) bad("no --- c,d ---- line after the old lines");
  const newStart = Number(newRange![1]);
  const fresh = readSection(lines, old.next + 1, " +!", (l) => STARS.test(l), rangeCount(newStart, newRange![2]));
  // A side left out is its context lines, which the other side lists.
  const oldLines = old.section.length ? old.section : fresh.section.filter((l) => l.tag === " ");
  const newLines = fresh.section.length ? fresh.section : old.section.filter((l) => l.tag === " ");
  const body: string[] = [];
  const emit = (prefix: string, l: Line) => {
    body.push(prefix + l.text);
    if (l.noNewline) body.push(l.noNewline);
  };
  let i = 0;
  let j = 0;
  let oldCount = 0;
  let newCount = 0;
  while (i < oldLines.length || j < newLines.length) {
    const o = oldLines[i];
    const n = newLines[j];
    if (o?.tag === "-") {
      emit("-", o);
      i++;
      oldCount++;
    } else if (n?.tag === "+") {
      emit("+", n);
      j++;
      newCount++;
    } else if (o?.tag === "!" && n?.tag === "!") {
      for (; oldLines[i]?.tag === "!"; i++, oldCount++) emit("-", oldLines[i]);
      for (; newLines[j]?.tag === "!"; j++, newCount++) emit("+", newLines[j]);
    } else if (o?.tag === " " && n?.tag === " ") {
      if (o.text !== n.text) bad(`the context line ${JSON.stringify(o.text.trimEnd())} differs between the old and the new lines`);
      emit(" ", o);
      i++;
      j++;
      oldCount++;
      newCount++;
    } else {
      bad("the old and the new lines do not pair up");
    }
  }
  if (oldRange![2] !== undefined && oldCount !== oldMax)
    bad(`*** ${oldRange![1]},${oldRange![2]} **** announces ${oldMax} old lines, ${oldCount} are there`);
  // Unified ranges start where context ones do, also with no lines (the line the change goes after: "-a,0").
  const range = (start: number, count: number) => `${start}${count === 1 ? "" : `,${count}`}`;
  const out = [`@@ -${range(oldStart, oldCount)} +${range(newStart, newCount)} @@${heading ? ` ${heading.trim()}` : ""}\n`, ...body];
  return { out, next: fresh.next };
}

/** The text with every context-diff file section rewritten as a unified one; everything else as it was. */
export function contextToUnified(text: string): string {
  const lines = splitKeepingNewlines(text);
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const isFile =
      line.startsWith("*** ") && lines[i + 1]?.startsWith("--- ") && STARS.test(lines[i + 2] ?? "") && OLD_RANGE.test(lines[i + 3] ?? "");
    if (!isFile) {
      out.push(line);
      i++;
      continue;
    }
    out.push(`--- ${line.slice(4)}`, `+++ ${lines[i + 1].slice(4)}`);
    i += 2;
    while (i < lines.length && STARS.test(lines[i]) && OLD_RANGE.test(lines[i + 1] ?? "")) {
      const hunk = convertHunk(lines, i);
      out.push(...hunk.out);
      i = hunk.next;
    }
  }
  return out.join("");
}
