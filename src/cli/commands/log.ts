import { PqError } from "../../errors.js";
import { imagesIn, interdiff } from "../../collab/interdiff.js";
import { QueueRepo } from "../../collab/queue-repo.js";
import { rangeDiff, renderRangeDiff } from "../../collab/range-diff.js";
import { simulateQueue } from "../../collab/simulate.js";
import { mergeServices } from "../../collab/merge-services.js";
import { loadSyncState } from "../../collab/sync-state.js";
import type { QueueVersion } from "../../collab/types.js";
import { apartRenames, type ApartRename } from "../../collab/apart-renames.js";
import { validatePatchName } from "../../queue/names.js";
import { defineCommand } from "../io.js";
import { openStack } from "../open-stack.js";

interface LogEntry {
  commit: string;
  /** The first parent (the side the commit was made on); `parents` has them all. */
  parent: string | null;
  parents: string[];
  author: string;
  date: string;
  message: string;
  /** For one patch's log: its name in this commit, and in the parent when the commit renamed it. */
  name?: string;
  renamedFrom?: string;
}

/** Commits that touched any of `paths` (queue-relative), newest first, with which of them each touched. */
async function logOf(
  qr: QueueRepo,
  rev: string | string[],
  paths: string[],
  fullHistory: boolean,
): Promise<(LogEntry & { touched: string[] })[]> {
  const out = await qr.run([
    "log",
    // Every version above the one it was made from, whatever the clocks of the colleagues who
    // made them said (git log's default is by commit date: collab-8 C5).
    "--topo-order",
    ...(fullHistory ? ["--full-history"] : []),
    "--name-only",
    "--format=%x1e%H%x1f%P%x1f%an <%ae>%x1f%aD%x1f%B%x1d",
    ...(Array.isArray(rev) ? rev : [rev]),
    "--",
    ...paths,
  ]);
  return out
    .split("\x1e")
    .filter(Boolean)
    .map((r) => {
      const [head, names = ""] = r.split("\x1d");
      const [commit, parentList, author, date, message] = head.split("\x1f");
      const parents = parentList.split(" ").filter(Boolean);
      const touched = names
        .split("\n")
        .filter(Boolean)
        .map((n) => (n.startsWith(qr.prefix) ? n.slice(qr.prefix.length) : n));
      return { commit, parent: parents[0] ?? null, parents, author, date, message: message.trim(), touched };
    });
}

/** The commits reachable from `rev` and not from any of `not`. */
async function commitsIn(qr: QueueRepo, rev: string, not: string[] = []): Promise<Set<string>> {
  return new Set((await qr.run(["rev-list", rev, ...(not.length ? ["--not", ...not] : [])])).split("\n").filter(Boolean));
}

/**
 * The queue's history, or one patch's. Renames are followed (git's --follow would drop merge
 * commits), and every side of a merge is walked (--full-history): a colleague's commit that
 * changed the patch on the other side of a sync's merge is in the log under its own author,
 * even when the merge's result equals one side's (a deletion confirmed over a refresh). Where a
 * sync kept two same-named patches apart, each patch's log holds its own side's commits only
 * (collab-8 C9: ours, renamed, looked born in the merge, and theirs carried our history).
 */
export async function queueLog(
  qr: QueueRepo,
  patch: string | null,
  /** The remote's version a stopped sync is merging (theirs): its commits are in the log too. */
  incoming: string | null = null,
): Promise<LogEntry[]> {
  if (!(await qr.head())) return [];
  const strip = ({ touched: _touched, ...e }: LogEntry & { touched: string[] }): LogEntry => e;
  const tips = incoming ? ["HEAD", incoming] : "HEAD";
  if (!patch) return (await logOf(qr, tips, ["."], false)).map(strip);
  const aparts = await apartRenames(qr, "HEAD");
  // The names it had, newest first, and the commits that renamed it.
  const names = [patch];
  const renamedAt = new Map<string, string>();
  /** An older name reached through an apart merge: its commits are those of our side of it. */
  const viaApart = new Map<string, ApartRename>();
  let rev = "HEAD";
  for (let hops = 0; hops < 100; hops++) {
    const name = names.at(-1)!;
    const oldest = (await logOf(qr, rev, [name], false)).at(-1);
    if (!oldest?.parent) break;
    const apart = aparts.find((a) => a.commit === oldest.commit && a.to === name);
    if (apart) {
      renamedAt.set(oldest.commit, apart.from);
      names.push(apart.from);
      viaApart.set(apart.from, apart);
      rev = apart.ours;
      continue;
    }
    const changes = await qr.run(["diff", "--name-status", "-M", oldest.parent, oldest.commit, "--", "."]);
    const rename = changes
      .split("\n")
      .map((l) => l.split("\t"))
      .find((f) => f[0].startsWith("R") && f[2] === qr.prefix + name);
    if (!rename) break;
    const from = rename[1].slice(qr.prefix.length);
    renamedAt.set(oldest.commit, from);
    names.push(from);
    rev = oldest.parent;
  }
  // Which commits each name's entries may come from (see viaApart), and which they may not: a
  // name theirs kept in an apart merge does not take our side's commits of it, nor the merge.
  const within = new Map<string, Set<string>>();
  /** Commits older than an apart merge that are not of our side of it: a merge that names no file (git lists none for it) is judged by these. */
  const otherSide = new Set<string>();
  for (const [name, apart] of viaApart) {
    const ours = await commitsIn(qr, apart.ours);
    within.set(name, ours);
    for (const c of await commitsIn(qr, apart.theirs, [apart.ours])) otherSide.add(c);
  }
  const notFrom = new Map<string, Set<string>>();
  for (const apart of aparts) {
    if (!names.includes(apart.from) || viaApart.get(apart.from) === apart) continue;
    const ours = await commitsIn(qr, apart.ours, [apart.theirs]);
    ours.add(apart.commit);
    notFrom.set(apart.from, new Set([...(notFrom.get(apart.from) ?? []), ...ours]));
  }
  return (await logOf(qr, tips, names, true))
    .map((e) => ({ e, name: names.find((n) => e.touched.includes(n)), fallback: patch }))
    .filter(({ e, name, fallback }) =>
      name === undefined
        ? !otherSide.has(e.commit) && !notFrom.get(fallback)?.has(e.commit)
        : (within.get(name)?.has(e.commit) ?? true) && !notFrom.get(name)?.has(e.commit),
    )
    .map(({ e, name, fallback }) => ({ e, name: name ?? fallback }))
    .map(({ e, name }) => {
      const from = renamedAt.get(e.commit);
      return { ...strip(e), name, ...(from ? { renamedFrom: from } : {}) };
    });
}

export default defineCommand({
  command: "log [patch]",
  describe: "the queue's history (of one patch): who changed it, when, why; -p shows the interdiff between versions",
  builder: (y) =>
    y
      .positional("patch", { type: "string", describe: "a patch name (default: the whole queue)" })
      .option("patch-diff", {
        alias: "p",
        type: "boolean",
        describe: "show what each version changed about the patch (interdiff), or per commit a range-diff",
      })
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    // The interdiffs are text for reading; --json is the log's entries (collab-17 F7: -p --json printed text).
    if (args.json && args["patch-diff"]) {
      throw new PqError("usage", "pq log -p and --json do not combine: -p shows interdiffs as text", [
        "pq log --json for the entries, pq log -p to read the changes (pq range-diff OLD NEW for two versions)",
      ]);
    }
    const stack = await openStack(args, io);
    const qr = await QueueRepo.require(stack.queueDir);
    const name = args.patch ? String(args.patch) : null;
    // A name may have directories (debian/foo.patch), as everywhere else; the queue's own files are no patches.
    if (name) validatePatchName(name);
    // A stopped sync's conflicts point here for theirs (t35 F8: the remote's commits were not
    // in the log until --continue had merged them).
    const stopped = loadSyncState(stack.tree);
    const incoming = stopped?.phase === "conflicts" && stopped.theirs ? stopped.theirs : null;
    const entries = await queueLog(qr, name, incoming);
    if (!entries.length)
      throw new PqError("not-found", name ? `${name} has no history in the queue repository` : "the queue repository has no commits yet");
    if (args.json) return void io.out(JSON.stringify(entries, null, 2));
    const svc = args["patch-diff"] ? await mergeServices(stack) : null;
    for (const e of entries) {
      io.out(
        `commit ${e.commit}\nAuthor: ${e.author}\nDate:   ${e.date}\n\n${e.message
          .split("\n")
          .map((l) => `    ${l}`.trimEnd())
          .join("\n")}\n\n`,
      );
      if (!svc) continue;
      try {
        const [older, newer] = await Promise.all([qr.versionAt(e.parent), qr.versionAt(e.commit)]);
        if (!name) {
          io.outBytes(renderRangeDiff(await rangeDiff(older, newer, svc)));
          continue;
        }
        const oldName = e.renamedFrom ?? e.name ?? name;
        // A merge whose first parent lacks the patch (it carried the other side's rename) is no first
        // version: compared with the parent that has it (collab-17 F6).
        const base = older.patches[oldName] === undefined ? ((await otherParentWith(qr, e.commit, oldName)) ?? older) : older;
        io.outBytes(await versionDiff(oldName, e.name ?? name, base, newer, svc));
      } catch (err) {
        // A version in the history pq refuses to read (a bad series line or an unsafe patch path a
        // commit held, gone again since): said for that commit, and the older ones still shown (t60 N11).
        if (!(err instanceof PqError) || !["bad-patch", "unsafe-path", "usage"].includes(err.code)) throw err;
        io.out(`    (this version cannot be shown: ${err.message})\n`);
      }
    }
  },
});

/** The version at a later parent of a merge commit that holds `name`, or null. */
async function otherParentWith(qr: QueueRepo, commit: string, name: string): Promise<QueueVersion | null> {
  const parents = (await qr.run(["rev-list", "--parents", "-n", "1", commit])).trim().split(/\s+/).slice(2);
  for (const parent of parents) {
    const v = await qr.versionAt(parent);
    if (v.patches[name] !== undefined) return v;
  }
  return null;
}

async function versionDiff(
  oldName: string,
  name: string,
  older: QueueVersion,
  newer: QueueVersion,
  svc: Awaited<ReturnType<typeof mergeServices>>,
): Promise<string> {
  const a = older.patches[oldName];
  const b = newer.patches[name];
  // Written as bytes (the interdiff is a patch's bytes, t64 N10): the names as their UTF-8 bytes too.
  const [oldShown, shown] = [oldName, name].map((n) => Buffer.from(n, "utf8").toString("latin1"));
  const renamed = oldName !== name ? `${oldShown} renamed to ${shown}` : "";
  if (a === undefined && b === undefined) return "";
  if (a === undefined) return `${shown}: first version\n`;
  if (b === undefined) return `${shown}: deleted\n`;
  if (a === b) return `${renamed || `${shown}: unchanged (the series changed)`}\n`;
  // Every patch is applied (guards aside) so the images exist whatever the selection.
  const all = (v: QueueVersion) => ({ ...v, series: v.series.replace(/#[+-]\S+/g, "") });
  const [simA, simB] = await Promise.all([simulateQueue(all(older), svc.baseFile), simulateQueue(all(newer), svc.baseFile)]);
  const paths = new Set<string>();
  for (const r of [simA.runs.get(oldName), simB.runs.get(name)])
    for (const p of [...(r?.pre.keys() ?? []), ...(r?.post.keys() ?? [])]) paths.add(p);
  const [ia, ib] = await Promise.all([imagesIn(simA, oldName, a, paths), imagesIn(simB, name, b, paths)]);
  const prefix = renamed ? `${renamed}\n` : "";
  // The version itself then: a sync's conflict sends the user here to carry theirs over by hand (t37 N3).
  if (!ia || !ib)
    return `${prefix}${shown}: changed (one of the versions does not apply over this tree: no interdiff); this version:\n${b
      .replace(/\n$/, "")
      .split("\n")
      .map((l) => `    ${l}`.trimEnd())
      .join("\n")}\n`;
  return prefix + ((await interdiff(ia, ib, svc)) || `${shown}: the same change (only its context or position moved)\n`);
}
