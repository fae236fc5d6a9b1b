/**
 * HEAD's blob ids for a set of paths: asked of git cat-file at the moment, or read from a
 * listing of HEAD made ahead (a long push starts it while it applies patches). Both must give
 * the same answers, and the listing must not outlive the commit it lists.
 */
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { GitRepo } from "../../src/git/repo.js";
import { cleanup, git, makeRepo, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(cleanup));

describe("HEAD's blob ids", () => {
  it("are the same listed ahead as asked at the moment, from the top and from a subdirectory; a new commit is asked again", async () => {
    const dir = makeRepo({ "a.c": "a\n", "sub/b.c": "b\n", "sub/deeper/c.c": "c\n", "other/d.c": "d\n" });
    dirs.push(dir);
    symlinkSync("a.c", join(dir, "link"));
    git(dir, "add", "-A");
    git(dir, "commit", "-qm", "link");
    const paths = ["a.c", "sub/b.c", "sub/deeper/c.c", "link", "sub", "missing.c", "sub/missing.c"];
    const asked = await (await GitRepo.open(dir))!.headBlobIds(paths);
    const ahead = (await GitRepo.open(dir))!;
    ahead.listHeadBlobsAhead();
    expect(await ahead.headBlobIds(paths)).toEqual(asked);
    expect(asked!.get("a.c")).toMatch(/^[0-9a-f]{40}$/);
    expect([asked!.get("sub"), asked!.get("missing.c")]).toEqual([null, null]);
    // A name with a line break (cat-file's batch reads lines: asked on its own; verify-12 F2).
    write(dir, "nl\nname.c", "n\n");
    write(dir, "sub/tab\tname.c", "t\n");
    git(dir, "add", "-A");
    git(dir, "commit", "-qm", "odd names");
    const odd = ["nl\nname.c", "sub/tab\tname.c", "a.c", "nl\nmissing.c"];
    const oddAsked = await (await GitRepo.open(dir))!.headBlobIds(odd);
    expect(oddAsked!.get("nl\nname.c")).toBe(git(dir, "rev-parse", "HEAD:nl\nname.c").trim());
    expect(oddAsked!.get("sub/tab\tname.c")).toBe(git(dir, "rev-parse", "HEAD:sub/tab\tname.c").trim());
    expect([oddAsked!.get("a.c"), oddAsked!.get("nl\nmissing.c")]).toEqual([asked!.get("a.c"), null]);
    expect(await (await GitRepo.open(dir))!.headContents(odd)).toEqual(
      new Map([
        ["nl\nname.c", "n\n"],
        ["sub/tab\tname.c", "t\n"],
        ["a.c", "a\n"],
        ["nl\nmissing.c", null],
      ]),
    );
    const oddAhead = (await GitRepo.open(dir))!;
    oddAhead.listHeadBlobsAhead();
    expect(await oddAhead.headBlobIds(odd)).toEqual(oddAsked);
    // A tree in a subdirectory of the repository: paths are the tree's.
    const inSub = (await GitRepo.open(join(dir, "sub")))!;
    const subPaths = ["b.c", "deeper/c.c", "a.c"];
    const subAsked = await inSub.headBlobIds(subPaths);
    inSub.listHeadBlobsAhead();
    expect(await inSub.headBlobIds(subPaths)).toEqual(subAsked);
    expect(subAsked!.get("b.c")).toBe(asked!.get("sub/b.c"));
    expect(subAsked!.get("a.c")).toBeNull();
    // HEAD moves after the listing: the answer is the new HEAD's.
    write(dir, "a.c", "a changed\n");
    mkdirSync(join(dir, "new"));
    write(dir, "new/e.c", "e\n");
    git(dir, "add", "-A");
    git(dir, "commit", "-qm", "later");
    const now = await (await GitRepo.open(dir))!.headBlobIds(["a.c", "new/e.c"]);
    expect(now!.get("a.c")).not.toBe(asked!.get("a.c"));
    expect(await ahead.headBlobIds(["a.c", "new/e.c"])).toEqual(now);
    // Asked of the commit the caller read HEAD as (its verdicts are filed under it), not of HEAD now.
    const before = git(dir, "rev-parse", "HEAD~1").trim();
    const atBefore = await (await GitRepo.open(dir))!.headBlobIds(["a.c", "new/e.c", "nl\nname.c"], before);
    expect(atBefore!.get("a.c")).toBe(asked!.get("a.c"));
    expect(atBefore!.get("new/e.c")).toBeNull();
    expect(atBefore!.get("nl\nname.c")).toBe(oddAsked!.get("nl\nname.c"));
  });

  it("lists the commit HEAD was when asked, though HEAD moves away and back while git lists it (verify-12 F3)", async () => {
    const dir = makeRepo({ "a.c": "a\n" });
    dirs.push(dir);
    const master = git(dir, "rev-parse", "HEAD:a.c").trim();
    git(dir, "checkout", "-q", "-b", "other");
    write(dir, "a.c", "other\n");
    git(dir, "commit", "-qam", "other");
    git(dir, "checkout", "-q", "main");
    // A git that points HEAD at the other branch while it lists a tree, as another shell's
    // checkout there and back would.
    const bin = join(dir, ".wrapper");
    mkdirSync(bin);
    const realGit = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
    writeFileSync(
      join(bin, "git"),
      `#!/bin/sh\ncase " $* " in *" ls-tree "*)\n  ${realGit} symbolic-ref HEAD refs/heads/other\n  out=$(${realGit} "$@" | base64 -w0)\n  ${realGit} symbolic-ref HEAD refs/heads/main\n  echo "$out" | base64 -d; exit 0;;\nesac\nexec ${realGit} "$@"\n`,
    );
    chmodSync(join(bin, "git"), 0o755);
    // The same for the staged paths: a.c is staged as the other branch has it.
    const head = git(dir, "rev-parse", "HEAD").trim();
    write(dir, "a.c", "other\n");
    git(dir, "add", "a.c");
    writeFileSync(
      join(bin, "git"),
      `#!/bin/sh\ncase " $* " in *" ls-tree "*|*" diff "*)\n  ${realGit} symbolic-ref HEAD refs/heads/other\n  out=$(${realGit} "$@" | base64 -w0)\n  ${realGit} symbolic-ref HEAD refs/heads/main\n  echo "$out" | base64 -d; exit 0;;\nesac\nexec ${realGit} "$@"\n`,
    );
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      const repo = (await GitRepo.open(dir))!;
      repo.listHeadBlobsAhead();
      expect((await repo.headBlobIds(["a.c"]))!.get("a.c")).toBe(master);
      expect([...(await repo.stagedPaths(head))]).toEqual(["a.c"]);
    } finally {
      process.env.PATH = path;
    }
  });
  it("HEAD's contents: a directory (or a missing name) among the paths reads as no file, and the files after it read as themselves", async () => {
    const dir = makeRepo({ "a.c": "a\n", "sub/b.c": "b\n", "z.c": "z\n" });
    dirs.push(dir);
    const repo = (await GitRepo.open(dir))!;
    // A tree object's bytes follow its line in cat-file's batch: read as the next file's, they shifted every answer after it.
    expect(await repo.headContents(["sub", "a.c", "missing.c", "z.c", "sub/b.c"])).toEqual(
      new Map([
        ["sub", null],
        ["a.c", "a\n"],
        ["missing.c", null],
        ["z.c", "z\n"],
        ["sub/b.c", "b\n"],
      ]),
    );
    expect(await repo.headContent("sub")).toBe(null);
    expect(await repo.headContent("sub/b.c")).toBe("b\n");
  });
});
