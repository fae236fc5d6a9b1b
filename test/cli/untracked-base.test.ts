import { existsSync, lstatSync, realpathSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, git, makeRepo, pq, read, tempDir, write } from "../helpers/repo.js";

/**
 * rsync's Debian queue patches aclocal.m4 and configure.sh, which the release tarball ships
 * and upstream's .gitignore lists: committed with a plain `git add -A`, they are ignored files.
 */
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(cleanup));

describe("a patch over a file git does not track", () => {
  it("an ignored file is taken as it is (push, pop); an untracked one is refused with what to do", async () => {
    const tree = makeRepo({ ".gitignore": "configure\n", "a.txt": "a\n" });
    dirs.push(tree);
    write(tree, "configure", "a\nb\n");
    write(tree, "debian/patches/fix.patch", "--- a/configure\n+++ b/configure\n@@ -1,2 +1,2 @@\n a\n-b\n+B\n");
    write(tree, "debian/patches/series", "fix.patch\n");
    git(tree, "add", "-A");
    git(tree, "commit", "-qm", "queue");
    await pq(tree, "init", "--queue", "debian/patches");
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect(read(tree, "configure")).toBe("a\nB\n");
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    expect(read(tree, "configure")).toBe("a\nb\n");
    // Not ignored any more: untracked, and refused by name.
    write(tree, ".gitignore", "");
    git(tree, "commit", "-qam", "ignore nothing");
    const r = await pq(tree, "push");
    expect(r.code).toBe(5);
    expect(r.err).toContain("configure, which fix.patch changes, is not in git's HEAD (untracked)");
    expect(r.err).toContain("git add and commit it first");
    expect(read(tree, "configure")).toBe("a\nb\n");
  });
});

describe("pq add of a file git ignores (a release tarball's configure)", () => {
  it("starts from the file as it is, as quilt add does: the patch changes it, and a pop gives it back (t38 F6)", async () => {
    const tree = makeRepo({ ".gitignore": "configure\n", "a.txt": "a\n" });
    dirs.push(tree);
    write(tree, "configure", "one\ntwo\nthree\n");
    await pq(tree, "init");
    await pq(tree, "new", "conf.patch");
    expect((await pq(tree, "add", "configure")).code).toBe(0);
    write(tree, "configure", "one\nTWO\nthree\n");
    expect((await pq(tree, "refresh")).code).toBe(0);
    const patch = read(tree, "patches/conf.patch");
    expect(patch).toContain("@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n");
    expect(patch).not.toContain("new file");
    expect((await pq(tree, "pop")).code).toBe(0);
    expect(read(tree, "configure")).toBe("one\ntwo\nthree\n");
    expect((await pq(tree, "push")).code).toBe(0);
    expect(read(tree, "configure")).toBe("one\nTWO\nthree\n");
  });
});

describe("a Debian source package's queue (debian/patches)", () => {
  /** A "3.0 (quilt)" package: upstream's a.txt, the packaging in debian/, one patch. */
  function debianPackage(): string {
    const tree = makeRepo({
      "a.txt": "a\nb\nc\n",
      "debian/changelog": "pkg (1.0-1) unstable; urgency=medium\n",
      "debian/source/format": "3.0 (quilt)\n",
    });
    dirs.push(tree);
    write(tree, "debian/patches/one.patch", "--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
    write(tree, "debian/patches/series", "one.patch\n");
    git(tree, "add", "-A");
    git(tree, "commit", "-qm", "queue");
    return tree;
  }

  it("is the queue pq init takes, with no setting of quilt's, rather than an empty patches/ beside it (t38 F8)", async () => {
    const tree = debianPackage();
    const r = await pq(tree, "init");
    expect(r.out).toContain(`with the queue ${tree}/debian/patches (debian/source/format: 3.0 (quilt)) (1 patch in its series)`);
    // dpkg-source -b would take .pq/ for a change to the package (t38 F2).
    expect(r.out).toContain('add the line extend-diff-ignore = "^\\.pq(/|$)" to debian/source/local-options');
    expect((await pq(tree, "push")).code).toBe(0);
    expect(read(tree, "a.txt")).toBe("a\nB\nc\n");
  });

  it("with a vendor series (series a link to debian.series, as dpkg-source makes it): pq writes through the link, as quilt does (t55 N3)", async () => {
    const tree = debianPackage();
    const queue = join(tree, "debian", "patches");
    renameSync(join(queue, "series"), join(queue, "debian.series"));
    symlinkSync("debian.series", join(queue, "series"));
    const init = await pq(tree, "init");
    expect(init.out).toContain("(1 patch in its series)");
    expect(init.out).not.toContain("vendor's series");
    expect((await pq(tree, "push")).code).toBe(0);
    expect((await pq(tree, "new", "two.patch")).code).toBe(0);
    write(tree, "a.txt", "a\nB\nC\n");
    expect((await pq(tree, "refresh")).code).toBe(0);
    expect((await pq(tree, "rename", "two.patch", "local/three.patch")).code).toBe(0);
    // It had replaced the link by a file: dpkg-source, which reads debian.series, never saw the new patch.
    expect(lstatSync(join(queue, "series")).isSymbolicLink()).toBe(true);
    expect(read(queue, "debian.series")).toBe("one.patch\nlocal/three.patch\n");
    expect((await pq(tree, "undo")).code).toBe(0);
    expect((await pq(tree, "undo")).code).toBe(0);
    expect(lstatSync(join(queue, "series")).isSymbolicLink()).toBe(true);
    expect(read(queue, "debian.series")).toBe("one.patch\ntwo.patch\n");
    // A patch file that is a link is not written through: deleting it removes the link, not the patch it points to (t57 N13).
    write(tree, "debian/patches/real.patch", read(queue, "one.patch"));
    symlinkSync("real.patch", join(queue, "link.patch"));
    write(tree, "debian/patches/debian.series", read(queue, "debian.series") + "link.patch\n");
    expect((await pq(tree, "delete", "link.patch")).code).toBe(0);
    expect(existsSync(join(queue, "real.patch"))).toBe(true);
    expect(lstatSync(join(queue, "series")).isSymbolicLink()).toBe(true);
    // A series of its own beside a vendor series is another list than the package applies: said at init.
    const other = debianPackage();
    write(other, "debian/patches/debian.series", "one.patch\n");
    const said = await pq(other, "init");
    expect(said.out).toContain("note: dpkg-source applies debian.series (a vendor's series) in place of series");
    expect(said.out).toContain(`ln -sf debian.series ${other}/debian/patches/series`);
  });

  it("status says an applied patch with no diff yet, which stops dpkg-source -b (t55 N7)", async () => {
    const tree = debianPackage();
    expect((await pq(tree, "init")).code).toBe(0);
    await pq(tree, "new", "later.patch", "-m", "to be filled");
    expect((await pq(tree, "status")).out).toContain("later.patch has no diff yet: dpkg-source -b (and quilt push) stop at such a patch");
    write(tree, "a.txt", read(tree, "a.txt") + "d\n");
    expect((await pq(tree, "refresh")).code).toBe(0);
    expect((await pq(tree, "status")).out).not.toContain("no diff yet");
  });

  it("takes a patch named by its path from the tree's root (debian/patches/X.patch, as a shell completes it), as quilt does (t55 N4)", async () => {
    const tree = debianPackage();
    write(tree, "debian/patches/two.patch", "--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n a\n B\n-c\n+C\n");
    write(tree, "debian/patches/series", "one.patch\ntwo.patch\n");
    expect((await pq(tree, "init")).code).toBe(0);
    expect((await pq(tree, "goto", "debian/patches/two.patch")).out).toContain("now at: two.patch");
    expect((await pq(tree, "pop", "./debian/patches/one.patch")).code).toBe(0);
    const out = tempDir("pq-export-");
    dirs.push(out);
    expect((await pq(tree, "export", "--quilt", join(out, "q"), "debian/patches/two.patch")).code).toBe(0);
    expect((await pq(tree, "header", "debian/patches/two.patch", "-m", "two")).code).toBe(0);
    expect((await pq(tree, "fold", "debian/patches/two.patch")).out).toContain("folded two.patch into one.patch");
    // A new patch (or a rename) named so is made in the queue, not in debian/patches/debian/patches/ (t57 N7).
    expect((await pq(tree, "new", "debian/patches/three.patch")).out).toContain("now at: three.patch");
    expect(existsSync(join(tree, "debian/patches/three.patch"))).toBe(true);
    expect((await pq(tree, "rename", "debian/patches/three.patch", "debian/patches/four.patch")).out).toContain(
      "renamed three.patch to four.patch",
    );
    expect(existsSync(join(tree, "debian/patches/debian"))).toBe(false);
    // import --name too (t59 N2).
    const five = join(tempDir("pq-five-"), "five.diff");
    dirs.push(dirname(five));
    writeFileSync(five, "--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n-a\n+A\n B\n C\n");
    expect((await pq(tree, "import", "--name", "debian/patches/five.patch", five)).out).toContain("five.patch");
    expect(existsSync(join(tree, "debian/patches/five.patch"))).toBe(true);
    expect(existsSync(join(tree, "debian/patches/debian"))).toBe(false);
    expect((await pq(tree, "import", "--name", "debian/patches", five)).code).toBe(2);
    const itself = await pq(tree, "new", "debian/patches");
    expect([itself.code, itself.err]).toEqual([
      2,
      expect.stringContaining("debian/patches is the queue directory itself, not a patch name"),
    ]);
    const missing = await pq(tree, "goto", "debian/patches/none.patch");
    expect(missing.code).toBe(3);
    expect(missing.err).toContain("pq series lists the patches (named from debian/patches/, the queue directory)");
    // The rest of the path is a name as any other: without .patch, or the whole absolute path (t57 N7).
    expect((await pq(tree, "goto", "debian/patches/four")).out).toContain("now at: four.patch");
    const root = realpathSync(tree);
    expect((await pq(tree, "goto", join(root, "debian/patches/one.patch"))).out).toContain("now at: one.patch");
    expect((await pq(tree, "new", join(root, "debian/patches/six.patch"))).out).toContain("now at: six.patch");
    expect(existsSync(join(tree, "debian/patches/six.patch"))).toBe(true);
    expect((await pq(tree, "new", `${join(root, "debian/patches")}/`)).err).toContain("is the queue directory itself, not a patch name");
    // A path outside the queue directory names no patch, even when its last part is one's name.
    expect((await pq(tree, "goto", join(root, "four.patch"))).code).toBe(3);
    // A queue outside the tree (init --queue DIR): its patches by their absolute paths too.
    const outside = tempDir("pq-outside-queue-");
    dirs.push(outside);
    const other = debianPackage();
    expect((await pq(other, "init", "--queue", outside)).code).toBe(0);
    expect((await pq(other, "new", join(realpathSync(outside), "seven.patch"))).out).toContain("now at: seven.patch");
    expect((await pq(other, "pop", join(realpathSync(outside), "seven"))).code).toBe(0);
  });

  it("is taken over an upstream patches/ with no series; a debian/patches pq would not take is refused, not passed over (t40 N10)", async () => {
    const tree = debianPackage();
    write(tree, "patches/README", "upstream's own patches, applied by hand\n");
    expect((await pq(tree, "init")).out).toContain(`with the queue ${tree}/debian/patches (debian/source/format: 3.0 (quilt))`);
    // patches/ a link to debian/patches is that queue, not another (t41 N6).
    const linked = debianPackage();
    symlinkSync("debian/patches", join(linked, "patches"));
    expect((await pq(linked, "init")).out).toContain(`with the queue ${linked}/debian/patches (debian/source/format: 3.0 (quilt))`);
    // And a refresh does not name that link as left out of the patch (t42 N6).
    await pq(linked, "new", "z.patch");
    write(linked, "a.txt", "a\nb\nc\nz\n");
    const refreshed = await pq(linked, "refresh");
    expect(refreshed.out).toBe("refreshed z.patch: a.txt\n");
    for (const [format, series] of [
      ["1.0\n", false],
      ["3.0 (quilt)\n", true],
    ] as const) {
      const other = debianPackage();
      write(other, "debian/source/format", format);
      if (series) write(other, "patches/series", "");
      const r = await pq(other, "init");
      expect(r.code).toBe(2);
      expect(r.err).toContain(
        `this tree has a quilt queue in debian/patches${series ? " and another in patches/" : ""}, and no setting says which is pq's`,
      );
      expect(r.err).toContain("pq init --queue debian/patches takes the Debian package's queue");
      expect(existsSync(join(other, ".pq"))).toBe(false);
      // Once a stack is made (its queue named), init says so, as in any tree.
      expect((await pq(other, "init", "--queue", "patches")).code).toBe(0);
      const again = await pq(other, "init");
      expect(again.code).toBe(3);
      expect(again.err).toContain("already has a pq stack");
    }
  });

  it("a refresh leaves the packaging (a dch edit of debian/changelog) out of the upstream patch, and says so; pq add takes a file of it (t38 F1)", async () => {
    const tree = debianPackage();
    await pq(tree, "init");
    await pq(tree, "push");
    write(tree, "debian/changelog", "pkg (1.0-2) unstable; urgency=medium\n");
    write(tree, "a.txt", "a\nB\nC\n");
    const status = await pq(tree, "status");
    expect(status.out).toContain("unrefreshed changes: a.txt\n");
    expect(status.out).toContain(
      "changed, left out (Debian packaging, beside debian/patches: the patches do not carry it; pq add FILE takes one): debian/changelog",
    );
    const r = await pq(tree, "refresh");
    expect(r.out).toContain("refreshed one.patch: a.txt\n");
    expect(r.out).toContain("left out (Debian packaging");
    expect(read(tree, "debian/patches/one.patch")).not.toContain("changelog");
    expect((await pq(tree, "pop")).code).toBe(0);
    expect(read(tree, "debian/changelog")).toBe("pkg (1.0-2) unstable; urgency=medium\n");
    // Asked for by name, a file of it is the patch's like any other.
    await pq(tree, "push");
    await pq(tree, "add", "debian/changelog");
    write(tree, "debian/changelog", "pkg (1.0-3) unstable; urgency=medium\n");
    expect((await pq(tree, "refresh")).out).toContain("refreshed one.patch: a.txt, debian/changelog");
  });

  it("pq init again after quilt pushed in the tree: the advice keeps the stack (t38 F5)", async () => {
    const tree = debianPackage();
    await pq(tree, "init");
    write(tree, ".pc/applied-patches", "one.patch\n");
    const r = await pq(tree, "init");
    expect(r.code).toBe(3);
    expect(r.err).toContain("quilt has pushed patches here since (.pc/applied-patches): quilt pop -a, then pq push -a");
    expect(r.err).not.toContain("remove .pq/");
  });
});

describe("quilt's settings", () => {
  it("pq init takes the queue from QUILT_PATCHES when no --queue is given, as quilt does", async () => {
    const tree = makeRepo({ "a.txt": "a\n" });
    dirs.push(tree);
    write(tree, "debian/patches/one.patch", "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+b\n");
    write(tree, "debian/patches/series", "one.patch\n");
    process.env.QUILT_PATCHES = "debian/patches";
    try {
      const r = await pq(tree, "init");
      expect(r.out).toContain(`with the queue ${tree}/debian/patches (QUILT_PATCHES) (1 patch in its series)`);
    } finally {
      delete process.env.QUILT_PATCHES;
    }
    expect((await pq(tree, "push")).code).toBe(0);
    expect(read(tree, "a.txt")).toBe("b\n");
  });
});

describe("a tree committed with its patches applied", () => {
  it("at the repository's first commit: pop's refusal says there is no commit below, and the way through quilt", async () => {
    const tree = makeRepo({ f: "b\n" });
    dirs.push(tree);
    await pq(tree, "init");
    write(tree, "patches/p.patch", "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n");
    write(tree, "patches/series", "p.patch\n");
    // As if pushed and committed: the stack records p as applied over a tree whose HEAD already has it.
    write(tree, "f", "a\n");
    git(tree, "commit", "-qam", "base without p");
    expect((await pq(tree, "push")).code).toBe(0);
    git(tree, "reset", "-q", "--soft", "HEAD~1");
    git(tree, "commit", "-q", "--amend", "-am", "everything at the root");
    const r = await pq(tree, "pop");
    expect(r.code).toBe(12);
    expect(r.err).toContain("HEAD is the repository's first commit");
    expect(r.err).not.toContain("git reset --soft");
  });
});
