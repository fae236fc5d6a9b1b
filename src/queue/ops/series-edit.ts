/**
 * Planning the series edits: import (insert), delete, rename, reorder, guards and the
 * guard selection. They change the queue and the state, never the tree.
 */
import { operandList, operandWords, shellWord } from "../../core/shell-word.js";
import { PqError } from "../../errors.js";
import { parseNamedPatch } from "../../patch/index.js";
import { diffOf } from "../patch-text.js";
import { isPushable, validateGuardName, type SeriesNotes } from "../series.js";
import { refuseNameUnderFile, validatePatchName } from "../names.js";
import { appliedNames, pushCandidates, refuseDirectoryName, resolveName, type OpContext } from "./context.js";

export interface ImportItem {
  name: string;
  text: string;
  guards: string[];
  /** quilt's -pN for this patch (default 1). */
  strip?: number;
  /** Listed in a quilt or hg series: an empty patch there is a patch (quilt new, then no refresh). */
  fromSeries?: boolean;
  /** That series' comment and blank lines around the entry, kept in ours. */
  notes?: SeriesNotes;
  /** hg's name for it, which a quilt-style series cannot hold (a space): imported under `name`. */
  renamedFrom?: string;
}

/** Add patches to the series after the top applied patch (hg qimport), with their guards. */
export function planInsert(ctx: OpContext, items: ImportItem[]): void {
  const { tx } = ctx;
  const series = tx.series();
  const seen = new Set<string>();
  for (const { name, text, guards, strip, fromSeries } of items) {
    validatePatchName(name);
    // A folder of the queue by that name: refused before anything is written, as new and rename
    // refuse it (t127 N5: the import's write failed and left a journal no command could complete).
    refuseDirectoryName(ctx.queueDir, name);
    if (series.has(name) || seen.has(name)) {
      // --name takes one patch file; a queue's patches keep their names (its series names them).
      const way = fromSeries
        ? "rename the one in this queue first (pq rename), or import the queue into another pq queue (pq queue create NAME)"
        : "import it under another name (pq import --name NEW FILE)";
      throw new PqError("exists", `${name} is already in the series`, [way], { patch: name });
    }
    seen.add(name);
    const existing = tx.queueFile(name);
    if (existing !== null && existing !== text) {
      throw new PqError("exists", `${name} exists in the queue directory with other content`, ["import it under another name (--name)"], { patch: name });
    }
    guards.forEach((g) => checkGuard(g));
    const parsed = parseNamedPatch(name, text, { strip }); // refuse what cannot be parsed before the queue changes
    // An empty commit's mail (From:/Subject: and no diff) is a patch; a file with neither is a mistake.
    const looksLikePatch = /^(From [0-9a-f]{40} |From: |Subject: |# HG changeset patch)/m.test(text);
    if (!parsed.files.length && !diffOf(text) && !looksLikePatch && !fromSeries) {
      throw new PqError("bad-patch", `${name} contains no diff`, ["pq new NAME makes an empty patch; import takes patch files, mails and mboxes"], {
        patch: name,
      });
    }
  }
  let after = tx.state.applied.at(-1)?.name ?? null;
  // Insert after the last applied patch, before the patches that were waiting; with none
  // waiting, at the end of the series (after guarded-out patches too).
  if (pushCandidates(tx.state, series).length === 0 && series.names().length) after = series.names().at(-1)!;
  for (const { name, text, guards, strip, notes } of items) {
    tx.writePatch(name, text);
    series.insertAfter(after, { name, guards: [...guards], ...(strip === undefined ? {} : { strip }) }, notes);
    after = name;
  }
  tx.setSeries(series);
}

export function planDelete(ctx: OpContext, names: string[], opts: { keep?: boolean }): string[] {
  const { tx } = ctx;
  const series = tx.series();
  const resolved = names.map((n) => resolveName(series, n, { whole: true }));
  const applied = appliedNames(tx.state);
  // The pop that takes them off: pq pop NAME pops down to NAME and leaves it applied (t129 N9); the
  // delete to run after it names every patch asked for (t131 N8).
  const lowest = Math.min(...resolved.map((name) => applied.indexOf(name)).filter((at) => at !== -1));
  if (Number.isFinite(lowest)) {
    const on = resolved.filter((name) => applied.includes(name));
    throw new PqError(
      "refused",
      `${on.join(", ")} ${on.length === 1 ? "is" : "are"} applied`,
      // A top a forced push left needing a refresh pops only with --force (t146 N9).
      [
        `${lowest === 0 ? "pq pop -a" : `pq goto ${operandWords(applied[lowest - 1])}`}${tx.state.applied.at(-1)?.needsRefresh ? " --force" : ""}, then pq delete ${operandList(resolved)}`,
      ],
      { patch: on[0], patches: on },
    );
  }
  const trashed: string[] = [];
  for (const name of resolved) {
    series.remove(name);
    if (!opts.keep) {
      const dest = tx.removePatch(name, true);
      if (dest) trashed.push(dest);
    }
  }
  tx.setSeries(series);
  return trashed;
}

export function planRename(ctx: OpContext, from: string, to: string): { from: string; to: string } {
  const { tx } = ctx;
  validatePatchName(to);
  const series = tx.series();
  const name = resolveName(series, from);
  if (name === to) throw new PqError("refused", `${name} is already called ${to}; nothing was renamed`, ["give the new name as the second word: pq rename OLD NEW"], { patch: name });
  refuseNameUnderFile(ctx.queueDir, to);
  refuseDirectoryName(ctx.queueDir, to);
  if (series.has(to) || tx.queueFile(to) !== null) throw new PqError("exists", `${to} already exists in the queue`, ["pick another name"], { patch: to });
  const text = tx.patchText(name);
  series.rename(name, to);
  tx.setSeries(series);
  tx.writePatch(to, text);
  tx.removePatch(name, false);
  const record = tx.state.applied.find((a) => a.name === name);
  if (record) record.name = to;
  return { from: name, to };
}

export interface ReorderWhere {
  after?: string;
  before?: string;
  first?: boolean;
  last?: boolean;
}

/** Move an unapplied patch within the unapplied part of the series. */
export function planReorder(ctx: OpContext, target: string, where: ReorderWhere): void {
  const { tx } = ctx;
  const series = tx.series();
  const name = resolveName(series, target);
  // Before itself is no place: looked up among the others it was not found, and the patch went first (t122 N7).
  const relativeTo = where.after ?? where.before;
  if (relativeTo !== undefined && resolveName(series, relativeTo) === name)
    throw new PqError("usage", `cannot move ${name} relative to itself`, ["name another patch after --after or --before (pq series lists them)"]);
  const others = series.names().filter((n) => n !== name);
  const applied = appliedNames(tx.state);
  const top = tx.state.applied.at(-1)?.name ?? null;
  let after: string | null;
  if (where.first) after = top === name ? (applied.at(-2) ?? null) : top;
  else if (where.last) after = others.at(-1) ?? null;
  else if (where.after) after = resolveName(series, where.after);
  else if (where.before) {
    const i = others.indexOf(resolveName(series, where.before));
    after = i <= 0 ? null : others[i - 1];
  } else throw new PqError("usage", "say where: --after NAME, --before NAME, --first or --last", ["pq reorder NAME --first, for one"]);
  // Only unapplied patches move: the patch itself and every place the move passes must be above
  // the top. The way out names the goto that gets there (t130 N2: "the patch below NAME" was not
  // low enough for a move up, and "pop them first" did not say how far).
  const names = series.names();
  // --first of an applied patch: "first of the unapplied ones" is where a pop below it puts it, not
  // where it stands (t149 N5: it was said to be there already, with no way on).
  if (where.first && applied.includes(name)) {
    const at = names.indexOf(name);
    throw new PqError("refused", `${name} is applied; only unapplied patches are reordered`, [
      `${at === 0 ? "pq pop -a" : `pq goto ${operandWords(names[at - 1])}`} makes ${name} the next patch to push, which is first of the unapplied ones`,
    ], { patch: name });
  }
  // Where it already is: said first (t133 N8: the applied refusal's way led to "already there").
  const moved = [...others];
  moved.splice(after === null ? 0 : others.indexOf(after) + 1, 0, name);
  if (moved.join("\n") === names.join("\n")) throw new PqError("refused", `${name} is already there; nothing was moved`, [], { patch: name });
  const firstMoved = Math.min(names.indexOf(name), after === null ? 0 : names.indexOf(after) + 1);
  if (top && names.indexOf(top) >= firstMoved) {
    const goto = firstMoved === 0 ? "pq pop -a" : `pq goto ${operandWords(names[firstMoved - 1])}`;
    const flag = where.first ? "--first" : where.last ? "--last" : where.after ? `--after ${operandWords(where.after)}` : `--before ${operandWords(where.before!)}`;
    throw new PqError(
      "refused",
      applied.includes(name) ? `${name} is applied; only unapplied patches are reordered` : `that would move ${name} below the applied patches`,
      [
        // Popped below it, an applied patch is the next to push already: --first then has nothing to do (t134 N2).
        where.first && applied.includes(name)
          ? `${goto} makes ${name} the next patch to push, which is first of the unapplied ones`
          : `${goto}, then pq reorder ${shellWord(name)} ${flag}${applied.includes(name) ? "; or pq push --move NAME brings an unapplied patch up" : ""}`,
      ],
      { patch: name },
    );
  }
  const before = series.names().join("\n");
  series.move(name, after);
  // Nothing moves: said as a refusal (nothing to do), not "moved", and no operation is logged
  // (the next undo would otherwise take back the command before it).
  if (series.names().join("\n") === before) throw new PqError("refused", `${name} is already there; nothing was moved`, [], { patch: name });
  tx.setSeries(series);
}

function checkGuard(g: string): void {
  if (!/^[+-]/.test(g)) throw new PqError("usage", `guard "${g}" must start with + or -`, ["e.g. pq guard NAME +xen -native"]);
  try {
    validateGuardName(g.slice(1));
  } catch (e) {
    // Said of the word as typed ("--none" after --, not "-none": t89 N3).
    if (!(e instanceof PqError)) throw e;
    throw new PqError("usage", `invalid guard ${JSON.stringify(g)}: a guard is + or - and a name with no white space or '#', not starting with '+' or '-' (hg mq's rule)`, [
      "e.g. pq guard NAME +xen -native; options go before --",
    ]);
  }
}

export function planSetGuards(ctx: OpContext, target: string, guards: string[]): string {
  const { tx } = ctx;
  guards.forEach(checkGuard);
  // +g and -g together: the patch is both wanted and not wanted with g (t82 N4).
  const both = guards.filter((g) => g.startsWith("+") && guards.includes(`-${g.slice(1)}`)).map((g) => g.slice(1));
  if (both.length)
    throw new PqError("usage", `${both.map((g) => `+${g} and -${g}`).join(", ")} cannot be given together`, ["give each guard once, with the sign it is to have"]);
  const series = tx.series();
  const name = resolveName(series, target);
  // A guard given twice is kept once (t89 N3: "+a +a" was stored so).
  series.setGuards(name, [...new Set(guards)]);
  tx.setSeries(series);
  return name;
}

/** Select guards; returns applied patches the new selection would not have pushed. */
export function planSelect(ctx: OpContext, guards: string[]): string[] {
  const { tx } = ctx;
  guards.forEach(validateGuardName);
  tx.state.guards = [...new Set(guards)].sort();
  const entries = new Map(tx.series().entries().map((e) => [e.name, e]));
  return appliedNames(tx.state).filter((n) => entries.has(n) && !isPushable(entries.get(n)!, tx.state.guards));
}
