/**
 * A queue applied in memory on top of the base tree's files: no checkout, no disk.
 * Only the files the patches touch are ever read. For every patch it keeps what the
 * touched files were before and after it, and per path the history of its contents,
 * so "this file just before patch k" is a lookup.
 */
import { PqError } from "../errors.js";
import {
  applyFilePatch,
  bestName,
  createFilePatch,
  namesLeaving,
  namesWritten,
  readsBeforePatch,
  parsePatch,
  type FilePatch,
} from "../patch/index.js";
import { isPushable, Series, type SeriesEntry } from "../queue/series.js";
import type { QueueVersion } from "./types.js";

export type Files = Map<string, string | null>;

export interface Application {
  ok: boolean;
  /** Every hunk applied where the patch says (no offset, no fuzz). */
  exact: boolean;
  pre: Files;
  post: Files;
  failures: string[];
  filePatches: FilePatch[];
  /** The patch file itself does not parse (conflict markers, a hunk with no file header): no forced push can apply any of it. */
  unreadable?: true;
}

export interface PatchRun extends Application {
  index: number;
  pushable: boolean;
}

/** Applies a patch text (its paths with `strip` components to drop, quilt's -pN) to files read through `get`; nothing is committed anywhere. */
export async function applyText(text: string, get: (path: string) => Promise<string | null>, strip = 1): Promise<Application> {
  let filePatches: FilePatch[];
  try {
    filePatches = parsePatch(text, { strip }).files;
  } catch (e) {
    return {
      ok: false,
      exact: false,
      pre: new Map(),
      post: new Map(),
      failures: [(e as Error).message],
      filePatches: [],
      unreadable: true,
    };
  }
  const pre: Files = new Map();
  const post: Files = new Map();
  const cur = async (p: string) => {
    if (!post.has(p)) {
      const v = await get(p);
      pre.set(p, v);
      post.set(p, v);
    }
    return post.get(p)!;
  };
  const result: Application = { ok: true, exact: true, pre, post, failures: [], filePatches };
  const leaving = namesLeaving(filePatches);
  // Read before the patch as a push reads them (see namesWritten): a rename's or copy's source, a deletion of a name another file patch writes.
  const written = namesWritten(filePatches);
  const readsBefore = (fp: FilePatch) => readsBeforePatch(fp, written);
  const preimages = new Map<string, string | null>();
  const wroteHere = new Set<string>();
  for (const fp of filePatches)
    if (readsBefore(fp) && fp.oldPath !== null && !preimages.has(fp.oldPath)) preimages.set(fp.oldPath, await cur(fp.oldPath));
  for (const fp of filePatches) {
    let source = fp.oldPath ?? fp.newPath!;
    let target = fp.newPath ?? fp.oldPath!;
    // A plain diff naming two files (`--- a.c.orig`, `+++ a.c`, quilt's -p0 form) patches the one
    // that exists, as GNU patch and pq's push choose it (verify-7 V14: the simulation took the first).
    if (fp.candidates) {
      const present = new Set<string>();
      for (const c of fp.candidates) if (post.has(c) ? post.get(c) !== null : (await get(c)) !== null) present.add(c);
      source = target = bestName(fp.candidates, (c) => present.has(c));
    }
    const srcContent = readsBefore(fp) && preimages.has(source) ? preimages.get(source)! : await cur(source);
    // A rename or copy onto a file there is refused, as a push refuses it (t52 N18: a merged
    // queue whose patch renamed onto a name a patch below now uses was pushed, and applied nowhere).
    if ((fp.kind === "rename" || fp.kind === "copy") && source !== target && !leaving.has(target) && (await cur(target)) !== null) {
      result.ok = false;
      result.failures.push(`${target}: the patch ${fp.kind === "copy" ? "copies" : "renames"} ${source} to it, and it is there already`);
      continue;
    }
    const old = fp.kind === "create" ? await cur(target) : srcContent;
    let r;
    try {
      r = applyFilePatch(old, fp);
    } catch (e) {
      r = { ok: false, content: old, hunks: [] };
      result.failures.push(`${target}: ${(e as Error).message}`);
    }
    if (!r.ok) {
      result.ok = false;
      const failed = r.hunks.filter((h) => h.status === "failed").map((h) => `#${h.index}`);
      if (failed.length || !result.failures.length)
        result.failures.push(`${target}: ${failed.length ? `hunk ${failed.join(", ")} failed` : "does not apply"}`);
      continue;
    }
    if (r.hunks.some((h) => h.status !== "exact")) result.exact = false;
    if (fp.kind === "rename" && source !== target && !wroteHere.has(source)) post.set(source, null);
    if (fp.kind !== "delete") {
      post.set(target, r.content);
      wroteHere.add(target);
    } else if (!wroteHere.has(target)) post.set(target, null);
  }
  if (!result.ok) result.exact = false;
  return result;
}

export class TreeSim {
  private files: Files = new Map();
  private history = new Map<string, [number, string | null][]>();
  readonly runs = new Map<string, PatchRun>();
  readonly entries: SeriesEntry[];

  constructor(
    private baseFile: (path: string) => Promise<string | null>,
    entries: SeriesEntry[] = [],
  ) {
    this.entries = entries;
  }

  async current(path: string): Promise<string | null> {
    if (!this.files.has(path)) this.files.set(path, await this.baseFile(path));
    return this.files.get(path)!;
  }

  /** The file as it was just before the patch at position `index` was applied. */
  async before(index: number, path: string): Promise<string | null> {
    const h = this.history.get(path);
    if (h) for (let i = h.length - 1; i >= 0; i--) if (h[i][0] < index) return h[i][1];
    return this.baseFile(path);
  }

  tryApply(text: string, strip = 1): Promise<Application> {
    return applyText(text, (p) => this.current(p), strip);
  }

  /** Make `post` the current content (the patch at `index` is applied). */
  commit(index: number, post: Files): void {
    for (const [path, content] of post) {
      this.files.set(path, content);
      let h = this.history.get(path);
      if (!h) this.history.set(path, (h = []));
      h.push([index, content]);
    }
  }

  record(name: string, index: number, pushable: boolean, app: Application): PatchRun {
    const run = { ...app, index, pushable };
    this.runs.set(name, run);
    return run;
  }
}

export function parseSeries(text: string, which: string): SeriesEntry[] {
  try {
    // The series is UTF-8 text, held here as its bytes (latin1): names are decoded as the stack decodes them.
    return Series.fromBytes(text).entries();
  } catch (e) {
    if (!(e instanceof PqError)) throw e;
    // Another side's series (the remote's, their): not a file here, so the way out is not an edit of one (collab-17 F3).
    const theirs = /remote|their/.test(which);
    throw new PqError(
      "bad-patch",
      `${which} series: ${e.message}`,
      theirs
        ? [
            "nothing was changed here; ask whoever pushed it to fix the series (git log of the remote branch's series, in the queue's repository, says who)",
            "or fix it yourself: in the queue's repository, git merge the remote branch, correct the series and the patch file, git commit, then pq sync",
          ]
        : e.details,
      e.data,
    );
  }
}

/** Applies every pushable patch of a queue version in series order (failures are recorded, not fatal). */
export async function simulateQueue(
  q: QueueVersion,
  baseFile: (path: string) => Promise<string | null>,
  guards: string[] = [],
  which = "the",
): Promise<TreeSim> {
  const entries = parseSeries(q.series, which);
  const sim = new TreeSim(baseFile, entries);
  for (const [index, e] of entries.entries()) {
    const text = q.patches[e.name];
    if (text === undefined) {
      sim.record(e.name, index, false, {
        ok: false,
        exact: false,
        pre: new Map(),
        post: new Map(),
        failures: [`${e.name} is in the ${which} series but its file is missing`],
        filePatches: [],
      });
      continue;
    }
    const pushable = isPushable(e, guards);
    const app = await sim.tryApply(text, e.strip ?? 1);
    sim.record(e.name, index, pushable, app);
    if (pushable && app.ok) sim.commit(index, app.post);
  }
  return sim;
}

/** A file's modes before and after a patch (undefined: the patch does not say). */
export type FileModes = Map<string, { oldMode?: string; newMode?: string }>;

/** The modes the file patches give each file they touch (by the name the file has after them). */
export function modesOf(filePatches: FilePatch[]): FileModes {
  const modes: FileModes = new Map();
  for (const fp of filePatches)
    modes.set(fp.newPath ?? fp.oldPath!, { oldMode: fp.oldMode ?? fp.index?.mode, newMode: fp.newMode ?? fp.index?.mode });
  return modes;
}

/** Whether a version of a patch changes a file's mode (a chmod), as opposed to leaving it or creating the file. */
export function changesMode(modes: FileModes, path: string): boolean {
  const m = modes.get(path);
  return m?.oldMode !== undefined && m.newMode !== undefined && m.oldMode !== m.newMode;
}

/** The mode a version of a patch gives a file, when it changes or sets one (undefined: it leaves the mode alone). */
function modeSet(modes: FileModes, path: string): string | undefined {
  const m = modes.get(path);
  if (!m) return undefined;
  if (m.oldMode === undefined) return m.newMode; // a file the patch creates
  return m.newMode !== undefined && m.newMode !== m.oldMode ? m.newMode : undefined;
}

/**
 * The modes of a patch changed on both sides, merged three-way as git merges a file's mode:
 * a side that left the base's mode takes the other side's; both changed it alike, that; both
 * changed it otherwise, ours, listed in `clashes`. A mode is a change of its own: content merged
 * alike on both sides must not drop it (t49 N6, N7).
 */
export function mergeModes(
  base: FileModes,
  ours: FileModes,
  theirs: FileModes,
  paths: Iterable<string>,
  clashes: string[],
  /** Files the merge follows under other names on each side (see followRenames): merged under their merged name. */
  moves: { base: string; ours: string; theirs: string; to: string }[] = [],
): FileModes {
  const merged: FileModes = new Map();
  const mergeOne = (into: string, [bN, oN, tN]: [string, string, string], moved = false) => {
    const known = ours.get(oN) ?? theirs.get(tN) ?? base.get(bN);
    const oldMode = ours.get(oN)?.oldMode ?? theirs.get(tN)?.oldMode ?? base.get(bN)?.oldMode;
    // A side that moved the file as a deletion and a new file gives the new one a mode: no change
    // when it is the mode the file had (t52 N12: a note said both sides set one).
    const setBy = (modes: FileModes, name: string) => {
      const m = modeSet(modes, name);
      return moved && modes.get(name)?.oldMode === undefined && m === oldMode ? undefined : m;
    };
    const [b, o, t] = [setBy(base, bN), setBy(ours, oN), setBy(theirs, tN)];
    let mode = o === b ? t : t === b ? o : o === t ? o : undefined;
    if (mode === undefined && o !== b && t !== b && o !== t) {
      mode = o;
      clashes.push(into);
    }
    if (!known) return;
    merged.set(into, { oldMode, newMode: mode ?? oldMode });
  };
  const followed = new Set(moves.flatMap((m) => [m.base, m.ours, m.theirs, m.to]));
  for (const path of paths) if (!followed.has(path)) mergeOne(path, [path, path, path]);
  // A chmod on one side holds when the other side moves the file (t50 N4).
  for (const m of moves) mergeOne(m.to, [m.base, m.ours, m.theirs], true);
  return merged;
}

/**
 * A diff turning `pre` into `post`, file by file in the order the hint patches list them
 * (then sorted), keeping their renames and modes (`modes`: the modes to write instead of the
 * hints', as a merge of two versions of a patch decides them).
 */
export function regenerateDiff(pre: Files, post: Files, hints: FilePatch[], merged?: FileModes, moves: [string, string][] = []): string {
  const parts: string[] = [];
  const done = new Set<string>();
  const order: string[] = [];
  const modes = modesOf(hints);
  if (merged) for (const [path, m] of merged) modes.set(path, m);
  // A file moved: written as a rename while its old name is gone and its new one is new.
  const rename = (from: string, to: string, fp?: FilePatch) => {
    if (done.has(from) || done.has(to)) return;
    if (pre.get(from) == null || post.get(from) !== null || post.get(to) == null || (pre.get(to) ?? null) !== null) return;
    parts.push(
      createFilePatch({
        oldPath: from,
        newPath: to,
        oldContent: pre.get(from)!,
        newContent: post.get(to)!,
        oldMode: modes.get(to)?.oldMode ?? fp?.oldMode,
        newMode: modes.get(to)?.newMode ?? fp?.newMode,
      }),
    );
    done.add(from).add(to);
  };
  for (const fp of hints) {
    for (const p of [fp.oldPath, fp.newPath]) if (p !== null && !order.includes(p)) order.push(p);
    if (fp.kind === "rename" && fp.oldPath && fp.newPath) rename(fp.oldPath, fp.newPath, fp);
  }
  // Moves the merge followed (a deletion and a creation on one side, a rename on the other).
  for (const [from, to] of moves) rename(from, to);
  const rest = [...new Set([...pre.keys(), ...post.keys()])].filter((p) => !order.includes(p)).sort();
  for (const path of [...order, ...rest]) {
    if (done.has(path)) continue;
    const a = pre.get(path) ?? null;
    const b = post.has(path) ? post.get(path)! : a;
    const m = modes.get(path) ?? {};
    // A mode changed alone (chmod +x) is a change too: it had been dropped with the unchanged content (t49 N7).
    const modeOnly = a !== null && b !== null && m.oldMode !== undefined && m.newMode !== undefined && m.oldMode !== m.newMode;
    if (a === b && !modeOnly) continue;
    parts.push(
      createFilePatch({
        oldPath: a === null ? null : path,
        newPath: b === null ? null : path,
        oldContent: a,
        newContent: b,
        oldMode: a === null ? undefined : m.oldMode,
        newMode: b === null ? undefined : (m.newMode ?? m.oldMode),
      }),
    );
  }
  return parts.join("");
}

/** How many of a series' guards a check selects in turn (pq sync, the gate): each is one more application of the queue. */
export const MAX_GUARDS_TRIED = 8;

/** What a check says of the guards past MAX_GUARDS_TRIED: not tried, so not said to be green (t64 N3). */
export const untriedGuardsNote = (untried: string[]) =>
  `not tried with these guards selected (a check tries the first ${MAX_GUARDS_TRIED} of a series' guards): ${untried.join(" ")}; pq select them and pq push -a to see`;

/**
 * A patch that applies with one selection of guards and not with another, because of what
 * differs below it: guarded patches one selection applies and the other leaves out. Then no
 * one text of it applies both ways, and fixing it for one selection breaks it for the other
 * (t144 N3: sync's two refusals sent the user back and forth). `needed` are the patches only
 * the applying selection has (it builds on them), `inTheWay` those only the failing one has
 * (they change what it changes). Null when the patch does not apply in either, or nothing
 * guarded below it differs.
 */
export function guardedCause(
  name: string,
  failing: { sim: TreeSim; guards: readonly string[] },
  applying: { sim: TreeSim; guards: readonly string[] },
): { needed: SeriesEntry[]; inTheWay: SeriesEntry[] } | null {
  const run = applying.sim.runs.get(name);
  if (!run?.pushable || !run.ok) return null;
  const below = failing.sim.entries.slice(
    0,
    failing.sim.entries.findIndex((e) => e.name === name),
  );
  const needed = below.filter((e) => isPushable(e, applying.guards) && !isPushable(e, failing.guards));
  const inTheWay = below.filter((e) => isPushable(e, failing.guards) && !isPushable(e, applying.guards));
  return needed.length || inTheWay.length ? { needed, inTheWay } : null;
}

/**
 * guardedCause's finding said in a sentence. `guard` is the one guard the two selections differ
 * by, and `failingHasGuard` says which side selects it.
 */
export function guardedCauseWords(
  name: string,
  cause: { needed: SeriesEntry[]; inTheWay: SeriesEntry[] },
  guard: string,
  failingHasGuard: boolean,
): string {
  const said = (entries: SeriesEntry[]) => entries.map((e) => `${e.name} (${e.guards.join(" ")})`).join(", ");
  const them = (entries: SeriesEntry[]) => (entries.length === 1 ? "it" : "them");
  // Guarded by other guards too (t151 N2): said of the two selections, not of the one guard.
  if (![...cause.needed, ...cause.inTheWay].every((e) => e.guards.every((g) => g.slice(1) === guard))) {
    const general = [
      ...(cause.needed.length ? [`it builds on ${said(cause.needed)}, which the selection it fails in leaves out`] : []),
      ...(cause.inTheWay.length
        ? [
            `${said(cause.inTheWay)} ${cause.inTheWay.length === 1 ? "changes" : "change"} what it changes, and the selection it fails in applies ${them(cause.inTheWay)}`,
          ]
        : []),
    ];
    return `${general.join("; ")}: no one text of ${name} applies in every selection of guards, so fixing it for one breaks it for another`;
  }
  const parts = [
    ...(cause.needed.length
      ? [
          `it builds on ${said(cause.needed)}, which ${failingHasGuard ? `the guard ${guard} leaves out` : `only the guard ${guard} brings in`}`,
        ]
      : []),
    ...(cause.inTheWay.length
      ? [
          `${said(cause.inTheWay)} ${cause.inTheWay.length === 1 ? "changes" : "change"} what it changes, and ${
            failingHasGuard
              ? `the guard ${guard} brings ${them(cause.inTheWay)} in`
              : `the guard ${guard} leaves ${them(cause.inTheWay)} out`
          }`,
        ]
      : []),
  ];
  return `${parts.join("; ")}: no one text of ${name} applies both with and without ${guard}, so fixing it for one breaks it for the other`;
}

/**
 * A file as a version's patches below `name` make it from `content` (that file's changes alone,
 * in series order, exactly), or null where one does not apply or moves the file: the version the
 * patch at `name` was made over, when it was made over `content` (its index line's blob then
 * names it). `entries`: the version's series as applied (its pushable patches).
 */
export function throughPatchesBelow(
  version: QueueVersion,
  entries: SeriesEntry[],
  name: string,
): (content: string, path: string) => string | null {
  const at = entries.findIndex((e) => e.name === name);
  const below = entries.slice(0, Math.max(0, at)).flatMap((e) => {
    try {
      return parsePatch(version.patches[e.name] ?? "", { strip: e.strip ?? 1 }).files;
    } catch {
      return [];
    }
  });
  return (content, path) => {
    let text: string | null = content;
    for (const fp of below) {
      if (fp.oldPath !== path && fp.newPath !== path) continue;
      if (fp.oldPath !== fp.newPath) return null;
      const r = applyFilePatch(text, fp, { fuzz: 0 });
      if (!r.ok) return null;
      text = r.content;
    }
    return text;
  };
}

/** The guards a version's series names (+g and -g alike, by name), sorted. */
export function guardsNamed(series: string, which: string): string[] {
  return [...new Set(parseSeries(series, which).flatMap((e) => e.guards.map((g) => g.slice(1))))].sort();
}
