/**
 * A one-line text prompt inside the TUI (patch names, messages, guards, search). Enter
 * submits, Escape cancels, Backspace deletes, ctrl-u clears. Its keys come through the
 * App's one input handler (`promptKey`), so keys typed right after the one that opened
 * it, even in the same input chunk, land in it.
 */
import React from "react";
import { Text, type Key } from "ink";
import type { Theme } from "./theme.js";

export interface PromptSpec {
  label: string;
  onSubmit: (value: string) => void;
  onCancel?: () => void;
}

export interface PromptState {
  spec: PromptSpec;
  value: string;
}

/** Applies one key to the prompt: "submit", "cancel", or null (still editing). */
export function promptKey(state: PromptState, input: string, key: Key): "submit" | "cancel" | null {
  if (key.return) return "submit";
  if (key.escape) return "cancel";
  if (key.backspace || key.delete) state.value = state.value.slice(0, -1);
  else if (key.ctrl && input === "u") state.value = "";
  else if (!key.ctrl && !key.meta && input && !/^\[<\d/.test(input)) state.value += input;
  return null;
}

export function Prompt({ state, theme, width }: { state: PromptState; theme: Theme; width?: number }) {
  const { label, value } = fitPrompt(state.spec.label, state.value, width ?? Infinity);
  return (
    <Text wrap="truncate">
      <Text color={theme.color("cyan")} bold>
        {label}{" "}
      </Text>
      {value}
      <Text inverse> </Text>
    </Text>
  );
}

/**
 * What fits a line of `width` columns, the input first: a long label (a 100-character patch
 * name in "rename NAME to:") is cut in its middle, and an input longer than the line shows its
 * end, where typing happens. (Columns counted as characters.)
 */
export function fitPrompt(label: string, value: string, width: number): { label: string; value: string } {
  const room = width - 2; // the space after the label, the cursor
  if ([...label].length + [...value].length <= room) return { label, value };
  const minLabel = Math.min([...label].length, 12);
  const valueRoom = Math.max(1, room - minLabel);
  const shown = [...value].length > valueRoom ? "…" + [...value].slice(-(valueRoom - 1)).join("") : value;
  const labelRoom = Math.max(minLabel, room - [...shown].length);
  const chars = [...label];
  if (chars.length <= labelRoom) return { label, value: shown };
  const head = Math.ceil((labelRoom - 1) / 2);
  const tail = labelRoom - 1 - head;
  return { label: chars.slice(0, head).join("") + "…" + (tail > 0 ? chars.slice(-tail).join("") : ""), value: shown };
}
