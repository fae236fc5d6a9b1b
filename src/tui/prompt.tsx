/**
 * A one-line text prompt inside the TUI (patch names, messages, guards, search). Enter
 * submits, Escape cancels, Backspace deletes; pasted text arrives whole.
 */
import React, { useState } from "react";
import { Text, useInput } from "ink";
import type { Theme } from "./theme.js";

export interface PromptSpec {
  label: string;
  initial?: string;
  onSubmit: (value: string) => void;
  onCancel?: () => void;
}

export function Prompt({ spec, theme }: { spec: PromptSpec; theme: Theme }) {
  const [value, setValue] = useState(spec.initial ?? "");
  useInput((input, key) => {
    if (key.return) spec.onSubmit(value);
    else if (key.escape) spec.onCancel?.();
    else if (key.backspace || key.delete) setValue((v) => v.slice(0, -1));
    else if (key.ctrl && input === "u") setValue("");
    else if (!key.ctrl && !key.meta && input && !/^\[<\d/.test(input)) {
      // A chunk may end with Enter (keys sent together): submit what precedes it.
      const nl = input.search(/[\r\n]/);
      if (nl === -1) setValue((v) => v + input);
      else spec.onSubmit(value + input.slice(0, nl));
    }
  });
  return (
    <Text wrap="truncate">
      <Text color={theme.color("cyan")} bold>
        {spec.label}{" "}
      </Text>
      {value}
      <Text inverse> </Text>
    </Text>
  );
}
