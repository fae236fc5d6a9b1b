import { relative } from "node:path";
import { shellWord } from "../core/shell-word.js";

/**
 * The way up from the user's directory to the tree's top ("../.."), or "" where they are at
 * the top or outside the tree. Advice names files from the top (t116 N3): run in a folder
 * below it, `git diff --cached -- dir/f` wrote an empty file and `git apply` skipped the
 * files outside that folder, so the CLI says to go up first.
 */
export function climbToTree(cwd: string, tree: string): string {
  if (!cwd) return "";
  const up = relative(cwd, tree);
  return /^\.\.(\/\.\.)*$/.test(up) ? up : "";
}

/** Named by its absolute path: a shell's cd .. goes up the path it came by, a symlink's too (t119 N5). */
export function treeTopNote(tree: string): string {
  return `(the commands below name files from the tree's top: cd ${shellWord(tree)} first)`;
}
