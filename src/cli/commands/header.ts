import { formatHeader, parseHeader, trimBody } from "../../mail/header.js";
import { refuseDiffInMessage } from "../../queue/patch-text.js";
import { authorArg, defineCommand } from "../io.js";
import { openStack, printJson } from "../open-stack.js";
import { editText } from "../editor.js";
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
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const name = args.name !== undefined ? stack.resolve(args.name) : stack.top();
    if (!name) throw new PqError("refused", "no patch named and none applied", ["name a patch: pq header NAME"]);
    const was = await stack.patchHeader(name);
    let header = was;
    let editedText: string | undefined;
    if (args.edit) {
      editedText = editText(formatHeader(header).replace(/---\n$/, ""), io.cwd);
      header = parseHeader(editedText);
    }
    if (args.message !== undefined) {
      // Checked as typed, so that the refusal counts the lines the user wrote (the blank line after the subject too).
      refuseDiffInMessage(args.message);
      const [subject, ...rest] = args.message.split("\n");
      header = { ...header, subject: subject.trim(), body: trimBody(rest.join("\n")) };
    }
    if (args.author !== undefined) header = { ...header, author: authorArg(args.author, "--author")! };
    if (args.edit || args.message !== undefined || args.author !== undefined) {
      await stack.setHeader(name, header, editedText !== undefined ? { was } : {}).catch((e: unknown) => {
        throw editedText !== undefined ? withTextSaved(e, editedText) : e;
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
