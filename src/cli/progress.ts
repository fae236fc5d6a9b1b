import type { EventSink, ProgressEvent } from "../core/events.js";
import type { CliIO } from "./io.js";

/**
 * Renders library progress events: one redrawn bar on a terminal, plain lines otherwise
 * (only for the event kinds a log reader cares about, never per-file noise).
 */
export function progressSink(io: CliIO, plainKinds: string[] = [], opts: { plainOn?: "out" | "err" } = {}): EventSink & { done(): void } {
  let drawn = false;
  const bar = (e: ProgressEvent) => {
    const width = 24;
    const filled = e.total ? Math.round((width * (e.current ?? 0)) / e.total) : 0;
    const count = e.total ? ` ${e.current}/${e.total}` : "";
    const line = `[${"#".repeat(filled)}${".".repeat(width - filled)}]${count} ${e.message}`;
    process.stdout.write(`\r\x1b[2K${line.slice(0, (process.stdout.columns || 100) - 1)}`);
    drawn = true;
  };
  const sink = ((e: ProgressEvent) => {
    // An interrupted operation completed (and where edits were saved) is news, not progress:
    // always a line of its own, on stderr, whatever the output is.
    if (e.kind === "recover" || e.kind === "note") {
      sink.done();
      io.err(`pq: ${e.message}`);
    } else if (io.isTTY) bar(e);
    // ci's and bisect's progress is not their output: on stderr (plainOn), as git's, so `pq ci > matrix.txt` holds the matrix alone (ci-17 F13).
    else if (plainKinds.includes(e.kind)) (opts.plainOn === "err" ? io.err : io.out)(e.message);
  }) as EventSink & { done(): void };
  sink.done = () => {
    if (drawn) process.stdout.write("\r\x1b[2K");
    drawn = false;
  };
  return sink;
}
