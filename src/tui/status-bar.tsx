/**
 * The top line (queue, position, guards, shared-queue sync) and the bottom lines: what
 * runs, the last result or error (with its details: the failing file and hunk), the
 * unrefreshed files, and the most used keys.
 */
import { operandWords } from "../core/shell-word.js";
import React from "react";
import { Box, Text } from "ink";
import type { StackView } from "./use-stack.js";
import { stoppedSyncLine, stoppedSyncSummary, type SharedStatus } from "../collab/status.js";
import { cellWidth, fit, printable, wrapCells } from "./cells.js";
import { errorLines } from "./error-view.js";
import { FOOTER } from "./keymap.js";
import type { Theme } from "./theme.js";

/** The shared queue's facts, as `pq status` gives them. */
function syncText(s: SharedStatus): string {
  const where = s.kind === "own" ? " (own repository)" : s.kind === "in-tree" ? " (in the tree's repository)" : "";
  const track = s.upstream ? `${s.ahead} ahead, ${s.behind} behind ${s.upstream}` : "no upstream";
  const extra = [
    s.uncommitted.length ? `${s.uncommitted.length} uncommitted` : null,
    // A stopped sync is said first in the header (see HeaderBar).
    !s.conflicted.length && s.syncInProgress ? "a sync was interrupted (pq sync)" : null,
  ].filter(Boolean);
  return `shared${where}: ${track}${extra.length ? ` · ${extra.join(" · ")}` : ""}`;
}

export function HeaderBar({
  view,
  queue,
  sync,
  width,
  theme,
}: {
  view: StackView;
  queue: string;
  sync: SharedStatus | null;
  width: number;
  theme: Theme;
}) {
  const c = theme.color;
  // Applied patches the series no longer lists have no row: counted apart, not as "3/2 applied" (t54 N8).
  const unlisted = view.unlisted?.length ?? 0;
  const applied = unlisted ? `${view.appliedCount - unlisted}` : `${view.appliedCount}`;
  const apart = unlisted ? ` (+${unlisted} not in the series)` : "";
  // Most telling first: a narrow terminal cuts the end (the queue's path).
  const parts = [
    view.stale
      ? `pq · as last read: ${applied}/${view.rows.length} applied (the stack cannot be read now: see below)`
      : `pq · ${applied}/${view.rows.length} applied${apart}`,
    // Before the rest: a narrow terminal cuts the end, and this is what to do next (t40 N4).
    sync?.conflicted.length ? stoppedSyncSummary(sync) : null,
    sync ? syncText(sync) : null,
    `top: ${view.top ?? "(none)"}`,
    view.selected.length ? `guards: ${view.selected.join(" ")}` : null,
    queue,
  ].filter(Boolean);
  return (
    <Text bold color={c("white")} backgroundColor={c(sync?.conflicted.length ? "red" : "blue")} wrap="truncate">
      {fit(parts.join("  ·  "), width)}
    </Text>
  );
}

export const STATUS_LINES = 3;

export function StatusBar({
  view,
  sync,
  width,
  theme,
  prompt,
}: {
  view: StackView;
  /** A stopped sync's whole line (what it waits for: a header to choose, files to refresh), which the top line only names (t130 N6). */
  sync?: SharedStatus | null;
  width: number;
  theme: Theme;
  prompt?: React.ReactNode;
}) {
  const c = theme.color;
  const lines: React.ReactNode[] = prompt ? [<React.Fragment key="prompt">{prompt}</React.Fragment>] : [];
  const p = view.progress;
  if (view.busy) {
    lines.push(
      <Text key="busy" color={c("yellow")} wrap="truncate">
        ⟳ {view.busy}… {p ? `${p.current ?? ""}${p.total ? `/${p.total}` : ""} ${p.message}` : ""}
      </Text>,
    );
  }
  // Not shown for a stack that could not be read (tui-22 F4): it may describe another queue's.
  const s = view.stale ? null : view.status;
  // A warning of the tree's (unrefreshed files, a top that needs a refresh) keeps its line under
  // a long refusal: an edit made meanwhile is not hidden behind one (tui-22 F3).
  const warning =
    s &&
    (s.needsRefresh ||
      s.topChangedInQueue ||
      s.unreadable ||
      s.unmerged ||
      s.committedUnder?.length ||
      s.changesGone ||
      s.filesGone ||
      s.pending.length)
      ? 1
      : 0;
  if (view.error) {
    // Wrapped over the lines there are; what does not fit is one key away (!).
    const all = errorLines(view.error, width);
    for (const [i, text] of withinRoom(all, STATUS_LINES - lines.length - warning, width).entries()) {
      lines.push(
        <Text key={`e${i}`} color={c("red")} wrap="truncate">
          {text}
        </Text>,
      );
    }
  } else if (view.message) {
    // Wrapped over the lines the status below does not need (a recovery says where it saved
    // edits at its end); cut, it points to the rest as an error does (tui-22 F5: a guarded
    // patch the push skipped was cut off unsaid).
    const below = (s ? 1 : 0) + (s && view.rebase ? 1 : 0) + (s?.inexact?.length ? 1 : 0);
    // At spaces, with the indent a refusal's lines have: a patch name is never split (t86 N2).
    const all = wrapCells(`✓ ${view.message}`, width, "  ");
    for (const [i, text] of withinRoom(all, STATUS_LINES - lines.length - below, width).entries()) {
      lines.push(
        <Text key={`m${i}`} color={c("green")} wrap="truncate">
          {text}
        </Text>,
      );
    }
  }
  if (lines.length < STATUS_LINES && s) {
    const committed = s.committedUnder?.length
      ? `HEAD has commits that change ${s.committedUnder.slice(0, 3).join(", ")}${s.committedUnder.length > 3 ? ", ..." : ""}, as the applied patches do (${s.headMoved ? "HEAD moved under them" : "committed by hand?"} pq status says more): pop would refuse`
      : null;
    // The tree lost what the patches put there (reset --hard, stash, clean -fd): no edits to refresh, as pq status says.
    const gone = s.changesGone
      ? `the applied patches' changes are gone from the tree (git reset --hard, checkout or stash?): pq status says how to put them back; a refresh refuses`
      : s.filesGone
        ? `${s.filesGone.slice(0, 3).join(", ")}${s.filesGone.length > 3 ? ", ..." : ""}, which the patches leave, gone from the tree (git clean -fd, or moved?): pq revert puts them back`
        : null;
    // Every warning pq status gives, as many as the lines hold, the tree's state first (t54 N7:
    // one was shown, and unrefreshed files went unnamed behind it with the lines below empty).
    const unlisted = view.unlisted ?? [];
    const warnings = [
      sync?.conflicted.length ? stoppedSyncLine(sync) : null,
      // First, as pq status says it: while git holds conflicts, every other way out waits (t106 N1).
      s.unmerged
        ? `unresolved conflicts in git's index: ${s.unmerged.slice(0, 3).join(", ")}${s.unmerged.length > 3 ? ", ..." : ""} (a git pull, merge or stash pop stopped there): resolve them and git add them first; a refresh refuses until then`
        : null,
      unlisted.length
        ? `${unlisted.join(", ")} ${unlisted.length === 1 ? "is" : "are"} applied, but the series no longer lists ${unlisted.length === 1 ? "it" : "them"}: put the line back, or pop all (O) and edit the series; pq status says more`
        : null,
      s.needsRefresh ? `the top patch needs a refresh (${s.needsRefresh})` : null,
      view.below?.length
        ? `${view.below.join(", ")} ${view.below.length === 1 ? "is" : "are"} unapplied below the top (skipped while guarded off, or added there): pq select --reapply applies ${view.below.length === 1 ? "it in its place" : "them in their places"} (or pq push --move ${operandWords(view.below[0])} on top)`
        : null,
      // With the way out pq status gives (t106 N2).
      s.topChangedInQueue
        ? "the top patch changed in the queue since it was pushed: pop and push it to apply that version (pq status says more)"
        : null,
      s.unreadable ? `unrefreshed changes unknown: ${s.unreadable.message.replace(/, and nothing was changed$/, "")}` : null,
      committed,
      gone,
    ].filter((w): w is string => w !== null);
    const shown: [string, string][] = warnings.map((w) => [w, "red"]);
    // Changes gone (a reset): the files differ for that, they hold no edits to refresh.
    if (s.pending.length && !s.unreadable && !s.changesGone) shown.push([`unrefreshed: ${s.pending.join(", ")}`, "gray"]);
    if (!shown.length) shown.push(["no unrefreshed changes", "gray"]);
    if (view.rebase) shown.push([view.rebase, "yellow"]);
    // As pq status says it: patches that applied only with fuzz, other line endings or a merge.
    const inexact = s.inexact ?? [];
    if (inexact.length)
      shown.push([
        `applied only with ${inexact[0].reason === "eol" ? "line endings set aside" : inexact[0].reason}: ${inexact.map((p) => p.name).join(", ")} (${
          // A versioned queue's patch keeps its endings through a refresh that takes nothing (see refresh's keepsItsLineEndings).
          inexact[0].reason === "eol" ? "pq status says whether a refresh rewrites it" : "pq refresh rewrites the top one"
        })`,
        "yellow",
      ]);
    // The first always; the others where the lines have room, the last of those saying how many
    // more pq status gives (t57 N9, t58 N3: they were left out unsaid).
    const room = Math.max(1, STATUS_LINES - lines.length);
    // Lines no other warning needs are given to the long ones, wrapped at spaces, before any is
    // cut (t106 N3: a warning was cut with rows free below it).
    let spare = Math.max(0, room - shown.length);
    for (const [i, [text, colour]] of shown.slice(0, room).entries()) {
      const more = i === room - 1 && shown.length > room ? `(+${shown.length - room} more: pq status) ` : "";
      const wrapped = spare > 0 ? wrapCells(`${more}${text}`, width, "  ") : [`${more}${text}`];
      const take = Math.min(wrapped.length, 1 + spare);
      spare -= take - 1;
      for (const [k, line] of wrapped.slice(0, take).entries())
        lines.push(
          <Text key={`pending${i}-${k}`} color={c(colour)} wrap="truncate">
            {k === take - 1 && take < wrapped.length ? wrapped.slice(k).join(" ") : line}
          </Text>,
        );
    }
  }
  while (lines.length < STATUS_LINES) lines.push(<Text key={`pad${lines.length}`}> </Text>);
  return (
    <Box flexDirection="column" width={width}>
      {lines}
      <Text dimColor wrap="truncate">
        {FOOTER.join(" · ")}
      </Text>
    </Box>
  );
}

/** `all` in at most `room` lines (at least one): the last one cut, with the pointer to `!`, when the rest does not fit. */
function withinRoom(all: string[], room: number, width: number): string[] {
  const n = Math.max(1, room);
  return all.length > n ? [...all.slice(0, n - 1), `${fit(all[n - 1], width - 13).trimEnd()}  (! for all)`] : all;
}
