import { shellWord } from "../../core/shell-word.js";
import { PqError } from "../../errors.js";
import { formatHeader, type PatchHeader } from "../../mail/header.js";
import { withTextSaved } from "../../core/refused-text.js";
import { authorArg, defineCommand } from "../io.js";
import { openStack, treePaths } from "../open-stack.js";
import { editText, headerFile } from "../editor.js";
import { splitMessage } from "../../queue/patch-text.js";
import { resolvePatch } from "../../queue/queries.js";
import { fileList, PACKAGING_NOTE, stagedApartNote } from "../reports.js";

export default defineCommand({
  command: "refresh [files..]",
  describe: "update the top patch with the tree's changes (FILES: those files' changes alone, new ones included)",
  builder: (y) =>
    y
      .positional("files", {
        type: "string",
        array: true,
        describe: "take only these files' changes (a new file too); the rest stay unrefreshed",
      })
      .option("message", { alias: "m", type: "string", describe: "replace the patch's message" })
      .option("edit", { alias: "e", type: "boolean", describe: "edit the message in $EDITOR" })
      .option("file", {
        alias: "F",
        type: "string",
        describe: "take the header from FILE, as the editor shows it (with -e: edit it first)",
      })
      .option("force", {
        alias: "f",
        type: "boolean",
        describe:
          "refresh even if the patch file changed in the queue since it was pushed, .rej files are left, or a push --merge's conflict markers are still in the files",
      })
      .option("patch", {
        alias: "p",
        type: "string",
        describe: "put the named files' changes into this lower applied patch instead of the top one",
      })
      .option("signoff", { alias: "s", type: "boolean", describe: "add your Signed-off-by: line" })
      .option("short", {
        type: "boolean",
        describe: "take only the changes of files the patch already has (and FILES), as hg qrefresh --short (pq's -s is git's --signoff)",
      })
      .option("user", { alias: ["u", "author"], type: "string", describe: 'make AUTHOR ("Name <mail>") the patch\'s author' })
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    if (args.patch !== undefined) {
      const { absorb } = await import("../../queue/absorb.js");
      const { printAbsorbReport } = await import("./absorb.js");
      const report = await absorb(stack, {
        into: resolvePatch(stack, args.patch),
        files: treePaths(stack, io, (args.files as string[] | undefined) ?? []),
      });
      if (args.json) io.out(JSON.stringify(report, null, 2));
      else printAbsorbReport(io, report, stack.tree);
      return;
    }
    let header;
    let edited: { text: string; top: string; was: PatchHeader } | undefined;
    // -m and -u set the header; with -e the editor opens on it, as git commit -e -m does, and what is
    // typed there is the header (t122 N11: -m was dropped without a word).
    const fromFile = args.file !== undefined ? headerFile(String(args.file), io.cwd) : undefined;
    if (args.edit || fromFile !== undefined || args.user !== undefined) {
      // A patch keeps its From: author unless -u changes it (a shared queue's refresh).
      const top = stack.top();
      if (!top) throw new PqError("refused", "no patch is applied", ["pq new NAME starts one"]);
      const current = await stack.patchHeader(top);
      header = current;
      if (args.message !== undefined) header = { ...header, ...splitMessage(args.message) };
      if (args.user !== undefined) header = { ...header, author: authorArg(String(args.user), "--user")! };
      if (args.edit || fromFile !== undefined) {
        const again = (saved: string) => `pq refresh -e -F ${shellWord(saved)}`;
        const text = args.edit ? editText(fromFile ?? formatHeader(header).replace(/\n---\n$/, "\n"), io.cwd, again) : fromFile!;
        const { parseHeader } = await import("../../mail/header.js");
        header = parseHeader(text);
        edited = { text, top, was: current };
      }
    }
    let files = args.files ? treePaths(stack, io, args.files as string[]) : undefined;
    // hg's qrefresh --short: the patch's own files (and those named), other edits left unrefreshed (t129 N6).
    if (args.short) {
      const top = stack.appliedRecords().at(-1);
      if (!top) throw new PqError("refused", "no patch is applied", ["pq new NAME starts one"]);
      files = [...new Set([...Object.keys(top.files), ...(files ?? [])])];
      if (!files.length)
        throw new PqError("refused", `${top.name} has no files yet: --short takes the changes of the files a patch already has`, [
          "pq refresh FILES takes new ones (or pq refresh, every change)",
        ]);
    }
    const report = await stack
      .refresh({
        message: header ? undefined : args.message,
        header,
        files,
        force: args.force,
        signoff: args.signoff,
        ...(edited ? { editedFrom: { top: edited.top, was: edited.was } } : {}),
      })
      .catch((e: unknown) => {
        // What was typed in the editor is not lost with the refusal.
        throw edited ? withTextSaved(e, edited.text, (saved) => `pq refresh -e -F ${shellWord(saved)}`) : e;
      });
    if (args.json) {
      io.out(JSON.stringify(report, null, 2));
      return;
    }
    io.out(
      report.unchanged
        ? `${report.name} is unchanged (nothing to refresh; the patch file was left as it is)`
        : report.took
          ? // A refresh of named files says what it took, and the patch's files apart (t125 N12: the list named files it left as they were).
            `refreshed ${report.name}: ${report.took.length ? fileList(report.took) : report.rewritten ? "no changes taken, the patch written anew for this tree" : "no changes taken"} (the patch's files: ${report.files.length ? fileList(report.files) : "none"})`
          : `refreshed ${report.name}: ${report.files.length ? fileList(report.files) : "no changes"}`,
    );
    if (report.stagedApart?.length) {
      io.err(stagedApartNote("the patch took", report.stagedApart, io, stack.tree));
    }
    if (report.takenUntracked)
      io.out(
        `taken, untracked, as where a file moved with mv went (the most alike, as git pairs a move): ${fileList(report.takenUntracked)}; if it is not, pq undo takes the refresh back (then move it away and refresh again)`,
      );
    if (report.resolved?.length)
      io.out(
        `taken as the tree has ${report.resolved.length === 1 ? "it" : "them"} too, as the push left ${report.resolved.length === 1 ? "it" : "them"} to resolve (a hunk not in the tree is no longer in the patch; pq undo brings it back): ${fileList(report.resolved)}`,
      );
    if (report.notTaken?.length)
      io.out(`left unrefreshed (not named; pq refresh without FILES takes every change): ${fileList(report.notTaken)}`);
    if (report.untracked.length) io.out(`not taken (untracked; pq add or pq refresh FILE to take them): ${fileList(report.untracked)}`);
    if (report.notFiles?.length)
      io.out(`left out (symlinks or other non-files; pq's patches hold regular files only): ${fileList(report.notFiles)}`);
    if (report.packaging?.length) io.out(`${PACKAGING_NOTE}: ${fileList(report.packaging)}`);
  },
});
