/**
 * The series as an ordered list, merged three-way. Each side's changes against the base
 * are read as insertions, deletions, renames (a patch that disappeared under one name and
 * appeared under another with the same or similar content), moves and guard changes, and
 * all of them are kept unless both sides did different things to the same patch.
 */
import { diffOf } from "../queue/patch-text.js";
import { nameToBytes } from "../patch/paths.js";
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
 * What the merge wants of the order of `x` and `y`: -1 for x before y, 1 for x after, 0 for
 * no wish. `agreed`: both sides have both and put them in the same order, which the merge
 * never breaks. Otherwise the side that changed the pair's order against the base wins
 * (weight 2), and a pair only one side has (one of them new there, or deleted on the other
 * side but kept for a conflict) is that side's order (weight 1).
 */
interface PairWish {
  dir: -1 | 0 | 1;
  agreed: boolean;
  weight: number;
}

type Positions = Map<string, number>;

function pairWish(x: string, y: string, base: Positions, ours: Positions, theirs: Positions): PairWish {
  const order = (side: Positions): -1 | 0 | 1 => {
    const a = side.get(x);
    const b = side.get(y);
    return a === undefined || b === undefined ? 0 : a < b ? -1 : 1;
  };
  const o = order(ours);
  const t = order(theirs);
  if (o !== 0 && o === t) return { dir: o, agreed: true, weight: 4 };
  if (o !== 0 && t !== 0) return { dir: order(base) === o ? t : o, agreed: false, weight: 2 };
  return { dir: o || t, agreed: false, weight: o || t ? 1 : 0 };
}

export interface MergedOrder {
  order: string[];
  /** Ids both sides moved to different places, and whose place each took. */
  movedBoth: { id: string; kept: "ours" | "theirs" | "both" }[];
  /** Ids a side moved whose new order against some other id gave way to the other side's moves (a cycle). */
  unkept: { id: string; side: "ours" | "theirs" }[];
}

/**
 * Merge three orders of patch ids. `survivors` are the ids the result holds. Read as
 * pairwise orders, each merged three-way: an order both sides keep is kept (never broken,
 * collab-17 F8's fuzzer), a pair one side reordered takes that side's order, a pair only one
 * side has takes that side's. Pairwise wishes can form a cycle (ours swapped a and b, theirs
 * b and c): the ids neither side moved are laid out in the base's order, and each moved or
 * added id goes, in its side's order, where it breaks the fewest wishes, the agreed ones
 * first; among equal places, the one nearest to where its side put it (after its nearest
 * predecessor there). Ours are placed first, so at one anchor theirs (already published)
 * end up before ours, as a rebase of ours onto theirs would put them.
 */
export function mergeOrder(base: string[], ours: string[], theirs: string[], survivors: Set<string>): MergedOrder {
  const stillO = unmoved(base, ours);
  const stillT = unmoved(base, theirs);
  const positions = (list: string[]): Positions => new Map(list.map((id, i) => [id, i]));
  const posB = positions(base);
  const posO = positions(ours);
  const posT = positions(theirs);
  // A patch the other side deleted counts too: kept for a delete/modify conflict, it goes where
  // its side put it (t22 F1: its move was dropped without a word).
  const movedO = new Set(ours.filter((id) => posB.has(id) && !stillO.has(id)));
  const movedT = new Set(theirs.filter((id) => posB.has(id) && !stillT.has(id)));
  const order = base.filter((id) => survivors.has(id) && !movedO.has(id) && !movedT.has(id));
  const placed = new Set(order);
  const place = (side: string[], id: string, otherMoved: Set<string>) => {
    // Where its side put it: after its nearest predecessor there that is placed and that
    // the other side did not move away (it no longer marks the same place).
    let anchor = 0;
    for (let j = side.indexOf(id) - 1; j >= 0; j--) {
      if (otherMoved.has(side[j]) && !(movedO.has(side[j]) && movedT.has(side[j]))) continue;
      const k = order.indexOf(side[j]);
      if (k !== -1) {
        anchor = k + 1;
        break;
      }
    }
    // cost(p) of putting it at p: wishes "after y" for y at p or later, "before y" for y before p.
    const n = order.length;
    const agreedAt = new Int32Array(n + 1);
    const weightAt = new Int32Array(n + 1);
    const wishes = order.map((y) => pairWish(id, y, posB, posO, posT));
    for (const w of wishes) if (w.dir === 1) (w.agreed ? agreedAt : weightAt)[0] += w.agreed ? 1 : w.weight;
    for (let p = 1; p <= n; p++) {
      const w = wishes[p - 1];
      agreedAt[p] = agreedAt[p - 1] + (w.agreed ? (w.dir === -1 ? 1 : w.dir === 1 ? -1 : 0) : 0);
      weightAt[p] = weightAt[p - 1] + (w.agreed ? 0 : w.dir === -1 ? w.weight : w.dir === 1 ? -w.weight : 0);
    }
    let best = anchor;
    for (let p = 0; p <= n; p++) {
      const better = agreedAt[p] - agreedAt[best] || weightAt[p] - weightAt[best] || Math.abs(p - anchor) - Math.abs(best - anchor);
      if (better < 0) best = p;
    }
    order.splice(best, 0, id);
    placed.add(id);
  };
  for (const id of ours) if (survivors.has(id) && !placed.has(id) && (!posB.has(id) || movedO.has(id))) place(ours, id, movedT);
  for (const id of theirs) if (survivors.has(id) && !placed.has(id) && (!posB.has(id) || movedT.has(id))) place(theirs, id, movedO);
  // Kept ids that only one side still has and nobody placed (e.g. a delete/modify conflict).
  for (const id of survivors) if (!placed.has(id)) place(posO.has(id) ? ours : theirs, id, new Set());
  // An id both sides moved, to places that differ: whose place it has, said in the notes.
  const at = positions(order);
  const movedBoth: { id: string; kept: "ours" | "theirs" | "both" }[] = [];
  for (const id of movedO) {
    if (!movedT.has(id) || !at.has(id)) continue;
    const others = order.filter((y) => y !== id && posO.has(y) && posT.has(y));
    const sideOf = (side: Positions) => others.every((y) => side.get(id)! < side.get(y)! === at.get(id)! < at.get(y)!);
    const asOurs = sideOf(posO);
    const asTheirs = sideOf(posT);
    if (asOurs && asTheirs) continue; // moved to the same place on both sides
    movedBoth.push({ id, kept: asOurs ? "ours" : asTheirs ? "theirs" : "both" });
  }
  // A one-sided reorder that gave way to a cycle (ours' moves and theirs' cannot all hold):
  // said, so the user checks the order. Such a pair always has an id one side moved.
  const unkept: { id: string; side: "ours" | "theirs" }[] = [];
  for (const [moved, side] of [
    [movedO, "ours"],
    [movedT, "theirs"],
  ] as const) {
    for (const id of moved) {
      if (!at.has(id) || unkept.some((u) => u.id === id)) continue;
      const sidePos = side === "ours" ? posO : posT;
      const broken = order.some((y) => {
        if (y === id) return false;
        const wish = pairWish(id, y, posB, posO, posT);
        return (
          wish.weight === 2 && sidePos.get(id)! < sidePos.get(y)! === (wish.dir === -1) && at.get(id)! < at.get(y)! !== (wish.dir === -1)
        );
      });
      if (broken) unkept.push({ id, side });
    }
  }
  return { order, movedBoth, unkept };
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
  const series = sides[0] ? Series.emptyLike(Series.fromBytes(sides[0])) : Series.empty();
  let prev: string | null = null;
  for (const { entry, notes } of merged) {
    series.insertAfter(prev, entry, notes);
    prev = entry.name;
  }
  series.setTrailing(trailing);
  const text = series.serialize();
  return sides.find((side) => Series.fromBytes(side).serialize() === text) ?? nameToBytes(text);
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
