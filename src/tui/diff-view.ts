/**
 * A patch's diff prepared for the preview pane: one entry per line with its kind, a
 * diffstat, and word-level changes for removed/added lines that pair up (computed on
 * demand, only for the lines on screen).
 */
import { diffWords } from "diff";
import { unquoteBytes } from "../patch/paths.js";

export type LineKind = "file" | "hunk" | "del" | "add" | "ctx" | "meta" | "header";

export interface DiffLine {
  kind: LineKind;
  text: string;
  /** For del/add lines of a block: the index of the line it pairs with. */
  pair?: number;
  /** A change that is in the tree but not yet in the patch file (unrefreshed). */
  fresh?: boolean;
}

export interface Segment {
  text: string;
  changed: boolean;
}

export interface FileStat {
  path: string;
  added: number;
  removed: number;
}

export function classify(text: string): DiffLine[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const out: DiffLine[] = [];
  let inHunk = false;
  for (const line of lines) {
    let kind: LineKind;
    if (line.startsWith("diff ") || line.startsWith("Index: ")) {
      kind = "file";
      inHunk = false;
    } else if (line.startsWith("@@")) {
      kind = "hunk";
      inHunk = true;
    } else if (inHunk && line.startsWith("-")) kind = "del";
    else if (inHunk && line.startsWith("+")) kind = "add";
    else if (inHunk && (line.startsWith(" ") || line === "" || line.startsWith("\\"))) kind = "ctx";
    else {
      kind = "meta";
      inHunk = false;
    }
    out.push({ kind, text: line });
  }
  pairBlocks(out);
  return out;
}

/** Pair the i-th removed line of a -/+ block with its i-th added line. */
function pairBlocks(lines: DiffLine[]): void {
  let i = 0;
  while (i < lines.length) {
    if (lines[i].kind !== "del") {
      i++;
      continue;
    }
    const delStart = i;
    while (i < lines.length && lines[i].kind === "del") i++;
    const addStart = i;
    while (i < lines.length && lines[i].kind === "add") i++;
    const n = Math.min(addStart - delStart, i - addStart);
    for (let k = 0; k < n; k++) {
      lines[delStart + k].pair = addStart + k;
      lines[addStart + k].pair = delStart + k;
    }
  }
}

/** The line's text (without its +/- sign) split into unchanged and changed words. */
export function wordSegments(lines: DiffLine[], index: number, cache: Map<number, Segment[]>): Segment[] | null {
  const line = lines[index];
  if (line.pair === undefined || (line.kind !== "del" && line.kind !== "add")) return null;
  const hit = cache.get(index);
  if (hit) return hit;
  const other = lines[line.pair];
  const [oldText, newText] = line.kind === "del" ? [line.text.slice(1), other.text.slice(1)] : [other.text.slice(1), line.text.slice(1)];
  // Long lines make the word diff slow and the highlight useless: show them whole.
  if (oldText.length + newText.length > 2000) return null;
  const parts = diffWords(oldText, newText);
  const mine: Segment[] = [];
  for (const p of parts) {
    if (line.kind === "del" && p.added) continue;
    if (line.kind === "add" && p.removed) continue;
    mine.push({ text: p.value, changed: !!(p.added || p.removed) });
  }
  cache.set(index, mine);
  return mine;
}

/** A ---/+++ line's file name as the diffstat shows it: git's C quoting undone (the bytes, shown as UTF-8 later), its a/ or b/ dropped. */
function statName(raw: string, prefix: string): string {
  let name = raw.split("\t")[0];
  if (name.startsWith('"')) {
    try {
      name = unquoteBytes(name);
    } catch {
      /* shown as it is written */
    }
  }
  return name.startsWith(prefix) ? name.slice(prefix.length) : name;
}

export function diffstat(lines: DiffLine[]): FileStat[] {
  const stats: FileStat[] = [];
  let current: FileStat | null = null;
  for (const l of lines) {
    if (l.kind === "meta" && l.text.startsWith("+++ ")) {
      const path = statName(l.text.slice(4), "b/");
      if (current && (current.path === "" || path !== "/dev/null")) current.path = path;
      else if (!current) stats.push((current = { path, added: 0, removed: 0 }));
    } else if (l.kind === "meta" && l.text.startsWith("--- ") && !current) {
      stats.push((current = { path: statName(l.text.slice(4), "a/"), added: 0, removed: 0 }));
    } else if (l.kind === "file") {
      const m = /^diff --git a\/(.*) b\/(.*)$/.exec(l.text);
      stats.push((current = { path: m ? m[2] : l.text.replace(/^Index: /, ""), added: 0, removed: 0 }));
    } else if (l.kind === "add" && current) current.added++;
    else if (l.kind === "del" && current) current.removed++;
  }
  return stats;
}

export function formatDiffstat(stats: FileStat[], width: number): string[] {
  if (!stats.length) return ["(no changes)"];
  const nameWidth = Math.min(Math.max(...stats.map((s) => s.path.length)), Math.max(10, width - 20));
  const most = Math.max(...stats.map((s) => s.added + s.removed), 1);
  const barWidth = Math.max(1, width - nameWidth - 10);
  const lines = stats.map((s) => {
    const total = s.added + s.removed;
    const scale = total > barWidth ? barWidth / most : 1;
    const plus = Math.round(s.added * scale);
    const minus = Math.round(s.removed * scale);
    const name = s.path.length > nameWidth ? "…" + s.path.slice(-nameWidth + 1) : s.path.padEnd(nameWidth);
    return ` ${name} | ${String(total).padStart(4)} ${"+".repeat(plus)}${"-".repeat(minus)}`;
  });
  const added = stats.reduce((a, s) => a + s.added, 0);
  const removed = stats.reduce((a, s) => a + s.removed, 0);
  lines.push(
    ` ${stats.length} file${stats.length === 1 ? "" : "s"} changed, ${added} insertion${added === 1 ? "" : "s"}(+), ${removed} deletion${removed === 1 ? "" : "s"}(-)`,
  );
  return lines;
}

/** Mark the +/- lines of `after` that `before` does not have (what a refresh would add). */
export function markFresh(after: DiffLine[], before: DiffLine[]): void {
  const known = new Map<string, number>();
  for (const l of before) if (l.kind === "add" || l.kind === "del") known.set(l.text, (known.get(l.text) ?? 0) + 1);
  for (const l of after) {
    if (l.kind !== "add" && l.kind !== "del") continue;
    const n = known.get(l.text) ?? 0;
    if (n > 0) known.set(l.text, n - 1);
    else l.fresh = true;
  }
}
