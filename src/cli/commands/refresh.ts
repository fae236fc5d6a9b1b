import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PqError } from "../../errors.js";
import { formatHeader } from "../../mail/header.js";
import { defineCommand } from "../io.js";
import { openStack } from "../open-stack.js";
import { resolvePatch } from "../../queue/queries.js";

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
      .option("patch", { alias: "p", type: "string", describe: "put the named files' changes into this lower applied patch instead of the top one" })
      .option("json", { type: "boolean" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    if (args.patch !== undefined) {
      const { absorb } = await import("../../queue/absorb.js");
      const { printAbsorbReport } = await import("./absorb.js");
      const report = await absorb(stack, { into: resolvePatch(stack, args.patch), files: args.files ?? [] });
      if (args.json) io.out(JSON.stringify(report, null, 2));
      else printAbsorbReport(io, report);
      return;
    }
    let header;
    if (args.edit) {
      const current = await stack.patchHeader(stack.top() ?? "");
      const edited = editText(formatHeader(current).replace(/\n---\n$/, "\n"), io.cwd);
      const { parseHeader } = await import("../../mail/header.js");
      header = parseHeader(edited);
    }
    const report = await stack.refresh({ message: args.message, header, files: args.files, force: args.force });
    if (args.json) {
      io.out(JSON.stringify(report, null, 2));
      return;
    }
    io.out(`refreshed ${report.name}: ${report.files.length ? report.files.join(", ") : "no changes"}`);
    if (report.untracked.length) io.out(`not taken (untracked; pq add or pq refresh FILE to take them): ${report.untracked.join(", ")}`);
  },
});
