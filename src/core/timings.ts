/**
 * Phase marks for speed work: with PQ_TIMINGS=1 the CLI prints, at exit, when each phase of
 * the command started (ms since the process started). Finding where a 200 ms command's time
 * goes needs no profiler this way (a profiler's own start-up and sampling distort it). The
 * marks are only recorded here; printing them is the CLI's business.
 */
export const timingsEnabled = Boolean(process.env.PQ_TIMINGS);
const marks: [string, number][] = [];

export function mark(phase: string): void {
  if (timingsEnabled) marks.push([phase, performance.now()]);
}

/** One line per mark so far: when it started and how long after the previous one. */
export function timingLines(): string[] {
  let previous = 0;
  return marks.map(([phase, at]) => {
    const line = `pq timings: ${at.toFixed(1).padStart(7)} ms  (+${(at - previous).toFixed(1).padStart(5)})  ${phase}`;
    previous = at;
    return line;
  });
}
