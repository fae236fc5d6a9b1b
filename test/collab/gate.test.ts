import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, git, pq, read, tempDir, write } from "../helpers/repo.js";
import { fixtureKernelTree } from "../helpers/kernels.js";
import { join_, ok, remoteQueue, world } from "./shared-helpers.js";

let root: string;
let base: string;
const PANIC = read("test/fixtures/kernels/variants", "panic.c");

beforeAll(() => {
  root = tempDir("pq-gate-");
  process.env.PQ_CACHE_DIR = join(root, "cache");
  base = fixtureKernelTree("pass", join(root, "base"));
  git(base, "init", "-q", "-b", "main");
  git(base, "add", "-A");
  git(base, "commit", "-q", "-m", "fixture kernel");
});
afterAll(() => cleanup(root));

function bare(name: string): string {
  const dir = join(root, name);
  execFileSync("git", ["init", "-q", "--bare", "-b", "main", dir]);
  return dir;
}

/** Ann joins the shared queue of `w` and pushes five.patch (a.c's line 5 made "five"). */
async function annSharesFive(w: { root: string; remote: string; base: string }) {
  const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
  await ok(ann.tree, "new", "five.patch", "-m", "line five");
  write(ann.tree, "a.c", read(ann.tree, "a.c").replace("line 5\n", "five\n"));
  await ok(ann.tree, "refresh");
  await ok(ann.tree, "commit", "-m", "five");
  expect((await ok(ann.tree, "sync")).out).toContain("pushed");
  return ann;
}

describe("the gate: pq hook install and pq sync --check", () => {
  it("a pre-receive hook accepts a green queue and rejects a push that breaks a state, with the matrix", async () => {
    const remote = bare("hooked.git");
    const inst = await ok(root, "hook", "install", remote, "--base", base, "--backends", "native");
    expect(inst.out).toContain("installed");
    const w = { root: join(root, "h"), base };
    execFileSync("mkdir", ["-p", w.root]);
    const ann = await join_(w, remote, "Ann Example", "ann@example.org");
    await ok(ann.tree, "new", "comment.patch", "-m", "a harmless comment");
    write(ann.tree, "main.c", read(ann.tree, "main.c") + "/* harmless */\n");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "good");
    const good = await ok(ann.tree, "sync");
    expect(good.out).toContain("pushed");
    expect(remoteQueue(remote).series).toBe("comment.patch\n");

    await ok(ann.tree, "new", "panic.patch", "-m", "this one panics");
    write(ann.tree, "main.c", PANIC);
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "bad");
    const bad = await pq(ann.tree, "sync");
    expect(bad.code).toBe(11);
    expect(bad.err).toContain("the remote refused the push");
    expect(bad.err).toContain("refusing");
    expect(bad.err).toMatch(/2 +panic\.patch +PANIC/);
    expect(bad.err).toContain("fixture panic");
    expect(bad.err).toContain("pre-receive hook declined");
    expect(remoteQueue(remote).series).toBe("comment.patch\n");
  }, 180_000);

  it("pq sync --check refuses to push a merged queue whose states newly fail, and reports old failures without blocking", async () => {
    const remote = bare("checked.git");
    const w = { root: join(root, "c"), base };
    execFileSync("mkdir", ["-p", w.root]);
    const ann = await join_(w, remote, "Ann Example", "ann@example.org");
    await ok(ann.tree, "new", "comment.patch", "-m", "a harmless comment");
    write(ann.tree, "main.c", read(ann.tree, "main.c") + "/* harmless */\n");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "good");
    expect((await ok(ann.tree, "sync", "--check", "--backends", "native")).out).toContain("pushed");

    await ok(ann.tree, "new", "panic.patch", "-m", "this one panics");
    write(ann.tree, "main.c", PANIC);
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "bad");
    const bad = await pq(ann.tree, "sync", "--check", "--backends", "native");
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("breaks a state that passed before; nothing was pushed");
    expect(bad.out).toMatch(/newly failing: state 2 \(panic\.patch\) on native: panic/);
    expect(remoteQueue(remote).series).toBe("comment.patch\n");

    // Pushed anyway without the gate: from now on that failure is known, and does not block others.
    await ok(ann.tree, "sync");
    await ok(ann.tree, "new", "another.patch", "-m", "another comment");
    write(ann.tree, "main.c", read(ann.tree, "main.c") + "/* another */\n");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "another");
    const known = await ok(ann.tree, "sync", "--check", "--backends", "native");
    expect(known.out).toContain("pushed");
    expect(known.out).toContain("2 failing cell(s) already failed before or sit on a failing state (not blocking)");
    expect(remoteQueue(remote).series).toBe("comment.patch\npanic.patch\nanother.patch\n");
  }, 180_000);

  it("a project that is not the kernel model gates by a command: hook install --run and sync --check --run (a patch in a directory)", async () => {
    const w = world();
    try {
      const check = "! grep -q BROKEN a.c";
      const hooked = w.remote;
      // Without --run a base with no build.json is refused at install, not at every push.
      const noBuild = await pq(w.root, "hook", "install", hooked, "--base", w.base);
      expect([noBuild.code, noBuild.err]).toEqual([2, expect.stringContaining("has no build.json")]);
      const inst = await ok(w.root, "hook", "install", hooked, "--base", w.base, "--run", check);
      expect(inst.out).toContain(`checks each state with ${check}`);
      const ann = await join_(w, hooked, "Ann Example", "ann@example.org");
      await ok(ann.tree, "new", "debian/fine.patch", "-m", "a fine change");
      write(ann.tree, "a.c", read(ann.tree, "a.c").replace("line 3\n", "line three\n"));
      await ok(ann.tree, "refresh");
      await ok(ann.tree, "commit", "-m", "fine");
      expect((await ok(ann.tree, "sync")).out).toContain("pushed");
      // A name with a directory (as Debian's queues have) goes through the gate and has a history (shared-3 #4, #10).
      expect((await ok(ann.tree, "log", "debian/fine.patch")).out).toContain("fine");

      await ok(ann.tree, "new", "broken.patch", "-m", "breaks the check");
      write(ann.tree, "a.c", read(ann.tree, "a.c").replace("line 30\n", "BROKEN\n"));
      await ok(ann.tree, "refresh");
      await ok(ann.tree, "commit", "-m", "broken");
      const refused = await pq(ann.tree, "sync");
      expect(refused.code).toBe(11);
      expect(refused.err).toMatch(/2 +broken\.patch +FAIL/);
      expect(refused.err).toContain("newly failing: state 2 (broken.patch) by the command: fail");
      expect(refused.err).toContain("a fix committed over the refused one sends that commit again");
      expect(remoteQueue(hooked).series).toBe("debian/fine.patch\n");

      // The same check on the contributor's side, before anything is pushed.
      const gated = await pq(ann.tree, "sync", "--check", "--run", check);
      expect(gated.code).toBe(1);
      expect(gated.out).toContain("newly failing: state 2 (broken.patch) by the command: fail");
      expect(gated.out).toContain("changed by this version at or below state 2: broken.patch (new)");
      expect(remoteQueue(hooked).series).toBe("debian/fine.patch\n");
      // Without --run, sync --check names the tree and its own --run, not a temporary copy.
      const unbuildable = await pq(ann.tree, "sync", "--check");
      expect(unbuildable.code).toBe(12);
      expect(unbuildable.err).toContain(`${ann.tree} (its git HEAD) has no build.json`);
      expect(unbuildable.err).toContain("pq sync --check --run");

      // Fixed in a commit over the refused one, the refused one goes up with it, refused again: the
      // refusal names one commit of the fixed queue, which goes through followed word for word (t123 N1).
      write(ann.tree, "a.c", read(ann.tree, "a.c").replace("BROKEN\n", "line thirty, fixed\n"));
      await ok(ann.tree, "refresh");
      await ok(ann.tree, "commit", "-m", "broken, fixed");
      const again = await pq(ann.tree, "sync");
      expect(again.code).toBe(11);
      const way = /then (git -C \S+ reset --soft \S+) \(.*\), pq commit -m MESSAGE, and pq sync/.exec(again.err)?.[1];
      expect(way).toBe(`git -C ${ann.queue} reset --soft origin/main`);
      execFileSync("sh", ["-c", way!], { cwd: ann.tree });
      await ok(ann.tree, "commit", "-m", "broken.patch, fixed");
      expect((await ok(ann.tree, "sync")).out).toContain("pushed");
      expect(remoteQueue(hooked).series).toBe("debian/fine.patch\nbroken.patch\n");
    } finally {
      cleanup(w.root);
    }
  }, 120_000);

  it("the first push into an empty queue is not refused for a base tree that already fails: no push changes it (t62 N5)", async () => {
    const w = world();
    try {
      const check = "grep -q never-there a.c";
      await ok(w.root, "hook", "install", w.remote, "--base", w.base, "--run", check);
      const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
      await ok(ann.tree, "new", "first.patch", "-m", "a first change");
      write(ann.tree, "a.c", read(ann.tree, "a.c").replace("line 3\n", "line three\n"));
      await ok(ann.tree, "refresh");
      await ok(ann.tree, "commit", "-m", "first");
      const checked = await pq(ann.tree, "sync", "--check", "--run", check);
      expect([checked.code, checked.out]).toEqual([
        0,
        expect.stringContaining("2 failing cell(s) already failed before or sit on a failing state (not blocking)"),
      ]);
      // Checked here and by the server's gate alike: pushed.
      expect(checked.out).toContain("pushed");
      expect(remoteQueue(w.remote).series).toBe("first.patch\n");
    } finally {
      cleanup(w.root);
    }
  }, 120_000);

  it("the gate checks every commit a plain git push brings, and each guard's patches (t60 N1, N2)", async () => {
    const w = world();
    try {
      await ok(w.root, "hook", "install", w.remote, "--base", w.base, "--run", "grep -q '^line 1$' a.c");
      const ann = await annSharesFive(w);
      // Someone with push access and plain git, bypassing pq's own checks.
      const mal = join(w.root, "mal");
      execFileSync("git", ["clone", "-q", w.remote, mal]);
      const gitIn = (...args: string[]) =>
        spawnSync("git", ["-C", mal, "-c", "user.name=Mal Example", "-c", "user.email=mal@example.org", ...args], { encoding: "utf8" });
      const broken =
        "From: Mal Example <mal@example.org>\nSubject: does not apply\n\n---\n--- a/a.c\n+++ b/a.c\n@@ -10,3 +10,3 @@\n nope 9\n-nope 10\n+ten\n nope 11\n";
      const pushed = () => gitIn("push", "-q", "origin", "main");
      // A patch only the guard xen turns on, which does not apply: ci (no guard selected) never applies it.
      write(mal, "guarded.patch", broken);
      write(mal, "series", "five.patch\nguarded.patch #+xen\n");
      gitIn("add", "-A");
      gitIn("commit", "-qm", "guarded, broken");
      const guarded = pushed();
      expect(guarded.status).not.toBe(0);
      expect(guarded.stderr).toContain("newly failing: guarded.patch does not apply when the guard xen is selected");
      // A patch a guard keeps out (#-xen) that the one above it needs: selecting xen breaks the one above (t64 N2).
      gitIn("reset", "-q", "--hard", "origin/main");
      const a10 = (from: string, to: string) =>
        `Subject: ${to}\n\n---\n--- a/a.c\n+++ b/a.c\n@@ -9,3 +9,3 @@\n line 9\n-${from}\n+${to}\n line 11\n`;
      write(mal, "A.patch", a10("line 10", "ten"));
      write(mal, "B.patch", a10("ten", "TEN"));
      write(mal, "series", "five.patch\nA.patch #-xen\nB.patch\n");
      gitIn("add", "-A");
      gitIn("commit", "-qm", "A kept out by xen, B needs it");
      const negative = pushed();
      expect(negative.status).not.toBe(0);
      expect(negative.stderr).toContain("newly failing: B.patch does not apply when the guard xen is selected");
      // Said as what it is: B builds on a patch the guard leaves out, so no text of B applies both ways (t144 N3).
      expect(negative.stderr).toContain(
        "it builds on A.patch (-xen), which the guard xen leaves out: no one text of B.patch applies both with and without xen",
      );
      // A broken commit under a tip that takes it out again: the tip alone passes, the commit does not.
      gitIn("reset", "-q", "--hard", "origin/main");
      write(mal, "bad.patch", broken);
      write(mal, "series", "five.patch\nbad.patch\n");
      gitIn("add", "-A");
      gitIn("commit", "-qm", "bad");
      gitIn("rm", "-q", "bad.patch");
      write(mal, "series", "five.patch\n");
      write(mal, "README", "a note\n");
      gitIn("add", "-A");
      gitIn("commit", "-qm", "tip is fine");
      const under = pushed();
      expect(under.status).not.toBe(0);
      expect(under.stderr).toMatch(/its commit [0-9a-f]{12} breaks a state that passed in the commit before it/);
      // A patch committed as a symbolic link (to a file on whoever's machine reads it): refused (t60 N5).
      gitIn("reset", "-q", "--hard", "origin/main");
      symlinkSync("/etc/hostname", join(mal, "leak.patch"));
      write(mal, "series", "five.patch\nleak.patch\n");
      gitIn("add", "-A");
      gitIn("commit", "-qm", "a link");
      const link = pushed();
      expect(link.status).not.toBe(0);
      expect(link.stderr).toContain("leak.patch in the pushed queue is a symbolic link, not a file");
      expect(remoteQueue(w.remote).series).toBe("five.patch\n");
      expect(git(w.remote, "log", "-1", "--format=%s", "main").trim()).toBe("five");
      // What is no queue version is said so, not called green (t60 N10).
      const tree = gitIn("push", "origin", "HEAD^{tree}:refs/tags/a-tree");
      expect(tree.stderr).toContain("is a tree, not a commit: no queue version, not checked");
      gitIn("checkout", "-q", "--orphan", "notes");
      gitIn("read-tree", "--empty");
      write(mal, "NOTES", "not a queue\n");
      gitIn("add", "NOTES");
      gitIn("commit", "-qm", "notes");
      expect(gitIn("push", "origin", "notes").stderr).toContain("has no series file: no queue version, not checked");
      // The queue's own branch without its series: refused (t64 N11).
      gitIn("checkout", "-q", "-f", "main");
      gitIn("reset", "-q", "--hard", "origin/main");
      gitIn("rm", "-q", "series");
      gitIn("commit", "-qm", "no series");
      const gone = pushed();
      expect(gone.status).not.toBe(0);
      expect(gone.stderr).toContain("it takes the queue away (no series file where");
      // A series line no queue may hold: said by the queue's own file name, with the pusher's way on (t127 N13).
      gitIn("reset", "-q", "--hard", "origin/main");
      write(mal, "series", "five.patch\n../../x\n");
      gitIn("commit", "-qam", "a bad line");
      const badLine = pushed();
      expect(badLine.status).not.toBe(0);
      expect(badLine.stderr).toContain('pq: series: series line 2: patch name "../../x"');
      expect(badLine.stderr).toContain("then make the fix part of the refused commit (git commit --amend");
      // A fix committed on top is refused with the commit at fault named, and the same way (t157 N6).
      const faulty = gitIn("rev-parse", "HEAD").stdout.trim();
      write(mal, "series", "five.patch\n");
      gitIn("commit", "-qam", "fix on top");
      const onTop = pushed();
      expect(onTop.status).not.toBe(0);
      expect(onTop.stderr).toContain(`its commit ${faulty.slice(0, 12)}: `);
      expect(onTop.stderr).toContain("make the fix part of the refused commit (git commit --amend");
      gitIn("reset", "-q", "--soft", "HEAD~1");
      // Word for word: amended, the push goes through.
      write(mal, "series", "five.patch\n# x dropped\n");
      const amend = gitIn("commit", "-q", "-a", "--amend", "-m", "no bad line");
      expect(amend.status, amend.stderr + amend.stdout).toBe(0);
      const amended = pushed();
      expect(amended.status, amended.stderr).toBe(0);
      expect(badLine.stderr).not.toContain("pq-gate-");
      expect(badLine.stderr).not.toContain("hook install again");
    } finally {
      cleanup(w.root);
    }
  }, 120_000);

  it("a refused commit cannot get in under a branch without a series or a new branch where HEAD names none (t156 N1, N2)", async () => {
    const w = world();
    try {
      await ok(w.root, "hook", "install", w.remote, "--base", w.base, "--run", "! grep -rq BREAKME .");
      await annSharesFive(w);
      // HEAD names a branch that does not exist (git init --bare's default, the queue on main).
      git(w.remote, "symbolic-ref", "HEAD", "refs/heads/master");
      const mal = join(w.root, "mal");
      execFileSync("git", ["clone", "-q", w.remote, mal, "-b", "main"]);
      const gitIn = (...args: string[]) =>
        spawnSync("git", ["-C", mal, "-c", "user.name=Mal Example", "-c", "user.email=mal@example.org", ...args], { encoding: "utf8" });
      const extra = (line: string) =>
        write(mal, "extra.patch", `Subject: extra\n\n---\n--- /dev/null\n+++ b/extra.c\n@@ -0,0 +1 @@\n+${line}\n`);
      extra("BREAKME");
      write(mal, "series", `${read(mal, "series")}extra.patch\n`);
      gitIn("add", "-A");
      gitIn("commit", "-qm", "bad");
      expect(gitIn("push", "origin", "main").status).not.toBe(0);
      const bad = gitIn("rev-parse", "HEAD").stdout.trim();
      // Under a branch without a series (let through: no queue version), then a good commit on top of it to main.
      gitIn("checkout", "-q", "-b", "junk");
      gitIn("rm", "-q", "series");
      gitIn("commit", "-qm", "no series here");
      expect(gitIn("push", "origin", "junk").stderr).toContain("no queue version, not checked");
      gitIn("checkout", "-q", "main");
      extra("fine");
      gitIn("commit", "-qam", "good on top of bad");
      const onTop = gitIn("push", "origin", "main");
      expect(onTop.status).not.toBe(0);
      expect(onTop.stderr).toContain(`its commit ${bad.slice(0, 12)} breaks a state that passed in the commit before it`);
      // The way on for a plain-git pusher, whose fix on top is refused with the broken commit (t156 N11).
      expect(onTop.stderr).toContain("fix the patch, then make the fix part of the refused commit (git commit --amend");
      // As a new branch: each commit it brings is checked, not its tip alone.
      const asNew = gitIn("push", "origin", "main:dev");
      expect(asNew.status).not.toBe(0);
      expect(asNew.stderr).toContain(`its commit ${bad.slice(0, 12)} breaks a state`);
      expect(spawnSync("git", ["--git-dir", w.remote, "merge-base", "--is-ancestor", bad, "main"]).status).not.toBe(0);
      // A tree git cannot check out (a .git entry made with git mktree) is refused, not judged by its series alone (t156 N13).
      gitIn("reset", "-q", "--hard", "origin/main");
      const blob = execFileSync("git", ["-C", mal, "hash-object", "-w", "--stdin"], { input: "[core]\n", encoding: "latin1" }).trim();
      const listing = `${gitIn("ls-tree", "HEAD").stdout.trim()}\n100644 blob ${blob}\t.git\n`;
      const tree = execFileSync("git", ["-C", mal, "mktree"], { input: listing, encoding: "latin1" }).trim();
      const withDotGit = gitIn("commit-tree", "-p", "HEAD", "-m", "a .git file", tree).stdout.trim();
      const dotGit = gitIn("push", "origin", `${withDotGit}:refs/heads/main`);
      expect(dotGit.status).not.toBe(0);
      expect(dotGit.stderr).toContain("holds .git, which git cannot check out");
      // And an entry named .. (t157 N2).
      const dotDot = execFileSync("git", ["-C", mal, "mktree"], {
        input: `${gitIn("ls-tree", "HEAD").stdout.trim()}\n100644 blob ${blob}\t..\n`,
        encoding: "latin1",
      }).trim();
      const withDotDot = gitIn("commit-tree", "-p", "HEAD", "-m", "an entry ..", dotDot).stdout.trim();
      const dots = gitIn("push", "origin", `${withDotDot}:refs/heads/main`);
      expect(dots.status).not.toBe(0);
      expect(dots.stderr).toContain("holds .., which git cannot check out");
    } finally {
      cleanup(w.root);
    }
  }, 120_000);

  it("a --run command is handed to the gate word for word, a quoted path with spaces and shell characters too (t156 N5)", async () => {
    const w = world();
    try {
      const tools = join(w.root, "my tools");
      write(tools, "check.sh", '#!/bin/sh\n[ "$1" = --quick ] && [ "$2" = "a;b" ] && ! grep -rq BREAKME .\n');
      execFileSync("chmod", ["+x", join(tools, "check.sh")]);
      await ok(w.root, "hook", "install", w.remote, "--base", w.base, "--run", `"${tools}/check.sh" --quick 'a;b'`);
      const ann = await annSharesFive(w);
      await ok(ann.tree, "new", "bad.patch", "-m", "bad");
      write(ann.tree, "b.c", `${read(ann.tree, "b.c")}BREAKME\n`);
      await ok(ann.tree, "refresh");
      await ok(ann.tree, "commit", "-m", "bad");
      const refused = await pq(ann.tree, "sync");
      expect(refused.code).not.toBe(0);
      expect(refused.err).toContain("newly failing: state 2 (bad.patch) by the command");
    } finally {
      cleanup(w.root);
    }
  }, 120_000);

  it("a version before the push that cannot be read is said as such, not as the push's error (t156 N7)", async () => {
    const w = world();
    try {
      const seed = join(w.root, "seed");
      execFileSync("git", ["init", "-q", "-b", "main", seed]);
      const gitIn = (...args: string[]) => git(seed, "-c", "user.name=Seed Example", "-c", "user.email=seed@example.org", ...args);
      write(seed, "legacy.patch", "Subject: legacy, known broken\n\n---\n--- /dev/null\n+++ b/legacy.c\n@@ -0,0 +1 @@\n+BREAKME\n");
      write(seed, "fine.patch", "Subject: fine\n\n---\n--- /dev/null\n+++ b/fine.c\n@@ -0,0 +1 @@\n+fine\n");
      // Pushed before the gate: a series that lists a patch twice.
      write(seed, "series", "fine.patch\nlegacy.patch\nfine.patch\n");
      gitIn("add", "-A");
      gitIn("commit", "-qm", "as it was before the gate");
      gitIn("push", "-q", w.remote, "main");
      await ok(w.root, "hook", "install", w.remote, "--base", w.base, "--run", "! grep -rq BREAKME .");
      write(seed, "series", "fine.patch\nlegacy.patch\n");
      gitIn("commit", "-qam", "fix the series");
      const fixed = spawnSync("git", ["-C", seed, "push", w.remote, "main"], { encoding: "utf8" });
      expect(fixed.status).not.toBe(0);
      expect(fixed.stderr).toContain(
        "the branch's version before this push cannot be read (series: series line 3: fine.patch is listed twice",
      );
      expect(fixed.stderr).toContain("newly failing: state 2 (legacy.patch)");
      // Its way: every state passing, the known-broken patch out.
      write(seed, "series", "fine.patch\n");
      gitIn("commit", "-qam", "fix the series, legacy out");
      gitIn("reset", "-q", "--soft", "HEAD~2");
      gitIn("commit", "-qm", "fix the series, legacy out");
      const clean = spawnSync("git", ["-C", seed, "push", w.remote, "main"], { encoding: "utf8" });
      expect(clean.status, clean.stderr).toBe(0);
    } finally {
      cleanup(w.root);
    }
  }, 120_000);

  it("installs the hook where git runs it: core.hooksPath, or a hooks/ folder it makes (t60 N6)", async () => {
    const remote = bare("hooks-path.git");
    const site = join(root, "site-hooks");
    git(remote, "config", "core.hooksPath", site);
    expect((await ok(root, "hook", "install", remote, "--base", base, "--run", "true")).out).toContain(
      `installed ${join(site, "pre-receive")}`,
    );
    expect(readFileSync(join(site, "pre-receive"), "utf8")).toContain("installed by pq hook install");
    // The same shared folder for a second queue of another configuration: refused, the first's gate kept (t64 N9).
    const second = bare("hooks-path-2.git");
    git(second, "config", "core.hooksPath", site);
    const other = await pq(root, "hook", "install", second, "--base", base, "--run", "false");
    expect([other.code, other.err]).toEqual([3, expect.stringContaining("holds the gate of another configuration")]);
    expect(readFileSync(join(site, "pre-receive"), "utf8")).not.toContain("false");
    const plain = bare("no-hooks-dir.git");
    rmSync(join(plain, "hooks"), { recursive: true, force: true });
    expect((await ok(root, "hook", "install", plain, "--base", base, "--run", "true")).out).toContain(
      `installed ${join(plain, "hooks", "pre-receive")}`,
    );
  });

  it("names the lower patch a change rewrote when the state of an upper, unchanged patch newly fails", async () => {
    const w = world();
    try {
      const check = "! (grep -q LOWER a.c && grep -q UPPER a.c)";
      const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
      await ok(ann.tree, "new", "lower.patch", "-m", "lower");
      write(ann.tree, "a.c", read(ann.tree, "a.c").replace("line 3\n", "line three\n"));
      await ok(ann.tree, "refresh");
      await ok(ann.tree, "new", "upper.patch", "-m", "upper");
      write(ann.tree, "a.c", read(ann.tree, "a.c").replace("line 30\n", "UPPER\n"));
      await ok(ann.tree, "refresh");
      await ok(ann.tree, "commit", "-m", "two patches");
      await ok(ann.tree, "sync");
      // Ann rewrites the lower patch: its own state passes, the upper patch's state now fails.
      await ok(ann.tree, "goto", "lower.patch");
      write(ann.tree, "a.c", read(ann.tree, "a.c").replace("line three\n", "LOWER\n"));
      await ok(ann.tree, "refresh");
      await ok(ann.tree, "push", "-a");
      await ok(ann.tree, "commit", "-m", "rewrite the lower patch");
      const gated = await pq(ann.tree, "sync", "--check", "--run", check);
      expect(gated.code).toBe(1);
      expect(gated.out).toContain("newly failing: state 2 (upper.patch) by the command: fail");
      expect(gated.out).toContain("changed by this version at or below state 2: lower.patch (rewritten)");
      expect(remoteQueue(w.remote).patches["lower.patch"]).toContain("+line three");
    } finally {
      cleanup(w.root);
    }
  }, 60_000);
});

describe("the gate's refusal of a patch that builds on a guarded one (t151 N4)", () => {
  it("says which guarded patch it builds on, and the ways out, where ci's plain run fails it", async () => {
    const w = world();
    try {
      await ok(w.root, "hook", "install", w.remote, "--base", w.base, "--run", "true");
      const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
      await ok(ann.tree, "new", "dbg.patch", "-m", "debug");
      write(ann.tree, "a.c", read(ann.tree, "a.c").replace("line 5\n", "five debug\n"));
      await ok(ann.tree, "refresh");
      await ok(ann.tree, "new", "build-on.patch", "-m", "on debug");
      write(ann.tree, "a.c", read(ann.tree, "a.c").replace("five debug\n", "five debug more\n"));
      await ok(ann.tree, "refresh");
      await ok(ann.tree, "commit", "-m", "two");
      await ok(ann.tree, "sync");
      await ok(ann.tree, "guard", "dbg.patch", "+debug");
      await ok(ann.tree, "commit", "-m", "guard dbg");
      // Pushed with plain git (pq sync refuses it first): the gate says why.
      const pushed = spawnSync("git", ["-C", ann.queue, "push", "origin", "HEAD:main"], { encoding: "utf8" });
      expect(pushed.status).not.toBe(0);
      expect(pushed.stderr).toContain(
        "build-on.patch applies with the guard debug selected and not with none: it builds on dbg.patch (+debug), which only the guard debug brings in",
      );
      expect(pushed.stderr).toContain("pq guard dbg.patch --none");
    } finally {
      cleanup(w.root);
    }
  }, 60_000);
});

describe("the gate's reading of a queue inside the tree's repository (--subdir)", () => {
  it("finds the queue under a directory whose name is not ASCII (t35 F2: it read as empty, and passed)", async () => {
    const { versionInGitDir } = await import("../../src/collab/gate.js");
    const repo = tempDir("pq-gate-subdir-");
    try {
      git(repo, "init", "-q", "-b", "main");
      write(repo, "a.c", "a\n");
      write(repo, "qüeue/series", "p1.patch\n");
      write(repo, "qüeue/p1.patch", "Subject: p1\n");
      git(repo, "add", "-A");
      git(repo, "commit", "-qm", "tree and queue");
      const version = versionInGitDir(join(repo, ".git"), "HEAD", "qüeue/");
      expect(version.series).toBe("p1.patch\n");
      expect(Object.keys(version.patches)).toEqual(["p1.patch"]);
    } finally {
      cleanup(repo);
    }
  });
});

describe("the gate of a queue kept in the tree's repository (hook install --subdir, t35 F3)", () => {
  it("checks each pushed queue on the tree its own commit has beside it: a tree change that breaks a patch is refused, one that carries the queue over passes", async () => {
    const root = tempDir("pq-gate-in-tree-");
    try {
      const remote = join(root, "tree.git");
      execFileSync("git", ["init", "-q", "--bare", "-b", "main", remote]);
      const ann = join(root, "ann");
      execFileSync("git", ["init", "-q", "-b", "main", ann]);
      git(ann, "config", "user.name", "Ann Example");
      git(ann, "config", "user.email", "ann@example.org");
      write(ann, "a.c", "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\n");
      git(ann, "add", "-A");
      git(ann, "commit", "-qm", "base");
      await ok(ann, "init", "--queue", "queue");
      await ok(ann, "new", "p1.patch", "-m", "p1");
      write(ann, "a.c", read(ann, "a.c").replace("line 5\n", "five\n"));
      await ok(ann, "refresh");
      await ok(ann, "pop", "-a");
      git(ann, "add", "queue");
      git(ann, "commit", "-qm", "the queue");
      git(ann, "push", "-q", remote, "main");
      // --base is for a queue in a repository of its own.
      expect((await pq(root, "hook", "install", remote, "--base", ann, "--subdir", "queue")).code).toBe(2);
      // A --subdir the branch does not have, or a backend hook check refuses: said at install, not at every push (t156 N14, N15).
      const typo = await pq(root, "hook", "install", remote, "--subdir", "queues", "--run", "true");
      expect([typo.code, typo.err]).toEqual([
        2,
        expect.stringContaining("has queues/series: a gate with --subdir queues would check no push"),
      ]);
      const backend = await pq(root, "hook", "install", remote, "--subdir", "queue", "-b", "natve");
      expect([backend.code, backend.err]).toEqual([2, expect.stringContaining("no backend named natve")]);
      const inst = await ok(root, "hook", "install", remote, "--subdir", "queue", "--run", 'grep -q "^five" a.c');
      expect(inst.out).toContain("over each pushed commit's tree, the queue in queue/");
      // The tree changes under p1 and the queue does not follow: refused.
      write(ann, "a.c", read(ann, "a.c").replace("line 5\n", "line 5 changed upstream\n"));
      git(ann, "commit", "-qam", "tree change");
      const refused = spawnSync("git", ["push", remote, "main"], { cwd: ann, encoding: "utf8" });
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain("newly failing: state 1 (p1.patch) by the command: build-error");
      expect(refused.stderr).toContain("the tree it applies to (the pushed commit's files beside the queue)");
      // The same tree change with p1 carried over to it: accepted.
      expect((await pq(ann, "push", "--merge")).code).toBe(6);
      writeFileSync(join(ann, "a.c"), read(ann, "a.c").replace(/<<<<<<< [^\n]*\n[\s\S]*?>>>>>>> [^\n]*\n/, "five\n"));
      await ok(ann, "refresh", "--force");
      await ok(ann, "pop", "-a");
      git(ann, "add", "queue");
      git(ann, "commit", "-qm", "p1 on the new tree");
      // Carried over in a commit of its own, the tree change under it still breaks p1 in the history: refused (t60 N2).
      const twoCommits = spawnSync("git", ["push", remote, "main"], { cwd: ann, encoding: "utf8" });
      expect(twoCommits.status).toBe(1);
      expect(twoCommits.stderr).toMatch(/its commit [0-9a-f]{12} breaks a state that passed in the commit before it/);
      expect(twoCommits.stderr).toContain(
        "a tree change that moves a patch's lines is pushed in one commit with the queue change that carries the patch over (git reset --soft to the commit below both, git commit, then push again)",
      );
      // In one commit with the tree change: accepted.
      git(ann, "reset", "-q", "--soft", "HEAD~2");
      git(ann, "commit", "-qm", "tree change, p1 carried over");
      const accepted = spawnSync("git", ["push", remote, "main"], { cwd: ann, encoding: "utf8" });
      expect(accepted.status, accepted.stderr).toBe(0);
      // The base tree fails the command (it lacks p1's "five"): shown, and not blocking, as it failed before (t37 N13).
      expect(accepted.stderr).toContain("the pushed queue breaks no state that passed before");
      expect(accepted.stderr).toMatch(/0 +\(base tree\) +FAIL/);
      // A new branch is judged against the repository's HEAD, not against nothing.
      const branch = spawnSync("git", ["push", remote, "HEAD:refs/heads/topic"], { cwd: ann, encoding: "utf8" });
      expect(branch.status, branch.stderr).toBe(0);
      expect(branch.stderr).toContain("the pushed queue breaks no state that passed before");
      // The tree is checked as a checkout has it: export-subst (which only git archive obeys) hides no change (t60 N4).
      write(ann, "a.c", read(ann, "a.c").replace("line 4\n", "$Format:line 4$\n"));
      write(ann, ".gitattributes", "a.c export-subst\n");
      git(ann, "add", "-A");
      git(ann, "commit", "-qm", "a change git archive would undo");
      const hidden = spawnSync("git", ["push", remote, "main"], { cwd: ann, encoding: "utf8" });
      expect(hidden.status).toBe(1);
      expect(hidden.stderr).toContain("newly failing: state 1 (p1.patch)");
      // A patch that writes into the queue's own directory: every contributor's push refuses it, and so does the gate (t156 N3).
      git(ann, "reset", "-q", "--hard", "HEAD~1");
      write(ann, "queue/notes.patch", "Subject: notes\n\n---\n--- /dev/null\n+++ b/queue/NOTES\n@@ -0,0 +1 @@\n+notes\n");
      write(ann, "queue/series", `${read(ann, "queue/series")}notes.patch\n`);
      git(ann, "add", "-A");
      git(ann, "commit", "-qm", "notes in the queue's folder");
      const intoQueue = spawnSync("git", ["push", remote, "main"], { cwd: ann, encoding: "utf8" });
      expect(intoQueue.status).toBe(1);
      expect(intoQueue.stderr).toContain('"queue/NOTES" is inside the queue directory queue/');
    } finally {
      cleanup(root);
    }
  }, 60_000);
});

describe("a --subdir gate and a history the pusher made up (t156 N6)", () => {
  it("checks a commit that does not descend from the branch against the branch too, not only against its own made-up parent", async () => {
    const root = tempDir("pq-gate-root-");
    try {
      const remote = join(root, "tree.git");
      execFileSync("git", ["init", "-q", "--bare", "-b", "main", remote]);
      const mal = join(root, "mal");
      execFileSync("git", ["init", "-q", "-b", "main", mal]);
      const gitIn = (...args: string[]) => git(mal, "-c", "user.name=Mal Example", "-c", "user.email=mal@example.org", ...args).trim();
      write(mal, "a.c", "fine\n");
      write(mal, "queue/series", "");
      gitIn("add", "-A");
      gitIn("commit", "-qm", "base and an empty queue");
      gitIn("push", "-q", remote, "main");
      await ok(root, "hook", "install", remote, "--subdir", "queue", "--run", "! grep -rq BREAKME .");
      const old = gitIn("rev-parse", "HEAD");
      // R: a new root whose tree fails everywhere, with a patch that breaks its state; B: the tree fixed, the patch kept.
      gitIn("checkout", "-q", "--orphan", "r");
      write(mal, "broken.c", "BREAKME\n");
      write(mal, "queue/extra.patch", "Subject: extra\n\n---\n--- /dev/null\n+++ b/extra.c\n@@ -0,0 +1 @@\n+BREAKME\n");
      write(mal, "queue/series", "extra.patch\n");
      gitIn("add", "-A");
      gitIn("commit", "-qm", "R");
      gitIn("rm", "-q", "broken.c");
      gitIn("commit", "-qm", "B");
      const bad = gitIn("rev-parse", "HEAD");
      // G: a merge of B and main whose tree is main's, first parent B.
      const merged = gitIn("commit-tree", "-p", bad, "-p", old, "-m", "G", `${old}^{tree}`);
      const pushed = spawnSync("git", ["-C", mal, "push", remote, `${merged}:refs/heads/main`], { encoding: "utf8" });
      expect(pushed.status).not.toBe(0);
      expect(pushed.stderr).toContain("breaks a state that passed in the branch before the push");
      expect(spawnSync("git", ["--git-dir", remote, "merge-base", "--is-ancestor", bad, "main"]).status).not.toBe(0);
      // Through a branch whose tip held no queue (let in unchecked), then forced to the made-up history (t157 N1).
      const empty = gitIn(
        "commit-tree",
        "-m",
        "notes, no queue here",
        execFileSync("git", ["-C", mal, "mktree"], { input: "", encoding: "latin1" }).trim(),
      );
      expect(spawnSync("git", ["-C", mal, "push", remote, `${empty}:refs/heads/junk`], { encoding: "utf8" }).status).toBe(0);
      const viaJunk = spawnSync("git", ["-C", mal, "push", "-f", remote, `${merged}:refs/heads/junk`], { encoding: "utf8" });
      expect(viaJunk.status).not.toBe(0);
      expect(viaJunk.stderr).toContain("breaks a state that passed in the queue the repository holds");
    } finally {
      cleanup(root);
    }
  }, 60_000);
});
