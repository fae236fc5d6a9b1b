/**
 * range-diff of two versions of a series, as `git range-diff` does for commit ranges:
 * patches are paired by name, then the rest by content similarity; each pair is shown
 * as unchanged (=) or changed (!, with its interdiff), unpaired ones as dropped (<) or
 * added (>), and pairs whose relative order changed are marked as moved.
 */
import { similarity, RENAME_THRESHOLD } from "./series-merge.js";
import { imagesIn, interdiff } from "./interdiff.js";
import { diffHunks, formatHunk } from "../patch/index.js";
import { parseSeries, simulateQueue } from "./simulate.js";
import { dropCommitter, dropDiffstat, headerOf } from "../queue/patch-text.js";
import type { MergeServices, QueueVersion } from "./types.js";
import { pathMap } from "../core/path-map.js";

/** Whether two patch texts say the same above their diffs (a diffstat and an X-Committer: line set aside). */
function sameMessage(a: string, b: string): boolean {
  const message = (text: string) => dropCommitter(dropDiffstat(headerOf(text))).trim();
  return message(a) === message(b);
}

export interface RangeLine {
  old: { index: number; name: string } | null;
  new: { index: number; name: string } | null;
  status: "=" | "!" | "<" | ">";
  moved: boolean;
  interdiff?: string;
}

/** Items of `seq` outside a longest increasing subsequence: the ones that moved. */
function movedIndexes(seq: number[]): Set<number> {
  const tails: number[] = [];
  const prev: number[] = new Array(seq.length).fill(-1);
  const tailIdx: number[] = [];
  for (let i = 0; i < seq.length; i++) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (tails[mid] < seq[i]) lo = mid + 1;
      else hi = mid;
    }
    tails[lo] = seq[i];
    tailIdx[lo] = i;
    prev[i] = lo > 0 ? tailIdx[lo - 1] : -1;
  }
  const keep = new Set<number>();
  for (let i = tailIdx[tails.length - 1] ?? -1; i !== -1; i = prev[i]) keep.add(i);
  return new Set(seq.map((_, i) => i).filter((i) => !keep.has(i)));
}

/**
 * `renamed`: old name -> new name for patches known to have been renamed between the two
 * versions (a sync that kept two same-named patches apart), paired before names and contents.
 */
export async function rangeDiff(
  a: QueueVersion,
  b: QueueVersion,
  svc: MergeServices,
  renamed: Record<string, string> = pathMap(),
): Promise<RangeLine[]> {
  const oldNames = parseSeries(a.series, "the old").map((e) => e.name);
  const newNames = parseSeries(b.series, "the new").map((e) => e.name);
  const pairOf = new Map<string, string>(); // new name -> old name
  const oldSet = new Set(oldNames);
  for (const [o, n] of Object.entries(renamed)) if (oldSet.has(o) && newNames.includes(n)) pairOf.set(n, o);
  const renamedOld = new Set(pairOf.values());
  for (const n of newNames) if (oldSet.has(n) && !pairOf.has(n) && !renamedOld.has(n)) pairOf.set(n, n);
  const paired = new Set(pairOf.values());
  const candidates: [number, string, string][] = [];
  for (const n of newNames.filter((x) => !pairOf.has(x))) {
    for (const o of oldNames.filter((x) => !paired.has(x))) {
      const s = similarity(a.patches[o] ?? "", b.patches[n] ?? "");
      if (s >= RENAME_THRESHOLD) candidates.push([s, n, o]);
    }
  }
  candidates.sort((x, y) => y[0] - x[0]);
  for (const [, n, o] of candidates) {
    if (pairOf.has(n) || paired.has(o)) continue;
    pairOf.set(n, o);
    paired.add(o);
  }

  // Guards dropped: every patch is shown, so every patch is applied.
  const everything = (v: QueueVersion) => ({
    ...v,
    series:
      parseSeries(v.series, "")
        .map((e) => e.name)
        .join("\n") + "\n",
  });
  const [simA, simB] = await Promise.all([simulateQueue(everything(a), svc.baseFile), simulateQueue(everything(b), svc.baseFile)]);

  const pairsInNewOrder = newNames.filter((n) => pairOf.has(n));
  const moved = movedIndexes(pairsInNewOrder.map((n) => oldNames.indexOf(pairOf.get(n)!)));
  const movedNames = new Set([...moved].map((i) => pairsInNewOrder[i]));

  const lines: RangeLine[] = [];
  for (const [j, n] of newNames.entries()) {
    const o = pairOf.get(n);
    if (o === undefined) {
      lines.push({ old: null, new: { index: j + 1, name: n }, status: ">", moved: false });
      continue;
    }
    const oldText = a.patches[o] ?? "";
    const newText = b.patches[n] ?? "";
    const line: RangeLine = {
      old: { index: oldNames.indexOf(o) + 1, name: o },
      new: { index: j + 1, name: n },
      status: oldText === newText ? "=" : "!",
      moved: movedNames.has(n),
    };
    if (line.status === "!") {
      const runA = simA.runs.get(o);
      const runB = simB.runs.get(n);
      const paths = new Set([
        ...(runA?.pre.keys() ?? []),
        ...(runA?.post.keys() ?? []),
        ...(runB?.pre.keys() ?? []),
        ...(runB?.post.keys() ?? []),
      ]);
      const [ia, ib] = await Promise.all([imagesIn(simA, o, oldText, paths), imagesIn(simB, n, newText, paths)]);
      // When a version does not apply (a patch resolved by hand on a new base), compare the
      // two diffs as text, as git range-diff does: what changed in the patch itself.
      line.interdiff = ia && ib ? await interdiff(ia, ib, svc) : diffOfDiffs(oldText, newText);
      // Only moved (new hunk positions, index lines) with the same message: the same change, as
      // git range-diff calls it, so that a rebase's one real change is not one "!" among many (stack-6 #11).
      if (!line.interdiff?.trim() && sameMessage(oldText, newText)) {
        line.status = "=";
        delete line.interdiff;
      }
    }
    lines.push(line);
  }
  // Dropped patches go after the line of the patch that preceded them in the old series.
  for (const [i, o] of oldNames.entries()) {
    if (paired.has(o)) continue;
    let at = 0;
    for (let k = i - 1; k >= 0; k--) {
      const pos = lines.findIndex((l) => l.old?.name === oldNames[k]);
      if (pos !== -1) {
        at = pos + 1;
        break;
      }
    }
    lines.splice(at, 0, { old: { index: i + 1, name: o }, new: null, status: "<", moved: false });
  }
  return lines;
}

export function renderRangeDiff(lines: RangeLine[]): string {
  const w = Math.max(1, ...lines.map((l) => String(Math.max(l.old?.index ?? 0, l.new?.index ?? 0)).length));
  // The output is bytes (the interdiffs are patch text, latin1 here): a name is its UTF-8 bytes (collab-17 F15: ü came out as latin-1).
  const asBytes = (name: string) => Buffer.from(name, "utf8").toString("latin1");
  const side = (s: { index: number; name: string } | null, nameWidth: number) =>
    s
      ? `${String(s.index).padStart(w)}: ${asBytes(s.name).padEnd(nameWidth)}`
      : `${"-".padStart(w)}: ${"-".repeat(Math.max(5, Math.min(nameWidth, 10))).padEnd(nameWidth)}`;
  const nameWidth = Math.max(5, ...lines.map((l) => (l.old ? asBytes(l.old.name).length : 0)));
  const out: string[] = [];
  for (const l of lines) {
    out.push(`${side(l.old, nameWidth)} ${l.status} ${side(l.new, 0).trimEnd()}${l.moved ? " (moved)" : ""}`);
    if (l.interdiff)
      out.push(
        // Only the closing line breaks: a last line's own CR or trailing blanks are the patch's (t67 N3).
        ...l.interdiff
          .replace(/\n+$/, "")
          .split("\n")
          .map((x) => `    ${x}`),
      );
  }
  return out.join("\n") + "\n";
}

/** The diff between two patch texts, index lines aside (they change with every base): git range-diff's view. */
function diffOfDiffs(oldText: string, newText: string): string {
  const body = (t: string) => t.replace(/^index [0-9a-f]+\.\.[0-9a-f]+.*\n/gm, "");
  const hunks = diffHunks(body(oldText), body(newText), 3);
  if (!hunks.length) return "(the two versions differ only in their index lines)\n";
  return "(one of the versions does not apply on its base: the diff of the two patch texts)\n" + hunks.map(formatHunk).join("");
}
