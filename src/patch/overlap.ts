import { isBinaryContent } from "./binary.js";
import { splitLines } from "./parse.js";
/**
 * How many lines two texts have in common, counted with repeats (a multiset intersection):
 * the measure behind pairing a deleted and a created file as one file moved, and two
 * patches as one renamed. Callers choose the share that counts as alike.
 */
export function commonLines(a: Iterable<string>, b: Iterable<string>): number {
  const count = new Map<string, number>();
  for (const l of a) count.set(l, (count.get(l) ?? 0) + 1);
  let common = 0;
  for (const l of b) {
    const n = count.get(l) ?? 0;
    if (n > 0) {
      common++;
      count.set(l, n - 1);
    }
  }
  return common;
}

/** A line that says nothing of which file it is in: blank, or punctuation alone (a closing brace, a comment end). */
const trivialLine = (line: string) => !/[A-Za-z0-9]/.test(line);

/**
 * How alike two texts are as one file moved (0 to 1): the share of the longer one's lines the
 * other has too, counted with repeats, line endings and blank and punctuation-only lines left out
 * (two files of braces and blank lines are not one file); texts with no other lines are alike
 * only when equal. Binary texts are alike only when equal.
 */
export function moveSimilarity(deleted: string | null, created: string | null): number {
  if (deleted === null || created === null) return 0;
  // The same bytes are one file moved, binary or empty (t52 N4); other binary files are never alike.
  if (deleted === created) return 1;
  if (isBinaryContent(deleted) || isBinaryContent(created)) return 0;
  // Lines compared without their CR: a move that changed the line endings is still a move.
  const lines = (text: string) => splitLines(text.replaceAll("\r\n", "\n")).filter((l) => !trivialLine(l));
  const [la, lb] = [lines(deleted), lines(created)];
  if (!la.length || !lb.length) return la.length === lb.length && deleted === created ? 1 : 0;
  return commonLines(la, lb) / Math.max(la.length, lb.length);
}

/**
 * Whether a created file's text is a deleted one's, moved (and maybe edited): at least half of
 * the longer one's lines the same, as git's rename detection counts a move (its default 50%).
 */
export function sameFileMoved(deleted: string | null, created: string | null): boolean {
  return moveSimilarity(deleted, created) >= 0.5;
}

/** Of `candidates`, the one text most alike `was` as one file moved, if it is alike enough and no other is as alike. */
export function bestMove(was: string | null, candidates: string[], textOf: (path: string) => string | null): string | null {
  let best: string | null = null;
  let score = -1;
  let tie = false;
  for (const c of candidates) {
    const s = moveSimilarity(was, textOf(c));
    if (s < 0.5) continue; // git's rename detection's default: half alike
    if (s > score) [best, score, tie] = [c, s, false];
    else if (s === score) tie = true;
  }
  return tie ? null : best;
}

/**
 * Deleted and created files paired as moves, the most alike pairs first (a greedy pass in the
 * order given took a 70% match and left the 100% one unpaired: t52 N5), each at least half
 * alike and each file in one pair at most. `textOf` reads a name's text (called once per name).
 */
export function pairMoves(
  from: string[],
  to: string[],
  fromText: (name: string) => string | null,
  toText: (name: string) => string | null,
): [string, string][] {
  const targets = to.map((name) => [name, toText(name)] as const);
  const scored: [number, string, string][] = [];
  for (const f of from) {
    const was = fromText(f);
    for (const [t, text] of targets) {
      const s = moveSimilarity(was, text);
      if (s >= 0.5) scored.push([s, f, t]);
    }
  }
  scored.sort((a, b) => b[0] - a[0]);
  const [usedFrom, usedTo] = [new Set<string>(), new Set<string>()];
  const pairs: [string, string][] = [];
  for (const [, f, t] of scored) {
    if (usedFrom.has(f) || usedTo.has(t)) continue;
    usedFrom.add(f);
    usedTo.add(t);
    pairs.push([f, t]);
  }
  return pairs;
}
