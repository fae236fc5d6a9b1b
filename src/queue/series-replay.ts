/**
 * One tree's change to a series file made again over another tree's change to the same file.
 *
 * Several trees can use one queue directory (src/queue/queue-lock.ts keeps their commands
 * apart). A pq killed mid-operation in one tree leaves its journal, and with it the series that
 * operation was to write; the other tree's commands go on meanwhile (the dead pq's queue lock is
 * taken over) and may add or remove their own lines. Completing the journal by writing its series
 * over the file dropped the other tree's line (t140 N2): the change is made again over the file as
 * it is now instead, when the two changes touch different lines.
 *
 * Lines are matched by what they are: a patch's line by its name (its guards and options may
 * change), any other line (a comment, a blank) by its text and how many times it came before.
 */

/** A series text's lines, each with the key it is matched by. */
interface KeyedLines {
  keys: string[];
  text: Map<string, string>;
  /** Whether the text ended with a newline. */
  newline: boolean;
}

/** The lines of `text` with their keys, or null when it names one patch twice (a series pq refuses to read). */
function keyed(text: string): KeyedLines | null {
  const newline = text.endsWith("\n");
  const lines = text === "" ? [] : (newline ? text.slice(0, -1) : text).split("\n");
  const seen = new Map<string, number>();
  const keys: string[] = [];
  const byKey = new Map<string, string>();
  for (const line of lines) {
    const trimmed = line.trim();
    let key: string;
    if (trimmed === "" || trimmed.startsWith("#")) {
      const n = (seen.get(line) ?? 0) + 1;
      seen.set(line, n);
      key = `\0${n}\0${line}`;
    } else key = `patch ${trimmed.split(/\s+/)[0]}`;
    if (byKey.has(key)) return null;
    keys.push(key);
    byKey.set(key, line);
  }
  return { keys, text: byKey, newline };
}

/** Whether `side` lists a patch `base` does not (a new patch, or a rename's new name). */
const addsPatch = (side: KeyedLines, base: KeyedLines) => side.keys.some((key) => key.startsWith("patch ") && !base.text.has(key));

/** Whether both changes of `base` took one of its patches out. */
const takenOutByBoth = (base: KeyedLines, ours: KeyedLines, theirs: KeyedLines) =>
  base.keys.some((key) => key.startsWith("patch ") && !ours.text.has(key) && !theirs.text.has(key));

/** Whether the keys (or names) `a` and `b` share are in the same order in both. */
export function sameOrder(a: string[], b: string[]): boolean {
  const inB = new Set(b);
  const inA = new Set(a);
  const left = a.filter((k) => inB.has(k));
  const right = b.filter((k) => inA.has(k));
  return left.every((k, i) => k === right[i]);
}

/**
 * The series `ours` (one operation's change of `base`) made again over `theirs` (another change
 * of `base`): the text with both changes, or null when they touch the same line differently,
 * both reorder the lines they share, or both take one patch out while either adds a line (a
 * rename cannot be told from a delete and a new patch).
 */
export function replaySeriesChange(base: string, ours: string, theirs: string): string | null {
  if (theirs === base || theirs === ours) return ours;
  if (ours === base) return theirs;
  const [b, o, t] = [keyed(base), keyed(ours), keyed(theirs)];
  if (b === null || o === null || t === null) return null;
  // Each line's text in the result, or null where the result has no such line.
  const result = new Map<string, string | null>();
  for (const key of new Set([...b.keys, ...o.keys, ...t.keys])) {
    const [tb, to, tt] = [b.text.get(key), o.text.get(key), t.text.get(key)];
    let kept: string | null | undefined;
    if (to === tb) kept = tt ?? null;
    else if (tt === tb) kept = to ?? null;
    else if (to === tt) kept = to ?? null;
    else return null; // both changed it, differently (or one changed what the other removed)
    result.set(key, kept);
  }
  // A patch both sides took out while one of them added a line: a rename (or a fold into a new
  // name) beside the other's rename or delete of the same patch, which no order of the two
  // commands gives: the patch would be listed twice, or a deleted one come back (t141 N2).
  if (takenOutByBoth(b, o, t) && (addsPatch(o, b) || addsPatch(t, b))) return null;
  // The lines both kept from the base stay in one side's order: the file's as it is now, unless
  // the operation moved them (a reorder), and no merge where both did. A line the operation
  // renamed then takes the place of its old name (after the line it came after).
  const ourMove = !sameOrder(b.keys, o.keys);
  const theirMove = !sameOrder(b.keys, t.keys);
  if (ourMove && theirMove && !sameOrder(o.keys, t.keys)) return null;
  const [first, second] = ourMove ? [o.keys, t.keys] : [t.keys, o.keys];
  const order = first.filter((k) => result.get(k) != null);
  placeAmong(order, second, (key) => result.get(key) != null);
  const lines = order.map((k) => result.get(k)!);
  return lines.length ? `${lines.join("\n")}${o.newline || t.newline ? "\n" : ""}` : "";
}

/**
 * Adds to `order` the keys of `second` it lacks that `wanted` accepts, each right after the line
 * it comes after in `second` (else before the line it comes before; at the end when neither is
 * in `order`): a renamed patch stays on the patch below it, wherever the other side moved the
 * one above it (t141 N3).
 */
function placeAmong(order: string[], second: string[], wanted: (key: string) => boolean): void {
  const placed = new Set(order);
  for (let i = 0; i < second.length; i++) {
    const key = second[i];
    if (placed.has(key) || !wanted(key)) continue;
    let at = -1;
    for (let j = i - 1; j >= 0 && at === -1; j--) if (placed.has(second[j])) at = order.indexOf(second[j]) + 1;
    for (let j = i + 1; j < second.length && at === -1; j++) if (placed.has(second[j])) at = order.indexOf(second[j]);
    order.splice(at === -1 ? order.length : at, 0, key);
    placed.add(key);
  }
}

/**
 * Where the two changes do not merge (replaySeriesChange gave null): `ours` as it is, with the
 * lines of the patches only `theirs` added, each placed as the merge places a line, so that the
 * other tree's new patch stays listed (t141 N10: a conflict elsewhere in the file dropped it, and
 * that tree's next command refused over its applied patch). Null when there is no such line, or
 * when one may be a rename of a patch `ours` renamed or took out too (it would be listed twice).
 */
export function withTheirNewPatches(base: string, ours: string, theirs: string): string | null {
  const [b, o, t] = [keyed(base), keyed(ours), keyed(theirs)];
  if (b === null || o === null || t === null) return null;
  const isNew = (key: string) => key.startsWith("patch ") && !b.text.has(key) && !o.text.has(key);
  if (!t.keys.some(isNew)) return null;
  // A patch both took out, where ours also added a line (a rename): theirs' new line may be the
  // same patch's other new name, listed twice. Ours only took it out (a delete): theirs' rename of
  // it stays, so that tree's applied patch stays listed (t147 N1).
  if (addsPatch(o, b) && takenOutByBoth(b, o, t)) return null;
  const order = [...o.keys];
  placeAmong(order, t.keys, isNew);
  const lines = order.map((k) => o.text.get(k) ?? t.text.get(k)!);
  return `${lines.join("\n")}${o.newline || t.newline || !ours ? "\n" : ""}`;
}
