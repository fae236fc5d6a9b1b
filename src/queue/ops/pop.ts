/**
 * Planning a pop: restore, for every file the popped patches touched, the version from
 * before the lowest of them (exact bytes from the object store). Files on disk that pq did
 * not write would be lost, so they are checked first: refused, or with --force backed up.
 * When the store has lost a version (a damaged .pq/objects), it is rebuilt by reverse-
 * applying the patch texts and checked against its recorded hash.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PqError } from "../../errors.js";
import type { EventSink } from "../../core/events.js";
import { applyFilePatch, filePatchBetween, gitBlobId, parsePatch, reverseFilePatch } from "../../patch/index.js";
import { readText, sha1 } from "../../tree/files.js";
import { readQueueText } from "../names.js";
import { BACK_THROUGH_QUILT } from "../quilt-takeover.js";
import { entriesAt, gitOut } from "../git-cli.js";
import { operandWords, shellWord, operandList } from "../../core/shell-word.js";
import { isPushable } from "../series.js";
import { parsePorcelainStatus, type GitRepo } from "../../git/repo.js";
import { statePaths, stoppedSyncRefresh, versionId, type AppliedPatch, type Version } from "../state.js";
import { expectedVersions, versionsBelowStack } from "../refresh-plan.js";
import { backupFiles, blobIdOf, changesGoneFrom, differFromHead, revertedBelowStack, versionOnDisk, namesNothing, planUnstage, resolveName, stagedAmong, versionContent, type OpContext, type StackTarget } from "./context.js";

export interface PopOptions {
  target?: StackTarget;
  all?: boolean;
  force?: boolean;
  onEvent?: EventSink;
}

export interface PopReport {
  popped: string[];
  top: string | null;
  backup?: string;
}

export function planPop(ctx: OpContext, opts: PopOptions): PopReport {
  const { tx } = ctx;
  const emit = opts.onEvent ?? ctx.emit;
  const applied = tx.state.applied;
  if (!applied.length) return { popped: [], top: null };
  let keep: number;
  if (opts.all || namesNothing(tx.series(), opts.target)) keep = 0;
  else if (opts.target !== undefined) {
    const name = resolveName(tx.series(), opts.target);
    const at = applied.findIndex((a) => a.name === name);
    if (at === -1) {
      // Below the top (guarded off, or added there), a push of the next patch is not its: the ways that are (t154 N13).
      const entries = tx.series().patchEntries();
      const names = entries.map((e) => e.name);
      const below = names.indexOf(name) < names.indexOf(applied.at(-1)!.name);
      const guarded = !isPushable(entries.find((e) => e.name === name) ?? { name, guards: [] }, tx.state.guards);
      const ways = !below
        ? [`pq push ${operandWords(name)} to apply it`]
        : guarded
          ? [
              `it is guarded off by the selected guards: pq select G --reapply, with its guard G selected, applies it in its place (pq guard ${operandWords(name)} shows its guards)`,
            ]
          : [`pq select --reapply applies it in its place (the series' order kept), or pq push --move ${operandWords(name)} moves it on top`];
      throw new PqError("refused", `${name} is not applied${below ? ` (it is below the top, ${applied.at(-1)!.name})` : ""}`, ways, { patch: name });
    }
    keep = at + 1;
  } else keep = applied.length - 1;
  const popping = applied.slice(keep);
  if (!popping.length) return { popped: [], top: applied.at(-1)?.name ?? null };
  const top = applied.at(-1)!;
  if (top.needsRefresh && !opts.force) {
    throw new PqError(
      "needs-refresh",
      `${top.name} was ${top.needsRefresh === "conflict" ? "merged with conflicts" : "force-applied with rejects"} and needs a refresh`,
      [
        existsSync(statePaths(ctx.tree).sync)
          ? // A stopped sync's conflict: its files named, so that no other edit goes into the patch everyone gets (t144 N1).
            `resolve the conflicts, ${stoppedSyncRefresh(ctx.tree)}, then pq sync --continue; or pq sync --abort`
          : "resolve the conflicts or .rej hunks, then pq refresh; or pq pop --force to drop the partial application (edits you made since are backed up)",
      ],
      // The refresh names files from the tree's top: the CLI says to cd there first from below it (t146 N7).
      { patch: top.name, reason: top.needsRefresh, ...(existsSync(statePaths(ctx.tree).sync) ? { pathsFrom: ctx.tree } : {}) },
    );
  }
  const ws = tx.ws;
  // Every path the popped patches touched: the version the topmost of them left (what the
  // tree should hold) and the one from before the lowest (what the pop restores). Only the
  // popped patches are read: popping one of a thousand looks at one.
  const expected = new Map<string, Version>();
  const restore = new Map<string, Version>();
  for (let i = popping.length - 1; i >= 0; i--) {
    const files = popping[i].files;
    for (const path in files) {
      if (!expected.has(path)) expected.set(path, files[path].post);
      restore.set(path, files[path].pre);
    }
  }
  // Pops restore bytes from the object store, so anything on disk that pq did not write would be lost: check first.
  // A file already as the pop leaves it (the patches' changes taken away by a git reset --hard or
  // a stash) loses nothing: no refusal, whose advice to refresh would make the top patch revert
  // the lower ones (t49 N1).
  const dirty = [...restore.keys()].filter((p) => ws.version(p) !== expected.get(p) && ws.version(p) !== restore.get(p));
  let backup: string | undefined;
  if (dirty.length) {
    if (!opts.force) {
      const reverted = revertedBelowStack(ctx, dirty);
      if (reverted.length === dirty.length) throw changesGoneFrom(ctx.tree, reverted, "the pop");
      const gone = dirty.filter((p) => ws.version(p) === null && (expected.get(p) ?? null) !== null);
      // The same pop, forced: pq pop --force alone took the top patch only (t119 N2).
      const target = opts.target === undefined ? "" : String(opts.target);
      const forced = `pq pop --force${opts.all ? " -a" : target ? ` ${operandWords(target)}` : ""}`;
      throw new PqError(
        "dirty",
        `unrefreshed changes in ${dirty.length} file(s) that the patches to pop touch: ${dirty.slice(0, 8).join(", ")}${dirty.length > 8 ? ", ..." : ""}`,
        [
          ...goneAdvice(gone, dirty.length, top.name, ctx.tree),
          gone.length === dirty.length
            ? `or ${forced} to pop anyway`
            : topChangedInQueue(ctx, top.name, top.hash)
            ? // A refresh would overwrite the queue's new version of the top patch (a pull), and refuses.
              `${top.name} changed in the queue since it was pushed, so pq refresh cannot keep them there: pq new NAME and pq refresh keep them as a patch of their own, then pq pop -a and pq push -a take the new version with them on top; or ${forced} (the changed files are backed up)`
            : `pq refresh to keep them in the top patch, or ${forced} to pop anyway (the changed files are backed up)`,
        ],
        { files: dirty },
      );
    }
    backup = backupFiles(ctx.tree, dirty, `pop-${top.name}`);
  }
  // A .rej a forced push wrote, edited since (notes, a hunk fixed by hand): kept in the pop's backup
  // before the pop takes it away with its patch (t145 N1). Unknown as written (an older state): kept too.
  const editedRejects = popping.flatMap((record) =>
    (record.rejects ?? []).filter((rej, i) => ws.version(rej) !== null && versionId(ws.version(rej)) !== record.rejectsWritten?.[i]),
  );
  if (editedRejects.length) backup = backupFiles(ctx.tree, editedRejects, `pop-${top.name}`, ctx.tree, backup);
  for (const [path, version] of restore) {
    const id = versionId(version);
    if (id !== null && !ctx.store.verify(id)) rebuildLostVersion(ctx, popping, path, version, dirty.includes(path));
    ws.setVersion(path, version);
  }
  // Forced pushes leave .rej files: popping the patch takes them away with it.
  for (const record of popping) for (const rej of record.rejects ?? []) if (ws.version(rej) !== null) ws.set(rej, null, false);
  emit({ kind: "pop", message: `popping ${popping.length} patch(es)`, current: popping.length, total: popping.length });
  tx.state.applied = applied.slice(0, keep);
  return { popped: popping.map((p) => p.name).reverse(), top: tx.state.applied.at(-1)?.name ?? null, ...(backup ? { backup } : {}) };
}

/**
 * A version the store should hold is gone: walk the popped patches from the top down,
 * reverse-applying each one's change to the path, until the version below the lowest is
 * reached; accept it only if it hashes to the recorded id.
 */
function rebuildLostVersion(ctx: OpContext, popping: AppliedPatch[], path: string, wanted: Version, dirty: boolean): void {
  const lost = () =>
    new PqError(
      "damaged",
      `the version of ${path} from before ${popping[0].name} is missing from pq's object store and cannot be rebuilt from the patches`,
      [
        "nothing was changed",
        `if ${path} was unchanged below the stack, git checkout -- ${path} restores it; then pq pop --force`,
        "the patches themselves are intact in the queue directory",
      ],
      { file: path, patch: popping[0].name },
    );
  if (dirty) throw lost();
  let content = readText(join(ctx.tree, path));
  for (const record of [...popping].reverse()) {
    if (!record.files[path]) continue;
    const text = readQueueText(ctx.queueDir, record.name);
    if (text === null) throw lost();
    let fp;
    try {
      fp = parsePatch(text).files.find((f) => (f.newPath ?? f.oldPath) === path);
    } catch {
      throw lost();
    }
    if (!fp) throw lost();
    const result = applyFilePatch(content, reverseFilePatch(fp), { fuzz: 0 });
    if (!result.ok) throw lost();
    content = result.content;
  }
  if (content === null ? wanted !== null : ctx.store.put(content) !== versionId(wanted)) throw lost();
}

/**
 * Patches are not commits: a `git commit -a` made while they are applied puts their changes
 * (and the user's) into HEAD, and a pop restoring the versions from below the stack would
 * then leave an uncommitted revert of that commit in the tree. hg qpop refuses ("popping
 * would remove a revision not managed by this patch queue"); so does pq, for the files the
 * pop restores whose version at HEAD is no longer the one below the stack. Known answers are
 * kept in the stat cache per HEAD commit, as push keeps them: a warm pop starts no git.
 */
export async function refuseCommitsOnTop(ctx: OpContext, before: AppliedPatch[], popped: string[]): Promise<void> {
  if (!popped.length) return;
  // Each restored path's version below the whole stack: the pre of the lowest patch touching it
  // (one pass, plain loops: a pop of 1000 patches walks ~2,700 of their files, in code run once).
  const popping = new Set(popped);
  const below = versionsBelowStack(before);
  const restored = new Map<string, Version>();
  for (const record of before) if (popping.has(record.name)) for (const path in record.files) if (!restored.has(path)) restored.set(path, below.get(path)!);
  // A file below the stack that HEAD no longer has was deleted by a commit (push refuses a
  // patch over a file HEAD does not have, so it was there when the stack was pushed).
  const committed = await differFromHead(ctx, restored, { remember: true });
  if (committed.length) throw await commitsOnTop(ctx, before, committed, "popping", "pop");
}

/**
 * A popped patch's content staged with git add (git add -A while it was applied) would stay
 * in the index after the pop, for the next unrelated commit: see unstageLeavingContent. git is
 * asked only when the index changed since it was last found with nothing staged (see stagedAmong).
 * Returns where --force saved staged versions it unstaged.
 */
export async function unstagePoppedContent(ctx: OpContext, before: AppliedPatch[], popped: string[], force = false): Promise<string | undefined> {
  if (!popped.length) return undefined;
  const popping = new Set(popped);
  // What each file is after the pop: the version below the lowest popped patch that touches it.
  const after = new Map<string, Version>();
  for (const record of before) if (popping.has(record.name)) for (const path in record.files) if (!after.has(path)) after.set(path, record.files[path].pre);
  // The versions the pop leaves, worked out only where something is staged (a warm pop has nothing).
  let leaving: Map<string, Version> | undefined;
  const moveOf = (path: string) => ({ leaving: (leaving ??= expectedVersions(before)).get(path) ?? null, after: after.get(path)! });
  return unstageLeavingContent(ctx, [...after.keys()], moveOf, force, "pop");
}

/**
 * For files a move takes patches off (a pop, the undo of a push, the redo of a pop), what git's
 * index has staged of the content it takes away. A staged version that is exactly what the move
 * leaves, or holds nothing but lines of it (a git add -p of part of a patch, a git add before
 * the last refresh: merged three ways with HEAD's version as base, it gives the version left),
 * is unstaged with it, as part of the transaction (undo stages it again); left, a git commit
 * put part of an unapplied patch into HEAD (t112 N1, N2, N8). One that is what the move puts in
 * the tree stays, as does the user's untracking (git rm --cached of a file still there). Any
 * other staged version holds a change the tree does not (staged, then taken out of the work
 * tree): refused, or with --force saved to .pq/backups and unstaged. Returns that backup.
 */
export async function unstageLeavingContent(
  ctx: OpContext,
  paths: string[],
  moveOf: (path: string) => { leaving: Version; after: Version },
  force: boolean,
  command: string,
): Promise<string | undefined> {
  const staged = await stagedAmong(ctx, paths, { remember: true });
  if (!staged.length) return undefined;
  const git = await ctx.repo();
  if (!git) return undefined;
  const entries = await git.indexEntries(staged.map((p) => git.prefix + p));
  let atHead: Map<string, { mode: string; blob: string }> | undefined;
  let converted: Set<string> | undefined;
  const ours: string[] = [];
  const theirs: string[] = [];
  for (const path of staged) {
    const { leaving, after } = moveOf(path);
    const blob = entries.get(git.prefix + path)?.split(" ")[1];
    // A deletion staged by git mv (or git rm) of a file the move puts back: it no longer says
    // anything of the tree, and left, push refused over it (t46 N7). Unstaged, nothing is lost.
    // Only where the file was gone from the tree: a git rm --cached of a file still there is the
    // user's untracking, and stays (t48 N3).
    if (blob === undefined) {
      if (after !== null && ctx.tx.ws.diskVersion(path) === null) ours.push(path);
      continue;
    }
    if (leaving === null) continue; // the patch deleted the file: what is staged under its name is not its content
    const leavingText = versionContent(ctx, leaving) ?? "";
    const afterText = after === null ? null : (versionContent(ctx, after) ?? "");
    // In a checkout git converts (CRLF), the blob is the text as git add stores it (t115 N9).
    converted ??= await git.convertedPaths(staged);
    const stagedAs = async (text: string) => blob === gitBlobId(text) || (converted!.has(path) && blob === (await git.cleanBlobId(text, path)));
    if (await stagedAs(leavingText)) ours.push(path);
    else if (afterText !== null && (await stagedAs(afterText))) continue;
    else {
      atHead ??= entriesAt(ctx.tree, git.prefix, "HEAD", staged);
      const headBlob = atHead.get(path)?.blob;
      const [stored, headStored] = await Promise.all([git.blob(blob), headBlob ? git.blob(headBlob) : Promise.resolve("")]);
      // Merged in the tree's form: stored LF where the tree's file has CRLF lines.
      const asTree = (text: string | null) => (text !== null && converted!.has(path) && leavingText.includes("\r\n") && !text.includes("\r") ? text.replaceAll("\n", "\r\n") : text);
      const [stagedText, headText] = [asTree(stored), asTree(headStored)];
      const merge = async (ours: string, base: string, theirs: string) => {
        const m = await git.mergeFile(ours, base, theirs, ["staged", "base", "other"]);
        return m.conflicts === 0 && !m.binary ? m.content : null;
      };
      if (stagedText === null || headText === null) theirs.push(path);
      // Nothing but the patches' lines: goes with them.
      else if ((await merge(stagedText, headText, leavingText)) === leavingText) ours.push(path);
      // None of the popped lines (the user's own change, staged alone, as before the push): it stays (t115 N1),
      // also where it adjoins them, which the merge calls a conflict (t116 N1).
      else if (afterText !== null && ((await merge(stagedText, leavingText, afterText)) === stagedText || sharesNoEdit(path, afterText, leavingText, stagedText))) continue;
      else theirs.push(path);
    }
  }
  let backup: string | undefined;
  if (theirs.length) {
    const named = `${theirs.slice(0, 5).join(", ")}${theirs.length > 5 ? ", ..." : ""}`;
    if (!force) {
      throw new PqError(
        "dirty",
        `git's index has a version of ${named} staged with a change the work tree does not have (staged, then taken out of the tree?) and lines the ${command} takes away: left staged, they would go into the next git commit`,
        [
          `git diff --cached -- ${shellWord(theirs[0])} shows what is staged; pq ${command} --force saves the staged version${theirs.length === 1 ? "" : "s"} in .pq/backups and unstages ${theirs.length === 1 ? "it" : "them"}`,
          `or git restore --staged -- ${theirs.map(shellWord).join(" ")} (drops the staged version), then pq ${command}`,
        ],
        { files: theirs, pathsFrom: ctx.tree },
      );
    }
    const versions = new Map<string, { content: string; exec: boolean }>();
    for (const path of theirs) {
      const [mode, blob] = entries.get(git.prefix + path)!.split(" ");
      const content = await git.blob(blob);
      if (content !== null) versions.set(path, { content, exec: mode === "100755" });
    }
    backup = backupFiles(ctx.tree, theirs, `${command}-staged`, (path) => versions.get(path) ?? null);
    ours.push(...theirs);
  }
  await planUnstage(ctx, ours);
  return backup;
}

/**
 * Whether `staged` makes none of the edits that take `after` to `leaving` (the popped patch's):
 * it removes none of the lines the patch removes, and adds none of the lines it adds (by content,
 * wherever: a line of the user's own that equals one of the patch's counts as the patch's, and the
 * pop refuses, which loses nothing).
 */
function sharesNoEdit(path: string, after: string, leaving: string, staged: string): boolean {
  if ([after, leaving, staged].some((text) => text.slice(0, 8000).includes("\0"))) return false; // binary: no lines to tell
  const edits = (to: string) => {
    const removed = new Set<number>();
    const added = new Set<string>();
    for (const hunk of filePatchBetween(path, after, to)?.hunks ?? []) {
      let line = hunk.oldStart;
      for (const l of hunk.lines) {
        if (l.op === "+") added.add(l.text);
        else {
          if (l.op === "-") removed.add(line);
          line++;
        }
      }
    }
    return { removed, added };
  };
  const popped = edits(leaving);
  const mine = edits(staged);
  return [...popped.removed].every((line) => !mine.removed.has(line)) && [...popped.added].every((text) => !mine.added.has(text));
}

/**
 * The refusal of a move that would leave HEAD's commits to `committed` reverted in the tree
 * (pop, and the undo or redo that pops). `doing` names the move in the message, `command` in the advice.
 */
export async function commitsOnTop(
  ctx: OpContext,
  applied: readonly AppliedPatch[],
  committed: string[],
  doing: string,
  command: string,
): Promise<PqError> {
  // HEAD the repository's only commit: there is no commit below to go back to. The tree was
  // committed with its patches applied (a dgit-style tree), before pq took them over.
  // HEAD moved (back to the root commit, too: t102 N2) is said as such before the root's own case.
  const moved = await headMovedUnder(ctx, applied, committed);
  const rootOnly = !moved && (await (await ctx.repo())?.readRef("HEAD^")) === null;
  return new PqError(
    "refused",
    moved?.backward
      ? `HEAD moved back from ${moved.base!.slice(0, 12)}, the commit the applied patches were pushed on: ${doing} would leave the changes of the commits it left out reverted in the tree`
      : `HEAD has commits that change ${committed.slice(0, 5).join(", ")}${committed.length > 5 ? ", ..." : ""}, which the applied patches change too: ${doing} would leave those commits reverted in the tree`,
    rootOnly
      ? [
          "HEAD is the repository's first commit and already holds the patches' changes (the tree was committed with them applied): there is no commit below them",
          FIRST_COMMIT_BY_HAND(command),
          `if pq init took them over from quilt: ${BACK_THROUGH_QUILT}`,
        ]
      : await handCommitWayOut(ctx, applied, committed, command, moved),
    { files: committed, pathsFrom: ctx.tree },
  );
}

/** HEAD moved under the applied patches (see headMovedUnder): the commit it is at, and the one they were pushed on, when HEAD's reflog has it. */
export interface HeadMoved {
  head: string;
  base: string | null;
  /** HEAD holds the base (a pull or rebase moved its branch forward), rather than a commit beside it (another branch checked out). */
  forward: boolean;
  /** The tree holds none of the patches' changes: their files are HEAD's (a git reset --hard or checkout -f moved HEAD). */
  treeAtHead: boolean;
  /** HEAD is below the base (a git reset or checkout of an older commit took commits off under the patches). */
  backward?: boolean;
  /** The applied patches' files HEAD's commits change (and HEAD has). */
  files: string[];
  /** The applied patches' files HEAD's commits deleted. */
  deleted?: string[];
}

/**
 * The way out of HEAD's commits under the applied patches, for pop's refusal and status's
 * warning; `command` is run after it. The patches committed by hand (git commit -a): a mixed
 * reset to the commit below. HEAD moved under them (a git pull, a rebase, a checkout while they
 * were applied: t44 N4), which that reset would undo: back to the commit they were pushed on,
 * HEAD's changes out of the tree again (they stay in its commit), then pq rebase onto it.
 */
/** The way out of patches committed by hand as a repository's first commit: the branch back to no commit (t139 N7). */
const FIRST_COMMIT_BY_HAND = (command: string) =>
  `if that commit is the repository's first, made by hand with the patches in it: git update-ref -d HEAD takes the branch back to no commit (the tree and git's index stay as they are), then pq ${command}`;

export function handCommitAdvice(command: string, moved?: HeadMoved | null, below?: string | null): string[] {
  if (!moved)
    return [
      // The commit named where HEAD's reflog has it (t102 N8), as the pull's way out names its own.
      `were the patches committed by hand (git commit -a, or some of their lines: git add -p)? git reset ${below ? below.slice(0, 12) : "to the commit below them"} (a mixed reset${below ? " to the commit below them" : ""}: their changes stay in the tree and leave git's index); then pq ${command}`,
      // Committed as the repository's first commit, there is no commit below to reset to (t139 N7).
      ...(below ? [] : [FIRST_COMMIT_BY_HAND(command)]),
    ];
  const head = moved.head.slice(0, 12);
  const base = moved.base?.slice(0, 12) ?? "BASE";
  const what = `HEAD moved under the applied patches (a git pull, rebase or checkout while they were applied?): it is neither the commit they were pushed on nor those patches committed; a pq refresh would take HEAD's changes into the top patch`;
  const where = moved.base ? "" : ": HEAD's reflog does not have it; git log of the branch they were pushed on does";
  // The tree lost the patches' changes with the move (reset --hard, checkout -f): back with the
  // tree, and pop and push put them back on that commit before the rebase (t45 N2).
  const carry = moved.treeAtHead
    ? `the tree holds none of their changes (a git reset --hard or checkout -f?): git reset --keep ${base} (back to the commit they were pushed on${where}; your other edits stay), pq pop -a --force, pq push -a, then pq rebase ${head}`
    : // No git apply -R of HEAD's changes: where HEAD took some of the patches' lines, it took
      // those out too (t115 N3). The pop saves the files as they are, a pull's merge of HEAD, the
      // patches and the user's edits; after the push onto HEAD they differ from the tree by the
      // user's edits alone, which copying them back brings back (t116 N4), unless the push
      // merged a line otherwise than the pull (a renamed file): a diff first says so (t119 N13).
      `git reset ${base} (a mixed reset back to the commit they were pushed on${where}; the tree stays), pq pop -a --force (it saves the patches' files as they are, HEAD's changes and your own edits in them, in .pq/backups, and sets them back as they were below the patches), git reset ${head} (HEAD forward again; the tree stays), ${moved.files.length ? `git restore -- ${moved.files.map(shellWord).join(" ")} (HEAD's version of the files it changes), ` : ""}${moved.deleted ? `rm -- ${moved.deleted.map(shellWord).join(" ")} (HEAD's commits deleted ${moved.deleted.length === 1 ? "it" : "them"}: a patch that changes ${moved.deleted.length === 1 ? "it" : "them"} stops the push, to be edited or deleted), ` : ""}pq push -a --merge (the patches onto HEAD, merged where it has some of their lines; pq status then names a patch to refresh), then your own edits: the files the pop saved hold them, with HEAD's lines as the pull merged them; diff each against the tree (diff .pq/backups/NAME/FILE FILE) and copy back a file whose diff is your edits alone (where the push merged a line otherwise, a renamed file, carry your edits over by hand)`;
  // HEAD reset (or checked out) back under the patches: forward to their commit again is the way (t102 N2).
  if (moved.backward)
    return [
      `HEAD moved back from ${base}, the commit they were pushed on (a git reset or checkout of an older commit?)${moved.treeAtHead ? ", and the tree with it" : ""}`,
      moved.treeAtHead
        ? `git reset --keep ${base} puts HEAD and the tree back there (your other edits stay), then pq pop -a and pq push -a put the patches' changes back; then pq ${command}`
        : // A mixed reset, not --soft: after a reset --hard and an edit, --soft left the dropped commits' revert staged (t105 N2).
          `git reset ${base} puts HEAD back there (a mixed reset: the tree stays as it is); then pq ${command}`,
      // pq rebase takes no target below HEAD (t105 N1): the patches go down to the base and back up over the older commit.
      `to drop those commits from under the patches instead: git reset --keep ${base}, pq pop -a (--force if it refuses over your edits: they are backed up), git status (it refreshes git's index, which --keep checks), git reset --keep ${head}, then pq push -a`,
    ];
  // A reset of the branch checked out to a commit beside it would take that branch's own commits off it.
  if (moved.base && !moved.forward)
    return [
      what,
      `HEAD does not hold ${base}, the commit they were pushed on: after a checkout of another branch, check that one out again (git checkout BRANCH), then pq status`,
      // A history rewritten under the patches (a git rebase -i that dropped or edited a commit below
      // them, an amend): carried over to HEAD by going down to the base and up again (t102 N4).
      moved.treeAtHead
        ? `after a rewrite of the history under them (git rebase -i, git commit --amend), to carry them onto ${head}: git reset --keep ${base}, pq pop -a, git status (it refreshes git's index, which --keep checks), git reset --keep ${head}, then pq push -a`
        : // Through a stash, which merges, where git apply -R needed the dropped lines' context untouched (t107 N1).
          `after a rewrite of the history under them (git rebase -i, git commit --amend), to carry them onto ${head}: git stash (the tree's changes, the patches' among them), git reset --keep ${base}, git stash pop (stopped on a conflict: resolve it, git reset -q to clear git's conflict record and stage nothing, git stash drop, and go on), pq pop -a (--force if it refuses over your edits: they are backed up), git status (it refreshes git's index, which --keep checks), git reset --keep ${head}, then pq push -a`,
    ];
  if (!moved.base)
    return [what, `if a pull moved the branch forward: ${carry}; after a checkout of another branch, check out the one they were pushed on again`];
  return [what, `to carry the patches onto ${head}: ${carry}`];
}

/**
 * Whether HEAD's commits that change `committed` (files the applied patches change) are the
 * patches themselves, committed by hand (HEAD has their result), or HEAD moved under them
 * (null: the former). The commit they were pushed on is looked for in HEAD's reflog: the
 * newest whose files are those below the patches.
 */
export async function headMovedUnder(ctx: OpContext, applied: readonly AppliedPatch[], committed: string[]): Promise<HeadMoved | null> {
  if (!committed.length) return null;
  const git = await ctx.repo();
  if (!git) return null;
  const expected = expectedVersions(applied);
  const atHead = await git.headBlobIds(committed);
  if (!atHead) return null;
  // HEAD has exactly what the patches make: committed by hand, unless HEAD came from elsewhere
  // (upstream took the patches: t119 N1, whose reset was undone by the next pull, in a loop).
  if (committed.every((p) => (atHead.get(p) ?? null) === blobIdOf(ctx, p, expected.get(p) ?? null)) && (await committedHere(git, null, (await git.readRef("HEAD")) ?? "")))
    return null;
  // The patches committed with more edits (git commit -a of an unrefreshed change): HEAD has
  // their changes, as taking them out again shows.
  const contents = await git.headContents(committed);
  const below = versionsBelowStack(applied);
  // Or part of them (a git add -p of some hunks, then git commit): HEAD's version holds nothing
  // but the patches' lines, as a three-way merge with the version below as base shows. Taken for
  // a pull, its way out made the top patch revert the committed lines (t112 N3).
  const committedPart = async (path: string): Promise<boolean> => {
    const [atHeadText, stackText, belowText] = [contents.get(path) ?? null, versionContent(ctx, expected.get(path) ?? null), versionContent(ctx, below.get(path) ?? null)];
    if (atHeadText === null || stackText === null || belowText === null) return false;
    const merged = await git.mergeFile(atHeadText, belowText, stackText, ["HEAD", "below", "patches"]);
    return merged.conflicts === 0 && !merged.binary && merged.content === stackText;
  };
  let byHand = true;
  let inPart = false;
  for (const path of committed) {
    if (changesIn(ctx, applied, path, contents.get(path) ?? null)) continue;
    if (await committedPart(path)) inPart = true;
    else byHand = false;
  }
  const head = (await git.readRef("HEAD")) ?? "";
  // All of the patches' changes, and maybe more, in HEAD: committed by hand (git commit -a),
  // unless HEAD came from elsewhere: upstream took the patches, and a pull brought them with
  // other lines of those files, which the hand commit's mixed reset would have left for the
  // next refresh to take into the top patch.
  if (byHand && !inPart && (await committedHere(git, null, head))) return null;
  const base = await commitPushedOn(ctx, applied, committed);
  // Part of a patch is also what a pull brings when upstream took some of it: a hand commit of
  // some lines changes no file the patches do not, and is on no remote's branch (t115 N2: an
  // upstream commit with another file of its own was taken for one, and its way out dropped it).
  if (byHand && base !== null && (await onlyStackCommitted(git, applied, base, head))) return null;
  const stackFiles = [...expectedVersions(applied)].filter(([path, version]) => version !== below.get(path)).map(([path]) => path);
  const headBlobs = await git.headBlobIds(stackFiles);
  // The files as they are on disk: a pop asks after planning, with its restores in the working set (t46).
  // Files the patches create are untracked, and a reset leaves them: they tell nothing of where the tree moved (t102 N2).
  const tracked = stackFiles.filter((p) => below.get(p) !== null);
  const treeAtHead = headBlobs !== null && (tracked.length ? tracked : stackFiles).every((p) => blobIdOf(ctx, p, versionOnDisk(ctx, p)) === (headBlobs.get(p) ?? null));
  const forward = base !== null && git.isAncestor(base, head);
  const backward = base !== null && !forward && git.isAncestor(head, base);
  // What HEAD has of them: a file its commits deleted cannot be restored from it (t119 N10).
  const deleted = committed.filter((p) => !atHead.get(p));
  return { head, base, forward, treeAtHead, ...(backward ? { backward } : {}), files: committed.filter((p) => atHead.get(p)), ...(deleted.length ? { deleted } : {}) };
}

/** Whether the commits from `base` to `head` change the applied patches' files alone, and were made here (committedHere). */
async function onlyStackCommitted(git: GitRepo, applied: readonly AppliedPatch[], base: string, head: string): Promise<boolean> {
  try {
    const stackFiles = new Set(applied.flatMap((record) => Object.keys(record.files)).map((path) => git.prefix + path));
    const changed = (await git.run(["diff", "--name-only", "-z", "--no-renames", base, head, "--", ":/"])).split("\0").filter(Boolean);
    return changed.every((path) => stackFiles.has(path)) && (await committedHere(git, base, head));
  } catch {
    return false; // git cannot tell: the pull's way, which keeps every commit
  }
}

/**
 * Whether no remote-tracking branch has `head`, and the commits from `base` to it (HEAD's
 * alone without a base) have the author git would write now: a hand commit's, not a pull's.
 */
async function committedHere(git: GitRepo, base: string | null, head: string): Promise<boolean> {
  try {
    if ((await git.run(["for-each-ref", "--contains", head, "--format=%(refname)", "refs/remotes"])).trim() !== "") return false;
    // Another author's commit is no hand commit of yours, also when a git pull URL BRANCH left no remote branch (t116 N5).
    // git var: the author a commit made here now would have (GIT_AUTHOR_EMAIL, then user.email).
    const me = (/<([^>]*)>/.exec(await git.run(["var", "GIT_AUTHOR_IDENT"]).catch(() => ""))?.[1] ?? "").toLowerCase();
    const authors = (await git.run(["log", "--format=%ae", ...(base ? [`${base}..${head}`] : ["-1", head])])).split("\n").filter(Boolean);
    return me === "" || authors.every((email) => email.toLowerCase() === me);
  } catch {
    return false; // git cannot tell: the pull's way, which keeps every commit
  }
}

/** handCommitAdvice for HEAD's commits under `committed`: HEAD moved, or the patches committed by hand (with the commit below them). */
export async function handCommitWayOut(
  ctx: OpContext,
  applied: readonly AppliedPatch[],
  committed: string[],
  command: string,
  moved?: HeadMoved | null,
): Promise<string[]> {
  // `moved` as the caller found it (null: committed by hand), else asked here.
  const found = moved === undefined ? await headMovedUnder(ctx, applied, committed) : moved;
  return handCommitAdvice(command, found, found ? null : await belowHandCommits(ctx, applied, committed));
}

/**
 * The commit below the patches committed by hand: the one they were pushed on, unless a pull
 * came between (HEAD's commits above that one start with some a remote-tracking branch has):
 * then the newest of those, so that the reset takes the hand commits alone and keeps the
 * pull's (t119 N7: it dropped upstream's commit, and the next refresh took its lines).
 */
export async function belowHandCommits(ctx: OpContext, applied: readonly AppliedPatch[], committed: string[]): Promise<string | null> {
  const base = await commitPushedOn(ctx, applied, committed);
  const git = base ? await ctx.repo() : null;
  if (!base || !git) return base;
  try {
    const since = (await git.run(["rev-list", "--first-parent", `${base}..HEAD`])).split("\n").filter(Boolean);
    const local = (await git.run(["rev-list", "--first-parent", `${base}..HEAD`, "--not", "--remotes"])).split("\n").filter(Boolean);
    // HEAD's own commits are the newest ones; below them, what a remote has (a pull's).
    if (local.length && local.length < since.length) return since[local.length];
  } catch {
    /* git cannot tell: the commit they were pushed on */
  }
  return base;
}

/**
 * The commit the applied patches were pushed on, as HEAD's reflog has it: the newest other than
 * HEAD whose `committed` files are those below the patches; null where the reflog has none.
 */
export async function commitPushedOn(ctx: OpContext, applied: readonly AppliedPatch[], committed: string[]): Promise<string | null> {
  const git = await ctx.repo();
  if (!git || !committed.length) return null;
  const head = (await git.readRef("HEAD")) ?? "";
  const below = versionsBelowStack(applied);
  let reflog: string[] = [];
  try {
    reflog = (await git.run(["rev-list", "--walk-reflogs", "--max-count=30", "HEAD"])).split("\n").filter(Boolean);
  } catch {
    reflog = []; // no reflog (core.logAllRefUpdates off)
  }
  // Each file below the stack as git stores it: in a checkout git converts (CRLF), its blob is not its bytes' (t115 N10).
  const converted = await git.convertedPaths(committed);
  const wanted = new Map<string, string | null>();
  for (const path of committed) {
    const version = below.get(path) ?? null;
    const content = versionContent(ctx, version);
    wanted.set(path, content !== null && converted.has(path) ? await git.cleanBlobId(content, path) : blobIdOf(ctx, path, version));
  }
  for (const commit of reflog) {
    if (commit === head) continue;
    const blobs = await git.headBlobIds(committed, commit);
    if (blobs && committed.every((p) => (blobs.get(p) ?? null) === wanted.get(p))) return commit;
  }
  return null;
}

/** Whether a patch's file in the queue is no longer the text it had when it was pushed. */
function topChangedInQueue(ctx: OpContext, name: string, hash: string): boolean {
  try {
    return sha1(ctx.tx.patchText(name)) !== hash;
  } catch {
    return false;
  }
}

/**
 * Files the popped patches left in the tree that are gone from it (git clean -fd removes the ones
 * they create): "pq refresh to keep them" would take their deletion into the top patch (t44 N6).
 */
function goneAdvice(gone: string[], of: number, top: string, tree: string): string[] {
  if (!gone.length) return [];
  // Moved with git mv rather than removed (t46 N7): a refresh takes the move as a rename.
  const moves = stagedMoves(tree);
  const moved = gone.filter((p) => moves.has(p));
  const removed = gone.filter((p) => !moves.has(p));
  const lines = moved.length
    ? [`${moved.map((p) => `${p} was moved with git mv to ${moves.get(p)}`).join("; ")}: pq refresh takes the move into ${top} (as a rename), or git mv puts it back`]
    : [];
  if (!removed.length) return lines;
  const which =
    removed.length < of ? `${removed.length} of them are` : removed.length === 1 ? "it is" : removed.length === 2 ? "both are" : "all are";
  const list = `${operandList(removed.slice(0, 8))}${removed.length > 8 ? " ..." : ""}`;
  return [
    ...lines,
    `${which} gone from the tree (git clean -fd, or moved?): pq revert ${list} puts ${removed.length === 1 ? "it" : "them"} back as the patches left ${removed.length === 1 ? "it" : "them"} (a refresh would take the deletion into ${top})`,
  ];
}

/** Whether `content` holds every applied patch's change to `path`: each taken out in turn, top first (with fuzz: HEAD may have more around it). */
function changesIn(ctx: OpContext, applied: readonly AppliedPatch[], path: string, content: string | null): boolean {
  try {
    for (const record of [...applied].reverse()) {
      const change = record.files[path];
      if (!change || change.pre === change.post) continue;
      const file = filePatchBetween(path, versionContent(ctx, change.pre), versionContent(ctx, change.post));
      if (!file) continue; // a mode change alone
      const result = applyFilePatch(content, reverseFilePatch(file));
      if (!result.ok) return false;
      content = result.content;
    }
    return true;
  } catch {
    return true; // a version pq cannot read: the advice for a hand commit, as before
  }
}

/** Staged moves (git mv), source to destination, tree-relative: asked only for a refusal's advice. */
function stagedMoves(tree: string): Map<string, string> {
  const moves = new Map<string, string>();
  try {
    // Porcelain paths are the repository's: the tree may be a folder of it.
    const prefix = gitOut(tree, ["rev-parse", "--show-prefix"]).trim();
    const out = gitOut(tree, ["status", "--porcelain=v1", "-z", "--renames", "--untracked-files=no", "--", "."]);
    for (const e of parsePorcelainStatus(out, prefix)) if (e.from !== undefined) moves.set(e.from, e.path);
  } catch {
    /* no git, or none to ask: no moves */
  }
  return moves;
}
