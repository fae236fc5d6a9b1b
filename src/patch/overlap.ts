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

/**
 * Whether a created file's text is a deleted one's, moved (and maybe edited): at least half of
 * the longer one's lines the same, as git's rename detection counts a move (its default 50%).
 * Binary contents are never paired.
 */
export function sameFileMoved(deleted: string | null, created: string | null): boolean {
  if (deleted === null || created === null || isBinaryContent(deleted) || isBinaryContent(created)) return false;
  const [la, lb] = [splitLines(deleted), splitLines(created)];
  return commonLines(la, lb) * 2 >= Math.max(la.length, lb.length, 1);
}
