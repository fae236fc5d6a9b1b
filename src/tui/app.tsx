/**
 * pq's interactive view: the series with the applied part marked, the cursor, what a
 * refresh would take, and the last operation's progress or result.
 * Keys: up/down or k/j move, enter goes to the patch under the cursor, p/o push/pop one,
 * P/O push/pop all, r refresh, g reload, q quits.
 */
import React, { useState } from "react";
import { Box, Text, useApp, useInput } from "ink";
import type { Stack } from "../queue/stack.js";
import { useStack, type SeriesRow } from "./use-stack.js";
import { SharedLine } from "./shared-line.js";

const MARK: Record<SeriesRow["state"], string> = { applied: "A", unapplied: "U", guarded: "G" };
const COLOUR: Record<SeriesRow["state"], string> = { applied: "green", unapplied: "white", guarded: "gray" };

export function SeriesList({ rows, cursor, top }: { rows: SeriesRow[]; cursor: number; top: string | null }) {
  if (!rows.length) return <Text dimColor>(the series is empty: pq new NAME starts a patch)</Text>;
  return (
    <Box flexDirection="column">
      {rows.map((row, i) => (
        <Text key={row.name} color={COLOUR[row.state]} inverse={i === cursor}>
          {i === cursor ? ">" : " "} {String(i + 1).padStart(3)} {MARK[row.state]} {row.name}
          {row.name === top ? "  <- top" : ""}
          {row.guards.length ? `  ${row.guards.map((g) => "#" + g).join(" ")}` : ""}
        </Text>
      ))}
    </Box>
  );
}

export function StatusLine({ busy, progress, message, error, pending, needsRefresh }: {
  busy: string | null;
  progress: { message: string; current?: number; total?: number } | null;
  message: string | null;
  error: string | null;
  pending: string[];
  needsRefresh?: string;
}) {
  return (
    <Box flexDirection="column" marginTop={1}>
      {busy ? (
        <Text color="yellow">
          {busy}… {progress ? `${progress.current ?? ""}${progress.total ? `/${progress.total}` : ""} ${progress.message}` : ""}
        </Text>
      ) : null}
      {message ? <Text color="green">{message}</Text> : null}
      {error ? <Text color="red">{error}</Text> : null}
      {needsRefresh ? <Text color="red">the top patch needs a refresh ({needsRefresh})</Text> : null}
      <Text dimColor>{pending.length ? `unrefreshed: ${pending.join(", ")}` : "no unrefreshed changes"}</Text>
      <Text dimColor>enter goto · p/o push/pop · P/O all · r refresh · g reload · q quit</Text>
    </Box>
  );
}

export function App({ stack }: { stack: Stack }) {
  const { exit } = useApp();
  const { view, intents } = useStack(stack);
  const [cursor, setCursor] = useState(0);
  const last = Math.max(0, view.rows.length - 1);

  useInput((input, key) => {
    if (input === "q" || key.escape) exit();
    else if (key.upArrow || input === "k") setCursor((c) => Math.max(0, c - 1));
    else if (key.downArrow || input === "j") setCursor((c) => Math.min(last, c + 1));
    else if (key.return && view.rows[cursor]) void intents.goto(view.rows[cursor].name);
    else if (input === "p") void intents.push();
    else if (input === "o") void intents.pop();
    else if (input === "P") void intents.pushAll();
    else if (input === "O") void intents.popAll();
    else if (input === "r") void intents.refresh();
    else if (input === "g") void intents.reload();
  });

  return (
    <Box flexDirection="column">
      <Text bold>
        pq · {stack.queueDir} · {view.status ? `${view.status.applied} applied, ${view.status.unapplied} unapplied` : "…"}
      </Text>
      <SharedLine shared={view.shared ?? null} />
      <SeriesList rows={view.rows} cursor={Math.min(cursor, last)} top={stack.top()} />
      <StatusLine
        busy={view.busy}
        progress={view.progress}
        message={view.message}
        error={view.error}
        pending={view.status?.pending ?? []}
        needsRefresh={view.status?.needsRefresh}
      />
    </Box>
  );
}
