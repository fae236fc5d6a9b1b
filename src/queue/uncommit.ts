/**
 * pq uncommit (hg qimport -r, StGit uncommit): the top commits of the branch become
 * applied patches at the bottom of the stack, with their messages, authors and dates;
 * HEAD moves back to the parent of the oldest. The inverse of finish: finishing the
 * same patches again makes commits with the same trees, messages and authors.
 */
import { existsSync } from "node:fs";
import { handCommitAdvice } from "./ops/pop.js";
import { PqError } from "../errors.js";
import { formatHeader, trimBody } from "../mail/header.js";
import { patchNameFromSubject } from "../mail/mbox.js";
import { dropDiffstat, joinHeaderAndDiff, refuseDiffInMessage } from "./patch-text.js";
import { gitOut, headHasCommit, stagedChanges } from "./git-cli.js";
import { planPush, refusalOfWholePlan } from "./ops/push.js";
import { planInsert } from "./ops/series-edit.js";
import { planMoveBase } from "./rebase-base.js";
import type { Stack } from "./stack.js";
import { refuseDuringStoppedRebase, refuseDuringStoppedSyncMove } from "./state.js";
import { queueInTree } from "../tree/paths.js";

export interface UncommitReport {
  patches: { name: string; commit: string }[];
  base: string;
}

/** The commits to uncommit, oldest first: the top `count`, or those in REV..HEAD. */
function pickCommits(tree: string, opts: { count?: number; range?: string }): string[] {
  // A branch with no commit yet has none to uncommit: said, not git's failure over HEAD (t138 N8).
  if (!headHasCommit(tree)) {
    throw new PqError("refused", "HEAD has no commit yet: there is nothing to uncommit", ["pq new makes a patch; pq finish makes commits of applied patches"]);
  }
  let list: string[];
  if (opts.range !== undefined) {
    const m = /^(.+)\.\.(HEAD)?$/.exec(opts.range);
    if (!m) throw new PqError("usage", `${opts.range} is not a range REV.. (commits after REV up to HEAD)`);
    let rev: string;
    try {
      rev = gitOut(tree, ["rev-parse", "--verify", "--quiet", `${m[1]}^{commit}`]).trim();
    } catch {
      // HEAD~N past a shallow clone's oldest commit names a commit that was not fetched (t101 N4).
      if (isShallow(tree) && /[~^]/.test(m[1])) throw shallowBoundary(undefined);
      throw new PqError("not-found", `${m[1]} is not a commit`);
    }
    try {
      gitOut(tree, ["merge-base", "--is-ancestor", rev, "HEAD"]);
    } catch {
      throw new PqError("usage", `${m[1]} is not an ancestor of HEAD`, ["uncommit takes commits from the current branch only"]);
    }
    list = gitOut(tree, ["rev-list", "--reverse", `${rev}..HEAD`]).split("\n").filter(Boolean);
    if (list.length && gitOut(tree, ["rev-parse", `${list[0]}^`]).trim() !== rev) {
      throw new PqError("unsupported", `${m[1]}..HEAD is not a straight line of commits (it contains merged history)`, ["name a range without merges"]);
    }
  } else {
    const n = opts.count ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new PqError("usage", `-n needs a positive number${Number.isNaN(n) ? "" : `, not ${n}`}`);
    list = gitOut(tree, ["rev-list", "--first-parent", "-n", String(n), "HEAD"]).split("\n").filter(Boolean).reverse();
    if (list.length < n) {
      if (isShallow(tree)) throw shallowBoundary(list[0]);
      throw new PqError("usage", `the branch has only ${list.length} commit(s)`);
    }
  }
  if (!list.length) throw new PqError("usage", "no commits to uncommit");
  for (const c of list) {
    const parents = gitOut(tree, ["rev-list", "--parents", "-n", "1", c]).trim().split(" ").length - 1;
    if (parents > 1) throw new PqError("unsupported", `${c.slice(0, 12)} is a merge; pq uncommit only turns single-parent commits into patches`);
    if (parents === 0) {
      if (isShallow(tree)) throw shallowBoundary(c);
      // The branch's first commit: there is no commit to move it back to (t139 N6).
      throw new PqError("refused", `${c.slice(0, 12)} is the root commit; there is no base to move HEAD back to`, [
        "if pq finish made it (the repository's first commit), pq undo takes that finish back: the branch has no commit again and the patch is applied (pq oplog shows whether the finish is the last operation)",
      ]);
    }
  }
  return list;
}

function isShallow(tree: string): boolean {
  return gitOut(tree, ["rev-parse", "--is-shallow-repository"]).trim() === "true";
}

/** A shallow clone's oldest commit has parents, only not fetched: said so, with the way to fetch them (t99 N6). */
function shallowBoundary(commit: string | undefined): PqError {
  return new PqError(
    "refused",
    `${commit ? `${commit.slice(0, 12)} is where this shallow clone's history stops` : "this shallow clone's history stops"}: its parents were not fetched, so there is no base to move HEAD back to`,
    ["fetch more history (git fetch --deepen=N, or git fetch --unshallow), then run pq uncommit again"],
  );
}

/** A commit as a patch file: its author, date and message over its diff (git's, exact and binary-safe). */
export function commitAsPatch(tree: string, commit: string, prefix: string): { subject: string; text: string } {
  const [author, date, committer, ...message] = gitOut(tree, ["show", "-s", "--date=raw", "--format=%an <%ae>%x00%aD%x00%cn <%ce> %cd%x00%B", commit]).split(
    "\0",
  );
  const raw = message.join("\0").replace(/\n+$/, "");
  const { description, notes } = splitAtDashes(raw);
  refuseDiffInMessage(notes === null ? raw : description, `${commit.slice(0, 12)}'s message`);
  if (notes !== null) refuseDiffInMessage(notes.text, `${commit.slice(0, 12)}'s message after its "---" line`);
  const [subject, ...rest] = description.split("\n");
  // The committer too: finishing the unchanged patch makes the very same commit again.
  let header = formatHeader({ author, date, subject, body: trimBody(rest.join("\n")), committer });
  // What follows a "---" line (dependabot's YAML, a changelog) is the patch's notes, as git am
  // and pq import read a mail's: finish writes them back after the same line (interop-17 F4).
  if (notes !== null) header += `${notes.blankBefore ? "\n" : ""}---\n${Buffer.from(notes.text, "utf8").toString("latin1")}\n`;
  if (dropDiffstat(header) !== header) {
    throw new PqError("usage", `the text after the "---" line of ${commit.slice(0, 12)}'s message reads as a diffstat, which a patch drops`, [
      "indent those lines (a leading space keeps them as text) in the commit, then run the command again",
    ]);
  }
  const diffArgs = ["diff", "--binary", "--full-index", "-M", "--no-color", "--no-ext-diff", "--no-textconv", "--src-prefix=a/", "--dst-prefix=b/"];
  if (prefix) diffArgs.push(`--relative=${prefix}`);
  const diff = gitOut(tree, [...diffArgs, `${commit}^`, commit], "latin1");
  return { subject, text: joinHeaderAndDiff(header, diff) };
}

/**
 * A commit message cut at its first lone "---" line: the description above it, and the notes
 * below it (null without such a line, or with nothing after it, where the line itself is refused:
 * it would end the description and come back from no patch).
 */
function splitAtDashes(message: string): { description: string; notes: { text: string; blankBefore: boolean } | null } {
  const lines = message.split("\n");
  const at = lines.findIndex((l) => /^---\r?$/.test(l));
  const text = at === -1 ? "" : lines.slice(at + 1).join("\n").replace(/^\n+|\s+$/g, "");
  if (at <= 0 || !text) return { description: message, notes: null };
  return { description: lines.slice(0, at).join("\n").replace(/\s+$/, ""), notes: { text, blankBefore: lines[at - 1] === "" } };
}

export async function uncommit(stack: Stack, opts: { count?: number; range?: string } = {}): Promise<UncommitReport> {
  refuseDuringStoppedRebase(stack.tree, "uncommit");
  refuseDuringStoppedSyncMove(stack.tree, "uncommit");
  const git = await stack.repo();
  if (!git) throw new PqError("no-queue", "uncommit needs a git work tree");
  if (stagedChanges(stack.tree)) throw new PqError("dirty", "the git index has staged changes", ["commit or unstage them first (git restore --staged -- :/ unstages them all; the work tree keeps them)"]);
  const status = await stack.status();
  if (status.needsRefresh) throw new PqError("needs-refresh", `${status.top} needs a refresh first`);
  // The applied patches committed by hand (git commit -a): pushed again over their own commit,
  // they would not apply (stack-6 #17e). Refused as pop and finish refuse, with their way out.
  if (status.committedUnder?.length) {
    const files = status.committedUnder;
    throw new PqError(
      "refused",
      `HEAD has commits that change ${files.slice(0, 5).join(", ")}${files.length > 5 ? ", ..." : ""}, which the applied patches change too: uncommit would push the patches again over them`,
      handCommitAdvice("status", status.headMoved),
      { files, pathsFrom: stack.tree },
    );
  }
  // The queue's own files, where the tree's repository versions the queue (debian/patches): a
  // finish just now left its patch file's removal and series line there, uncommitted; they are
  // pq's to change, as the transaction will, not edits in its way (t145 N5: the advised git stash
  // brought the patch back beside the one uncommit made).
  const queueRel = queueInTree(stack.tree, stack.queueDir);
  const ownQueueFile = (path: string) => queueRel !== null && queueRel !== "" && (path === queueRel || path.startsWith(`${queueRel}/`));
  const pending = (stack.applied().length ? status.pending : await git.changedTrackedFiles()).filter((path) => !ownQueueFile(path));
  if (pending.length) {
    throw new PqError("dirty", `unrefreshed changes in ${pending.slice(0, 8).join(", ")}`, [
      stack.applied().length ? "pq refresh them into the top patch (or git stash them) first" : "git stash them (or commit them) first",
    ]);
  }
  const commits = pickCommits(stack.tree, opts);
  const base = gitOut(stack.tree, ["rev-parse", `${commits[0]}^`]).trim();
  if (commits.some((c) => gitOut(stack.tree, ["diff", "--name-only", `${c}^`, c, "--", "."]).trim() === "")) {
    // A commit that changes nothing inside this tree would become an empty patch that finish cannot recreate.
    const empty = commits.find((c) => gitOut(stack.tree, ["diff", "--name-only", `${c}^`, c, "--", "."]).trim() === "")!;
    throw new PqError("unsupported", `${empty.slice(0, 12)} changes nothing in this tree; pq would turn it into an empty patch`);
  }

  const taken = new Set([...stack.series().map((e) => e.name), "series", "status", "guards"]);
  const items = commits.map((commit) => {
    const { subject, text } = commitAsPatch(stack.tree, commit, git.prefix);
    let name = patchNameFromSubject(subject, taken);
    while (existsSync(stack.patchPath(name))) name = patchNameFromSubject(subject, taken);
    return { name, text, commit };
  });

  const wasApplied = stack.applied();
  // One transaction (one oplog entry, one undo): pop, move the branch back to the base, put
  // the new patches at the bottom of the series, push them (which brings the tree back to
  // what the commits made) and push the patches that were applied before.
  await stack.runPlanner(`uncommit ${items.map((i) => i.name).join(" ")}: base ${commits.at(-1)!.slice(0, 12)} -> ${base.slice(0, 12)}`, async (ctx) => {
    await planMoveBase(ctx, base);
    planInsert(
      ctx,
      items.map(({ name, text }) => ({ name, text, guards: [] })),
    );
    const { report, failure } = await planPush(ctx, { target: items.at(-1)!.name });
    if (failure) throw refusalOfWholePlan(failure);
    const inexact = report.pushed.find((p) => p.notes.length);
    if (inexact) throw new PqError("internal", `${inexact.name} did not apply exactly after uncommit: ${inexact.notes.join("; ")}`);
    if (wasApplied.length) {
      const again = await planPush(ctx, { target: wasApplied.at(-1)! });
      if (again.failure) throw refusalOfWholePlan(again.failure);
    }
  });
  return { patches: items.map(({ name, commit }) => ({ name, commit })), base };
}
