/**
 * The comment character of a message given to an editor, as git's core.commentChar=auto picks
 * it: `#` unless a line of the message starts with it, then the first of `;@!$%^&|:` none
 * starts with. With `#` always, a message's own `#include`, `#define` or `#123` lines were
 * dropped when the editor saved it, even unchanged (t54 N4).
 */
const CANDIDATES = ["#", ";", "@", "!", "$", "%", "^", "&", "|", ":"];

export function commentCharFor(message: string): string | null {
  const starts = new Set(message.split("\n").map((line) => line[0]));
  // Every one taken (t57 N3): no comment lines at all, so none of the message's is dropped.
  return CANDIDATES.find((c) => !starts.has(c)) ?? null;
}

/** The editor's template line (`comment` the character, null for none), with its newline, or "". */
export function commentLine(comment: string | null, text: string): string {
  return comment === null ? "" : `${comment} ${text}\n`;
}

/** The text with the lines that start with `char` (the editor template's comments) left out; null: none are. */
export function withoutCommentLines(text: string, char: string | null): string {
  if (char === null) return text.replace(/\n$/, "");
  return text
    .split("\n")
    .filter((line) => !line.startsWith(char))
    .join("\n");
}
