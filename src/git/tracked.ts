/**
 * Whether a repository versions a queue (its series file is tracked: a shared queue, or one
 * committed with the tree): its patches travel to other checkouts, so a refresh writes them as
 * git has the files and leaves a form the repository keeps (see refresh's keepsItsLineEndings).
 */
import { childProcess } from "../core/child-process.js";

export function queueVersioned(queueDir: string): boolean {
  const r = childProcess().spawnSync("git", ["ls-files", "--error-unmatch", "--", ":(literal)series"], { cwd: queueDir, stdio: "ignore" });
  return r.status === 0;
}
