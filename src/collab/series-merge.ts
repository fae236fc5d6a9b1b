/**
 * The series as an ordered list, merged three-way. Each side's changes against the base
 * are read as insertions, deletions, renames (a patch that disappeared under one name and
 * appeared under another with the same or similar content), moves and guard changes, and
 * all of them are kept unless both sides did different things to the same patch.
 */
import { diffOf } from "../queue/patch-text.js";
import { bytesToName, nameToBytes } from "../patch/paths.js";
import { commonLines } from "../patch/overlap.js";
import { Series, type SeriesEntry, type SeriesNotes } from "../queue/series.js";

/** How alike two patches' diffs are: 1 for identical, else the share of common lines. */
export function similarity(a: string, b: string): number {
  const da = diffOf(a);
  const db = diffOf(b);
  if (da === db) return 1;
  const changed = (t: string) => t.split("\n").filter((l) => /^[-+]/.test(l) && !/^(---|\+\+\+) /.test(l));
  const [la, lb] = [changed(da), changed(db)];
  const total = la.length + lb.length;
  return total === 0 ? 0 : (2 * commonLines(la, lb)) / total;
}

export const RENAME_THRESHOLD = 0.5;

/**
 * Renames on one side: base names that are gone, paired with new names whose patch text
 * is the most similar (identical content first). Returns new name → base name.
 */
export function detectRenames(
  baseNames: string[],
  sideNames: string[],
  baseText: (n: string) => string,
  sideText: (n: string) => string,
): Map<string, string> {
  const inSide = new Set(sideNames);
  const inBase = new Set(baseNames);
  const gone = baseNames.filter((n) => !inSide.has(n));
  const added = sideNames.filter((n) => !inBase.has(n));
  const pairs: [number, string, string][] = [];
  for (const g of gone)
    for (const a of added) {
      const s = similarity(baseText(g), sideText(a));
      if (s >= RENAME_THRESHOLD) pairs.push([s, a, g]);
    }
  pairs.sort((x, y) => y[0] - x[0]);
  const result = new Map<string, string>();
  const used = new Set<string>();
  for (const [, a, g] of pairs) {
    if (result.has(a) || used.has(g)) continue;
    result.set(a, g);
    used.add(g);
  }
  return result;
}

/** Positions of the longest common subsequence: the items of `side` that did not move. */
function unmoved(base: string[], side: string[]): Set<string> {
  const inBoth = new Set(side);
  const a = base.filter((x) => inBoth.has(x));
  const inA = new Set(a);
  const b = side.filter((x) => inA.has(x));
  // Patience-free O(n*m) LCS is fine for a few thousand patches; skip the common prefix/suffix first.
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const keep = new Set([...a.slice(0, pre), ...a.slice(a.length - suf)]);
  const x = a.slice(pre, a.length - suf);
  const y = b.slice(pre, b.length - suf);
  const n = x.length;
  const m = y.length;
  const dp = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) dp[i][j] = x[i] === y[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  for (let i = 0, j = 0; i < n && j < m;) {
    if (x[i] === y[j]) {
      keep.add(x[i]);
      i++;
      j++;
    } else if (dp[i + 1][j] > dp[i][j + 1]) i++;
    else j++; // on a tie keep the base's earlier patch in place: the one brought forward is the one that moved
  }
  return keep;
}

/**
 * Merge three orders of patch ids. `survivors` are the ids the result holds. Ids that
 * neither side moved keep the base order; ids a side added or moved go after the id
 * that precedes them on that side (ours wins when both sides moved the same id).
 */
export function mergeOrder(
  base: string[],
  ours: string[],
  theirs: string[],
  survivors: Set<string>,
): { order: string[]; movedBoth: string[] } {
  const stillO = unmoved(base, ours);
  const stillT = unmoved(base, theirs);
  const inBase = new Set(base);
  const inO = new Set(ours);
  const inT = new Set(theirs);
  const movedO = new Set(ours.filter((id) => inBase.has(id) && inT.has(id) && !stillO.has(id)));
  const movedT = new Set(theirs.filter((id) => inBase.has(id) && inO.has(id) && !stillT.has(id)));
  const movedBoth = [...movedO].filter((id) => movedT.has(id));
  const movedBothSet = new Set(movedBoth);
  const order = base.filter((id) => survivors.has(id) && !movedO.has(id) && !movedT.has(id));
  // An added or moved id goes after its nearest predecessor on its side, skipping
  // predecessors the other side moved away (they no longer mark the same place). One both
  // sides moved is where ours put it, placed already: it marks the place (collab-17 F8: a
  // patch added right after it went to the top of the series, before the patch it builds on).
  const place = (side: string[], wanted: (id: string) => boolean, otherMoved: Set<string> = new Set()) => {
    for (const [i, id] of side.entries()) {
      if (!survivors.has(id) || !wanted(id) || order.includes(id)) continue;
      let at = 0;
      for (let j = i - 1; j >= 0; j--) {
        if (otherMoved.has(side[j]) && !movedBothSet.has(side[j])) continue;
        const k = order.indexOf(side[j]);
        if (k !== -1) {
          at = k + 1;
          break;
        }
      }
      order.splice(at, 0, id);
    }
  };
  // Ours first: an insertion goes right after its anchor, so at the same anchor theirs
  // (already published) ends up before ours, as a rebase of ours onto theirs would.
  place(ours, (id) => !inBase.has(id) || movedO.has(id), movedT);
  place(theirs, (id) => !inBase.has(id) || (movedT.has(id) && !movedO.has(id)), movedO);
  // Kept ids that only one side still has and nobody placed (e.g. a delete/modify conflict).
  for (const id of survivors) if (!order.includes(id)) place(inO.has(id) ? ours : theirs, (x) => x === id);
  return { order, movedBoth };
}

/** Guards merged as sets: additions and removals from both sides. */
export function mergeGuards(base: string[], ours: string[], theirs: string[]): string[] {
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((g, i) => g === b[i]);
  if (same(ours, base)) return [...theirs];
  if (same(theirs, base) || same(ours, theirs)) return [...ours];
  const removed = new Set([...base.filter((g) => !ours.includes(g)), ...base.filter((g) => !theirs.includes(g))]);
  return [...new Set([...ours, ...theirs])].filter((g) => !removed.has(g));
}

/**
 * The merged series: its patches in the merged order, each with the comment and blank lines
 * that go with it (SeriesNotes, merged three-way like the rest), then the trailing lines.
 * When that is what one side's series already says, that side's bytes are kept.
 */
export function buildMergedSeries(merged: { entry: SeriesEntry; notes: SeriesNotes }[], trailing: string[], sides: string[]): string {
  // Names are UTF-8 in the file; the versions hold the file's bytes (latin1). A CR LF series
  // (ours) stays CR LF (verify-7 V13).
  const series = sides[0] ? Series.emptyLike(Series.parse(bytesToName(sides[0]))) : Series.empty();
  let prev: string | null = null;
  for (const { entry, notes } of merged) {
    series.insertAfter(prev, entry, notes);
    prev = entry.name;
  }
  series.setTrailing(trailing);
  const text = series.serialize();
  return sides.find((side) => Series.parse(bytesToName(side)).serialize() === text) ?? nameToBytes(text);
}

/** Three-way choice of a value compared by `key`: theirs when ours did not change it, else ours. */
export function pick3<T>(
  base: T | undefined,
  ours: T | undefined,
  theirs: T | undefined,
  key: (v: T | undefined) => string,
): T | undefined {
  if (ours === undefined) return theirs;
  if (theirs === undefined) return ours;
  return key(ours) === key(base) ? theirs : ours;
}
