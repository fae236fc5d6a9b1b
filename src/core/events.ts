/**
 * Progress reporting for long operations. Library calls never print: they call
 * `onEvent` and the CLI (lines or a progress bar) or the TUI (state) renders it.
 */
export interface ProgressEvent {
  /** What kind of step: "push", "pop", "apply", "build", "boot", "ci-cell", "bisect-step", ... */
  kind: string;
  /** Human-readable one-liner, already formatted ("applying 03-mmu-ops.patch"). */
  message: string;
  /** Position within the operation when known (1-based) and total. */
  current?: number;
  total?: number;
  /** Anything structured a renderer may want. */
  data?: Record<string, unknown>;
}

export type EventSink = (event: ProgressEvent) => void;

export const ignoreEvents: EventSink = () => {};
