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

/** Every key, grouped; it takes the panes' place until any key closes it. */
export function HelpOverlay({ width, height, theme }: { width: number; height: number; theme: Theme }) {
  const keyWidth = Math.max(...KEYS.map((k) => k.keys.length)) + 2;
  const lines: { text: string; title?: boolean }[] = [];
  for (const [group, title] of GROUPS) {
    lines.push({ text: title, title: true });
    for (const k of KEYS.filter((x) => x.group === group)) lines.push({ text: `  ${k.keys.padEnd(keyWidth)}${k.what}` });
  }
  // Two columns when one does not fit.
  const columns = lines.length > height - 3 && width >= 80 ? 2 : 1;
  const perColumn = Math.ceil(lines.length / columns);
  const colWidth = Math.floor((width - 2) / columns);
  return (
    <Box flexDirection="column" width={width} height={height} borderStyle="round" borderColor={theme.color("cyan")}>
      <Text bold color={theme.color("cyan")}>
        pq tui keys (any key closes this)
      </Text>
      <Box flexDirection="row">
        {Array.from({ length: columns }, (_, c) => (
          <Box key={c} flexDirection="column" width={colWidth}>
            {lines.slice(c * perColumn, (c + 1) * perColumn).map((l, i) => (
              <Text key={i} bold={l.title} color={l.title ? theme.color("yellow") : undefined} wrap="truncate">
                {l.text}
              </Text>
            ))}
          </Box>
        ))}
      </Box>
    </Box>
  );
}
