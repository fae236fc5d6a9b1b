/**
 * What the shared-queue commands refuse so that nothing unchecked or undecided reaches the
 * shared history (t35: F4, F6, F7, F11).
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, git, pq, read, write } from "../helpers/repo.js";
import { join_, lines, ok, remoteQueue, setIdentity, world } from "./shared-helpers.js";

const roots: string[] = [];
afterEach(() => {
  while (roots.length) cleanup(roots.pop()!);
});

/** A colleague with plain git: a clone of the shared queue, and git run in it as Mal. */
function plainClone(w: { root: string; remote: string }) {
  const mal = join(w.root, "mal");
  execFileSync("git", ["clone", "-q", w.remote, mal]);
  const gitIn = (...args: string[]) =>
    execFileSync("git", ["-C", mal, "-c", "user.name=Mal Example", "-c", "user.email=mal@example.org", ...args]);
  return { mal, gitIn };
}

async function annAlone() {
  const w = world();
  roots.push(w.root);
  const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
  await ok(ann.tree, "new", "p1.patch", "-m", "p1");
  write(ann.tree, "a.c", lines(40).replace("line 5\n", "five\n"));
  await ok(ann.tree, "refresh");
  await ok(ann.tree, "commit", "-m", "p1");
  await ok(ann.tree, "sync");
  return { w, ann };
}

/** A new patch `name` that adds the file `file`, refreshed and committed in `tree`'s shared queue (not synced). */
async function commitNewFile(tree: string, name: string, file: string, content: string) {
  await ok(tree, "new", name, "-m", name.replace(/\.patch$/, ""));
  write(tree, file, content);
  await ok(tree, "add", file);
  await ok(tree, "refresh");
  await ok(tree, "commit", "-m", name.replace(/\.patch$/, ""));
}

/** Bob with Ann's p1 applied, and Ann's p2 committed and synced since: Bob's next sync brings it in. */
async function bobOneBehindAnn() {
  const { w, ann } = await annAlone();
  const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
  await ok(bob.tree, "push", "-a");
  await commitNewFile(ann.tree, "p2.patch", "b.c", "two\n");
  await ok(ann.tree, "sync");
  return bob;
}

/** Ann and Bob both change line 5 of p1 (Ann's synced first), Bob's committed: his next sync stops on the conflict. */
async function bothChangeLineFive() {
  const { w, ann } = await annAlone();
  const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
  await ok(bob.tree, "push", "-a");
  write(ann.tree, "a.c", lines(40).replace("line 5\n", "five (ann)\n"));
  await ok(ann.tree, "refresh");
  await ok(ann.tree, "commit", "-m", "ann");
  await ok(ann.tree, "sync");
  write(bob.tree, "a.c", lines(40).replace("line 5\n", "five (bob)\n"));
  await ok(bob.tree, "refresh");
  await ok(bob.tree, "commit", "-m", "bob");
  return { w, bob };
}

describe("a shared queue's own repository inside the tree (t118 N9)", () => {
  it("is not shown untracked by git status, and git add -A leaves it out", async () => {
    const { ann } = await annAlone();
    expect(git(ann.tree, "status", "--porcelain")).toBe(" M a.c\n");
    git(ann.tree, "add", "-A");
    expect(git(ann.tree, "diff", "--cached", "--name-only")).toBe("a.c\n");
  });
});

describe("pq sync --run or -b without --check (t35 F7)", () => {
  it("is a usage error, and nothing is pushed", async () => {
    const { w, ann } = await annAlone();
    await ok(ann.tree, "new", "p2.patch", "-m", "p2");
    write(ann.tree, "b.c", lines(20, "bee").replace("bee 3\n", "BAD\n"));
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "p2");
    for (const args of [
      ["--run", "! grep -q BAD b.c"],
      ["-b", "native"],
    ]) {
      const r = await pq(ann.tree, "sync", ...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err).toContain("and --check was not given: nothing would be checked");
    }
    expect(Object.keys(remoteQueue(w.remote).patches)).toEqual(["p1.patch"]);
    // With nothing stopped, --continue says what is not pushed yet and how it goes (t60 N7: a --continue killed as it pushed).
    const more = await pq(ann.tree, "sync", "--continue");
    expect([more.code, more.err]).toEqual([12, expect.stringContaining("the queue has 1 commit(s) not pushed")]);
    expect(more.err).toContain("pq sync pushes them");
  });
});

describe("pq commit while a pq rebase is stopped (t35 F6)", () => {
  it("is refused: the conflicted patch never reaches the shared history", async () => {
    const { w, ann } = await annAlone();
    // Upstream changes the line p1 changes: the rebase stops on p1.
    const up = join(w.root, "up");
    execFileSync("git", ["clone", "-q", w.base, up]);
    setIdentity(up, "Up Example", "up@example.org");
    write(up, "a.c", lines(40).replace("line 5\n", "up 5\n"));
    git(up, "commit", "-qam", "upstream");
    git(ann.tree, "fetch", "-q", up, "main");
    const upstream = git(ann.tree, "rev-parse", "FETCH_HEAD").trim();
    const stopped = await pq(ann.tree, "rebase", upstream);
    expect(stopped.code, stopped.out + stopped.err).toBe(6);
    const r = await pq(ann.tree, "commit", "-m", "oops");
    expect(r.code).toBe(12);
    expect(r.err).toContain("a pq rebase is stopped");
    expect(remoteQueue(w.remote).patches["p1.patch"]).not.toMatch(/^\+<<<<<<< /m);
    expect(git(ann.queue, "log", "--format=%s").split("\n")).not.toContain("oops");
    // pq sync names the stopped rebase, not the commit that is refused (t144 N13).
    const sync = await pq(ann.tree, "sync");
    expect(sync.code).toBe(12);
    expect(sync.err).toContain("a rebase is stopped; pq sync would leave it a plan it cannot follow");
    expect(sync.err).not.toContain("pq commit");
  });
});

describe("pq commit while another pq holds the tree (a sync running: t35 F4)", () => {
  it("is told the tree is locked (exit 4) and commits nothing, as the other commands are", async () => {
    const { ann } = await annAlone();
    write(ann.queue, "p1.patch", readFileSync(join(ann.queue, "p1.patch"), "latin1").replace("Subject: p1", "Subject: p1 (edited)"));
    const holder = spawn("sleep", ["30"]);
    try {
      write(ann.tree, ".pq/lock", `${holder.pid}\n`);
      // Refused after PQ_LOCK_TIMEOUT's wait instead of the usual 10 s.
      process.env.PQ_LOCK_TIMEOUT = "0.3";
      const r = await pq(ann.tree, "commit", "-m", "during the sync").finally(() => delete process.env.PQ_LOCK_TIMEOUT);
      expect(r.code, r.err).toBe(4);
      expect(r.err).toContain(`the tree is locked by pid ${holder.pid}`);
      expect(git(ann.queue, "log", "-1", "--format=%s").trim()).toBe("p1");
    } finally {
      holder.kill();
      rmSync(join(ann.tree, ".pq/lock"), { force: true });
    }
    expect((await ok(ann.tree, "commit", "-m", "after it")).out).toContain("committed 1 queue file(s)");
  });
});

describe("pq sync --continue with NAME.theirs still there (t35 F11)", () => {
  it("is refused until it is gone, and never pushes it", async () => {
    const { w, ann } = await annAlone();
    const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
    // Ann keeps x.patch outside her series; Bob adds a different x.patch to his.
    await ok(ann.tree, "new", "x.patch", "-m", "ann x");
    write(ann.tree, "b.c", lines(20, "bee").replace("bee 2\n", "two ann\n"));
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "pop");
    await ok(ann.tree, "delete", "--keep", "x.patch");
    // Shared as a file the series does not list: git add makes it part of the commit (t60 N15).
    git(ann.queue, "add", "x.patch");
    await ok(ann.tree, "commit", "-m", "x kept outside");
    await ok(ann.tree, "sync");
    await ok(bob.tree, "new", "x.patch", "-m", "bob x");
    write(bob.tree, "a.c", lines(40).replace("line 39\n", "39 bob\n"));
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "bob x");
    const stopped = await pq(bob.tree, "sync");
    expect(stopped.code, stopped.err).toBe(6);
    expect(existsSync(join(bob.queue, "x.patch.theirs"))).toBe(true);
    const refused = await pq(bob.tree, "sync", "--continue");
    expect(refused.code).toBe(6);
    expect(refused.err).toContain("x.patch.theirs is still in the queue directory, kept until you decide");
    expect(Object.keys(remoteQueue(w.remote).patches)).not.toContain("x.patch.theirs");
    rmSync(join(bob.queue, "x.patch.theirs"));
    await ok(bob.tree, "sync", "--continue");
    expect(Object.keys(remoteQueue(w.remote).patches).sort()).toEqual(["p1.patch", "x.patch"]);
  });
});

describe("pq init --shared of a remote whose HEAD names a branch it lacks (t35 F10)", () => {
  it("clones its only branch instead of starting a second queue beside it; with several, asks which", async () => {
    const w = world();
    roots.push(w.root);
    // The queue lives on master, the bare repository's HEAD names main.
    const first = join(w.root, "first");
    execFileSync("git", ["init", "-q", "-b", "master", first]);
    write(first, "series", "p1.patch\n");
    write(first, "p1.patch", "Subject: p1\n\n--- a/a.c\n+++ b/a.c\n@@ -4,3 +4,3 @@\n line 4\n-line 5\n+five\n line 6\n");
    setIdentity(first, "Cat Example", "cat@example.org");
    git(first, "add", "-A");
    git(first, "commit", "-qm", "queue on master");
    git(first, "push", "-q", w.remote, "master");
    const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
    expect((await ok(bob.tree, "series")).out.trim()).toBe("p1.patch");
    await ok(bob.tree, "new", "bob.patch", "-m", "bob");
    await ok(bob.tree, "commit", "-m", "bob's");
    await ok(bob.tree, "sync");
    expect(git(w.remote, "for-each-ref", "--format=%(refname:short)", "refs/heads/").trim()).toBe("master");
    expect(git(w.remote, "show", "master:series").split("\n").sort()).toEqual(["", "bob.patch", "p1.patch"]);
    // A second branch: which one holds the queue is not guessed.
    git(first, "push", "-q", w.remote, "master:other");
    const tree = join(w.root, "dan");
    execFileSync("git", ["clone", "-q", w.base, tree]);
    setIdentity(tree, "Dan Example", "dan@example.org");
    const r = await pq(tree, "init", "--shared", w.remote);
    expect(r.code).toBe(12);
    expect(r.err).toContain("has no branch where its HEAD points, and several others (master, other)");
    expect(r.err).toContain(`name it: pq init --shared ${w.remote} --branch BRANCH`);
    expect(existsSync(join(tree, "patches"))).toBe(false);
    // Named, as the advice says (t37 N12): a user of a hosted remote cannot move its HEAD.
    const missing = await pq(tree, "init", "--shared", w.remote, "--branch", "mian");
    expect(missing.code).toBe(12);
    expect(missing.err).toContain("has no branch mian; it has master, other");
    expect(existsSync(join(tree, "patches"))).toBe(false);
    const named = await ok(tree, "init", "--shared", w.remote, "--branch", "other");
    expect(named.out).toContain(`cloned from ${w.remote} (branch other)`);
    expect(git(join(tree, "patches"), "rev-parse", "--abbrev-ref", "HEAD@{upstream}").trim()).toBe("origin/other");
    await ok(tree, "new", "dan.patch", "-m", "dan");
    await ok(tree, "commit", "-m", "dan's");
    await ok(tree, "sync");
    expect(git(w.remote, "show", "other:series")).toContain("dan.patch");
    expect(git(w.remote, "show", "master:series")).not.toContain("dan.patch");
    // A clone already in place (made by hand, or left by a killed init) on another branch is not taken as that one (t40 N5).
    const fay = join(w.root, "fay");
    execFileSync("git", ["clone", "-q", w.base, fay]);
    setIdentity(fay, "Fay Example", "fay@example.org");
    execFileSync("git", ["clone", "-q", "-b", "master", w.remote, join(fay, "patches")]);
    const reused = await pq(fay, "init", "--shared", w.remote, "--branch", "other");
    expect(reused.code).toBe(3);
    expect(reused.err).toContain(`${join(fay, "patches")} is a clone of ${w.remote} already, on master, not on origin's other`);
    // A local branch of that name following another of the remote's is not it either (t41 N2).
    git(join(fay, "patches"), "checkout", "-q", "-b", "other", "--track", "origin/master");
    const tracking = await pq(fay, "init", "--shared", w.remote, "--branch", "other");
    expect(tracking.code).toBe(3);
    expect(tracking.err).toContain("already, on other following origin/master, not on origin's other");
    expect(tracking.err).toContain("branch --set-upstream-to origin/other to have it follow origin's other");
    expect(existsSync(join(fay, ".pq"))).toBe(false);
    // Without --branch, the clone is taken as it is, and the branch it is on said, with the one it follows (t41 N3, t42 N2).
    expect((await ok(fay, "init", "--shared", w.remote)).out).toContain(
      `(cloned from ${w.remote} (as it was, on other following origin/master),`,
    );
    // A clone whose remote is named otherwise (git clone -o upstream) is named as such, with the rename that makes it pq's (t42 N9).
    const gus = join(w.root, "gus");
    execFileSync("git", ["clone", "-q", w.base, gus]);
    setIdentity(gus, "Gus Example", "gus@example.org");
    execFileSync("git", ["clone", "-q", "-o", "upstream", "-b", "other", w.remote, join(gus, "patches")]);
    const renamed = await pq(gus, "init", "--shared", w.remote, "--branch", "other");
    expect(renamed.code).toBe(3);
    expect(renamed.err).toContain(`${join(gus, "patches")} is a clone of ${w.remote} already, with its remote named upstream`);
    expect(renamed.err).toContain(`git -C ${join(gus, "patches")} remote rename upstream origin, then the same pq init again`);
    git(join(gus, "patches"), "remote", "rename", "upstream", "origin");
    expect((await ok(gus, "init", "--shared", w.remote, "--branch", "other")).out).toContain(`cloned from ${w.remote} (branch other)`);
  });

  it("--branch starts an empty remote's queue on that branch, and is refused where it means nothing", async () => {
    const w = world();
    roots.push(w.root);
    const tree = join(w.root, "erin");
    execFileSync("git", ["clone", "-q", w.base, tree]);
    setIdentity(tree, "Erin Example", "erin@example.org");
    for (const [args, message] of [
      [["--branch", "queue"], "--branch names the branch of a shared queue to clone: it needs --shared URL"],
      [["--shared", w.remote, "--branch", "-x"], "--branch -x: not a name git accepts for a branch"],
      [["--shared", w.remote, "--branch", "a..b"], "--branch a..b: not a name git accepts for a branch"],
    ] as const) {
      const r = await pq(tree, "init", ...args);
      expect(r.code).toBe(2);
      expect(r.err).toContain(message);
    }
    expect(existsSync(join(tree, ".pq"))).toBe(false);
    const r = await ok(tree, "init", "--shared", w.remote, "--branch", "queue");
    expect(r.out).toContain("(branch queue), which was empty: this queue starts it");
    await ok(tree, "new", "e.patch", "-m", "e");
    await ok(tree, "commit", "-m", "e");
    await ok(tree, "sync");
    expect(git(w.remote, "for-each-ref", "--format=%(refname:short)", "refs/heads/").trim()).toBe("queue");
    const again = await pq(tree, "init", "--shared", w.remote, "--branch", "queue");
    expect(again.code).toBe(2);
    expect(again.err).toContain("this tree has a stack already");
  });
});

describe("pq log -p of a version that does not apply over this tree (t37 N3)", () => {
  it("shows that version's text, since no interdiff can be made (a sync's conflict sends the user here for theirs)", async () => {
    const { ann } = await annAlone();
    const elsewhere = "Subject: p1 made elsewhere\n\n--- a/a.c\n+++ b/a.c\n@@ -1,2 +1,2 @@\n-not in this tree\n+theirs\n context\n";
    write(ann.queue, "p1.patch", elsewhere);
    git(ann.queue, "commit", "-qam", "p1 on another tree");
    const log = await ok(ann.tree, "log", "-p", "p1.patch");
    expect(log.out).toContain(
      "p1.patch: changed (one of the versions does not apply over this tree: no interdiff); this version:\n    Subject: p1 made elsewhere",
    );
    expect(log.out).toContain("    +theirs\n");
  });
});

describe("files beside the queue's own in the shared queue (t60 N13)", () => {
  it("a sync checks out a colleague's dotfiles, and neither a commit nor a merge deletes them", async () => {
    const { w, ann } = await annAlone();
    const { mal, gitIn } = plainClone(w);
    write(mal, ".gitattributes", "*.patch diff\n");
    write(mal, ".github/ci.yml", "x: 1\n");
    gitIn("add", "-A");
    gitIn("commit", "-qm", "attributes");
    gitIn("push", "-q", "origin", "main");
    // A fast-forward: the files are there, and git sees nothing changed.
    await ok(ann.tree, "sync");
    expect(readFileSync(join(ann.queue, ".gitattributes"), "utf8")).toBe("*.patch diff\n");
    expect(git(ann.queue, "status", "--short")).toBe("");
    // A merge with a change of Ann's: Mal's next dotfile change is taken too.
    write(mal, ".github/ci.yml", "x: 2\n");
    gitIn("commit", "-qam", "ci");
    gitIn("push", "-q", "origin", "main");
    write(ann.tree, "a.c", lines(40).replace("line 5\n", "five\n").replace("line 9\n", "nine\n"));
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "nine");
    await ok(ann.tree, "sync");
    const remoteFiles = git(w.remote, "ls-tree", "-r", "--name-only", "main").split("\n");
    expect(remoteFiles).toEqual(expect.arrayContaining([".gitattributes", ".github/ci.yml"]));
    expect(git(w.remote, "show", "main:.github/ci.yml")).toBe("x: 2\n");
    expect(readFileSync(join(ann.queue, ".github/ci.yml"), "utf8")).toBe("x: 2\n");
    expect(git(ann.queue, "status", "--short")).toBe("");
    // Both sides change one dotfile on different lines: merged, as git merges it (t64 N4).
    gitIn("pull", "-q");
    const five = ["*.patch diff", "*.diff diff", "series text", "README text", "*.txt text"];
    write(mal, ".gitattributes", five.join("\n") + "\n");
    gitIn("commit", "-qam", "attributes");
    gitIn("push", "-q", "origin", "main");
    await ok(ann.tree, "sync");
    write(mal, ".gitattributes", five.map((l, i) => (i === 0 ? `${l} -text` : l)).join("\n") + "\n");
    gitIn("commit", "-qam", "attributes (mal)");
    gitIn("push", "-q", "origin", "main");
    write(ann.queue, ".gitattributes", five.map((l, i) => (i === 4 ? `${l} eol=lf` : l)).join("\n") + "\n");
    await ok(ann.tree, "commit", "-m", "attributes (ann)");
    const both = await ok(ann.tree, "sync");
    expect(git(w.remote, "show", "main:.gitattributes")).toBe(
      five.map((l, i) => (i === 0 ? `${l} -text` : i === 4 ? `${l} eol=lf` : l)).join("\n") + "\n",
    );
    expect(both.out).not.toContain("yours was kept");
    // On the same line: yours kept, and said.
    gitIn("pull", "-q");
    write(mal, ".gitattributes", "*.patch binary\n");
    gitIn("commit", "-qam", "mal again");
    gitIn("push", "-q", "origin", "main");
    write(ann.queue, ".gitattributes", "*.patch text\n");
    await ok(ann.tree, "commit", "-m", "ann again");
    expect((await ok(ann.tree, "sync")).out).toContain(".gitattributes: changed on both sides where git cannot merge them: yours was kept");
  });
});

describe("an untracked file the series does not list, in the queue directory (t60 N15)", () => {
  it("is neither committed nor synced, and is said; in a sync's way only where the remote has its name; git add makes it shared", async () => {
    const { w, ann } = await annAlone();
    write(ann.queue, "TODO", "a private note\n");
    write(ann.tree, "a.c", lines(40).replace("line 5\n", "five\n").replace("line 9\n", "nine\n"));
    await ok(ann.tree, "refresh");
    const dirty = await pq(ann.tree, "sync");
    expect(dirty.err).toContain("the queue has uncommitted changes: p1.patch\n");
    const c = await ok(ann.tree, "commit", "-m", "nine");
    expect(c.out).toContain("committed 1 queue file(s)");
    expect(c.err).toContain("note: not committed (untracked, and not in the series");
    // Out of the sync as out of the commit: it goes on, and the note stays here (t108 N1: every sync had refused).
    await ok(ann.tree, "sync");
    expect(read(ann.queue, "TODO")).toBe("a private note\n");
    expect(Object.keys(remoteQueue(w.remote).patches)).toEqual(["p1.patch"]);
    expect(git(w.remote, "ls-tree", "--name-only", "main")).not.toContain("TODO");
    // In its way only where the remote's queue has a file of that name.
    const { mal, gitIn } = plainClone(w);
    write(mal, "TODO", "the team's list\n");
    gitIn("add", "TODO");
    gitIn("commit", "-qm", "a shared TODO");
    gitIn("push", "-q", "origin", "main");
    const inTheWay = await pq(ann.tree, "sync");
    expect([inTheWay.code, inTheWay.err]).toEqual([
      5,
      expect.stringContaining("TODO in the queue directory is an untracked file the remote's queue has too"),
    ]);
    expect(read(ann.queue, "TODO")).toBe("a private note\n");
    renameSync(join(ann.queue, "TODO"), join(ann.tree, "TODO"));
    await ok(ann.tree, "sync");
    expect(read(ann.queue, "TODO")).toBe("the team's list\n");
    rmSync(join(ann.queue, "TODO"));
    renameSync(join(ann.tree, "TODO"), join(ann.queue, "TODO.mine"));
    git(ann.queue, "add", "TODO.mine");
    expect((await ok(ann.tree, "commit", "-m", "share the note")).out).toContain("TODO.mine");
  });
});

describe("a conflict in a queue file that is no patch (t64 N5)", () => {
  it("sync --continue refuses while its markers are there, and says to edit it (no pq refresh)", async () => {
    const { w, ann } = await annAlone();
    write(ann.queue, "README", "one\ntwo\nthree\n");
    git(ann.queue, "add", "README");
    await ok(ann.tree, "commit", "-m", "readme");
    await ok(ann.tree, "sync");
    const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
    write(bob.queue, "README", "one\ntwo (bob)\nthree\n");
    await ok(bob.tree, "commit", "-m", "bob's readme");
    await ok(bob.tree, "sync");
    write(ann.queue, "README", "one\ntwo (ann)\nthree\n");
    await ok(ann.tree, "commit", "-m", "ann's readme");
    expect((await pq(ann.tree, "sync")).code).toBe(6);
    const early = await pq(ann.tree, "sync", "--continue");
    expect([early.code, early.err]).toEqual([6, expect.stringContaining("conflict markers are still in README")]);
    expect(early.err).toContain("(not a patch: no pq refresh), then pq sync --continue");
    write(ann.queue, "README", "one\ntwo (ann and bob)\nthree\n");
    await ok(ann.tree, "sync", "--continue");
    expect(git(w.remote, "show", "main:README")).toBe("one\ntwo (ann and bob)\nthree\n");
  });
});

describe("a dotfile both sides changed, in a sync that stops on a patch's conflict (t66 N3)", () => {
  it("--continue's merge says it kept yours", async () => {
    const { w, ann } = await annAlone();
    write(ann.queue, ".gitignore", "one\n");
    git(ann.queue, "add", ".gitignore");
    await ok(ann.tree, "commit", "-m", "ignore");
    await ok(ann.tree, "sync");
    const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
    await ok(bob.tree, "push", "-a");
    write(bob.queue, ".gitignore", "one (bob)\n");
    write(bob.tree, "a.c", lines(40).replace("line 5\n", "five (bob)\n"));
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "bob");
    await ok(bob.tree, "sync");
    write(ann.queue, ".gitignore", "one (ann)\n");
    write(ann.tree, "a.c", lines(40).replace("line 5\n", "five (ann)\n"));
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "ann");
    expect((await pq(ann.tree, "sync")).code).toBe(6);
    write(ann.tree, "a.c", lines(40).replace("line 5\n", "five (ann and bob)\n"));
    await ok(ann.tree, "refresh");
    const done = await ok(ann.tree, "sync", "--continue");
    expect(done.out).toContain(".gitignore: changed on both sides where git cannot merge them: yours was kept");
    expect(git(w.remote, "show", "main:.gitignore")).toBe("one (ann)\n");
  });
});

describe("an untracked editor leftover named like a file the remote's queue has (t64 N6)", () => {
  it("stops the sync before it would write over it", async () => {
    const { w, ann } = await annAlone();
    const { mal, gitIn } = plainClone(w);
    write(mal, "p1.patch.orig", "the remote's file\n");
    gitIn("add", "-A");
    gitIn("commit", "-qm", "orig");
    gitIn("push", "-q", "origin", "main");
    write(ann.queue, "p1.patch.orig", "Ann's own leftover\n");
    const r = await pq(ann.tree, "sync");
    expect([r.code, r.err]).toEqual([
      5,
      expect.stringContaining("p1.patch.orig in the queue directory is an untracked file the remote's queue has too"),
    ]);
    expect(readFileSync(join(ann.queue, "p1.patch.orig"), "utf8")).toBe("Ann's own leftover\n");
  });
});

describe("pq commit of a series whose patch has no file, and of a leftover git add shared (t67 N1, N2)", () => {
  it("refuses the first, naming it; takes the second", async () => {
    const { w, ann } = await annAlone();
    write(ann.queue, "p1.patch.orig", "kept on purpose\n");
    git(ann.queue, "add", "p1.patch.orig");
    expect((await ok(ann.tree, "commit", "-m", "share the orig")).out).toContain("p1.patch.orig");
    await ok(ann.tree, "pop", "-a");
    rmSync(join(ann.queue, "p1.patch"));
    write(ann.queue, "series", "p1.patch\n# a note\n");
    const r = await pq(ann.tree, "commit", "-m", "lost");
    expect([r.code, r.err]).toEqual([3, expect.stringContaining("the series lists p1.patch, which has no file in")]);
    expect(git(w.remote, "ls-tree", "--name-only", "main")).toContain("p1.patch\n");
  });
});

describe("a name pq takes that is too long for where a colleague's tree lives (t64 N12)", () => {
  it("is refused before the sync writes anything, and again the same way", async () => {
    const w = world();
    roots.push(w.root);
    const { gitIn } = plainClone(w);
    // Bob's tree about 3,250 bytes deep; Mal pushes a name of about 1,000 bytes (under pq's 1,024).
    const component = "d".repeat(199);
    const deep = join(w.root, ...Array.from({ length: 16 }, () => component));
    const bob = await join_({ root: deep, base: w.base }, w.remote, "Bob Example", "bob@example.org");
    const name = `${Array.from({ length: 5 }, () => "n".repeat(199)).join("/")}/x.patch`;
    const blob = execFileSync("git", ["-C", join(w.root, "mal"), "hash-object", "-w", "--stdin"], {
      input:
        "Subject: long\n\n---\ndiff --git a/long.c b/long.c\nnew file mode 100644\n--- /dev/null\n+++ b/long.c\n@@ -0,0 +1 @@\n+long\n",
    })
      .toString()
      .trim();
    gitIn("update-index", "--add", "--cacheinfo", `100644,${blob},${name}`);
    write(join(w.root, "mal"), "series", `${name}\n`);
    gitIn("add", "series");
    gitIn("commit", "-qm", "long");
    gitIn("push", "-q", "origin", "main");
    for (let round = 0; round < 2; round++) {
      const r = await pq(bob.tree, "sync");
      expect([r.code, r.err]).toEqual([7, expect.stringContaining("a file whose name is too long for where this queue lives")]);
      expect(r.err).toContain("nothing was changed");
      expect(existsSync(join(bob.tree, ".pq", "sync.json"))).toBe(false);
    }
    expect((await ok(bob.tree, "status")).out).not.toMatch(/sync was interrupted/);
  });
});

describe("the system refusing a write in the middle of a sync (t64 N12's rest)", () => {
  it("says the sync is left interrupted and that pq sync --abort takes it back; the abort does", async () => {
    const bob = await bobOneBehindAnn();
    const queueBefore = git(bob.queue, "rev-parse", "HEAD");
    process.env.PQ_FAILPOINT = "queue-disk-write:eio";
    try {
      for (let round = 0; round < 2; round++) {
        const r = await pq(bob.tree, "sync");
        expect([r.code, r.err]).toEqual([14, expect.stringContaining("i/o error")]);
        expect(r.err).toContain("the sync is left interrupted: pq sync completes it once that is fixed, or pq sync --abort takes it back");
      }
    } finally {
      delete process.env.PQ_FAILPOINT;
    }
    expect((await ok(bob.tree, "sync", "--abort")).out).toContain("sync aborted");
    expect(git(bob.queue, "rev-parse", "HEAD")).toBe(queueBefore);
    expect((await ok(bob.tree, "applied")).out).toBe("p1.patch\n");
    await ok(bob.tree, "sync");
    expect((await ok(bob.tree, "series")).out).toContain("p2.patch");
  });
});

describe("git failing in the middle of a sync (its update-ref: t72 N4)", () => {
  it("says the sync is left interrupted and both ways on; status says so too", async () => {
    const bob = await bobOneBehindAnn();
    // Another git holds the branch's ref lock when the sync moves it.
    const lock = join(bob.queue, ".git", "refs", "heads", "main.lock");
    write(join(bob.queue, ".git", "refs", "heads"), "main.lock", "");
    const r = await pq(bob.tree, "sync");
    expect(r.code).toBe(11);
    expect(r.err).toContain("the sync is left interrupted: pq sync completes it once that is fixed, or pq sync --abort takes it back");
    expect((await pq(bob.tree, "status")).out).toContain("a sync was interrupted: pq sync completes it (pq sync --abort takes it back)");
    rmSync(lock);
    await ok(bob.tree, "sync");
    expect((await ok(bob.tree, "applied")).out).toBe("p1.patch\n");
    expect((await ok(bob.tree, "series")).out).toContain("p2.patch");
  });
});

describe("pq sync --abort of a sync stopped while it moved to the merge (t72 N5)", () => {
  it("takes the files the sync wrote for its own, not for work done while it was stopped", async () => {
    const bob = await bobOneBehindAnn();
    const queueBefore = git(bob.queue, "rev-parse", "HEAD");
    write(join(bob.queue, ".git", "refs", "heads"), "main.lock", "");
    expect((await pq(bob.tree, "sync")).code).toBe(11);
    rmSync(join(bob.queue, ".git", "refs", "heads", "main.lock"));
    const abort = await ok(bob.tree, "sync", "--abort");
    expect(abort.out).not.toMatch(/changed while the sync was stopped|made while the sync was stopped/);
    expect(abort.out).toContain("sync aborted: the queue and the tree are as before");
    expect(git(bob.queue, "rev-parse", "HEAD")).toBe(queueBefore);
    expect(existsSync(join(bob.queue, "p2.patch"))).toBe(false);
  });
});

describe("a pq sync --abort cut short (another git holds the queue's index: t79 N4)", () => {
  it("is an abort to finish: --continue and sync refuse, status says so, and --abort finishes it", async () => {
    const { w, bob } = await bothChangeLineFive();
    const queueBefore = git(bob.queue, "rev-parse", "HEAD");
    expect((await pq(bob.tree, "sync")).code).toBe(6);
    write(join(bob.queue, ".git"), "index.lock", "");
    expect((await pq(bob.tree, "sync", "--abort")).code).toBe(11);
    rmSync(join(bob.queue, ".git", "index.lock"));
    for (const args of [["sync", "--continue"], ["sync"]]) {
      const r = await pq(bob.tree, ...args);
      expect([r.code, r.err], args.join(" ")).toEqual([12, expect.stringContaining("a pq sync --abort was interrupted")]);
    }
    expect((await ok(bob.tree, "status")).out).toContain("a pq sync --abort was interrupted: pq sync --abort finishes it");
    expect((await ok(bob.tree, "sync", "--abort")).out).toContain("sync aborted");
    expect(git(bob.queue, "rev-parse", "HEAD")).toBe(queueBefore);
    expect(read(bob.tree, "a.c")).toContain("five (bob)\n");
    expect(git(w.remote, "show", "main:p1.patch")).toContain("five (ann)");
  });
});

describe("pq rebase while a sync is stopped on conflicts (t150 N4)", () => {
  it("is refused, naming the sync's ways on first: the sync's abort had put the queue back under the rebase's stop", async () => {
    const { bob } = await bothChangeLineFive();
    expect((await pq(bob.tree, "sync")).code).toBe(6);
    const queueBefore = git(bob.queue, "rev-parse", "HEAD");
    const r = await pq(bob.tree, "rebase");
    expect(r.code).toBe(12);
    expect(r.err).toContain("a pq sync stopped on conflicts; pq rebase would move the branch under it");
    expect(r.err).toContain("then pq sync --continue; or pq sync --abort; then pq rebase");
    expect(existsSync(join(bob.tree, ".pq", "rebase.json"))).toBe(false);
    expect(git(bob.queue, "rev-parse", "HEAD")).toBe(queueBefore);
    // Word for word: the abort, then the rebase (nothing to carry the tree onto here).
    await ok(bob.tree, "sync", "--abort");
    await ok(bob.tree, "rebase");
  });
});

describe("pq undo right after a finished sync --continue (t79 N2)", () => {
  it("is refused as the sync's: the resolution refreshed while it was stopped stays", async () => {
    const { w, bob } = await bothChangeLineFive();
    expect((await pq(bob.tree, "sync")).code).toBe(6);
    write(bob.tree, "a.c", lines(40).replace("line 5\n", "five (both)\n"));
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "sync", "--continue");
    // The undo meets the finished sync, which it refuses: it had taken the resolution's refresh back (t79 N2's rest).
    const undo = await pq(bob.tree, "undo");
    expect([undo.code, undo.err]).toEqual([12, expect.stringContaining("a pq sync cannot be undone")]);
    expect(read(bob.queue, "p1.patch")).not.toContain("<<<<<<<");
    expect((await ok(bob.tree, "status")).out).not.toContain("needs a refresh");
    expect((await ok(bob.tree, "oplog")).out).toContain("sync --continue: done");
    expect(git(w.remote, "show", "main:p1.patch")).toContain("five (both)");
  });
});

describe("a pq sync --abort cut short after it put the queue back (t80 N2, N3, N6)", () => {
  it("refuses finish and commit meanwhile, naming --abort, and its finishing run says where the work made while stopped is", async () => {
    const { w, bob } = await bothChangeLineFive();
    expect((await pq(bob.tree, "sync")).code).toBe(6);
    // Work made while the sync is stopped: the resolution, refreshed.
    write(bob.tree, "a.c", lines(40).replace("line 5\n", "five (both)\n"));
    await ok(bob.tree, "refresh");
    write(join(bob.queue, ".git"), "index.lock", "");
    expect((await pq(bob.tree, "sync", "--abort")).code).toBe(11);
    rmSync(join(bob.queue, ".git", "index.lock"));
    for (const args of [["finish", "-a"], ["commit", "-m", "x"], ["undo"]]) {
      const r = await pq(bob.tree, ...args);
      expect([r.code, r.err], args.join(" ")).toEqual([12, expect.stringContaining("pq sync --abort finishes it")]);
    }
    const done = await ok(bob.tree, "sync", "--abort");
    const saved = /were saved in (\S+) before the queue was put back/.exec(done.out)?.[1];
    expect(saved, done.out).toBeDefined();
    expect(readFileSync(join(saved!, "p1.patch"), "latin1")).toContain("+five (both)");
  });
});

describe("a new patch that does not apply, committed and synced (t88 N2)", () => {
  it("is refused as new in this version, not as broken by a patch below it", async () => {
    const { w, ann } = await annAlone();
    write(join(ann.tree, "patches"), "noapply.patch", "--- a/a.c\n+++ b/a.c\n@@ -1,3 +1,3 @@\n not\n-in the\n+tree at all\n here\n");
    write(join(ann.tree, "patches"), "series", "p1.patch\nnoapply.patch\n");
    await ok(ann.tree, "commit", "-m", "a patch that never applied");
    const before = git(w.remote, "rev-parse", "main");
    const r = await pq(ann.tree, "sync");
    expect([r.code, r.err]).toEqual([
      6,
      expect.stringContaining("noapply.patch does not apply in the queue you would push (new in this version): nothing was pushed"),
    ]);
    expect(git(w.remote, "rev-parse", "main")).toBe(before);
  });
});

describe("a push that never reaches the remote (t88 N1)", () => {
  it("says the connection failed, not that the remote refused, and the next sync pushes", async () => {
    const { w, ann } = await annAlone();
    await commitNewFile(ann.tree, "p2.patch", "b.c", "bee\n");
    // Fetches come from the remote; pushes go to a port nothing listens on.
    git(join(ann.tree, "patches"), "remote", "set-url", "--push", "origin", "git://127.0.0.1:1/queue.git");
    const r = await pq(ann.tree, "sync");
    expect(r.code).toBe(11);
    expect(r.err).toContain("the push did not reach origin: the connection failed");
    expect(r.err).toMatch(/check that origin can be reached \(git -C \S+ push --dry-run origin\), then pq sync again/);
    git(join(ann.tree, "patches"), "remote", "set-url", "--push", "origin", w.remote);
    expect((await ok(ann.tree, "sync")).out).toContain("pushed");
    expect(git(w.remote, "show", "main:series")).toContain("p2.patch");
  });
});

describe("a shared branch rewound by a force-push since the last fetch (t88 N3)", () => {
  it("is said by the next sync, which puts the dropped commits back", async () => {
    const { w, ann } = await annAlone();
    const first = git(w.remote, "rev-parse", "main").trim();
    await commitNewFile(ann.tree, "p2.patch", "b.c", "bee\n");
    await ok(ann.tree, "sync");
    const second = git(w.remote, "rev-parse", "main").trim();
    // Someone force-pushes main back to the first commit.
    git(w.remote, "update-ref", "refs/heads/main", first);
    await commitNewFile(ann.tree, "p3.patch", "c.c", "see\n");
    const r = await ok(ann.tree, "sync");
    expect(r.out).toContain(
      `origin's main was rewritten since the last fetch (${second.slice(0, 12)} is no longer in it; a force-push?): this queue has the commits it dropped, and this sync's push puts them back`,
    );
    expect(git(w.remote, "show", "main:series")).toBe("p1.patch\np2.patch\np3.patch\n");
  });
});

describe("a push the queue repository's own pre-push hook stops (t100 N3)", () => {
  it("is said to be stopped here, not refused by the remote; the remote's own refusal is still the remote's", async () => {
    const { w, ann } = await annAlone();
    await commitNewFile(ann.tree, "p2.patch", "b.c", "two\n");
    const hook = join(ann.queue, ".git", "hooks", "pre-push");
    write(join(ann.queue, ".git", "hooks"), "pre-push", "#!/bin/sh\necho 'pre-push: run the tests first' >&2\nexit 1\n");
    execFileSync("chmod", ["+x", hook]);
    const before = remoteQueue(w.remote).series;
    const stopped = await pq(ann.tree, "sync");
    expect(stopped.code).toBe(11);
    expect(stopped.err).toContain("the push was stopped here, before it reached origin (by a pre-push hook of the queue's repository");
    expect(stopped.err).toContain("pre-push: run the tests first");
    expect(remoteQueue(w.remote).series).toBe(before);
    rmSync(hook);
    write(join(w.remote, "hooks"), "pre-receive", "#!/bin/sh\necho 'closed for the release'\nexit 1\n");
    execFileSync("chmod", ["+x", join(w.remote, "hooks", "pre-receive")]);
    const refused = await pq(ann.tree, "sync");
    expect(refused.code).toBe(11);
    expect(refused.err).toContain("pq: the remote refused the push");
    expect(refused.err).toContain("closed for the release");
  });
});

describe("an untracked note where the remote's queue has a directory of its name, or the other way round (t109 N3)", () => {
  for (const [mine, theirs] of [
    ["drafts", "drafts/x.patch"],
    ["notes/a.txt", "notes"],
  ] as const)
    it(`stops the sync before it would write over it: ${mine} here, ${theirs} there`, async () => {
      const { w, ann } = await annAlone();
      const { mal, gitIn } = plainClone(w);
      write(mal, theirs, "the remote's file\n");
      gitIn("add", "-A");
      gitIn("commit", "-qm", "theirs");
      gitIn("push", "-q", "origin", "main");
      write(ann.queue, mine, "Ann's own note\n");
      const r = await pq(ann.tree, "sync");
      expect([r.code, r.err]).toEqual([
        5,
        expect.stringContaining(`${mine} in the queue directory is an untracked file the remote's queue has too`),
      ]);
      expect(read(ann.queue, mine)).toBe("Ann's own note\n");
    });
});

describe("a colleague's series line pq refuses, corrected by hand as the refusal says (t127 N4)", () => {
  it("the corrected queue is pushed by the next pq sync", async () => {
    const { w, ann } = await annAlone();
    const { mal, gitIn } = plainClone(w);
    write(mal, "series", "p1.patch\n../../x.patch\n");
    gitIn("commit", "-qam", "a bad line");
    gitIn("push", "-q", "origin", "HEAD:main");
    const refused = await pq(ann.tree, "sync");
    expect(refused.code).toBe(7);
    expect(refused.err).toContain("git merge the remote branch, correct the series and the patch file, git commit, then pq sync");
    // Word for word: merge, correct, commit, pq sync.
    git(ann.queue, "merge", "-q", "origin/main");
    write(ann.queue, "series", "p1.patch\n");
    git(ann.queue, "commit", "-qam", "drop the bad line");
    const synced = await pq(ann.tree, "sync");
    expect(synced.code, synced.err).toBe(0);
    expect(remoteQueue(w.remote).series).toBe("p1.patch\n");
  });
});

describe("pq's own state (.pq/) committed into the shared queue by a colleague (t127 N11)", () => {
  it("is refused by the sync, nothing changed, naming the way out", async () => {
    const { w, ann } = await annAlone();
    const { mal, gitIn } = plainClone(w);
    write(mal, ".pq/state.json", "{}\n");
    gitIn("add", "-A");
    gitIn("commit", "-qm", "pq state");
    gitIn("push", "-q", "origin", "HEAD:main");
    const refused = await pq(ann.tree, "sync");
    expect([refused.code, refused.err]).toEqual([7, expect.stringContaining("holds .pq/state.json: pq's own state of one tree")]);
    expect(existsSync(join(ann.queue, ".pq"))).toBe(false);
    // Its way out, word for word: removed in the queue's repository and pushed, the next sync goes on.
    gitIn("pull", "-q");
    gitIn("rm", "-r", "-q", ".pq");
    gitIn("commit", "-qm", "no pq state");
    gitIn("push", "-q", "origin", "HEAD:main");
    expect((await pq(ann.tree, "sync")).code).toBe(0);
    // In a folder of the queue too (t131 N1).
    write(mal, "bugfix/.pq/state.json", "{}\n");
    gitIn("add", "-A");
    gitIn("commit", "-qm", "pq state in a folder");
    gitIn("push", "-q", "origin", "HEAD:main");
    const nested = await pq(ann.tree, "sync");
    expect([nested.code, nested.err]).toEqual([7, expect.stringContaining("holds bugfix/.pq/state.json")]);
    expect(nested.err).toContain("git rm -r bugfix/.pq in the queue's repository");
  });
});
