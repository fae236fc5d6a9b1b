import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, git, makeRepo, pq, read, tempDir, write } from "../helpers/repo.js";
import { BASE_FILES, editLine, join_, ok, setIdentity, world } from "./shared-helpers.js";
import { Stack } from "../../src/queue/stack.js";
import { sync } from "../../src/collab/sync.js";

let root: string;
beforeAll(() => {
  root = tempDir("pq-in-tree-");
});
afterAll(() => cleanup(root));

describe("a queue inside the tree's own repository (as queue/ in this project)", () => {
  it("commits only the queue, syncs through the tree's remote, and says which kind it is", async () => {
    const { remote, clone } = projectWithAnEmptyQueue("first");
    const [ann, bob] = [await clone("Ann Example"), await clone("Bob Example")];
    const st = JSON.parse((await ok(ann, "status", "--json")).out);
    expect(st.shared).toMatchObject({ kind: "in-tree", upstream: "origin/main", ahead: 0, behind: 0 });

    await ok(ann, "new", "ann.patch", "-m", "ann's");
    editLine(ann, "a.c", 3, "three (ann)");
    await ok(ann, "refresh");
    const c = await ok(ann, "commit", "-m", "ann adds a patch");
    expect(c.out).toContain("committed 2 queue file(s)");
    expect(execFileSync("git", ["-C", ann, "show", "--name-only", "--format=", "HEAD"], { encoding: "utf8" }).trim().split("\n")).toEqual([
      "queue/ann.patch",
      "queue/series",
    ]);
    expect(JSON.parse((await ok(ann, "status", "--json")).out).shared).toMatchObject({ ahead: 1, behind: 0 });
    await ok(ann, "sync");

    await ok(bob, "new", "bob.patch", "-m", "bob's");
    editLine(bob, "b.c", 7, "seven (bob)");
    await ok(bob, "refresh", "-s");
    await ok(bob, "commit", "-m", "bob adds a patch");
    expect((await ok(bob, "status")).out).toContain("shared queue in the tree's git repository; 1 ahead, 0 behind origin/main");
    const s = await ok(bob, "sync");
    expect(s.out).toContain("pushed");
    expect(read(bob, "queue/series")).toBe("ann.patch\nbob.patch\n");
    expect(read(bob, "a.c")).toContain("three (ann)\n");
    expect(read(bob, "queue/bob.patch")).toContain("From: Bob Example <bob@example.org>");
    expect(read(bob, "queue/bob.patch")).toContain("Signed-off-by: Bob Example <bob@example.org>");
    // The applied patches are the tree's only changes; nothing of them was committed.
    expect(git(bob, "status", "--porcelain", "--untracked-files=no").split("\n").filter(Boolean).sort()).toEqual([" M a.c", " M b.c"]);
    expect(execFileSync("git", ["--git-dir", remote, "show", "main:a.c"], { encoding: "latin1" })).toBe(BASE_FILES["a.c"]);

    await ok(ann, "sync");
    await ok(ann, "goto", "bob.patch");
    await ok(ann, "refresh", "-s");
    const annHeader = read(ann, "queue/bob.patch");
    expect(annHeader).toContain("From: Bob Example <bob@example.org>");
    expect(annHeader).toMatch(/Signed-off-by: Bob Example <bob@example.org>\nSigned-off-by: Ann Example <ann@example.org>\n/);

    // Applied patches committed into the tree by hand are not pushed with the queue (collab-7 #4).
    await ok(ann, "commit", "-m", "ann signs bob's patch");
    git(ann, "commit", "-qam", "wip oops");
    const remoteHead = execFileSync("git", ["--git-dir", remote, "rev-parse", "main"], { encoding: "utf8" });
    const refused = await pq(ann, "sync");
    expect(refused.code).toBe(12);
    expect(refused.err).toContain("your branch has commits that change files outside the queue (a.c, b.c)");
    expect(execFileSync("git", ["--git-dir", remote, "rev-parse", "main"], { encoding: "utf8" })).toBe(remoteHead);
    git(ann, "reset", "-q", "HEAD~1");
    expect((await ok(ann, "sync")).out).toContain("pushed");

    // Ann's own tree commit, while the remote has a queue commit of Bob's: hers, not "the remote's" (collab-8 C6).
    await ok(bob, "sync");
    await ok(bob, "header", "bob.patch", "-m", "bob's, reworded");
    await ok(bob, "commit", "-m", "bob rewords");
    await ok(bob, "sync");
    await ok(ann, "pop", "-a");
    write(ann, "new.c", "int new;\n");
    git(ann, "add", "new.c");
    git(ann, "commit", "-qm", "a tree change of ann's");
    const own = await pq(ann, "sync");
    expect(own.code).toBe(12);
    expect(own.err).toContain("your branch has commits that change files outside the queue (new.c)");
    expect(own.err).not.toContain("the remote branch");
  });

  it("an untracked patches/ is an ordinary queue, not a shared one", async () => {
    const dir = makeRepo({ "a.c": "a\n" });
    await ok(dir, "init");
    expect(JSON.parse((await ok(dir, "status", "--json")).out).shared).toBeUndefined();
    const c = await pq(dir, "commit", "-m", "x");
    expect(c.code).toBe(12);
    expect(c.err).toContain("is not versioned");
    cleanup(dir);
  });
});

describe("a queue inside the tree's repository, cloned with core.autocrlf=true (collab-8 C13)", () => {
  // qüeue: git reads info/attributes as UTF-8, and the pattern was written in Latin-1 (t35 F1).
  for (const queue of ["queue", "qüeue"])
    it(`is put back to its committed bytes by pq init, before the first push reads it (${queue}/)`, async () => {
      const origin = join(root, `crlf-project-${queue}`);
      execFileSync("git", ["init", "-q", "-b", "main", origin]);
      for (const [p, c] of Object.entries(BASE_FILES)) write(origin, p, c);
      write(origin, `${queue}/series`, "p1.patch\n");
      write(
        origin,
        `${queue}/p1.patch`,
        "Subject: p1\n\n--- a/a.c\n+++ b/a.c\n@@ -1,2 +1,2 @@\n-" +
          BASE_FILES["a.c"].split("\n")[0] +
          "\n+first (p1)\n " +
          BASE_FILES["a.c"].split("\n")[1] +
          "\n",
      );
      git(origin, "add", "-A");
      git(origin, "commit", "-q", "-m", "project with a queue");
      write(root, "autocrlf.gitconfig", "[core]\n\tautocrlf = true\n");
      const was = process.env.GIT_CONFIG_GLOBAL;
      process.env.GIT_CONFIG_GLOBAL = join(root, "autocrlf.gitconfig");
      try {
        const clone = join(root, `crlf-clone-${queue}`);
        execFileSync("git", ["clone", "-q", origin, clone]);
        expect(read(clone, `${queue}/p1.patch`)).toContain("\r\n");
        await ok(clone, "init", "--queue", queue);
        expect(read(clone, `${queue}/p1.patch`)).not.toContain("\r");
        expect(git(clone, "check-attr", "text", "--", `${queue}/p1.patch`)).toContain("text: unset");
        await ok(clone, "push", "-a");
        expect((await ok(clone, "status")).out).not.toContain("changed in the queue since it was pushed");
      } finally {
        if (was === undefined) delete process.env.GIT_CONFIG_GLOBAL;
        else process.env.GIT_CONFIG_GLOBAL = was;
      }
    });
});

/** A project whose queue/ is committed in its own repository (empty), its bare remote, and a way to clone it as a contributor. */
function projectWithAnEmptyQueue(name: string) {
  const dir = join(root, name);
  const origin = join(dir, "project");
  execFileSync("git", ["init", "-q", "-b", "main", origin]);
  for (const [p, c] of Object.entries(BASE_FILES)) write(origin, p, c);
  write(origin, "queue/series", "");
  git(origin, "add", "-A");
  git(origin, "commit", "-q", "-m", "project with an empty queue");
  const remote = join(dir, "project.git");
  execFileSync("git", ["clone", "-q", "--bare", origin, remote]);
  const clone = async (who: string) => {
    const tree = join(dir, who.split(" ")[0]);
    execFileSync("git", ["clone", "-q", remote, tree]);
    setIdentity(tree, who, `${who.split(" ")[0].toLowerCase()}@example.org`);
    await ok(tree, "init", "--queue", "queue");
    return tree;
  };
  return { remote, clone };
}

/** The contributor in `tree` starts the shared queue with p1 (a.c line 10), committed and synced. */
async function sharesP1(tree: string): Promise<string> {
  await ok(tree, "new", "p1.patch", "-m", "p1");
  editLine(tree, "a.c", 10, "ten");
  await ok(tree, "refresh");
  await ok(tree, "commit", "-m", "p1");
  await ok(tree, "sync");
  return tree;
}

describe("an in-tree queue changed on both sides while the remote also brings tree commits (t144 N9, t150 N5)", () => {
  it("is synced with nothing applied: the remote's tree changes come in with its queue, merged patch by patch", async () => {
    const { remote, clone } = projectWithAnEmptyQueue("both");
    const ann = await sharesP1(await clone("Ann Example"));
    const bob = await clone("Bob Example");
    await ok(bob, "push", "-a");
    /** Ann changes p1 and pushes a tree change under nothing of the queue's, as the sync's refusal says; Bob changes p1 too. */
    const bothChangeP1WithATreeChange = async (ann20: number, annText: string, bLine: number, bText: string, bob20Text: string) => {
      editLine(ann, "a.c", ann20, annText);
      await ok(ann, "refresh");
      await ok(ann, "commit", "-m", `ann: p1 line ${ann20}`);
      await ok(ann, "pop", "-a");
      editLine(ann, "b.c", bLine, bText);
      git(ann, "commit", "-qam", "ann's tree change");
      git(ann, "push", "-q", "origin", "main");
      editLine(bob, "a.c", 20, bob20Text);
      await ok(bob, "refresh");
      await ok(bob, "commit", "-m", "bob: p1 line 20");
    };
    await bothChangeP1WithATreeChange(12, "twelve (ann)", 2, "two (ann tree)", "twenty (bob)");
    const refused = await pq(bob, "sync");
    expect(refused.code).toBe(12);
    expect(refused.err).toContain("the remote branch also changes files outside the queue (b.c)");
    expect(refused.err).toContain(
      "pq pop -a, then pq sync (with no patch applied it takes the remote's tree changes in with its queue, merged patch by patch), then pq push -a",
    );
    // Word for word; an edit of Bob's in a file the remote's tree commits change is set aside first, as the sync says.
    await ok(bob, "pop", "-a");
    editLine(bob, "b.c", 15, "fifteen (bob, not committed)");
    const inTheWay = await pq(bob, "sync");
    expect(inTheWay.code).toBe(5);
    expect(inTheWay.err).toContain("the remote's tree commits change files you have changes in: b.c (edited)");
    expect(inTheWay.err).toContain("set the edits aside: git stash, pq sync, then git stash pop");
    expect(read(bob, "b.c")).not.toContain("two (ann tree)");
    git(bob, "stash", "-q");
    // Killed as it moves the queue's branch (the tree's files moved already): --abort puts b.c back with the queue,
    // and a sync after another such kill completes it.
    const head = git(bob, "rev-parse", "HEAD");
    const killedSync = () =>
      spawnSync(process.execPath, [resolve("bin/pq.js"), "sync"], {
        cwd: bob,
        encoding: "utf8",
        env: { ...process.env, PQ_FAILPOINT: "queue-index-set" },
      });
    expect(killedSync().signal).toBe("SIGKILL");
    expect(read(bob, "b.c")).toContain("two (ann tree)");
    await ok(bob, "sync", "--abort");
    expect([git(bob, "rev-parse", "HEAD"), git(bob, "status", "--porcelain", "--untracked-files=no")]).toEqual([head, ""]);
    expect(read(bob, "b.c")).not.toContain("two (ann tree)");
    expect(killedSync().signal).toBe("SIGKILL");
    // (The merge was made by the killed run: this one completes it and pushes.)
    expect((await ok(bob, "sync")).out).toContain("pushed (nothing to merge)");
    expect(git(bob, "status", "--porcelain", "--untracked-files=no")).toBe("");
    git(bob, "stash", "pop", "-q");
    expect(read(bob, "b.c")).toContain("fifteen (bob, not committed)\n");
    editLine(bob, "b.c", 15, "bee 15");
    await ok(bob, "push", "-a");
    expect(read(bob, "b.c")).toContain("two (ann tree)\n");
    for (const line of ["ten\n", "twelve (ann)\n", "twenty (bob)\n"]) expect(read(bob, "a.c")).toContain(line);
    // The tree's only changes are the applied patch's: b.c came in as committed, and nothing is staged.
    expect(git(bob, "status", "--porcelain", "--untracked-files=no")).toBe(" M a.c\n");
    expect(execFileSync("git", ["--git-dir", remote, "show", "main:b.c"], { encoding: "latin1" })).toContain("two (ann tree)\n");
    await ok(ann, "sync");
    await ok(ann, "push", "-a");
    expect(read(ann, "a.c")).toBe(read(bob, "a.c"));
    // Both change p1's line 20 while a tree commit comes too: a conflict the sync cannot stop on, refused with nothing changed.
    await bothChangeP1WithATreeChange(20, "twenty (ann)", 4, "four (ann tree)", "twenty (bob, again)");
    await ok(bob, "pop", "-a");
    const before = { head: git(bob, "rev-parse", "HEAD"), queue: read(bob, "queue/p1.patch"), b: read(bob, "b.c") };
    const conflict = await pq(bob, "sync");
    expect(conflict.code).toBe(6);
    expect(conflict.err).toContain("and the remote brings tree changes too, which a stopped sync cannot hold: nothing was changed");
    expect([git(bob, "rev-parse", "HEAD"), read(bob, "queue/p1.patch"), read(bob, "b.c")]).toEqual([before.head, before.queue, before.b]);
    expect((await ok(bob, "status")).out).not.toContain("sync stopped");
    expect(conflict.err).toContain("conflicted: p1");
    expect(conflict.err).not.toContain("kept with conflict markers");
    // Its way, word for word, keeps an uncommitted edit in a file the remote's commits leave alone (t152 N5).
    editLine(bob, "a.c", 38, "thirty-eight (bob, not committed)");
    const way = /(git branch mine), (git reset --keep \S+) \(/.exec(conflict.err);
    expect(way, conflict.err).not.toBeNull();
    for (const command of [way![1], way![2]]) git(bob, ...command.split(" ").slice(1));
    expect(read(bob, "a.c")).toContain("thirty-eight (bob, not committed)\n");
    expect(read(bob, "b.c")).toContain("four (ann tree)\n");
  });

  it("--abort after a first round that took tree commits in and lost its push race puts those files back too (t152 N7)", async () => {
    const { clone } = projectWithAnEmptyQueue("race");
    const ann = await sharesP1(await clone("Ann Example"));
    const [bob, carl] = [await clone("Bob Example"), await clone("Carl Example")];
    // Ann: p1 changed and a tree commit; Carl: p1's line 35 his way (not pushed yet); Bob: p1's line 35 his way.
    editLine(ann, "a.c", 2, "two (ann)");
    await ok(ann, "refresh");
    await ok(ann, "commit", "-m", "ann: p1");
    await ok(ann, "pop", "-a");
    editLine(ann, "b.c", 10, "ten (ann tree)");
    git(ann, "commit", "-qam", "ann's tree change");
    git(ann, "push", "-q", "origin", "main");
    for (const [who, text] of [
      [carl, "thirty-five (carl)"],
      [bob, "thirty-five (bob)"],
    ]) {
      await ok(who, "push", "-a");
      editLine(who, "a.c", 35, text);
      await ok(who, "refresh");
      await ok(who, "commit", "-m", text);
      await ok(who, "pop", "-a");
    }
    const before = { head: git(bob, "rev-parse", "HEAD"), b: read(bob, "b.c") };
    // Carl's sync lands between Bob's first merge and its push.
    let calls = 0;
    const report = await sync(await Stack.open({ tree: bob }), {
      gate: async () => {
        if (calls++ === 0) await ok(carl, "sync");
        return { ok: true, report: "" };
      },
    });
    expect([report.result, report.attempts]).toEqual(["conflicts", 2]);
    expect(read(bob, "b.c")).toContain("ten (ann tree)");
    await ok(bob, "sync", "--abort");
    expect([git(bob, "rev-parse", "HEAD"), read(bob, "b.c"), git(bob, "status", "--porcelain", "--untracked-files=no")]).toEqual([
      before.head,
      before.b,
      "",
    ]);
  });

  it("a sync killed between writing the remote's tree files and removing the ones it deletes is completed, or taken back, whole (t152 N6)", async () => {
    const { clone } = projectWithAnEmptyQueue("half-written");
    const ann = await sharesP1(await clone("Ann Example"));
    const bob = await clone("Bob Example");
    // Ann: p1 changed, and a tree commit that moves b.c to c.c with a change (one path written, one removed).
    editLine(ann, "a.c", 2, "two (ann)");
    await ok(ann, "refresh");
    await ok(ann, "commit", "-m", "ann: p1");
    await ok(ann, "pop", "-a");
    git(ann, "mv", "b.c", "c.c");
    editLine(ann, "c.c", 10, "ten (ann tree)");
    git(ann, "commit", "-qam", "ann moves b.c to c.c");
    git(ann, "push", "-q", "origin", "main");
    // Bob: p1 changed his way, nothing applied.
    await ok(bob, "push", "-a");
    editLine(bob, "a.c", 35, "thirty-five (bob)");
    await ok(bob, "refresh");
    await ok(bob, "commit", "-m", "bob: p1");
    await ok(bob, "pop", "-a");
    const before = { head: git(bob, "rev-parse", "HEAD"), b: read(bob, "b.c") };
    const killedSync = () =>
      spawnSync(process.execPath, [resolve("bin/pq.js"), "sync"], {
        cwd: bob,
        encoding: "utf8",
        env: { ...process.env, PQ_FAILPOINT: "tree-files-checked-out" },
      });
    // Killed with c.c written and b.c not yet removed: --abort takes it back whole.
    expect(killedSync().signal).toBe("SIGKILL");
    expect([existsSync(join(bob, "b.c")), read(bob, "c.c")]).toEqual([true, expect.stringContaining("ten (ann tree)")]);
    await ok(bob, "sync", "--abort");
    expect([git(bob, "rev-parse", "HEAD"), read(bob, "b.c"), existsSync(join(bob, "c.c")), git(bob, "status", "--porcelain")]).toEqual([
      before.head,
      before.b,
      false,
      "",
    ]);
    // Killed there again: the next sync completes it.
    expect(killedSync().signal).toBe("SIGKILL");
    await ok(bob, "sync");
    expect([existsSync(join(bob, "b.c")), read(bob, "c.c"), git(bob, "status", "--porcelain")]).toEqual([
      false,
      expect.stringContaining("ten (ann tree)"),
      "",
    ]);
    await ok(bob, "push", "-a");
    for (const line of ["two (ann)\n", "thirty-five (bob)\n"]) expect(read(bob, "a.c")).toContain(line);
  });
});
