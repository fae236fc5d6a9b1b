/** What the queue merge reads from the tree (base files, blobs), for a sync, pq log and pq range-diff. */
import { PqError } from "../errors.js";
import type { GitRepo } from "../git/repo.js";
import { gitBlobId } from "../patch/index.js";
import type { Stack } from "../queue/stack.js";
import { checkTreePath } from "../tree/paths.js";
import type { MergeServices, QueueVersion } from "./types.js";

/** Paths a queue version's patches name (diff headers), to read them from git in one go. */
function pathsIn(versions: QueueVersion[]): string[] {
  const paths = new Set<string>();
  for (const v of versions) {
    for (const text of Object.values(v.patches)) {
      for (const m of text.matchAll(/^(?:diff --git a\/(\S+) b\/(\S+)|[-+]{3} [ab]\/(\S+))$/gm))
        for (const p of m.slice(1)) if (p) paths.add(p);
    }
  }
  return [...paths];
}

export async function mergeServices(stack: Stack, prefetch: QueueVersion[] = []): Promise<MergeServices> {
  const git = await stack.repo();
  if (!git) throw new PqError("no-queue", `${stack.tree} is not a git work tree`);
  const cache = new Map<string, Promise<string | null>>();
  // The files as every checkout has them, not as this one writes them: a merge in a checkout
  // that converts to CRLF regenerated patches in CRLF, which a colleague's LF checkout then had to
  // take with their endings set aside, and a refresh there flipped back (t35 F14). Merged over
  // those, the queue is the same whoever syncs it (see sharedHeadContents).
  // One git process for every file the queues touch, instead of one per file.
  // A path a queue version names is checked before git is asked for it (t60 N11: a pushed ../ path
  // reached git cat-file, and its refusal came out as a git failure, exit 11, not the patch's).
  const prefetched = pathsIn(prefetch);
  for (const p of prefetched) checkTreePath("", p);
  for (const [p, content] of await git.sharedHeadContents(prefetched)) cache.set(p, Promise.resolve(content));
  return {
    baseFile: (p) => {
      checkTreePath("", p);
      if (!cache.has(p))
        cache.set(
          p,
          git.sharedHeadContents([p]).then((m) => m.get(p) ?? null),
        );
      return cache.get(p)!;
    },
    mergeFile: (o, b, t, labels) => git.mergeFile(o, b, t, labels),
    blob: (id) => git.blob(id),
    madeOver: (path, blob, through) => madeOverInHistory(git, path, blob, through),
    guards: stack.selectedGuards(),
  };
}

/**
 * The file a patch's index line names by `blob` (what the patches below it made of the file),
 * from a version HEAD's recent history had: `through` applied to each version of the file in
 * the last commits that changed it (and their parents), newest first; null when none gives it.
 * A patch above others has no blob git knows: its version is found by applying them (t151 N3).
 */
export async function madeOverInHistory(
  git: GitRepo,
  path: string,
  blob: string,
  through: (content: string) => string | null,
): Promise<string | null> {
  const history = await git
    .run(["log", "-n", "30", "--format=%H", "HEAD", "--", `:(top,literal)${path}`])
    .then((out) => out.split("\n").filter(Boolean))
    .catch(() => [] as string[]);
  for (const commit of history) {
    for (const rev of [commit, `${commit}^`]) {
      // The blob as git stores it (the index lines' ids are of those bytes), not as a checkout writes it.
      const id = await git.run(["rev-parse", "--verify", "--quiet", `${rev}:${path}`]).then(
        (out) => out.trim(),
        () => "",
      );
      const content = id ? await git.blob(id) : null;
      const pre = content === null ? null : through(content);
      if (pre !== null && gitBlobId(pre).startsWith(blob)) return pre;
    }
  }
  return null;
}
