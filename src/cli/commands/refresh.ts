import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PqError } from "../../errors.js";
import { formatHeader } from "../../mail/header.js";
import { defineCommand } from "../io.js";
import { openStack } from "../open-stack.js";

/** Let the user edit text in $VISUAL/$EDITOR, as hg and git do. */
export function editText(initial: string, cwd: string): string {
  const editor = process.env.VISUAL || process.env.EDITOR;
  if (!editor) throw new PqError("usage", "no editor: set $EDITOR (or use -m)");
  const dir = mkdtempSync(join(tmpdir(), "pq-edit-"));
  const file = join(dir, "PQ_EDITMSG");
  writeFileSync(file, initial);
  try {
    const r = spawnSync(`${editor} "${file}"`, { shell: true, stdio: "inherit", cwd });
    if (r.status !== 0) throw new PqError("usage", `the editor exited with ${r.status}; nothing was changed`);
    return readFileSync(file, "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export default defineCommand({
  command: "refresh [files..]",
  describe: "update the top patch with the tree's changes (named files are added to it first)",
  builder: (y) =>
    y
      .positional("files", { type: "string", array: true, describe: "extra files (e.g. new ones) to take" })
      .option("message", { alias: "m", type: "string", describe: "replace the patch's message" })
      .option("edit", { alias: "e", type: "boolean", describe: "edit the message in $EDITOR" })
      .option("force", { alias: "f", type: "boolean", describe: "refresh even if the patch file changed in the queue since it was pushed" })
      .option("signoff", { alias: "s", type: "boolean", describe: "add your Signed-off-by: (git user.name/user.email)" })
      .option("user", { alias: "u", type: "string", describe: "make AUTHOR (\"Name <mail>\") the patch's author" })
      .option("json", { type: "boolean" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    let header;
    if (args.edit) {
      const current = await stack.patchHeader(stack.top() ?? "");
      const edited = editText(formatHeader(current).replace(/\n---\n$/, "\n"), io.cwd);
      const { parseHeader } = await import("../../mail/header.js");
      header = parseHeader(edited);
    }
    if ((args.signoff || args.user) && stack.top()) {
      // A shared queue's refresh: the patch keeps its From: unless -u says otherwise.
      const { addSignoff } = await import("../../collab/signoff.js");
      const { splitMessage } = await import("../../queue/patch-text.js");
      header ??= await stack.patchHeader(stack.top() ?? "");
      if (args.message !== undefined) header = { ...header, ...splitMessage(args.message) };
      if (args.user) header = { ...header, author: String(args.user) };
      if (args.signoff) {
        const git = await stack.repo();
        const who = git ? `${(await git.run(["config", "user.name"])).trim()} <${(await git.run(["config", "user.email"])).trim()}>` : "";
        if (!/^.+ <.+>$/.test(who)) throw new PqError("usage", "refresh -s needs your git identity (git config user.name / user.email)");
        header = addSignoff(header, who);
      }
    }
    const report = await stack.refresh({ message: header ? undefined : args.message, header, files: args.files, force: args.force });
    if (args.json) {
      io.out(JSON.stringify(report, null, 2));
      return;
    }
    io.out(`refreshed ${report.name}: ${report.files.length ? report.files.join(", ") : "no changes"}`);
    if (report.untracked.length) io.out(`not taken (untracked; pq add or pq refresh FILE to take them): ${report.untracked.join(", ")}`);
  },
});
