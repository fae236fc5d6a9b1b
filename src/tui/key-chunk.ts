/**
 * A terminal delivers keys typed (or sent) quickly together as one read, which ink hands
 * over as one string. This splits such a chunk the way the terminal produced it: escape
 * sequences whole (arrows, page keys, mouse reports), every other character one code point
 * (an emoji is one key, not two halves), so "[[" is two keys and "G[" is G then [.
 */
import type { Key } from "ink";

/** Keys of a chunk, each as ink would have reported it alone. */
export function splitChunk(input: string): [string, Key][] {
  const keys: [string, Key][] = [];
  for (let i = 0; i < input.length;) {
    if (input[i] === "\x1b") {
      let end = i + 1;
      if (input[end] === "[") {
        end++;
        // A CSI sequence: parameter and intermediate bytes, then one final byte.
        while (end < input.length && !(input.charCodeAt(end) >= 0x40 && input.charCodeAt(end) <= 0x7e)) end++;
        end++;
      } else if (input[end] === "O") end += 2;
      else if ("]P_^X".includes(input[end] ?? "")) {
        // A string (OSC, DCS, APC, PM, SOS: a terminal's answer to a query) up to BEL or ESC \:
        // none of its characters is a key.
        const bel = input.indexOf("\x07", end);
        const st = input.indexOf("\x1b\\", end);
        end = bel !== -1 && (st === -1 || bel < st) ? bel + 1 : st !== -1 ? st + 2 : input.length;
      } else end++;
      keys.push(sequenceKey(input.slice(i, Math.min(end, input.length))));
      i = end;
      continue;
    }
    const ch = String.fromCodePoint(input.codePointAt(i)!);
    keys.push(charKey(ch));
    i += ch.length;
  }
  return keys;
}

/** What ink reports for one character. */
export function charKey(ch: string): [string, Key] {
  const code = ch.charCodeAt(0);
  if (ch === "\r" || ch === "\n") return ["", { return: true } as Key];
  if (ch === "\t") return ["", { tab: true } as Key];
  if (ch === "\x7f" || ch === "\b") return ["", { backspace: true } as Key];
  if (code < 0x20) return [String.fromCharCode(code + 96), { ctrl: true } as Key];
  return [ch, {} as Key];
}

const SEQUENCES: Record<string, Partial<Key>> = {
  "[A": { upArrow: true },
  "[B": { downArrow: true },
  "[C": { rightArrow: true },
  "[D": { leftArrow: true },
  "[H": { home: true },
  "[F": { end: true },
  OA: { upArrow: true },
  OB: { downArrow: true },
  OH: { home: true },
  OF: { end: true },
  "[5~": { pageUp: true },
  "[6~": { pageDown: true },
  "[1~": { home: true },
  "[4~": { end: true },
  "[3~": { delete: true },
};

/** An escape sequence as a key: the ones pq uses by name, a mouse report as its text, anything else a key that does nothing. */
function sequenceKey(sequence: string): [string, Key] {
  const body = sequence.slice(1);
  if (body === "") return ["", { escape: true, meta: true } as Key];
  const known = SEQUENCES[body];
  if (known) return ["", known as Key];
  // Bracketed paste's marks, as app.tsx compares them (PASTE_START, PASTE_END).
  if (body === PASTE_START || body === PASTE_END) return [body, {} as Key];
  // Mouse reports are read from their text (parseMouse), as ink passes them.
  if (body.startsWith("[<")) return [body, {} as Key];
  return ["", { meta: true } as Key];
}

/**
 * Bracketed paste (turned on by run.tsx): the terminal marks pasted text with these (given
 * here without their ESC). Only marked text is a paste: a burst of keys
 * (typed ahead while the TUI was busy, or coalesced by ssh or tmux) is keys, Enter included.
 */
export const PASTE_START = "[200~";
export const PASTE_END = "[201~";

/** Pasted text as one line for a prompt: line breaks become spaces, other control characters go. */
export function pastedLine(input: string): string {
  return (
    input
      // Line breaks and tabs are whitespace between words: spaces (a tab had been dropped, gluing them: t57 N11).
      .replace(/\r\n?|\n|\t/g, " ")
      .replace(/[\x00-\x1f\x7f]/g, "")
      .replace(/ +$/, "")
  );
}
