/**
 * The patch under the cursor: header, diffstat and coloured diff, scrolled by its own
 * offset. Only the lines on screen are rendered, and only they get word-level highlights
 * (changed words of paired -/+ lines shown inverse).
 */
import React, { useRef } from "react";
import { Box, Text } from "ink";
import { wordSegments, type DiffLine, type Segment } from "./diff-view.js";
import type { Preview } from "./use-preview.js";
import type { Theme } from "./theme.js";
import { cellWidth, cutCells } from "./cells.js";

const COLOUR: Record<DiffLine["kind"], string | undefined> = {
  file: "yellow",
  hunk: "cyan",
  del: "red",
  add: "green",
  ctx: undefined,
  meta: "gray",
  header: "white",
};

export const PreviewPane = React.memo(PreviewPaneImpl);

function PreviewPaneImpl({
  preview,
  offset,
  height,
  width,
  focused,
  theme,
}: {
  preview: Preview;
  offset: number;
  height: number;
  width: number;
  focused: boolean;
  theme: Theme;
}) {
  const cache = useRef({ lines: null as DiffLine[] | null, words: new Map<number, Segment[]>() });
  if (cache.current.lines !== preview.lines) cache.current = { lines: preview.lines, words: new Map() };
  const c = theme.color;
  const body = Math.max(1, height - 1);
  const total = preview.lines.length;
  const start = Math.max(0, Math.min(offset, total - body));
  const shown = preview.lines.slice(start, start + body);
  const title = preview.name ? `${preview.name} · lines ${total ? start + 1 : 0}-${start + shown.length} of ${total}` : "(no patch)";
  // By terminal cells (a wide character takes two), so that no line runs past its row.
  const clip = (t: string, room = width) => cutCells(t, room);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold={focused} color={c(focused ? "cyan" : "gray")} wrap="truncate">
        {clip(title)}
      </Text>
      {shown.map((line, i) => {
        const index = start + i;
        const words = wordSegments(preview.lines, index, cache.current.words);
        const colour = c(COLOUR[line.kind] ?? "");
        const mark = line.fresh ? <Text color={c("yellow")}>┃</Text> : null;
        if (!words) {
          return (
            <Text key={index} color={colour} bold={line.kind === "file" || line.fresh} wrap="truncate">
              {mark}
              {clip(line.text, width - (mark ? 1 : 0)) || " "}
            </Text>
          );
        }
        let room = width - 1 - (mark ? 1 : 0);
        return (
          <Text key={index} color={colour} wrap="truncate">
            {mark}
            {line.text[0]}
            {words.map((s, k) => {
              if (room <= 0) return null;
              const text = cutCells(s.text, room);
              room -= cellWidth(text);
              return (
                <Text key={k} inverse={s.changed} bold={s.changed}>
                  {text}
                </Text>
              );
            })}
          </Text>
        );
      })}
    </Box>
  );
}
