/**
 * The series, windowed: only the rows that fit are rendered, so a 10,000-patch series
 * costs what a screenful costs. Markers: A applied, U unapplied, G guarded off; ">" on the
 * top patch; the cursor row is inverse (and has a "▶" without colours).
 */
import React from "react";
import { Box, Text } from "ink";
import type { SeriesRow } from "./use-stack.js";
import type { HeaderInfo } from "./use-headers.js";
import type { Badges } from "./integrations.js";
import type { Theme } from "./theme.js";
import { cellWidth, fit } from "./cells.js";

const MARK: Record<SeriesRow["state"], string> = { applied: "A", unapplied: "U", guarded: "G" };
const COLOUR: Record<SeriesRow["state"], string> = { applied: "green", unapplied: "white", guarded: "gray" };
const OUTCOME: Record<string, [string, string]> = {
  pass: ["+", "green"],
  fail: ["!", "red"],
  skip: ["-", "gray"],
  panic: ["P", "red"],
  hang: ["H", "yellow"],
  crash: ["C", "red"],
  "build-error": ["B", "magenta"],
};

const BACKEND_ORDER = ["native", "xen", "vmi"];
const backendOrder = (b: string) => (BACKEND_ORDER.includes(b) ? BACKEND_ORDER.indexOf(b) : BACKEND_ORDER.length);

/** The first row to show so the cursor stays visible, moving the window as little as possible. */
export function windowStart(cursor: number, offset: number, height: number, total: number): number {
  if (height <= 0 || total <= height) return 0;
  let start = offset;
  if (cursor < start) start = cursor;
  if (cursor >= start + height) start = cursor - height + 1;
  return Math.max(0, Math.min(start, total - height));
}

export interface SeriesPaneProps {
  rows: SeriesRow[];
  cursor: number;
  offset: number;
  height: number;
  width: number;
  top: string | null;
  selected: string[];
  applied: number;
  headers: Map<string, HeaderInfo>;
  /** Changes when `headers` (filled in place) got new entries: memo compares it. */
  headersVersion: number;
  badges: Badges;
  focused: boolean;
  search: string | null;
  theme: Theme;
}

const guardText = (guards: string[], selected: string[]) => guards.map((g) => `${g}${selected.includes(g.slice(1)) ? "*" : ""}`).join(" ");
const badgeList = (badges: Record<string, string> | undefined) =>
  badges ? Object.entries(badges).sort(([a], [b]) => backendOrder(a) - backendOrder(b) || a.localeCompare(b)) : [];
/**
 * A badge's text: the backend's initial, the outcome's mark, and `~` for a flaky image's (its
 * boots disagreed). `wide`: some badge on screen has the mark, and every badge takes its room,
 * so that each backend's badges stay in one column (t32 F5).
 */
const badgeCell = (backend: string, verdict: string, wide: boolean) => {
  const flaky = verdict.endsWith("~");
  const outcome = flaky ? verdict.slice(0, -1) : verdict;
  return { text: `${backend[0]}${OUTCOME[outcome]?.[0] ?? "?"}${flaky ? "~" : wide ? " " : ""}`, colour: OUTCOME[outcome]?.[1] ?? "white" };
};
/** The badge column's width for one row: each badge and a space after it, and one before them. */
const badgeColumn = (badges: Record<string, string> | undefined, wide: boolean) =>
  badges ? 1 + badgeList(badges).length * (wide ? 4 : 3) : 0;

/** Memoised: a preview or status update does not re-render the list. */
export const SeriesPane = React.memo(SeriesPaneImpl);

function SeriesPaneImpl(p: SeriesPaneProps) {
  const c = p.theme.color;
  const total = p.rows.length;
  const bodyHeight = Math.max(1, p.height - 1);
  const visible = p.rows.slice(p.offset, p.offset + bodyHeight);
  const above = p.offset;
  const below = Math.max(0, total - p.offset - visible.length);
  const idxWidth = String(total).length;
  const authorWidth = p.width >= 110 ? 18 : p.width >= 80 ? 12 : 0;
  // Guard and badge columns as wide as the widest on screen, so every row lines up.
  const guardWidth = Math.min(24, Math.max(0, ...visible.map((r) => (r.guards.length ? guardText(r.guards, p.selected).length + 1 : 0))));
  const wideBadges = visible.some((r) => Object.values(p.badges.get(r.name) ?? {}).some((verdict) => verdict.endsWith("~")));
  const badgeWidth = Math.max(0, ...visible.map((r) => badgeColumn(p.badges.get(r.name), wideBadges)));
  // The name column as wide as the widest name on screen (up to 32), but a narrow pane keeps
  // 12 cells for the subject: at 37 columns a 32-cell name column left the subject a lone "…" (tui-8 T15).
  const around = 3 + idxWidth + 3 + 1 + (authorWidth ? authorWidth + 1 : 0) + guardWidth + badgeWidth;
  const nameWidth = Math.max(8, Math.min(32, p.width - around - 12, Math.max(8, ...visible.map((r) => cellWidth(r.name)))));
  const fixed = 3 + idxWidth + 3 + nameWidth + 1 + (authorWidth ? authorWidth + 1 : 0);
  const subjectWidth = Math.max(0, p.width - fixed - guardWidth - badgeWidth);
  const applied = p.applied;
  const title = `series ${applied}/${total} · ${above} above · ${below} below${p.search ? ` · /${p.search}` : ""}`;

  return (
    <Box flexDirection="column" width={p.width} height={p.height}>
      <Text bold={p.focused} color={c(p.focused ? "cyan" : "gray")} wrap="truncate">
        {fit(title, p.width)}
      </Text>
      {!total ? <Text dimColor>(the series is empty: c starts a patch)</Text> : null}
      {visible.map((row, i) => {
        const index = p.offset + i;
        const isCursor = index === p.cursor;
        const isTop = row.name === p.top;
        const h = p.headers.get(row.name);
        const guards = guardText(row.guards, p.selected);
        const badgeText = badgeList(p.badges.get(row.name));
        return (
          <Text key={row.name} inverse={isCursor} wrap="truncate">
            <Text color={c("cyan")}>{isCursor ? "▶" : " "}</Text>
            <Text color={c("yellow")} bold>
              {isTop ? ">" : " "}
            </Text>
            <Text dimColor> {String(index + 1).padStart(idxWidth)} </Text>
            <Text color={c(COLOUR[row.state])} bold={isTop}>
              {MARK[row.state]} {fit(row.name, nameWidth)}{" "}
            </Text>
            <Text>{fit(h?.subject ?? "", subjectWidth)}</Text>
            {authorWidth ? <Text color={c("blue")}> {fit(h?.author ?? "", authorWidth)}</Text> : null}
            {guardWidth ? <Text color={c("magenta")}> {fit(guards, guardWidth - 1)}</Text> : null}
            {badgeText.length ? (
              <Text>
                {" "}
                {badgeText.map(([backend, verdict]) => {
                  const badge = badgeCell(backend, verdict, wideBadges);
                  return (
                    <Text key={backend} color={c(badge.colour)}>
                      {badge.text}{" "}
                    </Text>
                  );
                })}
              </Text>
            ) : null}
          </Text>
        );
      })}
    </Box>
  );
}
