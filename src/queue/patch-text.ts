/**
 * A patch file is a header (mail headers and description) followed by its diff. These
 * helpers split and join the two without touching either's bytes.
 */
import { formatHeader, parseHeader } from "../mail/header.js";

/** The part of a patch file before its first diff. */
export function headerOf(text: string): string {
  const at = firstDiffOffset(text);
  return at === -1 ? text : text.slice(0, at);
}

export function diffOf(text: string): string {
  const at = firstDiffOffset(text);
  return at === -1 ? "" : text.slice(at);
}

function firstDiffOffset(text: string): number {
  // A file's diff starts at "diff --git", at hg's "diff -r" line, at "Index:", or at a
  // "--- " line that a "+++ " line follows.
  const re = /^(diff --git |diff -r |--- |Index: )/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[1] !== "--- ") return m.index;
    const nl = text.indexOf("\n", m.index);
    if (nl !== -1 && text.startsWith("+++ ", nl + 1)) return m.index;
  }
  return -1;
}

export function joinHeaderAndDiff(header: string, diff: string): string {
  if (!header) return diff;
  const h = header.endsWith("\n") ? header : header + "\n";
  if (!diff) return h;
  return h.endsWith("\n\n") || h.endsWith("---\n") ? h + diff : h + "\n" + diff;
}

/** A mail header's diffstat (after the "---" line) is stale once the diff changes. */
export function dropDiffstat(header: string): string {
  const m = /^---\r?\n/m.exec(header);
  return m ? header.slice(0, m.index + m[0].length) : header;
}

export function splitMessage(message: string): { subject: string; body: string } {
  const [subject, ...rest] = message.split("\n");
  return { subject: subject.trim(), body: rest.join("\n").trim() };
}

export function replaceMessage(header: string, message: string): string {
  const parsed = parseHeader(header);
  return formatHeader({ ...parsed, ...splitMessage(message) });
}
