/**
 * Editing a message in the user's editor, as git and hg do. An empty result aborts (git's
 * "Aborting commit due to empty commit message"): nothing is changed.
 */
import { childProcess } from "../core/child-process.js";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PqError } from "../errors.js";
import { refuseDiffInMessage } from "../queue/patch-text.js";

/**
 * A message the editor gave back that pq refuses (a "---" line, a quoted diff: the patch file
 * would cut it there) is not lost with the temporary file: it is saved, and the refusal says where.
 */
function keepRefusedText(text: string, check: () => void): void {
  try {
    check();
  } catch (e) {
    if (!(e instanceof PqError)) throw e;
    const saved = join(tmpdir(), `pq-message-${process.pid}-${Date.now()}.txt`);
    writeFileSync(saved, text);
    throw new PqError(e.code, `${e.message}; nothing was changed`, [...e.details, `your text is saved in ${saved}`], e.data);
  }
}

export function editText(initial: string, cwd: string): string {
  const editor = process.env.VISUAL || process.env.EDITOR;
  if (!editor) throw new PqError("usage", "no editor: set $EDITOR (or use -m)");
  const dir = mkdtempSync(join(tmpdir(), "pq-edit-"));
  const file = join(dir, "PQ_EDITMSG");
  writeFileSync(file, initial + "\n# Lines starting with '#' are ignored; an empty message aborts.\n");
  try {
    const r = childProcess().spawnSync(`${editor} "${file}"`, { shell: true, stdio: "inherit", cwd });
    if (r.status !== 0) throw new PqError("usage", `the editor exited with ${r.status}; nothing was changed`);
    const text = readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => !l.startsWith("#"))
      .join("\n");
    if (!text.trim()) throw new PqError("usage", "the message is empty: aborting, nothing was changed");
    keepRefusedText(text, () => refuseDiffInMessage(text, "the edited message"));
    return text;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
