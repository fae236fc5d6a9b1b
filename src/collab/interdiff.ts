/**
 * Interdiff: the change of a change. For two versions of a patch, the files it touches
 * are rebuilt before and after it in memory (each version in its own queue version over
 * the base tree); the old version's change is carried onto the new version's pre-image
 * with a three-way merge, and what remains between that and the new post-image is what
 * the new version changed about the patch. Headers are compared line by line.
 */
import { createFilePatch, diffHunks, formatHunk } from "../patch/index.js";
import { dropDiffstat, headerOf } from "../queue/patch-text.js";
import type { Files, TreeSim } from "./simulate.js";
import type { MergeServices } from "./types.js";

export interface PatchImages {
  header: string;
  pre: Files;
  post: Files;
}

/** A patch's files before and after it in a simulated queue (null when it did not apply there). */
export async function imagesIn(sim: TreeSim, name: string, text: string, extraPaths: Iterable<string> = []): Promise<PatchImages | null> {
  const run = sim.runs.get(name);
  if (!run || !run.ok) return null;
  const pre: Files = new Map(run.pre);
  const post: Files = new Map(run.post);
  for (const p of extraPaths) {
    if (!pre.has(p)) {
      const v = await sim.before(run.index, p);
      pre.set(p, v);
      post.set(p, v);
    }
  }
  return { header: dropDiffstat(headerOf(text)), pre, post };
}

export async function interdiff(a: PatchImages, b: PatchImages, svc: Pick<MergeServices, "mergeFile">): Promise<string> {
  const out: string[] = [];
  if (a.header !== b.header) {
    out.push("header:\n");
    for (const h of diffHunks(a.header, b.header, 1)) out.push(formatHunk(h));
  }
  const paths = [...new Set([...a.pre.keys(), ...a.post.keys(), ...b.pre.keys(), ...b.post.keys()])].sort();
  for (const p of paths) {
    const preA = a.pre.get(p) ?? null;
    const postA = a.post.has(p) ? a.post.get(p)! : preA;
    const preB = b.pre.has(p) ? b.pre.get(p)! : preA;
    const postB = b.post.has(p) ? b.post.get(p)! : preB;
    // The old change as it would look on the new pre-image.
    let carried: string | null;
    if (preA === preB) carried = postA;
    else if (postA === preA) carried = preB;
    else if (preA === null || postA === null || preB === null) carried = postA;
    else carried = (await svc.mergeFile(preB, preA, postA, ["new-base", "old-base", "old-patch"])).content;
    if (carried === postB) continue;
    out.push(createFilePatch({ oldPath: carried === null ? null : p, newPath: postB === null ? null : p, oldContent: carried, newContent: postB }));
  }
  return out.join("");
}
