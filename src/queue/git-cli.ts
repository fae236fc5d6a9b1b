/**
 * git run directly, for what simple-git hides or decodes: exit statuses, and output kept
 * as latin1 bytes (patch text) rather than decoded.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { gitFailed, PqError } from "../errors.js";

/** git with output kept as latin1 bytes (patch text) or UTF-8 (people's names and messages). */
export function gitOut(cwd: string, args: string[], encoding: "latin1" | "utf8" = "utf8"): string {
  try {
    return execFileSync("git", args, { cwd, encoding, maxBuffer: 1 << 30, stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw gitFailed(`git ${args[0]}`, String(err.stderr || err.message).trim());
  }
}

/** git diff --cached --quiet: exit status 1 means staged changes (simple-git's raw() hides it). */
export function stagedChanges(tree: string): boolean {
  return spawnSync("git", ["diff", "--cached", "--quiet"], { cwd: tree }).status !== 0;
}

