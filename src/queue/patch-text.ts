/**
 * A patch file is a header (mail headers and description) followed by its diff. These
 * helpers split and join the two without touching either's bytes.
 */
import { PqError } from "../errors.js";
import { endsDescription, parseHeader, rewriteHeader, trimBody } from "../mail/header.js";
import { startsDiff } from "../patch/parse.js";

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
  const lineEnd = (at: number) => {
    const nl = text.indexOf("\n", at);
    return nl === -1 ? text.length : nl;
  };
  const re = /^(?:diff -|Index: |--- |\*\*\* |Binary files )/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const end = lineEnd(m.index);
    const next = end < text.length ? text.slice(end + 1, lineEnd(end + 1)) : "";
    if (startsDiff(text.slice(m.index, end), next)) return m.index;
  }
  return -1;
}

export function joinHeaderAndDiff(header: string, diff: string): string {
  if (!header) return diff;
  const h = header.endsWith("\n") ? header : header + "\n";
  if (!diff) return h;
  // A CRLF header (a mail saved on Windows) gets its blank line in CRLF too.
  return /(\n\r?\n|---\r?\n)$/.test(h) ? h + diff : h + (h.endsWith("\r\n") ? "\r\n" : "\n") + diff;
}

/**
 * A mail header's diffstat (after the "---" line) is stale once the diff changes. Only a
 * diffstat goes: text after a "---" that is not one (a quilt or DEP-3 header's notes, which
 * quilt refresh keeps) stays.
 */
/**
 * A patch text pq writes anew (rewritten for new context, merged, given a new message, folded)
 * is no longer the commit uncommit made it from: its X-Committer: line goes, so that finish
 * commits it as the user, as git rebase and git commit --amend make you the committer (stack-6 #12).
 */
export function dropCommitter(header: string): string {
  return header.replace(/^X-Committer: .*\n/m, "");
}

export function dropDiffstat(header: string): string {
  const m = /^---[ \t]*\r?\n/m.exec(header);
  if (!m) return header;
  const after = header.slice(m.index + m[0].length);
  const statLine = (l: string) =>
    !l.trim() || /^ \S.*\|\s+(\d+ ?[+-]*|Bin\b.*)\s*$/.test(l) || /^ \d+ files? changed/.test(l) || /^ (create|delete|rename|mode change) /.test(l);
  const lines = after.split(/(?<=\n)/);
  // Only blank lines after the "---" (a DEP-3 header's separator with a blank line under it) are no diffstat: they stay, as quilt keeps them (t98 N1).
  if (!after.trim()) return header;
  if (lines.every((l) => statLine(l.replace(/\r?\n$/, "")))) return header.slice(0, m.index + m[0].length);
  // Notes, then git's diffstat under them (format-patch with notes after ---): the diffstat alone
  // goes, from the blank line above it; the notes stay (t44 N9: it went stale and into every export).
  let start = lines.length;
  while (start > 0 && statLine(lines[start - 1].replace(/\r?\n$/, ""))) start--;
  const stat = lines.slice(start);
  if (!stat.some((l) => /^ \d+ files? changed/.test(l))) return header;
  // b4's form: the notes end at a second "---" line with the diffstat under it; the line goes
  // with the diffstat (t71 N5: finish committed both, and uncommit refused the commit).
  if (start > 1 && /^---[ \t]*\r?\n$/.test(lines[start - 1])) return header.slice(0, m.index + m[0].length) + lines.slice(0, start - 1).join("");
  if (start === 0 || lines[start].trim()) return header;
  return header.slice(0, m.index + m[0].length) + lines.slice(0, start).join("") + lines[start];
}

export function splitMessage(message: string): { subject: string; body: string } {
  const [subject, ...rest] = message.split("\n");
  return { subject: subject.trim(), body: trimBody(rest.join("\n")) };
}

export function replaceMessage(header: string, message: string): string {
  return rewriteHeader(header, { ...parseHeader(header), ...splitMessage(message) });
}

/**
 * A description is written above the diff, and pq, git am and patch(1) all take the first
 * line that starts a diff as the start of the diff: a message quoting one (`diff --git`, or
 * `---` then `+++`) would have its quote applied as code, and a `---` line ends the message
 * (what follows is taken for a diffstat and dropped at the next refresh). Such a message is
 * refused, with the line, rather than written.
 */
export function refuseDiffInMessage(
  message: string,
  where = "the message",
  /** Not a message but a whole header (what $EDITOR gave back: its From: and Date: are its own): the message parsed from it is checked for these. */
  wholeHeader = false,
): void {
  const lines = message.split("\n");
  // git am takes a From:, Subject: or Date: line at the start of a mail's body for the mail's own
  // header: exported, the message changed the patch's author, subject or date (t71 N3). In a
  // whole header, the message's subject is the Subject: field (or the first line after the
  // fields), and its lines are counted as the user sees them in the editor (t74 N5).
  let subjectAt = 0;
  if (wholeHeader) {
    let fieldsEnd = 0;
    while (fieldsEnd < lines.length && /^([\w-]+:|[ \t]\S)/.test(lines[fieldsEnd])) fieldsEnd++;
    const named = lines.slice(0, fieldsEnd).some((l) => /^(subject|description):/i.test(l));
    subjectAt = named ? fieldsEnd - 1 : fieldsEnd;
    while (!named && subjectAt < lines.length && !lines[subjectAt].trim()) subjectAt++;
  }
  let first = subjectAt + 1;
  while (first < lines.length && !lines[first].trim()) first++;
  // "[PATCH] text" there is git am's in-body Subject: too (t74 N4).
  const field = /^(from|subject|date):|^\[PATCH\](?=\s)/i.exec(lines[first] ?? "");
  const name = field?.[1] ?? "Subject";
  if (field)
    throw new PqError(
      "usage",
      `line ${first + 1} of ${where} ("${lines[first].slice(0, 40)}") starts the body, where git am reads it as the mail's own ${name}: header: exported, the patch's ${name.toLowerCase() === "from" ? "author" : name.toLowerCase()} would change`,
      ["indent that line, or put a line of text before it, then run the command again"],
      { line: first + 1 },
    );
  const at = lines.findIndex((line, i) => startsDiff(line, lines[i + 1] ?? "") || endsDescription(line));
  if (at === -1) return;
  const line = lines[at].replace(/\r$/, "");
  throw new PqError(
    "usage",
    endsDescription(lines[at]) && !startsDiff(lines[at], lines[at + 1] ?? "")
      ? line === "---"
        ? `line ${at + 1} of ${where} is "---", which ends a patch's description (git am cuts there too): what follows would be lost`
        : `line ${at + 1} of ${where} ("${line.slice(0, 40)}") ends a patch's description as git am reads it ("---" and a word, or "---" and spaces): what follows would be lost`
      : `line ${at + 1} of ${where} ("${line.slice(0, 40)}") would be read as the start of the patch's diff and applied as code`,
    ["indent that line (a leading space keeps it as text), then run the command again"],
    { line: at + 1 },
  );
}

/** Does a patch add conflict-marker lines (a merge's result written with its markers)? */
export function addsConflictMarkers(text: string): boolean {
  return /^\+(<<<<<<<|>>>>>>>) /m.test(text);
}

/**
 * The subject of a patch with none (a plain diff, quilt's): its name without .patch or .diff,
 * the same in the mail pq export writes and the commit pq finish makes (t122 N4: the mail said
 * "n4", the commit "n4.patch", and an empty Subject: line made git am take the body's first line).
 */
export function subjectOrName(subject: string | undefined, name: string): string {
  return subject?.trim() ? subject : name.replace(/\.(patch|diff)$/, "");
}
