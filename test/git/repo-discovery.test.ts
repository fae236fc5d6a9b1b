import { execFileSync } from "node:child_process";
import { chownSync, existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { plainBranch, plainGitDir, plainlyOutsideRepositories, plainRepositoryTop, readPlainRef } from "../../src/git/head.js";
import { GitRepo } from "../../src/git/repo.js";
import { cleanup, git, makeRepo, tempDir } from "../helpers/repo.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));

/** What git itself answers for `dir`: its top and the prefix, or null outside a work tree. */
function gitAnswer(dir: string): { top: string; prefix: string } | null {
  try {
    const [inside, top, prefix] = execFileSync("git", ["rev-parse", "--is-inside-work-tree", "--show-toplevel", "--show-prefix"], {
      cwd: dir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).split("\n");
    return inside === "true" ? { top, prefix } : null;
  } catch {
    return null;
  }
}

/** The repository folder git finds from `dir` (a bare one too), or null. */
function gitDirAnswer(dir: string): string | null {
  try {
    return execFileSync("git", ["rev-parse", "--git-dir"], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

describe("finding a tree's repository", () => {
  it("reads a repository's top from its files where git would answer plainly, and asks git otherwise, with git's answer either way", async () => {
    const repo = makeRepo({ "a.txt": "a\n", "sub/b.txt": "b\n" });
    const outside = tempDir("pq-discovery-");
    dirs.push(repo, outside);
    // Reached through a symbolic link: git answers the real path, and so does the file reading.
    const link = join(outside, "via-link");
    symlinkSync(repo, link);
    expect(plainRepositoryTop(link)).toBe(realpathSync(repo));

    const cases: [string, string, boolean][] = [
      ["the top", repo, true],
      ["the top through a link", link, true],
      ["a folder inside", join(repo, "sub"), false],
    ];
    // core.worktree set: the work tree is elsewhere, which only git says.
    const moved = makeRepo({ "c.txt": "c\n" });
    const elsewhere = tempDir("pq-worktree-");
    dirs.push(moved, elsewhere);
    git(moved, "config", "core.worktree", elsewhere);
    cases.push(["a repository whose core.worktree is elsewhere", moved, false]);
    // A bare-looking config, an include, an empty .git folder: git decides.
    const bare = makeRepo({ "d.txt": "d\n" });
    dirs.push(bare);
    git(bare, "config", "core.bare", "true");
    cases.push(["a repository configured bare", bare, false]);
    // As git reads it too: a comment after the value, a quoted value (t138 N4).
    for (const line of ["bare = true ; set by a tool", "bare = true # set by a tool", 'bare = "true"', "bare=true"]) {
      const commented = makeRepo({ "d.txt": "d\n" });
      dirs.push(commented);
      writeFileSync(join(commented, ".git/config"), readFileSync(join(commented, ".git/config"), "utf8").replace(/bare = false/, line));
      cases.push([`a repository whose config says ${line}`, commented, false]);
    }
    const included = makeRepo({ "e.txt": "e\n" });
    dirs.push(included);
    writeFileSync(join(included, "extra.config"), "[core]\n\tworktree = /nowhere\n");
    git(included, "config", "include.path", "../extra.config");
    cases.push(["a repository whose config includes another file", included, false]);
    // A format git may not know, and extensions: git says whether it takes them.
    const unknown = makeRepo({ "g.txt": "g\n" });
    dirs.push(unknown);
    git(unknown, "config", "core.repositoryformatversion", "99");
    cases.push(["a repository of a format git does not know", unknown, false]);
    const extended = makeRepo({ "h.txt": "h\n" });
    dirs.push(extended);
    git(extended, "config", "core.repositoryformatversion", "1");
    git(extended, "config", "extensions.noop", "true");
    cases.push(["a repository with extensions", extended, false]);
    // Set on its section's own line (t139 N3).
    const headerLine = makeRepo({ "i.txt": "i\n" });
    dirs.push(headerLine);
    writeFileSync(
      join(headerLine, ".git/config"),
      readFileSync(join(headerLine, ".git/config"), "utf8")
        .replace(/^\s*bare = false\n/m, "")
        .replace("[core]", "[core] bare = true"),
    );
    cases.push(["a repository whose config says [core] bare = true", headerLine, false]);
    const empty = tempDir("pq-empty-dotgit-");
    dirs.push(empty);
    mkdirSync(join(empty, ".git"));
    cases.push(["an empty .git folder", empty, false]);
    // Owned by another user: git's safe.directory rule applies, so git is asked.
    if (process.getuid?.() === 0) {
      const foreign = makeRepo({ "f.txt": "f\n" });
      dirs.push(foreign);
      chownSync(join(foreign, ".git"), 4242, 4242);
      cases.push(["a repository another user owns", foreign, false]);
    }

    for (const [what, dir, plain] of cases) {
      expect(plainRepositoryTop(dir) !== null, what).toBe(plain);
      const expected = gitAnswer(dir);
      let opened: GitRepo | null | Error;
      try {
        opened = await GitRepo.open(dir);
      } catch (e) {
        opened = e as Error;
      }
      if (expected === null) expect(opened === null || opened instanceof Error, what).toBe(true);
      else {
        expect(opened, what).toBeInstanceOf(GitRepo);
        expect({ top: (opened as GitRepo).rootDir, prefix: (opened as GitRepo).prefix }, what).toEqual(expected);
      }
    }
  });

  it("a core.worktree or core.bare given to every git through the environment sends the question to git", () => {
    const repo = makeRepo({ "a.txt": "a\n" });
    dirs.push(repo);
    const saved = { ...process.env };
    try {
      // The suite's own GIT_CONFIG_KEY_n (gc and maintenance off) change nothing.
      expect(plainRepositoryTop(repo)).toBe(realpathSync(repo));
      const count = Number(process.env.GIT_CONFIG_COUNT ?? 0);
      process.env.GIT_CONFIG_COUNT = String(count + 1);
      process.env[`GIT_CONFIG_KEY_${count}`] = "core.worktree";
      process.env[`GIT_CONFIG_VALUE_${count}`] = "/elsewhere";
      expect(plainRepositoryTop(repo)).toBeNull();
      process.env.GIT_CONFIG_COUNT = String(count);
      process.env.GIT_CONFIG_PARAMETERS = "'core.bare'='true'";
      expect(plainRepositoryTop(repo)).toBeNull();
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
    expect(plainRepositoryTop(repo)).toBe(realpathSync(repo));
  });

  it("a plain repository's branch and refs read from its files are git's, loose or packed; anything else is left to git", () => {
    const repo = makeRepo({ "a.txt": "a\n" });
    dirs.push(repo);
    const gitDir = plainGitDir(repo)!;
    expect(gitDir).toBe(join(repo, ".git"));
    git(repo, "branch", "side");
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD");
    const head = git(repo, "rev-parse", "HEAD").trim();
    expect(plainBranch(gitDir)).toBe(git(repo, "symbolic-ref", "--short", "HEAD").trim());
    for (const ref of ["refs/heads/main", "refs/heads/side", "refs/remotes/origin/main"]) expect(readPlainRef(gitDir, ref)).toBe(head);
    git(repo, "pack-refs", "--all");
    for (const ref of ["refs/heads/main", "refs/heads/side", "refs/remotes/origin/main"]) expect(readPlainRef(gitDir, ref)).toBe(head);
    // Not a full ref name, or no such ref: git answers.
    expect(readPlainRef(gitDir, "origin/main")).toBeNull();
    expect(readPlainRef(gitDir, "refs/heads/none")).toBeNull();
    // A branch git keeps as a symbolic link to another over a stale packed entry: git's to read (t139 N9).
    git(repo, "-c", "core.preferSymlinkRefs=true", "symbolic-ref", "refs/heads/side", "refs/heads/main");
    expect(lstatSync(join(gitDir, "refs/heads/side")).isSymbolicLink()).toBe(true);
    expect(readPlainRef(gitDir, "refs/heads/side")).toBeNull();
    git(repo, "checkout", "-q", "--detach");
    expect(plainBranch(gitDir)).toBeNull();
    process.env.GIT_DIR = gitDir;
    try {
      expect(plainGitDir(repo)).toBeNull();
    } finally {
      delete process.env.GIT_DIR;
    }
  });

  it("GitRepo's answers about HEAD and refs, read from a plain repository's files, are git's: on a branch, detached, and before the first commit", async () => {
    const repo = makeRepo({ "a.txt": "a\n" });
    const unborn = tempDir("pq-unborn-");
    dirs.push(repo, unborn);
    git(unborn, "init", "-q", "-b", "trunk");
    const answers = async (dir: string) => {
      const opened = (await GitRepo.open(dir))!;
      return [
        await opened.hasHead(),
        await opened.headRef(),
        await opened.symbolicHead(),
        await opened.readRef("HEAD"),
        await opened.readRef("refs/heads/main"),
      ];
    };
    const fromGit = (dir: string) => {
      const run = (...args: string[]) => {
        try {
          return execFileSync("git", args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || null;
        } catch {
          return null;
        }
      };
      const head = run("rev-parse", "--verify", "--quiet", "HEAD");
      const symbolic = run("symbolic-ref", "-q", "HEAD");
      return [head !== null, symbolic ?? "HEAD", symbolic, head, run("rev-parse", "--verify", "--quiet", "refs/heads/main")];
    };
    expect(await answers(repo)).toEqual(fromGit(repo));
    expect(await answers(unborn)).toEqual(fromGit(unborn));
    // In a git hook GIT_DIR names the hook's repository: the tree's own answers stay the tree's.
    process.env.GIT_DIR = join(repo, ".git");
    try {
      expect(await (await GitRepo.open(unborn))!.hasHead()).toBe(false);
    } finally {
      delete process.env.GIT_DIR;
    }
    git(repo, "checkout", "-q", "--detach");
    expect(await answers(repo)).toEqual(fromGit(repo));
    expect((await answers(repo))[2]).toBeNull();
    // A HEAD git keeps as a symbolic link to its branch (core.preferSymlinkRefs): on the branch, not detached (t138 N1).
    git(repo, "config", "core.preferSymlinkRefs", "true");
    git(repo, "checkout", "-q", "main");
    expect(lstatSync(join(repo, ".git/HEAD")).isSymbolicLink()).toBe(true);
    expect(await answers(repo)).toEqual(fromGit(repo));
    expect((await answers(repo))[2]).toBe("refs/heads/main");
  });

  it("says a folder is outside every repository only where git finds none, so that no git is started for it", async () => {
    const outside = tempDir("pq-outside-");
    const repo = makeRepo({ "a.txt": "a\n" });
    const bare = tempDir("pq-bare-");
    git(bare, "init", "-q", "--bare");
    const linked = makeRepo({ "b.txt": "b\n" });
    const worktree = join(tempDir("pq-wt-"), "wt");
    git(linked, "worktree", "add", "-q", worktree);
    dirs.push(outside, repo, bare, linked, worktree);
    mkdirSync(join(outside, "queue/deeper"), { recursive: true });
    mkdirSync(join(repo, "patches"));
    // A link from outside into a repository: git starts from the real path, and finds it.
    symlinkSync(join(repo, "patches"), join(outside, "into-repo"));
    const cases: [string, string][] = [
      ["a folder outside every repository", join(outside, "queue/deeper")],
      ["a folder inside a work tree", join(repo, "patches")],
      ["a link into a work tree", join(outside, "into-repo")],
      ["a bare repository's own folder", bare],
      ["a folder of a bare repository", join(bare, "refs")],
      ["a linked work tree (.git a file)", worktree],
    ];
    for (const [what, dir] of cases) {
      const outsideForGit = gitAnswer(dir) === null && gitDirAnswer(dir) === null;
      expect(plainlyOutsideRepositories(dir), what).toBe(outsideForGit);
    }
    expect(plainlyOutsideRepositories(join(outside, "queue/deeper"))).toBe(true);
    // GIT_DIR names a repository for every folder: git is asked.
    process.env.GIT_DIR = join(repo, ".git");
    try {
      expect(plainlyOutsideRepositories(outside)).toBe(false);
    } finally {
      delete process.env.GIT_DIR;
    }
    // And GitRepo answers "no repository" for it without starting git (a git first on PATH that leaves a mark).
    const bin = join(outside, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "git"), `#!/bin/sh\necho "$@" >> ${join(outside, "started")}\nexit 128\n`, { mode: 0o755 });
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      expect(await GitRepo.open(join(outside, "queue"))).toBeNull();
      expect(existsSync(join(outside, "started"))).toBe(false);
      // (The mark is made where git is asked: a folder inside a repository that git is asked about.)
      await GitRepo.open(join(repo, "patches"));
      expect(existsSync(join(outside, "started"))).toBe(true);
    } finally {
      process.env.PATH = path;
    }
  });
});
