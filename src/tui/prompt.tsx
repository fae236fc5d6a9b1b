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

export function Prompt({ state, theme }: { state: PromptState; theme: Theme }) {
  return (
    <Text wrap="truncate">
      <Text color={theme.color("cyan")} bold>
        {state.spec.label}{" "}
      </Text>
      {state.value}
      <Text inverse> </Text>
    </Text>
  );
}
