/**
 * Versions pq's object store lost (a damaged .pq/objects), made again from what cannot be lost:
 * git's HEAD and the patch files. Pop rebuilds a version from above, reverse-applying the
 * popped patches to the file on disk; that needs the file as the patches left it, so a file
 * with unrefreshed edits cannot be rebuilt so. A refresh needs such a file's version below the
 * top (what to diff the edits against): it is rebuilt here from below, forward (t42 N8: refresh
 * and pop -a sent the user to each other).
 */
import type { GitRepo } from "../git/repo.js";
import { applyFilePatch, parsePatch } from "../patch/index.js";
import { readQueueText } from "./names.js";
import type { ObjectStore } from "../tree/objects.js";
import { versionId, type AppliedPatch, type Version } from "./state.js";

/**
 * Stores `wanted`, a version of `path` that `applied` (the patches up to it) led to, again:
 * from the newest version below it that the store still reads, or from the file at git's HEAD
 * below the whole stack, applying each patch's change to the path at fuzz 0. Each step is
 * checked against the version the patch recorded, so nothing but the exact bytes is stored.
 * Returns false when it cannot be made (a patch changed since it was pushed, a renamed file):
 * the caller's read then refuses as before.
 */
export async function restoreLostVersion(
  ctx: { store: ObjectStore; queueDir: string; git: GitRepo | null },
  applied: readonly AppliedPatch[],
  path: string,
  wanted: Version,
): Promise<boolean> {
  const wantedId = versionId(wanted);
  if (wantedId === null) return true;
  const chain = applied.filter((record) => record.files[path] !== undefined);
  // Where to start: the newest version in the chain the store still has, else below the stack.
  let from = 0;
  for (let i = chain.length - 1; i >= 0; i--) {
    const id = versionId(chain[i].files[path].post);
    if (id !== null && ctx.store.verify(id)) {
      from = i + 1;
      break;
    }
  }
  let content: string | null;
  const startId = from > 0 ? versionId(chain[from - 1].files[path].post) : versionId(chain[0]?.files[path].pre ?? wanted);
  if (from > 0) content = ctx.store.get(startId!);
  else if (startId === null) content = null;
  else if (ctx.store.verify(startId)) content = ctx.store.get(startId);
  else {
    content = ctx.git ? await ctx.git.headContent(path) : null;
    if (content === null || ctx.store.put(content) !== startId) return false;
  }
  if (startId === wantedId) return true;
  for (const record of chain.slice(from)) {
    const text = readQueueText(ctx.queueDir, record.name);
    if (text === null) return false;
    let change;
    try {
      // The file's own change: kept at its path, made there or deleted (a rename is not rebuilt).
      change = parsePatch(text).files.find((f) => (f.oldPath ?? path) === path && (f.newPath ?? path) === path);
    } catch {
      return false;
    }
    if (!change) return false;
    const result = applyFilePatch(content, change, { fuzz: 0 });
    if (!result.ok) return false;
    content = result.content;
    const post = versionId(record.files[path].post);
    if (content === null ? post !== null : ctx.store.put(content) !== post) return false;
    if (post === wantedId) return true;
  }
  return false;
}
