/**
 * Patch names. A name is a path relative to the queue directory and may have directories
 * (`bugfix/x86/foo.patch`, as Debian's and the kernel's quilt series use), but it must
 * always stay inside the queue directory and out of the queue's own files: every name that
 * reaches the file system (from the command line, an import or a series file pulled from
 * someone else) goes through validatePatchName first.
 */
import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, rmdirSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, normalize, relative } from "node:path";
import { PqError } from "../errors.js";
import { firstSymlink, isGitDirAlias, leadsOutside } from "../tree/paths.js";
import { readText, sha1 } from "../tree/files.js";

/** Files of the queue directory itself; a patch may not take their names. */
const RESERVED = new Set(["series", "status", "guards"]);

/**
 * Names every rule below accepts, except the reserved first components: ASCII components of
 * 1-200 characters, none starting with '.', no spaces, '#', backslashes, colons or NUL. Almost
 * every real name is one, and a series of a thousand is checked at every command.
 */
const PLAIN_NAME = /^[\w+=,@%~-][\w+=,@%~.-]{0,199}(?:\/[\w+=,@%~-][\w+=,@%~.-]{0,199})*$/;

/** A name whose directory part is a file of the queue (a patch called x, for x/y) cannot be made. */
export function refuseNameUnderFile(queueDir: string, name: string): void {
  const parts = name.split("/");
  for (let i = 1; i < parts.length; i++) {
    const prefix = parts.slice(0, i).join("/");
    const st = statSync(join(queueDir, prefix), { throwIfNoEntry: false });
    if (st && !st.isDirectory()) {
      throw new PqError("exists", `${prefix} is a file in the queue (a patch), so ${name} cannot be made under it`, ["pick another name"], {
        patch: name,
      });
    }
  }
}

/** A name in a message: JSON's quoting, and DEL and the C1 controls escaped too (JSON leaves them raw for the terminal). */
export function quotedName(name: string): string {
  return JSON.stringify(name).replace(/[\x7f-\x9f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A name every rule accepts at a glance (most real names): validatePatchName would return at once. */
export function isPlainName(name: string): boolean {
  return name.length <= MAX_NAME_BYTES && PLAIN_NAME.test(name) && !RESERVED.has(name.split("/", 1)[0]) && !TEMPORARY.test(name) && !GIT_SHORT_NAME.test(name);
}

/**
 * The longest patch name, in bytes: paths stop at 4096 bytes (PATH_MAX), the queue directory's
 * own path and pq's temporary suffixes included. A longer name pushed with plain git was found
 * only when the checkout failed, half way through a sync (t60 N12).
 */
const MAX_NAME_BYTES = 1024;

export function validatePatchName(name: string, where = ""): void {
  if (isPlainName(name)) return;
  const unsafe = (why: string): never => {
    throw new PqError("unsafe-path", `${where}patch name ${quotedName(name)} ${why}`, [
      "a patch name is a path inside the queue directory: no absolute paths, '..', backslashes or NUL",
    ]);
  };
  const invalid = (why: string): never => {
    throw new PqError("usage", `${where}invalid patch name ${quotedName(name)}: ${why}`, [
      "a patch name is a relative path like fix-foo.patch or bugfix/x86/foo.patch: no spaces or '#', " +
        "no component starting with '.', not 'series'/'status'/'guards'",
    ]);
  };
  if (!name) invalid("it is empty");
  // Bytes that are not UTF-8 arrive as U+FFFD (the shell passed them, Node decoded them): the
  // series is UTF-8 text, so such a name could not be written back as it was typed.
  if (name.includes("\ufffd")) invalid("it is not valid UTF-8 (or holds U+FFFD)");
  if (name.includes("\0")) unsafe("contains NUL");
  // A drive path (C:/...) is absolute too; a name with a colon elsewhere (x:y.patch) is a name (verify-11 Z9).
  if (name.startsWith("/") || /^[A-Za-z]:\//.test(name)) unsafe("is absolute");
  if (name.includes("\\")) unsafe("contains a backslash");
  const parts = name.split("/");
  if (parts.includes("..")) unsafe("contains a '..' component");
  if (parts.some((p) => p === "")) invalid("it has an empty component ('//' or a trailing '/')");
  if (parts.some((p) => p.startsWith("."))) invalid("a component starts with '.'");
  // An escape sequence in a name would be sent to every terminal that lists it (tui-8 T11); a line break is one too.
  if (/[\x00-\x1f\x7f-\x9f]/.test(name)) invalid("it contains a control character (a line break, a tab, an escape)");
  if (/[\s#]/.test(name)) invalid("it contains a space or '#'");
  if (INVISIBLE.test(name)) invalid("it contains an invisible or direction-changing character (a zero-width space or joiner, a bidi override), which makes it look like another name");
  // A component a file system takes for .git (HFS+ drops those code points, NTFS knows GIT~1), as git's own paths refuse it.
  if (parts.some(isGitDirAlias)) unsafe("has a component that Windows or macOS file systems read as .git");
  if (parts.some((p) => Buffer.byteLength(p, "utf8") > 200)) invalid("a component is longer than 200 bytes (file systems stop at 255)");
  if (Buffer.byteLength(name, "utf8") > MAX_NAME_BYTES) invalid(`it is longer than ${MAX_NAME_BYTES} bytes (paths stop at 4096)`);
  if (RESERVED.has(parts[0])) invalid(`'${parts[0]}' is one of the queue's own files${parts.length > 1 ? ", not a directory" : ""}`);
  // pq's temporary files beside a queue file (writeAtomic's NAME.tmp-PID, a hold's NAME.held.tmp-PID):
  // a patch so named would be taken for a killed pq's leftover and removed (verify-7 V7).
  if (TEMPORARY.test(name)) invalid("it ends like pq's temporary files (.tmp- and digits)");
}

const TEMPORARY = /\.tmp-\d+$/;
/** NTFS's short name of .git as a component: git refuses such paths (core.protectNTFS), and so does pq (t145 N17). */
const GIT_SHORT_NAME = /(^|\/)git~1(\/|$)/i;
/** Code points no one sees: zero-width joiners and marks, direction overrides, the byte-order mark (t145 N15: look-alike names). */
const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]/;

/**
 * A name is checked as text by validatePatchName; on disk, a directory of it that is a
 * symlink could lead anywhere (`patches/link -> /tmp`): refuse to write or remove through one.
 */
export function checkNameOnDisk(queueDir: string, name: string): void {
  const parts = name.split("/");
  // The directories only: the patch file itself is replaced, not written through.
  const link = firstSymlink(queueDir, parts.slice(0, -1));
  if (link !== null) {
    throw new PqError("unsafe-path", `patch name ${quotedName(name)} goes through the symlink ${parts.slice(0, link).join("/")} in the queue directory`, [
      "pq writes patch files only inside the queue directory; replace the symlink with a real directory",
    ]);
  }
}

/**
 * A queue file's text (a patch, the series), read only where it stays inside the queue
 * directory: a patch committed as a symbolic link to ~/.ssh/id_ed25519 (or under a linked
 * directory) was read through by push, show and export, and a refresh then committed the key's
 * bytes as the patch's message for the next sync to push (t60 N5). A link to a file inside the
 * queue (dpkg-source's debian.series, a patch kept under two names) is read as before, and so is
 * any link in a queue directory that is in no git work tree (nobody else's commit made it).
 * Null when there is no file.
 */
export function readQueueText(queueDir: string, name: string): string | null {
  const path = join(queueDir, name);
  // Opened without following a link as the last part (ELOOP then): no lstat of every patch a push reads.
  if (!(name.includes("/") && firstSymlink(queueDir, name.split("/").slice(0, -1)) !== null)) {
    let fd: number | null = null;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return null;
      if (code !== "ELOOP") throw e;
    }
    if (fd !== null) {
      try {
        return readFileSync(fd, "latin1");
      } finally {
        closeSync(fd);
      }
    }
  }
  // A link, as the last part or a directory of the name.
  let real: string | null = null;
  try {
    real = realpathSync(path);
  } catch {
    /* a dangling link: no file */
  }
  if (real === null) return null;
  const inside = relative(realpathSync(queueDir), real);
  // A link of your own in a queue no git carries (a patch kept in one place for several queues) is yours to follow.
  if ((inside === "" || leadsOutside(inside)) && inGitWorkTree(queueDir))
    throw new PqError("unsafe-path", `${quotedName(name)} in the queue is a symbolic link to ${real}, outside the queue directory: pq reads no patch through it`, [
        "nothing was changed; whoever committed it as a link can say why (git log of the queue's repository)",
        `replace it with the patch itself (rm the link, put the file there), or take it out of the series`,
    ], { patch: name });
  return readText(path);
}

/** Whether `dir` is inside a git work tree (a .git above it): what is in it may have come from anyone's commit. */
function inGitWorkTree(dir: string): boolean {
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, ".git"))) return true;
    if (dirname(at) === at) return false;
  }
}

/**
 * Two names clash on disk when one is a directory of the other (`a` and `a/b.patch`):
 * a file and a directory cannot share a path.
 */
export function clashingName(names: readonly string[], name: string): string | undefined {
  return names.find((n) => n !== name && (n.startsWith(`${name}/`) || name.startsWith(`${n}/`)));
}

/**
 * A name as one file name (trash entries, backup folders, mail files): the directories joined
 * with '_'. One longer than `maxBytes` (a name of two long components, each within pq's limits)
 * keeps its start and extension around a hash of the whole, so that with the time stamp and the
 * suffixes pq adds it stays within a file system's 255 bytes: the trash copy of such a patch
 * failed with ENAMETOOLONG after the journal, and every later command with it (t154 N4).
 */
export function flattenName(name: string, maxBytes = 160): string {
  const flat = name.split("/").join("_");
  if (Buffer.byteLength(flat, "utf8") <= maxBytes) return flat;
  const ext = /\.(patch|diff)$/.exec(flat)?.[0] ?? "";
  const hash = sha1(flat).slice(0, 12);
  const head = Array.from(flat.slice(0, flat.length - ext.length));
  while (head.length && Buffer.byteLength(head.join(""), "utf8") > maxBytes - hash.length - 1 - ext.length) head.pop();
  return `${head.join("")}-${hash}${ext}`;
}

/** Remove the directories a patch file leaves empty, up to (not including) the queue directory. */
export function pruneEmptyDirs(queueDir: string, name: string): void {
  const parts = name.split("/").slice(0, -1);
  while (parts.length) {
    try {
      rmdirSync(join(queueDir, ...parts));
    } catch {
      return; // not empty (or already gone): everything above it stays too
    }
    parts.pop();
  }
}

/** Move a patch file to another name in the queue (directories created and emptied as needed). */
export function movePatchFile(queueDir: string, from: string, to: string): void {
  mkdirSync(dirname(join(queueDir, to)), { recursive: true });
  renameSync(join(queueDir, from), join(queueDir, to));
  pruneEmptyDirs(queueDir, from);
}

/** Move a patch file out of the queue to `dest` (a flat file name), pruning emptied directories. */
export function movePatchOut(queueDir: string, name: string, dest: string): void {
  mkdirSync(dirname(dest), { recursive: true });
  renameSync(join(queueDir, name), dest);
  pruneEmptyDirs(queueDir, name);
}

/**
 * Find a patch by what a user typed: the exact name, a 1-based position, the name without
 * .patch/.diff, a unique prefix (not for `whole`), or (for names with directories) a unique
 * last component, with or without its extension.
 */
export function resolveName(
  names: readonly string[],
  target: string | number,
  queuePlace: () => QueuePlace | null = () => null,
  /** Whole names only (no prefix): for delete and finish, as hg's qdelete looks names up strictly (t129 N5: `pq delete fix` twice deleted fix-locking). */
  whole = false,
): string {
  // An empty name is a prefix of every name: a script's unset "$P" must not pick one.
  if (target === "") throw new PqError("usage", "an empty patch name names no patch", ["name a patch or give its number (pq series -v lists them)"]);
  // A patch's own name comes first, as in hg (procmail's series names its patches 00..31):
  // a number is a position only when no patch is called that. The operations hand resolved
  // names to one another (goto to push), so a name must resolve to itself.
  if (typeof target === "string" && names.includes(target)) return target;
  if (typeof target === "number" || /^\d+$/.test(target)) {
    const n = Number(target);
    if (n < 1 || n > names.length) throw new PqError("not-found", `there is no patch number ${n} (the series has ${names.length})`, ["pq series -v lists the patches with their numbers"]);
    return names[n - 1];
  }
  const bare = (n: string) => n.replace(/\.(patch|diff)$/, "");
  const pick = (found: string[]): string | undefined => {
    if (found.length === 1) return found[0];
    if (found.length > 1) throw new PqError("usage", `${target} matches several patches: ${found.slice(0, 10).join(", ")}${found.length > 10 ? ", ..." : ""}`);
    return undefined;
  };
  // In the README's order: the last component (debian/fix.patch as fix) before a prefix
  // (fix-other.patch), for every command alike (t145 N4: delete and finish, which take no prefix,
  // named one patch by `fix` and the others another).
  const hit =
    pick(names.filter((n) => bare(n) === target)) ??
    (target.includes("/") ? undefined : pick(names.filter((n) => n.includes("/") && [n.slice(n.lastIndexOf("/") + 1), bare(n.slice(n.lastIndexOf("/") + 1))].includes(target)))) ??
    (whole ? undefined : pick(names.filter((n) => n.startsWith(target))));
  if (hit) return hit;
  // Named by its path (debian/patches/X.patch from the tree's root, as a shell completes it): quilt
  // takes it so (t55 N4); the rest is a name as any other, without .patch or shortened (t57 N7).
  const place = target.includes("/") ? queuePlace() : null;
  const rest = pathInQueue(target, place);
  if (rest !== null && !/^\d+$/.test(rest)) {
    try {
      return resolveName(names, rest, undefined, whole);
    } catch {
      /* said below, as the path typed */
    }
  }
  // The same letters in another Unicode form: a name stored decomposed (e and a combining
  // accent, as macOS file names are) and typed composed on a keyboard, or the other way (t73 N3).
  const nfc = (n: string) => n.normalize("NFC");
  const composed = nfc(target);
  const byForm =
    pick(names.filter((n) => nfc(n) === composed)) ??
    pick(names.filter((n) => nfc(bare(n)) === composed)) ??
    (whole ? undefined : pick(names.filter((n) => nfc(n).startsWith(composed))));
  if (byForm) return byForm;
  const startingSo = whole ? names.filter((n) => n.startsWith(target)) : [];
  throw new PqError(
    "not-found",
    `${target} is not in the series`,
    [
      ...(startingSo.length
        ? [`${startingSo.slice(0, 3).join(", ")}${startingSo.length > 3 ? ", ..." : ""} start${startingSo.length === 1 ? "s" : ""} with it: this command takes a patch's whole name (or its number)`]
        : []),
      `pq series lists the patches${place?.fromTree ? ` (named from ${place.fromTree}/, the queue directory)` : ""}`,
    ],
    { patch: target },
  );
}

/** The queue directory: its absolute path, and as named from the tree's root ("debian/patches") when it is inside the tree. */
export interface QueuePlace {
  dir: string;
  fromTree: string | null;
}

/**
 * What a patch named by its path is called in the queue: its absolute path, or its path from
 * the tree's root (debian/patches/X.patch, ./ before it too), inside the queue directory; null
 * for any other target (the queue directory's own path included).
 */
export function pathInQueue(target: string, place: QueuePlace | null): string | null {
  if (place === null || !target.includes("/")) return null;
  const [path, prefix] = isAbsolute(target) ? [normalize(target), `${place.dir}/`] : [target.replace(/^(?:\.\/)+/, ""), `${place.fromTree}/`];
  if (!isAbsolute(target) && place.fromTree === null) return null;
  return path.startsWith(prefix) && path.length > prefix.length ? path.slice(prefix.length) : null;
}
