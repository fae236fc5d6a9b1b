import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, git, makeRepo, pq, read, tempDir, write } from "../helpers/repo.js";
import { BASE_FILES, editLine, join_, ok, setIdentity, world } from "./shared-helpers.js";

let root: string;
beforeAll(() => {
  root = tempDir("pq-in-tree-");
});
afterAll(() => cleanup(root));

describe("a queue inside the tree's own repository (as queue/ in this project)", () => {
  it("commits only the queue, syncs through the tree's remote, and says which kind it is", async () => {
    const origin = join(root, "project");
    execFileSync("git", ["init", "-q", "-b", "main", origin]);
    for (const [p, c] of Object.entries(BASE_FILES)) write(origin, p, c);
    write(origin, "queue/series", "");
    git(origin, "add", "-A");
    git(origin, "commit", "-q", "-m", "project with an empty queue");
    const remote = join(root, "project.git");
    execFileSync("git", ["clone", "-q", "--bare", origin, remote]);

    const people = [];
    for (const [name, email] of [
      ["Ann Example", "ann@example.org"],
      ["Bob Example", "bob@example.org"],
    ]) {
      const dir = join(root, name.split(" ")[0]);
      execFileSync("git", ["clone", "-q", remote, dir]);
      setIdentity(dir, name, email);
      await ok(dir, "init", "--queue", "queue");
      people.push(dir);
    }
    const [ann, bob] = people;
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
