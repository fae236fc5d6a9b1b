/**
 * The terminal's size, following resizes, and the mouse: SGR mouse reporting is turned
 * on while the TUI runs (run.tsx) and wheel events arrive through ink's input as CSI
 * sequences, which `parseMouse` recognises.
 */
import { useEffect, useState } from "react";
import { useStdout } from "ink";

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
