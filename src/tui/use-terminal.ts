/**
 * The terminal's size, following resizes, and the mouse: SGR mouse reporting is turned
 * on while the TUI runs (run.tsx) and wheel events arrive through ink's input as CSI
 * sequences, which `parseMouse` recognises.
 */
import { useEffect, useRef, useState } from "react";
import { useStdin, useStdout, type Key } from "ink";
import { splitChunk } from "./key-chunk.js";

export const MOUSE_ON = "\x1b[?1000h\x1b[?1006h";
export const MOUSE_OFF = "\x1b[?1006l\x1b[?1000l";
/** Bracketed paste: pasted text arrives between ESC[200~ and ESC[201~ (key-chunk.ts). */
export const PASTE_ON = "\x1b[?2004h";
export const PASTE_OFF = "\x1b[?2004l";

export interface Size {
  columns: number;
  rows: number;
}

export function useTerminalSize(fallback: Size = { columns: 100, rows: 30 }): Size {
  const { stdout } = useStdout();
  const read = (): Size => ({ columns: stdout.columns || fallback.columns, rows: stdout.rows || fallback.rows });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on("resize", onResize);
    return () => {
      stdout.off("resize", onResize);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [stdout]);
  return size;
}

export interface MouseEvent {
  wheel: "up" | "down" | null;
  x: number;
  y: number;
}

/** An SGR mouse report as ink passes it on (its leading ESC removed): "[<64;10;5M". */
export function parseMouse(input: string): MouseEvent | null {
  const m = /^\x1b?\[<(\d+);(\d+);(\d+)([Mm])$/.exec(input);
  if (!m) return null;
  const button = Number(m[1]);
  const wheel = button & 64 ? (button & 1 ? "down" : "up") : null;
  return { wheel, x: Number(m[2]), y: Number(m[3]) };
}

/**
 * The keys the terminal sends, each as one (input, key) pair: what ink's useInput gives, read
 * from ink's stream of input events (escape sequences whole, text between them) through
 * splitChunk instead of ink's key parser. That parser threw on a ctrl key it has no name for
 * (Ctrl+F1: a TypeError that ended the TUI with a stack trace, tui-8 T19) and handed any
 * sequence it does not know over as its text without the ESC, so Shift+F1 (ESC [1;2P) ran as
 * `[` and `P`, push all (T20). Here a sequence pq does not use is a key that does nothing.
 */
export function useTerminalInput(handler: (input: string, key: Key) => void): void {
  const { internal_eventEmitter: events, setRawMode, isRawModeSupported } = useStdin();
  useEffect(() => {
    if (!isRawModeSupported) return;
    setRawMode(true);
    return () => setRawMode(false);
  }, [isRawModeSupported, setRawMode]);
  // Inside a terminal's OSC answer (ESC ] ... BEL or ESC \), which ink hands over as "ESC ]"
  // and then its text: none of that text is keys.
  const inString = useRef(false);
  const x10Bytes = useRef(0);
  useEffect(() => {
    const onInput = (data: string) => {
      if (inString.current) {
        const end = /\x07|\x1b\\/.exec(data);
        if (!end) return;
        inString.current = false;
        data = data.slice(end.index + end[0].length);
      }
      if (data === "\x1b]") {
        inString.current = true;
        return;
      }
      // A DCS answer (ESC P ... ESC \, as a terminal answers XTGETTCAP or DECRQSS) comes as one
      // read, which ink hands over in pieces within the same tick: "ESC P", then its text. ESC P
      // is also Alt+Shift+P, typed alone: the string counts only while that read lasts, so a
      // typed one never swallows the keys after it.
      if (data === "\x1bP") {
        inString.current = true;
        setImmediate(() => (inString.current = false));
        return;
      }
      // An X10 mouse report (a terminal without SGR reports): ESC [ M and three bytes, none a key.
      if (data === "\x1b[M") {
        x10Bytes.current = 3;
        return;
      }
      if (x10Bytes.current) {
        const skip = Math.min(x10Bytes.current, data.length);
        x10Bytes.current -= skip;
        data = data.slice(skip);
        if (!data) return;
      }
      for (const [input, key] of splitChunk(data)) handler(input, key);
    };
    events.on("input", onInput);
    return () => {
      events.removeListener("input", onInput);
    };
  }, [events, handler]);
}
