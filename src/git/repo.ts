/**
 * The git adapter: everything pq asks of git goes through here (simple-git underneath).
 * File contents cross this boundary as latin1 strings, like everywhere else in pq.
 */
import { authorIdentity } from "../mail/header.js";
import { childProcess } from "../core/child-process.js";
import { accessSync, constants, existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { removeDeadLeftovers } from "../tree/files.js";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { SimpleGit } from "simple-git";

/** simple-git is loaded on first use: push and pop never need git, and loading it costs start-up time. */
const loadSimpleGit = async () => (await import("simple-git")).simpleGit;
/**
 * A git command is done when its output streams close. simple-git 3's default also arms a
 * 50 ms timer at the child's exit, as a fallback for streams that never close; that timer
 * kept every pq that ran git alive up to 50 ms after its work was done (a refresh's last
 * git call is near its end: 27 ms of its exit, measured).
 */
const completion = { onClose: true, onExit: false } as const;
/**
 * simple-git also waits 50 ms more after a git that wrote nothing at all (its completion plugin
 * takes silence for output still to come): every silent git pq runs (fetch --quiet, update-ref,
 * reset -q, read-tree, config) cost that. An empty chunk at the end of stdout is output enough:
 * the end comes before the close simple-git waits for, and adds no bytes to what it returns.
 * A pq sync with nothing to fetch took 107 ms of work, 50 of them this wait.
 */
const markOutputSeen = (_command: string, stdout: NodeJS.ReadableStream): void =>
  void stdout.once("end", () => stdout.emit("data", Buffer.alloc(0)));
const simpleGitFor = async (baseDir: string) =>
  (await loadSimpleGit())({ baseDir, trimmed: false, completion, ...userEnvironment() }).outputHandler(markOutputSeen);
import { gitFailed, PqError } from "../errors.js";
import { shellWord } from "../core/shell-word.js";
import {
  holdsRepository,
  plainGitDir,
  plainlyOutsideRepositories,
  plainRepositoryTop,
  readHeadCommit,
  readPlainHead,
  readPlainRef,
} from "./head.js";
import { entriesAt, headHasCommit, type TreeEntry } from "../queue/git-cli.js";
import { pathMap } from "../core/path-map.js";
import { repositoryFreeEnv } from "./env.js";

export { repositoryFreeEnv };

/**
 * The user's git environment for the git simple-git runs. simple-git removes every ambient
 * GIT_* variable unless it is named (a guard for services that run git on others' input);
 * pq runs git on the user's own trees, as their git would run: a GIT_CONFIG_GLOBAL saying
 * core.autocrlf=true went missing, so freshly converted checkouts read as edited everywhere
 * (collab-8 C12). The variables that point git at a repository stay out (see
 * repositoryFreeEnv), and so do the ones that run an editor, a pager or an external diff,
 * which pq's non-interactive git never wants.
 */
function userEnvironment(): { allowEnvironment: string[]; unsafe: Record<string, boolean> } {
  const withheld =
    /^GIT_(DIR|WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|QUARANTINE_PATH|PREFIX|COMMON_DIR|EDITOR|SEQUENCE_EDITOR|PAGER|EXTERNAL_DIFF)$/i;
  return {
    allowEnvironment: Object.keys(process.env).filter((k) => /^GIT_/i.test(k) && !withheld.test(k)),
    // What those variables may do, as plain git lets them (each flag matters only when its variable is set).
    unsafe: {
      allowUnsafeConfigPaths: true,
      allowUnsafeConfigEnvCount: true,
      allowUnsafeAskPass: true,
      allowUnsafeSshCommand: true,
      allowUnsafeGitProxy: true,
      allowUnsafeExec: true,
      allowUnsafeTemplateDir: true,
    },
  };
}

/** An entry of `git status --porcelain=v1 -z`, tree-relative: a rename's destination carries its source (`from`), which is listed too. */
export interface StatusEntry {
  code: string;
  path: string;
  from?: string;
  renameSource?: true;
}

/**
 * git's refusal of a tree that is a repository (a tree owned by another user: "dubious
 * ownership"; a broken HEAD or config), as an error; null where there is no repository (or no
 * git): a plain directory is a tree pq serves without git. Taking every refusal for "no git"
 * had let pq pop revert a commit its HEAD check would have refused, and finish say "needs a
 * git work tree" of one (t99 N5).
 */
function gitRefusedTree(message: string): PqError | null {
  const text = message.trim();
  // No repository here nor above ("or any of the parent directories", "or any parent up to mount point"):
  // a plain directory. A .git file naming a repository that is gone is git's refusal of this tree.
  if (!/^(fatal|error): /m.test(text) || /not a git repository \(or any/i.test(text)) return null;
  const owner = /dubious ownership/i.test(text);
  const gone = /not a git repository: /i.test(text);
  return gitFailed("git rev-parse", text, [
    owner
      ? "git refuses a repository another user owns: run pq as its owner, or trust the directory as git's message says (git config --global --add safe.directory DIR)"
      : gone
        ? "the tree's .git file names a repository that is not there (a linked worktree whose main repository moved?): git worktree repair, run in the main repository, mends it; then run the pq command again"
        : "pq uses git for this tree and cannot while git refuses it: mend what git names, then run the pq command again",
  ]);
}

/** `git status --porcelain=v1 -z` output as entries of the tree under `prefix` (porcelain names are the repository's). */
export function parsePorcelainStatus(out: string, prefix: string): StatusEntry[] {
  const fields = out.split("\0");
  const result: StatusEntry[] = [];
  const inTree = (p: string | undefined) => (p && p.startsWith(prefix) ? p.slice(prefix.length) : undefined);
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (f.length < 4) continue;
    const code = f.slice(0, 2);
    const path = inTree(f.slice(3));
    // A staged rename's source path follows: it is a change too (the file is gone).
    const from = code.includes("R") ? inTree(fields[++i]) : undefined;
    if (code.includes("C")) i++;
    if (path !== undefined) result.push({ code, path, ...(from !== undefined ? { from } : {}) });
    if (from !== undefined) result.push({ code, path: from, renameSource: true });
  }
  return result;
}

/** Blob contents (latin1) by id, through one `git cat-file --batch` run in `cwd` (any directory of the repository). */
export function readBlobs(cwd: string, ids: string[]): Map<string, string> {
  const map = new Map<string, string>();
  if (!ids.length) return map;
  const r = childProcess().spawnSync("git", ["cat-file", "--batch"], { cwd, input: ids.join("\n") + "\n", maxBuffer: 1 << 30 });
  if (r.status !== 0) throw gitFailed(`git cat-file`, String(r.stderr).trim());
  const buf = r.stdout;
  let at = 0;
  for (const id of ids) {
    const nl = buf.indexOf(10, at);
    const [, type, size] = buf.toString("latin1", at, nl).split(" ");
    if (type !== "blob") throw new PqError("git", `${id} is not a blob`);
    map.set(id, buf.toString("latin1", nl + 1, nl + 1 + Number(size)));
    at = nl + 1 + Number(size) + 1;
  }
  return map;
}

/**
 * A scratch directory for git (a private index, merge inputs), named with pq's pid: the ones
 * a killed pq left behind (a SIGKILL skips every cleanup) are removed the next time one is
 * made (safe-6 #1).
 */
function scratchDir(kind: "index" | "merge" | "blobs"): string {
  removeDeadLeftovers(tmpdir(), (name) => {
    const m = /^pq-(?:index|merge|blobs)-(\d+)-/.exec(name);
    return m ? Number(m[1]) : null;
  });
  return mkdtempSync(join(tmpdir(), `pq-${kind}-${process.pid}-`));
}

/**
 * A path as the bytes git reads on its standard input and writes on its standard output, held
 * in a latin1 string (how this adapter passes text through pipes), and back. pq's paths are
 * the names' UTF-8 decoded; as command-line arguments they go to git as they are.
 */
export const gitBytes = (path: string): string => Buffer.from(path, "utf8").toString("latin1");
export const fromGitBytes = (bytes: string): string => Buffer.from(bytes, "latin1").toString("utf8");

/** Queue versions by commit, newest last: the few a sync or a commit reads more than once. */
const filesAtCommit = new Map<string, Record<string, string>>();
const FILES_AT_KEPT = 4;

export class GitRepo {
  private constructor(
    readonly git: SimpleGit,
    /** The tree's path relative to the repository root ("" or "sub/dir/"). */
    readonly prefix: string,
    /** The repository's top-level directory. */
    readonly rootDir: string,
  ) {}

  static async open(tree: string): Promise<GitRepo | null> {
    // simple-git throws at once, outside the try below, for a directory that does not exist.
    if (!existsSync(tree) || plainlyOutsideRepositories(tree)) return null;
    const git = await simpleGitFor(tree);
    const top = plainRepositoryTop(tree);
    if (top !== null) return new GitRepo(git, "", top);
    try {
      const [inside, root, prefix] = (await git.raw(["rev-parse", "--is-inside-work-tree", "--show-toplevel", "--show-prefix"])).split(
        "\n",
      );
      if (inside.trim() !== "true") return null;
      return new GitRepo(git, (prefix ?? "").trim(), root.trim());
    } catch (e) {
      const refusal = gitRefusedTree((e as Error).message);
      if (refusal) throw refusal;
      return null;
    }
  }

  static async init(dir: string): Promise<GitRepo> {
    await (await simpleGitFor(dir)).init();
    return (await GitRepo.open(dir))!;
  }

  /** Tracked files whose work-tree content differs from HEAD, relative to the tree. */
  async changedTrackedFiles(): Promise<string[]> {
    const out = await this.run(["status", "--porcelain=v1", "-z", "--untracked-files=no", "--", "."]);
    return this.parseStatus(out).map((e) => e.path);
  }

  /**
   * Both of the above from one `git status` (a refresh needs both: one git process fewer,
   * 8-10 ms of a refresh on this machine).
   */
  async changedAndUntrackedFiles(): Promise<{
    changed: string[];
    untracked: string[];
    staged: string[];
    stagedApart: string[];
    renames: [string, string][];
    /** Paths git's index has unresolved conflicts for (a merge, a stash pop or a pull that stopped): "UU", "AA", "DU"... */
    unmerged: string[];
  }> {
    // --renames whatever the user's status.renames says: a git mv is written as a rename (t46 N4).
    const out = await this.run(["status", "--porcelain=v1", "-z", "--untracked-files=all", "--renames", "--", "."]);
    const changed: string[] = [];
    const untracked: string[] = [];
    const staged: string[] = [];
    const stagedApart: string[] = [];
    const entries = this.parseStatus(out);
    // git mv A B, then an edit of B ("RM", or "D" and "AM" without rename detection; two files
    // swapped: "MM"): the index holds HEAD's content of another changed file at B, no version of
    // the user's own, and unstaged it loses nothing; A is staged as deleted, as the work tree has
    // it (t44 N1, t46 N4: left staged, a pop left a staged move behind that push refused over).
    const edited = entries.filter((e) => e.code !== "??" && e.code[0] !== " " && e.code[1] !== " " && !e.renameSource).map((e) => e.path);
    const fromHead = edited.length
      ? await this.stagedFromHead(edited, [...new Set(entries.filter((e) => e.code !== "??").map((e) => e.path))])
      : new Set<string>();
    // A deletion staged of a file the work tree still has (git rm --cached): "D " and "??" both.
    const untrackedNow = new Set(entries.filter((e) => e.code === "??").map((e) => e.path));
    for (const e of entries) {
      (e.code === "??" ? untracked : changed).push(e.path);
      // git add -N (intent to add): the index holds a placeholder, which, left when the patch took
      // the file, made git status call the file deleted after a pop (t112 N5). Unstaged with the rest.
      if (e.code === " A") staged.push(e.path);
      if (e.code === "??" || e.code[0] === " ") continue;
      // Staged as the work tree has it ("M ", "A ", "D "), or staged and then changed again ("MM", "AM", "MD"),
      // or deleted from the index only (t48 N2: unstaged without a word, the user's untracking was lost).
      const untracking = e.code === "D " && untrackedNow.has(e.path);
      const apart = untracking || (e.renameSource ? false : e.code[1] !== " " && !fromHead.has(e.path));
      (apart ? stagedApart : staged).push(e.path);
    }
    // Staged renames (git mv), source then destination: a refresh writes them as renames.
    const renames = entries.flatMap((e): [string, string][] => (e.code[0] === "R" && e.from !== undefined ? [[e.from, e.path]] : []));
    const unmerged = entries.filter((e) => /^(DD|AU|UD|UA|DU|AA|UU)$/.test(e.code)).map((e) => e.path);
    return { changed, untracked, staged, stagedApart, renames, unmerged };
  }

  /**
   * Paths of the tree (tree-relative) whose index entry differs from `commit` (HEAD when not
   * given): changes staged with git add, rm or mv, including one the work tree no longer shows.
   */
  async stagedPaths(commit?: string): Promise<Set<string>> {
    const against = commit === undefined ? [] : [commit];
    const out = await this.run(["diff", "--cached", ...against, "--name-only", "--no-renames", "-z", "--", `:(top,literal)${this.prefix}`]);
    return new Set(
      out
        .split("\0")
        .filter((p) => p.startsWith(this.prefix) && p.length > this.prefix.length)
        .map((p) => p.slice(this.prefix.length)),
    );
  }

  /** Make the index entries of these paths (tree-relative) match HEAD again (git reset -- paths). */
  async unstage(paths: string[]): Promise<void> {
    for (let i = 0; i < paths.length; i += 500)
      await this.run(["reset", "-q", "--", ...paths.slice(i, i + 500).map((p) => `:(top,literal)${this.prefix}${p}`)]);
  }

  /**
   * Which of these paths (relative to the tree, not tracked) git's ignore rules ignore, in one
   * `git check-ignore` round trip (exit 1: none is).
   */
  async ignoredPaths(paths: string[]): Promise<Set<string>> {
    if (!paths.length) return new Set();
    const r = childProcess().spawnSync("git", ["check-ignore", "-z", "--stdin"], {
      cwd: this.rootDir,
      env: repositoryFreeEnv(),
      input: paths.map((p) => `${this.prefix}${p}\0`).join(""),
      maxBuffer: 1 << 28,
      encoding: "utf8",
    });
    // A path inside a submodule (t113 N2, N4): said in pq's words, as pushing or refreshing it is.
    const inSubmodule = /Pathspec '(.*)' is in submodule '(.*)'/.exec(String(r.stderr));
    if (inSubmodule) throw submoduleFileRefusal(inSubmodule[1].slice(this.prefix.length), inSubmodule[2].slice(this.prefix.length));
    if (r.status !== 0 && r.status !== 1) throw gitFailed("git check-ignore", String(r.stderr).trim());
    return new Set(
      r.stdout
        .split("\0")
        .filter((p) => p.startsWith(this.prefix) && p.length > this.prefix.length)
        .map((p) => p.slice(this.prefix.length)),
    );
  }

  private gitlinkPaths?: Promise<Set<string>>;

  /**
   * The submodules under the tree (the index's gitlinks, mode 160000), relative to it; asked
   * once per command. A path inside one is the submodule's own file, which no patch of this
   * repository can hold (see insideSubmodule).
   */
  gitlinks(): Promise<Set<string>> {
    this.gitlinkPaths ??= this.run(["ls-files", "--stage", "-z", "--", "."]).then(
      (out) =>
        new Set(
          out
            .split("\0")
            .filter((entry) => entry.startsWith("160000 "))
            .map((entry) => entry.slice(entry.indexOf("\t") + 1)),
        ),
    );
    return this.gitlinkPaths;
  }

  /** Untracked, not ignored files, relative to the tree. */
  async untrackedFiles(): Promise<string[]> {
    const out = await this.run(["ls-files", "-z", "--others", "--exclude-standard", "--", "."]);
    return out.split("\0").filter(Boolean);
  }

  private parseStatus(out: string): StatusEntry[] {
    return parsePorcelainStatus(out, this.prefix);
  }

  /**
   * Of `paths` (staged, then changed again in the work tree), those whose staged blob is HEAD's
   * blob of another of `changed` (the status's changed paths): what git mv staged, not a version
   * of the user's own.
   */
  private async stagedFromHead(paths: string[], changed: string[]): Promise<Set<string>> {
    const index = await this.indexEntries(paths.map((p) => this.prefix + p));
    // Mode and blob both: HEAD's entry of the file itself is no other file's (a mode staged alone,
    // git update-index --chmod=+x, has its blob: t47 N1), and an exec bit staged on a file whose
    // content another one has at HEAD (two empty __init__.py) is the user's too (t48 N1).
    let head: [string, string][] = [];
    try {
      head = [...entriesAt(this.rootDir, this.prefix, "HEAD", changed)].map(([q, e]) => [q, `${e.mode} ${e.blob}`]);
    } catch {
      head = []; // no commit yet: nothing was moved from HEAD
    }
    const elsewhere = (p: string, entry: string | undefined) => entry !== undefined && head.some(([q, e]) => q !== p && e === entry);
    return new Set(paths.filter((p) => elsewhere(p, index.get(this.prefix + p))));
  }

  /** A file's content at HEAD (null when HEAD lacks it or there is no HEAD yet). */
  async headContent(path: string): Promise<string | null> {
    return this.contentAt("HEAD", path);
  }

  /** A tree-relative file at a commit as git checkout would write it, or null when the commit has no such file. */
  async contentAt(rev: string, path: string): Promise<string | null> {
    const spec = `${rev}:${this.prefix}${path}`;
    try {
      // A directory (or a submodule) at that path is no file: cat-file --filters would print a
      // tree object's raw bytes, which a refresh took as the file's old content (a patch making a
      // file where the commit has a directory).
      if ((await this.git.raw(["cat-file", "-t", spec])).trim() !== "blob") return null;
      // --filters: as git checkout would write the file (eol=crlf, core.autocrlf, filter drivers),
      // so that a patch made against it and a pop that restores it match the checkout's bytes.
      const buf = await this.git.binaryCatFile(["--filters", spec]);
      return Buffer.from(buf).toString("latin1");
    } catch {
      return null;
    }
  }

  /** Content of a blob named by a (possibly abbreviated) id, if the repository has it. */
  async blob(id: string): Promise<string | null> {
    if (!/^[0-9a-f]{4,64}$/.test(id) || /^0+$/.test(id)) return null;
    try {
      const full = (await this.git.raw(["rev-parse", "--verify", "--quiet", `${id}^{blob}`])).trim();
      if (!full) return null;
      const buf = await this.git.binaryCatFile(["blob", full]);
      return Buffer.from(buf).toString("latin1");
    } catch {
      return null;
    }
  }

  /**
   * Three-way merge of one file with `git merge-file`: returns the merged text (with
   * conflict markers when needed) and the number of conflicts.
   */
  async mergeFile(
    ours: string,
    base: string,
    theirs: string,
    labels: [string, string, string],
  ): Promise<{ content: string; conflicts: number; binary?: boolean }> {
    // A binary file (a NUL in its first 8000 bytes, as git tells them) has no lines to merge:
    // git merge-file refuses it. Ours stays, as one conflict, as git merge keeps ours.
    if ([ours, base, theirs].some((text) => text.slice(0, 8000).includes("\0"))) return { content: ours, conflicts: 1, binary: true };
    const dir = scratchDir("merge");
    try {
      const files = [join(dir, "ours"), join(dir, "base"), join(dir, "theirs")];
      writeFileSync(files[0], ours, "latin1");
      writeFileSync(files[1], base, "latin1");
      writeFileSync(files[2], theirs, "latin1");
      // merge-file's exit status is the number of conflicts, which simple-git would hide.
      const r = childProcess().spawnSync("git", ["merge-file", "-L", labels[0], "-L", labels[1], "-L", labels[2], ...files], { cwd: dir });
      const conflicts = r.status ?? 255;
      if (conflicts < 0 || conflicts > 127) throw gitFailed(`git merge-file`, String(r.stderr).trim());
      return { content: readFileSync(files[0], "latin1"), conflicts };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Does the index differ from HEAD? (simple-git does not fail on exit 1, so git is run directly.) */
  async stagedChanges(): Promise<boolean> {
    const r = childProcess().spawnSync("git", ["diff", "--cached", "--quiet"], { cwd: this.rootDir });
    return r.status !== 0;
  }

  /** The .git folder when the repository's answers can be read from its files (see plainGitDir), else null. */
  private plainGitDir(): string | null {
    return this.prefix === "" ? plainGitDir(this.rootDir) : null;
  }

  /** HEAD's text when read from a plain repository's files: "ref: refs/heads/main", or a commit id (detached). */
  private plainHead(): string | null {
    const gitDir = this.plainGitDir();
    return gitDir === null ? null : readPlainHead(gitDir);
  }

  async hasHead(): Promise<boolean> {
    return headHasCommit(this.rootDir);
  }

  async run(args: string[], env?: Record<string, string>): Promise<string> {
    if (env) {
      // simple-git refuses some variables (EDITOR, ...) in a custom environment; commits with
      // an author date need one, so those calls go straight to git.
      return new Promise((resolve, reject) =>
        childProcess().execFile(
          "git",
          args,
          { cwd: this.rootDir, env: { ...process.env, ...env }, maxBuffer: 1 << 28 },
          (err, stdout, stderr) => (err ? reject(gitFailed(`git ${args[0]}`, String(stderr || err.message).trim())) : resolve(stdout)),
        ),
      );
    }
    try {
      return await this.git.raw(args);
    } catch (e) {
      throw gitFailed(`git ${args[0]}`, (e as Error).message.trim());
    }
  }

  // ---------------------------------------------------------------- refs, index, commits without the work tree

  /** git with bytes on stdin (simple-git has no stdin); rejects with git's own message. */
  private runWithInput(args: string[], input: string, env: Record<string, string> = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = childProcess().execFile(
        "git",
        args,
        { cwd: this.root, env: { ...process.env, ...env }, maxBuffer: 1 << 28, encoding: "latin1" },
        (err, stdout, stderr) => (err ? reject(gitFailed(`git ${args[0]}`, String(stderr || err.message).trim())) : resolve(stdout)),
      );
      // git may not read stdin at all (read-tree): a closed pipe is not an error here.
      child.stdin!.on("error", () => undefined);
      child.stdin!.end(Buffer.from(input, "latin1"));
    });
  }

  private get root(): string {
    return this.rootDir;
  }

  /** The ref HEAD names ("refs/heads/main"), or "HEAD" when detached. */
  async headRef(): Promise<string> {
    return (await this.symbolicHead()) ?? "HEAD";
  }

  async readRef(ref: string): Promise<string | null> {
    const gitDir = this.plainGitDir();
    const known = gitDir === null ? null : ref === "HEAD" ? readHeadCommit(this.rootDir) : readPlainRef(gitDir, ref);
    if (known !== null) return known;
    try {
      return (await this.git.raw(["rev-parse", "--verify", "--quiet", ref])).trim() || null;
    } catch {
      return null;
    }
  }

  /** The branch HEAD is on ("refs/heads/main"), or null when HEAD is detached. */
  async symbolicHead(): Promise<string | null> {
    const head = this.plainHead();
    if (head !== null) return head.startsWith("ref: ") ? head.slice(5) : null;
    try {
      return (await this.git.raw(["symbolic-ref", "-q", "HEAD"])).trim() || null;
    } catch {
      return null;
    }
  }

  /** Move a ref only if it still points at `from` (git's own compare-and-swap). */
  async updateRef(ref: string, to: string, from: string): Promise<void> {
    await this.run(["update-ref", "-m", "pq", ref, to, from]);
  }

  /** Set index entries ("100644 <blob>" or null to remove) for repository-relative paths. */
  async updateIndex(entries: [string, string | null][]): Promise<void> {
    const lines = entries.map(([path, entry]) =>
      entry === null ? `0 ${"0".repeat(40)}\t${gitBytes(path)}\n` : `${entry}\t${gitBytes(path)}\n`,
    );
    await this.runWithInput(["update-index", "-z", "--index-info"], lines.join("").replace(/\n/g, "\0"));
  }

  /** The index entry of a repository-relative path ("100644 <blob>"), or null. */
  async indexEntries(paths: string[]): Promise<Map<string, string>> {
    const map = new Map<string, string>();
    // Pathspecs taken literally, a few hundred at a time (argument lists have limits).
    for (let i = 0; i < paths.length; i += 500) {
      const out = await this.runWithInput(["ls-files", "-s", "-z", "--full-name", "--", ...paths.slice(i, i + 500)], "", {
        GIT_LITERAL_PATHSPECS: "1",
      });
      for (const rec of out.split("\0")) {
        const m = /^(\d+) ([0-9a-f]+) \d\t(.*)$/s.exec(rec);
        if (m) map.set(fromGitBytes(m[3]), `${m[1]} ${m[2]}`);
      }
    }
    return map;
  }

  /**
   * Store a work-tree file's content as git would commit it at `path` (tree-relative): its clean
   * filters applied (eol=crlf and core.autocrlf turn CRLF back into LF), so that a finished patch's
   * commit holds what `git add` would have. Returns the blob id.
   */
  async writeBlob(content: string, path: string): Promise<string> {
    return (await this.runWithInput(["hash-object", "-w", `--path=${this.prefix}${path}`, "--stdin"], content)).trim();
  }

  /** The blob id a work-tree file's content would have if added at `path` (tree-relative), without storing it. */
  async cleanBlobId(content: string, path: string): Promise<string> {
    return (await this.runWithInput(["hash-object", `--path=${this.prefix}${path}`, "--stdin"], content)).trim();
  }

  /** Whether commit `a` is `b` or an ancestor of it. */
  isAncestor(a: string, b: string): boolean {
    // The answer is the exit status alone (1 = no), which simple-git does not report.
    const r = childProcess().spawnSync("git", ["merge-base", "--is-ancestor", a, b], { cwd: this.rootDir });
    if (r.status !== 0 && r.status !== 1) throw gitFailed(`git merge-base`, String(r.stderr).trim());
    return r.status === 0;
  }

  /** One attribute's value for each of these tree-relative paths ("unspecified" when none sets it), in one `git check-attr`. */
  attributeValues(paths: string[], attribute: string): Map<string, string> {
    return new Map(this.checkAttributes(paths, [attribute]).map(([path, , value]) => [path, value]));
  }

  /**
   * The tree-relative paths among these that git converts between blob and work tree (an eol,
   * text, filter, ident or working-tree-encoding attribute, or core.autocrlf): their blobs are not
   * their work-tree bytes.
   */
  async convertedPaths(paths: string[]): Promise<Set<string>> {
    if (!paths.length) return new Set();
    const autocrlf = childProcess()
      .spawnSync("git", ["config", "--get", "core.autocrlf"], { cwd: this.rootDir, encoding: "utf8" })
      .stdout.trim();
    if (/^(true|yes|on|1|input)$/i.test(autocrlf)) return new Set(paths);
    const attrs = ["text", "eol", "filter", "ident", "working-tree-encoding"];
    // Any of them set (even text=auto, which normalizes on add) may make a blob differ from its file.
    return new Set(this.checkAttributes(paths, attrs).flatMap(([path, , value]) => (value !== "unspecified" ? [path] : [])));
  }

  /** `git check-attr` of these tree-relative paths, in one run: [path, attribute, value] for each pair. */
  private checkAttributes(paths: string[], attributes: string[]): [string, string, string][] {
    if (!paths.length) return [];
    const r = childProcess().spawnSync("git", ["check-attr", "-z", "--stdin", ...attributes], {
      cwd: this.rootDir,
      input: paths.map((p) => this.prefix + p).join("\0") + "\0",
      encoding: "latin1",
      maxBuffer: 1 << 28,
    });
    if (r.status !== 0) throw gitFailed("git check-attr", String(r.stderr).trim());
    const fields = r.stdout.split("\0");
    const out: [string, string, string][] = [];
    for (let i = 0; i + 2 < fields.length; i += 3) out.push([fields[i].slice(this.prefix.length), fields[i + 1], fields[i + 2]]);
    return out;
  }

  /**
   * A chain of commits on `parent`, each changing these index entries ("mode blob", or null to
   * delete) of its parent's tree, with its own message, author, date and committer (git's own
   * when absent). One scratch index for the chain: the user's index and work tree are never
   * touched. Returns the commits in order.
   */
  async makeCommits(
    parent: string | null,
    chain: { entries: [string, string | null][]; message: string; author?: string; date?: string; committer?: string }[],
  ): Promise<string[]> {
    const dir = scratchDir("index");
    const index = { GIT_INDEX_FILE: join(dir, "index") };
    try {
      if (parent) await this.runWithInput(["read-tree", parent], "", index);
      else await this.runWithInput(["read-tree", "--empty"], "", index);
      const made: string[] = [];
      for (const commit of chain) {
        const lines = commit.entries.map(([path, entry]) =>
          entry === null ? `0 ${"0".repeat(40)}\t${gitBytes(path)}` : `${entry}\t${gitBytes(path)}`,
        );
        if (lines.length) await this.runWithInput(["update-index", "-z", "--index-info"], lines.join("\0") + "\0", index);
        const tree = (await this.runWithInput(["write-tree"], "", index)).trim();
        const env: Record<string, string> = { ...index };
        if (commit.author?.trim()) {
          const author = authorIdentity(commit.author);
          Object.assign(env, { GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email });
        }
        if (commit.date) env.GIT_AUTHOR_DATE = commit.date;
        const committer = commit.committer ? /^(.*?)\s*<([^>]*)>\s+(\d+ [+-]\d{4})$/.exec(commit.committer) : null;
        if (committer)
          Object.assign(env, { GIT_COMMITTER_NAME: committer[1], GIT_COMMITTER_EMAIL: committer[2], GIT_COMMITTER_DATE: committer[3] });
        const args = ["commit-tree", ...this.signing(), tree, ...(parent ? ["-p", parent] : []), "-F", "-"];
        parent = (await this.runWithInput(args, Buffer.from(commit.message, "utf8").toString("latin1"), env)).trim();
        made.push(parent);
      }
      return made;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * Stores these contents as blobs, as `git add` would store them at their paths (tree-relative);
   * returns their ids in order. Contents git stores as they are go through one `hash-object
   * --stdin-paths`; a path git converts (eol, filters, core.autocrlf) through its own, with --path.
   */
  async writeBlobs(items: { content: string; path: string }[]): Promise<string[]> {
    const ids: string[] = new Array(items.length);
    const converted = await this.convertedPaths([...new Set(items.map((i) => i.path))]);
    const plain: number[] = [];
    for (const [i, item] of items.entries()) {
      if (converted.has(item.path)) ids[i] = await this.writeBlob(item.content, item.path);
      else plain.push(i);
    }
    if (plain.length) {
      const dir = scratchDir("blobs");
      try {
        const files = plain.map((i, k) => {
          const file = join(dir, `b${k}`);
          writeFileSync(file, items[i].content, "latin1");
          return file;
        });
        const out = (await this.runWithInput(["hash-object", "-w", "--no-filters", "--stdin-paths"], files.join("\n") + "\n"))
          .trim()
          .split("\n");
        plain.forEach((i, k) => (ids[i] = out[k]));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    return ids;
  }

  // --- added for the shared queue (issue 10): reading and writing whole queue versions
  // without touching the work tree or the user's index, and pushing without force.

  /** Every file under the repository path `dir` (relative to the root) at `rev`, by path relative to `dir`. */
  async filesAt(rev: string, dir = this.prefix): Promise<Record<string, string>> {
    // A commit id names the same files for ever: a sync or a commit asks for HEAD's queue
    // several times (is anything uncommitted, what was the base, what is ours), and each answer
    // was an ls-tree and a cat-file. Revisions given by name are read every time.
    const key = /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(rev) ? `${this.rootDir}\0${rev}\0${dir}` : null;
    const known = key === null ? undefined : filesAtCommit.get(key);
    if (known) return pathMap(Object.entries(known));
    const files = await this.readFilesAt(rev, dir);
    if (key !== null) {
      if (filesAtCommit.size >= FILES_AT_KEPT) filesAtCommit.delete(filesAtCommit.keys().next().value!);
      filesAtCommit.set(key, files);
    }
    return pathMap(Object.entries(files));
  }

  /** The symlinks committed under `dir` at `rev` (relative to it), which filesAt leaves out. */
  async symlinksAt(rev: string, dir = this.prefix): Promise<string[]> {
    const listing = await this.run(["ls-tree", "-r", "-z", "--full-tree", rev, "--", dir || "."]);
    return listing
      .split("\0")
      .map((rec) => /^120000 blob [0-9a-f]+\t(.*)$/s.exec(rec)?.[1])
      .filter((path): path is string => path !== undefined && path.startsWith(dir))
      .map((path) => path.slice(dir.length));
  }

  /** The paths of the files under `sub` of this repository's directory at `rev`, relative to that directory. */
  async pathsUnder(rev: string, sub: string, dir = this.prefix): Promise<string[]> {
    const listing = await this.run(["ls-tree", "-r", "-z", "--name-only", "--full-tree", rev, "--", `${dir}${sub}` || "."]);
    return listing
      .split("\0")
      .filter((path) => path !== "" && path.startsWith(dir))
      .map((path) => path.slice(dir.length));
  }

  private async readFilesAt(rev: string, dir: string): Promise<Record<string, string>> {
    const listing = await this.run(["ls-tree", "-r", "-z", "--full-tree", rev, "--", dir || "."]);
    const entries: { path: string; id: string }[] = [];
    for (const rec of listing.split("\0")) {
      // A symlink's blob is its target's path, no file's text: it is no file here (see symlinksAt).
      const m = /^(\d+) blob ([0-9a-f]+)\t(.*)$/s.exec(rec);
      if (m && m[1] !== "120000" && m[3].startsWith(dir)) entries.push({ id: m[2], path: m[3].slice(dir.length) });
    }
    const out = pathMap<string>();
    if (!entries.length) return out;
    // One cat-file process for all blobs: a 1000-patch queue is one round trip.
    const contents = readBlobs(
      this.rootDir,
      entries.map((e) => e.id),
    );
    for (const e of entries) out[e.path] = contents.get(e.id)!;
    return out;
  }

  private signed: boolean | undefined;
  /**
   * `-S` where the repository asks for signed commits (commit.gpgSign), as git commit would sign
   * them: git commit-tree does not read that setting, and finish and pq commit made unsigned
   * commits without a word (t99 N3). A signature git cannot make fails the commit-tree, before
   * any branch moves. The key is git's choice (user.signingKey, gpg.format).
   */
  private signing(): string[] {
    if (this.signed === undefined) {
      const r = childProcess().spawnSync("git", ["config", "--type=bool", "--get", "commit.gpgSign"], {
        cwd: this.rootDir,
        encoding: "utf8",
      });
      this.signed = r.status === 0 && r.stdout.trim() === "true";
    }
    return this.signed ? ["-S"] : [];
  }

  /**
   * A commit whose tree is `baseRev`'s with the directory `dir` replaced by `files`, with
   * these parents; built in a temporary index so neither the work tree nor the index change.
   */
  async commitDirectory(
    baseRev: string | null,
    dir: string,
    files: Record<string, string>,
    parents: string[],
    message: string,
  ): Promise<string> {
    const top = this.rootDir;
    const tmp = scratchDir("index");
    const env = { ...process.env, GIT_INDEX_FILE: join(tmp, "index") };
    const git = (args: string[], input?: string | Buffer) => {
      const r = childProcess().spawnSync("git", args, { cwd: top, env, input, maxBuffer: 1 << 30, encoding: "latin1" });
      if (r.status !== 0) throw gitFailed(`git ${args[0]}`, String(r.stderr).trim());
      return r.stdout;
    };
    try {
      if (baseRev && dir) {
        git(["read-tree", baseRev]);
        // -f: the scratch index is read from a commit that need not be HEAD (a sync taking the remote's tree in), whose files git rm would otherwise guard as staged work.
        git(["rm", "-r", "-q", "-f", "--cached", "--ignore-unmatch", "--", dir]);
      } else git(["read-tree", "--empty"]);
      const paths = Object.keys(files).sort();
      const ids: string[] = [];
      // hash-object --stdin-paths needs files on disk; write the blobs through a scratch directory.
      // --no-filters: queue files are stored byte for byte. With core.autocrlf a patch's CRLF lines
      // (a patch to a CRLF file) were committed as LF: what colleagues pulled no longer applied, and the
      // queue never looked committed.
      for (const [i, p] of paths.entries()) writeFileSync(join(tmp, `b${i}`), files[p], "latin1");
      if (paths.length)
        ids.push(
          ...git(["hash-object", "-w", "--no-filters", "--stdin-paths"], paths.map((_, i) => join(tmp, `b${i}`)).join("\n") + "\n")
            .trim()
            .split("\n"),
        );
      // Paths as UTF-8, as the file system names them (a string input would go as latin1: ü became one byte).
      git(
        ["update-index", "--add", "-z", "--index-info"],
        Buffer.from(paths.map((p, i) => `100644 ${ids[i]}\t${dir}${p}\0`).join(""), "utf8"),
      );
      const tree = git(["write-tree"]).trim();
      return git(["commit-tree", ...this.signing(), tree, ...parents.flatMap((p) => ["-p", p]), "-m", message]).trim();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  /**
   * The blob ids of these files (relative to the tree) at HEAD, null for a file HEAD does not
   * have, in one `git cat-file --batch-check` round trip that reads no file contents; null
   * for the whole answer when there is no HEAD yet.
   */
  async headBlobIds(paths: string[], commit?: string): Promise<Map<string, string | null> | null> {
    const listed = await this.listedHeadBlobs(paths, commit);
    if (listed) return listed;
    // The commit the caller read HEAD as, when it gives one: its verdicts are filed under it.
    const rev = commit ?? "HEAD";
    const out = new Map<string, string | null>();
    // cat-file's batch reads a line per name: a name with a line break is asked on its own (verify-12 F2).
    const batch = paths.filter((p) => !p.includes("\n"));
    const r = childProcess().spawnSync("git", ["cat-file", "--batch-check=%(objectname) %(objecttype)"], {
      cwd: this.rootDir,
      env: repositoryFreeEnv(),
      input: [rev, ...batch.map((p) => `${rev}:${this.prefix}${p}`)].join("\n") + "\n",
      maxBuffer: 1 << 28,
      encoding: "utf8",
    });
    if (r.status !== 0) throw gitFailed(`git cat-file`, String(r.stderr).trim());
    const lines = r.stdout.split("\n");
    if (!/ commit$/.test(lines[0])) return null;
    batch.forEach((p, i) => {
      const [id, type] = lines[i + 1].split(" ");
      out.set(p, type === "blob" ? id : null);
    });
    // ls-tree takes names as arguments: those with a line break, in one run (entriesAt).
    const odd = paths.filter((p) => p.includes("\n"));
    const entries = odd.length ? entriesAt(this.rootDir, this.prefix, rev, odd) : new Map<string, TreeEntry>();
    for (const p of odd) {
      const mode = entries.get(p)?.mode;
      // A file or a symlink; a directory (040000) or a submodule (160000) is no blob, as cat-file says.
      out.set(p, mode !== undefined && /^1[02]/.test(mode) ? entries.get(p)!.blob : null);
    }
    return out;
  }

  /** HEAD's blob ids listed ahead (see listHeadBlobsAhead): of which commit, and per repository path. */
  private headListing: { commit: string; blobs: Promise<Map<string, string> | null> } | null = null;

  /**
   * Starts listing every blob of HEAD (git ls-tree -r) for a headBlobIds asked later: a long
   * push asks it at its end, when the process is large and a git started then waits for it
   * (15-18 ms for 400 paths of a cold push of a thousand patches); listed ahead, git runs on
   * another core while the patches are applied.
   */
  listHeadBlobsAhead(): void {
    const commit = readHeadCommit(this.rootDir);
    if (commit === null || this.headListing?.commit === commit) return;
    // The commit by its id, not HEAD: HEAD could move away and back while git lists it (verify-12 F3).
    const blobs = this.run(["ls-tree", "-r", "-z", "--full-tree", commit]).then(
      (out) => {
        const map = new Map<string, string>();
        for (const entry of out.split("\0")) {
          // <mode> SP <type> SP <object> TAB <path>
          const tab = entry.indexOf("\t");
          if (tab === -1) continue;
          const [, type, id] = entry.slice(0, tab).split(" ");
          if (type === "blob") map.set(entry.slice(tab + 1), id);
        }
        return map;
      },
      () => null, // asked again the usual way, which says what is wrong
    );
    this.headListing = { commit, blobs };
  }

  /** headBlobIds from the listing made ahead, while HEAD is still the commit it lists (null: ask git). */
  private async listedHeadBlobs(paths: string[], commit?: string): Promise<Map<string, string | null> | null> {
    const listing = this.headListing;
    // Names beyond ASCII are asked the usual way, which reads them back as it always did.
    if (!listing || (commit ?? readHeadCommit(this.rootDir)) !== listing.commit || paths.some((p) => /[^\x00-\x7f]/.test(p))) return null;
    const blobs = await listing.blobs;
    return blobs && new Map(paths.map((p) => [p, blobs.get(this.prefix + p) ?? null]));
  }

  /**
   * Whether another git holds the index (its index.lock exists: an editor's background
   * `git status`, a commit in progress). An update of the index would fail on it.
   */
  indexLocked(): boolean {
    const gitDir = this.plainGitDir();
    if (gitDir !== null) return existsSync(join(gitDir, "index.lock"));
    const r = childProcess().spawnSync("git", ["rev-parse", "--git-path", "index.lock"], {
      cwd: this.rootDir,
      env: repositoryFreeEnv(),
      encoding: "utf8",
    });
    if (r.status !== 0) return false; // git itself fails the update, and says why
    return existsSync(resolve(this.rootDir, r.stdout.trim()));
  }

  /** Which of these objects the repository does not have (git gc prunes what nothing reaches), in one `git cat-file --batch-check`. */
  missingObjects(ids: string[]): string[] {
    if (!ids.length) return [];
    const r = childProcess().spawnSync("git", ["cat-file", "--batch-check"], {
      cwd: this.rootDir,
      env: repositoryFreeEnv(),
      input: ids.join("\n") + "\n",
      maxBuffer: 1 << 28,
      encoding: "utf8",
    });
    if (r.status !== 0) throw gitFailed(`git cat-file`, String(r.stderr).trim());
    return r.stdout
      .split("\n")
      .filter((line) => line.endsWith(" missing"))
      .map((line) => line.slice(0, -" missing".length));
  }

  /**
   * Files of the tree at HEAD in one `git cat-file --batch` round trip (null: not at HEAD), as
   * git checkout writes them; `asCheckedOut: false`, as git stores them (LF where a checkout
   * converts to CRLF).
   */
  /**
   * HEAD's content of these tree-relative paths (null: HEAD lacks it), as git checkout would write
   * them (`asCheckedOut`) or as git stores them. `onDisk`: the file as the tree has it now, which
   * tells, for a file git converts, which of the two forms the tree's checkout wrote (likeTheTree).
   */
  async headContents(paths: string[], asCheckedOut = true, onDisk?: (path: string) => string | null): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    if (!paths.length) return out;
    const top = this.rootDir;
    // cat-file's batch reads a line per name: a name with a line break is read on its own (verify-12 F2).
    const batch = paths.filter((p) => !p.includes("\n"));
    const specs = batch.map((p) => `HEAD:${this.prefix}${p}`);
    const r = childProcess().spawnSync("git", ["cat-file", "--batch"], { cwd: top, input: specs.join("\n") + "\n", maxBuffer: 1 << 30 });
    if (r.status !== 0) throw gitFailed(`git cat-file`, String(r.stderr).trim());
    const buf = r.stdout;
    let at = 0;
    for (const p of paths) if (p.includes("\n")) out.set(p, await this.headContent(p));
    for (const p of batch) {
      const nl = buf.indexOf(10, at);
      const line = buf.subarray(at, nl).toString("latin1");
      const head = line.split(" ");
      // "<name> missing" has no content after it (the name as asked, spaces and all: t46 N3, a
      // git mv to "a b.txt" lost the deletion of a.txt); a tree (a directory there) has its own, skipped.
      if (line.endsWith(" missing")) {
        out.set(p, null);
        at = nl + 1;
        continue;
      }
      const size = Number(head[2]);
      out.set(p, head[1] === "blob" ? buf.subarray(nl + 1, nl + 1 + size).toString("latin1") : null);
      at = nl + 1 + size + 1;
    }
    // git 2.39's cat-file cannot apply filters in batch mode: converted files are read one by one.
    if (asCheckedOut)
      for (const p of await this.convertedPaths(paths.filter((p) => out.get(p) !== null))) {
        const checkedOut = await this.headContent(p);
        const stored = out.get(p)!;
        out.set(p, checkedOut === null || onDisk === undefined ? checkedOut : likeTheTree(checkedOut, stored, onDisk(p)));
      }
    return out;
  }

  /**
   * Files of the tree at HEAD as every checkout has them alike: as git stores them, but a file
   * whose eol attribute fixes its endings for every checkout as checked out (`eol=crlf`). What a
   * shared queue is merged over: a checkout's own conversion (core.autocrlf) is not the others'.
   */
  async sharedHeadContents(paths: string[]): Promise<Map<string, string | null>> {
    const out = await this.headContents(paths, false);
    const eol = this.attributeValues(
      paths.filter((p) => out.get(p) != null),
      "eol",
    );
    for (const [p, value] of eol) if (value !== "unspecified") out.set(p, await this.headContent(p));
    return out;
  }

  /** Whether git would run this hook here: an executable file of that name in core.hooksPath, else in the repository's hooks directory. */
  hasHook(name: string): boolean {
    const r = childProcess().spawnSync("git", ["rev-parse", "--git-path", `hooks/${name}`], { cwd: this.rootDir, encoding: "utf8" });
    if (r.status !== 0) return false;
    try {
      accessSync(resolve(this.rootDir, r.stdout.trim()), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Push without force; a refusal comes back with git's own words instead of throwing. `reached`:
   * git's porcelain report names the remote ("To URL"); a push a pre-push hook stops, or that never
   * connects, has none.
   */
  async pushRef(remote: string, refspec: string): Promise<{ ok: boolean; rejected: boolean; reached: boolean; message: string }> {
    const top = this.rootDir;
    // utf8: git's and the remote hook's messages (a gate's compiler log with gcc's quotes) are shown as they were written.
    const r = childProcess().spawnSync("git", ["push", "--porcelain", remote, refspec], { cwd: top, encoding: "utf8" });
    const message = `${r.stdout}${r.stderr}`.trim();
    const reached = /^To /m.test(r.stdout ?? "");
    if (r.status === 0) return { ok: true, rejected: false, reached, message };
    // A lost race: refused as not a fast-forward, or (the branch moved while the remote's
    // pre-receive hook ran, a ci gate takes seconds) the remote could not update its ref from
    // the value the push started from, or a first push found the branch made meanwhile ("reference
    // already exists": two colleagues starting an empty shared queue at once, collab-17 F1).
    // Either way: fetch, merge again, retry.
    return { ok: false, rejected: pushLostRace(message), reached, message };
  }
}

/** Whether git push's words say the push lost a race (see GitRepo.pushRef), not that the remote refused it. */
export function pushLostRace(message: string): boolean {
  const lost =
    /\[rejected\]|non-fast-forward|fetch first/.test(message) ||
    (/failed to update ref|failed to lock/.test(message) &&
      /cannot lock ref .*(but expected|is at|reference already exists)/.test(message));
  return lost && !/pre-receive hook declined|hook declined/.test(message);
}

/**
 * Of a converted file's two forms at HEAD, as a checkout under today's rules writes it and as git
 * stores it, the one the tree's own checkout wrote, told by the lines the tree still has of each.
 * The rules may have changed since that checkout: a core.autocrlf set after it, an eol or ident
 * attribute the applied patches bring in. Read with today's rules, a one-line edit was taken as
 * every line rewritten, and a pop wrote line endings the file never had (t113 N8, N11). The
 * checkout's form on a tie; the two are one text to git (it compares them converted), so neither
 * hides a change git would see.
 */
export function likeTheTree(checkedOut: string, stored: string, tree: string | null): string {
  if (tree === null || checkedOut === stored) return checkedOut;
  const lines = new Set(tree.split("\n"));
  const kept = (text: string) => text.split("\n").reduce((n, line) => (lines.has(line) ? n + 1 : n), 0);
  return kept(stored) > kept(checkedOut) ? stored : checkedOut;
}

/** The submodule (of `gitlinks`) that `path` lies inside, if any. */
export function insideSubmodule(path: string, gitlinks: ReadonlySet<string>): string | undefined {
  if (!gitlinks.size) return undefined;
  for (let at = path.indexOf("/"); at !== -1; at = path.indexOf("/", at + 1)) if (gitlinks.has(path.slice(0, at))) return path.slice(0, at);
  return undefined;
}

/**
 * A file inside a submodule is the submodule repository's: a patch of the superproject that held
 * it was refused by git's own commands, and finish turned the submodule into a folder of the
 * superproject where it was not checked out (t113 N3).
 */
export function submoduleFileRefusal(path: string, submodule: string, patch?: string): PqError {
  return new PqError(
    "unsupported",
    `${patch ? `${patch}: ` : ""}${path} is inside the submodule ${submodule}, a repository of its own: pq's patches change this repository's files only; nothing was changed`,
    [
      `make that change in the submodule (cd ${shellWord(submodule)}: a commit there, or a pq stack of its own; git submodule update --init ${shellWord(submodule)} checks it out where it is not), and keep ${patch ?? "the patch"} to this repository's files`,
    ],
    { file: path, submodule, ...(patch ? { patch } : {}) },
  );
}

/**
 * The directory of `path` (tree-relative) that is a git repository of its own nested in the tree
 * (a .git there: an embedded clone git does not track, whose files git add passes by), if any.
 */
export function nestedRepositoryOf(tree: string, path: string): string | undefined {
  for (let at = path.indexOf("/"); at !== -1; at = path.indexOf("/", at + 1))
    if (holdsRepository(join(tree, path.slice(0, at)))) return path.slice(0, at);
  return undefined;
}

/** A file inside a repository nested in the tree: that repository's, as a submodule's file is (t113 N1). */
export function nestedRepositoryRefusal(path: string, nested: string): PqError {
  return new PqError(
    "unsupported",
    `${path} is inside ${nested}, a git repository of its own nested in the tree (git add passes it by): pq's patches change this repository's files only; nothing was changed`,
    [`make that change in ${nested}'s own repository (cd ${shellWord(nested)}: a commit there, or a pq stack of its own)`],
    { file: path, repository: nested },
  );
}
