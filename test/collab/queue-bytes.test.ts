/**
 * A shared queue keeps its patches byte for byte, whatever git would convert: with
 * core.autocrlf set in the queue's repository, a patch to a CRLF file (its lines end in CR LF)
 * reaches a colleague with its CRs, and applies there.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { attributesPattern } from "../../src/collab/queue-repo.js";
import { cleanup, git, pq, read, tempDir, write } from "../helpers/repo.js";
import { commitNewPatch, join_, ok, setIdentity, world } from "./shared-helpers.js";

let root: string | undefined;
afterEach(() => {
  if (root) cleanup(root);
});

/** Cy, with plain git: clones the shared queue, runs `script` in the clone (a change pq would refuse), pushes. Returns the clone. */
function cyPushesByHand(w: { root: string; remote: string }, script: string): string {
  const cy = join(w.root, "cy-queue");
  if (!existsSync(cy)) {
    git(w.root, "clone", "-q", w.remote, cy);
    setIdentity(cy, "Cy Example", "cy@example.org");
  }
  execFileSync("sh", ["-c", `${script} && git add -A && git commit -qm "by hand" && git push -q origin HEAD:main`], { cwd: cy });
  return cy;
}

describe("a shared queue in a repository with core.autocrlf", () => {
  it("commits and syncs a patch with CRLF lines unchanged; nothing is left uncommitted", async () => {
    const w = world();
    root = w.root;
    write(w.base, "dos.txt", "one\r\ntwo\r\n");
    git(w.base, "add", "dos.txt");
    git(w.base, "commit", "-q", "-m", "a CRLF file");
    const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    git(ann.queue, "config", "core.autocrlf", "true");
    await ok(ann.tree, "new", "dos.patch", "-m", "dos: two becomes 2");
    write(ann.tree, "dos.txt", "one\r\n2\r\n");
    await ok(ann.tree, "refresh");
    const patch = read(ann.queue, "dos.patch");
    expect(patch).toContain("-two\r\n+2\r\n");
    await ok(ann.tree, "commit", "-m", "dos.patch");
    expect(git(ann.queue, "show", "HEAD:dos.patch")).toBe(patch);
    expect((await ok(ann.tree, "status")).out).not.toContain("uncommitted");
    expect(git(ann.queue, "status", "--porcelain")).toBe("");
    await ok(ann.tree, "sync");

    const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
    git(bob.queue, "config", "core.autocrlf", "true");
    expect(read(bob.queue, "dos.patch")).toBe(patch);
    await ok(bob.tree, "push", "-a");
    expect(read(bob.tree, "dos.txt")).toBe("one\r\n2\r\n");

    // A new version comes through pq sync (not git clone) just as exactly.
    write(ann.tree, "dos.txt", "one\r\n2\r\nthree\r\n");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "dos.patch: three");
    await ok(ann.tree, "sync");
    await ok(bob.tree, "pop", "-a");
    await ok(bob.tree, "sync");
    expect(read(bob.queue, "dos.patch")).toBe(read(ann.queue, "dos.patch"));
    expect(git(bob.queue, "status", "--porcelain")).toBe("");
    await ok(bob.tree, "push", "-a");
    expect(read(bob.tree, "dos.txt")).toBe("one\r\n2\r\nthree\r\n");
  });

  it("a colleague whose git converts line ends (core.autocrlf in ~/.gitconfig, a committed eol=crlf) still clones and syncs it byte for byte", async () => {
    const w = world();
    root = w.root;
    const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    await commitNewPatch(ann, "p1.patch", { file: "a.c", line: 3, text: "three" }, "one");
    // Someone commits a .gitattributes asking for CRLF into the queue with plain git.
    write(ann.queue, ".gitattributes", "* text eol=crlf\n");
    git(ann.queue, "add", ".gitattributes");
    git(ann.queue, "commit", "-q", "-m", "line ends");
    await ok(ann.tree, "sync");
    const patch = read(ann.queue, "p1.patch");
    expect(patch).not.toContain("\r");

    // Bob's ~/.gitconfig says core.autocrlf=true (his tree is checked out before, without it).
    const bobTree = join(w.root, "bob");
    execFileSync("git", ["clone", "-q", w.base, bobTree]);
    setIdentity(bobTree, "Bob Example", "bob@example.org");
    const globalConfig = join(w.root, "bob.gitconfig");
    writeFileSync(globalConfig, "[core]\n\tautocrlf = true\n");
    const saved = process.env.GIT_CONFIG_GLOBAL;
    process.env.GIT_CONFIG_GLOBAL = globalConfig;
    try {
      await ok(bobTree, "init", "--shared", w.remote);
      const bobQueue = join(bobTree, "patches");
      setIdentity(bobQueue, "Bob Example", "bob@example.org");
      expect(read(bobQueue, "p1.patch")).toBe(patch);
      expect(read(bobQueue, "series")).toBe(read(ann.queue, "series"));
      expect((await ok(bobTree, "status")).out).not.toContain("uncommitted");
      expect(git(bobQueue, "status", "--porcelain")).toBe("");
      await ok(bobTree, "push", "-a");
      expect(read(bobTree, "a.c")).toContain("three\n");

      // A new version through pq sync arrives as exactly.
      write(ann.tree, "a.c", read(ann.tree, "a.c").replace("line 5\n", "five\n"));
      await ok(ann.tree, "refresh");
      await ok(ann.tree, "commit", "-m", "p1: five");
      await ok(ann.tree, "sync");
      await ok(bobTree, "pop", "-a");
      await ok(bobTree, "sync");
      expect(read(bobQueue, "p1.patch")).toBe(read(ann.queue, "p1.patch"));
      expect(read(bobQueue, "p1.patch")).not.toContain("\r");
      expect(git(bobQueue, "status", "--porcelain")).toBe("");
      await ok(bobTree, "push", "-a");
      expect(read(bobTree, "a.c")).toContain("five\n");
    } finally {
      if (saved === undefined) delete process.env.GIT_CONFIG_GLOBAL;
      else process.env.GIT_CONFIG_GLOBAL = saved;
    }
  });

  /** Runs `fn` with git's global config saying core.autocrlf=true (as ~/.gitconfig would). */
  async function withGlobalAutocrlf(dir: string, fn: () => Promise<void>): Promise<void> {
    const globalConfig = join(dir, "autocrlf.gitconfig");
    writeFileSync(globalConfig, "[core]\n\tautocrlf = true\n");
    const saved = process.env.GIT_CONFIG_GLOBAL;
    process.env.GIT_CONFIG_GLOBAL = globalConfig;
    try {
      await fn();
    } finally {
      if (saved === undefined) delete process.env.GIT_CONFIG_GLOBAL;
      else process.env.GIT_CONFIG_GLOBAL = saved;
    }
  }

  it("a colleague whose tree is checked out with CRLF (core.autocrlf) keeps the shared patch as it is: status says why, a refresh that takes nothing leaves it (t35 F14)", async () => {
    const w = world();
    root = w.root;
    const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    await commitNewPatch(ann, "p1.patch", { file: "a.c", line: 3, text: "three" }, "one");
    await ok(ann.tree, "sync");
    const patch = read(ann.queue, "p1.patch");
    await withGlobalAutocrlf(w.root, async () => {
      const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
      expect(read(bob.tree, "a.c")).toContain("\r\n");
      await ok(bob.tree, "push", "-a");
      const status = await ok(bob.tree, "status");
      expect(status.out).toContain("p1.patch applied only with its line endings set aside: this checkout converts line endings");
      expect(status.out).not.toContain("rewrites it for this tree");
      expect((await ok(bob.tree, "refresh")).out).toContain("p1.patch is unchanged");
      expect(read(bob.queue, "p1.patch")).toBe(patch);
      expect(git(bob.queue, "status", "--porcelain")).toBe("");
    });
  });

  it("a shared patch refreshed or merged in a CRLF checkout is written as git has the files (LF): it does not flip with each colleague (t35 F14)", async () => {
    const w = world();
    root = w.root;
    const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    await commitNewPatch(ann, "p1.patch", { file: "a.c", line: 5, text: "five" }, "one");
    await ok(ann.tree, "sync");
    await withGlobalAutocrlf(w.root, async () => {
      const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
      await ok(bob.tree, "push", "-a");
      // A real change in Bob's CRLF checkout: the patch stays LF, every line but the new one as it was.
      write(bob.tree, "a.c", read(bob.tree, "a.c").replace("line 30\r\n", "thirty (bob)\r\n"));
      await ok(bob.tree, "refresh");
      expect(read(bob.queue, "p1.patch")).not.toContain("\r");
      expect(read(bob.queue, "p1.patch")).toContain("+thirty (bob)\n");
      await ok(bob.tree, "commit", "-m", "p1: thirty");
      // Ann changes the same patch: Bob's sync merges the two in his CRLF checkout, and writes LF too.
      await withoutGlobalConfig(async () => {
        await ok(ann.tree, "goto", "p1.patch");
        write(ann.tree, "a.c", read(ann.tree, "a.c").replace("line 10\n", "ten (ann)\n"));
        await ok(ann.tree, "refresh");
        await ok(ann.tree, "commit", "-m", "p1: ten");
        await ok(ann.tree, "sync");
      });
      expect((await ok(bob.tree, "sync")).out).toContain("p1.patch: changed on both sides, merged");
      expect(read(bob.tree, "a.c")).toContain("ten (ann)\r\nline 11\r\n");
      expect(git(w.remote, "show", "main:p1.patch")).not.toContain("\r");
    });
    await ok(ann.tree, "sync");
    expect(read(ann.queue, "p1.patch")).not.toContain("\r");
    expect((await ok(ann.tree, "status")).out).not.toContain("line endings");
    expect(read(ann.tree, "a.c")).toContain("ten (ann)\n");
    expect(read(ann.tree, "a.c")).toContain("thirty (bob)\n");
  });

  it("keeps CRLF in a shared patch where every checkout has it: a file stored with CRs, one an eol=crlf attribute converts (t40 N8, N9)", async () => {
    const w = world();
    root = w.root;
    const crlf = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag} ${i + 1}\r\n`).join("");
    write(w.base, "stored.txt", crlf(12, "s"));
    write(w.base, "attr.txt", crlf(12, "t").replaceAll("\r\n", "\n"));
    write(w.base, ".gitattributes", "attr.txt eol=crlf\n");
    git(w.base, "add", "-A");
    git(w.base, "commit", "-qm", "a file stored with CRLF, one checked out with CRLF everywhere");
    const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    expect(read(ann.tree, "attr.txt")).toContain("t 1\r\n");
    await ok(ann.tree, "new", "e.patch", "-m", "e");
    write(ann.tree, "attr.txt", read(ann.tree, "attr.txt").replace("t 5\r\n", "five\r\n"));
    await ok(ann.tree, "refresh");
    // eol=crlf: the same CRLF in every checkout, so the patch has it (quilt applies it there).
    expect(read(ann.queue, "e.patch")).toContain("-t 5\r\n+five\r\n");
    await ok(ann.tree, "commit", "-m", "e");
    await ok(ann.tree, "sync");
    await withGlobalAutocrlf(w.root, async () => {
      const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
      await ok(bob.tree, "push", "-a");
      write(bob.tree, "stored.txt", read(bob.tree, "stored.txt").replace("s 7\r\n", "seven\r\n"));
      await ok(bob.tree, "refresh");
      // Stored with CRs: git diff shows them, and the patch keeps them.
      expect(read(bob.queue, "e.patch")).toContain("-s 7\r\n+seven\r\n");
      expect(read(bob.queue, "e.patch")).toContain("-t 5\r\n+five\r\n");
    });
  });

  /** Runs `fn` with git's global config as the test run has it (not withGlobalAutocrlf's). */
  async function withoutGlobalConfig(fn: () => Promise<void>): Promise<void> {
    const saved = process.env.GIT_CONFIG_GLOBAL;
    delete process.env.GIT_CONFIG_GLOBAL;
    try {
      await fn();
    } finally {
      if (saved !== undefined) process.env.GIT_CONFIG_GLOBAL = saved;
    }
  }

  it("a queue checked out converted (a plain git clone under core.autocrlf) is put back to its committed bytes, own or in the tree's repository", async () => {
    const w = world();
    root = w.root;
    // A queue inside the project's repository, committed with the tree.
    const project = join(w.root, "project");
    execFileSync("git", ["clone", "-q", w.base, project]);
    setIdentity(project, "Ann Example", "ann@example.org");
    await ok(project, "init", "--queue", "queue");
    await ok(project, "new", "p1.patch", "-m", "one");
    write(project, "a.c", read(project, "a.c").replace("line 3\n", "three\n"));
    await ok(project, "refresh");
    await ok(project, "pop");
    git(project, "add", "queue");
    git(project, "commit", "-q", "-m", "the queue");
    const committed = read(project, "queue/p1.patch");
    // A shared queue of its own, on the remote.
    const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    await ok(ann.tree, "new", "p2.patch", "-m", "two");
    write(ann.tree, "b.c", read(ann.tree, "b.c").replace("bee 3\n", "bee three\n"));
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "p2");
    await ok(ann.tree, "sync");

    await withGlobalAutocrlf(w.root, async () => {
      // Plain git clones: every queue file is checked out with CRLF line ends.
      const inTree = join(w.root, "in-tree");
      execFileSync("git", ["clone", "-q", project, inTree]);
      const own = join(w.root, "own");
      execFileSync("git", ["clone", "-q", w.base, own]);
      execFileSync("git", ["clone", "-q", w.remote, join(own, "patches")]);
      expect(read(inTree, "queue/p1.patch")).toContain("\r\n");
      expect(read(join(own, "patches"), "p2.patch")).toContain("\r\n");

      await ok(inTree, "init", "--queue", "queue");
      expect((await ok(inTree, "status")).out).not.toContain("uncommitted");
      expect(read(inTree, "queue/p1.patch")).toBe(committed);
      expect(git(inTree, "status", "--porcelain")).toBe("");
      await ok(inTree, "push", "-a");
      expect(read(inTree, "a.c")).toContain("three");

      await ok(own, "init", "--shared");
      expect((await ok(own, "status")).out).not.toContain("uncommitted");
      expect(read(join(own, "patches"), "p2.patch")).toBe(read(ann.queue, "p2.patch"));
      expect(git(join(own, "patches"), "status", "--porcelain")).toBe("");
    });
  });
});

describe("the attributes pattern of a queue directory inside the tree's repository", () => {
  it("matches exactly that directory, whatever its name: spaces, quotes, glob characters, backslashes, UTF-8", () => {
    const dir = tempDir("pq-attr-");
    root = dir;
    git(dir, "init", "-q");
    const names = ["my queue/", "my[q]/", "st*r/", 'q"uote/', "back\\slash/", "caf\u00e9 q/", "a?b/", "debian/patches/"];
    writeFileSync(join(dir, ".git/info/attributes"), names.map((n) => `${attributesPattern(n)} -text\n`).join(""));
    const textAttr = (path: string) =>
      execFileSync("git", ["check-attr", "-z", "text", "--", path], { cwd: dir, encoding: "utf8" }).split("\0")[2];
    for (const n of names) expect(textAttr(`${n}x.patch`), n).toBe("unset");
    // Only those: the glob characters are escaped, and a sibling is not matched.
    for (const other of ["stxr/x.patch", "myq/x.patch", "aXb/x.patch", "my queue2/x.patch", "debian/x.patch"])
      expect(textAttr(other), other).toBe("unspecified");
  });
});

describe("a symlink in the shared queue's directory", () => {
  it("is refused by pq commit and pq sync with the way out, made by hand or committed with plain git; nothing is committed or pushed", async () => {
    const w = world();
    root = w.root;
    const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    await ok(ann.tree, "sync");
    writeFileSync(join(w.root, "notes.txt"), "notes kept outside\n");
    symlinkSync(join(w.root, "notes.txt"), join(ann.queue, "notes"));
    const head = git(ann.queue, "rev-parse", "HEAD");
    const commit = await pq(ann.tree, "commit", "-m", "add notes");
    expect(commit.code).toBe(12);
    expect(commit.err).toContain("notes in the queue directory is a symlink: a shared queue holds regular files only");
    // Where it points is said, and removing it comes first (collab-17 F4: a link from someone else may name any file).
    expect(commit.err).toContain(
      `notes points to ${join(w.root, "notes.txt")}: remove it (git -C ${ann.queue} rm notes), or, only if you made it`,
    );
    expect(git(ann.queue, "rev-parse", "HEAD")).toBe(head);
    // Committed with plain git: pq sync refuses before it pushes anything.
    git(ann.queue, "add", "notes");
    git(ann.queue, "commit", "-q", "-m", "a link by hand");
    const sync = await pq(ann.tree, "sync");
    expect(sync.code).toBe(12);
    expect(sync.err).toContain("notes in the queue directory is a symlink");
    expect(git(w.remote, "rev-parse", "--verify", "--quiet", "main^{commit}").trim()).toBe(head.trim());
    // The second way out the refusal gives (the link is Ann's own): a copy of the file, committed and synced as a regular file.
    execFileSync("sh", ["-c", 'cp --remove-destination "$(readlink -f notes)" notes'], { cwd: ann.queue });
    await ok(ann.tree, "commit", "-m", "notes as a file");
    await ok(ann.tree, "sync");
    expect(git(w.remote, "ls-tree", "main", "notes")).toMatch(/^100644 blob /);
  });

  it("in the repository pq init --shared clones is refused, nothing made; a URL starting with '-' is no option of git clone (collab-17 F4, F25)", async () => {
    const w = world();
    root = w.root;
    const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    await ok(ann.tree, "sync");
    writeFileSync(join(w.root, "secret"), "PRIVATE KEY MATERIAL\n");
    symlinkSync(join(w.root, "secret"), join(ann.queue, "evil.patch"));
    writeFileSync(join(ann.queue, "series"), "evil.patch\n");
    git(ann.queue, "add", "-A");
    git(ann.queue, "commit", "-q", "-m", "a link, committed with plain git");
    git(ann.queue, "push", "-q", "origin", "HEAD:main");
    const tree = join(w.root, "newcomer");
    execFileSync("git", ["clone", "-q", w.base, tree]);
    setIdentity(tree, "Cy Example", "cy@example.org");
    const init = await pq(tree, "init", "--shared", w.remote);
    expect(init.code).toBe(7);
    expect(init.err).toContain("holds a symlink (or submodule): evil.patch; a shared queue holds regular files only");
    expect(existsSync(join(tree, "patches"))).toBe(false);
    expect(existsSync(join(tree, ".pq"))).toBe(false);
    // A stack of its own made shared with a URL that reads as an option: git is told where the options end.
    expect((await pq(tree, "init")).code).toBe(0);
    const pwned = join(w.root, "pwned");
    const dashed = await pq(tree, "init", `--shared=--upload-pack=touch ${pwned}; false`);
    expect(dashed.code).toBe(11);
    expect(existsSync(pwned)).toBe(false);
  });

  it("a remote file whose name is not UTF-8 is refused before anything changes, not renamed for everyone (collab-17 F15b)", async () => {
    const w = world();
    root = w.root;
    const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    await commitNewPatch(ann, "p1.patch", { file: "a.c", line: 10, text: "ten" }, "one");
    await ok(ann.tree, "sync");
    const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
    // Cy, with plain git, commits notes under a latin-1 name (caf\xe9).
    cyPushesByHand(w, "printf 'notes\\n' > \"$(printf 'notes-caf\\351.txt')\"");
    const before = { queue: git(bob.queue, "rev-parse", "HEAD"), remote: git(w.remote, "rev-parse", "main") };
    const sync = await pq(bob.tree, "sync");
    expect(sync.code).toBe(7);
    expect(sync.err).toContain("the remote's queue has a file whose name is not UTF-8 (notes-caf\ufffd.txt)");
    expect({ queue: git(bob.queue, "rev-parse", "HEAD"), remote: git(w.remote, "rev-parse", "main") }).toEqual(before);
    expect(readdirSync(bob.queue).some((n) => n.startsWith("notes"))).toBe(false);
  });

  it("coming from the remote (a patch replaced by a link and pushed with plain git), or a remote patch naming a path out of the tree, is refused before anything changes (collab-8 C2, C4)", async () => {
    const w = world();
    root = w.root;
    write(w.base, "b.c", "b1\nb2\nb3\n");
    git(w.base, "add", "b.c");
    git(w.base, "commit", "-q", "-m", "b.c");
    const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    await ok(ann.tree, "new", "p3.patch", "-m", "b2 becomes bee");
    write(ann.tree, "b.c", "b1\nbee\nb3\n");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "p3");
    await ok(ann.tree, "sync");
    const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
    await ok(bob.tree, "push", "-a");
    // Cy, with plain git: the patch becomes a link to a file outside.
    writeFileSync(join(w.root, "victim.txt"), "not a patch\n");
    cyPushesByHand(w, `rm p3.patch && ln -s '${join(w.root, "victim.txt")}' p3.patch`);
    const before = { patch: read(bob.queue, "p3.patch"), tree: read(bob.tree, "b.c"), head: git(bob.queue, "rev-parse", "HEAD") };
    const sync = await pq(bob.tree, "sync");
    expect(sync.code).toBe(7);
    expect(sync.err).toContain("holds a symlink: p3.patch; a shared queue holds regular files only");
    expect({ patch: read(bob.queue, "p3.patch"), tree: read(bob.tree, "b.c"), head: git(bob.queue, "rev-parse", "HEAD") }).toEqual(before);
    // A patch whose diff names a path out of the tree: the unsafe-patch refusal, merging or not (collab-8 C4).
    cyPushesByHand(
      w,
      "git rm -q p3.patch && git checkout -q HEAD~1 -- p3.patch && printf -- '--- a/../../victim.txt\\n+++ b/../../victim.txt\\n@@ -1 +1 @@\\n-not a patch\\n+pwned\\n' > p4.patch && echo p4.patch >> series",
    );
    await ok(bob.tree, "new", "bob.patch", "-m", "bob's own");
    await ok(bob.tree, "commit", "-m", "bob's patch");
    for (const person of [bob, ann]) {
      const r = await pq(person.tree, "sync");
      expect(r.code).toBe(7);
      expect(r.err).toContain('p4.patch (the remote\'s version): path "../../victim.txt" leaves the tree');
    }
    expect(read(w.root, "victim.txt")).toBe("not a patch\n");
  });

  it("a remote patch file the series does not list, naming a path out of the tree, is refused too (verify-11 Z1)", async () => {
    const w = world();
    root = w.root;
    const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    await ok(ann.tree, "sync");
    cyPushesByHand(w, "printf -- '--- a/../../victim.txt\\n+++ b/../../victim.txt\\n@@ -1 +1 @@\\n-x\\n+y\\n' > extra.patch");
    const r = await pq(ann.tree, "sync");
    expect(r.code).toBe(7);
    expect(r.err).toContain('extra.patch (the remote\'s version, not in its series): path "../../victim.txt" leaves the tree');
  });

  it("a remote series that is a directory is refused before the stack moves (collab-8 C15)", async () => {
    const w = world();
    root = w.root;
    const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    await ok(ann.tree, "new", "p1.patch", "-m", "one");
    write(ann.tree, "one.txt", "one\n");
    await ok(ann.tree, "add", "one.txt");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "p1");
    await ok(ann.tree, "sync");
    cyPushesByHand(w, "git rm -q series && mkdir series && echo p1.patch > series/x");
    const top = (await pq(ann.tree, "top")).out;
    const sync = await pq(ann.tree, "sync");
    expect(sync.code).toBe(7);
    expect(sync.err).toContain("the remote's queue has a directory named series (series/x)");
    expect((await pq(ann.tree, "top")).out).toBe(top);
    expect((await pq(ann.tree, "status")).out).not.toContain("interrupted");
  });
});

describe("pq init --shared without a git identity (collab-17 F20)", () => {
  it("is refused before anything is made, saying where to set it; with it set in the tree, init then works", async () => {
    const w = world();
    root = w.root;
    const tree = join(w.root, "anon");
    execFileSync("git", ["clone", "-q", w.base, tree]);
    const home = tempDir("pq-home-");
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CONFIG_HOME: home, GIT_CONFIG_NOSYSTEM: "1", EMAIL: "" };
    for (const k of ["GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"]) delete env[k];
    const unknown = spawnSync("git", ["var", "GIT_COMMITTER_IDENT"], { cwd: tree, env });
    if (unknown.status === 0) return; // this machine gives git an identity of its own (a mail name): nothing to refuse
    const run = (...args: string[]) => spawnSync(process.execPath, [resolve("bin/pq.js"), ...args], { cwd: tree, env, encoding: "utf8" });
    const init = run("init", "--shared", w.remote);
    expect(init.status).toBe(12);
    expect(init.stderr).toContain("git does not know who you are, and a shared queue is committed to: nothing was made");
    expect(existsSync(join(tree, ".pq"))).toBe(false);
    expect(existsSync(join(tree, "patches"))).toBe(false);
    setIdentity(tree, "Dee Example", "dee@example.org");
    expect(run("init", "--shared", w.remote).status).toBe(0);
    cleanup(home);
  });
});

describe("editor leftovers in the shared queue's directory (collab-17 F17)", () => {
  it("are not committed nor block a sync while untracked; commit names them", async () => {
    const w = world();
    root = w.root;
    const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    await ok(ann.tree, "new", "P.patch", "-m", "P");
    write(ann.tree, "a.c", read(ann.tree, "a.c").replace("line 3\n", "three\n"));
    await ok(ann.tree, "refresh");
    for (const junk of ["P.patch~", ".P.patch.swp", "P.patch.orig", "#P.patch#"]) writeFileSync(join(ann.queue, junk), "leftover\n");
    const commit = await ok(ann.tree, "commit", "-m", "P");
    expect(commit.out).toContain("committed 2 queue file(s)");
    expect(commit.err).toContain(
      "note: not committed (editor backups and leftovers; git add them in the queue's repository to share one): #P.patch#, .P.patch.swp, P.patch.orig, P.patch~",
    );
    await ok(ann.tree, "sync");
    expect(git(w.remote, "ls-tree", "--name-only", "main").trim().split("\n").sort()).toEqual(["P.patch", "series"]);
  });
});
