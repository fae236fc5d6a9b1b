/**
 * Undo and redo as transactions built from the operation log: the tree files, queue files,
 * state and git branch that the undone operations changed go back to their versions from
 * before (redo: forward again). Files changed since by hand are not silently overwritten:
 * refused, or with --force backed up first. A git branch that moved on since a finish is
 * never moved back (that would drop commits built on it).
 */
import { existsSync } from "node:fs";
import { Series } from "../series.js";
import { replaySeriesChange } from "../series-replay.js";
import { operandWords, shellWord } from "../../core/shell-word.js";
import { PqError } from "../../errors.js";
import { asciiJson, fileStat, sha1 } from "../../tree/files.js";
import { readQueueText } from "../names.js";
import { commandCount, damagedLog, doneNewestFirst, entriesOfCommands, OplogReader, takeCommands, undoneNewestFirst, type OplogEntry } from "../oplog.js";
import { adoptState, statePaths, versionExec, versionId, type AppliedPatch, type StackState, type Version } from "../state.js";
import type { IndexEntry } from "../transaction.js";
import type { GitRepo } from "../../git/repo.js";
import type { ObjectStore } from "../../tree/objects.js";
import { expectedVersions, versionsBelowStack } from "../refresh-plan.js";
import { backupFiles, differFromHead, headerEditOnly, type OpContext } from "./context.js";
import { queueNameOf } from "../queues.js";
import { commitsOnTop, unstageLeavingContent } from "./pop.js";

export interface UndoReport {
  /** The operations taken back (undo) or re-done (redo), newest first for undo. */
  entries: { id: string; op: string; time: string }[];
  backup?: string;
  /**
   * Where the versions the tree held between two of the operations taken back were saved (the
   * edits a refresh took, which its undo leaves in the tree and the undo of an older operation
   * overwrites): they are in no patch and no tree afterwards (t61 N3).
   */
  betweenBackup?: string;
  /** The undo took back a rebase's --continue or --skip: the rebase is stopped again where it was. */
  rebaseStopped?: true;
}

/**
 * The entries the next `commands` commands of undo (newest first) or redo (the most recently
 * undone first) would move through, and one more when there is one; all of them when there
 * are fewer. Read from the end of the log, so the cost does not grow with its length.
 */
export function undoCandidates(tree: string, direction: "undo" | "redo", commands: number): OplogEntry[] {
  const file = statePaths(tree).oplog;
  const reader = new OplogReader(file);
  const taken = takeCommands(direction === "undo" ? doneNewestFirst(reader) : undoneNewestFirst(reader), commands);
  // A line it could not read may be an operation in between: what it did cannot be known.
  // Operations logged after every damaged line do not depend on it (unless the oldest of them
  // belongs to a command whose other operations may be in the damaged line): those move.
  if (reader.damaged.length) {
    const used = entriesOfCommands(taken, commands);
    const moved = used === null ? [] : taken.slice(0, used);
    const oldest = Math.max(...moved.map((e) => reader.lineOf.get(e.id) ?? Infinity));
    const clear = moved.length > 0 && moved.at(-1)!.group === undefined && reader.damagedAt.every((line) => line > oldest);
    if (!clear) throw damagedLog(file, reader.damaged);
  }
  return taken;
}

/**
 * Undo takes the stack from the state the newest of its entries left, redo from the state
 * the first of its entries started from, and each entry must start where the next leaves
 * off: anything else means the stack changed outside the log (a queue switch, a hand-edited
 * state or log), and the recorded moves would land on the wrong files or the wrong queue.
 */
function refuseBrokenChain(tree: string, store: ObjectStore, current: StackState, currentText: string | undefined, ordered: OplogEntry[], direction: "undo" | "redo"): void {
  const [from, to] = direction === "undo" ? [1, 0] : [0, 1];
  // States are compared as pq writes them: a state.json in another layout (written indented by
  // an older pq, or reformatted by hand) is the same state.
  const canonical = new Map<string, string | null>();
  const canonicalOf = (id: string): string | null => {
    if (!canonical.has(id)) {
      let text: string | null = null;
      try {
        text = sha1(asciiJson(JSON.parse(store.get(id))));
      } catch {
        /* not readable: compared by id only */
      }
      canonical.set(id, text);
    }
    return canonical.get(id)!;
  };
  const same = (a: string, b: string) => a === b || (canonicalOf(a) ?? a) === (canonicalOf(b) ?? b);
  // state.json as the last operation wrote it is that operation's state, byte for byte: only
  // another text is serialised again to be compared (3-4 ms for a thousand applied patches).
  const rawId = currentText === undefined ? null : sha1(currentText);
  let expected: string;
  if (rawId !== null && rawId === ordered[0]?.state[from]) expected = rawId;
  else {
    expected = sha1(asciiJson(current));
    canonical.set(expected, expected);
  }
  for (const e of ordered) {
    if (!same(e.state[from], expected)) {
      const first = e === ordered[0];
      throw new PqError(
        "refused",
        first
          ? `the stack is not in the state that ${direction === "undo" ? `"${e.op}" left` : `"${e.op}" started from`}: something changed it outside pq's log since`
          : `the log does not go straight from "${e.op}" to the operation after it: something changed the stack in between`,
        [
          "nothing was changed",
          e.queueDir && e.queueDir !== current.queue
            ? `"${e.op}" changed the queue ${e.queueDir}, and the tree now uses ${current.queue} (pq queue switch): ${switchBack(tree, e.queueDir)}, then run this again`
            : "what moves the stack outside this chain: a pq sync (and its --abort, which puts the stack back its own way), a pq queue switch (switch back, then run this again), a hand edit of .pq/state.json",
          "pq oplog lists the operations",
        ],
        { entry: e.id },
      );
    }
    expected = e.state[to];
  }
}

/** Where the undo that took `id` back saved edits a refresh had taken (its between-backup), or null. */
function betweenSavedBy(tree: string, id: string): string | null {
  const reader = new OplogReader(statePaths(tree).oplog);
  for (let e = reader.older(); e !== null && (e.undoes || e.redoes); e = reader.older())
    if (e.undoes?.includes(id)) return e.backup?.split(" and ").find((dir) => dir.endsWith("-undo-between")) ?? null;
  return null;
}

export async function planUndo(
  ctx: OpContext,
  direction: "undo" | "redo",
  count: number,
  force: boolean,
): Promise<{ report: UndoReport; ids: string[]; rebasePlan?: [string, string] | null }> {
  const { tx, store } = ctx;
  if (!Number.isInteger(count) || count < 1) throw new PqError("usage", `${direction} takes a positive number of operations, not ${count}`);
  const candidates = undoCandidates(ctx.tree, direction, count);
  if (!candidates.length) {
    throw new PqError("refused", direction === "undo" ? "nothing to undo" : "nothing to redo", [
      direction === "undo" ? "pq oplog lists what pq did in this tree" : "redo follows an undo, before any other operation",
    ]);
  }
  // `count` counts commands: the transactions of a rebase or a sync go back together.
  const entries = entriesOfCommands(candidates, count);
  if (entries === null) {
    throw new PqError("refused", `only ${commandCount(candidates)} operation(s) can be ${direction === "undo" ? "undone" : "redone"}`, ["pq oplog lists them"]);
  }
  // Undo: newest first, each step back to `before`. Redo: the most recently undone first
  // (the oldest of them), each step forward to `after`.
  const ordered = candidates.slice(0, entries);
  // A rebase --abort's record of the rebase (.pq/rebase.json) is gone and not in the log:
  // taking the abort back would leave a stopped rebase that neither --continue nor --abort knows.
  if (direction === "undo" && ordered.some((e) => e.op.startsWith("rebase --abort"))) {
    throw new PqError("refused", "a rebase --abort cannot be undone (the stopped rebase it ended is not in the log)", [
      "pq rebase UPSTREAM starts the rebase again",
    ]);
  }
  // A sync's pops and pushes followed the shared queue, which moved in git (and was pushed):
  // taking them back would leave the tree on versions the queue no longer has, and the sync's
  // own record (a stopped sync, its abort) out of step.
  if (ordered.some((e) => e.source === "sync" || e.command.startsWith("pq sync"))) {
    throw new PqError("refused", `a pq sync cannot be ${direction === "undo" ? "undone" : "redone"}: the shared queue it followed moved in git`, [
      "pq log shows the queue's history; change what you need (pq header, pq refresh, pq delete), pq commit and pq sync; a sync stopped on conflicts is taken back with pq sync --abort",
    ]);
  }
  refuseBrokenChain(ctx.tree, store, tx.state, tx.beforeText, ordered, direction);
  const required = new Map<string, Version>();
  const final = new Map<string, Version>();
  const queueRequired = new Map<string, string | null>();
  const queueFinal = new Map<string, string | null>();
  // Walk in the order the moves happen: for undo newest first (each step goes to `before`),
  // for redo in the order they are redone (each step goes to `after`).
  // Paths some entry moves: a version a refresh took (`taken`) counts only on those.
  const moved = new Set<string>();
  /**
   * Undo: a version one step leaves that the next (older) step does not start from: an edit the
   * tree held between those operations (the unrefreshed edits a refresh took, which its undo
   * leaves in the tree). The older step overwrites it: saved first, and said (t61 N3: undo 3
   * across a refresh and a push lost it; a rebase's resolution taken back with it goes the same way).
   */
  const between = new Map<string, Version>();
  /**
   * Undo: what a refresh took on a path no step has moved yet, newest first: the tree holds it
   * there. The undo of a refresh writes no tree file (the edits stay, unrefreshed), so it sets
   * no final version: an older refresh's had set the file back to what that one took, and the
   * later edits were lost where N single undos keep them (t61 N4).
   */
  const heldAt = new Map<string, Version>();
  /**
   * Redo: the paths whose first move is a refresh's taking. Its redo takes the tree's file as it
   * is (with edits made since): no version is required of it there, only of a later move's start;
   * redo N had required the oldest refresh's version and refused a tree N single redos take (t65 N1).
   */
  const takenFirst = new Set<string>();
  for (const e of ordered) {
    const taken: [string, Version, Version][] = (e.taken ?? []).map(([path, v]) => [path, v, v]);
    for (const [path, before, after] of e.tree) {
      const [from, to] = direction === "undo" ? [after, before] : [before, after];
      const held = required.has(path) ? final.get(path) : heldAt.get(path);
      if (!required.has(path)) required.set(path, from);
      if (direction === "undo" && held !== undefined && held !== from && !between.has(path)) between.set(path, held);
      final.set(path, to);
    }
    for (const [path, v] of taken) {
      if (direction === "undo") {
        if (!required.has(path) && !heldAt.has(path)) heldAt.set(path, v);
        continue;
      }
      if (!required.has(path)) takenFirst.add(path);
      final.set(path, v);
    }
    for (const [path] of e.tree) moved.add(path);
    for (const [path, before, after] of e.queue) {
      const [from, to] = direction === "undo" ? [after, before] : [before, after];
      if (!queueRequired.has(path)) queueRequired.set(path, from);
      queueFinal.set(path, to);
    }
  }
  // A version a refresh took, on a path no entry moves: the tree is not written (an undo leaves
  // the edits there, unrefreshed again; a redo takes them again, with any made since).
  const takenOnly = new Map<string, Version>();
  for (const path of [...takenFirst].filter((p) => !moved.has(p))) {
    takenOnly.set(path, final.get(path)!);
    final.delete(path);
  }
  // A file already as the move leaves it (a .rej deleted by hand, a file put back with git
  // checkout) is no edit in its way: nothing of it would be lost. Nor is a file as the applied
  // patches leave it now: a refresh took it into the queue (a rebase's conflict resolved,
  // refreshed and continued, stack-6 #6), so the log holds it and a redo brings it back.
  const stackNow = expectedVersions(tx.state.applied);
  const dirty = [...required]
    .filter(([path, v]) => {
      const now = tx.ws.version(path);
      return now !== v && now !== final.get(path) && !(stackNow.has(path) && stackNow.get(path) === now);
    })
    .map(([p]) => p);
  // The series changed since by another tree's pq on the same queue directory (see queue-lock.ts):
  // the move's own change of it made over the file as it is, where the two touch different lines
  // (t140 N4: --force wrote the old series back and took the other tree's line out with it).
  // Each operation's change, one after the other: another tree's change between two of the
  // operations (`pq undo 2` over it) is in no operation's own versions (t141 N4).
  const seriesOver = new Map<string, string>();
  const seriesText = readQueueText(ctx.queueDir, "series");
  if (queueRequired.has("series") && seriesText !== null) {
    let text: string | null = seriesText;
    for (const e of ordered) {
      const change = e.queue.find(([path]) => path === "series");
      if (!change || text === null) continue;
      const [from, to] = direction === "undo" ? [change[2], change[1]] : [change[1], change[2]];
      text = from === null || to === null ? null : replaySeriesChange(store.get(from), store.get(to), text);
    }
    if (text !== null) seriesOver.set("series", text);
  }
  const queueDirty = [...queueRequired].filter(([path, id]) => {
    if (seriesOver.has(path)) return false;
    const text = readQueueText(ctx.queueDir, path);
    const now = text === null ? null : sha1(text);
    return now !== id && now !== queueFinal.get(path);
  });
  // A redo of a refresh whose edits are gone from the tree (the file put back as the stack
  // leaves it): the patch would hold what the tree does not. Refused as changed since; --force
  // puts the refreshed version back (verify-10 Y5).
  if (direction === "redo" && takenOnly.size) {
    // What the stack leaves a file no applied patch changes now: what the refresh found below the patch (HEAD's, for a file it took new).
    let below: Map<string, Version> | null = null;
    const belowOf = (path: string): Version | undefined => {
      below ??= new Map(
        ordered
          .filter((e) => e.taken?.length)
          .flatMap((e) => adoptState(JSON.parse(store.get(e.state[1])) as StackState).applied.flatMap((r) => Object.entries(r.files).map(([p, f]): [string, Version] => [p, f.pre]))),
      );
      return below.get(path);
    };
    for (const [path, took] of takenOnly) {
      const now = tx.ws.version(path);
      const leftByStack = stackNow.has(path) ? stackNow.get(path) : belowOf(path);
      if (now !== took && leftByStack !== undefined && leftByStack === now) {
        dirty.push(path);
        final.set(path, took);
      }
    }
  }
  // The redo of a pop --force (or an undo --force) overwrites the unrefreshed edits that
  // operation saved, which its undo put back: as pop does, refused, or with --force saved again.
  if (direction === "redo") {
    for (const e of ordered.filter((entry) => entry.backup)) {
      const expected = expectedVersions(adoptState(JSON.parse(store.get(e.state[0])) as StackState).applied);
      const edited = e.tree
        .filter(([path, before]) => expected.has(path) && expected.get(path) !== before && tx.ws.version(path) === before && !dirty.includes(path))
        .map(([path]) => path);
      // Every file named, not the first (t117 N6): the redo overwrites them all.
      if (edited.length && !force) {
        throw new PqError(
          "dirty",
          `${e.op} overwrote unrefreshed edits (it saved them in ${e.backup}), and its undo put them back in ${edited.join(", ")}: the redo would overwrite them again`,
          ["pq redo --force saves them to .pq/backups first, as that operation did"],
          { files: edited, op: e.op },
        );
      }
      dirty.push(...edited);
    }
  }
  // Changed since by a commit (a pull, a git commit), on a path no applied patch changes: the
  // log's version is the HEAD of then, and writing it would revert the commit in the tree, where
  // a push or a pop works over HEAD as it is now (t117 N1). Refused as the moves that take
  // patches off refuse over HEAD's commits, --force or not.
  const belowNow = dirty.filter((path) => !stackNow.has(path) && required.has(path));
  let committedSince = belowNow.length ? await differFromHead(ctx, new Map(belowNow.map((path) => [path, required.get(path)!])), { remember: false }) : [];
  if (committedSince.length) {
    // A file on disk that HEAD does not have (a forced push's .rej, edited since) was changed by no
    // commit: an edit since, refused (or saved with --force) as the others are (t145 N12).
    const head = await (await ctx.repo())?.headBlobIds(committedSince);
    if (head) committedSince = committedSince.filter((path) => head.get(path) || tx.ws.version(path) === null);
  }
  if (committedSince.length) {
    const target = adoptState(JSON.parse(store.get(direction === "undo" ? ordered.at(-1)!.state[0] : ordered.at(-1)!.state[1])) as StackState).applied.map((r) => r.name);
    const now = tx.state.applied.map((r) => r.name);
    const moves = target.length !== now.length || target.some((name, i) => name !== now[i]);
    throw new PqError(
      "refused",
      `HEAD has commits that change ${committedSince.slice(0, 5).join(", ")}${committedSince.length > 5 ? ", ..." : ""} since ${ordered.at(-1)!.op}: ${direction} would write ${committedSince.length === 1 ? "it" : "them"} as ${committedSince.length === 1 ? "it was" : "they were"} before those commits, reverting them in the tree`,
      [
        moves
          ? `${target.length ? `pq goto ${operandWords(target.at(-1)!)}` : "pq pop -a"} makes that move over HEAD as it is now`
          : `make that change again over HEAD as it is now`,
      ],
      { files: committedSince },
    );
  }
  // Only on paths the undo writes (see takenOnly), and not where the tree's own edits are said already.
  const overwritten = [...between].filter(([path, v]) => v !== null && final.has(path) && final.get(path) !== v && !dirty.includes(path));
  let backup: string | undefined;
  if (dirty.length || queueDirty.length) {
    const what = [...dirty.map((p) => (tx.ws.version(p) === null ? `${p} (deleted)` : p)), ...queueDirty.map(([p]) => `${p} (queue)`)];
    if (!force) {
      // The refresh's edits gone because an undo N saved them aside (t65 N3): said, not blamed on the user.
      const savedAside = direction === "redo" ? betweenSavedBy(ctx.tree, ordered[0].id) : null;
      throw new PqError(
        "dirty",
        `${what.length} file(s) changed since that operation: ${what.slice(0, 8).join(", ")}${what.length > 8 ? ", ..." : ""}`,
        // Not "pq refresh first": a refresh is an operation too, and the next undo would take it back.
        [
          ...(savedAside ? [`the undo that took it back saved what the refresh had taken in ${savedAside}: pq redo --force puts it back`] : []),
          `pq ${direction} --force copies the changed files to .pq/backups before it overwrites them${dirty.length ? (tx.state.applied.length ? " (pq diff -z shows the tree's edits)" : " (git status and git diff show the tree's edits: no patch is applied)") : ""}${queueDirty.length ? `; a queue file changed since (by hand, or by another tree's pq on the same queue directory) is in the queue directory as it is now (pq show NAME shows one the series names)` : ""}; or take the edits back out first`,
        ],
        { files: dirty, queueFiles: queueDirty.map(([p]) => p) },
      );
    }
    const dirs: string[] = [];
    if (dirty.length) dirs.push(backupFiles(ctx.tree, dirty, direction));
    if (queueDirty.length) dirs.push(backupFiles(ctx.tree, queueDirty.map(([p]) => p), `${direction}-queue`, ctx.queueDir));
    backup = dirs.join(" and ");
  }
  // Taken back with the refresh that took them, as the user asked, yet never lost: saved, and said.
  let betweenBackup: string | undefined;
  if (overwritten.length) {
    const versions = new Map(overwritten);
    const fromStore = (path: string) => {
      const v = versions.get(path) ?? null;
      return v === null ? null : { content: store.get(versionId(v)!), exec: versionExec(v) };
    };
    betweenBackup = backupFiles(ctx.tree, [...versions.keys()], `${direction}-between`, fromStore);
  }
  for (const [path, v] of final) {
    const id = versionId(v);
    if (id !== null && !store.verify(id)) {
      throw new PqError(
        "damaged",
        `the version of ${path} that ${direction} needs is missing from pq's object store`,
        ["nothing was changed", "pq pop and pq push still work: pop rebuilds a lost version from the patches when it can"],
        { file: path },
      );
    }
    tx.ws.setVersion(path, v);
  }
  for (const [path, id] of queueFinal) {
    if (id === null) tx.removePatch(path, false);
    else tx.writePatch(path, seriesOver.get(path) ?? store.get(id));
  }
  const last = ordered.at(-1)!;
  const was = tx.state;
  tx.state = adoptState(JSON.parse(store.get(direction === "undo" ? last.state[0] : last.state[1])) as StackState);
  // A patch the move puts on whose file changed in the queue since (edited by hand, a pull):
  // the move writes the tree as the version of then made it, said nowhere but by a later pq
  // status (t117 N3). Refused, as a queue file changed since is; --force applies the old one.
  const wasApplied = new Map(was.applied.map((record) => [record.name, record.hash]));
  const putOn = tx.state.applied.filter((record) => wasApplied.get(record.name) !== record.hash);
  const newer = putOn
    .filter((record) => {
      const finalId = queueFinal.get(record.name);
      if (finalId !== undefined) {
        if (finalId === null) return false;
        const text = store.get(finalId);
        // A header the file has that the record's text had not (a hand edit a refresh kept, t145 N18) puts on the same change (t146 N4).
        return sha1(text) !== record.hash && !headerEditOnly(store, record.hash, text);
      }
      // The stat cache knows an unchanged file's hash: the undo of a pop -a of a thousand reads none.
      const st = fileStat(`${ctx.queueDir}/${record.name}`);
      const known = st ? ctx.statCache.patchHash(record.name, st) : null;
      if (known) return known !== record.hash;
      const text = readQueueText(ctx.queueDir, record.name);
      return text !== null && sha1(text) !== record.hash;
    })
    .map((record) => record.name);
  // A patch the move puts on that the queue no longer has (deleted or renamed since, by hand or
  // by another tree on the same queue directory): the stack would hold an applied patch with no
  // file or no series line (t142 N3). Refused, --force or not.
  const seriesAfter = seriesOver.get("series") ?? (queueFinal.get("series") ? store.get(queueFinal.get("series")!) : seriesText);
  let listedAfter: Set<string> | null = null;
  try {
    listedAfter = seriesAfter === null ? null : new Set(Series.fromBytes(seriesAfter).names());
  } catch {
    listedAfter = null; // unreadable: the command's own check says so
  }
  const gone = putOn
    .filter((record) => {
      const finalId = queueFinal.get(record.name);
      const hasFile = finalId !== undefined ? finalId !== null : existsSync(`${ctx.queueDir}/${record.name}`);
      return !hasFile || (listedAfter !== null && !listedAfter.has(record.name));
    })
    .map((record) => record.name);
  // Only the series line gone (a hand edit), the file still there: said as that, with the way back (t149 N3).
  // (The file on disk, not the version the undo would write: one moved away by hand is not there: t151 N5.)
  const unlisted = gone.filter((name) => existsSync(`${ctx.queueDir}/${name}`));
  if (unlisted.length && unlisted.length === gone.length) {
    throw new PqError(
      "refused",
      `${unlisted.join(", ")} ${unlisted.length === 1 ? "has" : "have"} no line in the series now (the file is there: a hand edit of the series, or another tree's change): the ${direction} would leave ${unlisted.length === 1 ? "it" : "them"} applied with no series line`,
      [`put the line back in the series where it was, then pq ${direction} again (pq status says where the stack is)`],
      { patches: unlisted },
    );
  }
  if (gone.length) {
    throw new PqError(
      "refused",
      `${gone.join(", ")} ${gone.length === 1 ? "is" : "are"} no longer in the queue (deleted or renamed since ${last.op}, by hand, by a colleague's change a pq sync or git pull brought, or by another tree using the queue directory): the ${direction} would leave ${gone.length === 1 ? "it" : "them"} applied with no patch file or series line`,
      [`pq series shows the queue as it is now; pq goto NAME applies a patch under the name it has now`],
      { patches: gone },
    );
  }
  if (newer.length && !force) {
    throw new PqError(
      "dirty",
      `${newer.join(", ")} changed in the queue since ${last.op} (edited by hand, or a pull): the ${direction} would apply ${newer.length === 1 ? "it" : "them"} as ${newer.length === 1 ? "it was" : "they were"} then, not as the queue has ${newer.length === 1 ? "it" : "them"}`,
      // A patch file this very move writes (its history taken back and redone whole): the text it
      // writes is not the one pushed then, which was edited by hand between two commands (no
      // operation holds that edit; an undo --force saved it in .pq/backups). There is no queue's
      // version to go to (t128 N1: the goto named here did not exist).
      newer.some((name) => queueFinal.has(name))
        ? [
            `pq ${direction}${ordered.length > 1 ? ` ${ordered.length}` : ""} --force applies ${newer.length === 1 ? "it" : "them"} as pushed then (pq status then says ${newer.length === 1 ? "it" : "they"} changed in the queue; pq refresh writes the tree's version into the queue)`,
            `or ${direction} fewer steps (pq oplog lists them), stopping before the push, then pq push applies the version the queue has then; a hand edit an undo --force took away is in .pq/backups`,
          ]
        : [
            `pq goto ${operandWords(tx.state.applied.at(-1)!.name)} applies the queue's version${newer.length === 1 ? "" : "s"}; pq ${direction}${ordered.length > 1 ? ` ${ordered.length}` : ""} --force applies the old one${newer.length === 1 ? "" : "s"} (pq status then says ${newer.length === 1 ? "it" : "they"} changed in the queue)`,
          ],
      { patches: newer },
    );
  }
  // A move that takes patches off a file (the undo of a push, the redo of a pop: a pop) is
  // checked as pop checks it: HEAD must still have the file's version from below the stack.
  // With commits made since that change it (the patches committed by hand), the tree would be
  // left with those commits half reverted. Only files the move writes: the undo of a quilt
  // takeover changes none. One that moves the branch itself (finish, uncommit) is checked by planGit.
  const branchMoves = ordered.some((e) => e.git && !e.git.indexOnly);
  const [patchesBefore, patchesAfter] = [was.applied, tx.state.applied].map(patchesPerFile);
  const takenOff = [...final].filter(([path, v]) => tx.ws.diskVersion(path) !== v && (patchesAfter.get(path) ?? 0) < (patchesBefore.get(path) ?? 0));
  if (!branchMoves) {
    const below = versionsBelowStack(was.applied);
    const popped = new Map(takenOff.filter(([path]) => below.has(path)).map(([path]) => [path, below.get(path)!]));
    const committed = popped.size ? await differFromHead(ctx, popped, { remember: false }) : [];
    if (committed.length) throw await commitsOnTop(ctx, was.applied, committed, direction, direction);
  }
  const staged = await planGit(ctx, ordered, direction, force);
  if (staged) backup = backup ? `${backup} and ${staged}` : staged;
  // What git's index has staged of the content a move that pops takes away goes with it, as a
  // pop's does (t112 N8): a git commit after undoing a push committed the unapplied patch. Not
  // where the operations' own index entries are put back (a refresh's unstaging, a finish's branch).
  if (!branchMoves) {
    const own = new Set(ctx.tx.git?.index.map(([path]) => path) ?? []);
    // (The tree's repository is opened for its prefix only where the move has index entries of its own:
    // loading simple-git for nothing was ~7 ms of every warm undo.)
    const prefix = own.size ? ((await ctx.repo())?.prefix ?? "") : "";
    const moves = new Map<string, { leaving: Version; after: Version }>();
    for (const [path, after] of takenOff) {
      const leaving = tx.ws.diskVersion(path);
      if (leaving !== undefined && !own.has(prefix + path)) moves.set(path, { leaving, after });
    }
    const unstaged = moves.size ? await unstageLeavingContent(ctx, [...moves.keys()], (path) => moves.get(path)!, force, direction) : undefined;
    if (unstaged) backup = backup ? `${backup} and ${unstaged}` : unstaged;
  }
  const report: UndoReport = {
    entries: ordered.map((e) => ({ id: e.id, op: e.op, time: e.time })),
    ...(backup ? { backup } : {}),
    ...(betweenBackup ? { betweenBackup } : {}),
  };
  // The oldest rebase command taken back says whether a rebase was stopped before it (see OplogEntry.rebasePlan).
  const rebasePlan = [...ordered].reverse().find((e) => e.rebasePlan !== undefined)?.rebasePlan;
  if (rebasePlan) for (const id of rebasePlan) if (!store.verify(id)) throw new PqError("damaged", "pq's object store lacks the stopped rebase this undo would restore", ["nothing was changed; pq oplog lists the operations: an undo that takes the whole rebase back (its start too) needs no stopped rebase"]);
  return { report, ids: ordered.map((e) => e.id), rebasePlan };
}

/** Plans the branch move of a finish or uncommit taken back or re-done; returns where staged versions it drops were saved (--force). */
async function planGit(ctx: OpContext, ordered: OplogEntry[], direction: "undo" | "redo", force: boolean): Promise<string | undefined> {
  const moves = ordered.filter((e) => e.git).map((e) => e.git!);
  if (!moves.length) return undefined;
  const git = await ctx.repo();
  if (!git) throw new PqError("git", `${direction} would move a git branch, but the tree is not a git work tree any more`);
  const index = new Map<string, [IndexEntry, IndexEntry]>();
  for (const m of moves) {
    for (const [path, before, after] of m.index) {
      const [from, to] = direction === "undo" ? [after, before] : [before, after];
      const seen = index.get(path);
      index.set(path, [seen ? seen[0] : from, to]);
    }
  }
  // Index entries alone (a refresh's unstaging): no branch moves, whatever it is on now.
  const branchMoves = moves.filter((m) => !m.indexOnly);
  if (!branchMoves.length) {
    const head = (await git.readRef("HEAD")) ?? "0".repeat(40);
    ctx.tx.git = { ref: await git.headRef(), from: head, to: head, index: [...index].map(([p, [f, t]]) => [p, f, t]), indexOnly: true };
    return refuseStagedSince(ctx, git, index, direction, force);
  }
  const first = branchMoves[0];
  const last = branchMoves.at(-1)!;
  const [expect, target] = direction === "undo" ? [first.to, last.from] : [first.from, last.to];
  // The branch's files go into the index of whatever is checked out: that must be the branch.
  const head = await git.symbolicHead();
  // A finish on a detached HEAD moved HEAD itself.
  if (head !== first.ref && !(head === null && first.ref === "HEAD")) {
    throw new PqError(
      "refused",
      `${direction} would move ${first.ref === "HEAD" ? "the detached HEAD the finish was made on" : first.ref.replace(/^refs\/heads\//, "")}, but ${head ? head.replace(/^refs\/heads\//, "") : "a detached HEAD"} is checked out`,
      [
        // A finish on a detached HEAD: "git checkout HEAD" would do nothing; its commit is what to detach at again (t44 N5).
        `nothing was changed; git checkout ${first.ref === "HEAD" ? `--detach ${expect.slice(0, 12)}` : first.ref.replace(/^refs\/heads\//, "")}, then pq ${direction} again`,
      ],
      { ref: first.ref, head },
    );
  }
  // A branch with no commit yet is where a first commit's finish moved it from: git's all-zero id.
  const now = (await git.readRef(first.ref)) ?? (/^0+$/.test(expect) ? expect : null);
  if (now !== expect) {
    const branch = first.ref.replace(/^refs\/heads\//, "");
    // Built on, or taken back (git reset, commit --amend): two different stories (t39 F1).
    const builtOn = now !== null && git.isAncestor(expect, now);
    throw new PqError(
      "refused",
      builtOn
        ? `${branch} has moved on since (now ${now.slice(0, 12)}); ${direction} would drop commits built on it`
        : `${branch} no longer holds ${expect.slice(0, 12)}, where the operation left it (now ${now?.slice(0, 12) ?? "gone"}: reset or rewritten since); ${direction} cannot tell what to keep`,
      builtOn
        ? ["nothing was changed; git reset the branch yourself if that is what you want"]
        : [
            `nothing was changed; git reflog ${branch} shows where it was: git reset --keep ${expect.slice(0, 12)} puts it back, then pq ${direction} again, or leave it as it is`,
          ],
      { ref: first.ref, expected: expect, actual: now },
    );
  }
  ctx.tx.git = { ref: first.ref, from: expect, to: target, index: [...index].map(([p, [f, t]]) => [p, f, t]) };
  return refuseStagedSince(ctx, git, index, direction, force);
}

/**
 * What was staged since (git add) in a file whose index entry the move resets would be lost
 * from the index without a word: refused as an edit in the tree is, or with --force saved.
 */
async function refuseStagedSince(
  ctx: OpContext,
  git: GitRepo,
  index: Map<string, [IndexEntry, IndexEntry]>,
  direction: "undo" | "redo",
  force: boolean,
): Promise<string | undefined> {
  const current = await git.indexEntries([...index.keys()]);
  const staged = [...index].filter(([path, [from, to]]) => (current.get(path) ?? null) !== from && (current.get(path) ?? null) !== to).map(([path]) => path);
  if (!staged.length) return undefined;
  if (!force) {
    throw new PqError(
      "dirty",
      `${staged.slice(0, 5).join(", ")}${staged.length > 5 ? ", ..." : ""} ${staged.length === 1 ? "has" : "have"} changes staged since that operation (git add): ${direction} would reset ${staged.length === 1 ? "it" : "them"} in git's index`,
      [`commit or unstage them first (git stash; git restore --staged FILE), or pq ${direction} --force, which saves the staged versions to .pq/backups`],
      { files: staged },
    );
  }
  // The staged versions, read from git and saved under their tree paths.
  const versions = new Map<string, { content: string; exec: boolean }>();
  for (const path of staged) {
    const [mode, blob] = current.get(path)?.split(" ") ?? [];
    const content = blob ? await git.blob(blob) : null;
    if (content !== null) versions.set(path.slice(git.prefix.length), { content, exec: mode === "100755" });
  }
  return backupFiles(
    ctx.tree,
    staged.map((p) => p.slice(git.prefix.length)),
    `${direction}-staged`,
    (path) => versions.get(path) ?? null,
  );
}

/** How many applied patches change each file. */
function patchesPerFile(applied: AppliedPatch[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const record of applied) for (const path of Object.keys(record.files)) counts.set(path, (counts.get(path) ?? 0) + 1);
  return counts;
}

/** The way back to a queue an operation changed: pq queue switch with its registered name (t149 N2: the directory is not the name). */
function switchBack(tree: string, queueDir: string): string {
  const name = queueNameOf(tree, queueDir);
  return name === null ? "switch back to it (pq queue list names it)" : `pq queue switch ${shellWord(name)} goes back to it`;
}
