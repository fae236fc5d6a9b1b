import { relative } from "node:path";
import { shellWord } from "../core/shell-word.js";

/**
 * The note before advice that names files from the tree's top, where the user is in a folder
 * below it (else none). Run there, `git diff --cached -- dir/f` wrote an empty file and `git
 * apply` skipped the files outside that folder (t116 N3). The top is named by its absolute
 * path: a shell's cd .. goes up the path it came by, a symlink's too (t119 N5).
 */
export function treeTopNotes(cwd: string, tree: string): string[] {
  const below = cwd !== "" && /^\.\.(\/\.\.)*$/.test(relative(cwd, tree));
  return below ? [`(the commands below name files from the tree's top: cd ${shellWord(tree)} first)`] : [];
}
