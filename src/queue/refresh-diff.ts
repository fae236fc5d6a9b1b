/**
 * Turns a patch's file changes (pre/post versions) into diff text, in a stable order
 * (paths sorted), keeping renames as renames and executable bits as modes.
 */
import { createFilePatch } from "../patch/index.js";
import { versionExec, type Version } from "./state.js";

const mode = (v: Version): string => (versionExec(v) ? "100755" : "100644");

export function buildPatchDiff(
  files: Record<string, { pre: Version; post: Version }>,
  renames: [string, string][],
  content: (v: Version, path: string) => string | null,
): string {
  const parts: string[] = [];
  const done = new Set<string>();
  for (const [from, to] of renames) {
    const src = files[from];
    const dst = files[to];
    // Still a rename only if the source is gone and the target exists.
    if (!src || !dst || src.post !== null || dst.post === null) continue;
    parts.push(
      createFilePatch({ oldPath: from, newPath: to, oldContent: content(src.pre, from), newContent: content(dst.post, to), oldMode: mode(src.pre), newMode: mode(dst.post) }),
    );
    done.add(from).add(to);
  }
  for (const path of Object.keys(files).sort()) {
    if (done.has(path)) continue;
    const { pre, post } = files[path];
    if (pre === post) continue;
    parts.push(
      createFilePatch({
        oldPath: pre === null ? null : path,
        newPath: post === null ? null : path,
        oldContent: content(pre, path),
        newContent: content(post, path),
        oldMode: pre === null ? undefined : mode(pre),
        newMode: post === null ? undefined : mode(post),
      }),
    );
  }
  return parts.join("");
}
