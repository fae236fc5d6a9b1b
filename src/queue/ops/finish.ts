/**
 * Planning a finish (hg qfinish): the bottom applied patches become git commits. The
 * commits are built first with `git commit-tree` on a private index (they exist, but no
 * branch names them); the transaction then moves the branch and the index entries of the
 * finished files, drops the patches from the series and the state, and keeps their files
 * in the trash. A failure while building changes nothing; undo moves the branch back.
 */
import { PqError } from "../../errors.js";
import { versionExec } from "../state.js";
import { resolveName, versionContent, type OpContext, type StackTarget } from "./context.js";
import { parseHeader } from "../../mail/header.js";
import { headerOf } from "../patch-text.js";
import type { IndexEntry } from "../transaction.js";

export async function planFinish(ctx: OpContext, opts: { target?: StackTarget; all?: boolean }): Promise<{ commits: { name: string; commit: string }[] }> {
  const { tx } = ctx;
  const git = await ctx.repo();
  if (!git) throw new PqError("no-queue", "finish needs a git work tree");
  const applied = tx.state.applied;
  if (!applied.length) throw new PqError("refused", "no patches are applied", ["pq push the patches to finish first"]);
  let count: number;
  if (opts.all) count = applied.length;
  else if (opts.target === undefined) throw new PqError("usage", "name the last patch to finish, or --all");
  else {
    const name = resolveName(tx.series(), opts.target);
    count = applied.findIndex((a) => a.name === name) + 1;
    if (count === 0) throw new PqError("refused", `${name} is not applied`, ["pq push it first"], { patch: name });
  }
  if (await git.stagedChanges()) throw new PqError("dirty", "the git index has staged changes", ["commit or unstage them (git restore --staged) first"]);
  const finishing = applied.slice(0, count);
  const bad = finishing.find((p) => p.needsRefresh);
  if (bad) throw new PqError("needs-refresh", `${bad.name} needs a refresh before it can be finished`, [], { patch: bad.name });
  const ref = await git.headRef();
  const from = await git.readRef("HEAD");
  let parent = from;
  const commits: { name: string; commit: string }[] = [];
  const finalEntries = new Map<string, IndexEntry>();
  const series = tx.series();
  for (const [i, record] of finishing.entries()) {
    ctx.emit({ kind: "finish", message: `committing ${record.name}`, current: i + 1, total: finishing.length });
    const header = parseHeader(headerOf(tx.patchText(record.name)));
    const entries: [string, IndexEntry][] = [];
    for (const [path, change] of Object.entries(record.files)) {
      const content = versionContent(ctx, change.post);
      const entry = content === null ? null : `${versionExec(change.post) ? "100755" : "100644"} ${await git.writeBlob(content, path)}`;
      entries.push([git.prefix + path, entry]);
      finalEntries.set(git.prefix + path, entry);
    }
    const message = [header.subject || record.name, header.body].filter(Boolean).join("\n\n") + "\n";
    parent = await git.makeCommit(parent, entries, { message, author: header.author, date: header.date, committer: header.committer });
    commits.push({ name: record.name, commit: parent });
    series.remove(record.name);
    tx.removePatch(record.name, true);
  }
  const before = await git.indexEntries([...finalEntries.keys()]);
  tx.git = {
    ref,
    from: from ?? "0".repeat(40),
    to: parent!,
    index: [...finalEntries].map(([path, entry]): [string, IndexEntry, IndexEntry] => [path, before.get(path) ?? null, entry]),
  };
  tx.setSeries(series);
  tx.state.applied = applied.slice(count);
  return { commits };
}
