/**
 * HEAD's commit id read from the repository's files, without starting git: pq asks it on
 * every push to know whether what it verified against HEAD before still holds. Anything
 * unusual (no .git found, a symbolic ref it cannot follow, a reftable repository) answers
 * null, and the caller asks git itself.
 */
import { existsSync, lstatSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";

const HEX = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** Whether `path` is a symbolic link (a ref or HEAD git keeps as one: core.preferSymlinkRefs). */
function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function readTrimmed(path: string): string | null {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return null;
  }
}

/** The git directory for a work tree: `.git` in it or an ancestor, following a `gitdir:` file. */
export function gitDirOf(tree: string): string | null {
  return repositoryAt(tree)?.gitDir ?? null;
}

/** The work tree's top (the directory holding `.git`) and its git directory, found upward from `tree` as git finds them. */
/**
 * Whether `dir` holds a git repository of its own, as git finds one: a .git directory with a
 * HEAD, or a .git file naming one (a submodule's, a worktree's). An empty .git folder is none
 * to git, which works on the enclosing repository there (t119 N8).
 */
export function holdsRepository(dir: string): boolean {
  const dotGit = join(dir, ".git");
  try {
    if (statSync(dotGit).isDirectory()) return existsSync(join(dotGit, "HEAD"));
    return /^gitdir: /m.test(readFileSync(dotGit, "utf8"));
  } catch {
    return false;
  }
}

export function repositoryAt(tree: string): { top: string; gitDir: string } | null {
  for (let dir = resolve(tree); ; dir = dirname(dir)) {
    const dotGit = join(dir, ".git");
    try {
      if (statSync(dotGit).isDirectory()) return { top: dir, gitDir: dotGit };
      const link = /^gitdir: (.+)$/m.exec(readFileSync(dotGit, "utf8"));
      if (link) return { top: dir, gitDir: isAbsolute(link[1]) ? link[1] : resolve(dir, link[1]) };
      return null;
    } catch {
      /* not here */
    }
    if (dirname(dir) === dir) return null;
  }
}

function resolveRef(gitDir: string, commonDir: string, ref: string): string | null {
  for (const dir of [gitDir, commonDir]) {
    // A ref git keeps as a symbolic link names its target from the git directory, not from the
    // link's folder as the file system reads it: git's to follow (t139 N9).
    if (isLink(join(dir, ref))) return null;
    const loose = readTrimmed(join(dir, ref));
    if (loose !== null) return HEX.test(loose) ? loose : null;
  }
  const packed = readTrimmed(join(commonDir, "packed-refs"));
  if (packed === null) return null;
  for (const line of packed.split("\n")) {
    const [id, name] = line.split(" ");
    if (name === ref && HEX.test(id)) return id;
  }
  return null;
}

/** Where a work tree's branches live: its git directory, or for a linked worktree (git worktree add) the main one's. */
export function commonGitDir(gitDir: string): string {
  const common = readTrimmed(join(gitDir, "commondir"));
  return common === null ? gitDir : resolve(gitDir, common);
}

/** The file git keeps a ref in (a detached HEAD in the worktree's git directory, a branch in the common one); its lock is this plus ".lock". */
export function refFile(gitDir: string, ref: string): string {
  return ref === "HEAD" ? join(gitDir, "HEAD") : join(commonGitDir(gitDir), ref);
}

export function readHeadCommit(tree: string): string | null {
  const gitDir = gitDirOf(tree);
  if (!gitDir || isLink(join(gitDir, "HEAD"))) return null;
  const commonDir = commonGitDir(gitDir);
  const head = readTrimmed(join(gitDir, "HEAD"));
  if (head === null) return null;
  if (HEX.test(head)) return head;
  const ref = /^ref: (refs\/\S+)$/.exec(head);
  return ref ? resolveRef(gitDir, commonDir, ref[1]) : null;
}

const trustedByTree = new Map<string, boolean>();

/**
 * Whether git takes executable bits from the file system here: false when the repository's
 * config says `core.fileMode = false`, which git init and clone write on a file system that
 * does not keep the bit (a Windows drive under WSL, a FAT stick, some shared folders, where
 * every file may read as executable) and which a user sets to have git ignore chmods. pq then
 * takes a file's bit from what it knows of it instead, as git takes it from the index. Read
 * from the config file (no git started: a warm push asks it); anything unreadable is git's
 * default, true. Kept for the process once read; `reread` (each transaction's start) reads it
 * again, for a process that lives on (the TUI) while the config changes.
 */
export function execBitsTrusted(tree: string, reread = false): boolean {
  const known = reread ? undefined : trustedByTree.get(tree);
  if (known !== undefined) return known;
  const gitDir = gitDirOf(tree);
  let trusted = true;
  const text = gitDir && readTrimmed(join(commonGitDir(gitDir), "config"));
  let inCore = false;
  for (const raw of text?.split("\n") ?? []) {
    const line = raw.trim();
    const section = /^\[\s*([A-Za-z0-9.-]+)\s*(?:"[^"]*"\s*)?\]\s*(.*)$/.exec(line);
    if (section) {
      inCore = section[1].toLowerCase() === "core";
      if (!section[2]) continue;
    }
    const setting = /^(?:\[[^\]]*\]\s*)?filemode\s*(?:=\s*([^#;\s]+))?/i.exec(section ? section[2] : line);
    if (inCore && setting) trusted = !/^(false|no|off|0)$/i.test(setting[1] ?? "true");
  }
  trustedByTree.set(tree, trusted);
  return trusted;
}

/**
 * Whether `tree` is plainly the top of a repository of its own, so that what git would answer
 * about it can be read from its files (a git process fewer for every command that uses git; a
 * test run started ~6,000 for the top alone): a `.git` directory with git's marks of a
 * repository (HEAD, objects/, refs/), owned with the tree by this user (else git's
 * safe.directory rule decides), of git's first format without extensions, whose config moves no
 * work tree and makes it no bare one, and includes no other file that could. False for anything
 * else, and git is asked (and says what it refuses).
 */
function isPlainRepository(tree: string): boolean {
  // A core.worktree or core.bare given to every git through the environment (git -c, GIT_CONFIG_KEY_n).
  const settings = [process.env.GIT_CONFIG_PARAMETERS ?? ""];
  for (let i = 0; i < Number(process.env.GIT_CONFIG_COUNT ?? 0); i++) settings.push(process.env[`GIT_CONFIG_KEY_${i}`] ?? "");
  if (settings.some((text) => /worktree|bare|include/i.test(text))) return false;
  const uid = process.getuid?.();
  if (uid === undefined) return false;
  try {
    const dotGit = join(tree, ".git");
    const dir = lstatSync(dotGit);
    if (!dir.isDirectory() || dir.uid !== uid || statSync(tree).uid !== uid) return false;
    if (!statSync(join(dotGit, "objects")).isDirectory() || !statSync(join(dotGit, "refs")).isDirectory()) return false;
    // HEAD a file of its own: one git keeps as a symbolic link (core.preferSymlinkRefs) names its
    // branch by the link, which reading through it would take for a detached HEAD (t138 N1).
    if (!lstatSync(join(dotGit, "HEAD")).isFile()) return false;
    const head = readTrimmed(join(dotGit, "HEAD"));
    if (head === null || !(HEX.test(head) || /^ref: refs\/\S+$/.test(head))) return false;
    const config = readFileSync(join(dotGit, "config"), "utf8");
    // Any bare setting but git init's own "bare = false" (a comment after a value, quotes: t138 N4;
    // one on its section's line, "[core] bare = true": t139 N3).
    if (
      /worktree|include/i.test(config) ||
      (config.match(/^\s*(\[[^\]]*\]\s*)?bare\b.*$/gim) ?? []).some((line) => !/^\s*(\[\s*core\s*\]\s*)?bare\s*=\s*false\s*$/i.test(line))
    )
      return false;
    // A format other than git's first, or extensions (which a git may not know, and refuse): git decides.
    const format = /^\s*repositoryformatversion\s*=\s*(\S*)/im.exec(config);
    if ((format && format[1] !== "0") || /^\s*\[\s*extensions/im.test(config)) return false;
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether git, started in `dir`, would find no repository at all: no folder from `dir` (as its
 * real path, which is where git starts) up to the root has a `.git` entry of any kind or is a
 * repository folder itself (git's discovery looks for both; a HEAD entry is enough here to ask
 * git), and GIT_DIR names none. A queue folder outside every repository (pq init --queue DIR)
 * was asked of git by every undo and redo: simple-git loaded and a git started, ~15 ms of a
 * warm undo. Anything unreadable on the way answers false: git decides.
 */
export function plainlyOutsideRepositories(dir: string): boolean {
  if (process.env.GIT_DIR !== undefined) return false;
  try {
    for (let at = realpathSync.native(dir); ; at = dirname(at)) {
      if (lstatSync(join(at, ".git"), { throwIfNoEntry: false }) || lstatSync(join(at, "HEAD"), { throwIfNoEntry: false })) return false;
      if (dirname(at) === at) return true;
    }
  } catch {
    return false;
  }
}

/** What `git rev-parse --show-toplevel` answers for a plain repository's top (see isPlainRepository), or null: ask git. */
export function plainRepositoryTop(tree: string): string | null {
  return isPlainRepository(tree) ? realpathSync.native(tree) : null;
}

/** The variables that point git at another repository folder than the tree's own .git (see plainGitDir). */
const ELSEWHERE = ["GIT_DIR", "GIT_COMMON_DIR", "GIT_WORK_TREE"];

/**
 * The .git folder of `dir` when `dir` is plainly a repository's top (see plainRepositoryTop)
 * and no variable points git elsewhere: what git's answers about refs and the files it keeps
 * there can be read from without starting git. Null: ask git.
 */
export function plainGitDir(dir: string): string | null {
  if (ELSEWHERE.some((name) => process.env[name] !== undefined)) return null;
  return isPlainRepository(dir) ? join(dir, ".git") : null;
}

/** A full ref name's commit id read from a plain repository's files (loose, then packed-refs), or null (none, or anything unusual: ask git). */
export function readPlainRef(gitDir: string, ref: string): string | null {
  // A name git would refuse as a ref (a "..", a "~" or "^" revision) is git's to answer.
  return /^refs\/[^\s^~:?*[\\]+$/.test(ref) && !ref.includes("..") && !ref.includes("@{") ? resolveRef(gitDir, gitDir, ref) : null;
}

/** The branch a plain repository's HEAD names (`git symbolic-ref --short HEAD`), or null (detached, or a ref outside refs/heads: ask git). */
export function plainBranch(gitDir: string): string | null {
  const ref = /^ref: refs\/heads\/(\S+)$/.exec(readPlainHead(gitDir) ?? "");
  return ref ? ref[1] : null;
}

/** A plain repository's HEAD as its file says it: "ref: refs/heads/main", or a commit id (detached); null for anything else (ask git). */
export function readPlainHead(gitDir: string): string | null {
  const head = readTrimmed(join(gitDir, "HEAD"));
  return head !== null && (/^ref: refs\/\S+$/.test(head) || HEX.test(head)) ? head : null;
}
