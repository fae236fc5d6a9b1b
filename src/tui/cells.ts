/**
 * Terminal cells: a name of CJK characters or emoji takes two columns per character, a
 * combining mark none. The series list and the title line measure and cut by cells, not by
 * UTF-16 units, so such names are neither cut short nor let run past the line.
 */
import { cellsOf, cellWidth, cutCells, expandTabs, padCells, printable } from "../core/cells.js";

export { cellWidth, cutCells, expandTabs, printable };

/** Text cut or padded to `width` terminal cells (a wide character counts two). */
export function fit(text: string, width: number): string {
  if (width <= 0) return "";
  return padCells(cutCells(printable(text.replace(/\t/g, " ")), width), width);
}

/**
 * Text broken into lines of at most `width` cells: at spaces where it can be, inside a word
 * only when the word alone is wider than a line. `indent` starts every line after the first.
 */
export function wrapCells(text: string, width: number, indent = ""): string[] {
  text = printable(text.replace(/\t/g, " "));
  const lines: string[] = [];
  let line = "";
  let used = 0;
  const indentWidth = cellWidth(indent);
  const room = Math.max(1, width);
  const newLine = () => {
    lines.push(line.replace(/ +$/, ""));
    line = indent;
    used = indentWidth;
  };
  for (const word of text.split(/(?<= )/)) {
    const w = cellWidth(word.replace(/ +$/, ""));
    if (used + w > room && used > indentWidth) newLine();
    for (const ch of word) {
      const cw = cellsOf(ch.codePointAt(0)!);
      if (used + cw > room && used > indentWidth) {
        if (ch === " ") continue;
        newLine();
      }
      line += ch;
      used += cw;
    }
  }
  if (line.trim() || !lines.length) lines.push(line.replace(/ +$/, ""));
  return lines;
}
