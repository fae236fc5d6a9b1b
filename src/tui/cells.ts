/**
 * Terminal cells: a name of CJK characters or emoji takes two columns per character, a
 * combining mark none. The series list and the title line measure and cut by cells, not by
 * UTF-16 units, so such names are neither cut short nor let run past the line.
 */
/** Terminal cells a character takes: two for East Asian wide ones and emoji, none for combining marks. */
function cellsOf(cp: number): number {
  if ((cp >= 0x300 && cp <= 0x36f) || cp === 0x200d || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  const wide =
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd);
  return wide ? 2 : 1;
}

/**
 * Text as the terminal may show it: control characters in caret notation, as less does (^M,
 * ^H, ^[), since a carriage return, backspaces or an escape sequence in a patch, a subject or
 * an author from someone else would otherwise redraw the screen, hide lines, conceal the rest
 * of a row or retitle the terminal (tui-8 T11). C1 controls (U+0080-U+009F), which some
 * terminals also obey, show as "?". Tabs stay: the preview expands them.
 */
export function printable(text: string): string {
  return text.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/g, (c) =>
    c === "\x7f" ? "^?" : c > "\x7f" ? "?" : `^${String.fromCharCode(c.charCodeAt(0) + 64)}`,
  );
}

/** How many terminal cells a text takes (a wide character two, a combining mark none). */
export function cellWidth(text: string): number {
  let used = 0;
  for (const ch of text) used += cellsOf(ch.codePointAt(0)!);
  return used;
}

/** Text cut or padded to `width` terminal cells (a wide character counts two). */
export function fit(text: string, width: number): string {
  if (width <= 0) return "";
  text = printable(text.replace(/\t/g, " "));
  let used = 0;
  let out = "";
  for (const ch of text) {
    const w = cellsOf(ch.codePointAt(0)!);
    if (used + w > width) {
      // No room for the rest: end with "…" in the last cell.
      let cut = "";
      let cutUsed = 0;
      for (const c of out) {
        const cw = cellsOf(c.codePointAt(0)!);
        if (cutUsed + cw > width - 1) break;
        cut += c;
        cutUsed += cw;
      }
      return cut + "…" + " ".repeat(Math.max(0, width - 1 - cutUsed));
    }
    out += ch;
    used += w;
  }
  return out + " ".repeat(width - used);
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
