/**
 * The end of a log (a serial console, a compiler's output, a --run command's output) as
 * people want it under an error: the last lines, carriage returns gone, optionally
 * indented as a quoted block.
 */
export function logTail(log: string, lines = 40): string {
  return log.replace(/\r/g, "").trimEnd().split("\n").slice(-lines).join("\n");
}

export function quotedLog(log: string, lines = 40): string {
  return logTail(log, lines)
    .split("\n")
    .map((l) => `    | ${l}`)
    .join("\n");
}
