/**
 * The comment character of a message given to an editor, as git's core.commentChar=auto picks
 * it: `#` unless a line of the message starts with it, then the first of `;@!$%^&|:` none
 * starts with. With `#` always, a message's own `#include`, `#define` or `#123` lines were
 * dropped when the editor saved it, even unchanged (t54 N4).
 */
const CANDIDATES = ["#", ";", "@", "!", "$", "%", "^", "&", "|", ":"];

export function commentCharFor(message: string): string {
  const starts = new Set(message.split("\n").map((line) => line[0]));
  return CANDIDATES.find((c) => !starts.has(c)) ?? "#";
}

/** The text with the lines that start with `char` (the editor template's comments) left out. */
export function withoutCommentLines(text: string, char: string): string {
  return text
    .split("\n")
    .filter((line) => !line.startsWith(char))
    .join("\n");
}
