import { patchFiles, resolvePatch } from "../../queue/queries.js";
import { defineCommand } from "../io.js";
import { openStack, printJson } from "../open-stack.js";
import { fileList } from "../reports.js";

export default defineCommand({
  command: "files [patch]",
  describe: "list the files a patch touches (default: the top patch), with lines added and removed",
  builder: (y) =>
    y
      .positional("patch", { type: "string", describe: "patch name or 1-based series position" })
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const files = await patchFiles(stack, resolvePatch(stack, args.patch));
    if (args.json) return void printJson(io, files);
    const width = Math.max(0, ...files.map((f) => `+${f.added}`.length));
    for (const f of files) {
      const counts = f.binary ? "binary".padEnd(width + 5) : `${`+${f.added}`.padStart(width)} ${`-${f.removed}`.padEnd(5)}`;
      io.out(`${counts} ${f.from ? `${fileList([f.from])} => ${fileList([f.path])}` : fileList([f.path])}`);
    }
  },
});
