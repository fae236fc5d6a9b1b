/**
 * Turns a patch's file changes (pre/post versions) into diff text, in a stable order
 * (paths sorted), keeping renames as renames and executable bits as modes.
 */
import { createFilePatch, isBinaryContent, moveSimilarity, parsePatch } from "../patch/index.js";
import { versionExec, type Version } from "./state.js";

const mode = (v: Version): string => (versionExec(v) ? "100755" : "100644");

export function buildPatchDiff(
  files: Record<string, { pre: Version; post: Version }>,
  renames: [string, string][],
  content: (v: Version, path: string) => string | null,
  /** Whether the patch already carries a path's change as text hunks: kept so when its content has a NUL (see textHunkPaths). */
  asText: (path: string) => boolean = () => false,
): string {
  const parts: string[] = [];
  const done = new Set<string>();
  // Asked only of a binary file: the patch text is parsed for it then, not for every refresh.
  const keptAsText = (oldContent: string | null, newContent: string | null, path: string) =>
    (isBinaryContent(oldContent) || isBinaryContent(newContent)) && asText(path);
  for (const [from, to] of composeMoves(renames, files)) {
    const src = files[from];
    const dst = files[to];
    // Still a rename only if the source was there and is gone, and the target is new and there
    // (t52 N13: a fold of a move of a file the patch itself creates wrote a rename from nothing).
    if (!src || !dst || src.pre === null || src.post !== null || dst.pre !== null || dst.post === null) continue;
    // Less than half alike is no move, as git writes it (t53 N3: a fold wrote a 0% rename onto a reused name).
    const [oldContent, newContent] = [content(src.pre, from), content(dst.post, to)];
    if (moveSimilarity(oldContent, newContent) < 0.5) continue;
    parts.push(
      createFilePatch({
        oldPath: from,
        newPath: to,
        oldContent,
        newContent,
        oldMode: mode(src.pre),
        newMode: mode(dst.post),
        asText: keptAsText(oldContent, newContent, to),
      }),
    );
    done.add(from).add(to);
  }
  for (const path of Object.keys(files).sort()) {
    if (done.has(path)) continue;
    const { pre, post } = files[path];
    if (pre === post) continue;
    const [oldContent, newContent] = [content(pre, path), content(post, path)];
    parts.push(
      createFilePatch({
        oldPath: pre === null ? null : path,
        newPath: post === null ? null : path,
        oldContent,
        newContent,
        oldMode: pre === null ? undefined : mode(pre),
        newMode: post === null ? undefined : mode(post),
        asText: keptAsText(oldContent, newContent, path),
      }),
    );
  }
  return parts.join("");
}

/**
 * Moves made one after the other (a to f, then f to g: two patches folded into one, or a file
 * moved twice) as the one move they make together, a to g, when the name between is neither
 * there before nor after.
 */
function composeMoves(renames: [string, string][], files: Record<string, { pre: Version; post: Version }>): [string, string][] {
  const next = new Map(renames);
  const between = (name: string) => files[name] !== undefined && files[name].pre === null && files[name].post === null;
  const out: [string, string][] = [];
  for (const [from, to] of renames) {
    if (between(from)) continue; // the middle of a chain: taken with its start
    let end = to;
    for (let hops = 0; between(end) && next.has(end) && hops < 100; hops++) end = next.get(end)!;
    out.push([from, end]);
  }
  return out;
}

/**
 * The paths patch texts carry as text hunks (a Debian or quilt patch adding or changing a file
 * with NUL bytes, made with `diff -a`), which GNU patch applies: a refresh keeps them so, where
 * git would call the content binary. Written as a git binary patch, quilt and dpkg-source could
 * no longer apply the queue (t55 N1); a hunk that does not show the NUL counts too (t57 N6).
 * Parsed when first asked, which buildPatchDiff does for a binary file only. `texts`: the
 * patch's own text, and those folded into it.
 */
export function textHunkPaths(...texts: (() => string | null)[]): (path: string) => boolean {
  let paths: Set<string> | null = null;
  return (path) => {
    if (paths === null) {
      paths = new Set();
      for (const textOf of texts) {
        const text = textOf();
        try {
          for (const f of text === null ? [] : parsePatch(text).files)
            if (!f.binary && f.hunks.length) for (const name of [f.oldPath, f.newPath]) if (name !== null) paths.add(name);
        } catch {
          /* a patch that does not parse keeps nothing: git's forms, as before */
        }
      }
    }
    return paths.has(path);
  };
}
