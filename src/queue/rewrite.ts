/**
 * Re-making an applied patch's text inside a transaction from the exact file versions it
 * produced: what a refresh writes, for a patch that is not the top one (a push run that
 * applied it with offsets leaves the tree exactly as a refresh would want it).
 */
import { sha1 } from "../tree/files.js";
import { versionContent, type OpContext } from "./ops/context.js";
import { dropCommitter, dropDiffstat, headerOf, joinHeaderAndDiff } from "./patch-text.js";
import { buildPatchDiff, textHunkPaths } from "./refresh-diff.js";

/** An applied patch's text re-made from the file versions it produced: its diff against today's context. */
export function rewriteFromRecord(ctx: OpContext, name: string): void {
  const record = ctx.tx.state.applied.find((a) => a.name === name)!;
  const before = ctx.tx.patchText(name);
  const diff = buildPatchDiff(record.files, record.renames ?? [], (v) => versionContent(ctx, v), textHunkPaths(() => before));
  const text = joinHeaderAndDiff(dropCommitter(dropDiffstat(headerOf(before))), diff);
  ctx.tx.writePatch(name, text);
  record.hash = sha1(text);
  ctx.tx.recordsEdited();
  // Made from the versions it produced: its file applies as it is now (verify-8 W3).
  delete record.inexact;
  // Written with a/ b/ prefixes: a quilt -pN entry becomes the default, as a refresh makes it (stack-6 #7).
  const series = ctx.tx.series();
  if (series.has(name) && series.stripOf(name) !== 1) {
    series.setStrip(name, 1);
    ctx.tx.setSeries(series);
  }
}
