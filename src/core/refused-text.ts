/**
 * A message the user wrote in an editor that pq then refuses (a "---" line, a quoted diff: the
 * patch file would cut it there) is not lost with the editor's temporary file: it is saved,
 * and the refusal says where. The CLI's `-e` and the TUI's `e` both go through here.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isPqError, PqError } from "../errors.js";

/** The refusal `e` of `text`, with the text saved to a file it names (anything but a PqError is returned as it is). */
export function withTextSaved(
  e: unknown,
  text: string,
  /** The command that starts the editor on the saved text (`pq header -e -F FILE`): "run the command again" opened the old message (t122 N10). */
  again?: (saved: string) => string,
): unknown {
  // By shape, not class: the TUI is a bundle of its own, and the stack it drives throws the
  // CLI bundle's PqError (see isPqError); a class test let the TUI's refusals through unsaved (verify-11).
  if (!isPqError(e)) return e;
  // In a directory of its own (mkdtemp: a name no one can guess or plant a link at, mode 0700),
  // created new and readable by its owner alone: a message may be private (t58 N2).
  const saved = join(mkdtempSync(join(tmpdir(), "pq-message-")), "message.txt");
  writeFileSync(saved, text, { flag: "wx", mode: 0o600 });
  const message = /nothing was changed$/.test(e.message) ? e.message : `${e.message}; nothing was changed`;
  // First among the details: the TUI's status line shows the first ones.
  return new PqError(
    e.code,
    message,
    [`your text is saved in ${saved}${again ? ` (${again(saved)} opens it again in the editor)` : ""}`, ...e.details],
    e.data,
  );
}
