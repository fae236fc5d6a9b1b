import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { PqError } from "../../errors.js";
import { QueueRepo, splitVersion } from "../../collab/queue-repo.js";
import { rangeDiff, renderRangeDiff } from "../../collab/range-diff.js";
import { apartRenames } from "../../collab/apart-renames.js";
import { mergeServices } from "../../collab/merge-services.js";
import type { QueueVersion } from "../../collab/types.js";
import { defineCommand } from "../io.js";
import { openStack, printJson } from "../open-stack.js";
import { pathMap } from "../../core/path-map.js";

async function version(spec: string, cwd: string, queueDir: string): Promise<QueueVersion> {
  const dir = resolve(cwd, spec);
  if (existsSync(join(dir, "series")) && statSync(dir).isDirectory()) {
    const qr = await QueueRepo.open(dir);
    if (qr && qr.queueDir === dir) return qr.readDisk();
    const files = pathMap<string>();
    for (const n of readdirSync(dir)) if (statSync(join(dir, n)).isFile()) files[n] = readFileSync(join(dir, n), "latin1");
    return splitVersion(files);
  }
  const qr = await QueueRepo.require(queueDir);
  const rev = await qr.resolve(spec);
  if (!rev) throw new PqError("not-found", `${spec} is neither a queue directory nor a revision of the queue repository`);
  return qr.versionAt(rev);
}

/**
 * Our patches a sync renamed between two revisions of the queue, to keep them apart from a
 * colleague's of the same name (collab-8 C9): the renamed one pairs with its old self, not with
 * the colleague's patch that kept the name. Only where OLD is on our side of that merge.
 */
async function apartBetween(oldSpec: string, newSpec: string, cwd: string, queueDir: string): Promise<Record<string, string>> {
  const isDir = (spec: string) => existsSync(join(resolve(cwd, spec), "series"));
  if (isDir(oldSpec) || isDir(newSpec)) return pathMap();
  const qr = await QueueRepo.open(queueDir);
  const [oldRev, newRev] = qr ? await Promise.all([qr.resolve(oldSpec), qr.resolve(newSpec)]) : [null, null];
  if (!qr || !oldRev || !newRev) return pathMap();
  const renamed = pathMap<string>();
  for (const apart of (await apartRenames(qr, `${oldRev}..${newRev}`)).reverse())
    if (await qr.isAncestor(oldRev, apart.ours)) renamed[apart.from] = apart.to;
  return renamed;
}

export default defineCommand({
  command: "range-diff <old> <new>",
  describe: "compare two versions of the series (queue revisions or queue directories) patch by patch",
  builder: (y) =>
    y
      .positional("old", { type: "string", demandOption: true, describe: "the queue's older version (a git revision of the queue)" })
      .positional("new", { type: "string", demandOption: true, describe: "the newer version" })
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    const [a, b] = await Promise.all([
      version(String(args.old), io.cwd, stack.queueDir),
      version(String(args.new), io.cwd, stack.queueDir),
    ]);
    const lines = await rangeDiff(
      a,
      b,
      await mergeServices(stack, [a, b]),
      await apartBetween(String(args.old), String(args.new), io.cwd, stack.queueDir),
    );
    if (args.json) return void printJson(io, lines);
    // Patch lines are bytes (latin1 strings): written as they are, UTF-8 or not.
    io.outBytes(renderRangeDiff(lines).replace(/\n+$/, ""));
  },
});
