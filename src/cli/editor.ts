/**
 * Editing a message in the user's editor, as git and hg do. An empty result aborts (git's
 * "Aborting commit due to empty commit message"): nothing is changed.
 */
import { childProcess } from "../core/child-process.js";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { readText, readUpTo } from "../tree/files.js";
import { PqError } from "../errors.js";
import { withTextSaved } from "../core/refused-text.js";
import { refuseDiffInMessage } from "../queue/patch-text.js";
import { commentCharFor, commentLine, withoutCommentLines } from "../core/comment-lines.js";

export function editText(initial: string, cwd: string, again?: (saved: string) => string): string {
  const editor = process.env.VISUAL || process.env.EDITOR;
  if (!editor) throw new PqError("usage", "no editor: set $EDITOR (or use -m)");
  const dir = mkdtempSync(join(tmpdir(), "pq-edit-"));
  const file = join(dir, "PQ_EDITMSG");
  const comment = commentCharFor(initial);
  writeFileSync(file, `${initial}\n${commentLine(comment, `Lines starting with '${comment}' are ignored; an empty message aborts.`)}`);
  try {
    const r = childProcess().spawnSync(`${editor} "${file}"`, { shell: true, stdio: "inherit", cwd });
    if (r.status !== 0) throw new PqError("usage", `the editor exited with ${r.status}; nothing was changed`);
    const text = withoutCommentLines(readFileSync(file, "utf8"), comment);
    if (!text.trim()) throw new PqError("usage", "the message is empty: aborting, nothing was changed");
    try {
      refuseDiffInMessage(text, "the edited message", true);
    } catch (e) {
      throw withTextSaved(e, text, again);
    }
    return text;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The largest header file -F reads (16 MiB: far beyond any message). */
const HEADER_FILE_LIMIT = 16 * 1024 * 1024;

/** A header text from a file (-F), as the editor shows one: a saved refused edit goes on from there (t122 N10). */
export function headerFile(path: string, cwd: string): string {
  // A device or a FIFO (-F /dev/zero) was read until memory ran out (t131 N4); a header is a small regular file.
  const st = statSync(resolve(cwd, path), { throwIfNoEntry: false });
  const tooLarge = () =>
    new PqError("usage", `${path} holds more than ${HEADER_FILE_LIMIT / 1024 / 1024} MiB: no patch header is that large`, [
      "name the file the header is in (as the editor shows it, or the message alone)",
    ]);
  // A pipe (-F <(...), a FIFO) is read as git commit -F reads one, up to the limit (t133 N5).
  if (st?.isFIFO()) return withOpened(resolve(cwd, path), (fd) => readUpTo(fd, HEADER_FILE_LIMIT, tooLarge)).toString("utf8");
  if (st && !st.isFile())
    throw new PqError("usage", `${path} is not a regular file or a pipe`, [
      "name the file the header is in (as the editor shows it, or the message alone)",
    ]);
  if (st && st.size > HEADER_FILE_LIMIT) throw tooLarge();
  const text = readText(resolve(cwd, path));
  if (text === null)
    throw new PqError("not-found", `${path} does not exist (or is no file pq can read)`, ["name the file the header is in"]);
  return Buffer.from(text, "latin1").toString("utf8");
}

function withOpened<T>(path: string, use: (fd: number) => T): T {
  const fd = openSync(path, "r");
  try {
    return use(fd);
  } finally {
    closeSync(fd);
  }
}
