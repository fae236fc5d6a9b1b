/**
 * The end of a log (a serial console, a compiler's output, a --run command's output) as
 * people want it under an error: the last lines, carriage returns gone, optionally
 * indented as a quoted block.
 */
export function logTail(log: string, lines = 40): string {
  return visible(log.replace(/\r/g, "").trimEnd()).split("\n").slice(-lines).join("\n");
}

/**
 * Control characters (a kernel's console can print any byte) shown as \xNN, so that an
 * escape sequence in a log cannot recolour or rewrite the user's terminal. Tabs stay.
 */
export function visible(text: string): string {
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** The tail as a quoted block; a log with nothing in it says so instead of quoting one empty line. */
export function quotedLog(log: string, lines = 40): string {
  const tail = logTail(log, lines);
  if (tail.trim() === "") return "    (no output)";
  return tail
    .split("\n")
    .map((l) => `    | ${l}`)
    .join("\n");
}
