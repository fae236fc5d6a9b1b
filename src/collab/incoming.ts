/**
 * The checks a queue version from the remote passes before a sync writes any of it: names
 * this file system can hold, a series pq reads, listed patches present, and no path out of
 * the tree. A damaged version is refused whole, never half applied.
 */
import { PqError } from "../errors.js";
import { parsePatch } from "../patch/index.js";
import { checkTreePath } from "../tree/paths.js";
import { parseSeries } from "./simulate.js";
import type { QueueVersion } from "./types.js";

/** The longest suffix pq puts after a queue file's name while it writes it (a hold's `.held.tmp-PID`, pids up to 7 digits). */
const WRITE_SUFFIX_BYTES = ".held.tmp-4194304".length;

/**
 * A name pq takes (up to 1024 bytes) can still be too long where this queue lives: the queue
 * directory's path, the name and pq's temporary suffix make one path, which the system stops at
 * 4096 bytes. Found only when the write failed, half way through the sync, every sync after it
 * met the same failure (t64 N12): refused before anything is written.
 */
function refuseNamesTooLongHere(v: QueueVersion, known: QueueVersion, where: string, queueDir: string): void {
  const room = 4095 - Buffer.byteLength(queueDir, "utf8") - 1 - WRITE_SUFFIX_BYTES;
  const long = Object.keys(v.patches).filter((name) => !(name in known.patches) && Buffer.byteLength(name, "utf8") > room);
  if (!long.length) return;
  const shown = long[0].length > 60 ? `${long[0].slice(0, 60)}...` : long[0];
  throw new PqError(
    "unsafe-path",
    `${where} queue has ${long.length === 1 ? "a file whose name is" : `${long.length} files whose names are`} too long for where this queue lives (${shown}: ${Buffer.byteLength(long[0], "utf8")} bytes, and the queue directory's path takes ${Buffer.byteLength(queueDir, "utf8")} of the system's 4096)`,
    [
      "nothing was changed; ask whoever pushed it to give it a shorter name (git mv in the queue's repository), or keep this tree at a shorter path, then pq sync",
    ],
    { files: long },
  );
}

/** Refuses a patch's path out of the tree as a push refuses it (absolute, '..', .git, .pq). */
function refuseUnsafePaths(files: { oldPath: string | null; newPath: string | null }[], reserved: readonly string[]): void {
  for (const fp of files) for (const path of [fp.oldPath, fp.newPath]) if (path) checkTreePath("", path, "path", reserved);
}

/**
 * Refuse a pulled queue version that is damaged (a series pq cannot read, a listed patch
 * that is missing or cannot be parsed) before anything is written: named, never half-applied.
 */
export function validateIncoming(
  v: QueueVersion,
  known: QueueVersion,
  where: string,
  queueDir?: string,
  /**
   * The queue's own directory in the tree (relative), where no patch may write: a patch that
   * adds a file there passed the gate and stopped every colleague's restack half way (t156 N3).
   */
  reserved: readonly string[] = [],
): void {
  if (queueDir !== undefined) refuseNamesTooLongHere(v, known, where, queueDir);
  // A name git holds as bytes that are not UTF-8 reads back with U+FFFD in it: written out and
  // committed under that name, the file would be renamed for everyone (collab-17 F15b).
  const mangled = Object.keys(v.patches).filter((name) => name.includes("\ufffd") && !(name in known.patches));
  if (mangled.length) {
    throw new PqError(
      "unsafe-path",
      `${where} queue has ${mangled.length === 1 ? "a file whose name is" : "files whose names are"} not UTF-8 (${mangled.slice(0, 3).join(", ")}): pq keeps UTF-8 names only, and would rename ${mangled.length === 1 ? "it" : "them"} for everyone`,
      [
        "nothing was changed; ask whoever pushed it to rename it to a UTF-8 name (git mv in the queue's repository; git log --stat there says who added it), then pq sync",
      ],
      { files: mangled },
    );
  }
  // A series that is a directory (or under one): its files came in as patches, and the sync
  // stopped half way writing them (collab-8 C15).
  const inSeries = Object.keys(v.patches).filter((name) => name.startsWith("series/"));
  if (inSeries.length) {
    throw new PqError("bad-patch", `${where} queue has a directory named series (${inSeries[0]}), where its series file belongs`, [
      "nothing was changed; ask whoever pushed it to restore the series file",
    ]);
  }
  const entries = parseSeries(v.series, where);
  // A patch file the series does not list is merged as a file too, and a merge reads the files
  // its diff names: one naming a path out of the tree is refused as a listed one is (verify-11 Z1).
  // One that does not parse as a patch is some other file of the queue's (notes): left alone.
  const listed = new Set(entries.map((e) => e.name));
  for (const [name, text] of Object.entries(v.patches)) {
    if (listed.has(name) || known.patches[name] === text) continue;
    let files;
    try {
      files = parsePatch(text).files;
    } catch {
      continue;
    }
    try {
      refuseUnsafePaths(files, reserved);
    } catch (err) {
      if (err instanceof PqError)
        throw new PqError("bad-patch", `${name} (${where} version, not in its series): ${err.message}`, [
          "ask whoever pushed it to fix it",
        ]);
      throw err;
    }
  }
  for (const e of entries) {
    const text = v.patches[e.name];
    if (text === undefined)
      throw new PqError("bad-patch", `${where} series lists ${e.name}, but its file is missing`, ["ask whoever pushed it to restore it"]);
    if (known.patches[e.name] === text) continue;
    try {
      // Read as the series says (quilt's -pN): a -p0 patch has no a/ b/ to strip.
      // Its paths are checked as a push checks them: a merge would read a file out of the tree by
      // such a path and stop on git's own error (collab-8 C4).
      refuseUnsafePaths(parsePatch(text, { strip: e.strip ?? 1 }).files, reserved);
    } catch (err) {
      if (err instanceof PqError)
        throw new PqError("bad-patch", `${e.name} (${where} version): ${err.message}`, [
          ...err.details,
          /nothing was changed/.test(err.message)
            ? "ask whoever pushed it to fix it"
            : "nothing was changed; ask whoever pushed it to fix it",
        ]);
      throw err;
    }
  }
}
