/**
 * mergeQueues(base, ours, theirs): the semantic three-way merge of two versions of a
 * shared queue. The series is merged as an ordered list (series-merge.ts); each patch as
 * a change to files, not as text: when both sides changed a patch, the files it touches
 * before and after it are rebuilt in memory for base, ours and theirs, the pre- and
 * post-images are merged with the three-way file merge, and the diff is regenerated.
 * Then the merged queue is applied in memory from the base tree: a patch that no longer
 * applies exactly is regenerated (or rebased three-way from its own side), and what
 * cannot be is a conflict, with markers in the patch's resulting files.
 */
import { operandWords } from "../core/shell-word.js";
import { nameToBytes } from "../patch/paths.js";
import { bestMove, pairMoves, parsePatch, type FilePatch } from "../patch/index.js";
import { isPushable, Series, type SeriesEntry, type SeriesNotes } from "../queue/series.js";
import { diffOf, dropDiffstat, headerOf, joinHeaderAndDiff } from "../queue/patch-text.js";
import { mergeHeaders, splitTrailers, TRAILER } from "./header-merge.js";
import { parseHeader, unmodelledFields, type PatchHeader } from "../mail/header.js";
import { buildMergedSeries, detectRenames, mergeGuards, mergeOrder, pick3 } from "./series-merge.js";
import {
  applyText,
  changesMode,
  throughPatchesBelow,
  mergeModes,
  modesOf,
  parseSeries,
  regenerateDiff,
  simulateQueue,
  TreeSim,
  type Application,
  type FileModes,
  type Files,
  type PatchRun,
} from "./simulate.js";
import { CONFLICT_LABELS, type MergeOutcome, type MergeServices, type QueueConflict, type QueueVersion } from "./types.js";
import { pathMap } from "../queue/state.js";

type Side = "base" | "ours" | "theirs";

/** Series notes compared as what they say: none at all is the same as empty ones. */
const notesKey = (n: SeriesNotes | undefined) => JSON.stringify([n?.before ?? [], n?.comment ?? "", n?.line ?? null]);

/**
 * The comment lines above a patch's series line (and its own comment), three-way: one side's
 * change wins over an unchanged other; changed on both sides, the lines either side added are
 * all kept and those either removed go (collab-17 F19: one side's comment was dropped without a
 * word), the line's own comment ours. `both` is told when both sides changed them.
 */
function mergeLineNotes(
  base: SeriesNotes | undefined,
  ours: SeriesNotes | undefined,
  theirs: SeriesNotes | undefined,
  both: () => void,
): SeriesNotes | undefined {
  if (ours === undefined || theirs === undefined || notesKey(ours) === notesKey(theirs) || notesKey(theirs) === notesKey(base))
    return pick3(base, ours, theirs, notesKey);
  if (notesKey(ours) === notesKey(base)) return theirs;
  // Said only of the comments: the line's own bytes change with its guards or name, which have
  // notes of their own (t35 F12: "series comments changed on both sides" for two guard changes).
  const saidKey = (n: SeriesNotes | undefined) => JSON.stringify([n?.before ?? [], n?.comment ?? ""]);
  if (saidKey(ours) !== saidKey(base) && saidKey(theirs) !== saidKey(base) && saidKey(ours) !== saidKey(theirs)) both();
  const [b, o, t] = [base?.before ?? [], ours.before ?? [], theirs.before ?? []];
  const removed = new Set([...b.filter((l) => !o.includes(l)), ...b.filter((l) => !t.includes(l))]);
  const before = [...o, ...t.filter((l) => !o.includes(l))].filter((l) => !removed.has(l));
  return { ...ours, before, comment: (ours.comment ?? "") !== (base?.comment ?? "") ? ours.comment : theirs.comment };
}

interface Decision {
  id: string;
  name: string;
  guards: string[];
  /** Where the text came from (its pre/post images are looked up there when rebasing). */
  side: Side;
  sideName: string;
  text: string;
  /** The comment and blank lines before its series line, and its line's own comment (three-way). */
  notes?: SeriesNotes;
  /** The -pN of the side the text came from (quilt's strip level; absent: 1). */
  strip?: number;
  /** Both sides changed the diff: merged through the files' images. */
  /** base null: both sides added a patch of this name (merged as changes of the same files). */
  both?: { base: string | null; ours: string; theirs: string };
  conflict?: QueueConflict;
}

async function merge3(
  o: string | null,
  b: string | null,
  t: string | null,
  svc: MergeServices,
  labels = CONFLICT_LABELS,
): Promise<{ content: string | null; conflict: boolean; binary?: boolean }> {
  if (o === t) return { content: o, conflict: false };
  if (o === b) return { content: t, conflict: false };
  if (t === b) return { content: o, conflict: false };
  if (o === null || t === null) return { content: o ?? t, conflict: true };
  const r = await svc.mergeFile(o, b ?? "", t, labels);
  return { content: r.content, conflict: r.conflicts > 0, ...(r.binary ? { binary: true } : {}) };
}

/**
 * A header both sides changed: first three-way as text (git merge-file), which keeps every
 * line either side changed, fields pq does not model included (a DEP-3 header's Origin:,
 * Forwarded:); where the two edits touch the same lines, field by field (mergeHeaders).
 */
async function mergeHeaderTexts(
  base: string,
  ours: string,
  theirs: string,
  svc: MergeServices,
): Promise<{ header: string; clashes: string[] }> {
  if (ours !== theirs && theirs !== base && ours !== base) {
    const [b, o, t] = [base, ours, theirs].map(dropDiffstat);
    const text = await merge3(o, b, t, svc);
    if (!text.conflict && text.content !== null) return { header: oneTrailerBlock(text.content), clashes: [] };
  }
  return mergeHeaders(base, ours, theirs);
}

/**
 * A text merge of two headers that each added trailers at the end can leave them in two
 * paragraphs ("Acked-by: ...\n\nSigned-off-by: ..."), and git reads only the last as trailers
 * (collab-17 F13): trailer-only paragraphs at the end of the message become one block, as fold
 * and the field-by-field merge make it.
 */
export function oneTrailerBlock(header: string): string {
  const m = /^([^]*?)(\n---\r?\n[^]*)?$/.exec(header)!;
  const [message, rest = ""] = [m[1], m[2]];
  const paragraphs = message.replace(/\n+$/, "").split(/\n\n+/);
  let first = paragraphs.length;
  while (first > 1 && paragraphs[first - 1].split("\n").every((l) => TRAILER.test(l))) first--;
  if (paragraphs.length - first < 2) return header;
  const trailing = message.slice(message.replace(/\n+$/, "").length);
  return [...paragraphs.slice(0, first), paragraphs.slice(first).join("\n")].join("\n\n") + trailing + rest;
}

export async function mergeQueues(base: QueueVersion, ours: QueueVersion, theirs: QueueVersion, svc: MergeServices): Promise<MergeOutcome> {
  const same = (a: QueueVersion, b: QueueVersion) =>
    a.series === b.series &&
    Object.keys(a.patches).length === Object.keys(b.patches).length &&
    Object.entries(a.patches).every(([n, t]) => b.patches[n] === t);
  if (same(theirs, base) || same(ours, theirs)) return { queue: ours, conflicts: [], notes: [], renamed: pathMap() };
  if (same(ours, base)) return { queue: theirs, conflicts: [], notes: [], renamed: pathMap() };

  const guards = svc.guards ?? [];
  const apart = keepApartAdds(base, ours, theirs);
  ours = apart.ours;
  const entries = {
    base: parseSeries(base.series, "base"),
    ours: parseSeries(ours.series, "our"),
    theirs: parseSeries(theirs.series, "their"),
  };
  const versions = { base, ours, theirs };
  const notes: string[] = [...apart.notes];
  const conflicts: QueueConflict[] = [];

  // Patch identities: a base patch keeps its base name as id even when a side renamed it.
  const baseNames = entries.base.map((e) => e.name);
  const idOf = { base: new Map(baseNames.map((n) => [n, n])), ours: new Map<string, string>(), theirs: new Map<string, string>() };
  const byId = { base: new Map<string, SeriesEntry>(), ours: new Map<string, SeriesEntry>(), theirs: new Map<string, SeriesEntry>() };
  for (const e of entries.base) byId.base.set(e.name, e);
  for (const side of ["ours", "theirs"] as const) {
    const names = entries[side].map((e) => e.name);
    const renames = detectRenames(
      baseNames,
      names,
      (n) => base.patches[n] ?? "",
      (n) => versions[side].patches[n] ?? "",
    );
    for (const e of entries[side]) {
      const id = renames.get(e.name) ?? e.name;
      idOf[side].set(e.name, id);
      byId[side].set(id, e);
    }
  }

  // The lines of each series that are not patches: with the patch they precede (or its line), and after the last.
  const parsed = {
    base: Series.fromBytes(base.series),
    ours: Series.fromBytes(ours.series),
    theirs: Series.fromBytes(theirs.series),
  };
  // A line's own bytes (its spacing, a tab before -p0) go with it, as a local edit keeps them (verify-7 V13).
  const notesOfSide = (side: Side) =>
    new Map(
      parsed[side]
        .annotated()
        .map((a) => [
          a.entry.name,
          { before: a.notes.before ?? [], comment: a.notes.comment ?? "", ...(a.notes.line !== undefined ? { line: a.notes.line } : {}) },
        ]),
    );
  const notesBy = { base: notesOfSide("base"), ours: notesOfSide("ours"), theirs: notesOfSide("theirs") };

  // What each patch becomes.
  const decisions = new Map<string, Decision>();
  /** Files of one side kept beside a same-named patch of the other (name conflicts). */
  const strays = pathMap<string>();
  const renamed = pathMap(Object.entries(apart.renamed));
  const allIds = new Set([...byId.base.keys(), ...byId.ours.keys(), ...byId.theirs.keys()]);
  for (const id of allIds) {
    const [eb, eo, et] = [byId.base.get(id), byId.ours.get(id), byId.theirs.get(id)];
    // Deleted on both sides: gone, as git's merge of a file removed on both (collab-17 F9: exit 70 on every sync).
    if (!eo && !et) continue;
    const [tb, to, tt] = [eb && base.patches[eb.name], eo && ours.patches[eo.name], et && theirs.patches[et.name]];
    const name = !eo ? et!.name : !et || eo.name !== eb?.name ? eo.name : et.name;
    if (eo && et && eb && eo.name !== eb.name && et.name !== eb.name && eo.name !== et.name)
      notes.push(`${eb.name} was renamed to ${eo.name} here and to ${et.name} there: kept ${eo.name}`);
    else if (eb && eo && et && name !== eb.name) notes.push(`${eb.name} was renamed to ${name}; the other side's changes to it were kept`);
    if (eo && eo.name !== name) renamed[eo.name] = name;
    const guardsOf = (e?: SeriesEntry) => e?.guards ?? [];
    const g = mergeGuards(guardsOf(eb), guardsOf(eo ?? eb), guardsOf(et ?? eb));
    // Both sides changed the guards differently: the union is kept, a combination neither side
    // wrote, so the sync says so (and what each side had).
    const [gb, go, gt] = [guardsOf(eb), guardsOf(eo ?? eb), guardsOf(et ?? eb)].map((x) => x.join(" "));
    if (eb && eo && et && go !== gb && gt !== gb && go !== gt)
      notes.push(
        `${name}: guards changed on both sides (here "${go || "none"}", there "${gt || "none"}"): kept "${g.join(" ") || "none"}"; pq guard ${operandWords(name)} to choose`,
      );
    const lineNotes = mergeLineNotes(
      notesBy.base.get(eb?.name ?? ""),
      notesBy.ours.get(eo?.name ?? ""),
      notesBy.theirs.get(et?.name ?? ""),
      () => notes.push(`${name}: series comments above it changed on both sides: both sides' lines kept`),
    );
    const d = (side: Side, text: string, sideName: string): Decision => {
      const strip = byId[side].get(id)?.strip;
      return { id, name, guards: g, side, sideName, text, notes: lineNotes, ...(strip !== undefined ? { strip } : {}) };
    };
    if (eb && !eo && !et) continue;
    if (eb && (!eo || !et)) {
      const [keeper, kept, side] = eo ? [eo, to!, "ours" as const] : [et!, tt!, "theirs" as const];
      if (kept === tb) {
        // Deleted on one side, its text untouched on the other: deleted. A rename or a guard
        // change made on the other side goes with it, and the sync says so.
        const where = eo ? ["there", "here"] : ["here", "there"];
        const what = [
          keeper.name !== eb.name ? `renamed to ${keeper.name}` : null,
          keeper.guards.join(" ") !== eb.guards.join(" ") ? `guarded ${keeper.guards.join(" ") || "(none)"}` : null,
        ].filter(Boolean);
        if (what.length)
          notes.push(
            `${eb.name} was deleted ${where[0]}; it was ${what.join(" and ")} ${where[1]}, which went with it (pq log ${operandWords(eb.name)} shows its history)`,
          );
        continue;
      }
      const dec = d(side, kept, keeper.name);
      dec.conflict = {
        patch: name,
        kind: "delete-modify",
        deletes: keeper.name,
        // Named as the kept side names it: renamed there too, the old name is in no series (t118 N4).
        message: `${eb.name} was deleted ${eo ? "there" : "here"} but changed ${eo ? "here" : "there"}${keeper.name !== eb.name ? ` (renamed to ${keeper.name})` : ""}: the changed version is kept; pq delete ${operandWords(keeper.name)} if it should go`,
      };
      decisions.set(id, dec);
      continue;
    }
    if (!eb) {
      if (eo && et && to !== tt) {
        const h = mergeHeaders("", headerOf(to!), headerOf(tt!));
        const dec = d("ours", joinHeaderAndDiff(dropDiffstat(h.header), diffOf(to!)), eo.name);
        if (h.clashes.length) dec.conflict = headerConflict(name, h.clashes, headerOf(to!), headerOf(tt!), "added on both sides");
        if (diffOf(to!) !== diffOf(tt!)) dec.both = { base: null, ours: eo.name, theirs: et.name };
        decisions.set(id, dec);
      } else {
        const dec = eo ? d("ours", to!, eo.name) : d("theirs", tt!, et!.name);
        // A patch one side added under the name of a file the other side keeps outside its series.
        const other = eo ? theirs.patches[eo.name] : ours.patches[et!.name];
        if (other !== undefined && other !== dec.text && other !== base.patches[dec.sideName]) {
          const kept = `${dec.sideName}.${eo ? "theirs" : "ours"}`;
          strays[kept] = other;
          dec.conflict = {
            patch: name,
            kind: "name",
            // The file to decide about: --continue waits until it is gone (t35 F11).
            files: [kept],
            message: `${name} was added to the series ${eo ? "here" : "there"}, and ${eo ? "their" : "your"} queue has a different file of that name in no series: that file is kept as ${kept}; compare the two, keep what is needed, delete ${kept}, then pq sync --continue`,
          };
        }
        decisions.set(id, dec);
      }
      continue;
    }
    // In all three.
    if (to === tt || tt === tb) decisions.set(id, d("ours", to!, eo!.name));
    else if (to === tb) decisions.set(id, d("theirs", tt!, et!.name));
    else {
      const h = await mergeHeaderTexts(headerOf(tb!), headerOf(to!), headerOf(tt!), svc);
      const [db, dO, dt] = [diffOf(tb!), diffOf(to!), diffOf(tt!)];
      let dec: Decision;
      if (dO === dt || dt === db) dec = d("ours", joinHeaderAndDiff(h.header, dO), eo!.name);
      else if (dO === db) dec = d("theirs", joinHeaderAndDiff(h.header, dt), et!.name);
      else {
        dec = d("ours", joinHeaderAndDiff(dropDiffstat(h.header), dO), eo!.name);
        dec.both = { base: eb.name, ours: eo!.name, theirs: et!.name };
      }
      if (h.clashes.length) dec.conflict = headerConflict(name, h.clashes, headerOf(to!), headerOf(tt!), "both sides changed it");
      decisions.set(id, dec);
    }
  }

  const survivors = new Set(decisions.keys());
  const { order, movedBoth, unkept } = mergeOrder(
    entries.base.map((e) => e.name),
    entries.ours.map((e) => idOf.ours.get(e.name)!),
    entries.theirs.map((e) => idOf.theirs.get(e.name)!),
    survivors,
  );
  for (const { id, kept } of movedBoth) {
    const where =
      kept === "ours"
        ? "our place was kept"
        : kept === "theirs"
          ? "their place was kept"
          : "placed as each move changed its order against the others";
    notes.push(`${decisions.get(id)!.name} was moved on both sides, to different places: ${where}`);
  }
  for (const { id, side } of unkept)
    notes.push(
      `${decisions.get(id)!.name}: ${side === "ours" ? "our" : "their"} move of it could not be kept whole beside the other side's moves (no order holds both): check its place in series`,
    );

  // The three sides applied in memory, only when a patch needs its images.
  const simCache = new Map<Side, Promise<TreeSim>>();
  const sim = (side: Side) => {
    if (!simCache.has(side))
      simCache.set(side, simulateQueue(versions[side], svc.baseFile, guards, side === "base" ? "base" : side === "ours" ? "our" : "their"));
    return simCache.get(side)!;
  };
  const imagesOf = async (
    side: Side,
    name: string,
    paths: Iterable<string>,
  ): Promise<{ run: PatchRun; pre: Files; post: Files } | null> => {
    const s = await sim(side);
    const run = s.runs.get(name);
    if (!run || !run.ok) return null;
    const pre: Files = new Map();
    const post: Files = new Map();
    for (const p of paths) {
      const before = run.pre.has(p) ? run.pre.get(p)! : await s.before(run.index, p);
      pre.set(p, before);
      post.set(p, run.post.has(p) ? run.post.get(p)! : before);
    }
    return { run, pre, post };
  };

  /**
   * A side's images of a patch that does not apply over this tree, from the files its index lines
   * name (the blobs it was made over) with the patch applied to them: null where git lacks one,
   * the patch names none (a plain diff, a file a lower patch changed first), or it does not apply
   * to them. Files it does not touch are this tree's.
   */
  const imagesFromBlobs = async (
    side: Side,
    name: string,
    paths: Iterable<string>,
  ): Promise<{ run: PatchRun; pre: Files; post: Files } | null> => {
    const text = versions[side].patches[name];
    if (!svc.blob || text === undefined) return null;
    const strip = entries[side].find((e) => e.name === name)?.strip ?? 1;
    let files: FilePatch[];
    try {
      files = parsePatch(text, { strip }).files;
    } catch {
      return null;
    }
    // The patches below it on its side, for a file git has no blob of (what they made of it: t152 N1).
    const throughBelow = throughPatchesBelow(versions[side], entries[side], name);
    const blobs = new Map<string, string>();
    for (const fp of files) {
      if (fp.oldPath === null) continue; // a file it creates had none
      const id = fp.index?.oldBlob;
      const content =
        id && !/^0+$/.test(id)
          ? ((await svc.blob(id)) ??
            (svc.madeOver ? await svc.madeOver(fp.oldPath, id, (content) => throughBelow(content, fp.oldPath!)) : null))
          : null;
      if (content === null) return null;
      blobs.set(fp.oldPath, content);
    }
    const app = await applyText(text, async (p) => blobs.get(p) ?? null, strip);
    if (!app.ok) return null;
    const pre: Files = new Map();
    const post: Files = new Map();
    for (const p of paths) {
      const before = app.pre.has(p) ? app.pre.get(p)! : await svc.baseFile(p);
      pre.set(p, before);
      post.set(p, app.post.has(p) ? app.post.get(p)! : before);
    }
    return { run: { ...app, index: -1, pushable: true }, pre, post };
  };

  const merged = new TreeSim(svc.baseFile);
  /** Files a conflicted patch left with conflict markers in the merged tree (see the regeneration below). */
  const markedFiles = new Set<string>();
  /** Old name to new of each file the merged queue's patches so far rename. */
  const renamedInMerge = new Map<string, string>();
  /** Where a file the merged tree no longer has went, when the patches so far renamed it (and it is there): null otherwise. */
  const movedInMerge = async (path: string): Promise<string | null> => {
    if ((await merged.current(path)) !== null) return null;
    let to = path;
    for (let hops = 0; renamedInMerge.has(to) && hops < 100; hops++) to = renamedInMerge.get(to)!;
    return to !== path && (await merged.current(to)) !== null ? to : null;
  };
  const mergedEntries: { entry: SeriesEntry; notes: SeriesNotes }[] = [];
  const patches = pathMap<string>();
  for (const [index, id] of order.entries()) {
    const dec = decisions.get(id)!;
    const entry: SeriesEntry = { name: dec.name, guards: dec.guards };
    mergedEntries.push({ entry, notes: dec.notes ?? {} });
    const pushable = isPushable(entry, guards);
    let text = dec.text;
    // A regenerated diff has a/ and b/ prefixes: its entry loses any other -pN.
    let strip = dec.strip;
    let app: Application = await merged.tryApply(text, strip ?? 1);
    let conflictFiles: string[] = [];
    /** Of those, binary files: git cannot merge them, ours is kept whole. */
    const binaryFiles: string[] = [];
    /** Files deleted on one side and changed on the other, said as that (there are no markers in them): each with the name the merge keeps it under. */
    const gone: { file: string; message: string }[] = [];
    /** One file renamed to two names (see followRenames). */
    const renameClashes: string[] = [];
    if (dec.both) {
      // Both sides changed the diff: merge the images of every file either version touches.
      const paths = new Set<string>();
      const sides = (["base", "ours", "theirs"] as const).filter((s) => dec.both![s] !== null);
      const runs = await Promise.all(sides.map(async (s) => (await sim(s)).runs.get(dec.both![s]!)));
      for (const r of runs) if (r) for (const p of [...r.pre.keys(), ...r.post.keys()]) paths.add(p);
      const io = await imagesOf("ours", dec.both.ours, paths);
      const it = await imagesOf("theirs", dec.both.theirs, paths);
      // Added on both sides: the common ancestor is "no change" on our files as they were before it.
      // A common version that no longer applies here (both sides carried it onto a newer upstream)
      // is read from the blobs its index lines name, where git has them (t144 N8).
      const ib =
        dec.both.base !== null
          ? ((await imagesOf("base", dec.both.base, paths)) ?? (io && it ? await imagesFromBlobs("base", dec.both.base, paths) : null))
          : io && { ...io, post: io.pre };
      if (ib && io && it) {
        const pre: Files = new Map();
        const post: Files = new Map();
        // A file renamed on one side (or both) is merged as one file under its names on each side,
        // as git merge follows a rename: the other side's edits go to the new name (t49 N4), and
        // two different new names are a conflict, not a rename and a copy (t49 N5).
        const side = (img: { run: PatchRun; pre: Files; post: Files }): SideImages => ({
          filePatches: img.run.filePatches,
          pre: img.pre,
          post: img.post,
        });
        const moves = followRenames(dec.both.base !== null ? side(ib) : null, side(io), side(it));
        const handled = new Set<string>();
        for (const move of moves) {
          const [bN, oN, tN] = [move.base, move.ours, move.theirs];
          const mPre = await merge3(io.pre.get(move.source)!, ib.pre.get(move.source)!, it.pre.get(move.source)!, svc);
          const mPost = await merge3(io.post.get(oN) ?? null, ib.post.get(bN) ?? null, it.post.get(tN) ?? null, svc);
          const now = await merged.current(move.source);
          let out = mPost;
          if (mPre.conflict) out = await merge3(now, io.pre.get(move.source)!, mPost.content, svc, ["merged", "ours-before", "patch"]);
          else if (now !== mPre.content) {
            const r = await merge3(now, mPre.content, mPost.content, svc, ["merged", "before", "patch"]);
            out = { content: r.content, conflict: r.conflict || mPost.conflict, binary: r.binary || mPost.binary };
          }
          for (const name of new Set([move.source, bN, oN, tN])) {
            const current = await merged.current(name);
            pre.set(name, current);
            post.set(name, name === move.to ? out.content : name === move.source ? null : current);
            handled.add(name);
          }
          const deletedOnOneSide =
            out.conflict && (out.content === null || mPost.content === null || [io.post.get(oN), it.post.get(tN)].includes(null));
          if (deletedOnOneSide)
            gone.push({
              file: out.content === null ? move.source : move.to,
              message: `${move.source}: deleted on one side, moved to ${oN === move.source ? tN : oN} (and maybe changed) on the other: the moved one is kept${out.content === null ? "" : ` as ${move.to}`}; rm it and pq refresh if deleted is right`,
            });
          else if (out.conflict) conflictFiles.push(move.to);
          if (out.binary) binaryFiles.push(move.to);
          if (move.clash)
            renameClashes.push(
              `${move.source} is renamed to ${oN} in yours and to ${tN} in theirs: yours is kept (${oN}), with both sides' edits; for theirs, ${mkdirFor(oN, tN)}mv ${oN} ${tN}, pq add ${operandWords(tN)} and pq refresh with the stack where the sync left it (the top patch takes the move, and a patch of yours that edits ${oN} follows it)`,
            );
          else if (oN !== tN && !deletedOnOneSide)
            notes.push(`${dec.name}: ${move.source}'s move to ${move.to} followed, with the other side's edits of it`);
        }
        for (const p of paths) {
          if (handled.has(p)) continue;
          const mPre = await merge3(io.pre.get(p)!, ib.pre.get(p)!, it.pre.get(p)!, svc);
          const mPost = await merge3(io.post.get(p)!, ib.post.get(p)!, it.post.get(p)!, svc);
          const now = await merged.current(p);
          let out = mPost;
          if (mPre.conflict) out = await merge3(now, io.pre.get(p)!, mPost.content, svc, ["merged", "ours-before", "patch"]);
          else if (now !== mPre.content) {
            const r = await merge3(now, mPre.content, mPost.content, svc, ["merged", "before", "patch"]);
            out = { content: r.content, conflict: r.conflict || mPost.conflict, binary: r.binary || mPost.binary };
          }
          // Deleted on one side, its mode changed alone on the other (the content merge saw no
          // change there): a modify/delete conflict as git says it, the changed one kept (t50 N14).
          const chmodded = [io, it].find(
            (side) => side.post.get(p) != null && side.post.get(p) === ib.post.get(p) && changesMode(modesOf(side.run.filePatches), p),
          );
          if (out.content === null && !out.conflict && chmodded) out = { content: chmodded.post.get(p)!, conflict: true };
          // Deleted on one side and changed on the other: no markers to resolve (t49 N4's variant).
          if (out.conflict && [io.post.get(p), it.post.get(p)].includes(null))
            gone.push({
              file: p,
              message: `${p}: deleted on one side, changed on the other: the changed one is kept; rm it and pq refresh if deleted is right`,
            });
          else if (out.conflict) conflictFiles.push(p);
          if (out.binary) binaryFiles.push(p);
          pre.set(p, now);
          post.set(p, out.content);
        }
        const clashes: string[] = [];
        const baseModes = modesOf(dec.both.base !== null ? ib.run.filePatches : []);
        const modes = mergeModes(baseModes, modesOf(io.run.filePatches), modesOf(it.run.filePatches), paths, clashes, moves);
        for (const p of clashes)
          notes.push(`${dec.name}: ${p}: both sides set another mode (${modes.get(p)?.newMode} kept, ours): check it`);
        text = joinHeaderAndDiff(
          headerOf(dec.text),
          regenerateDiff(
            pre,
            post,
            [...io.run.filePatches, ...it.run.filePatches],
            modes,
            moves.map((m) => [m.source, m.to]),
          ),
        );
        strip = undefined;
        app = { ok: true, exact: true, pre, post, failures: [], filePatches: [] };
        if (!conflictFiles.length && !gone.length && !renameClashes.length)
          notes.push(`${dec.name}: ${dec.both.base === null ? "added" : "changed"} on both sides, merged`);
      } else {
        // A version that does not apply over this tree (one side moved to another upstream): its
        // change cannot be merged here. Said as a conflict even when ours applies, where ours was
        // kept without a word and the colleague's change was gone from the queue (collab-17 F22).
        const which = !it ? "theirs" : !io ? "ours" : "the common one";
        conflicts.push({
          patch: dec.name,
          kind: "apply",
          message: `${dec.name} changed on both sides, and ${which} does not apply over this tree (made on another upstream?): ours is kept; carry theirs over by hand (pq log -p ${operandWords(dec.name)} shows it), or, if a colleague carried the queue onto a newer upstream than this tree's, pq sync --abort, git fetch, pq rebase, pq commit -m MESSAGE, then pq sync`,
          files: app.failures,
        });
      }
    } else if (app.ok && !app.exact) {
      // Context moved under it because of the merge: regenerate so it applies exactly,
      // unless it never applied exactly, in the base or on its own side (then leave its bytes alone).
      // Not over a lower patch's conflict markers (collab-7 #1): its context moved only by the
      // marker lines, which the resolution takes away again; regenerated there, the patch would
      // be pushed with the markers' line numbers and a pre-image that never existed.
      const own = (await sim(dec.side)).runs.get(dec.sideName);
      const inBase = byId.base.get(id);
      const overMarkers = [...app.pre.keys()].some((p) => markedFiles.has(p));
      // The base's exactness speaks for the patch only where its diff is the base's: a diff changed
      // on its side (a colleague's pq rebase onto a newer upstream) that is inexact here on that
      // side too was made over other files, not moved by this merge; regenerated over this tree,
      // the colleague's rebase was undone and pushed (t104 N2).
      const diffAsInBase = inBase !== undefined && diffOf(base.patches[inBase.name] ?? "") === diffOf(dec.text);
      if (!overMarkers && (own?.exact || (diffAsInBase && (await sim("base")).runs.get(inBase.name)?.exact))) {
        text = joinHeaderAndDiff(dropDiffstat(headerOf(text)), regenerateDiff(app.pre, app.post, app.filePatches));
        strip = undefined;
        notes.push(`${dec.name}: regenerated (its context moved)`);
      }
    } else if (!app.ok && pushable) {
      // Rebase it three-way from the images it had on its own side.
      const own = (await sim(dec.side)).runs.get(dec.sideName);
      const img = own ? await imagesOf(dec.side, dec.sideName, new Set([...own.pre.keys(), ...own.post.keys()])) : null;
      if (img) {
        const pre: Files = new Map();
        const post: Files = new Map();
        const hinted = modesOf(img.run.filePatches);
        const modes: FileModes = new Map();
        const moves: [string, string][] = [];
        const done = new Set<string>();
        // The patch's own moves of a file a patch below now moves (a colleague's new rename): its
        // move goes on from that name, and to another name than its own it is a rename conflict
        // (t50 N5: it had become a second, whole copy of the file).
        for (const [file, to] of movesOf({ filePatches: img.run.filePatches, pre: img.pre, post: img.post })) {
          // Where the file is in the merged tree before this patch: moved there by a patch below
          // (there), or still under its name, perhaps changed or deleted by one.
          const there = await movedInMerge(file);
          const source = there ?? file;
          const now = await merged.current(source);
          if (there === null) {
            // A patch below now deletes the file this patch moves: as git rebase's rename/delete,
            // a conflict, this patch's file kept under its new name (t53 N1: merged silently).
            if (now === null && img.pre.get(file) != null)
              gone.push({
                file: to,
                message: `${to}: moved here from ${file}, which a patch below now deletes: this patch's version is kept; rm ${to} and pq refresh if deleted is right`,
              });
            // Unchanged below: the patch applies as it is, no merge to make.
            if (now === null || now === img.pre.get(file)) continue;
          }
          // Its move of a file a patch below now changes (a colleague's new edit) takes the change
          // along to the new name, as git rebase carries it (t52 N10: a modify/delete stop whose
          // advice dropped the edit); of one a patch below now moves, it goes on from there.
          const r =
            there === null
              ? await merge3(img.post.get(to) ?? null, img.pre.get(file)!, now, svc, [dec.name, "before", "merged"])
              : await merge3(now, img.pre.get(file)!, img.post.get(to) ?? null, svc, ["merged", "before", dec.name]);
          pre.set(source, now);
          pre.set(to, await merged.current(to));
          post.set(to, r.content);
          if (source !== to) {
            post.set(source, null);
            moves.push([source, to]);
          }
          if (there === null)
            notes.push(`${dec.name}: its move of ${file} to ${to} takes the change a patch below now makes to ${file} along`);
          else if (there !== to)
            renameClashes.push(
              `${file} is renamed to ${to} here and to ${there} by a patch below: this patch's move is kept, now from ${there}, with both edits; for the other name, ${mkdirFor(to, there)}mv ${to} ${there}, pq add ${operandWords(there)} and pq refresh with the stack where the sync left it`,
            );
          else notes.push(`${dec.name}: a patch below now makes its move of ${file} to ${to}; its edits are merged there`);
          if (hinted.has(to)) modes.set(to, hinted.get(to)!);
          if (r.conflict) conflictFiles.push(to);
          done.add(file).add(to);
        }
        for (const file of img.pre.keys()) {
          if (done.has(file)) continue;
          // A file a patch below now renames (a colleague's new git mv): the edits, a mode change
          // and a deletion follow it to its new name, as git rebase follows a rename (t49 N8: the
          // patch was rewritten to make the whole file again under its old name, with a conflict
          // that had no markers; t50 N7: a chmod was dropped).
          const movedTo = img.pre.get(file) !== null ? await movedInMerge(file) : null;
          const p = movedTo ?? file;
          if (movedTo)
            notes.push(
              `${dec.name}: its ${img.post.get(file) === null ? "deletion" : "change"} of ${file} follows it to ${movedTo}, where a patch below now moves it`,
            );
          if (movedTo && hinted.has(file)) modes.set(movedTo, hinted.get(file)!);
          const now = await merged.current(p);
          const r = await merge3(now, img.pre.get(file)!, img.post.get(file)!, svc, ["merged", "before", dec.name]);
          // Deleted here, changed by a patch below (or the other way round): no markers to resolve (t50 N6).
          if (r.conflict && (now === null || img.post.get(file) === null))
            gone.push({
              file: p,
              message: `${p}: ${img.post.get(file) === null ? `deleted by this patch, changed by a patch below: kept as that one leaves it; rm it and pq refresh if deleted is right` : `changed by this patch, deleted by a patch below: this patch's version is kept; rm it and pq refresh if deleted is right`}`,
            });
          else if (r.conflict) conflictFiles.push(p);
          if (r.binary) binaryFiles.push(p);
          pre.set(p, now);
          post.set(p, r.content);
        }
        text = joinHeaderAndDiff(dropDiffstat(headerOf(text)), regenerateDiff(pre, post, img.run.filePatches, modes, moves));
        strip = undefined;
        app = { ok: true, exact: true, pre, post, failures: [], filePatches: [] };
        if (!conflictFiles.length && !gone.length && !renameClashes.length)
          notes.push(`${dec.name}: rebased (it no longer applied as it was)`);
      } else {
        conflicts.push({
          patch: dec.name,
          kind: "apply",
          message: `${dec.name} does not apply in the merged queue (nor on its own side): ${app.failures.join("; ")}`,
          files: app.failures,
        });
      }
    }
    const marked = conflictFiles.filter((p) => !binaryFiles.includes(p));
    marked.forEach((p) => markedFiles.add(p));
    if (marked.length) {
      conflicts.push({
        patch: dec.name,
        kind: "content",
        message: `${dec.name}: both versions are kept with conflict markers in ${marked.join(", ")}`,
        files: marked,
      });
    }
    if (gone.length)
      conflicts.push({
        patch: dec.name,
        kind: "delete-change",
        message: `${dec.name}: ${gone.map((g) => g.message).join("; ")}`,
        files: gone.map((g) => g.file),
      });
    if (renameClashes.length) conflicts.push({ patch: dec.name, kind: "rename", message: `${dec.name}: ${renameClashes.join("; ")}` });
    if (binaryFiles.length) {
      conflicts.push({
        patch: dec.name,
        kind: "content",
        message: `${dec.name}: ${binaryFiles.join(", ")} changed on both sides and git cannot merge binary files: yours is kept; pq log -p ${operandWords(dec.name)} shows theirs`,
        files: binaryFiles,
      });
    }
    if (dec.conflict) conflicts.push(dec.conflict);
    // An explicit -p1 too: the line keeps its bytes (verify-8, V13 remaining).
    if (strip !== undefined) entry.strip = strip;
    patches[dec.name] = text;
    if (pushable && app.ok) {
      merged.commit(index, app.post);
      // The renames it makes, for a patch above that still edits the old name (see movedInMerge).
      const made = app.filePatches.length ? app.filePatches : parsePatchOrNone(text, strip ?? 1);
      const now: SideImages = { filePatches: made, pre: app.pre, post: app.post };
      for (const [from, to] of movesOf(now)) renamedInMerge.set(from, to);
      // A file the patch made under another name in the common version (t52 N9: a patch above
      // that edits it was told a patch below deleted it).
      const inBase = byId.base.get(id);
      const baseRun = inBase ? (await sim("base")).runs.get(inBase.name) : undefined;
      if (baseRun?.ok) for (const [from, to] of madeElsewhere(baseRun, now)) if (!renamedInMerge.has(from)) renamedInMerge.set(from, to);
    }
  }

  // Files of the queue directory that are not patches of any series: merged as files.
  const listed = new Set([...Object.values(entries).flatMap((es) => es.map((e) => e.name)), ...Object.keys(patches)]);
  for (const f of new Set([...Object.keys(base.patches), ...Object.keys(ours.patches), ...Object.keys(theirs.patches)])) {
    if (listed.has(f)) continue;
    const r = await merge3(ours.patches[f] ?? null, base.patches[f] ?? null, theirs.patches[f] ?? null, svc);
    if (r.conflict)
      conflicts.push({ patch: f, kind: "content", message: `${f} (not in the series) was changed on both sides`, files: [f] });
    if (r.content !== null) patches[f] = r.content;
  }

  for (const [f, text] of Object.entries(strays)) if (patches[f] === undefined) patches[f] = text;

  const trailing = pick3(parsed.base.trailing(), parsed.ours.trailing(), parsed.theirs.trailing(), (t) => JSON.stringify(t ?? [])) ?? [];
  const series = buildMergedSeries(mergedEntries, trailing, [ours.series, theirs.series]);
  return { queue: { series, patches }, conflicts, notes, renamed, apart: apart.renamed };
}

/** The mkdir a move's advice needs first: into a folder the tree may lack (t52 N6: the mv failed). */
function mkdirFor(from: string, to: string): string {
  const dir = to.includes("/") ? to.slice(0, to.lastIndexOf("/")) : "";
  const fromDir = from.includes("/") ? from.slice(0, from.lastIndexOf("/")) : "";
  return dir && dir !== fromDir ? `mkdir -p ${dir}, ` : "";
}

/** A patch text's file patches, or none when it does not parse (it was refused or reported already). */
function parsePatchOrNone(text: string, strip: number): FilePatch[] {
  try {
    return parsePatch(text, { strip }).files;
  } catch {
    return [];
  }
}

/** One file a version of a patch renames: its name on each side (the source where that side keeps it) and in the merge. */
interface FollowedMove {
  source: string;
  base: string;
  ours: string;
  theirs: string;
  /** The merged name: the side that changed the base's name wins; both changed it alike, that. */
  to: string;
  /** Both sides renamed it, to different names: ours is kept (a rename/rename conflict, as git merge says). */
  clash: boolean;
}

/** One side's version of a patch: its file patches and the files before and after it. */
interface SideImages {
  filePatches: FilePatch[];
  pre: Files;
  post: Files;
}

/**
 * The files a version of a patch moves, old name to new: its renames, and a deletion and a
 * creation that are one file moved (as git's rename detection pairs them: a move of a file a
 * lower patch made, or a second move of a renamed one, cannot be a `git mv`, and is written so).
 */
export function movesOf(side: SideImages): Map<string, string> {
  const moves = new Map<string, string>();
  for (const fp of side.filePatches) if (fp.kind === "rename" && fp.oldPath && fp.newPath) moves.set(fp.oldPath, fp.newPath);
  const taken = new Set([...moves.keys(), ...moves.values()]);
  const deleted = [...side.pre.keys()].filter((p) => !taken.has(p) && side.pre.get(p) != null && side.post.get(p) === null);
  const created = [...side.post.keys()].filter((p) => !taken.has(p) && (side.pre.get(p) ?? null) === null && side.post.get(p) != null);
  for (const [from, to] of pairMoves(
    deleted,
    created,
    (d) => side.pre.get(d) ?? null,
    (c) => side.post.get(c) ?? null,
  ))
    moves.set(from, to);
  return moves;
}

/**
 * Files one version of a patch creates that another version creates under a new name (at
 * least half alike): old name to new. `base` and `side` are the two versions' images.
 */
function madeElsewhere(base: SideImages, side: SideImages): Map<string, string> {
  const creates = (v: SideImages) => new Set([...v.post.keys()].filter((p) => (v.pre.get(p) ?? null) === null && v.post.get(p) != null));
  const [before, after] = [creates(base), creates(side)];
  const moves = new Map<string, string>();
  const fresh = [...after].filter((p) => !before.has(p));
  for (const from of before) {
    if (after.has(from) || side.post.get(from) != null) continue;
    const to = bestMove(
      base.post.get(from)!,
      fresh.filter((c) => ![...moves.values()].includes(c)),
      (c) => side.post.get(c) ?? null,
    );
    if (to !== null) moves.set(from, to);
  }
  return moves;
}

/**
 * The files that some version of a patch moves, and where each side has them, when the sides
 * differ. A move onto a name the other side adds a file of its own under is not followed: the
 * two files are merged there as one added on both sides, with markers (t50 N9: the added
 * file was merged away).
 */
function followRenames(base: SideImages | null, ours: SideImages, theirs: SideImages): FollowedMove[] {
  const [b, o, t] = [base ? movesOf(base) : new Map<string, string>(), movesOf(ours), movesOf(theirs)];
  // A file the common version creates that a side now creates under another name: a move of its (t52 N9).
  if (base) {
    for (const [from, to] of madeElsewhere(base, ours)) if (!o.has(from)) o.set(from, to);
    for (const [from, to] of madeElsewhere(base, theirs)) if (!t.has(from)) t.set(from, to);
  }
  const movedTo = new Set([...b.values(), ...o.values(), ...t.values()]);
  const addsOwn = (side: SideImages, name: string) => (side.pre.get(name) ?? null) === null && side.post.get(name) != null;
  const moves: FollowedMove[] = [];
  for (const source of new Set([...b.keys(), ...o.keys(), ...t.keys()])) {
    const [bN, oN, tN] = [b.get(source) ?? source, o.get(source) ?? source, t.get(source) ?? source];
    if (oN === tN && oN === bN) continue; // the same move everywhere: each name merges as a file of its own
    const clash = oN !== bN && tN !== bN && oN !== tN;
    const to = oN === bN ? tN : oN;
    // The side that did not move the file there has a file of its own under that name.
    if (to === tN && oN !== tN && addsOwn(ours, to) && !o.has(to) && ![...o.values()].includes(to)) continue;
    if (to === oN && tN !== oN && addsOwn(theirs, to) && ![...t.values()].includes(to)) continue;
    if (movedTo.has(source)) continue; // a chain of moves within the patch: merged by name
    moves.push({ source, base: bN, ours: oN, theirs: tN, to, clash });
  }
  // Two files moved to one name (one on each side): neither is followed, the name merges as a
  // file added on both sides, with markers (t52 N17: one file's content was merged away).
  const landing = new Map<string, number>();
  for (const m of moves) landing.set(m.to, (landing.get(m.to) ?? 0) + 1);
  return moves.filter((m) => landing.get(m.to) === 1);
}

/**
 * Both sides changed the same field of a patch's header (or added a patch of the same name with
 * different ones): ours stays in the patch and the sync stops, with theirs in the message, so
 * nobody's subject, message or authorship is dropped without a person deciding.
 */
function headerConflict(name: string, clashes: string[], ours: string, theirs: string, how: string): QueueConflict {
  const [ho, ht] = [ours, theirs].map((h) => parseHeader(dropDiffstat(h)));
  const show = (h: PatchHeader, field: string, text: string) =>
    field === "message"
      ? splitTrailers(h.body).message.replace(/\n/g, "\n      ") || "(none)"
      : field === "other fields"
        ? unmodelledFields(dropDiffstat(text)).join("; ") || "(none)"
        : String(h[field as "author" | "subject"] ?? "(none)");
  const lines = clashes.map((f) => `  ${f}: yours "${show(ho, f, ours)}", theirs "${show(ht, f, theirs)}"`);
  return {
    patch: name,
    kind: "header",
    message: `${name}: ${how} with a different ${clashes.join(", ")}; yours is in the patch:\n${lines.join("\n")}\n  pq header -m/-u ... ${operandWords(name)} to choose (or keep yours), then pq sync --continue`,
  };
}

/**
 * Two different patches added under one name (their authors or subjects differ: two people's
 * work, not one patch changed twice) are both kept: ours takes a free name, which the sync's
 * notes give, instead of the two being fused into one patch under one author.
 */
function keepApartAdds(
  base: QueueVersion,
  ours: QueueVersion,
  theirs: QueueVersion,
): { ours: QueueVersion; renamed: Record<string, string>; notes: string[] } {
  const [nb, no, nt] = [base, ours, theirs].map((v, i) => new Set(parseSeries(v.series, ["base", "our", "their"][i]).map((e) => e.name)));
  const taken = new Set([...nb, ...no, ...nt, ...Object.keys(ours.patches), ...Object.keys(theirs.patches), ...Object.keys(base.patches)]);
  const renamed = pathMap<string>();
  const notes: string[] = [];
  let series: Series | null = null;
  const patches = pathMap(Object.entries(ours.patches));
  for (const name of no) {
    if (nb.has(name) || !nt.has(name) || ours.patches[name] === theirs.patches[name]) continue;
    const [ho, ht] = [ours.patches[name], theirs.patches[name]].map((t) => parseHeader(dropDiffstat(headerOf(t ?? ""))));
    if (ho.author === ht.author && ho.subject === ht.subject) continue;
    const dot = name.lastIndexOf(".");
    const [stem, ext] = dot > name.lastIndexOf("/") + 1 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
    let n = 2;
    while (taken.has(`${stem}-${n}${ext}`)) n++;
    const to = `${stem}-${n}${ext}`;
    taken.add(to);
    series ??= Series.fromBytes(ours.series);
    series.rename(name, to);
    patches[to] = patches[name];
    delete patches[name];
    renamed[name] = to;
    notes.push(
      `${name}: added on both sides as two different patches (yours by ${ho.author ?? "?"}, "${ho.subject ?? ""}"; theirs by ${ht.author ?? "?"}, "${ht.subject ?? ""}"): yours is now ${to}; pq rename it to choose another name`,
    );
  }
  return series ? { ours: { series: nameToBytes(series.serialize()), patches }, renamed, notes } : { ours, renamed, notes };
}
