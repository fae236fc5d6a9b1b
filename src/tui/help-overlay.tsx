import React from "react";
import { Box, Text } from "ink";
import { KEYS } from "./keymap.js";
import type { Theme } from "./theme.js";

const GROUPS: [string, string][] = [
  ["move", "Moving"],
  ["view", "Viewing"],
  ["stack", "The stack"],
  ["edit", "Editing the series"],
  ["run", "Build, boot, ci"],
];

export interface HelpLine {
  text: string;
  title?: boolean;
}

/** What an overlay shows instead of the keys: a title and its lines (the last error in full). */
export interface OverlayText {
  title: string;
  lines: HelpLine[];
}

function helpLines(): HelpLine[] {
  const keyWidth = Math.max(...KEYS.map((k) => k.keys.length)) + 2;
  const lines: HelpLine[] = [];
  for (const [group, title] of GROUPS) {
    lines.push({ text: title, title: true });
    for (const k of KEYS.filter((x) => x.group === group)) lines.push({ text: `  ${k.keys.padEnd(keyWidth)}${k.what}` });
  }
  return lines;
}

/**
 * How the keys are laid out in a pane of this size: two columns when one does not fit and
 * two fit without cutting any description short; otherwise one column that scrolls.
 */
export function helpLayout(
  width: number,
  height: number,
  text?: OverlayText,
): { columns: number; rows: number; lines: HelpLine[]; maxOffset: number } {
  const lines = text?.lines ?? helpLines();
  const rows = Math.max(1, height - 4); // border, title line and the hint line
  const longest = Math.max(...lines.map((l) => l.text.length));
  const columns = !text && lines.length > rows && lines.length <= rows * 2 && Math.floor((width - 2) / 2) >= longest + 1 ? 2 : 1;
  const maxOffset = columns === 2 ? 0 : Math.max(0, lines.length - rows);
  return { columns, rows, lines, maxOffset };
}

/**
 * Every key, grouped (or the given text); it takes the panes' place. When the lines do not
 * fit, ↓/j/space and ↑/k scroll it; any other key closes it.
 */
export function HelpOverlay({
  width,
  height,
  theme,
  offset = 0,
  text,
}: {
  width: number;
  height: number;
  theme: Theme;
  offset?: number;
  text?: OverlayText;
}) {
  const { columns, rows, lines, maxOffset } = helpLayout(width, height, text);
  const from = Math.min(Math.max(0, offset), maxOffset);
  const shown = columns === 2 ? lines : lines.slice(from, from + rows);
  const perColumn = Math.ceil(shown.length / columns);
  const colWidth = Math.floor((width - 2) / columns);
  const hint = maxOffset
    ? `lines ${from + 1}-${Math.min(from + rows, lines.length)} of ${lines.length} · ↓ j space: more · ↑ k: back · any other key closes`
    : "any key closes this";
  return (
    <Box flexDirection="column" width={width} height={height} borderStyle="round" borderColor={theme.color("cyan")}>
      <Text bold color={theme.color("cyan")} wrap="truncate">
        {text?.title ?? "pq tui keys"}
      </Text>
      <Box flexDirection="row" height={rows}>
        {Array.from({ length: columns }, (_, c) => (
          <Box key={c} flexDirection="column" width={colWidth}>
            {shown.slice(c * perColumn, (c + 1) * perColumn).map((l, i) => (
              <Text key={i} bold={l.title} color={l.title ? theme.color("yellow") : undefined} wrap="truncate">
                {l.text}
              </Text>
            ))}
          </Box>
        ))}
      </Box>
      <Text dimColor wrap="truncate">
        {hint}
      </Text>
    </Box>
  );
}
