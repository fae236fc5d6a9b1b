/**
 * Starts the TUI on the real terminal: the alternate screen (the shell's scrollback stays
 * as it was), mouse wheel reports and bracketed paste on, and a clean hand-over of the terminal to $EDITOR.
 */
import React from "react";
import { render } from "ink";
import type { Stack } from "../queue/stack.js";
import { App } from "./app.js";
import { MOUSE_OFF, MOUSE_ON, PASTE_OFF, PASTE_ON } from "./use-terminal.js";

// The TUI's input modes: mouse wheel reports and bracketed paste (pasted text marked as such).
const INPUT_ON = MOUSE_ON + PASTE_ON;
const INPUT_OFF = PASTE_OFF + MOUSE_OFF;
const ALT_ON = "\x1b[?1049h\x1b[2J\x1b[H";
const ALT_OFF = "\x1b[?1049l";
const CURSOR_SHOW = "\x1b[?25h";
const CURSOR_HIDE = "\x1b[?25l";

export async function runTui(stack: Stack, startMessage: string | null = null): Promise<void> {
  const { stdin, stdout } = process;
  const restore = () => stdout.write(INPUT_OFF + ALT_OFF + CURSOR_SHOW);
  stdout.write(ALT_ON + INPUT_ON);
  process.once("exit", restore);

  // The editor gets a cooked terminal and the normal screen; the TUI redraws from a clean
  // alternate screen afterwards (the next frame repaints everything from the top).
  const suspend = <T,>(fn: () => T): T => {
    stdout.write(INPUT_OFF + ALT_OFF + CURSOR_SHOW);
    if (stdin.isTTY) stdin.setRawMode(false);
    try {
      return fn();
    } finally {
      if (stdin.isTTY) stdin.setRawMode(true);
      stdout.write(ALT_ON + INPUT_ON + CURSOR_HIDE);
    }
  };

  const app = render(<App stack={stack} suspend={suspend} startMessage={startMessage} />, { exitOnCtrlC: false, maxFps: 60 });
  // Killed (kill, a closed terminal): the shell gets its screen back, without mouse reports,
  // and the exit status a shell expects for the signal. A stack operation under way is
  // completed or rolled back by the next pq command, from its journal.
  const onSignal = (signal: NodeJS.Signals) => {
    app.unmount();
    restore();
    process.exit(128 + (signal === "SIGHUP" ? 1 : signal === "SIGINT" ? 2 : 15));
  };
  const signals: NodeJS.Signals[] = ["SIGTERM", "SIGHUP", "SIGINT"];
  for (const signal of signals) process.once(signal, onSignal);
  try {
    await app.waitUntilExit();
  } finally {
    restore();
    process.off("exit", restore);
    for (const signal of signals) process.off(signal, onSignal);
  }
}
