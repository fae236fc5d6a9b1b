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
  const m = /^(diff --git |--- |Index: )/m.exec(text);
  if (!m) return -1;
  // "--- " only starts a diff when a "+++ " line follows it.
  if (m[1] === "--- ") {
    const rest = text.slice(m.index);
    const nl = rest.indexOf("\n");
    if (!rest.slice(nl + 1).startsWith("+++ ")) {
      const later = firstDiffOffset(rest.slice(nl + 1));
      return later === -1 ? -1 : m.index + nl + 1 + later;
    }
  }
  return m.index;
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
