import { formatHeader, parseHeader } from "../../mail/header.js";
import { refuseDiffInMessage } from "../../queue/patch-text.js";
import { authorArg, defineCommand } from "../io.js";
import { openStack, printJson } from "../open-stack.js";
import { editText } from "../editor.js";
import { PqError } from "../../errors.js";

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
    let header = await stack.patchHeader(name);
    if (args.edit) header = parseHeader(editText(formatHeader(header).replace(/---\n$/, ""), io.cwd));
    if (args.message !== undefined) {
      // Checked as typed, so that the refusal counts the lines the user wrote (the blank line after the subject too).
      refuseDiffInMessage(args.message);
      const [subject, ...rest] = args.message.split("\n");
      header = { ...header, subject: subject.trim(), body: rest.join("\n").trim() };
    }
    if (args.author !== undefined) header = { ...header, author: authorArg(args.author, "--author")! };
    if (args.edit || args.message !== undefined || args.author !== undefined) await stack.setHeader(name, header);
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
