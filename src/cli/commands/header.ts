import { operandWords, shellWord } from "../../core/shell-word.js";
import { formatHeader, parseHeaderKeepingFields, trimBody } from "../../mail/header.js";
import { refuseDiffInMessage } from "../../queue/patch-text.js";
import { authorArg, defineCommand } from "../io.js";
import { openStack, printJson } from "../open-stack.js";
import { editText, headerFile } from "../editor.js";
import { PqError } from "../../errors.js";
import { withTextSaved } from "../../core/refused-text.js";

export default defineCommand({
  command: "header [name]",
  describe: "show or change a patch's message and author (default: the top patch)",
  builder: (y) =>
    y
      .positional("name", { type: "string", describe: "patch (default: the top one)" })
      .option("message", { alias: "m", type: "string", describe: "new message (first line: subject)" })
      .option("author", { alias: ["u", "user"], type: "string", describe: "new author, 'Name <email>'" })
      .option("edit", { alias: "e", type: "boolean", describe: "edit the header in $EDITOR" })
      .option("file", {
        alias: "F",
        type: "string",
        describe: "take the header from FILE, as the editor shows it (with -e: edit it first)",
      })
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const name = args.name !== undefined ? stack.resolve(args.name) : stack.top();
    if (!name) throw new PqError("refused", "no patch named and none applied", ["name a patch: pq header NAME"]);
    const was = await stack.patchHeader(name);
    let header = was;
    let editedText: string | undefined;
    // -m and -u first, and -e opens the editor on the result, as git commit -e -m does (t122 N11: what
    // was typed in the editor was dropped for -m's text, without a word).
    if (args.message !== undefined) {
      // Checked as typed, so that the refusal counts the lines the user wrote (the blank line after the subject too).
      refuseDiffInMessage(args.message);
      const [subject, ...rest] = args.message.split("\n");
      header = { ...header, subject: subject.trim(), body: trimBody(rest.join("\n")) };
    }
    if (args.author !== undefined) header = { ...header, author: authorArg(args.author, "--author")! };
    const again = (saved: string) => `pq header -e -F ${shellWord(saved)} ${operandWords(name)}`;
    const fromFile = args.file !== undefined ? headerFile(String(args.file), io.cwd) : undefined;
    if (args.edit || fromFile !== undefined) {
      editedText = args.edit ? editText(fromFile ?? formatHeader(header).replace(/---\n$/, ""), io.cwd, again) : fromFile!;
      // A file of the message alone (no From:, Date: or Subject: line first: a saved refused edit of the
      // TUI's, a message written by hand, as git commit -F takes one) keeps the patch's author and
      // date; read as a whole header, it dropped them without a word (t130 N3).
      const messageOnly = fromFile !== undefined && !/^(From|Date|Subject):/im.test(fromFile.split(/\n[ \t]*\n/)[0]);
      // A field the user added (Cc:, X-Note:) is kept, in the message, not dropped without a word (t117 N5).
      const parsed = parseHeaderKeepingFields(editedText);
      header = messageOnly ? { ...parsed, author: header.author, date: header.date } : parsed;
      for (const line of droppedFields(editedText, header.body))
        io.err(
          `note: pq keeps From:, Date: and Subject: in a patch's header; "${line}" was not kept: write it in the message (below the subject) to keep it`,
        );
    }
    if (args.edit || fromFile !== undefined || args.message !== undefined || args.author !== undefined) {
      await stack.setHeader(name, header, editedText !== undefined ? { was } : {}).catch((e: unknown) => {
        throw editedText !== undefined ? withTextSaved(e, editedText, again) : e;
      });
    }
    if (args.json) return void printJson(io, { name, ...header });
    io.out(`Author: ${header.author ?? "(none)"}`);
    if (header.date) io.out(`Date:   ${header.date}`);
    io.out(`\n    ${header.subject ?? ""}`);
    if (header.body)
      io.out(
        "\n" +
          header.body
            .split("\n")
            .map((l) => `    ${l}`)
            .join("\n"),
      );
  },
});

/** Header lines of the edited text (up to its first blank line) that are neither a field pq models nor kept in the message. */
function droppedFields(text: string, body: string): string[] {
  const head = text.replace(/\r\n/g, "\n").split("\n\n")[0].split("\n");
  return head.filter((line) => /^[A-Za-z][A-Za-z0-9-]*:/.test(line) && !/^(from|date|subject):/i.test(line) && !body.includes(line.trim()));
}
