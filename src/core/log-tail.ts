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

export function quotedLog(log: string, lines = 40): string {
  return logTail(log, lines)
    .split("\n")
    .map((l) => `    | ${l}`)
    .join("\n");
}
