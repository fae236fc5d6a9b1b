/**
 * A one-line text prompt inside the TUI (patch names, messages, guards, search). Enter
 * submits, Escape cancels, and the line edits as readline's does (see promptKey). Its keys come through the
 * App's one input handler (`promptKey`), so keys typed right after the one that opened
 * it, even in the same input chunk, land in it.
 */
import React from "react";
import { Text, type Key } from "ink";
import type { Theme } from "./theme.js";
import { cellWidth } from "./cells.js";

export interface PromptSpec {
  label: string;
  onSubmit: (value: string) => void;
  onCancel?: () => void;
  /** A yes/no question: the first key is the answer (submitted at once, as a confirmation reads), Escape cancels. */
  oneKey?: boolean;
}

export interface PromptState {
  spec: PromptSpec;
  value: string;
  /** Where typing goes, in code points from the start; the end when absent. */
  cursor?: number;
}

/** Text typed into the prompt at its cursor (a paste too). */
export function typeInto(state: PromptState, text: string): void {
  const chars = [...state.value];
  const at = Math.min(state.cursor ?? chars.length, chars.length);
  chars.splice(at, 0, ...text);
  state.value = chars.join("");
  state.cursor = at + [...text].length;
}

/**
 * Applies one key to the prompt: "submit", "cancel", or null (still editing). Readline's
 * basics: ←/→, Home/End and ctrl-a/ctrl-e move; Backspace deletes before the cursor; ctrl-u
 * clears, ctrl-w deletes the word before the cursor.
 */
export function promptKey(state: PromptState, input: string, key: Key): "submit" | "cancel" | null {
  if (key.escape) return "cancel";
  if (state.spec.oneKey) {
    state.value = key.return ? "" : input;
    return "submit";
  }
  if (key.return) return "submit";
  const chars = [...state.value];
  const at = Math.min(state.cursor ?? chars.length, chars.length);
  const set = (next: string[], cursor: number) => {
    state.value = next.join("");
    state.cursor = Math.max(0, Math.min(cursor, next.length));
  };
  if (key.leftArrow) state.cursor = Math.max(0, at - 1);
  else if (key.rightArrow) state.cursor = Math.min(chars.length, at + 1);
  else if (key.home || (key.ctrl && input === "a")) state.cursor = 0;
  else if (key.end || (key.ctrl && input === "e")) state.cursor = chars.length;
  // ink reports the Backspace key as delete on many terminals: both delete before the cursor.
  else if (key.backspace || key.delete) set([...chars.slice(0, Math.max(0, at - 1)), ...chars.slice(at)], at - 1);
  else if (key.ctrl && input === "u") set([], 0);
  else if (key.ctrl && input === "w") {
    let start = at;
    while (start > 0 && chars[start - 1] === " ") start--;
    while (start > 0 && chars[start - 1] !== " ") start--;
    set([...chars.slice(0, start), ...chars.slice(at)], start);
  } else if (!key.ctrl && !key.meta && input && !/^\[<\d/.test(input)) typeInto(state, input);
  return null;
}

export function Prompt({ state, theme, width }: { state: PromptState; theme: Theme; width?: number }) {
  const chars = [...state.value];
  const at = Math.min(state.cursor ?? chars.length, chars.length);
  // The character under the cursor shown inverse (a space at the end); the line fitted up to it.
  const after = chars.slice(at + 1).join("");
  // A wide character under the cursor takes two cells, as fitPrompt counts one.
  const { label, value } = fitPrompt(
    state.spec.label,
    chars.slice(0, at).join(""),
    (width ?? Infinity) - cellWidth(after) - (cellWidth(chars[at] ?? " ") - 1),
  );
  return (
    <Text wrap="truncate">
      <Text color={theme.color("cyan")} bold>
        {label}{" "}
      </Text>
      {value}
      <Text inverse>{chars[at] ?? " "}</Text>
      {after}
    </Text>
  );
}

/**
 * What fits a line of `width` terminal cells, the input first: a long label (a 100-character
 * patch name in "rename NAME to:") is cut in its middle, and an input longer than the line shows
 * its end, where typing happens. Counted in cells: a wide (CJK) character takes two, and counted
 * as one, a Japanese message overflowed the row (t57 N12).
 */
export function fitPrompt(label: string, value: string, width: number): { label: string; value: string } {
  const room = width - 2; // the space after the label, the cursor
  if (cellWidth(label) + cellWidth(value) <= room) return { label, value };
  const minLabel = Math.min(cellWidth(label), 12);
  const valueRoom = Math.max(1, room - minLabel);
  const shown = cellWidth(value) > valueRoom ? "…" + lastCells(value, valueRoom - 1) : value;
  const labelRoom = Math.max(minLabel, room - cellWidth(shown));
  if (cellWidth(label) <= labelRoom) return { label, value: shown };
  const head = Math.ceil((labelRoom - 1) / 2);
  const tail = labelRoom - 1 - head;
  return { label: firstCells(label, head) + "…" + (tail > 0 ? lastCells(label, tail) : ""), value: shown };
}

/** The longest start of `text` that takes at most `n` cells. */
function firstCells(text: string, n: number): string {
  let out = "";
  let used = 0;
  for (const ch of text) {
    const w = cellWidth(ch);
    if (used + w > n) break;
    out += ch;
    used += w;
  }
  return out;
}

/** The longest end of `text` that takes at most `n` cells. */
function lastCells(text: string, n: number): string {
  const chars = [...text];
  let used = 0;
  let from = chars.length;
  while (from > 0 && used + cellWidth(chars[from - 1]) <= n) used += cellWidth(chars[--from]);
  return chars.slice(from).join("");
}
