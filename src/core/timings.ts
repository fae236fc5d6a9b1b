/**
 * PQ_TIMINGS=1 prints, at exit, when each phase of the command started (ms since the process
 * started) to stderr: how the speed work finds where a command's time goes without a profiler
 * (a profiler's own start-up and sampling distort a 200 ms command).
 */
const enabled = Boolean(process.env.PQ_TIMINGS);
const marks: [string, number][] = [];

export function mark(phase: string): void {
  if (!enabled) return;
  if (marks.length === 0) process.on("exit", report);
  marks.push([phase, performance.now()]);
}

function report(): void {
  marks.push(["exit", performance.now()]);
  let previous = 0;
  for (const [phase, at] of marks) {
    process.stderr.write(`pq timings: ${at.toFixed(1).padStart(7)} ms  (+${(at - previous).toFixed(1).padStart(5)})  ${phase}\n`);
    previous = at;
  }
}
