/**
 * Planning a finish (hg qfinish): the bottom applied patches become git commits. The
 * commits are built first with `git commit-tree` on a private index (they exist, but no
 * branch names them); the transaction then moves the branch and the index entries of the
 * finished files, drops the patches from the series and the state, and keeps their files
 * in the trash. A failure while building changes nothing; undo moves the branch back.
 */
import { unstageCommand } from "../git-cli.js";
import { gitWriteRefused, PqError } from "../../errors.js";
import { versionExec, type AppliedPatch, type Version } from "../state.js";
import { differFromHead, refuseChangedInQueue, resolveName, versionContent, type OpContext, type StackTarget } from "./context.js";
import { expectedVersions, versionsBelowStack } from "../refresh-plan.js";
import { shortList } from "./refresh.js";
import { operandWords, shellWord, operandList } from "../../core/shell-word.js";
import { handCommitWayOut } from "./pop.js";
import { notesOf, parseHeaderKeepingFields } from "../../mail/header.js";
import { dropDiffstat, headerOf, subjectOrName } from "../patch-text.js";
import type { IndexEntry } from "../transaction.js";
import type { GitRepo } from "../../git/repo.js";
import { gitBlobId } from "../../patch/index.js";

/**
 * The finished patches' changes gone from the tree, each such file back as it was below the stack
 * (a git stash, git reset --hard, git checkout -- FILE): the commits would hold the changes and
 * the tree show their revert, and a git stash pop then no longer applied (t102 N7). Refused, as
 * refresh and pop refuse then; a file edited since is unrefreshed work, which stays the tree's.
 */
function refuseChangesGone(ctx: OpContext, finishing: readonly AppliedPatch[], below: Map<string, Version>): void {
  const finished = expectedVersions(finishing);
  // A file the patches make, gone (git clean -fd): its commit would add it and the tree show it deleted (t103 N3).
  const gone = [...finished]
    .filter(([path, version]) => version !== below.get(path) && ctx.tx.ws.version(path) === below.get(path))
    .map(([path]) => path)
    .sort();
  if (!gone.length) return;
  const patches = finishing.filter((record) => gone.some((path) => record.files[path] && record.files[path].pre !== record.files[path].post));
  throw new PqError(
    "dirty",
    `${shortList(patches.map((record) => record.name))}'s changes to ${shortList(gone)} are gone from the tree, each as it was below the stack (a git stash, git reset --hard or git checkout -- FILE?): finish would commit them and leave the tree reverting them`,
    [
      `after git stash, git stash pop puts them back; else pq revert ${operandList(gone)} does; then pq finish again`,
    ],
    { files: gone, patches: patches.map((record) => record.name), pathsFrom: ctx.tree },
  );
}

/**
 * Refuses a finish over changes staged in git's index, but for the patches' own content staged
 * with git add after a refresh (a git add -u habit), which is what finish commits anyway: it had
 * been refused too, with "commit them" as the way, which made a hand commit of the patches, and
 * a `git restore --staged` without the paths git asks for (t112 N4).
 */
async function refuseStagedApart(ctx: OpContext, git: GitRepo, finishing: AppliedPatch[], above: AppliedPatch[]): Promise<void> {
  if (!(await git.stagedChanges())) return;
  const staged = [...(await git.stagedPaths())].sort();
  const committing = expectedVersions(finishing);
  const aboveTouches = new Set(above.flatMap((record) => Object.keys(record.files)));
  const entries = await git.indexEntries(staged.map((p) => git.prefix + p));
  const ownContent = (path: string) => {
    const version = committing.get(path);
    if (version === undefined || aboveTouches.has(path)) return false;
    const blob = entries.get(git.prefix + path)?.split(" ")[1] ?? null;
    return blob === (version === null ? null : gitBlobId(versionContent(ctx, version) ?? ""));
  };
  // Staged outside the tree (a tree in a folder of its repository) shows in stagedChanges only.
  const outside = git.prefix !== "" && !staged.length;
  if (!outside && staged.length && staged.every(ownContent)) return;
  const apart = staged.filter((path) => !ownContent(path));
  const named = apart.length ? `: ${apart.slice(0, 5).join(", ")}${apart.length > 5 ? ", ..." : ""}` : "";
  throw new PqError("dirty", `the git index has staged changes${named}`, [
    `finish commits the patches alone: unstage them (${unstageCommand(ctx.tree, apart.length ? apart.map(shellWord).join(" ") : ":/")}; the work tree keeps them), or git commit them first where they are changes of your own to files the patches do not change; then pq finish`,
  ], { files: apart, pathsFrom: ctx.tree });
}

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
    const name = resolveName(tx.series(), opts.target, { whole: true });
    count = applied.findIndex((a) => a.name === name) + 1;
    if (count === 0) throw new PqError("refused", `${name} is not applied`, ["pq push it first"], { patch: name });
  }
  const finishing = applied.slice(0, count);
  await refuseStagedApart(ctx, git, finishing, applied.slice(count));
  refuseChangedInQueue(ctx, finishing, "finish would commit the version that was applied, not the queue's", "pq finish");
  const bad = finishing.find((p) => p.needsRefresh);
  if (bad) throw new PqError("needs-refresh", `${bad.name} needs a refresh before it can be finished`, [], { patch: bad.name });
  // Patches committed by hand (git commit -a) since they were pushed: their commits would be
  // made again on top, as the patches' versions of the files, reverting whatever else the
  // hand commit changed in them. Refused as pop refuses (safe-6 #11).
  const below = versionsBelowStack(applied);
  const touched = [...new Set(finishing.flatMap((record) => Object.keys(record.files)))];
  const committed = await differFromHead(ctx, new Map(touched.map((path) => [path, below.get(path)!])), { remember: true });
  if (committed.length) {
    throw new PqError(
      "refused",
      `HEAD has commits that change ${committed.slice(0, 5).join(", ")}${committed.length > 5 ? ", ..." : ""}, which the patches to finish change too: their commits would revert those changes`,
      // The finish that was refused, whole: "then pq finish" alone is a usage error (t119 N3).
      await handCommitWayOut(ctx, applied, committed, opts.all ? "finish -a" : `finish ${operandWords(String(opts.target))}`),
      { files: committed, pathsFrom: ctx.tree },
    );
  }
  refuseChangesGone(ctx, finishing, below);
  const ref = await git.headRef();
  const from = await git.readRef("HEAD");
  const finalEntries = new Map<string, IndexEntry>();
  const series = tx.series();
  // Every blob of every commit in one go, then the chain of commits on one scratch index: a few
  // git processes per patch instead of one per file and five per commit.
  const blobs: { content: string; path: string }[] = [];
  const files = finishing.map((record) =>
    Object.entries(record.files).map(([path, change]) => {
      const content = versionContent(ctx, change.post);
      if (content !== null) blobs.push({ content, path });
      return { path, exec: versionExec(change.post), blob: content === null ? -1 : blobs.length - 1 };
    }),
  );
  ctx.emit({ kind: "finish", message: `storing ${blobs.length} file version(s)`, current: 0, total: finishing.length });
  const ids = await git.writeBlobs(blobs).catch((e: unknown) => {
    throw objectsRefused(e);
  });
  const chain = finishing.map((record, i) => {
    // The message export writes (interop-17 F10): a DEP-3 header's other fields (Origin:,
    // Bug-Debian:, a second Author:) as its last paragraph, and the notes after its "---" line
    // after the same line, where uncommit finds them again.
    const kept = dropDiffstat(headerOf(tx.patchText(record.name)));
    const header = parseHeaderKeepingFields(kept);
    // (The header is bytes as latin1; the message is text.)
    const notes = Buffer.from(notesOf(kept), "latin1").toString("utf8");
    const entries = files[i].map(({ path, exec, blob }): [string, IndexEntry] => [git.prefix + path, blob === -1 ? null : `${exec ? "100755" : "100644"} ${ids[blob]}`]);
    for (const [path, entry] of entries) finalEntries.set(path, entry);
    // A commit uncommit made with an empty message (git commit --allow-empty-message) is made again
    // with one, not with the patch's file name (stack-6 #17b): the very same commit comes back.
    const emptyAsCommitted = header.committer !== undefined && !header.subject && !header.body.trim();
    const message = emptyAsCommitted
      ? ""
      : [subjectOrName(header.subject, record.name), header.body].filter(Boolean).join("\n\n") + "\n" + (notes ? `${blankBeforeDashes(kept, !header.body.trim()) ? "\n" : ""}---\n${notes}\n` : "");
    return { entries, message, author: header.author, date: header.date, committer: header.committer };
  });
  ctx.emit({ kind: "finish", message: `committing ${finishing.length} patch(es)`, current: finishing.length, total: finishing.length });
  let made: string[];
  try {
    made = await git.makeCommits(from, chain);
  } catch (e) {
    // A Date: line git cannot read (a two-digit year, a mailer's own form), taken as it was at import.
    const bad = /invalid date format: (.*)/.exec((e as Error).message)?.[1]?.trim();
    const at = bad === undefined ? -1 : chain.findIndex((c) => c.date?.trim() === bad);
    if (at === -1) throw objectsRefused(e);
    throw new PqError(
      "refused",
      `${finishing[at].name} has a date git cannot read (${bad}), so its commit cannot be made; nothing was changed`,
      [`pq header -e ${operandWords(finishing[at].name)} and write the Date: line as git does (say, Tue, 14 Nov 2023 21:13:00 +0000), then pq finish again`],
      { patch: finishing[at].name, date: bad },
    );
  }
  const commits = finishing.map((record, i) => ({ name: record.name, commit: made[i] }));
  tx.finished = commits.map(({ name, commit }) => [name, commit]);
  const parent = made.at(-1);
  for (const record of finishing) {
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

/**
 * Whether the message has an empty line before its "---" line (see notesOf): one in the
 * header, or two where the message is only a subject (the first ends the header's fields).
 */
function blankBeforeDashes(header: string, bodyEmpty: boolean): boolean {
  const lines = header.replace(/\r\n/g, "\n").split("\n");
  const at = lines.indexOf("---");
  let blanks = 0;
  while (at - blanks > 0 && lines[at - blanks - 1] === "") blanks++;
  return blanks > (bodyEmpty ? 1 : 0);
}

/**
 * git's refusal to add objects (.git/objects not writable) as the system's refusal it is, with the
 * way on (t93 N2: git's raw words, exit 11); any other error as it came.
 */
function objectsRefused(e: unknown): unknown {
  if (!(e instanceof Error) || !gitWriteRefused(e.message)) return e;
  return new PqError("system", "git cannot add the commits to its object store (permission denied); nothing was changed", [
    "make .git/objects and the folders in it writable for you (chmod -R u+w .git/objects, by its owner if that is not you), then pq finish again",
  ]);
}
