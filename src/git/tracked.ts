/**
 * Whether git tracks a file: a patch of a versioned queue (shared, or committed with the tree)
 * has a form its repository keeps, which a refresh that takes nothing does not rewrite.
 */
import { childProcess } from "../core/child-process.js";
import { basename, dirname } from "node:path";

export function trackedByGit(path: string): boolean {
  const r = childProcess().spawnSync("git", ["ls-files", "--error-unmatch", "--", `:(literal)${basename(path)}`], {
    cwd: dirname(path),
    stdio: "ignore",
  });
  return r.status === 0;
}
