import { spawnSync } from "node:child_process";
import { chmodSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, git, makeRepo, pq, read, setGitIdentity, snapshot, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

const lines = (n: number, tag = "line") => Array.from({ length: n }, (_, i) => `${tag} ${i + 1}\n`).join("");

function commitAs(dir: string, author: string, date: string, message: string): void {
  git(dir, "add", "-A");
  git(dir, "-c", "core.autocrlf=false", "commit", "-q", `--author=${author}`, `--date=${date}`, "-m", message);
}

/** Tree, author, author date and message of each commit in a range: what a round trip must keep. */
const history = (dir: string, range: string) => git(dir, "log", "--reverse", "--format=%T %an <%ae> %ad%n%B%x00", "--date=raw", range);

describe("pq uncommit", () => {
  it("turns the top commits into applied patches below the stack; finish round-trips them exactly", async () => {
    const dir = makeRepo({ "a.c": lines(20, "a"), "old.txt": "old\n", "gone.txt": "bye\n" });
    dirs.push(dir);
    write(dir, "a.c", lines(20, "a").replace("a 3\n", "a three\n"));
    write(dir, "new file.txt", "caf\xc3\xa9 \xff bytes\r\n");
    commitAs(dir, "Ada Example <ada@example.org>", "2021-03-04T05:06:07+0530", "Change a.c and add a file\n\nA body with two paragraphs.\n\nSigned-off-by: Ada Example <ada@example.org>");
    git(dir, "mv", "old.txt", "renamed.txt");
    git(dir, "rm", "-q", "gone.txt");
    write(dir, "run.sh", "#!/bin/sh\necho hi\n");
    chmodSync(join(dir, "run.sh"), 0o755);
    write(dir, "blob.bin", "\x00\x01\x02binary\x00");
    commitAs(dir, "Béa Example <bea@example.org>", "2022-01-01T00:00:00-0800", "Rename, delete, exec and binary");
    write(dir, "a.c", lines(20, "a").replace("a 3\n", "a three\n").replace("a 18\n", "a eighteen\n"));
    commitAs(dir, "Cy Example <cy@example.org>", "2023-06-07T08:09:10+0000", "Third: one line");
    const before = history(dir, "HEAD~3..HEAD");
    const commitIds = git(dir, "rev-list", "HEAD~3..HEAD");
    const base = git(dir, "rev-parse", "HEAD~3").trim();
    const files = snapshot(dir);

    expect((await pq(dir, "init")).code).toBe(0);
    await pq(dir, "new", "mine", "-m", "Work in progress");
    write(dir, "a.c", read(dir, "a.c").replace("a 10\n", "a ten\n"));
    await pq(dir, "refresh");

    const r = await pq(dir, "uncommit", "-n", "3");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(git(dir, "rev-parse", "HEAD").trim()).toBe(base);
    expect(git(dir, "diff", "--cached", "--name-only")).toBe("");
    expect((await pq(dir, "series")).out).toBe("Change-a.c-and-add-a-file.patch\nRename-delete-exec-and-binary.patch\nThird-one-line.patch\nmine\n");
    expect((await pq(dir, "applied")).out).toBe("Change-a.c-and-add-a-file.patch\nRename-delete-exec-and-binary.patch\nThird-one-line.patch\nmine\n");
    const header = read(join(dir, "patches"), "Change-a.c-and-add-a-file.patch");
    expect(header).toContain("From: Ada Example <ada@example.org>");
    expect(header).toContain("Date: Thu, 4 Mar 2021 05:06:07 +0530");
    // The tree did not change: the commits' changes are now the patches'.
    const now = Object.fromEntries(Object.entries(snapshot(dir)).filter(([p]) => !p.startsWith("patches/")));
    expect(now).toEqual({ ...files, "a.c": files["a.c"].replace("a 10\n", "a ten\n") });

    // One transaction: one undo puts the branch, the series and the tree back; redo does it again.
    const head = (await pq(dir, "oplog", "--json")).out;
    expect((JSON.parse(head) as { op: string }[])[0].op).toMatch(/^uncommit /); // newest first
    const undone = await pq(dir, "undo");
    expect(undone.err).toBe("");
    expect(git(dir, "rev-parse", "HEAD~3").trim()).toBe(base);
    expect((await pq(dir, "series")).out).toBe("mine\n");
    expect((await pq(dir, "applied")).out).toBe("mine\n");
    expect((await pq(dir, "redo")).code).toBe(0);
    expect(git(dir, "rev-parse", "HEAD").trim()).toBe(base);
    expect((await pq(dir, "applied")).out).toBe("Change-a.c-and-add-a-file.patch\nRename-delete-exec-and-binary.patch\nThird-one-line.patch\nmine\n");
    expect(Object.fromEntries(Object.entries(snapshot(dir)).filter(([p]) => !p.startsWith("patches/")))).toEqual(now);

    // Pop and push everything: the patches reproduce the commits' bytes.
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    expect(read(dir, "old.txt")).toBe("old\n");
    expect((await pq(dir, "push", "-a")).code).toBe(0);

    expect((await pq(dir, "finish", "Third-one-line.patch")).code).toBe(0);
    expect(history(dir, `${base}..HEAD`)).toBe(before);
    // The very same commits: trees, authors, messages and committers (uncommit kept them in X-Committer:).
    expect(git(dir, "rev-list", `${base}..HEAD`)).toBe(commitIds);
    expect((await pq(dir, "series")).out).toBe("mine\n");
    expect(git(dir, "ls-tree", "HEAD", "run.sh")).toMatch(/^100755 /);
  });

  it("a commit with an empty message comes back from uncommit and finish as the very same commit (stack-6 #17b)", async () => {
    const dir = makeRepo({ "f.txt": lines(5) });
    dirs.push(dir);
    write(dir, "f.txt", lines(5).replace("line 2\n", "second\n"));
    git(dir, "commit", "-qa", "--allow-empty-message", "-m", "");
    const commit = git(dir, "rev-parse", "HEAD").trim();
    expect((await pq(dir, "init")).code).toBe(0);
    expect((await pq(dir, "uncommit")).code).toBe(0);
    expect((await pq(dir, "finish", "-a")).code).toBe(0);
    expect(git(dir, "rev-parse", "HEAD").trim()).toBe(commit);
  });

  it("a message with a \"---\" line (dependabot's) comes back as a patch with notes, and finish makes the very same commit (interop-17 F4)", async () => {
    const dir = makeRepo({ "f.txt": lines(5) });
    dirs.push(dir);
    write(dir, "f.txt", lines(5).replace("line 2\n", "second\n"));
    const message =
      "Bump x from 3 to 4\n\nBumps x from 3 to 4.\n\n---\nupdated-dependencies:\n- dependency-name: x\n  dependency-type: direct:production\n...\n\nSigned-off-by: Bot Example <bot@example.org>";
    commitAs(dir, "Bot Example <bot@example.org>", "2024-02-03T04:05:06+0000", message);
    write(dir, "f.txt", lines(5).replace("line 2\n", "second\n").replace("line 4\n", "fourth\n"));
    commitAs(dir, "Ann Example <ann@example.org>", "2024-02-04T04:05:06+0000", "Fourth line\n---\nA note for reviewers, right after the message.");
    write(dir, "f.txt", lines(5).replace("line 2\n", "second\n").replace("line 4\n", "fourth\n").replace("line 5\n", "fifth\n"));
    commitAs(dir, "Ann Example <ann@example.org>", "2024-02-05T04:05:06+0000", "Fifth line\n\n---\nA note after an empty line.");
    const commits = git(dir, "rev-list", "HEAD~3..HEAD");
    expect((await pq(dir, "init")).code).toBe(0);
    const uncommitted = await pq(dir, "uncommit", "-n", "3");
    expect([uncommitted.code, uncommitted.err]).toEqual([0, ""]);
    const patch = read(dir, "patches/Bump-x-from-3-to-4.patch");
    expect(patch).toContain("Bumps x from 3 to 4.\n\n---\nupdated-dependencies:\n");
    expect(patch).toContain("Signed-off-by: Bot Example <bot@example.org>\n\ndiff --git");
    expect((await pq(dir, "finish", "-a")).code).toBe(0);
    expect(git(dir, "rev-list", "HEAD~3..HEAD")).toBe(commits);
  });

  it("finish commits a DEP-3 patch's other fields and its notes, as export mails them, and uncommit gives them back (interop-17 F10)", async () => {
    const dir = makeRepo({ "f.txt": lines(5) });
    dirs.push(dir);
    const header =
      "Description: Second line in words\n Because reasons.\nAuthor: Jane Example <jane@example.org>\nAuthor: Joe Example <joe@example.org>\n" +
      "Origin: upstream, https://example.org/commit/abc123\nBug-Debian: https://bugs.debian.org/123456\nLast-Update: 2024-01-01\n---\n" +
      "Note for the maintainer: drop this once 2.0 is out.\n\n";
    write(dir, "patches/dep3.patch", header + "--- a/f.txt\n+++ b/f.txt\n@@ -1,3 +1,3 @@\n line 1\n-line 2\n+second\n line 3\n");
    write(dir, "patches/series", "dep3.patch\n");
    expect((await pq(dir, "init")).code).toBe(0);
    expect((await pq(dir, "push")).code).toBe(0);
    expect((await pq(dir, "finish", "-a")).code).toBe(0);
    expect(git(dir, "log", "-1", "--format=%an <%ae>%n%B")).toBe(
      "Jane Example <jane@example.org>\nSecond line in words\n\nBecause reasons.\n\nAuthor: Joe Example <joe@example.org>\n" +
        "Origin: upstream, https://example.org/commit/abc123\nBug-Debian: https://bugs.debian.org/123456\nLast-Update: 2024-01-01\n---\n" +
        "Note for the maintainer: drop this once 2.0 is out.\n\n",
    );
    expect((await pq(dir, "uncommit")).code).toBe(0);
    const back = read(dir, "patches/Second-line-in-words.patch");
    expect(back).toContain("Origin: upstream, https://example.org/commit/abc123\nBug-Debian: https://bugs.debian.org/123456\nLast-Update: 2024-01-01\n---\nNote for the maintainer");
  });

  it("refuses applied patches committed by hand with git reset's way out, not push's advice; an edit with no patch gets no refresh advice (stack-6 #17e)", async () => {
    const dir = makeRepo({ "f.txt": lines(50) });
    dirs.push(dir);
    await pq(dir, "init");
    await pq(dir, "new", "p1", "-m", "p1");
    write(dir, "f.txt", lines(50).replace("line 5\n", "line five\n"));
    await pq(dir, "refresh");
    git(dir, "commit", "-qam", "oops");
    const head = git(dir, "rev-parse", "HEAD");
    const r = await pq(dir, "uncommit");
    expect(r.code).toBe(12);
    expect(r.err).toContain("HEAD has commits that change f.txt, which the applied patches change too");
    expect(r.err).toContain("git reset to the commit below them");
    expect(git(dir, "rev-parse", "HEAD")).toBe(head);
    git(dir, "reset", "-q", "HEAD^");
    await pq(dir, "pop");
    write(dir, "g.txt", "untracked\n");
    write(dir, "f.txt", "edited\n");
    const dirty = await pq(dir, "uncommit");
    expect(dirty.code).toBe(5);
    expect(dirty.err).not.toContain("pq refresh");
  });

  it("takes REV.. ranges, and refuses merges, a staged index and unrefreshed changes", async () => {
    const dir = makeRepo({ "f.txt": lines(5) });
    dirs.push(dir);
    git(dir, "checkout", "-q", "-b", "side");
    write(dir, "side.txt", "side\n");
    commitAs(dir, "Di Example <di@example.org>", "2020-01-01T00:00:00+0000", "Side");
    git(dir, "checkout", "-q", "main");
    write(dir, "f.txt", lines(5).replace("line 1\n", "first\n"));
    commitAs(dir, "Di Example <di@example.org>", "2020-01-02T00:00:00+0000", "Main one");
    git(dir, "merge", "-q", "--no-ff", "-m", "Merge side", "side");
    write(dir, "f.txt", lines(5).replace("line 1\n", "first\n").replace("line 5\n", "last\n"));
    commitAs(dir, "Di Example <di@example.org>", "2020-01-03T00:00:00+0000", "After the merge");
    await pq(dir, "init");

    const merge = await pq(dir, "uncommit", "-n", "2");
    expect(merge.code).toBe(7);
    expect(merge.err).toContain("is a merge");

    write(dir, "f.txt", "dirty\n");
    const dirty = await pq(dir, "uncommit");
    expect(dirty.code).toBe(5);
    git(dir, "add", "f.txt");
    expect((await pq(dir, "uncommit")).err).toContain("staged changes");
    git(dir, "checkout", "-q", "HEAD", "--", "f.txt");

    const head = git(dir, "rev-parse", "HEAD");
    const ops = JSON.parse((await pq(dir, "oplog", "--json")).out).length;
    const ok = await pq(dir, "uncommit", "HEAD~1..");
    expect(ok.code).toBe(0);
    expect((await pq(dir, "series")).out).toBe("After-the-merge.patch\n");
    expect(git(dir, "log", "-1", "--format=%s")).toBe("Merge side\n");
    // Logged operations like any other: undoing them puts the commit back on the branch.
    const added = JSON.parse((await pq(dir, "oplog", "--json")).out).length - ops;
    expect((await pq(dir, "undo", String(added))).code).toBe(0);
    expect(git(dir, "rev-parse", "HEAD")).toBe(head);
    expect((await pq(dir, "series")).out).toBe("");
    expect(git(dir, "status", "--porcelain")).toBe("?? patches/\n");
  });
});

describe("pq uncommit in a shallow clone (t99 N6)", () => {
  it("past the clone's oldest commit says the history stops there and how to fetch more, not 'the root commit'", async () => {
    const up = makeRepo({ "a.txt": "1\n" });
    dirs.push(up);
    for (const n of [2, 3]) {
      write(up, "a.txt", `${n}\n`);
      commitAs(up, "Ada Example <ada@example.org>", `2023-06-0${n}T08:09:10+0000`, `c${n}`);
    }
    const clone = `${up}-shallow`;
    dirs.push(clone);
    git(up, "clone", "-q", "--depth", "2", `file://${up}`, clone);
    expect((await pq(clone, "init")).code).toBe(0);
    const head = git(clone, "rev-parse", "HEAD");
    for (const n of ["2", "3"]) {
      const r = await pq(clone, "uncommit", "-n", n);
      expect(r.code, n).toBe(12);
      expect(r.err).toContain("this shallow clone's history stops");
      expect(r.err).toContain("git fetch --deepen=N");
    }
    // A range past it too (t101 N4).
    const range = await pq(clone, "uncommit", "HEAD~2..");
    expect(range.code).toBe(12);
    expect(range.err).toContain("this shallow clone's history stops");
    expect(git(clone, "rev-parse", "HEAD")).toBe(head);
    expect((await pq(clone, "uncommit")).code).toBe(0);
  });
});

/** A repository with no commit yet and a stack whose one patch, first.patch, adds g.txt. */
async function firstPatchBeforeAnyCommit(): Promise<string> {
  const dir = tempDir();
  dirs.push(dir);
  git(dir, "init", "-q", "-b", "main");
  setGitIdentity(dir, "Test Author", "author@example.org");
  for (const argv of [["init"], ["new", "first.patch", "-m", "the first file"], ["add", "g.txt"], ["refresh"]]) {
    if (argv[0] === "add") write(dir, "g.txt", "x\n");
    expect((await pq(dir, ...argv)).code, argv.join(" ")).toBe(0);
  }
  return dir;
}

describe("pq finish in a repository with no commit yet (t138 N3)", () => {
  it("makes the branch's first commit, as git commit would, and undo takes it back to no commit", async () => {
    const dir = await firstPatchBeforeAnyCommit();
    const r = await pq(dir, "finish", "-a");
    expect(r.code, r.err).toBe(0);
    expect(git(dir, "log", "--format=%s", "main").trim()).toBe("the first file");
    expect(git(dir, "show", "main:g.txt")).toBe("x\n");
    expect(read(dir, "patches/series").trim()).toBe("");
    expect((await pq(dir, "status")).code).toBe(0);
    const undo = await pq(dir, "undo");
    expect(undo.code, undo.err).toBe(0);
    expect(() => git(dir, "rev-parse", "--verify", "--quiet", "refs/heads/main")).toThrow();
    expect(git(dir, "ls-files")).toBe("");
    expect(read(dir, "g.txt")).toBe("x\n");
    expect(read(dir, "patches/series").trim()).toBe("first.patch");
    // uncommit with no commit to take: refused as such (t138 N8), not git's failure.
    const none = await pq(dir, "uncommit");
    expect(none.code).toBe(12);
    expect(none.err).toContain("HEAD has no commit yet: there is nothing to uncommit");
    // redo makes the first commit again (t139 N1), and undo takes it back.
    const redo = await pq(dir, "redo");
    expect(redo.code, redo.err).toBe(0);
    expect(git(dir, "log", "--format=%s", "main").trim()).toBe("the first file");
    expect(read(dir, "patches/series").trim()).toBe("");
    // uncommit of that first commit: refused, naming the undo that takes it back (t139 N6).
    const root = await pq(dir, "uncommit");
    expect(root.code).toBe(12);
    expect(root.err).toContain("is the root commit; there is no base to move HEAD back to");
    expect(root.err).toContain("if pq finish made it (the repository's first commit), pq undo takes that finish back");
    // An undo killed right after it took the branch back to none is completed by the next command (t139 N2).
    const killed = spawnSync(process.execPath, [resolve("bin/pq.js"), "undo"], { cwd: dir, env: { ...process.env, PQ_FAILPOINT: "git-moved" } });
    expect(killed.signal).toBe("SIGKILL");
    const completed = await pq(dir, "status");
    expect(completed.code, completed.err).toBe(0);
    expect(completed.err).toContain("completed an interrupted operation");
    expect(() => git(dir, "rev-parse", "--verify", "--quiet", "refs/heads/main")).toThrow();
    expect(read(dir, "patches/series").trim()).toBe("first.patch");
  });

  it("a file staged beside the patches before the first commit: finish names the unstaging git does there, which works (t139 N8)", async () => {
    const dir = await firstPatchBeforeAnyCommit();
    write(dir, "mine.txt", "mine\n");
    git(dir, "add", "mine.txt");
    const refused = await pq(dir, "finish", "-a");
    expect(refused.code).toBe(5);
    expect(refused.err).toContain("git rm -q --cached -- mine.txt");
    git(dir, "rm", "-q", "--cached", "--", "mine.txt");
    const done = await pq(dir, "finish", "-a");
    expect(done.code, done.err).toBe(0);
    expect(read(dir, "mine.txt")).toBe("mine\n");
  });

  it("the patches committed by hand as the first commit: status, pop and finish name the branch's way back to no commit, which works (t139 N7)", async () => {
    const dir = await firstPatchBeforeAnyCommit();
    git(dir, "add", "g.txt");
    git(dir, "commit", "-q", "-m", "by hand");
    const way = "git update-ref -d HEAD takes the branch back to no commit (the tree and git's index stay as they are)";
    expect((await pq(dir, "status")).out).toContain(way);
    const pop = await pq(dir, "pop");
    expect(pop.code).toBe(12);
    expect(pop.err).toContain(`${way}, then pq pop`);
    const finish = await pq(dir, "finish", "-a");
    expect(finish.code).toBe(12);
    expect(finish.err).toContain(`${way}, then pq finish -a`);
    git(dir, "update-ref", "-d", "HEAD");
    const done = await pq(dir, "finish", "-a");
    expect(done.code, done.err).toBe(0);
    expect(git(dir, "log", "--format=%s", "main").trim()).toBe("the first file");
    expect(git(dir, "show", "main:g.txt")).toBe("x\n");
  });
});

/** A Debian package whose queue the tree's git versions, its one patch pushed and finished (the queue's change left uncommitted). */
async function debianPackageFinished(): Promise<string> {
  const dir = makeRepo({
    a: "1\n2\n3\n4\n5\n",
    "debian/source/format": "3.0 (quilt)\n",
    "debian/patches/series": "fix.patch\n",
    "debian/patches/fix.patch": "--- a/a\n+++ b/a\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n",
  });
  dirs.push(dir);
  for (const argv of [["init"], ["push"], ["finish", "-a"]]) expect((await pq(dir, ...argv)).code, argv.join(" ")).toBe(0);
  return dir;
}

describe("pq uncommit right after pq finish in a Debian package, whose queue the tree's git versions (t145 N5)", () => {
  it("takes the queue's own uncommitted change (the finished patch's removal) as pq's, and gives the patch back", async () => {
    const dir = await debianPackageFinished();
    expect(git(dir, "status", "--porcelain")).toContain("debian/patches/fix.patch");
    const r = await pq(dir, "uncommit");
    expect(r.code, r.err).toBe(0);
    expect(read(dir, "debian/patches/series")).toBe("fix.patch\n");
    expect((await pq(dir, "applied")).out).toBe("fix.patch\n");
    expect(read(dir, "a")).toBe("1\ntwo\n3\n4\n5\n");
    expect((await pq(dir, "pop")).code).toBe(0);
    expect(read(dir, "a")).toBe("1\n2\n3\n4\n5\n");
    // An edit of a tree file is still one in its way.
    expect((await pq(dir, "push")).code).toBe(0);
    expect((await pq(dir, "finish", "-a")).code).toBe(0);
    write(dir, "a", "mine\n");
    const refused = await pq(dir, "uncommit");
    expect(refused.code).toBe(5);
    expect(refused.err).toContain("unrefreshed changes in a");
  });

  it("a refusal of the whole uncommit does not say that patches were applied (t145 N6)", async () => {
    const dir = await debianPackageFinished();
    git(dir, "add", "-A", "debian/patches");
    git(dir, "commit", "-qm", "queue after finish");
    const r = await pq(dir, "uncommit", "-n", "2");
    expect(r.code).toBe(7);
    expect(r.err).toContain('is inside the queue directory debian/patches/; nothing was changed');
    expect(r.err).not.toContain("were applied");
    expect((await pq(dir, "applied")).out).toBe("");
  });
});
