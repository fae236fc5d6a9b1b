/**
 * Planning a fold (hg qfold): unapplied patches are applied on top of the top patch in
 * memory, their messages appended to its own, and the top patch rewritten from the
 * result, all in one transaction with the folded files moved to the trash.
 */
import { operandWords } from "../../core/shell-word.js";
import { PqError } from "../../errors.js";
import { isDep3Header, parseHeader, parseHeaderKeepingFields, rewriteHeader, unmodelledFields, withFields, type PatchHeader } from "../../mail/header.js";
import { sha1 } from "../../tree/files.js";
import { applyPatchText, describeFailures, describeFuzz } from "../apply-patch.js";
import { dropCommitter, dropDiffstat, headerOf, joinHeaderAndDiff, refuseDiffInMessage, splitMessage } from "../patch-text.js";
import { planRefresh } from "../refresh-plan.js";
import { pathMap, type AppliedPatch } from "../state.js";
import { appliedNames, changesGoneFrom, planContext, revertedBelowStack, refuseChangedInQueue, refuseIfTopNeedsRefresh, requireTop, resolveName, type OpContext } from "./context.js";
import type { RefreshReport } from "./refresh.js";

/** A fold's report: the refresh it makes, and the folded patches that went in with offsets or fuzz (each hunk said as push says it). */
export type FoldReport = RefreshReport & { inexact?: { patch: string; hunks: string[] }[] };

export async function planFold(ctx: OpContext, targets: string[], opts: { message?: string; keep?: boolean }): Promise<FoldReport> {
  const { tx } = ctx;
  const top = requireTop(tx.state);
  refuseIfTopNeedsRefresh(tx.state, "fold into it", false);
  refuseChangedInQueue(ctx, [top], "the fold would rewrite it from the tree, dropping that version", "pq fold");
  const series = tx.series();
  const names = targets.map((t) => resolveName(series, t));
  for (const name of names) if (appliedNames(tx.state).includes(name)) throw foldOfApplied(appliedNames(tx.state), name);
  // The top patch is rewritten from the tree: edits not yet refreshed would ride along into
  // it unasked. hg qfold refuses over local changes; so does pq.
  const pending = (await planRefresh(await planContext(ctx), tx.ws, top)).changed;
  if (pending.length) {
    const reverted = revertedBelowStack(ctx, pending);
    if (reverted.length === pending.length) throw changesGoneFrom(ctx.tree, reverted, "the fold");
    throw new PqError(
      "dirty",
      `unrefreshed changes in ${pending.slice(0, 8).join(", ")}${pending.length > 8 ? ", ..." : ""}: the fold would take them into ${top.name}`,
      ["pq refresh first to keep them in it (or undo them), then pq fold"],
      { files: pending, patch: top.name },
    );
  }
  const headers: PatchHeader[] = [];
  // Into a DEP-3 header, the folded patches' DEP-3 fields (Origin:, Forwarded:, Bug-Debian:) stay
  // fields, not lines of the Description (t125 N14); into a mail's, they go into its message.
  const intoDep3 = isDep3Header(headerOf(tx.patchText(top.name)));
  const keptFields: string[] = [];
  const inexact: { patch: string; hunks: string[] }[] = [];
  const updated: AppliedPatch = { ...top, files: pathMap(Object.entries(top.files)), renames: [...(top.renames ?? [])] };
  for (const name of names) {
    const text = tx.patchText(name);
    const app = await applyPatchText(tx.ws, name, text, { strip: series.stripOf(name) });
    if (app.failed) {
      throw new PqError("apply-failed", `${name} does not apply on top of ${top.name}; nothing was changed`, describeFailures(app), { patch: name });
    }
    // Applied with fuzz or at an offset: said, as hg's qfold and pq's push say it (t129 N4).
    const fuzz = describeFuzz(app);
    if (fuzz.length) inexact.push({ patch: name, hunks: fuzz });
    // The version below the top patch stays the pre-image; null (a file the top patch creates) is one too.
    for (const [path, change] of Object.entries(app.files)) updated.files[path] = { pre: path in updated.files ? updated.files[path].pre : change.pre, post: change.post };
    updated.renames!.push(...app.renames);
    // Fields the header model does not hold (DEP-3's Origin:, Last-Update:) stay in the folded message.
    const folded = dropDiffstat(headerOf(text));
    headers.push(intoDep3 ? parseHeader(folded) : parseHeaderKeepingFields(folded));
    if (intoDep3) keptFields.push(...unmodelledFields(folded));
  }
  if (!updated.renames!.length) delete updated.renames;
  tx.state.applied[tx.state.applied.length - 1] = updated;
  // The top patch is rewritten from the tree as the fold leaves it (a refresh, planned).
  // The folded patches' text hunks of files with NUL bytes stay text hunks, as the top's own (t57 N6).
  const plan = await planRefresh(await planContext(ctx), tx.ws, updated, { alsoTextIn: names.map((name) => tx.patchText(name)) });
  const ownHeader = dropDiffstat(headerOf(tx.patchText(top.name)));
  const own = parseHeader(ownHeader);
  // The messages' trailer blocks (Signed-off-by:, Reviewed-by:, ...) gathered into one at the end,
  // the folded patches' first and the top patch's own last: its author is the one who submits
  // the result, whose sign-off ends the chain (stack-6 #4). In the middle of the text, git
  // interpret-trailers, b4 and checkpatch would not see them.
  // A folded patch's message starts with its subject, never a trailer however it reads ("mm: fix leak": t122 N2), as git reads a title.
  const parts = [
    splitTrailers(own.body),
    ...headers.map((h) => (h.subject ? splitTrailers(`${h.subject}\n\n${h.body ?? ""}`, { titled: true }) : splitTrailers(h.body ?? ""))),
  ];
  const trailers = lastOfEach([...parts.slice(1), parts[0]].flatMap((p) => p.trailers));
  const prose = parts
    .map((p) => p.prose)
    .filter(Boolean)
    .join("\n\n* * *\n\n");
  const body = [prose, trailers.join("\n")].filter(Boolean).join("\n\n");
  // The folded patches' authors stay on the result, as the kernel credits joint work.
  const coAuthors = [...new Set(headers.map((h) => h.author).filter((a): a is string => Boolean(a) && a !== own.author))].filter(
    (a) => !body.split("\n").includes(`Co-developed-by: ${a}`),
  );
  if (opts.message) refuseDiffInMessage(opts.message);
  const message = opts.message ? splitMessage(opts.message) : { body };
  message.body = withCoDevelopers(message.body ?? "", coAuthors, opts.message ? {} : { trailerBlock: trailers.length > 0 });
  // Nothing to say (no header here or in the folded patches): none is made, not an empty "Subject: " (t55 N2's aside).
  const saysNothing = !ownHeader.trim() && !("subject" in message && message.subject) && !message.body?.trim();
  const header = withFields(saysNothing ? ownHeader : rewriteHeader(ownHeader, { ...own, ...message }), keptFields);
  const text = joinHeaderAndDiff(dropCommitter(dropDiffstat(header)), plan.diff);
  tx.writePatch(top.name, text);
  updated.files = plan.files;
  updated.hash = sha1(text);
  for (const name of names) {
    series.remove(name);
    if (!opts.keep) tx.removePatch(name, true);
  }
  // The diff is written anew with a/ b/ prefixes: a quilt -pN on the top's line becomes the default, as a refresh makes it (t55 N2).
  if (series.stripOf(top.name) !== 1) series.setStrip(top.name, 1);
  tx.setSeries(series);
  return { name: top.name, files: Object.keys(plan.files).sort(), untracked: plan.untracked, ...(inexact.length ? { inexact } : {}) };
}

/**
 * A fold names an applied patch: fold takes unapplied patches into the top one. The ways that
 * work from here (t122 N3: "goto the patch below it, then fold it" popped the top it was meant
 * for, and the fold was refused again, or went into another patch).
 */
function foldOfApplied(applied: string[], name: string): PqError {
  const top = applied.at(-1)!;
  if (name === top)
    return new PqError("usage", `${name} is the top patch, which a fold takes other patches into`, ["name unapplied patches to take into it (pq unapplied lists them)"], {
      patch: name,
    });
  const at = applied.indexOf(name);
  const ways =
    at === applied.length - 2
      ? [`to fold the two together: pq goto ${operandWords(name)}, then pq fold ${operandWords(top)} (the result keeps the name ${name}; pq rename renames it)`]
      : [];
  const below = at === 0 ? "pq pop -a" : `pq goto ${operandWords(applied[at - 1])}`;
  ways.push(`to fold ${name} into ${top}: ${below}, pq push --move ${operandWords(top)}, then pq fold ${operandWords(name)} (where ${top} applies without ${name})`);
  return new PqError("refused", `${name} is applied; only unapplied patches can be folded into the top one (${top})`, ways, { patch: name });
}

/**
 * Credits co-authors as the kernel asks (submitting-patches: "Co-developed-by: must be
 * immediately followed by a Signed-off-by: of the associated co-author"): before that author's
 * own sign-off when the message carries one (a folded patch's), else at the end. pq never
 * writes a sign-off for someone: that is theirs to give.
 */
/**
 * A message's closing paragraph of trailers, apart from the rest: "Key: value" lines, as git
 * reads them, with a long one's continuation lines (indented) and a maintainer's "[name: note]"
 * lines between them (the kernel's habit) kept in the block (verify-16 F5). Each trailer comes
 * back as one entry, its continuation lines included.
 */
function splitTrailers(message: string, opts: { titled?: boolean } = {}): { prose: string; trailers: string[] } {
  const text = message.trim();
  const cut = text.lastIndexOf("\n\n");
  // The title (the subject's paragraph) is never the trailer block, as git interpret-trailers reads a message.
  if (opts.titled && cut === -1) return { prose: text, trailers: [] };
  const last = (cut === -1 ? text : text.slice(cut + 2)).split("\n");
  const trailer = (line: string) => /^[A-Za-z][A-Za-z0-9-]*: \S/.test(line);
  const fits = last.every((line, i) => trailer(line) || (i > 0 && (/^\s+\S/.test(line) || /^\[[^\]]+\]$/.test(line.trim()))));
  if (!text || !trailer(last[0]) || !fits) return { prose: text, trailers: [] };
  const trailers: string[] = [];
  for (const line of last) {
    if (/^\s/.test(line) && trailers.length) trailers[trailers.length - 1] += `\n${line}`;
    else trailers.push(line);
  }
  return { prose: cut === -1 ? "" : text.slice(0, cut).trim(), trailers };
}

/** The lines in order, each kept where it last occurs (a sign-off repeated ends up where its last signer put it). */
function lastOfEach(lines: string[]): string[] {
  return lines.filter((line, i) => lines.lastIndexOf(line) === i);
}

export function withCoDevelopers(
  body: string,
  authors: string[],
  /** Whether the body ends in a trailer block, where the caller knows (a fold's message whose last paragraph only reads like one: t122 N2). */
  known: { trailerBlock?: boolean } = {},
): string {
  const lines = body.split("\n");
  const unsigned: string[] = [];
  for (const author of authors) {
    const signed = lines.findIndex((line) => line.trim() === `Signed-off-by: ${author}`);
    if (signed === -1) unsigned.push(`Co-developed-by: ${author}`);
    else lines.splice(signed, 0, `Co-developed-by: ${author}`);
  }
  const credited = lines.join("\n");
  if (!unsigned.length) return credited;
  // Into the closing trailer block when there is one, ahead of its sign-offs (a block of its own
  // after it hid that block from git interpret-trailers: readme-15 F8); else a block of their own.
  const { prose, trailers } = known.trailerBlock === false ? { prose: credited, trailers: [] } : splitTrailers(credited);
  if (trailers.length) return [prose, [...unsigned, ...trailers].join("\n")].filter(Boolean).join("\n\n");
  return [credited, unsigned.join("\n")].filter(Boolean).join("\n\n");
}
