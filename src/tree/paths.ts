/**
 * Every path a patch names is checked here before anything is written: a patch must not
 * reach outside the tree (`..`, absolute paths, a symlinked directory) nor into the
 * repository's or pq's own bookkeeping.
 */
import { lstatSync } from "node:fs";
import { join, posix } from "node:path";
import { PqError } from "../errors.js";

const RESERVED_TOP = new Set([".git", ".pq"]);

export function checkTreePath(tree: string, path: string, what = "path"): string {
  const refuse = (why: string): never => {
    throw new PqError("unsafe-path", `${what} ${JSON.stringify(path)} ${why}; nothing was changed`, [
      "pq only writes inside the working tree; fix the patch's file names",
    ]);
  };
  if (!path || path.includes("\0")) refuse("is empty or contains NUL");
  if (path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path)) refuse("is absolute");
  if (path.includes("\\")) refuse("contains a backslash");
  const normal = posix.normalize(path);
  if (normal !== path.replace(/\/+/g, "/").replace(/^\.\//, "")) refuse("is not a normal path (contains . or ..)");
  const parts = normal.split("/");
  if (parts.some((p) => p === ".." || p === ".")) refuse("leaves the tree");
  if (RESERVED_TOP.has(parts[0])) refuse(`is inside ${parts[0]}/`);
  // Any existing ancestor that is a symlink could point anywhere: refuse to write through it.
  let at = tree;
  for (let i = 0; i < parts.length; i++) {
    at = join(at, parts[i]);
    let st;
    try {
      st = lstatSync(at);
    } catch {
      break; // does not exist yet: nothing below it exists either
    }
    if (st.isSymbolicLink()) refuse(i === parts.length - 1 ? "is a symlink" : `goes through the symlink ${parts.slice(0, i + 1).join("/")}`);
  }
  return normal;
}
