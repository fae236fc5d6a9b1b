/**
 * Patch headers merged field by field: author, date, subject, the message and its
 * trailers (Signed-off-by: and friends) each three-way, so one side's new subject and
 * the other's added Acked-by: both survive.
 */
import { dropDiffstat } from "../queue/patch-text.js";
import { parseHeader, rewriteHeader, unmodelledFields, type PatchHeader } from "../mail/header.js";

/** A trailer line (Signed-off-by: Name <mail>), as git reads one. */
export const TRAILER = /^[A-Za-z][A-Za-z0-9-]*: \S.*$/;

export function splitTrailers(body: string): { message: string; trailers: string[] } {
  const lines = body.trimEnd().split("\n");
  let i = lines.length;
  while (i > 0 && TRAILER.test(lines[i - 1])) i--;
  if (i === lines.length) return { message: body.trim(), trailers: [] };
  return { message: lines.slice(0, i).join("\n").trim(), trailers: lines.slice(i) };
}

function scalar<T>(b: T, o: T, t: T): { value: T; clash: boolean } {
  if (o === b || o === t) return { value: t === b ? o : t, clash: false };
  if (t === b) return { value: o, clash: false };
  return { value: o, clash: true };
}

function trailers(b: string[], o: string[], t: string[]): string[] {
  const removed = new Set([...b.filter((x) => !o.includes(x)), ...b.filter((x) => !t.includes(x))]);
  return [...new Set([...o, ...t])].filter((x) => !removed.has(x));
}

/**
 * Returns the merged header text and the fields both sides changed differently (ours is
 * kept for those). Unchanged headers come back byte for byte; a merged one is written over the
 * form of one side (rewriteHeader), so a DEP-3 header stays DEP-3.
 */
export function mergeHeaders(base: string, ours: string, theirs: string): { header: string; clashes: string[] } {
  if (ours === theirs || theirs === base) return { header: ours, clashes: [] };
  if (ours === base) return { header: theirs, clashes: [] };
  const [hb, ho, ht] = [base, ours, theirs].map((h) => parseHeader(dropDiffstat(h)));
  const clashes: string[] = [];
  const field = <K extends "author" | "date" | "subject">(k: K): PatchHeader[K] => {
    const r = scalar(hb[k], ho[k], ht[k]);
    if (r.clash && k !== "date") clashes.push(k);
    return r.value;
  };
  const [sb, so, st] = [hb, ho, ht].map((h) => splitTrailers(h.body));
  const message = scalar(sb.message, so.message, st.message);
  if (message.clash) clashes.push("message");
  const merged: PatchHeader = {
    author: field("author"),
    date: field("date"),
    subject: field("subject"),
    body: [message.value, trailers(sb.trailers, so.trailers, st.trailers).join("\n")].filter(Boolean).join("\n\n"),
  };
  if (ho.hg) merged.hg = ho.hg;
  // Fields pq does not model (a DEP-3 header's Origin:, Forwarded:, Bug-Debian:) and the form of
  // the header come from the side that changed them, or ours; changed on both sides differently,
  // they clash. (A clean three-way merge of the header text, tried first by mergeQueues, keeps both.)
  const [ub, uo, ut] = [base, ours, theirs].map((h) => unmodelledFields(dropDiffstat(h)).join("\n"));
  if (uo !== ub && ut !== ub && uo !== ut) clashes.push("other fields");
  const form = uo === ub && ut !== ub ? theirs : ours;
  return { header: rewriteHeader(dropDiffstat(form), merged), clashes };
}
