/**
 * Terminal cells: a name of CJK characters or emoji takes two columns per character, a
 * combining mark none. The TUI and the text reports (ci's matrix) measure and pad by cells,
 * not by UTF-16 units, so such names keep their columns.
 */
/** Terminal cells a character takes: two for East Asian wide ones and emoji, none for combining marks. */
export function cellsOf(cp: number): number {
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
 * terminals also obey, show as "?". A soft hyphen shows as "-": terminals give it a cell,
 * where ink's measure gives it none, and a line holding one overflowed its row (t54 N2). Tabs
 * stay: expandTabs makes them spaces where a line is shown whole (the preview).
 */
export function printable(text: string): string {
  const shown = text.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f\xad]/g, (c) => (c === "\xad" ? "-" : caret(c)));
  return /[\u115f\u1160\u200b-\u200f\u202a-\u202e\u2060-\u2069\u3164\ufe0e\ufe0f\ufeff\uffa0\ud83c\udb40]/.test(shown)
    ? unambiguous(shown)
    : shown;
}

/**
 * Characters whose width terminals, ink's measure and pq's disagree on, made ones all agree on
 * (t73 N1: a subject of regional-indicator letters that form no flag made its row wider than
 * the terminal, and the screen scrolled): a regional indicator symbol shows as its letter, an
 * emoji or text presentation selector, a skin-tone modifier, tag characters and zero-width
 * characters as nothing, and Hangul fillers (blank, of widths that differ) and the marks that
 * reorder text on screen (bidi embeddings and isolates) as "?" (t74 N2: a thumbs-up with a
 * skin tone still overflowed a row).
 */
function unambiguous(text: string): string {
  return text
    .replace(/\ud83c[\udde6-\uddff]/g, (c) => String.fromCharCode(0x41 + c.charCodeAt(1) - 0xdde6))
    .replace(/\ud83c[\udffb-\udfff]|\udb40[\udc20-\udc7f]/g, "")
    .replace(/[\u115f\u1160\u202a-\u202e\u2066-\u2069\u3164\uffa0]/g, "?")
    .replace(/[\u200b-\u200f\u2060-\u2065\ufe0e\ufe0f\ufeff]/g, "");
}

/** A control character as less shows it (^M, ^[, ^? for DEL); a C1 control as "?". */
const caret = (c: string) => (c === "\x7f" ? "^?" : c > "\x7f" ? "?" : `^${String.fromCharCode(c.charCodeAt(0) + 64)}`);

/**
 * Command output bound for a terminal, lines kept: control characters in caret notation as in
 * printable, but tabs, line ends and CR LF pairs stay as they are. A commit message, a patch's
 * header or a hunk a colleague pushed reaches a reviewer's terminal through pq log, header,
 * show or range-diff: an escape sequence there cleared the screen, retitled the terminal or
 * hid a line, and a lone carriage return wrote a line over another (t60 N3). `bytes`: the text
 * is bytes, one character each (patch text): bytes 0x80-0x9f are then parts of UTF-8 characters.
 */
export function terminalText(text: string, bytes = false): string {
  return text.replace(bytes ? /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)/g : /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)/g, caret);
}

/**
 * Tabs as the spaces a terminal would show, to the next multiple of 8 cells: a tab written
 * raw moves the cursor past what the line's width was measured as, and a kernel patch's
 * tab-indented line wrapped and scrolled the screen (t54 N2).
 */
export function expandTabs(text: string): string {
  if (!text.includes("\t")) return text;
  let out = "";
  let used = 0;
  for (const ch of text) {
    if (ch === "\t") {
      const pad = 8 - (used % 8);
      out += " ".repeat(pad);
      used += pad;
    } else {
      out += ch;
      used += cellsOf(ch.codePointAt(0)!);
    }
  }
  return out;
}

/** Text cut to at most `width` cells, ending in "…" when cut (not padded, unlike the TUI's fit). */
export function cutCells(text: string, width: number): string {
  if (cellWidth(text) <= width) return text;
  let out = "";
  let used = 0;
  for (const ch of text) {
    const w = cellsOf(ch.codePointAt(0)!);
    if (used + w > width - 1) break;
    out += ch;
    used += w;
  }
  return width > 0 ? `${out}…` : "";
}

/** How many terminal cells a text takes (a wide character two, a combining mark none). */
export function cellWidth(text: string): number {
  let used = 0;
  for (const ch of text) used += cellsOf(ch.codePointAt(0)!);
  return used;
}

/** `text` padded with spaces to `width` cells (as padEnd does by UTF-16 units). */
export function padCells(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - cellWidth(text)));
}
