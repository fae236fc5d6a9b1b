/**
 * `/` search over names and subjects. Names are in memory; subjects are read on demand
 * (into the same cache the series pane fills), yielding to the event loop every 200
 * patches so a search through 10,000 files never freezes the screen.
 */
import type { Stack } from "../queue/stack.js";
import { displaySubject, shortAuthor, type HeaderInfo } from "./use-headers.js";
import type { SeriesRow } from "./use-stack.js";

export async function findMatch(
  stack: Stack,
  rows: SeriesRow[],
  headers: Map<string, HeaderInfo>,
  term: string,
  from: number,
  dir: 1 | -1,
): Promise<number | null> {
  // Compared in one Unicode form: a subject or name stored decomposed is found by what a keyboard types (t73 N3).
  const needle = term.normalize("NFC").toLowerCase();
  const total = rows.length;
  for (let step = 1; step <= total; step++) {
    const i = (((from + dir * step) % total) + total) % total;
    const row = rows[i];
    if (row.name.normalize("NFC").toLowerCase().includes(needle)) return i;
    let h = headers.get(row.name);
    if (!h) {
      const parsed = await stack.patchHeader(row.name).catch(() => null);
      h = { subject: displaySubject(parsed?.subject), author: shortAuthor(parsed?.author) };
      headers.set(row.name, h);
    }
    if (h.subject.normalize("NFC").toLowerCase().includes(needle)) return i;
    if (step % 200 === 0) await new Promise((r) => setImmediate(r));
  }
  return null;
}
