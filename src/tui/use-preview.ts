/**
 * The text behind the preview pane for the patch under the cursor: its header, a
 * diffstat, its diff, and for the applied top patch with unrefreshed edits, what a
 * refresh would make of it (Stack.diff). Loaded shortly after the cursor stops, so
 * holding j down never waits on file reads.
 */
import { operandWords } from "../core/shell-word.js";
import { statSync } from "node:fs";
import { expandTabs, printable } from "./cells.js";
import { useEffect, useState } from "react";
import type { Stack } from "../queue/stack.js";
import { diffOf, headerOf } from "../queue/patch-text.js";
import { decodeWords } from "../mail/header.js";
import { classify, diffstat, formatDiffstat, markFresh, type DiffLine } from "./diff-view.js";

export interface Preview {
  name: string | null;
  lines: DiffLine[];
}

const SETTLE_MS = 25;

export async function loadPreview(
  stack: Stack,
  name: string,
  opts: { applied: boolean; isTop: boolean; pending: number; width: number },
): Promise<DiffLine[]> {
  // A huge patch (a generated file, a big binary) is shown as stored and cut: built in full on
  // the TUI's thread, its preview held every key for a second or two (tui-8 T12).
  const huge = (statSync(stack.patchPath(name), { throwIfNoEntry: false })?.size ?? 0) > PREVIEW_BYTES;
  const text = opts.applied && !huge ? await stack.currentPatchText(name) : await stack.readPatch(name);
  const header = headerOf(text)
    .replace(/\n---\n[\s\S]*$/, "\n") // the diffstat written in the file: ours is fresh
    .trimEnd();
  const { diff, lines, cut } = previewPart(diffOf(text));
  let parsed = classify(diff);
  let note: string | null = null;
  // The applied top with edits in the tree: show the patch as a refresh would make it,
  // with the edits it would take marked.
  if (opts.isTop && opts.pending > 0 && !huge && !cut) {
    const after = await stack.diff().catch(() => null);
    if (after !== null) {
      const refreshed = classify(after);
      markFresh(refreshed, parsed);
      parsed = refreshed;
      note = `── with unrefreshed edits (marked ┃; r takes them) ${"─".repeat(12)}`;
    }
  } else if (opts.isTop && opts.pending > 0) {
    // Too long to rebuild here: the edits are not in what is shown, which says so (t54 N5).
    note = `── as refreshed last: its unrefreshed edits are not shown (pq diff shows them; r takes them) ──`;
  }
  const out: DiffLine[] = header ? header.split("\n").map((t) => ({ kind: "header" as const, text: t })) : [];
  out.push({ kind: "ctx", text: "" });
  if (cut)
    out.push({
      kind: "meta",
      text: `the diff has ${lines} lines: the preview shows the first ${PREVIEW_LINES} (pq show ${operandWords(name)} shows it whole)`,
    });
  else for (const t of formatDiffstat(diffstat(parsed), opts.width)) out.push({ kind: "meta", text: t });
  out.push({ kind: "ctx", text: "" });
  if (note) out.push({ kind: "hunk", text: note });
  const base = out.length;
  for (const l of parsed) out.push({ ...l, pair: l.pair === undefined ? undefined : l.pair + base });
  if (cut) out.push({ kind: "hunk", text: `── cut at line ${PREVIEW_LINES} of ${lines}: pq show ${operandWords(name)} shows the rest ──` });
  for (const l of out) {
    const text = asUtf8(l.text);
    l.text = expandTabs(printable(l.kind === "header" && /^(Subject|From):/i.test(text) ? decodeWords(text) : text));
  }
  return out;
}

/** Past this size a patch file is previewed as stored (not rebuilt from the versions it left), and past PREVIEW_LINES cut. */
const PREVIEW_BYTES = 1 << 20;
const PREVIEW_LINES = 20_000;

/** The diff up to PREVIEW_LINES lines, how many it has (counted without splitting it), and whether it was cut. */
function previewPart(diff: string): { diff: string; lines: number; cut: boolean } {
  let lines = 0;
  let end = -1;
  for (let at = diff.indexOf("\n"); at !== -1; at = diff.indexOf("\n", at + 1)) {
    lines++;
    if (lines === PREVIEW_LINES) end = at + 1;
  }
  if (diff.length && !diff.endsWith("\n")) lines++;
  return end === -1 || lines <= PREVIEW_LINES ? { diff, lines, cut: false } : { diff: diff.slice(0, end), lines, cut: true };
}

/**
 * Patch text is held as bytes (one latin1 character each): a line that is valid UTF-8 is shown
 * as the characters it encodes (a comment in "naïve café"), any other line byte for byte.
 */
export function asUtf8(bytes: string): string {
  if (!/[\x80-\xff]/.test(bytes)) return bytes;
  const text = Buffer.from(bytes, "latin1").toString("utf8");
  return text.includes("\ufffd") ? bytes : text;
}

export function usePreview(
  stack: Stack,
  name: string | null,
  opts: { applied: boolean; isTop: boolean; pending: number; width: number; generation: number; enabled: boolean },
): Preview {
  const [preview, setPreview] = useState<Preview>({ name: null, lines: [] });
  useEffect(() => {
    if (!opts.enabled || !name) {
      if (!name) setPreview({ name: null, lines: [] });
      return;
    }
    let cancelled = false;
    const timer = setTimeout(() => {
      loadPreview(stack, name, opts).then(
        (lines) => !cancelled && setPreview({ name, lines }),
        (e: Error) => !cancelled && setPreview({ name, lines: [{ kind: "meta", text: `cannot read ${name}: ${e.message}` }] }),
      );
    }, SETTLE_MS);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [stack, name, opts.applied, opts.isTop, opts.pending, opts.width, opts.generation, opts.enabled]);
  return preview;
}
