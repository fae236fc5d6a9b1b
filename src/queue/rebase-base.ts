/**
 * Moving the stack's base as one transaction: pop the applied patches and move the branch
 * (and the index and the tree's files) from the old base commit to a new one. Being a
 * transaction, it is journaled, logged and undoable like every other stack change (the
 * way finish moves the branch), not a `git reset` pq cannot take back. A rebase's abort
 * is the same move the other way, with the queue's files put back in it.
 */
import { PqError } from "../errors.js";
import { backupFiles, blobIdOf, type OpContext } from "./ops/context.js";
import type { GitRepo } from "../git/repo.js";
import { execBitsTrusted } from "../git/head.js";
import { versionExec } from "./state.js";
import { planPop } from "./ops/pop.js";
import { Series } from "./series.js";
import type { IndexEntry } from "./transaction.js";
import { entriesAt, gitOut } from "./git-cli.js";
import { readBlobs } from "../git/repo.js";

export interface BaseMove {
  popped: string[];
  from: string;
  to: string;
  files: number;
  /** Where a forced pop saved files with edits (abort over a stopped rebase's work). */
  backup?: string;
}

/**
 * Plan: pop every applied patch (with force: drop a conflicted one, backing up the files),
 * then move HEAD's branch from the current commit to `to`, with the index entries and
 * tree files that differ between the two. `queue` puts queue files back in the same
 * transaction (abort).
 */
export async function planMoveBase(
  ctx: OpContext,
  to: string,
  opts: {
    force?: boolean;
    queue?: { series: string; patches: Record<string, string> };
    /** Files the move leaves as they are in both commits that are to hold that version all the same (a stopped rebase's patches, pushed again after an abort). */
    reset?: string[];
  } = {},
): Promise<BaseMove> {
  const git = await ctx.repo();
  if (!git) throw new PqError("no-queue", "moving the base needs a git work tree");
  const popped = planPop(ctx, { all: true, force: opts.force });
  let backup = popped.backup;
  const from = await git.readRef("HEAD");
  if (!from) throw new PqError("refused", "HEAD has no commit yet");
  const ref = await git.headRef();
  // Names decoded as pq's paths are (UTF-8): they name tree files and go to git as arguments.
  const changed = gitOut(ctx.tree, ["-c", "core.quotePath=false", "diff", "--name-only", "-z", "--no-renames", "--relative", from, to, "--", "."], "utf8")
    .split("\0")
    .filter(Boolean);
  const reset = (opts.reset ?? []).filter((p) => !changed.includes(p));
  const before = entriesAt(ctx.tree, git.prefix, from, [...changed, ...reset]);
  const after = entriesAt(ctx.tree, git.prefix, to, changed);
  const odd = [...before, ...after].find(([, e]) => e.mode === "120000" || e.mode === "160000");
  // The way round it moves the branch with no patch applied (git rebase by hand refused over the applied patches' changes: t115 N11).
  if (odd)
    throw new PqError("unsupported", `${odd[0]} is a symlink or submodule that changes upstream; pq moves only regular files`, [
      `move the branch with git and no patch applied: pq pop -a, git rebase ${to.slice(0, 12)} (git submodule update where a submodule changed), then pq push -a (--merge where a patch no longer applies)`,
    ]);
  // A new upstream file must not replace an untracked one of the user's (git reset --keep refuses too).
  const clobbered = changed.find((p) => !before.has(p) && ctx.tx.ws.version(p) !== null);
  if (clobbered && !opts.force) throw new PqError("dirty", `the untracked file ${clobbered} would be overwritten by the upstream version`, ["move it away first"]);
  // Nor an edit of a file the move writes, which is no patch's (git reset --keep refuses it): a
  // rebase --abort put the old base's version over an edit made while the rebase was stopped,
  // and kept no copy (t70 N1). Refused; with force (the abort) saved first and named.
  const edited = await editedUnder(ctx, git, [...changed, ...reset], before);
  if (edited.length) {
    if (!opts.force)
      throw new PqError(
        "dirty",
        `changes in ${edited.slice(0, 8).join(", ")}${edited.length > 8 ? ", ..." : ""}, which moving the base to ${to.slice(0, 12)} would overwrite`,
        ["nothing was changed; pq refresh them into a patch, or git stash them, first"],
        { files: edited },
      );
    backup = backupFiles(ctx.tree, edited, "base-move", ctx.tree, backup);
  }
  for (const path of reset) {
    const e = before.get(path);
    if (edited.includes(path)) ctx.tx.ws.set(path, e ? await git.contentAt(from, path) : null, e?.mode === "100755");
  }
  // Files git converts on checkout (eol=crlf, core.autocrlf) are written as a checkout would write them; the rest from their blobs.
  const converted = await git.convertedPaths(changed.filter((p) => after.has(p)));
  const contents = readBlobs(ctx.tree, [...new Set([...after].filter(([p]) => !converted.has(p)).map(([, e]) => e.blob))]);
  for (const path of changed) {
    const e = after.get(path);
    const content = e ? (converted.has(path) ? await git.contentAt(to, path) : contents.get(e.blob)!) : null;
    ctx.tx.ws.set(path, content, e?.mode === "100755");
  }
  const index = await git.indexEntries(changed.map((p) => git.prefix + p));
  ctx.tx.git = {
    ref,
    from,
    to,
    index: changed.map((p): [string, IndexEntry, IndexEntry] => {
      const e = after.get(p);
      return [git.prefix + p, index.get(git.prefix + p) ?? null, e ? `${e.mode} ${e.blob}` : null];
    }),
  };
  if (opts.queue) {
    // Patches of the series now that the saved queue did not have (a rename or an import made
    // while a rebase was stopped) go to the trash: the queue comes back as it was, and they are not lost.
    for (const name of ctx.tx.series().names()) if (!(name in opts.queue.patches) && ctx.tx.queueFile(name) !== null) ctx.tx.removePatch(name, true);
    ctx.tx.setSeries(Series.fromBytes(opts.queue.series));
    for (const [name, text] of Object.entries(opts.queue.patches)) if (ctx.tx.queueFile(name) !== text) ctx.tx.writePatch(name, text);
  }
  return { popped: popped.popped, from, to, files: changed.length, ...(backup ? { backup } : {}) };
}

/**
 * Which of `paths` the tree holds otherwise than the commit the base moves from (`before`, its
 * entries): compared as git blob ids, after the pop the move plans, so an applied patch's file
 * is taken as the pop leaves it. A file git converts on checkout is compared once cleaned.
 */
async function editedUnder(ctx: OpContext, git: GitRepo, paths: string[], before: Map<string, { blob: string; mode: string }>): Promise<string[]> {
  const { ws } = ctx.tx;
  const unlike = paths.filter((p) => blobIdOf(ctx, p, ws.version(p)) !== (before.get(p)?.blob ?? null));
  const comparable = unlike.filter((p) => ws.version(p) !== null && before.has(p));
  const same = new Set<string>();
  for (const p of comparable.length ? await git.convertedPaths(comparable) : [])
    if ((await git.cleanBlobId(ws.content(p) ?? "", p)) === before.get(p)!.blob) same.add(p);
  // A chmod is an edit too, where git trusts the bit (t72 N6: one made while a rebase was stopped went with the abort, unsaid).
  const unlikeSet = new Set(unlike);
  const chmodded = execBitsTrusted(ctx.tree)
    ? paths.filter((p) => !unlikeSet.has(p) && ws.version(p) !== null && before.has(p) && (before.get(p)!.mode === "100755") !== versionExec(ws.version(p)))
    : [];
  return [...unlike.filter((p) => !same.has(p)), ...chmodded];
}
