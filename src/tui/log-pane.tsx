/**
 * The build/boot/ci pane: what runs and how far it got, then the serial log's tail, or
 * for ci the matrix of states x backends with each cell filled in as it finishes.
 */
import React from "react";
import { Box, Text } from "ink";
import type { Job } from "./use-jobs.js";
import { BACKENDS } from "./use-jobs.js";
import type { Theme } from "./theme.js";
import { cutCells, expandTabs, printable } from "./cells.js";

const CELL: Record<string, [string, string]> = {
  pass: ["PASS", "green"],
  skip: ["skip", "gray"],
  fail: ["FAIL", "red"],
  panic: ["PANIC", "red"],
  hang: ["HANG", "yellow"],
  crash: ["CRASH", "red"],
  "build-error": ["BUILD", "magenta"],
};

export function LogPane({ job, width, height, theme }: { job: Job; width: number; height: number; theme: Theme }) {
  const c = theme.color;
  const body = Math.max(1, height - 2);
  const head = `${job.running ? "⟳ " : ""}${job.title}: ${job.progress}`;
  let lines: React.ReactNode[];
  if (job.kind === "ci") {
    const byState = new Map<number, Map<string, string>>();
    for (const cell of job.cells) {
      if (!byState.has(cell.state)) byState.set(cell.state, new Map());
      byState.get(cell.state)!.set(cell.backend, cell.outcome);
    }
    // Follow the work: show the states around the last finished one.
    const last = job.cells.length ? Math.max(...job.cells.map((x) => x.state)) : 0;
    const from = Math.max(0, Math.min(last - Math.floor(body / 2), job.states.length - body + 1));
    const shown = job.states.slice(from, from + body - 1);
    lines = [
      <Text key="h" dimColor wrap="truncate">
        {"state".padEnd(7)}
        {BACKENDS.map((b) => b.padEnd(8)).join("")}patch
      </Text>,
      ...shown.map((s) => (
        <Text key={s.index} wrap="truncate">
          {String(s.index).padEnd(7)}
          {BACKENDS.map((b) => {
            const o = byState.get(s.index)?.get(b);
            const [label, colour] = o ? (CELL[o] ?? [o, "white"]) : ["·", "gray"];
            return (
              <Text key={b} color={c(colour)}>
                {label.padEnd(8)}
              </Text>
            );
          })}
          {s.patch ?? "(base)"}
        </Text>
      )),
    ];
  } else {
    // The guest's serial output and the compiler's are written by the patches under test: shown
    // as the preview shows a patch (control characters in caret notation, tabs as spaces, cut by
    // cells), a printk could retitle, recolour or clear the terminal, or a tab line wrap (t57 N10).
    lines = job.log.slice(-body).map((l, i) => (
      <Text key={i} wrap="truncate">
        {cutCells(expandTabs(printable(l)), width) || " "}
      </Text>
    ));
  }
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold color={c(job.error ? "red" : job.running ? "yellow" : "cyan")} wrap="truncate">
        {cutCells(expandTabs(printable(head)), width)}
      </Text>
      {lines}
    </Box>
  );
}
