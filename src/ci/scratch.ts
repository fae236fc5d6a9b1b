/**
 * CI and bisect never touch the user's tree: they work in a scratch copy with its own
 * stack, either of the current stack (its tree and state copied, then popped to the
 * base) or of any queue over any tree (--queue/--tree).
 */
import { shellWord, operandList } from "../core/shell-word.js";
import { childProcess } from "../core/child-process.js";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { createHash } from "node:crypto";
import { PqError } from "../errors.js";
import { Stack } from "../queue/stack.js";
import { withoutStopNote } from "../queue/ops/push.js";
import { loadState, statePaths } from "../queue/state.js";
import { readText, realpathOr } from "../tree/files.js";
import { GitRepo, repositoryFreeEnv } from "../git/repo.js";
import { defaultCacheDir } from "../build/build.js";
import { queueInTree } from "../tree/paths.js";
import { lockHolder } from "../tree/lock.js";
import { isQueueLockFile } from "../queue/queue-lock.js";

export interface ScratchStack {
  stack: Stack;
  dir: string;
  /** Pushable patches in order: state k is after the first k of them. */
  patches: string[];
  queueId: string;
  /** Identifies the base tree the states are built on (sha1 of its files' paths, modes and bytes). */
  baseId: string;
  /** Untracked files of the user's tree in no patch, left out of the copy (paths; a directory ends in "/"). */
  leftOut: string[];
  dispose(): void;
}

/**
 * Scratch copies left by runs that were killed outright (SIGKILL, a crash of the machine):
 * removed when their process is gone and they have not changed for an hour (a process of
 * another PID namespace sharing /tmp may still be using a young one). Best effort.
 */
function sweepAbandonedScratches(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  const hourAgo = Date.now() - 3600_000;
  for (const name of names) {
    const m = /^pq-scratch-.*-(\d+)-[A-Za-z0-9]{6}$/.exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
      continue; // alive (or someone else's)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ESRCH") continue;
    }
    try {
      const full = join(tmpdir(), name);
      // A run moves its stack all the time: its state file is the copy's heartbeat.
      const touched = Math.max(statSync(full).mtimeMs, statSync(join(full, ".pq", "state.json"), { throwIfNoEntry: false })?.mtimeMs ?? 0);
      if (touched < hourAgo) rmSync(full, { recursive: true, force: true });
    } catch {
      /* another user's, or gone meanwhile */
    }
  }
}

export async function openScratch(opts: {
  tree: string;
  queue?: string;
  select?: string[];
  command?: string;
  /** States are judged by a --run command (see aroundCommand). */
  forCommand?: boolean;
}): Promise<ScratchStack> {
  if (!existsSync(resolve(opts.tree))) throw new PqError("not-found", `${resolve(opts.tree)} does not exist`);
  // The tree as a real path: given as a symlink (--tree LINK), the copy would take the link itself (verify-7 V1).
  const tree = realpathOr(resolve(opts.tree));
  // Which command's refusal this is (ci, bisect, sync --check): named in its advice.
  const command = opts.command ?? "pq ci";
  sweepAbandonedScratches();
  // The pid in the name: a run killed with SIGKILL (no handler runs) leaves its copy, and a later run removes it.
  const dir = mkdtempSync(join(tmpdir(), `pq-scratch-${basename(tree)}-${process.pid}-`));
  // Ctrl-C or a kill during a run left a whole copy of the tree in the temp folder, every
  // time: the copy goes with the process (the exit code is the shell's for the signal).
  /**
   * A queue outside the tree is copied too, when the run starts: read live, a patch changed
   * during a long run (a git pull, an editor) was tested in its new version and reported
   * under the old one's name and hash (ci-7 #7). Named as a scratch copy, so a killed run's is swept too.
   */
  let queueCopy: string | null = null;
  const snapshotQueue = (queue: string): string => {
    queueCopy = mkdtempSync(join(tmpdir(), `pq-scratch-queue-${basename(tree)}-${process.pid}-`));
    // Not its lock: another pq's, copied, would hold the copy's stack for a process that never releases it.
    copyKeepingLinks(queue, queueCopy, (src) => !/[/\\]\.git$/.test(src) && !(dirname(src) === queue && isQueueLockFile(basename(src))));
    copiesOf.set(queueCopy, queue);
    return queueCopy;
  };
  copiesOf.set(dir, tree);
  foreignQueue = Boolean(opts.queue);
  // Where the copy's .pq/ waits while a --run command runs (see aroundCommand); swept as a copy is.
  const aside = opts.forCommand ? mkdtempSync(join(tmpdir(), `pq-scratch-state-${basename(tree)}-${process.pid}-`)) : null;
  if (aside) stateAside.set(dir, aside);
  const removeCopies = () => {
    rmSync(dir, { recursive: true, force: true });
    if (queueCopy) rmSync(queueCopy, { recursive: true, force: true });
    if (aside) rmSync(aside, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    removeCopies();
    process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGHUP" ? 1 : 15));
  };
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const signal of signals) process.on(signal, onSignal);
  // Another handler may end the process first (the TUI's, which gives the terminal back and
  // exits): the copies go at any exit Node sees (t54 N9: a TUI closed during C left its copy).
  process.on("exit", removeCopies);
  const dispose = () => {
    for (const signal of signals) process.off(signal, onSignal);
    process.off("exit", removeCopies);
    removeCopies();
  };
  try {
    let stack: Stack;
    let leftOut: string[] = [];
    // --queue naming the tree's own stack's queue is the current stack: its applied patches
    // are in the tree, so the tree is not the base to push them onto.
    const own = loadState(tree);
    // A pq operation that stopped half way: completing it writes the user's tree (and may save
    // their edits made since in .pq/backups), which ci and bisect never do; its files are half of
    // each side, no state to test either. Said, as a dry run says it (ci-17 F15).
    if (existsSync(statePaths(tree).journal)) {
      // A live pq's journal is its operation under way (t61 N1): said as the lock says it.
      const holder = lockHolder(statePaths(tree).lock);
      if (holder !== null)
        throw new PqError(
          "locked",
          `the tree is locked by pid ${holder} (another pq is running in ${tree})`,
          [`wait for it to finish, then run ${command} again`],
          {
            pid: holder,
          },
        );
      throw new PqError(
        "damaged",
        `a pq operation in ${tree} stopped half way and waits to be completed; ${command} tests states and never writes your tree`,
        [`pq status completes it (and says where it saved files changed since), then run ${command} again`],
      );
    }
    // Compared as real paths: the same directory through a symlink is the same queue (ci-7 #15).
    const ownQueue = own ? realpathOr(resolve(tree, own.queue)) : null;
    if (opts.queue && realpathOr(resolve(opts.queue)) !== ownQueue) {
      // A queue is a directory with a series file: a mistyped --queue must not become a new,
      // empty queue (created on the spot, and a green run of the base tree alone).
      if (!existsSync(join(resolve(opts.queue), "series"))) {
        throw new PqError("not-found", `no queue at ${resolve(opts.queue)} (a directory with a series file)`, [
          "check the --queue path; pq ci and pq bisect never create a queue",
        ]);
      }
      // The tree's own stack's applied patches would be in the base this queue is tested on:
      // a copy of the same queue then failed at its first patch, and bisect blamed it (t68 N1).
      const ownApplied = own?.applied.map((r) => r.name) ?? [];
      if (ownApplied.length) {
        throw new PqError(
          "refused",
          `${tree} has ${ownApplied.length} patch(es) of its own queue applied (${ownApplied.slice(0, 3).join(", ")}${ownApplied.length > 3 ? ", ..." : ""}): they would be in the base tree ${resolve(opts.queue)} is tested on`,
          [`pq pop -a in ${tree} first, or run ${command} without --queue to test the tree's own stack`],
          { applied: ownApplied },
        );
      }
      // Nor its unrefreshed edits: the tree's own stack refuses them (exit 5), and naming a copy
      // of its queue got them tested as the base (t71 N1). A tree with no stack of its own is
      // any tree, taken as it is.
      if (own) {
        // git alone answers (no stack opened: its state and caches are not needed here).
        const edited = (await (await GitRepo.open(tree))?.changedTrackedFiles()) ?? [];
        if (edited.length) {
          throw new PqError(
            "dirty",
            `${tree} has changes that are in no patch of its own stack: ${edited.slice(0, 8).join(", ")}${edited.length > 8 ? ", ..." : ""}: they would be in the base tree ${resolve(opts.queue)} is tested on`,
            [`pq refresh them into a patch (or git stash them), then ${command}`],
            { files: edited },
          );
        }
      }
      // Any queue over any tree: copy the tree's files, make it a git tree, start a stack.
      // Links kept as the states must read them (see copyKeepingLinks).
      copyKeepingLinks(tree, dir, (src) => !/[/\\]\.(git|pq)$/.test(src));
      commitBase(dir);
      stack = await Stack.init({ tree: dir, queue: snapshotQueue(resolve(opts.queue)) });
    } else {
      if (!existsSync(statePaths(tree).state))
        throw new PqError("no-queue", `no pq stack in ${tree}`, ["run pq init, or pass --queue DIR --tree DIR"]);
      // Edits in no patch would be dropped from some states (a file the patches own is put
      // back by the pop below) and baked into all of them, base included, elsewhere: the
      // verdicts would depend on where an edit happens to be. Refused, as git bisect refuses.
      const real = await Stack.open({ tree, leaveInterrupted: true });
      const status = await real.status();
      // The queue's own files (a queue committed inside the tree) are the patches under test, not edits.
      const queueInTree = relative(tree, real.queueDir).split(sep).join("/");
      const queuePrefix = queueInTree.startsWith("../") || isAbsolute(queueInTree) ? null : `${queueInTree}/`;
      const inQueue = (p: string) => queuePrefix !== null && p.startsWith(queuePrefix);
      const pending = (status.top ? status.pending : ((await (await real.repo())?.changedTrackedFiles()) ?? [])).filter((p) => !inQueue(p));
      // An untracked file no patch adds (one refresh said it did not take) would be in every
      // state, and a clone with the queue would not have it (ci-7 #8): left out of the copy,
      // and said. Ignored files are the build's own: git's ignore rules keep them off this list.
      leftOut = status.untracked.filter((p) => !inQueue(p));
      if (pending.length) {
        throw new PqError(
          "dirty",
          `unrefreshed changes in ${pending.slice(0, 8).join(", ")}${pending.length > 8 ? ", ..." : ""}: ${command} tests the queue's patches, not edits that are in none`,
          // With no patch applied there is none to refresh them into (t120 N7).
          // Not git stash: with patches applied it takes their changes too, and the next run refused
          // those as edits (t124 N5). A revert is one transaction the run does not log over: undo after it.
          [
            status.top ? "pq refresh them into a patch" : "pq new NAME and pq refresh make them a patch",
            `or set them aside: pq revert ${operandList(pending)}, then ${command}, then pq undo puts them back`,
          ],
          { files: pending, pathsFrom: tree },
        );
      }
      // The current stack: tree and state as they are (the queue too when it lives inside).
      // Neither lock: the tree's, nor the queue's when it lives inside (another pq's would hold the copy's stack).
      copyKeepingLinks(
        tree,
        dir,
        (src) =>
          !/[/\\]\.git$/.test(src) &&
          !/[/\\]\.pq[/\\](lock|backups|trash)$/.test(src) &&
          !(dirname(src) === real.queueDir && isQueueLockFile(basename(src))),
      );
      for (const p of leftOut) rmSync(join(dir, p), { recursive: true, force: true });
      if (queuePrefix === null) {
        // The queue lives outside the tree: the copy's stack reads a snapshot of it (see snapshotQueue).
        const statePath = statePaths(dir).state;
        const copied = JSON.parse(readFileSync(statePath, "utf8")) as { queue: string };
        copied.queue = snapshotQueue(real.queueDir);
        writeFileSync(statePath, JSON.stringify(copied));
      }
      stack = await Stack.open({ tree: dir });
      await stack.pop({ all: true, force: true });
      // A --run command may change tracked files; what each state must be is then told by git
      // (see aroundCommand): the popped copy, the base, becomes the copy's first commit.
      if (opts.forCommand) {
        commitBase(dir);
        stack = await Stack.open({ tree: dir });
      }
    }
    if (opts.select) await stack.select(opts.select);
    const patches = stack.pushable();
    const hash = createHash("sha1");
    for (const name of patches) {
      const text = readText(stack.patchPath(name));
      // Found only when its state came up, the run stopped after building the states below it, with no report (t68 N2).
      if (text === null) {
        const queueDir = copiesOf.get(stack.queueDir) ?? stack.queueDir;
        throw new PqError(
          "not-found",
          `the series lists ${name}, whose patch file ${join(queueDir, name)} is missing; nothing was built`,
          [`restore the file, or take its line out of the series, then run ${command} again`],
          { patch: name },
        );
      }
      hash.update(name).update("\0").update(text, "latin1").update("\0");
    }
    return { stack, dir, patches, queueId: hash.digest("hex").slice(0, 16), baseId: baseTreeId(dir, stack.queueDir), leftOut, dispose };
  } catch (e) {
    dispose();
    throw e;
  }
}

/**
 * The base tree's identity, for telling shard reports of different trees apart: every file
 * under `dir` but git's and pq's own directories and the queue (when it lives inside), by
 * path, executable bit (or link target) and content. The scratch copy is at the base when
 * this runs (popped, or not yet pushed).
 */
export function baseTreeId(dir: string, queueDir: string): string {
  const hash = createHash("sha1");
  const skip = new Set([join(dir, ".git"), join(dir, ".pq"), resolve(queueDir)]);
  const walk = (at: string, prefix: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const full = join(at, entry.name);
      if (skip.has(full)) continue;
      const path = prefix + entry.name;
      if (entry.isDirectory()) walk(full, `${path}/`);
      else if (entry.isSymbolicLink()) hash.update(`l ${path}\0${readlinkSync(full)}\0`);
      else if (entry.isFile()) {
        const executable = (statSync(full).mode & 0o111) !== 0;
        hash
          .update(`${executable ? "x" : "f"} ${path}\0`)
          .update(readFileSync(full))
          .update("\0");
      }
    }
  };
  walk(dir, "");
  return hash.digest("hex").slice(0, 16);
}

/**
 * Building and booting needs the tree to describe its build (build.json, as the kernel model
 * does); without one every state would be a column of build errors that say nothing about the
 * patches. A patch may add it, so the base alone is not enough to refuse.
 */
export function refuseWithoutBuild(scratch: ScratchStack, tree: string, command: string): void {
  const { stack, patches } = scratch;
  if (existsSync(join(stack.tree, "build.json"))) return;
  // A patch that creates it (from /dev/null): one that only edits it adds none (t124 N3: seven edits let a base without one through).
  if (patches.some((p) => /^--- \/dev\/null[^\n]*\n\+\+\+ (b\/)?build\.json(\s|$)/m.test(readText(stack.patchPath(p)) ?? ""))) return;
  scratch.dispose();
  throw new PqError(
    "refused",
    `${tree} has no build.json: ${command} builds and boots trees that describe their build in one (the kernel model's)`,
    [`for any other project, judge each state by a command: ${command} --run 'make && make check' (exit 0 passes, 125 skips, 1-127 fails)`],
    { missing: "build.json" },
  );
}

/** What a run says of the untracked files it left out of its states. */
export function leftOutNote(paths: string[]): string {
  return `left out of every state: ${paths.slice(0, 8).join(", ")}${paths.length > 8 ? ", ..." : ""} (untracked and in no patch: a clone with the queue would not have ${paths.length === 1 ? "it" : "them"}; pq add and pq refresh put a file into a patch)`;
}

/** The scratch copies this process made, and what each is a copy of: a refusal names the user's files (ci-17 F10). */
const copiesOf = new Map<string, string>();
/** A scratch copy's folder for its .pq/ while a command runs, outside the copy (see aroundCommand). */
const stateAside = new Map<string, string>();
/** The last scratch was a --queue DIR over a tree: no stack of the user's to restore a file to or delete a patch from. */
let foreignQueue = false;

/**
 * A refusal from inside the scratch copy, in the user's terms: the copy's paths (gone by the time
 * it is read) as the user's files, and, for a --queue DIR run, the advice for a stack (restore-queue,
 * delete the patch, init again) as what to fix where (ci-17 F10).
 */
function inUserTerms(e: unknown, command: string, retry = `run ${command} again`): unknown {
  if (!(e instanceof PqError)) return e;
  const mapped = (text: string) => [...copiesOf].reduce((t, [copy, user]) => t.split(copy).join(user), text);
  const message = mapped(e.message);
  let details = e.details.map(mapped);
  if (foreignQueue && details.some((d) => /pq restore-queue|pq delete|pq init again/.test(d))) {
    details = [
      ...details.filter((d) => !/pq restore-queue|pq delete|pq init again/.test(d)),
      `fix the queue's files as said above, then ${retry}`,
    ];
  }
  if (message === e.message && details.join("\n") === e.details.join("\n")) return e;
  return new PqError(e.code, message, details, e.data);
}

/**
 * A file system that refused during a ci or bisect run (a full disk, a quota, read-only) is
 * said as that, exit 14, naming where: not as a half-done operation to complete (its journal
 * was in the scratch copy, removed with it) nor as a bug of pq (a git commit that failed for
 * want of space; ci-7 #14). The user's tree and stack were never written.
 */
export function scratchFailure(e: unknown, command: string, retry?: string): unknown {
  e = inUserTerms(e, command, retry);
  const refusals = /No space left on device|Disk quota exceeded|Read-only file system|ENOSPC|EDQUOT|EROFS/;
  const err = e as NodeJS.ErrnoException & { stderr?: unknown };
  const cause = e instanceof PqError ? String(e.data.cause ?? "") : (err?.code ?? "");
  const text = `${err?.message ?? ""} ${String(err?.stderr ?? "")}`;
  if (!/^(ENOSPC|EDQUOT|EROFS)$/.test(cause) && !refusals.test(text)) return e;
  const file = (e instanceof PqError ? e.data.file : err?.path) as string | undefined;
  const reason = /EDQUOT|quota/i.test(cause + text)
    ? "a disk quota is used up"
    : /EROFS|Read-only/.test(cause + text)
      ? "a file system is read-only"
      : "no space left on device";
  return new PqError(
    "system",
    `${command} stopped: ${reason}${file ? ` (writing ${file})` : ""}; it works in a scratch copy in ${tmpdir()} and keeps its caches in ${defaultCacheDir()}`,
    [
      `free space there, or set TMPDIR (and PQ_CACHE_DIR) to a file system with room, then run ${command} again`,
      "your tree, queue and stack were not changed; nothing is left to complete",
    ],
    { cause: cause || undefined },
  );
}

/**
 * Copies `from` to `to` as the states must see it (ci-7 #1, verify-7 V11, V12): a symlink whose
 * target is inside `from` stays as it is (a relative one then reads the copy's own file), one
 * that leads out of it is made absolute to that same target, which is what the user's tree
 * reads (copied as it was, a relative one would dangle, or read whatever sits beside the copy).
 */
function copyKeepingLinks(from: string, to: string, keep: (src: string) => boolean): void {
  const links: [string, string][] = [];
  cpSync(from, to, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (src, dest) => {
      if (!keep(src)) return false;
      if (lstatSync(src).isSymbolicLink()) links.push([src, dest]);
      return true;
    },
  });
  const root = resolve(from);
  for (const [src, dest] of links) {
    const target = readlinkSync(src);
    const resolved = resolve(dirname(src), target);
    const inside = resolved === root || resolved.startsWith(root + sep);
    if (inside && !isAbsolute(target) && !leavesOnTheWay(relative(root, dirname(src)), target)) continue;
    // A link into the tree by way of its own directory's name (../../t/v, verify-8 W5), or an
    // absolute one, is made relative within the copy; any other goes where the user's does.
    const now = inside ? relative(dirname(dest), join(to, relative(root, resolved))) || "." : resolved;
    rmSync(dest, { force: true });
    symlinkSync(now, dest);
  }
}

/**
 * Runs a --run command on the state the scratch copy is in, and puts the copy back to exactly
 * that state afterwards (verify-7 V2, verify-8 W4): a command that changes a tracked file's
 * content, mode or type (a build regenerating a committed file, a test replacing one by a
 * directory), writes a file a later patch adds, or edits the queue inside the tree, would
 * otherwise leave it for the next state, which would inherit it, or be refused over it. The
 * state is committed in the copy's own git repository for the command's time, checked out
 * again afterwards (untracked files the command made removed; ignored ones, build output pq
 * keeps in .pq, stay), and the commit dropped: the branch is the base again.
 */
export async function aroundCommand<T>(stack: Stack, run: () => Promise<T>): Promise<T> {
  const git = scratchGit(stack.tree);
  // What git would leave out of the state by its ignore rules and pq needs back: the files the
  // applied patches made or changed, and the queue when it is inside the tree (verify-9 X2, X5).
  const queueInside = queueInTree(stack.tree, stack.queueDir);
  const ours = [
    ...new Set(stack.appliedRecords().flatMap((r) => Object.keys(r.files))),
    ...(queueInside === null ? [] : [queueInside]),
  ].filter((p) => existsSync(join(stack.tree, p)));
  commitAll(git, "state", ours);
  // By id: a command that commits or checks out in the copy moves HEAD (verify-9 X3).
  const state = git(["rev-parse", "HEAD"]).trim();
  const base = git(["rev-parse", "HEAD~1"]).trim();
  // The command sees the tree as a checkout has it: pq's .pq/ (its object packs hold every
  // patch's text) waits outside, or a grep -r over the tree found the patches' lines in the
  // base state (t118 N3). Nothing of pq runs in the copy meanwhile.
  const aside = stateAside.get(stack.tree);
  const stateDir = statePaths(stack.tree).dir;
  if (aside) renameSync(stateDir, join(aside, ".pq"));
  try {
    return await run();
  } finally {
    if (aside) {
      // A .pq/ the command made is not the stack's.
      rmSync(stateDir, { recursive: true, force: true });
      renameSync(join(aside, ".pq"), stateDir);
    }
    try {
      git(["reset", "-q", "--hard", state]);
      // -ff: a repository the command made inside the copy (a test's git init) goes too.
      git(["clean", "-ffdq"]);
      git(["reset", "-q", base]);
    } catch (e) {
      throw new PqError(
        "system",
        `the command left the scratch copy so that git cannot put the state back: ${(e as Error).message.split("\n")[0]}`,
        [
          "a --run command that changes the copy's own git (its .git, pq's .pq) cannot be judged state by state; run such steps in a copy of their own",
        ],
      );
    }
  }
}

/**
 * Makes the scratch copy `dir` a git repository of its own whose one commit holds it as it is:
 * the git CLI directly, three commands (a warm pq ci spends a good part of its time here). A
 * git hook runs pq with GIT_DIR and friends pointing at the repository being pushed to: none
 * of them may leak in.
 */
function commitBase(dir: string): void {
  const git = scratchGit(dir);
  git(["init", "-q", "--template="]); // no sample hooks: fewer files to write and delete
  // No .gitattributes conversion (eol=crlf, filters) either way: add and checkout keep the bytes.
  mkdirSync(join(dir, ".git", "info"), { recursive: true });
  writeFileSync(join(dir, ".git", "info", "attributes"), "* -text -eol -filter -ident -working-tree-encoding\n", { flag: "w" });
  commitAll(git, "base");
}

/** The git CLI in a scratch copy, with none of the caller's repository variables (see commitBase). */
function scratchGit(dir: string): (args: string[], input?: string) => string {
  const env = repositoryFreeEnv();
  // No ignore rules of the user's own (their global excludes file), no line-ending conversion:
  // the copy holds the states' bytes as they are (verify-9 X2, X9).
  const config = ["-c", "core.excludesFile=/dev/null", "-c", "core.autocrlf=false", "-c", "core.safecrlf=false"];
  return (args, input) =>
    childProcess().execFileSync("git", [...config, ...args], { cwd: dir, env, input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
}
/** Commits everything in the scratch copy as it is (and `force`, even where git's ignore rules leave it out), as pq and without hooks or signing. */
function commitAll(git: (args: string[], input?: string) => string, message: string, force: string[] = []): void {
  git(["add", "-A"]);
  if (force.length) git(["add", "-f", "--pathspec-from-file=-", "--pathspec-file-nul"], force.join("\0"));
  git([
    "-c",
    "user.name=pq",
    "-c",
    "user.email=pq@localhost",
    "-c",
    "commit.gpgsign=false",
    "commit",
    "-q",
    "--no-verify",
    "--allow-empty",
    "-m",
    message,
  ]);
}
/** Whether a relative link's text, read from `dir` (relative to the tree), steps above the tree on its way. */
function leavesOnTheWay(dir: string, target: string): boolean {
  let depth = dir === "" ? 0 : dir.split(sep).length;
  for (const part of target.split("/")) {
    if (part === "..") depth--;
    else if (part !== "." && part !== "") depth++;
    if (depth < 0) return true;
  }
  return false;
}

/**
 * Refusals of one patch as a push applies it (see PATCH_REFUSALS in push.ts), besides hunks that
 * do not fit. A patch file the series lists and the queue lacks is the queue's fault, not a
 * state's: it is refused with the queue's path, as before.
 */
const REFUSED_PATCH = new Set<PqError["code"]>(["apply-failed", "unsupported", "bad-patch", "unsafe-path"]);

/**
 * A push of the scratch stack stopped by a patch (its hunks do not fit, or pq refuses it: a
 * symlink it changes, a path out of the tree): that state is red, not the whole run aborted
 * (t51 N8: a patch re-pointing a symlink ended pq ci with exit 7 and no report). Null for any
 * other error. Advice for a stack of the user's own (push --force, replacing a link in the
 * tree) is left out: the scratch copy is no tree to edit.
 */
export function patchNotApplied(e: unknown): { patch: string | undefined; reason: string; why: string } | null {
  if (!(e instanceof PqError) || !REFUSED_PATCH.has(e.code)) return null;
  const patch = typeof e.data.patch === "string" ? e.data.patch : undefined;
  if (e.code === "apply-failed") {
    return {
      patch,
      reason: `${patch ?? "a patch"} does not apply`,
      why: [`${patch} does not apply`, ...e.details.filter((d) => !/^pq /.test(d))].join("\n"),
    };
  }
  const said = withoutStopNote(e.message.replace(/[;,] nothing was changed$/, ""));
  return { patch, reason: `${patch ?? "a patch"} cannot be applied`, why: said };
}
