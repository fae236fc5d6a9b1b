import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { PqError } from "../../errors.js";
import { formatMail, parseHeader } from "../../mail/header.js";
import { diffOf, headerOf } from "../../queue/stack.js";
import { defineCommand } from "../io.js";
import { openStack } from "../open-stack.js";

export default defineCommand({
  command: "export [patches..]",
  describe: "write patches (default: the applied ones) as format-patch mails in a directory, or one mbox",
  builder: (y) =>
    y
      .positional("patches", { type: "string", array: true, describe: "names (default: every applied patch)" })
      .option("dir", { alias: "o", type: "string", describe: "directory for numbered mails plus a series file" })
      .option("mbox", { type: "string", describe: "write one mbox file instead" })
      .option("all", { alias: "a", type: "boolean", describe: "every patch in the series, applied or not" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const names = ((args.patches as string[] | undefined)?.map(String) ?? []).length
      ? (args.patches as string[]).map(String)
      : args.all
        ? stack.series().map((e) => e.name)
        : stack.applied();
    if (!names.length) throw new PqError("usage", "nothing to export: no patch is applied", ["name patches, or use --all"]);
    if (!args.dir && !args.mbox) throw new PqError("usage", "say where: --dir DIR or --mbox FILE");
    const mails: { file: string; text: string }[] = [];
    for (const [i, name] of names.entries()) {
      // Applied patches are written as they apply now, so git am reproduces this tree exactly.
      const text = await stack.currentPatchText(name);
      const header = parseHeader(headerOf(text));
      const num = String(i + 1).padStart(4, "0");
      mails.push({ file: `${num}-${name.replace(/\.(patch|diff)$/, "")}.patch`, text: formatMail({ ...header, subject: header.subject ?? name }, diffOf(text), { index: i + 1, total: names.length }) });
    }
    if (args.mbox) {
      writeFileSync(resolve(io.cwd, args.mbox), mails.map((m) => m.text).join(""), "latin1");
      io.out(`wrote ${mails.length} mail(s) to ${args.mbox}`);
    } else {
      const dir = resolve(io.cwd, args.dir!);
      const inside = (parent: string) => dir === parent || dir.startsWith(parent + "/");
      if (inside(stack.queueDir) || inside(join(stack.tree, ".pq")) || inside(join(stack.tree, ".git"))) {
        throw new PqError("usage", `${args.dir} is the queue directory or pq's or git's own: exporting there would overwrite the series and patches`, [
          "export into a new directory, e.g. pq export --dir out",
        ]);
      }
      mkdirSync(dir, { recursive: true });
      for (const m of mails) writeFileSync(join(dir, m.file), m.text, "latin1");
      writeFileSync(join(dir, "series"), mails.map((m) => m.file).join("\n") + "\n");
      io.out(`wrote ${mails.length} mail(s) and a series file to ${args.dir}`);
    }
  },
});
