/**
 * How a refusal reads in the status line: the error's message and its details, taken
 * from PqError's structured fields (code, details, and a `data` object when the error
 * carries one), never parsed out of the message text.
 */
import { isPqError } from "../errors.js";
import { systemRefusal } from "../core/system-refusal.js";
import { wrapCells } from "./cells.js";

export interface ErrorView {
  code: string;
  message: string;
  details: string[];
}

export function errorView(e: unknown): ErrorView {
  if (isPqError(e)) {
    const details = [...e.details];
    // Structured data (file, hunk, line of a push that does not apply), when the error has
    // it and the details do not already name that file.
    // Only a patch's refusal: other errors name files too (a symlink in the way, a system
    // refusal), which are no hunk that "does not apply" (t37 N2).
    const data = (e as { data?: Record<string, unknown> }).data;
    if (e.code === "apply-failed" && data && typeof data.file === "string" && !details.some((d) => d.includes(data.file as string))) {
      const where = [
        data.file,
        typeof data.hunk === "number" ? `hunk #${data.hunk}` : null,
        typeof data.line === "number" ? `at line ${data.line}` : null,
      ];
      details.unshift(where.filter(Boolean).join(" ") + " does not apply");
    }
    return { code: e.code, message: e.message, details };
  }
  // The operating system's refusal, said as the CLI says it (t54 N3: a raw "EISDIR: illegal operation on a directory").
  const refusal = systemRefusal(e);
  if (refusal) return { code: "system", message: refusal.message, details: [refusal.next] };
  const err = e as Error;
  return { code: "internal", message: String(err?.message ?? e), details: [] };
}

/** The error as lines of at most `width` cells: "✗ message", then each detail indented. */
export function errorLines(error: ErrorView, width: number): string[] {
  return [...wrapCells(`✗ ${error.message}`, width, "  "), ...error.details.flatMap((d) => wrapCells(`  ${d}`, width, "    "))];
}
