/**
 * Taking over a stack quilt has applied: `pq init` in a tree whose `.pc/applied-patches`
 * lists patches. Without this, pq would see the applied patches' changes as edits nobody
 * refreshed and refuse to push them again (pointing at git stash, which would hide them).
 *
 * quilt keeps, for every applied patch, each file as it was before that patch
 * (`.pc/PATCH/FILE`, an empty file standing for one that did not exist). The bottom-most
 * backup of each file is the tree's base; from that base pq pushes the same patches in
 * memory, and takes them over only when the result is exactly the tree on disk: every
 * difference (a patch quilt applied with fuzz that pq applies differently, unrefreshed
 * edits in quilt's top patch, a file changed by hand) is refused with the way out, and
 * nothing is written. Taken over, the tree stays as it is and `.pc/` is removed in the
 * same transaction (quilt's backups would restore files under pq's feet); `pq undo`
 * brings it back.
 */
import { bytesToName } from "../patch/paths.js";
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { QUILT_STATE_DIR } from "../tree/paths.js";
import { PqError } from "../errors.js";
import { shellWord } from "../core/shell-word.js";
import { readText } from "../tree/files.js";
import { differFromHead, type OpContext } from "./ops/context.js";
import { planPush } from "./ops/push.js";
import { entriesAt } from "./git-cli.js";
import { versionsBelowStack } from "./refresh-plan.js";

export interface QuiltStack {
  /** The patches quilt has applied, bottom first. */
  applied: string[];
  /** quilt's patches directory, absolute. */
  patchesDir: string;
}

export { QUILT_STATE_DIR };
const PC = QUILT_STATE_DIR;

/**
 * The way out for a tree committed with quilt's patches applied, which pq took over: back to
 * quilt, its patches popped, and a commit of the tree without quilt's state directory, tracked
 * or not (`git rm --cached`: a `git reset` left a committed .pc/ in HEAD, t38 F9).
 */
export const BACK_THROUGH_QUILT = `pq undo (quilt's state comes back), quilt pop -a, commit the tree quilt leaves without quilt's ${QUILT_STATE_DIR}/ (git add -A; git rm -r -q --cached --ignore-unmatch ${QUILT_STATE_DIR}; git commit), then pq push -a`;

/** The applied stack quilt left in `tree`, or null when quilt has nothing applied there. */
export function quiltAppliedStack(tree: string): QuiltStack | null {
  // UTF-8 names, as the series' (t23 F5: read as latin1, a name beyond ASCII matched no series line).
  const applied = bytesToName(readText(join(tree, PC, "applied-patches")) ?? "")
    .split("\n")
    .filter((l) => l.trim() !== "");
  if (!applied.length) return null;
  return { applied, patchesDir: resolve(tree, quiltRecordedPatches(tree) ?? "patches") };
}

/**
 * The patches directory quilt recorded in its state directory (`.pc/.quilt_patches`), which
 * quilt itself uses whenever QUILT_PATCHES is not set: a Debian packager's quiltrc sets
 * debian/patches for quilt's commands only, and this record is where the tree says so.
 */
export function quiltRecordedPatches(tree: string): string | null {
  try {
    return readText(join(tree, PC, ".quilt_patches"))?.trim() || null;
  } catch {
    return null; // a directory in its place: no record
  }
}

/**
 * A push refused over "unrefreshed changes" in a stack made before quilt pushed patches of
 * its own: the changes are quilt's, which git stash (the usual way out) would hide.
 */
export function withQuiltHint(tree: string, e: unknown): unknown {
  if (!(e instanceof PqError) || e.code !== "dirty") return e;
  const quilt = quiltAppliedStack(tree);
  if (!quilt) return e;
  return new PqError(
    e.code,
    e.message,
    [`quilt has ${quilt.applied.length} patch(es) applied here (${PC}/applied-patches): these may be their changes; quilt pop -a first`, ...e.details],
    e.data,
  );
}

/** Refusals before anything is planned: the queue pq uses must be quilt's, and quilt's series the one pq reads. */
export function checkQuiltQueue(tree: string, quilt: QuiltStack, queueDir: string): void {
  const n = quilt.applied.length;
  const rel = relative(tree, quilt.patchesDir) || ".";
  if (resolve(queueDir) !== quilt.patchesDir) {
    throw new PqError("refused", `quilt has ${n} patch(es) applied here from ${rel}/, not from the queue ${queueDir}`, [
      `pq init --queue ${rel} takes quilt's applied patches over, or quilt pop -a first`,
    ]);
  }
  const seriesName = (readText(join(tree, PC, ".quilt_series")) ?? "series").trim() || "series";
  if (seriesName !== "series") {
    throw new PqError("unsupported", `quilt's series file here is ${seriesName}; pq reads a queue's series from the file named series`, [
      "quilt pop -a, then rename it to series (QUILT_SERIES), then pq init",
    ]);
  }
}

/** Every file under `root` (not following symlinks), as paths relative to it. */
function filesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, d.name);
      if (d.isDirectory()) walk(path);
      else out.push(relative(root, path));
    }
  };
  walk(root);
  return out;
}

/** Every backup file quilt saved for `patch`, as tree-relative paths. */
function backupsOf(tree: string, patch: string): string[] {
  try {
    return filesUnder(join(tree, PC, patch)).filter((p) => p !== ".timestamp");
  } catch (e) {
    throw new PqError("refused", `quilt's backups of ${patch} (${PC}/${patch}/) cannot be read: ${(e as Error).message}`, [
      "quilt pop -a (with quilt's own backups), then pq init",
    ]);
  }
}

export interface QuiltTakeover {
  /** The patches taken over as applied. */
  taken: string[];
  /** Files whose version at HEAD is not the one below the patches: HEAD already holds their changes. */
  inHead: string[];
  /** .rej files beside the top patch's files: hunks a forced quilt push left out, which a quilt refresh since then dropped from the patch. */
  rejects: string[];
}

/**
 * Plans the takeover: the base from quilt's backups, the applied patches pushed on it, a
 * check that this reproduces the tree, and the removal of .pc/.
 */
export async function planQuiltTakeover(ctx: OpContext, quilt: QuiltStack): Promise<QuiltTakeover> {
  const { tx } = ctx;
  const series = tx.series().names();
  const way = "quilt pop -a (quilt refresh first, if its top patch has changes to keep), then pq push to apply them with pq";
  quilt.applied.forEach((name, i) => {
    if (series[i] !== name) {
      throw new PqError("refused", `quilt's applied patches are not the start of the series (${name} is applied, the series has ${series[i] ?? "nothing"} there)`, [way]);
    }
  });
  const top = quilt.applied.at(-1)!;
  // The hunks a forced push (quilt push -f) left out are in .rej files beside the top patch's
  // files: a quilt refresh before they are applied writes the patch without them (t129 N3).
  const rejects = backupsOf(ctx.tree, top)
    .map((path) => `${path}.rej`)
    .filter((rej) => existsSync(join(ctx.tree, rej)))
    .sort();
  if (readText(join(ctx.tree, PC, `${top}~refresh`)) !== null) {
    throw new PqError(
      "needs-refresh",
      `quilt pushed ${top} with rejects, and it needs a quilt refresh`,
      [
        rejects.length
          ? `apply the hunks in ${rejects.join(", ")} by hand and delete ${rejects.length === 1 ? "it" : "them"}, then quilt refresh and pq init (a quilt refresh before that writes ${top} without those hunks); or quilt pop -f to drop the forced push`
          : "quilt refresh (or quilt pop -f) first, then pq init",
      ],
      { patch: top, ...(rejects.length ? { rejects } : {}) },
    );
  }
  // The base: each file as it was before the lowest applied patch that touches it.
  const base = new Map<string, { content: string | null; exec: boolean }>();
  for (const patch of quilt.applied) {
    for (const path of backupsOf(ctx.tree, patch)) {
      if (base.has(path)) continue;
      const file = join(ctx.tree, PC, patch, path);
      const st = lstatSync(file);
      if (!st.isFile()) throw new PqError("unsupported", `quilt's backup ${PC}/${patch}/${path} is not a regular file`, [way]);
      base.set(path, { content: st.size ? readFileSync(file, "latin1") : null, exec: (st.mode & 0o111) !== 0 });
    }
  }
  // An empty backup stands for a file that did not exist, or for an empty one: HEAD tells which.
  const git = await ctx.repo();
  const empty = [...base].filter(([, b]) => b.content === null).map(([p]) => p);
  if (git && empty.length) {
    for (const [path, e] of entriesAt(ctx.tree, git.prefix, "HEAD", empty)) base.set(path, { content: "", exec: e.mode === "100755" });
  }
  for (const [path, b] of base) {
    tx.ws.checkPath(path, "file");
    tx.ws.set(path, b.content, b.exec);
  }
  const { failure } = await planPush(ctx, { target: top });
  if (failure) {
    throw new PqError("refused", `quilt's applied ${failure.data?.patch ?? "patch"} does not apply to the files quilt saved before it: ${failure.message}`, [
      way,
    ]);
  }
  // The applied patches' texts go into pq's store under the hashes the state records: a queue
  // directory git clean removed is then restored with them (pq restore-queue), as with any patch
  // pq pushed after writing it (readme-15 F7).
  for (const name of quilt.applied) ctx.store.put(tx.patchText(name, false));
  // The pushed stack must be the tree as it is.
  const differ: string[] = [];
  for (const [path, version] of tx.ws.plannedWrites()) if (tx.ws.originalVersion(path) !== version) differ.push(path);
  if (differ.length) {
    // The patch each file's edit belongs to: the topmost applied one that changes it (quilt refresh of the top alone did not take an edit in a lower patch's file, and quilt pop -a then refused: t145 N10).
    const owners = [...new Set(differ.map((path) => [...quilt.applied].reverse().find((patch) => backupsOf(ctx.tree, patch).includes(path))).filter((p): p is string => p !== undefined))];
    // A patch file newer than quilt's push (or refresh) of it (.pc/PATCH/.timestamp): a git pull
    // or a copy may have brought a new version while the old one was applied, which a quilt
    // refresh would overwrite (t154 N3: offered first, as if the difference were an edit).
    const replaced = owners.filter((patch) => newerThanQuiltPush(ctx.tree, join(ctx.queueDir, patch), patch));
    if (replaced.length) {
      // A newer file may be a new version, or the same bytes touched (a cp -a, a checkout): the
      // tree may hold real edits. Both readings are said, with what each way loses (t157 N4).
      const names = replaced.map((patch) => shellWord(patch)).join(", ");
      const one = replaced.length === 1;
      throw new PqError(
        "dirty",
        `quilt's applied patches do not make the tree as it is: ${differ.slice(0, 5).join(", ")}${differ.length > 5 ? ", ..." : ""} differ; ${names} ${one ? "was" : "were"} written after quilt applied ${one ? "it" : "them"} (newer than ${PC}/${replaced[0]}/.timestamp: a new version from a git pull or a copy of the queue?), or the tree has edits not refreshed`,
        [
          `if ${names} ${one ? "is a new version" : "are new versions"} to apply: save any edit of yours first (quilt diff -z > mine.diff), then quilt pop -a -f (it puts back the files quilt saved before pushing, dropping the old version's changes and those edits), pq init again and pq push -a`,
          `if the tree's edits are to keep: copy ${names} aside first (quilt refresh writes the tree's version over ${one ? "it" : "them"}), then quilt refresh, quilt pop -a, pq init again and pq push -a`,
        ],
        { files: differ, patches: replaced },
      );
    }
    throw new PqError(
      "dirty",
      `quilt's applied patches do not make the tree as it is: ${differ.slice(0, 5).join(", ")}${differ.length > 5 ? ", ..." : ""} differ (unrefreshed changes in quilt's patches, or applied with fuzz)`,
      [
        // Top down: quilt refreshes a patch only on top (a lower one with files a later patch changes needs -f, which takes those changes in too).
        `to keep the edits in quilt's patches: ${owners
          .sort((a, b) => quilt.applied.indexOf(b) - quilt.applied.indexOf(a))
          .map((patch) => (patch === top ? "quilt refresh" : `quilt pop ${shellWord(patch)}, quilt refresh`))
          .join(", ")}${owners.length ? ", then " : ""}quilt pop -a, then pq init again and pq push -a to apply them with pq`,
        "or, to drop them: quilt pop -a -f, then pq init again",
      ],
      { files: differ },
    );
  }
  // Every file under .pc/ goes, so that quilt no longer thinks it has patches applied.
  for (const path of filesUnder(join(ctx.tree, PC))) tx.ws.set(`${PC}/${path}`, null, false);
  // A tree committed with its patches applied (dgit's way, or a git commit -a after quilt
  // push): HEAD already holds them, and pq pop would leave a revert of HEAD in the tree, so
  // pop refuses. Said now, while pq undo can still give the tree back to quilt.
  const inHead = await differFromHead(ctx, versionsBelowStack(tx.state.applied), { remember: false });
  return { taken: quilt.applied, inHead, rejects };
}

/** Whether a patch file was written after quilt last pushed or refreshed it (its .pc/PATCH/.timestamp); false when either is missing. */
function newerThanQuiltPush(tree: string, patchFile: string, patch: string): boolean {
  const pushed = lstatSync(join(tree, PC, patch, ".timestamp"), { throwIfNoEntry: false });
  const file = lstatSync(patchFile, { throwIfNoEntry: false });
  return pushed !== undefined && file !== undefined && file.mtimeMs > pushed.mtimeMs;
}
