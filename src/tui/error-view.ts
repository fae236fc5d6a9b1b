/**
 * How a refusal reads in the status line: the error's message and its details, taken
 * from PqError's structured fields (code, details, and a `data` object when the error
 * carries one), never parsed out of the message text.
 */
import type { PqError } from "../errors.js";

/**
 * A PqError by shape, not by class: the CLI runs as one bundled file and loads the TUI's
 * modules separately (dist/tui), so the Stack throws the bundle's PqError class, not ours.
 */
function isPqError(e: unknown): e is PqError {
  return e instanceof Error && typeof (e as PqError).code === "string" && Array.isArray((e as PqError).details);
}

export interface ErrorView {
  code: string;
  message: string;
  details: string[];
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export function errorView(e: unknown): ErrorView {
  if (isPqError(e)) {
    const details = [...e.details];
    // Structured failure data (file and hunk per failure), when the error carries it.
    const data = (e as any).data;
    const failures: unknown = data && typeof data === "object" ? (data.failures ?? data.hunks) : undefined;
    if (Array.isArray(failures)) {
      for (const f of failures) {
        if (!f || typeof f !== "object") continue;
        const where = [f.path ?? f.file, f.hunk !== undefined ? `hunk #${f.hunk}` : null, f.line !== undefined ? `at line ${f.line}` : null].filter(Boolean).join(" ");
        const line = `${where}${f.reason ? `: ${f.reason}` : ""}`;
        if (where && !details.some((d) => d.includes(where))) details.push(line);
      }
    }
    return { code: e.code, message: e.message, details };
  }
  const err = e as Error;
  return { code: "internal", message: String(err?.message ?? e), details: [] };
}
