import { execFileSync, spawnSync } from "node:child_process";
import { gzipSync } from "node:zlib";
import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, git, makeRepo, pq, read, snapshot, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});
/** A path next to the tree (a saved mail, an export's output), removed after the test. */
function besideTree(tree: string, stem: string, ext = ""): string {
  const path = join(tree, "..", `${stem}-${Date.now()}${ext}`);
  dirs.push(path);
  return path;
}

const repo = (files: Record<string, string>) => {
  const d = makeRepo(files);
  dirs.push(d);
  return d;
};

/** A tree with a pq stack, and a git format-patch mail of a commit over it (a.c gains a line) with `message`. */
async function mailedCommit(message: string): Promise<{ tree: string; mail: string }> {
  const tree = repo({ "a.c": "a\n" });
  write(tree, "a.c", "a\nb\n");
  git(tree, "commit", "-qam", message);
  const mail = join(tempDir(), "m.patch");
  dirs.push(join(mail, ".."));
  writeFileSync(mail, git(tree, "format-patch", "-1", "--stdout"));
  git(tree, "reset", "-q", "--hard", "HEAD~1");
  expect((await pq(tree, "init")).code).toBe(0);
  return { tree, mail };
}

describe("import and export", () => {
  it("an hg mq queue (HG changeset headers, guards) imports with its guards and authors", async () => {
    const hg = tempDir("pq-hg-");
    dirs.push(hg);
    write(hg, ".hg/patches/series", "one.diff\ntwo.diff #+experimental\n");
    write(
      hg,
      ".hg/patches/one.diff",
      "# HG changeset patch\n# User Xena Eventchan <xena.eventchan@example.org>\n# Date 1165000000 28800\n# Parent  0000000000000000000000000000000000000000\nxen: first\n\nWhy.\n\ndiff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+A\n",
    );
    write(
      hg,
      ".hg/patches/two.diff",
      "From: Vera Romscan <vera.romscan@example.org>\nSubject: vmi: second\n\ndiff --git a/b.txt b/b.txt\nnew file mode 100644\n--- /dev/null\n+++ b/b.txt\n@@ -0,0 +1 @@\n+b\n",
    );
    const tree = repo({ "a.txt": "a\n" });
    await pq(tree, "init");
    expect((await pq(tree, "import", "--hg", hg)).code).toBe(0);
    expect(JSON.parse((await pq(tree, "guard", "--list", "--json")).out)).toEqual([
      { name: "one.diff", guards: [] },
      { name: "two.diff", guards: ["+experimental"] },
    ]);
    const header = JSON.parse((await pq(tree, "header", "one.diff", "--json")).out);
    expect(header).toMatchObject({ author: "Xena Eventchan <xena.eventchan@example.org>", subject: "xen: first", body: "Why." });
    expect((await pq(tree, "push", "-a")).out).toContain("now at: one.diff");
    expect(read(tree, "a.txt")).toBe("A\n");
  });

  it("an hg mq queue's selected guards (hg qselect) come with its guards, where the stack has none selected (t55 N6)", async () => {
    const hg = tempDir("pq-hg-");
    dirs.push(hg);
    write(hg, ".hg/patches/series", "one.diff\ntwo.diff #+experimental\n");
    write(hg, ".hg/patches/guards", "experimental\n");
    write(hg, ".hg/patches/one.diff", "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+A\n");
    write(hg, ".hg/patches/two.diff", "diff --git a/b.txt b/b.txt\nnew file mode 100644\n--- /dev/null\n+++ b/b.txt\n@@ -0,0 +1 @@\n+b\n");
    const tree = repo({ "a.txt": "a\n" });
    await pq(tree, "init");
    const r = await pq(tree, "import", "--hg", hg, "--push");
    expect(r.code).toBe(0);
    // It had pushed one.diff alone, where hg qpush -a applies both.
    expect(r.out).toContain("selected the guards hg's queue had selected (hg qselect): experimental");
    expect((await pq(tree, "applied")).out).toBe("one.diff\ntwo.diff\n");
    expect((await pq(tree, "select")).out.trim()).toBe("experimental");
    // One operation: undo takes the selection back with the import.
    expect((await pq(tree, "undo")).code).toBe(0);
    expect((await pq(tree, "select")).out).toContain("no guards selected");
    // A stack with a selection of its own keeps it, and is told hg's.
    expect((await pq(tree, "select", "other")).code).toBe(0);
    const kept = await pq(tree, "import", "--hg", hg);
    expect(kept.out).toContain(
      "note: hg's queue had experimental selected; this stack keeps its own selection (pq select experimental takes hg's)",
    );
    expect((await pq(tree, "select")).out.trim()).toBe("other");
  });

  it("export --mbox and import of that mbox round-trip patches, messages and authors", async () => {
    const tree = repo({ "a.txt": "a\n" });
    await pq(tree, "init");
    await pq(tree, "new", "first.patch", "-m", "First change\n\nBody one.", "-u", "J\u00f6rg Author <j@example.org>");
    write(tree, "a.txt", "a1\n");
    await pq(tree, "refresh");
    await pq(tree, "new", "second.patch", "-m", "Second change");
    write(tree, "a.txt", "a2\n");
    await pq(tree, "refresh");
    const mbox = join(tempDir(), "out.mbox");
    dirs.push(resolve(mbox, ".."));
    expect((await pq(tree, "export", "--mbox", mbox)).code).toBe(0);

    const other = repo({ "a.txt": "a\n" });
    await pq(other, "init");
    const imported = await pq(other, "import", mbox, "--push");
    expect(imported.out).toContain("imported 2 patch(es)");
    expect(read(other, "a.txt")).toBe("a2\n");
    const first = JSON.parse((await pq(other, "header", (await pq(other, "series")).out.split("\n")[0], "--json")).out);
    expect(first).toMatchObject({ subject: "First change", body: "Body one.", author: "J\u00f6rg Author <j@example.org>" });
    // git am takes the same mbox.
    const am = repo({ "a.txt": "a\n" });
    expect(spawnSync("git", ["am", "-q", mbox], { cwd: am }).status).toBe(0);
    expect(read(am, "a.txt")).toBe("a2\n");
    // import --mbox FILE, as export --mbox FILE wrote it, is the same import.
    const third = repo({ "a.txt": "a\n" });
    await pq(third, "init");
    expect((await pq(third, "import", "--mbox", mbox, "-P")).out).toContain("imported 2 patch(es)");
    expect((await pq(third, "series")).out).toBe((await pq(other, "series")).out);
    expect(read(third, "a.txt")).toBe("a2\n");
  });

  it("a patch with binary files exported with --dir is taken by git am (full index lines)", async () => {
    const blob = (seed: number) => Array.from({ length: 600 }, (_, i) => String.fromCharCode((i * seed) % 256)).join("");
    const base = { "fw.bin": blob(7), "gone.bin": blob(3), "a.txt": "a\n" };
    const tree = repo(base);
    await pq(tree, "init");
    await pq(tree, "new", "bin.patch", "-m", "Binary changes");
    write(tree, "fw.bin", blob(11));
    write(tree, "new.bin", blob(5));
    cleanup(join(tree, "gone.bin"));
    write(tree, "a.txt", "a2\n");
    await pq(tree, "add", "new.bin");
    expect((await pq(tree, "refresh")).code).toBe(0);
    expect(read(tree, "patches/bin.patch")).toMatch(/^index [0-9a-f]{40}\.\.[0-9a-f]{40} 100644$/m);
    const out = tempDir("pq-export-");
    dirs.push(out);
    expect((await pq(tree, "export", "--dir", out)).code).toBe(0);
    const am = repo(base);
    const mails = readdirSync(out)
      .filter((f) => f.endsWith(".patch"))
      .sort()
      .map((f) => join(out, f));
    const r = spawnSync("git", ["am", "-q", ...mails], { cwd: am, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const withoutQueue = (root: string) => Object.fromEntries(Object.entries(snapshot(root)).filter(([p]) => !p.startsWith("patches/")));
    expect(withoutQueue(am)).toEqual(withoutQueue(tree));
  });

  it("a patch without a date is dated when its file was written: the same export again writes the same mails (t62 N3)", async () => {
    const tree = repo({ "a.txt": "a\n" });
    await pq(tree, "init");
    write(tree, "patches/plain.diff", "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+A\n");
    write(tree, "patches/series", "plain.diff\n");
    const written = new Date("2026-03-04T05:06:07Z");
    utimesSync(join(tree, "patches/plain.diff"), written, written);
    const out = tempDir("pq-export-");
    dirs.push(out);
    expect((await pq(tree, "export", "--dir", out, "plain.diff")).code).toBe(0);
    expect(read(out, "0001-plain.patch")).toContain("Date: Wed, 04 Mar 2026 05:06:07 +0000\n");
    await new Promise((r) => setTimeout(r, 1100));
    const again = await pq(tree, "export", "--dir", out, "plain.diff");
    expect([again.code, again.err]).toEqual([0, expect.not.stringContaining("holds something else")]);
  });

  it("header edits the message and author of a patch", async () => {
    const tree = repo({ "a.txt": "a\n" });
    await pq(tree, "init");
    await pq(tree, "new", "p.patch", "-m", "old subject");
    expect((await pq(tree, "header", "-m", "new subject\n\nnew body", "-u", "New Author <n@example.org>")).code).toBe(0);
    const h = JSON.parse((await pq(tree, "header", "--json")).out);
    expect(h).toMatchObject({ subject: "new subject", body: "new body", author: "New Author <n@example.org>" });
  });
});

describe("plain diffs as GNU patch reads them: context diffs (diff -c), and diff -N's files with the epoch for a time", () => {
  it("import (a file with -p0, a quilt series) and push them to the tree GNU patch makes", async () => {
    const numbered = Array.from({ length: 20 }, (_, i) => `${i + 1}\n`).join("");
    const files = { "a.c": numbered, "drivers/old.c": "int old;\n" };
    // diff -c of a.c.orig against a.c (line 12 changed), as a -p0 patch; diff -Nurp of two trees, the kernel's way:
    // a new file and a removed one, each named with the epoch as its time instead of /dev/null.
    const made = tempDir("pq-plain-diffs-");
    dirs.push(made);
    write(made, "a.c.orig", numbered);
    write(made, "a.c", numbered.replace("12\n", "twelve\n"));
    write(made, "old/drivers/old.c", "int old;\n");
    write(made, "new/drivers/new.c", "int new;\n");
    const diff = (...args: string[]) => spawnSync("diff", args, { cwd: made, encoding: "latin1" }).stdout;
    const context = diff("-c", "a.c.orig", "a.c");
    const kernelStyle = diff("-Nurp", "old", "new");
    expect(context).toContain("*** 9,15 ****");
    expect(kernelStyle).toMatch(/^--- old\/drivers\/new\.c\t1970-01-01 00:00:00/m);
    const outside = tempDir("pq-ctx-");
    dirs.push(outside);
    write(outside, "ctx.diff", context);
    write(outside, "nurp.diff", kernelStyle);
    write(outside, "q/patches/old.diff", context);
    write(outside, "q/patches/nurp.diff", kernelStyle);
    write(outside, "q/patches/series", "old.diff -p0\nnurp.diff\n");
    // GNU patch's tree: the oracle.
    const gnu = makeRepo(files);
    dirs.push(gnu);
    expect(spawnSync("patch", ["-p0", "-i", join(outside, "ctx.diff")], { cwd: gnu }).status).toBe(0);
    expect(spawnSync("patch", ["-p1", "-i", join(outside, "nurp.diff")], { cwd: gnu }).status).toBe(0);
    const gnuTree = snapshot(gnu);
    expect(Object.keys(gnuTree).sort()).toEqual(["a.c", "drivers/new.c"]);

    const fromFiles = repo(files);
    await pq(fromFiles, "init");
    expect((await pq(fromFiles, "import", "-p0", join(outside, "ctx.diff"))).code).toBe(0);
    expect(read(fromFiles, "patches/series")).toBe("ctx.diff -p0\n");
    expect((await pq(fromFiles, "import", join(outside, "nurp.diff"))).code).toBe(0);
    const fromQuilt = repo(files);
    await pq(fromQuilt, "init");
    expect((await pq(fromQuilt, "import", "--quilt", join(outside, "q"))).code).toBe(0);
    for (const tree of [fromFiles, fromQuilt]) {
      const pushed = await pq(tree, "push", "-a");
      expect(pushed.code, pushed.err).toBe(0);
      const mine = snapshot(tree);
      expect(Object.fromEntries(Object.entries(mine).filter(([p]) => !p.startsWith("patches/")))).toEqual(gnuTree);
      expect((await pq(tree, "pop", "-a")).code).toBe(0);
      expect(snapshot(tree)).toEqual({ ...files, ...Object.fromEntries(Object.entries(mine).filter(([p]) => p.startsWith("patches/"))) });
    }
    // -p for a queue that carries its own strip levels is refused.
    const both = await pq(fromQuilt, "import", "-p0", "--quilt", join(outside, "q"));
    expect(both.code).toBe(2);
  });
});

describe("where a description ends, as quilt's patch_header sees it", () => {
  it("a context diff, a 'diff -Naurp a b' line and a binary file's line end it; refresh keeps only the description above", async () => {
    const numbered = Array.from({ length: 20 }, (_, i) => `${i + 1}\n`).join("");
    const made = tempDir("pq-desc-");
    dirs.push(made);
    write(made, "a/a.c", numbered);
    write(made, "b/a.c", numbered.replace("12\n", "twelve\n"));
    write(made, "a/0logo.bin", "x\0y");
    write(made, "b/0logo.bin", "x\0z");
    const diff = (...args: string[]) => spawnSync("diff", args, { cwd: made, encoding: "latin1" }).stdout;
    const patches: Record<string, string> = {
      // Context diff, no description: all of it is diff.
      "ctx.diff": diff("-c", "a/a.c", "b/a.c"),
      // A description, then a tarball diff's command line and its unified diff.
      "naurp.diff": `Twelve in words\n\nBecause numbers are hard.\n\n${diff("-Naurp", "a/a.c", "b/a.c").replace(/^/, "diff -Naurp a/a.c b/a.c\n")}`,
      // diff -ruN of the two trees: the binary file's line comes first.
      "bin-first.diff": diff("-ruN", "a", "b"),
    };
    expect(patches["bin-first.diff"]).toMatch(/^Binary files a\/0logo\.bin and b\/0logo\.bin differ\n/);
    for (const [name, text] of Object.entries(patches)) {
      const tree = repo({ "a.c": numbered, "0logo.bin": "x\0y" });
      await pq(tree, "init");
      write(made, name, text);
      expect((await pq(tree, "import", join(made, name))).code).toBe(0);
      const pushed = await pq(tree, "push");
      expect(pushed.code, pushed.err).toBe(0);
      if (name === "bin-first.diff")
        expect(pushed.out).toContain("binary diff without data (created empty or left as it was, as quilt does): 0logo.bin");
      const header = await pq(tree, "header");
      expect(header.out).not.toMatch(/\*\*\*|diff -|Binary files/);
      if (name === "naurp.diff") expect(header.out).toContain("Twelve in words");
      // With nothing to take, a refresh leaves the file as it is (quilt's "unchanged").
      const imported = read(tree, `patches/${name}`);
      expect((await pq(tree, "refresh")).out).toContain(`${name} is unchanged`);
      expect(read(tree, `patches/${name}`)).toBe(imported);
      write(tree, "a.c", read(tree, "a.c").replace("15\n", "fifteen\n"));
      expect((await pq(tree, "refresh")).code).toBe(0);
      const refreshed = read(tree, `patches/${name}`);
      expect(
        refreshed.startsWith(
          name === "naurp.diff" ? "Twelve in words\n\nBecause numbers are hard.\n\ndiff --git a/a.c b/a.c\n" : "diff --git a/a.c b/a.c\n",
        ),
      ).toBe(true);
      expect(refreshed.match(/twelve/g)).toHaveLength(1);
      // The refreshed patch applies with GNU patch to the base as the original did.
      const gnu = repo({ "a.c": numbered });
      expect(spawnSync("patch", ["-p1"], { cwd: gnu, input: refreshed }).status).toBe(0);
      expect(read(gnu, "a.c")).toBe(read(tree, "a.c"));
    }
  });
});

describe("non-ASCII file names", () => {
  it("refresh writes git's quoting, state.json stays valid JSON, and pop/push restore the same names", async () => {
    const tree = repo({ "\u20ac b.txt": "old\n", "x.txt": "x\n" });
    await pq(tree, "init");
    await pq(tree, "new", "names.patch", "-m", "names");
    write(tree, "\u00e9.txt", "new\n");
    write(tree, "\u20ac b.txt", "changed\n");
    expect((await pq(tree, "add", "\u00e9.txt")).code).toBe(0);
    expect((await pq(tree, "refresh")).code).toBe(0);
    const patch = read(tree, "patches/names.patch");
    expect(patch).toContain('diff --git "a/\\303\\251.txt" "b/\\303\\251.txt"');
    expect(patch).toContain('+++ "b/\\342\\202\\254 b.txt"\t\n');
    // Valid UTF-8 JSON (pure ASCII), naming the files as they are on disk.
    const stateBytes = readFileSync(join(tree, ".pq/state.json"));
    expect(stateBytes.every((b) => b < 0x80)).toBe(true);
    expect(Object.keys(JSON.parse(stateBytes.toString("utf8")).applied[0].files).sort()).toEqual(["\u00e9.txt", "\u20ac b.txt"]);
    expect((await pq(tree, "pop")).code).toBe(0);
    expect(existsSync(join(tree, "\u00e9.txt"))).toBe(false);
    expect(read(tree, "\u20ac b.txt")).toBe("old\n");
    // Once through the push cache, once through the patch text itself.
    for (const fresh of [false, true]) {
      if (fresh) await pq(tree, "pop");
      if (fresh) cleanup(join(tree, ".pq/pushcache.log"));
      expect((await pq(tree, "push")).code).toBe(0);
      expect(readdirSync(tree).sort()).toEqual([".git", ".pq", "patches", "x.txt", "\u00e9.txt", "\u20ac b.txt"].sort());
      expect(read(tree, "\u00e9.txt")).toBe("new\n");
      expect(read(tree, "\u20ac b.txt")).toBe("changed\n");
    }
    // git apply and GNU patch take it on a clean copy of the base.
    const other = repo({ "\u20ac b.txt": "old\n", "x.txt": "x\n" });
    write(other, "p.diff", patch);
    git(other, "apply", "--check", "p.diff");
    expect(spawnSync("patch", ["-p1", "-i", "p.diff"], { cwd: other }).status).toBe(0);
    expect(read(other, "\u00e9.txt")).toBe("new\n");
  });
});

describe("non-ASCII patch names", () => {
  it("the series file is UTF-8 both ways: quilt pushes pq's queue and pq imports quilt's", async () => {
    const tree = repo({ "a.txt": "a\n" });
    await pq(tree, "init");
    expect((await pq(tree, "new", "caf\u00e9.patch")).code).toBe(0);
    write(tree, "a.txt", "a1\n");
    await pq(tree, "refresh");
    expect((await pq(tree, "new", "\u20ac-fix.patch")).code).toBe(0);
    write(tree, "a.txt", "a2\n");
    await pq(tree, "refresh");
    expect(readFileSync(join(tree, "patches/series"), "utf8")).toBe("caf\u00e9.patch\n\u20ac-fix.patch\n");
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    expect((await pq(tree, "push", "-a")).out).toContain("now at: \u20ac-fix.patch");

    const other = repo({ "a.txt": "a\n" });
    cleanup(join(other, ".git"));
    for (const f of readdirSync(join(tree, "patches"))) write(other, `patches/${f}`, read(tree, `patches/${f}`));
    const env = { ...process.env, QUILT_PATCHES: "patches", QUILTRC: "/dev/null" };
    expect(spawnSync("quilt", ["push", "-a"], { cwd: other, env }).status).toBe(0);
    expect(read(other, "a.txt")).toBe("a2\n");

    const third = repo({ "a.txt": "a\n" });
    await pq(third, "init");
    expect((await pq(third, "import", "--quilt", other, "--push")).code).toBe(0);
    expect((await pq(third, "series")).out).toBe("caf\u00e9.patch\n\u20ac-fix.patch\n");
    expect(read(third, "a.txt")).toBe("a2\n");
  });
});

describe("binary diffs without data, against real quilt", () => {
  const quilt = (cwd: string, ...args: string[]) =>
    spawnSync("quilt", args, { cwd, encoding: "utf8", env: { ...process.env, QUILT_PATCHES: "patches", QUILTRC: "/dev/null" } });
  const base = { "mod.bin": "a\0b", "mode.bin": "m\0", "empty.bin": "", "ren.bin": "r\0r", "del.bin": "d\0e", "t.txt": "t\n" };
  const gitBinary = (path: string, header: string, from = `a/${path}`, to = `b/${path}`) =>
    `diff --git a/${path} b/${path}\n${header}Binary files ${from} and ${to} differ\n`;
  const textChange = "diff --git a/t.txt b/t.txt\n--- a/t.txt\n+++ b/t.txt\n@@ -1 +1 @@\n-t\n+t2\n";
  const good =
    "Binary files without data, as git diff writes them without --binary.\n\n" +
    gitBinary("new.bin", "new file mode 100755\nindex 0000000..0f4ca97\n", "/dev/null") +
    gitBinary("mod.bin", "index 20b5be9..88f3700 100644\n") +
    gitBinary("mode.bin", "old mode 100644\nnew mode 100755\nindex 20b5be9..88f3700\n") +
    gitBinary("empty.bin", "deleted file mode 100644\nindex e69de29..0000000\n", "a/empty.bin", "/dev/null") +
    "diff --git a/ren.bin b/moved.bin\nsimilarity index 60%\nrename from ren.bin\nrename to moved.bin\nindex 20b5be9..88f3700 100644\nBinary files a/ren.bin and b/moved.bin differ\n" +
    textChange +
    "Index: q.bin\n===================================================================\nBinary files a/q.bin and b/q.bin differ\n";
  const bad =
    "Deletes a binary file that is not empty.\n\n" +
    gitBinary("del.bin", "deleted file mode 100644\nindex d39dc42..0000000\n", "a/del.bin", "/dev/null") +
    textChange;

  /** A copy of the base with patches/series listing `patch`; returns [quilt's dir, pq's git tree]. */
  const setup = (patch: string): [string, string] => {
    const qdir = tempDir("pq-quilt-bin-");
    dirs.push(qdir);
    for (const [p, c] of Object.entries(base)) write(qdir, p, c);
    write(qdir, "patches/series", "p.diff\n");
    write(qdir, "patches/p.diff", patch);
    const tree = repo(base);
    return [qdir, tree];
  };
  const modes = (root: string) => Object.fromEntries(Object.keys(snapshot(root)).map((f) => [f, statSync(join(root, f)).mode & 0o777]));
  const tree = (root: string) => {
    const all = snapshot(root);
    return Object.fromEntries(Object.entries(all).filter(([p]) => !p.startsWith("patches/") && !p.startsWith(".pc/")));
  };

  it("push makes quilt's tree (new file empty and executable, changed ones kept, mode, rename, empty file deleted) and names them", async () => {
    const [qdir, mine] = setup(good);
    expect(quilt(qdir, "push", "-a").status).toBe(0);
    await pq(mine, "init");
    expect((await pq(mine, "import", "--quilt", qdir)).code).toBe(0);
    const pushed = await pq(mine, "push", "--json");
    expect(pushed.code).toBe(0);
    expect(JSON.parse(pushed.out).pushed[0].binaryWithoutData.sort()).toEqual([
      "empty.bin",
      "mod.bin",
      "mode.bin",
      "moved.bin",
      "new.bin",
      "q.bin",
    ]);
    expect(tree(mine)).toEqual(tree(qdir));
    const quiltModes = modes(qdir);
    for (const [f, m] of Object.entries(modes(mine))) if (!f.startsWith("patches/")) expect([f, m]).toEqual([f, quiltModes[f]]);
    // Popped and pushed again: still reported (not silently reused from the push cache).
    await pq(mine, "pop");
    expect(snapshot(mine)).toMatchObject(base);
    const again = await pq(mine, "push");
    expect(again.out).toContain("warning: binary diff without data");
    expect(again.out).toContain("new.bin");
  });

  it("a delete of a binary file that is not empty fails as under quilt; --force keeps the file as quilt push -f does", async () => {
    const [qdir, mine] = setup(bad);
    expect(quilt(qdir, "push").status).not.toBe(0);
    await pq(mine, "init");
    await pq(mine, "import", "--quilt", qdir);
    const refused = await pq(mine, "push");
    expect(refused.code).toBe(6);
    expect(refused.err).toContain("del.bin: a binary diff without data");
    expect(tree(mine)).toEqual(base);
    expect(quilt(qdir, "push", "-f").stdout).toContain("forced");
    const forced = await pq(mine, "push", "--force");
    expect(forced.code).toBe(6);
    expect(tree(mine)).toEqual(tree(qdir));
    expect(existsSync(join(mine, "del.bin.rej"))).toBe(false);
  });
});

describe("quilt series options", () => {
  const quilt = (cwd: string, ...args: string[]) =>
    spawnSync("quilt", args, { cwd, encoding: "utf8", env: { ...process.env, QUILT_PATCHES: "patches", QUILTRC: "/dev/null" } });
  const base = { "src/main.c": "int main(void)\n{\n\treturn 0;\n}\n", "doc/README": "readme\n", "lib/deep/x.h": "#define X 1\n" };

  it("-p0 and -p2 entries push to quilt's tree, are kept in pq's series, and a refresh makes the entry -p1", async () => {
    const qdir = tempDir("pq-quilt-p0-");
    dirs.push(qdir);
    for (const [p, c] of Object.entries(base)) write(qdir, p, c);
    write(
      qdir,
      "patches/zero.patch",
      "Plain -p0 diff.\n\n--- src/main.c.orig\n+++ src/main.c\n@@ -1,4 +1,4 @@\n int main(void)\n {\n-\treturn 0;\n+\treturn 1;\n }\n",
    );
    write(qdir, "patches/one.patch", "--- a/doc/README\n+++ b/doc/README\n@@ -1 +1,2 @@\n readme\n+more\n");
    write(qdir, "patches/two.patch", "--- old/tree/lib/deep/x.h\n+++ new/tree/lib/deep/x.h\n@@ -1 +1 @@\n-#define X 1\n+#define X 2\n");
    write(qdir, "patches/series", "zero.patch -p0\none.patch\ntwo.patch -p2 # from another tree\n");
    expect(quilt(qdir, "push", "-a").status).toBe(0);

    const tree = repo(base);
    await pq(tree, "init");
    expect((await pq(tree, "import", "--quilt", qdir)).code).toBe(0);
    expect(read(tree, "patches/series")).toBe("zero.patch -p0\none.patch\ntwo.patch -p2 # from another tree\n");
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    for (const f of Object.keys(base)) expect([f, read(tree, f)]).toEqual([f, read(qdir, f)]);
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    expect(snapshot(tree)).toMatchObject(base);

    // Refreshed, zero.patch is a -p1 diff: its entry drops -p0, and quilt still pushes it.
    await pq(tree, "push");
    write(tree, "src/main.c", read(tree, "src/main.c").replace("return 1", "return 2"));
    expect((await pq(tree, "refresh")).code).toBe(0);
    expect(read(tree, "patches/series").split("\n")[0]).toBe("zero.patch");
    expect(read(tree, "patches/zero.patch")).toContain("+++ b/src/main.c");
    await pq(tree, "pop", "-a");
    await pq(tree, "push", "-a");
    expect(read(tree, "src/main.c")).toContain("return 2");
    const check = tempDir("pq-quilt-p0-check-");
    dirs.push(check);
    for (const [p, c] of Object.entries(base)) write(check, p, c);
    for (const f of ["series", "zero.patch", "one.patch", "two.patch"]) write(check, `patches/${f}`, read(tree, `patches/${f}`));
    expect(quilt(check, "push", "-a").status).toBe(0);
    for (const f of Object.keys(base)) expect([f, read(check, f)]).toEqual([f, read(tree, f)]);

    // export --quilt keeps an unapplied patch's -pN (its text is copied as it is) and writes an applied one as -p1.
    await pq(tree, "pop", "one.patch");
    const out = tempDir("pq-quilt-p0-export-");
    dirs.push(out);
    expect((await pq(tree, "export", "--quilt", join(out, "patches"), "-a")).code).toBe(0);
    expect(read(out, "patches/series")).toBe("zero.patch\none.patch\ntwo.patch -p2 # from another tree\n");
    for (const [p, c] of Object.entries(base)) write(out, p, c);
    expect(quilt(out, "push", "-a").status).toBe(0);
    for (const f of Object.keys(base)) expect([f, read(out, f)]).toEqual([f, read(check, f)]);
  });

  it("options pq does not model (-R, --fuzz) are refused by name, with the reason", async () => {
    for (const [option, reason] of [
      ["-R", "does not apply a patch reversed"],
      ["--fuzz=3", "pq push --fuzz"],
      ["-p", "-pN with a number"],
    ]) {
      const qdir = tempDir("pq-quilt-opt-");
      dirs.push(qdir);
      write(qdir, "patches/one.patch", "--- a/doc/README\n+++ b/doc/README\n@@ -1 +1,2 @@\n readme\n+more\n");
      write(qdir, "patches/series", `one.patch ${option}\n`);
      const tree = repo(base);
      await pq(tree, "init");
      const r = await pq(tree, "import", "--quilt", qdir);
      expect(r.code).toBe(7);
      expect(r.err).toContain(`option ${option} after one.patch`);
      expect(r.err).toContain(reason);
    }
  });
});

describe("series comments", () => {
  it("import --quilt keeps a series' comments and commented-out patches where they were, and export --quilt writes them back", async () => {
    const q = tempDir("pq-series-notes-");
    dirs.push(q);
    const series =
      "# Debian fixes\nfix1.patch\n\n# Regression from CVE-2024-12087 (#1093052)\nfix2.patch -p0 # why it is here\n#26_kfreebsd.patch\n";
    write(q, "series", series);
    write(q, "fix1.patch", "--- a/a\n+++ b/a\n@@ -1 +1 @@\n-a\n+A\n");
    write(q, "fix2.patch", "--- b\n+++ b\n@@ -1 +1 @@\n-b\n+B\n");
    const tree = repo({ a: "a\n", b: "b\n" });
    await pq(tree, "init");
    expect((await pq(tree, "import", "--quilt", q)).code).toBe(0);
    expect(read(tree, "patches/series")).toBe(series);
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    const out = join(q, "exported");
    expect((await pq(tree, "export", "--quilt", out, "-a")).code).toBe(0);
    expect(read(out, "series")).toBe(series.replace("fix2.patch -p0", "fix2.patch"));
  });
});

describe("a missing compiler", () => {
  it("pq build with no gcc or clang on PATH says what to install and exits 8", () => {
    const empty = tempDir("pq-empty-path-");
    dirs.push(empty);
    const r = spawnSync(process.execPath, [resolve("bin/pq.js"), "build", "--tree", resolve("kernel-model")], {
      encoding: "utf8",
      env: { PATH: empty, HOME: process.env.HOME },
    });
    expect(r.status).toBe(8);
    expect(r.stderr).toContain("no compiler that targets i386 ELF");
    expect(r.stderr).toContain("apt-get install gcc binutils");
  });

  it("gcc and ld without the assembler gcc runs is a missing toolchain (exit 8), not a build failure of the tree (t124 N2)", () => {
    const bin = tempDir("pq-no-as-");
    dirs.push(bin);
    for (const tool of ["gcc", "ld"])
      symlinkSync(execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim(), join(bin, tool));
    const r = spawnSync(process.execPath, [resolve("bin/pq.js"), "build", "--tree", resolve("kernel-model")], {
      encoding: "utf8",
      env: { PATH: bin, HOME: process.env.HOME },
    });
    expect([r.status, r.stderr.split("\n")[0]]).toEqual([
      8,
      "pq: gcc and ld are here, but not the assembler gcc runs (as: binutils' as, looked for on PATH)",
    ]);
  });
});

describe("export keeps a patch's notes (interop-5 #21)", () => {
  it("puts the text after '---' (a v2 changelog, links) between the mail's '---' and its diff, where git am ignores it", async () => {
    const tree = repo({ "a.txt": "a\n" });
    await pq(tree, "init");
    const file = besideTree(tree, "v2", ".patch");
    write(
      resolve(file, ".."),
      file.split("/").pop()!,
      "From: Ada Tester <ada@example.org>\nSubject: [PATCH v2] Change a\n\nWhy the change.\n---\nv2: reworded after review\nv1: https://lore.example.org/1\n\ndiff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+b\n",
    );
    expect((await pq(tree, "import", file)).code).toBe(0);
    const out = besideTree(tree, "mails");
    expect((await pq(tree, "export", "-a", "--dir", out)).code).toBe(0);
    const mail = read(
      out,
      readdirSync(out).find((f) => f.startsWith("0001-"))!,
    );
    expect(mail).toContain(
      "Why the change.\n---\nv2: reworded after review\nv1: https://lore.example.org/1\n\ndiff --git a/a.txt b/a.txt\n",
    );
    // git am takes the message before '---' and applies the diff after the notes.
    git(
      tree,
      "am",
      "-q",
      join(
        out,
        readdirSync(out).find((f) => f.startsWith("0001-"))!,
      ),
    );
    expect(git(tree, "log", "-1", "--format=%s|%b").trim()).toBe("Change a|Why the change.");
    expect(read(tree, "a.txt")).toBe("b\n");
  });
});

describe("guards from a quilt series (interop-5 #10, #3)", () => {
  it("a guard taken out of a comment leaves the rest of the comment a comment, and the note says how to keep it all (t38 F7)", async () => {
    const q = tempDir("pq-quilt-guard-");
    dirs.push(q);
    write(q, "x.patch", "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+b\n");
    write(q, "series", "x.patch #+linux only, see #1234\n");
    const tree = repo({ "a.txt": "a\n" });
    await pq(tree, "init");
    const imported = await pq(tree, "import", "--quilt", q);
    expect(imported.out).toContain("put a space after its '#' in the series file (# +linux), which pq and hg read as a comment");
    const r = await pq(tree, "guard", "x.patch", "--none");
    expect(r.code).toBe(0);
    expect(read(join(tree, "patches"), "series")).toBe("x.patch # only, see #1234\n");
    expect((await pq(tree, "series")).out).toBe("x.patch\n");
    expect((await pq(tree, "push")).code).toBe(0);
  });

  it("import --quilt says a '#+g' comment is read as a guard, and push -a names the guarded patch it skips, as hg's qpush does", async () => {
    const q = tempDir("pq-quilt-guard-");
    dirs.push(q);
    write(q, "x.patch", "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+b\n");
    write(q, "y.patch", "--- a/b.txt\n+++ b/b.txt\n@@ -1 +1 @@\n-b\n+c\n");
    write(q, "series", "x.patch #+upstream-fixed\ny.patch\n");
    const tree = repo({ "a.txt": "a\n", "b.txt": "b\n" });
    await pq(tree, "init");
    const imported = await pq(tree, "import", "--quilt", q);
    expect(imported.out).toContain("note: x.patch: the series comment #+upstream-fixed is read as a guard");
    const pushed = await pq(tree, "push", "-a");
    expect(pushed.code).toBe(0);
    // Where the series has it: before the patch pushed after it (stack-6 #17f).
    expect(pushed.out).toContain(
      "skipping x.patch: guarded (+upstream-fixed), and the selected guards (none) exclude it\napplying y.patch",
    );
    // goto names it as push does (tui-8 T7).
    await pq(tree, "pop", "-a");
    expect((await pq(tree, "goto", "y.patch")).out).toContain("skipping x.patch: guarded (+upstream-fixed)");
    // --json names it too, in the dry run and the push (dry-6 #3).
    await pq(tree, "pop", "-a");
    for (const args of [
      ["push", "-a", "--json", "--dry-run"],
      ["push", "-a", "--json"],
    ]) {
      const json = JSON.parse((await pq(tree, ...args)).out);
      expect(json.skipped).toEqual([{ name: "x.patch", guards: ["+upstream-fixed"], selected: [], before: "y.patch" }]);
    }
    // A push that stops part way names them too (verify-6 N10).
    await pq(tree, "pop", "-a");
    write(tree, "b.txt", "changed\n");
    git(tree, "commit", "-qam", "b changes");
    const stopped = await pq(tree, "push", "-a");
    expect(stopped.code).toBe(6);
    expect(stopped.out).toContain("skipping x.patch: guarded (+upstream-fixed)");
    git(tree, "reset", "-q", "--hard", "HEAD~1");
    expect((await pq(tree, "guard", "x.patch", "--none")).code).toBe(0);
    await pq(tree, "pop", "-a");
    expect((await pq(tree, "push", "-a")).out).not.toContain("skipping");
  });

  it("push -a names the guarded patches it skips when they are all that is left to push (t36 F1)", async () => {
    const tree = repo({ "a.txt": "a\n", "b.txt": "b\n" });
    await pq(tree, "init");
    for (const [name, file] of [
      ["base.patch", "a.txt"],
      ["xen-only.patch", "b.txt"],
    ]) {
      await pq(tree, "new", name);
      write(tree, file, `${name}\n`);
      await pq(tree, "refresh");
    }
    await pq(tree, "guard", "xen-only.patch", "+xen");
    await pq(tree, "pop", "-a");
    await pq(tree, "select", "native");
    expect((await pq(tree, "push")).out).toContain("now at: base.patch");
    const rest = await pq(tree, "push", "-a");
    expect(rest.code).toBe(0);
    expect(rest.out.trim()).toBe(
      "skipping xen-only.patch: guarded (+xen), and the selected guards (native) exclude it\nnothing to push; at: base.patch",
    );
    expect(JSON.parse((await pq(tree, "push", "-a", "--json")).out).skipped).toEqual([
      { name: "xen-only.patch", guards: ["+xen"], selected: ["native"], before: null },
    ]);
    // Nothing above the top at all: nothing to name.
    await pq(tree, "guard", "xen-only.patch", "--none");
    await pq(tree, "push");
    expect((await pq(tree, "push", "-a")).out.trim()).toBe("nothing to push; at: xen-only.patch");
  });
});

describe("export of a patch without an author (interop-5 #13)", () => {
  it("mails it as the exporting user (as quilt mail does), says so, and takes the subject from the name without .patch", async () => {
    const tree = repo({ "a.txt": "a\n" });
    await pq(tree, "init");
    write(tree, "patches/plain.patch", "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+b\n");
    write(tree, "patches/series", "plain.patch\n");
    process.env.GIT_AUTHOR_NAME = "Exa Porter";
    process.env.GIT_AUTHOR_EMAIL = "exa@example.org";
    const out = besideTree(tree, "plain", ".mbox");
    const r = await pq(tree, "export", "-a", "--mbox", out);
    expect(r.code).toBe(0);
    expect(r.err).toContain("note: plain.patch has no author: mailed as Exa Porter <exa@example.org>");
    const mail = readFileSync(out, "latin1");
    expect(mail).toContain("From: Exa Porter <exa@example.org>\n");
    expect(mail).toContain("Subject: [PATCH] plain\n");
  });
});

describe("where import finds a queue, and mails it leaves out (interop-5 #15, #6, #5)", () => {
  const patch = (file: string, from: string, to: string) => `--- a/${file}\n+++ b/${file}\n@@ -1 +1 @@\n-${from}\n+${to}\n`;

  it("--hg takes hg's active queue (.hg/patches.queue), and --quilt a Debian tree's debian/patches", async () => {
    const hg = tempDir("pq-hg-queues-");
    dirs.push(hg);
    write(hg, ".hg/patches/series", "d.patch\n");
    write(hg, ".hg/patches/d.patch", patch("a.txt", "a", "default"));
    write(hg, ".hg/patches-feature/series", "f.patch\n");
    write(hg, ".hg/patches-feature/f.patch", patch("a.txt", "a", "feature"));
    write(hg, ".hg/patches.queue", "feature\n");
    const tree = repo({ "a.txt": "a\n" });
    await pq(tree, "init");
    expect((await pq(tree, "import", "--hg", hg)).code).toBe(0);
    expect((await pq(tree, "series")).out).toBe("f.patch\n");
    // An active queue hg has not made a directory for yet (hg qqueue --create, no patch): not the default queue's patches (t145 N8).
    write(hg, ".hg/patches.queue", "newq\n");
    const empty = await pq(tree, "import", "--hg", hg);
    expect(empty.code).toBe(3);
    expect(empty.err).toContain("hg's active queue, newq (hg qqueue), has no patches yet");
    expect((await pq(tree, "series")).out).toBe("f.patch\n");

    const deb = tempDir("pq-debian-");
    dirs.push(deb);
    write(deb, "debian/patches/series", "fix.patch\n");
    write(deb, "debian/patches/fix.patch", patch("b.txt", "b", "fixed"));
    expect((await pq(tree, "import", "--quilt", deb)).code).toBe(0);
    // (Imported after the top: with nothing applied, first.)
    expect((await pq(tree, "series")).out).toBe("fix.patch\nf.patch\n");
  });

  it("an mbox's mail with no diff is left out and named, as git am refuses it", async () => {
    const tree = repo({ "a.txt": "a\n" });
    await pq(tree, "init");
    const mail = (subject: string, body: string) =>
      `From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\nFrom: Ada Tester <ada@example.org>\nDate: Fri, 4 Dec 2026 10:00:00 +0000\nSubject: ${subject}\n\n${body}`;
    const mbox = besideTree(tree, "two", ".mbox");
    writeFileSync(
      mbox,
      mail("[PATCH 1/2] Only words", "No diff here.\n\n") + mail("[PATCH 2/2] A change", `Why.\n---\n${patch("a.txt", "a", "b")}\n`),
    );
    const r = await pq(tree, "import", mbox);
    expect(r.code).toBe(0);
    expect(r.out).toContain("skipped a mail with no diff");
    expect(r.out).toContain("[PATCH 1/2] Only words");
    expect((await pq(tree, "series")).out).toBe("A-change.patch\n");
  });
});

describe("import and export refusals that name the cause (interop-5 #32, #33, #11, #22, #12)", () => {
  it("says what each refusal is about and what to do", async () => {
    const tree = repo({ "a.txt": "a\n" });
    await pq(tree, "init");
    const bad = besideTree(tree, "bad", ".patch");
    writeFileSync(bad, "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-zzz\n+c\n");
    const pushed = await pq(tree, "import", "-P", bad);
    expect(pushed.code).toBe(6);
    expect(pushed.err).toMatch(/imported bad-\d+\.patch, but the push stopped: .* does not apply \(it stays unapplied\)/);
    expect((await pq(tree, "series")).out).toMatch(/^bad-\d+\.patch\n$/);
    const q = tempDir("pq-queue-dir-entry-");
    dirs.push(q);
    write(q, "series", "sub\n");
    write(q, "sub/x", "x\n");
    const dirEntry = await pq(tree, "import", "--quilt", q);
    expect(dirEntry.code).toBe(7);
    expect(dirEntry.err).toContain("sub, listed in");
    expect(dirEntry.err).toContain("is a directory, not a patch file");
    const noValue = await pq(tree, "import", "--quilt", "--push", q);
    expect(noValue.code).toBe(2);
    expect(noValue.err).toContain("--quilt needs the queue's directory right after it");
    write(q, "series", "x.patch\n");
    write(q, "x.patch", "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+b\n");
    expect((await pq(tree, "import", "--quilt", q)).code).toBe(0);
    const clash = await pq(tree, "import", "--quilt", q);
    expect(clash.err).toContain("pq rename");
    expect(clash.err).not.toContain("--name");
    const none = await pq(tree, "export", "--dir", join(tree, "..", "never-written"));
    expect(none.code).toBe(12);
  });
});

describe("a mail sent by someone other than its author (interop-5 #16)", () => {
  it("takes the in-body From: line as the author, as git am does, and leaves it out of the message", async () => {
    const tree = repo({ "a.txt": "a\n" });
    await pq(tree, "init");
    const mail = besideTree(tree, "sent", ".patch");
    writeFileSync(
      mail,
      "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\nFrom: Sam Sender <sam@example.org>\nDate: Fri, 4 Dec 2026 10:00:00 +0000\nSubject: [PATCH] Change a\n\nFrom: Ada Author <ada@example.org>\n\nWhy it changes.\n---\ndiff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+b\n",
    );
    expect((await pq(tree, "import", mail)).code).toBe(0);
    const header = JSON.parse((await pq(tree, "header", "Change-a.patch", "--json")).out);
    expect(header).toMatchObject({ author: "Ada Author <ada@example.org>", subject: "Change a", body: "Why it changes." });
  });
});

describe("standard input and output as '-' (interop-5 #27, #20)", () => {
  it("pq import - reads a patch from standard input, and pq export --mbox - writes the mbox to standard output for git am", () => {
    const tree = repo({ "a.txt": "a\n" });
    const bin = resolve("bin/pq");
    const run = (args: string[], input?: string) => spawnSync(bin, args, { cwd: tree, input, encoding: "latin1" });
    expect(run(["init"]).status).toBe(0);
    const imported = run(["import", "-n", "from-stdin.patch", "-"], "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+b\n");
    expect(imported.status, imported.stderr).toBe(0);
    expect(run(["series"]).stdout).toBe("from-stdin.patch\n");
    expect(run(["header", "from-stdin.patch", "-m", "Change a", "-u", "Ada Tester <ada@example.org>"]).status).toBe(0);
    expect(run(["push"]).status).toBe(0);
    const mbox = run(["export", "--mbox", "-"]);
    expect(mbox.status, mbox.stderr).toBe(0);
    expect(mbox.stdout).toMatch(/^From 0{40} /);
    expect(mbox.stdout).toContain("Subject: [PATCH] Change a\n");
    expect(existsSync(join(tree, "-"))).toBe(false);
  });
});

describe("export notes what the export leaves to the user (interop-5 #28, #1)", () => {
  it("says when the top patch has unrefreshed changes, and when a quilt series holds git binary diffs", async () => {
    const tree = repo({ "a.txt": "1\n2\n3\n" });
    await pq(tree, "init");
    await pq(tree, "new", "p", "-m", "p");
    write(tree, "a.txt", "1\ntwo\n3\n");
    await pq(tree, "refresh");
    write(tree, "a.txt", "1\ntwo\n3\nforgot\n");
    const out = besideTree(tree, "o", ".mbox");
    const r = await pq(tree, "export", "--mbox", out);
    expect(r.code).toBe(0);
    expect(r.err).toContain("note: a.txt has changes not refreshed into p: they are not in the export (pq refresh first)");
    writeFileSync(join(tree, "b.bin"), Buffer.from([0, 1, 2, 3, 255, 0, 7]));
    await pq(tree, "add", "b.bin");
    await pq(tree, "refresh");
    const q = besideTree(tree, "q");
    expect((await pq(tree, "export", "--quilt", q)).err).toContain("note: p holds a git binary diff, which quilt (GNU patch) cannot apply");
    // interop-5 #26: a change without a hunk on a name with a space.
    writeFileSync(join(tree, "sp ace.txt"), "");
    await pq(tree, "new", "empty", "-m", "an empty file");
    await pq(tree, "add", "sp ace.txt");
    await pq(tree, "refresh");
    const q2 = besideTree(tree, "q2");
    const spaced = await pq(tree, "export", "--quilt", q2);
    expect(spaced.err).toContain("note: empty changes a file whose name has a space without a hunk");
    expect(spaced.err).not.toContain("note: p changes");
    // CRLF lines need git am --keep-cr where git stores the CRs (interop-5 #8).
    await pq(tree, "new", "crlf", "-m", "crlf");
    writeFileSync(join(tree, "c.txt"), "x\r\ny\r\n");
    await pq(tree, "add", "c.txt");
    await pq(tree, "refresh");
    const crlf = besideTree(tree, "c", ".mbox");
    expect((await pq(tree, "export", "--mbox", crlf)).err).toContain("note: crlf changes lines that end in CRLF");
    // A patch with no diff stops git am (interop-17 F11).
    await pq(tree, "new", "placeholder", "-m", "nothing yet");
    const withEmpty = await pq(tree, "export", "--mbox", besideTree(tree, "e", ".mbox"));
    expect(withEmpty.err).toContain(
      "note: placeholder changes nothing (no diff): git am stops at such a mail, where git am --allow-empty makes it an empty commit and git am --skip leaves it out",
    );
    expect(withEmpty.err).not.toContain("note: crlf changes nothing");
  });
});

describe("compressed patches in a quilt series (interop-5 #30)", () => {
  it("takes a gzipped patch decompressed (named without .gz) and refuses other compressions by name", async () => {
    const q = tempDir("pq-quilt-gz-");
    dirs.push(q);
    writeFileSync(join(q, "x.patch.gz"), gzipSync(Buffer.from("--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+b\n")));
    write(q, "series", "x.patch.gz\n");
    const tree = repo({ "a.txt": "a\n" });
    await pq(tree, "init");
    expect((await pq(tree, "import", "--quilt", q)).code).toBe(0);
    expect((await pq(tree, "series")).out).toBe("x.patch\n");
    expect((await pq(tree, "push")).code).toBe(0);
    expect(read(tree, "a.txt")).toBe("b\n");
    write(q, "series", "y.patch.bz2\n");
    write(q, "y.patch.bz2", "BZh9...");
    const other = repo({ "a.txt": "a\n" });
    await pq(other, "init");
    const r = await pq(other, "import", "--quilt", q);
    expect(r.code).toBe(7);
    expect(r.err).toContain("y.patch.bz2 is compressed, and pq reads only gzip-compressed patches");
  });
});

describe("one file holding several patches (interop-5 #38, #37)", () => {
  it("an hg export of several changesets becomes one patch each, and a one-mail .mbox is named by its subject", async () => {
    const tree = repo({ "a.txt": "1\n2\n3\n" });
    await pq(tree, "init");
    const hg = (user: string, message: string, from: string, to: string) =>
      `# HG changeset patch\n# User ${user}\n# Date 1165000000 0\n# Parent  0000000000000000000000000000000000000000\n${message}\n\ndiff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n${from}\n`.replace(
        `${from}\n`,
        `${from}${to}`,
      );
    const multi = besideTree(tree, "multi", ".patch");
    writeFileSync(
      multi,
      hg("Bob Example <bob@example.org>", "second", " 1\n-2\n+two\n 3", "\n") +
        hg("Ada Tester <ada@example.org>", "third", " 1\n two\n-3\n+three", "\n"),
    );
    expect((await pq(tree, "import", multi)).code).toBe(0);
    expect((await pq(tree, "series")).out).toBe("second.patch\nthird.patch\n");
    expect(JSON.parse((await pq(tree, "header", "third.patch", "--json")).out).author).toBe("Ada Tester <ada@example.org>");
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect(read(tree, "a.txt")).toBe("1\ntwo\nthree\n");
    const mbox = besideTree(tree, "one", ".mbox");
    writeFileSync(
      mbox,
      "From: X <x@example.org>\nSubject: [PATCH] Fix the frobnicator\n\n---\n--- a/b.txt\n+++ b/b.txt\n@@ -0,0 +1 @@\n+b\n",
    );
    expect((await pq(tree, "import", mbox)).code).toBe(0);
    expect((await pq(tree, "series")).out).toContain("Fix-the-frobnicator.patch");
    // A quilt series line `./y.patch` (quilt reads it) names y.patch (interop-5 #41).
    const q = tempDir("pq-quilt-dot-");
    dirs.push(q);
    write(q, "y.patch", "--- a/c.txt\n+++ b/c.txt\n@@ -0,0 +1 @@\n+c\n");
    write(q, "series", "./y.patch\n");
    expect((await pq(tree, "import", "--quilt", q)).code).toBe(0);
    expect((await pq(tree, "series")).out).toContain("y.patch\n");
  });
});

describe("non-ASCII headers in patch files (interop-5 #19)", () => {
  it("are raw UTF-8 in the queue and in export --quilt (hg mq and quilt read them so), encoded only in mails", async () => {
    const tree = repo({ "a.txt": "a\n" });
    await pq(tree, "init");
    await pq(tree, "new", "one", "-m", "\u00dcn\u00efcode subject\n\nBody.", "-u", "Zo\u00eb Author <zoe@example.org>");
    write(tree, "a.txt", "b\n");
    await pq(tree, "refresh");
    const file = readFileSync(join(tree, "patches", "one"), "utf8");
    expect(file).toContain("From: Zo\u00eb Author <zoe@example.org>\n");
    expect(file).toContain("Subject: \u00dcn\u00efcode subject\n");
    expect(JSON.parse((await pq(tree, "header", "one", "--json")).out)).toMatchObject({
      author: "Zo\u00eb Author <zoe@example.org>",
      subject: "\u00dcn\u00efcode subject",
    });
    const mbox = besideTree(tree, "u", ".mbox");
    await pq(tree, "export", "--mbox", mbox);
    expect(readFileSync(mbox, "latin1")).toContain("From: =?UTF-8?q?Zo=C3=AB_Author?= <zoe@example.org>");
  });
});

describe("a patch from hg mq keeps its hg header through header edits (interop-5 #35)", () => {
  it("rewrites # User and the message in hg's own form and keeps # Date and # Parent", async () => {
    const hg = tempDir("pq-hg-edit-");
    dirs.push(hg);
    write(hg, ".hg/patches/series", "d.patch\n");
    writeFileSync(
      join(hg, ".hg/patches/d.patch"),
      Buffer.from(
        "# HG changeset patch\n# User \u00de\u00f3ra J\u00f3nsd\u00f3ttir <thora@example.org>\n# Date 1700000000 3600\n# Parent  0000000000000000000000000000000000000000\ndated patch\n\ndiff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+b\n",
        "utf8",
      ),
    );
    const tree = repo({ "a.txt": "a\n" });
    await pq(tree, "init");
    expect((await pq(tree, "import", "--hg", hg)).code).toBe(0);
    expect((await pq(tree, "header", "d.patch", "-m", "new message", "-u", "Ada Tester <ada@example.org>")).code).toBe(0);
    const text = readFileSync(join(tree, "patches", "d.patch"), "utf8");
    expect(text).toMatch(
      /^# HG changeset patch\n# User Ada Tester <ada@example.org>\n# Date 1700000000 3600\n# Parent {2}0{40}\nnew message\n\ndiff --git/,
    );
  });
});

describe("long non-ASCII headers in mails (interop-5 #31)", () => {
  it("are split into encoded words of at most 75 characters on folded lines, which git am and pq read back whole", async () => {
    const tree = repo({ "a.txt": "a\n" });
    await pq(tree, "init");
    const subject = "\u00dcn\u00efc\u00f6d\u00e9 ".repeat(60).trim() + " \u20ac";
    await pq(tree, "new", "p", "-m", subject, "-u", "Zo\u00eb Author <zoe@example.org>");
    write(tree, "a.txt", "b\n");
    await pq(tree, "refresh");
    const mbox = besideTree(tree, "long", ".mbox");
    expect((await pq(tree, "export", "--mbox", mbox)).code).toBe(0);
    const text = readFileSync(mbox, "latin1");
    expect(Math.max(...text.split("\n").map((l) => l.length))).toBeLessThanOrEqual(998);
    expect(Math.max(...(text.match(/=\?UTF-8\?q\?[^?]*\?=/g) ?? []).map((w) => w.length))).toBeLessThanOrEqual(75);
    const other = repo({ "a.txt": "a\n" });
    git(other, "am", "-q", mbox);
    expect(Buffer.from(git(other, "log", "-1", "--format=%s"), "latin1").toString("utf8")).toBe(`${subject}\n`);
    await pq(other, "init");
    git(other, "reset", "-q", "--hard", "HEAD~1");
    expect((await pq(other, "import", mbox)).code).toBe(0);
    expect(JSON.parse((await pq(other, "header", (await pq(other, "series")).out.trim(), "--json")).out).subject).toBe(subject);
  });
});

describe("export of a binary change without data (interop-5 #14)", () => {
  it("says the mails cannot carry it", async () => {
    const tree = repo({ "t.txt": "t\n" });
    await pq(tree, "init");
    const file = besideTree(tree, "nobin", ".patch");
    writeFileSync(
      file,
      "diff --git a/n.bin b/n.bin\nnew file mode 100644\nindex 0000000..1234567\nBinary files /dev/null and b/n.bin differ\ndiff --git a/t.txt b/t.txt\n--- a/t.txt\n+++ b/t.txt\n@@ -1 +1 @@\n-t\n+u\n",
    );
    await pq(tree, "import", "-n", "nobin.patch", file);
    expect((await pq(tree, "push")).code).toBe(0);
    const out = besideTree(tree, "nb", ".mbox");
    const r = await pq(tree, "export", "--mbox", out);
    expect(r.code).toBe(0);
    expect(r.err).toContain('note: nobin.patch has binary changes without data ("Binary files ... differ"): the mails cannot carry them');
  });
});

describe("a quilt series' own lines (interop-5 #2)", () => {
  it("keep their bytes through import and export while they say the same", async () => {
    const q = tempDir("pq-quilt-spacing-");
    dirs.push(q);
    write(q, "x.patch", "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+b\n");
    write(q, "y.patch", "--- b.txt\n+++ b.txt\n@@ -1 +1 @@\n-b\n+c\n");
    const series = "x.patch   # trailing comment, three spaces before it\ny.patch\t-p0\n";
    write(q, "series", series);
    const tree = repo({ "a.txt": "a\n", "b.txt": "b\n" });
    await pq(tree, "init");
    expect((await pq(tree, "import", "--quilt", q)).code).toBe(0);
    expect(read(tree, "patches/series")).toBe(series);
    const out = besideTree(tree, "q2");
    expect((await pq(tree, "export", "-a", "--quilt", out)).code).toBe(0);
    expect(read(out, "series")).toBe(series);
    // A changed entry is written as pq writes lines.
    await pq(tree, "guard", "x.patch", "+foo");
    expect(read(tree, "patches/series")).toBe("x.patch #+foo # trailing comment, three spaces before it\ny.patch\t-p0\n");
  });
});

describe("a killed export's temporary files (verify-6 N5)", () => {
  it("are removed by the next export to the same place", async () => {
    const tree = repo({ "a.txt": "a\n" });
    await pq(tree, "init");
    await pq(tree, "new", "p1", "-m", "p1");
    write(tree, "a.txt", "a\nb\n");
    await pq(tree, "refresh");
    const out = besideTree(tree, "out");
    const gone = spawnSync("true").pid!;
    write(out, `0001-p1.patch.tmp-${gone}`, "");
    expect((await pq(tree, "export", "--dir", out)).code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["0001-p1.patch", "series"]);
  });
});

describe("an export --dir --force over an earlier one, killed half way (t87 N1)", () => {
  it("leaves no series beside a mix of old and new mails; the next export makes it whole", async () => {
    const tree = repo({ "a.txt": "a\n", "b.txt": "b\n" });
    await pq(tree, "init");
    for (const [name, file] of [
      ["p1", "a.txt"],
      ["p2", "b.txt"],
    ]) {
      await pq(tree, "new", name, "-m", `${name} first`);
      write(tree, file, `${file} changed\n`);
      await pq(tree, "refresh");
    }
    const out = besideTree(tree, "out");
    expect((await pq(tree, "export", "--dir", out)).code).toBe(0);
    const first = snapshot(out);
    await pq(tree, "header", "p1", "-m", "p1 second");
    await pq(tree, "header", "p2", "-m", "p2 second");
    const PQ = resolve("bin/pq.js");
    const killed = spawnSync(process.execPath, [PQ, "export", "--dir", out, "--force"], {
      cwd: tree,
      encoding: "utf8",
      env: { ...process.env, PQ_FAILPOINT: "export-renamed" },
    });
    expect(killed.signal).toBe("SIGKILL");
    // The first mail renamed into place, the second still the earlier export's: no series says they are one export.
    expect(
      readdirSync(out)
        .filter((f) => !f.includes(".tmp-"))
        .sort(),
    ).toEqual(["0001-p1.patch", "0002-p2.patch"]);
    expect(read(out, "0001-p1.patch")).toContain("p1 second");
    expect(read(out, "0002-p2.patch")).toContain("p2 first");
    expect(first).not.toEqual(snapshot(out));
    expect((await pq(tree, "export", "--dir", out, "--force")).code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["0001-p1.patch", "0002-p2.patch", "series"]);
    expect(read(out, "0002-p2.patch")).toContain("p2 second");
  });
});

describe("pq export --mbox over what is not a regular file (t69 N7)", () => {
  it("refuses a symlink and a FIFO (as a device node), --force or not, and writes nothing", async () => {
    const tree = repo({ "a.c": "a\n" });
    expect((await pq(tree, "init")).code).toBe(0);
    await pq(tree, "new", "x.patch", "-m", "x");
    write(tree, "a.c", "a\nb\n");
    await pq(tree, "refresh");
    const out = tempDir();
    dirs.push(out);
    write(out, "target.mbox", "keep me\n");
    symlinkSync(join(out, "target.mbox"), join(out, "link.mbox"));
    spawnSync("mkfifo", [join(out, "fifo")]);
    for (const [name, what] of [
      ["link.mbox", "a symbolic link"],
      ["fifo", "a FIFO"],
    ])
      for (const force of [[], ["--force"]]) {
        const r = await pq(tree, "export", "--mbox", join(out, name), ...force);
        expect([r.code, r.err], `${name} ${force}`).toEqual([
          12,
          expect.stringContaining(`is ${what}; pq export --mbox writes a regular file in its place`),
        ]);
        expect(lstatSync(join(out, name)).isFile()).toBe(false);
      }
    expect(read(out, "target.mbox")).toBe("keep me\n");
    // A regular file is replaced with --force, as before.
    expect((await pq(tree, "export", "--mbox", join(out, "target.mbox"), "--force")).code).toBe(0);
    expect(read(out, "target.mbox")).toContain("Subject: [PATCH] x");
  });
});

describe("a message line git am takes for the end of a description (t69 N1)", () => {
  it("is refused in a new message, and an imported mail's description ends there as git am's does", async () => {
    const tree = repo({ "a.c": "a\n" });
    expect((await pq(tree, "init")).code).toBe(0);
    for (const line of ["--- not a separator?", "---   ", "---"]) {
      const r = await pq(tree, "new", "t.patch", "-m", `subj\n\nbody\n${line}\nkept line`);
      expect([r.code, r.err], JSON.stringify(line)).toEqual([2, expect.stringContaining("what follows would be lost")]);
    }
    // A commit whose message has such a line, mailed by git format-patch: pq reads what git am reads.
    write(tree, "a.c", "a\nb\n");
    git(tree, "commit", "-qam", "subj\n\nbody\n--- not a separator?\nmore text");
    const mail = join(tempDir(), "m.patch");
    dirs.push(join(mail, ".."));
    writeFileSync(mail, git(tree, "format-patch", "-1", "--stdout"));
    const am = repo({ "a.c": "a\n" });
    spawnSync("git", ["am", "-q", mail], { cwd: am });
    const amMessage = git(am, "log", "-1", "--format=%B").trim();
    git(tree, "reset", "-q", "--hard", "HEAD~1");
    expect((await pq(tree, "import", mail)).code).toBe(0);
    const name = (await pq(tree, "series")).out.trim();
    const header = (await pq(tree, "header", name)).out;
    expect(header).not.toContain("more text");
    expect(amMessage).toBe("subj\n\nbody");
    expect(header).toContain("body");
  });
});

describe("a patch without a/ b/ prefixes (t69 N6)", () => {
  it("is refused with the way: pq import -p0, which takes it", async () => {
    const tree = repo({ "a.c": "a\n" });
    expect((await pq(tree, "init")).code).toBe(0);
    const mail = tempDir();
    dirs.push(mail);
    write(mail, "np.patch", "Subject: no prefix\n\n---\ndiff --git a.c a.c\n--- a.c\n+++ a.c\n@@ -1 +1 @@\n-a\n+b\n");
    const r = await pq(tree, "import", join(mail, "np.patch"));
    expect([r.code, r.err]).toEqual([7, expect.stringContaining("pq import -p0 reads it so")]);
    expect((await pq(tree, "import", "-p0", join(mail, "np.patch"))).code).toBe(0);
    expect((await pq(tree, "push")).code).toBe(0);
    expect(read(tree, "a.c")).toBe("b\n");
  });
});

describe("an applied patch exported in its own file's spelling when it makes the same change (t69 N3)", () => {
  it("keeps hg's raw UTF-8 name (not C-quoted) in --dir and --quilt exports; a changed patch is written as it applies", async () => {
    // In the patch's bytes (read as latin1 strings); on disk, the UTF-8 name.
    const name = Buffer.from("ü ber.txt", "utf8").toString("latin1");
    const tree = repo({});
    writeFileSync(join(tree, "ü ber.txt"), "one\n");
    git(tree, "add", "-A");
    git(tree, "commit", "-qm", "file");
    expect((await pq(tree, "init")).code).toBe(0);
    const patch = `# HG changeset patch\n# User Ann Example <ann@example.org>\n# Date 1700000000 0\nedit\n\ndiff --git a/${name} b/${name}\n--- a/${name}\n+++ b/${name}\n@@ -1 +1 @@\n-one\n+two\n`;
    const src = tempDir();
    dirs.push(src);
    write(src, "hg.patch", patch);
    expect((await pq(tree, "import", join(src, "hg.patch"))).code).toBe(0);
    expect((await pq(tree, "push")).code).toBe(0);
    const out = tempDir();
    dirs.push(out);
    expect((await pq(tree, "export", "--quilt", join(out, "q"))).code).toBe(0);
    expect(readFileSync(join(out, "q", "hg.patch"), "latin1")).toBe(patch);
    expect((await pq(tree, "export", "--dir", join(out, "d"))).code).toBe(0);
    const mail = readFileSync(
      join(
        out,
        "d",
        readdirSync(join(out, "d")).find((f) => f.startsWith("0001"))!,
      ),
      "latin1",
    );
    expect(mail).toContain(`diff --git a/${name} b/${name}`);
    // Applied with an offset (a line added above): written as it applies now.
    expect((await pq(tree, "pop")).code).toBe(0);
    writeFileSync(join(tree, "ü ber.txt"), "zero\none\n");
    git(tree, "commit", "-qam", "above");
    expect((await pq(tree, "push")).code).toBe(0);
    expect((await pq(tree, "export", "--quilt", join(out, "q2"))).code).toBe(0);
    expect(readFileSync(join(out, "q2", "hg.patch"), "latin1")).toContain("@@ -1,2 +1,2 @@\n zero\n-one\n+two\n");
  });
});

describe("a message whose body starts with a From:, Subject: or Date: line (t71 N3)", () => {
  it("is refused: git am of the export would take it for the mail's own header", async () => {
    const tree = repo({ "a.c": "a\n" });
    expect((await pq(tree, "init")).code).toBe(0);
    for (const line of [
      "From: Mal Example <mal@example.org>",
      "Subject: another",
      "date: Mon, 1 Jan 2001 00:00:00 +0000",
      "[PATCH] other subject",
    ]) {
      const r = await pq(tree, "new", "t.patch", "-m", `subj\n\n${line}\nrest`);
      expect([r.code, r.err], line).toEqual([2, expect.stringContaining("where git am reads it as the mail's own")]);
    }
    expect((await pq(tree, "series")).out).toBe("");
    // Further down, or indented, it is text.
    expect((await pq(tree, "new", "t.patch", "-m", "subj\n\nwhy:\nFrom: Mal Example <mal@example.org>")).code).toBe(0);
  });
});

describe("an imported git format-patch mail exported again (t74 N6)", () => {
  it("carries one signature, pq's, not the imported mail's too", async () => {
    const { tree, mail } = await mailedCommit("add b");
    expect(readFileSync(mail, "latin1")).toMatch(/\n-- \n\d/);
    expect((await pq(tree, "import", mail)).code).toBe(0);
    for (const applied of [false, true]) {
      if (applied) expect((await pq(tree, "push")).code).toBe(0);
      const out = tempDir();
      dirs.push(out);
      expect((await pq(tree, "export", "-a", "--dir", out)).code).toBe(0);
      const sent = readFileSync(
        join(
          out,
          readdirSync(out).find((f) => f.startsWith("0001"))!,
        ),
        "latin1",
      );
      expect(sent.match(/\n-- \n/g), `applied ${applied}`).toHaveLength(1);
      expect(sent).toMatch(/\n-- \npq\n/);
    }
  });
});

describe("in-body headers of an imported mail, read as git am reads them (t74 N3)", () => {
  it("gives git am's author, subject and message", async () => {
    const bodies = [
      "\n\nFrom: After Blanks <ab@example.org>\n\nbody one\n",
      "[PATCH] bracket subject\n\nbody two\n",
      "Subject: folded\n  continuation\n\nbody three\n",
      ">From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\nFrom: Sep Arator <sep@example.org>\n\nbody four\n",
      "From: Once <once@example.org>\nFrom: Twice <twice@example.org>\n\nbody five\n",
      "plain body\nFrom: Not A Header <no@example.org>\n",
      // t76 N1, N2: a separator line alone; a From: after a [PATCH] line and a blank line.
      ">From 1234567890123456789012345678901234567890 Mon Sep 17 00:00:00 2001\nbody seven\n",
      "[PATCH] bracket\n\nFrom: Xavier Late <x@example.org>\n\nbody eight\n",
    ];
    for (const [i, body] of bodies.entries()) {
      const mail = `From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\nFrom: Ann Example <ann@example.org>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: [PATCH] subj ${i}\n\n${body}---\n a.c | 2 +-\n\ndiff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n@@ -1 +1 @@\n-a\n+b\n`;
      const file = join(tempDir(), "m.eml");
      dirs.push(join(file, ".."));
      writeFileSync(file, mail);
      const am = repo({ "a.c": "a\n" });
      spawnSync("git", ["am", "-q", file], { cwd: am });
      const [amAuthor, amSubject, ...amBody] = git(am, "log", "-1", "--format=%an <%ae>%n%s%n%b").trimEnd().split("\n");
      const tree = repo({ "a.c": "a\n" });
      expect((await pq(tree, "init")).code).toBe(0);
      expect((await pq(tree, "import", file)).code).toBe(0);
      const name = (await pq(tree, "series")).out.trim();
      const shown = (await pq(tree, "header", name)).out;
      expect(shown, body).toContain(`Author: ${amAuthor}`);
      // pq header shows the message indented under Author: and Date:, as git log does.
      const message = shown
        .split("\n")
        .filter((l) => !/^(Author|Date):/.test(l))
        .map((l) => l.replace(/^ {4}/, ""))
        .join("\n")
        .trim();
      expect(message, body).toBe([amSubject, "", ...amBody].join("\n").trim());
    }
  });
});

describe("an encoded in-body From: in a quoted-printable body (t76 N6)", () => {
  it("is decoded as git am decodes it", async () => {
    const mail =
      "From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\nFrom: Ann Example <ann@example.org>\nDate: Tue, 14 Nov 2023 22:13:20 +0100\nSubject: [PATCH] qp\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: quoted-printable\n\nFrom: =?UTF-8?q?Z=C3=B6e?= <zoe@example.org>\n\nQP b=C3=B6dy with soft=\n break\n---\ndiff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n@@ -1 +1 @@\n-a\n+b\n";
    const file = join(tempDir(), "qp.eml");
    dirs.push(join(file, ".."));
    writeFileSync(file, mail);
    const am = repo({ "a.c": "a\n" });
    expect(spawnSync("git", ["am", "-q", file], { cwd: am }).status).toBe(0);
    // The helper reads git's output as bytes (latin1): its UTF-8 read back as text.
    const amAuthor = Buffer.from(git(am, "log", "-1", "--format=%an <%ae>"), "latin1")
      .toString("utf8")
      .trim();
    expect(amAuthor).toBe("Z\u00f6e <zoe@example.org>");
    const tree = repo({ "a.c": "a\n" });
    expect((await pq(tree, "init")).code).toBe(0);
    expect((await pq(tree, "import", file)).code).toBe(0);
    expect((await pq(tree, "header", "qp")).out).toContain(`Author: ${amAuthor}`);
  });
});

describe("an in-body header line written in $EDITOR (t74 N5)", () => {
  it("is refused, naming its line as the editor showed it", async () => {
    const tree = repo({ "a.c": "a\n" });
    expect((await pq(tree, "init")).code).toBe(0);
    expect((await pq(tree, "new", "t.patch", "-m", "subj")).code).toBe(0);
    const scripts = tempDir();
    dirs.push(scripts);
    // The editor writes: From:, Date:, Subject:, a blank line, two more blank lines, then the From: line (line 7).
    write(
      scripts,
      "ed.sh",
      `#!/bin/sh\nprintf 'From: Ann Example <ann@example.org>\\nDate: Mon, 1 Jan 2024 00:00:00 +0000\\nSubject: subj\\n\\n\\n\\nFrom: Mal Example <mal@example.org>\\n' > "$1"\n`,
    );
    chmodSync(join(scripts, "ed.sh"), 0o755);
    const was = process.env.EDITOR;
    process.env.EDITOR = join(scripts, "ed.sh");
    try {
      const r = await pq(tree, "header", "-e", "t.patch");
      expect([r.code, r.err]).toEqual([2, expect.stringContaining('line 7 of the edited message ("From: Mal Example <mal@example.org>")')]);
    } finally {
      if (was === undefined) delete process.env.EDITOR;
      else process.env.EDITOR = was;
    }
  });
});

describe("a mail with a Cc: header, as git send-email writes every list mail (t76 N5)", () => {
  it("gives git am's author, date, subject and message", async () => {
    const diff = "---\ndiff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n@@ -1 +1 @@\n-a\n+b\n";
    const heads = [
      "From: Ann Example <ann@example.org>\nDate: Tue, 14 Nov 2023 22:13:20 +0100\nSubject: [PATCH] cc subject\nCc: Other <o@example.org>\n",
      "From: Ann Example <ann@example.org>\nTo: list@example.org\nCc: Other <o@example.org>,\n Third <t@example.org>\nSubject: [PATCH] to cc subject\nDate: Tue, 14 Nov 2023 22:13:20 +0100\nMessage-Id: <1@example.org>\nX-Mailer: git-send-email 2.39.5\n",
    ];
    for (const head of heads) {
      const file = join(tempDir(), "m.eml");
      dirs.push(join(file, ".."));
      writeFileSync(file, `From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n${head}\nbody\n${diff}`);
      const am = repo({ "a.c": "a\n" });
      spawnSync("git", ["am", "-q", file], { cwd: am });
      const tree = repo({ "a.c": "a\n" });
      expect((await pq(tree, "init")).code).toBe(0);
      expect((await pq(tree, "import", file)).code).toBe(0);
      expect((await pq(tree, "push")).code).toBe(0);
      expect((await pq(tree, "finish", "-a")).code).toBe(0);
      const format = "--format=%an <%ae>|%ad|%s|%b";
      expect(git(tree, "log", "-1", format), head).toBe(git(am, "log", "-1", format));
    }
  });
});

describe("a format-patch mail whose message has a '--- words' line (t76 N4)", () => {
  it("is finished with the words and the lines after them as notes, and uncommit takes the commit back", async () => {
    const { tree, mail } = await mailedCommit("subject here\n\nbody line\n--- v2: renamed the helper\nx");
    expect((await pq(tree, "import", mail)).code).toBe(0);
    expect((await pq(tree, "push")).code).toBe(0);
    expect((await pq(tree, "finish", "-a")).code).toBe(0);
    expect(git(tree, "log", "-1", "--format=%B").trim()).toBe("subject here\n\nbody line\n---\nv2: renamed the helper\nx");
    const back = await pq(tree, "uncommit");
    expect(back.code, back.err).toBe(0);
  });
});

describe("export --dir of a long patch name (t122 N1)", () => {
  it("cuts the mail's file name to 64 bytes as git format-patch does, never inside a character, and git am takes the mails", async () => {
    const tree = makeRepo({ "f.txt": "a\n" });
    dirs.push(tree);
    await pq(tree, "init");
    const long = `${"a".repeat(200)}/${"b".repeat(60)}`;
    const accented = "é".repeat(40);
    for (const [name, line] of [
      [long, "b\n"],
      [accented, "c\n"],
    ]) {
      expect((await pq(tree, "new", name, "-m", `subject of ${name.slice(0, 3)}`)).code).toBe(0);
      write(tree, "f.txt", read(tree, "f.txt") + line);
      expect((await pq(tree, "refresh")).code).toBe(0);
    }
    const out = besideTree(tree, "mails");
    const r = await pq(tree, "export", "--dir", out);
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(out).sort()).toEqual([`0001-${"a".repeat(64)}.patch`, `0002-${"é".repeat(32)}.patch`, "series"]);
    const clone = makeRepo({ "f.txt": "a\n" });
    dirs.push(clone);
    const am = spawnSync("git", ["am", "-q", join(out, `0001-${"a".repeat(64)}.patch`), join(out, `0002-${"é".repeat(32)}.patch`)], {
      cwd: clone,
      encoding: "utf8",
    });
    expect(am.status, am.stderr).toBe(0);
    expect(read(clone, "f.txt")).toBe("a\nb\nc\n");
  });
});

describe("-e with -m (t122 N11)", () => {
  it("opens the editor on -m's message, as git commit -e -m does, in header and refresh alike, and what is typed there is kept", async () => {
    const tree = repo({ "a.c": "a\n" });
    expect((await pq(tree, "init")).code).toBe(0);
    expect((await pq(tree, "new", "t.patch", "-m", "old subject")).code).toBe(0);
    const scripts = tempDir();
    dirs.push(scripts);
    // The editor keeps a copy of what it was shown, and types a new subject over the one it got.
    write(scripts, "ed.sh", `#!/bin/sh\ncp "$1" "${scripts}/seen"\nsed -i "s/^Subject: \\(.*\\)/Subject: \\1, typed/" "$1"\n`);
    chmodSync(join(scripts, "ed.sh"), 0o755);
    const was = process.env.EDITOR;
    process.env.EDITOR = join(scripts, "ed.sh");
    try {
      expect((await pq(tree, "header", "-e", "-m", "given with m", "t.patch")).code).toBe(0);
      expect(read(scripts, "seen")).toContain("Subject: given with m\n");
      expect(read(join(tree, "patches"), "t.patch")).toContain("Subject: given with m, typed\n");
      write(tree, "a.c", "b\n");
      expect((await pq(tree, "refresh", "-e", "-m", "refresh m")).code).toBe(0);
      expect(read(scripts, "seen")).toContain("Subject: refresh m\n");
      expect(read(join(tree, "patches"), "t.patch")).toContain("Subject: refresh m, typed\n");
    } finally {
      if (was === undefined) delete process.env.EDITOR;
      else process.env.EDITOR = was;
    }
  });
});

describe("a DEP-3 Description with verbatim lines (t122 N6)", () => {
  it("keeps their indentation, as Debian reads it, in pq header and in the commit pq finish makes; a message line of '.' alone is refused", async () => {
    const tree = repo({ f: "a\nb\n" });
    expect((await pq(tree, "init")).code).toBe(0);
    const file = besideTree(tree, "dep3", ".patch");
    writeFileSync(
      file,
      "Description: Fix the build with make 4\n To reproduce:\n .\n   $ make -j4\n   error: foo\n .\n After this patch it builds.\nAuthor: Vera Verbatim <vera@example.org>\n\n--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n-a\n+A\n b\n",
    );
    expect((await pq(tree, "import", file, "-n", "fix.patch", "--push")).code).toBe(0);
    expect(JSON.parse((await pq(tree, "header", "--json")).out).body).toBe(
      "To reproduce:\n\n  $ make -j4\n  error: foo\n\nAfter this patch it builds.",
    );
    const dot = await pq(tree, "header", "-m", "Subj\n\nfirst\n.\n  indented");
    expect([dot.code, dot.err.split("\n")[0]]).toEqual([
      2,
      'pq: the message\'s body has a line of "." alone (after "first"), which a DEP-3 Description: cannot hold (it reads back as a blank line)',
    ]);
    expect((await pq(tree, "header", "-m", "Subj\n\nfirst\n\n  indented")).code).toBe(0);
    expect(read(join(tree, "patches"), "fix.patch")).toMatch(/^Description: Subj\n first\n \.\n   indented\nAuthor: /);
    expect(JSON.parse((await pq(tree, "header", "--json")).out).body).toBe("first\n\n  indented");
    expect((await pq(tree, "finish", "-a")).code).toBe(0);
    expect(git(tree, "log", "-1", "--format=%B")).toBe("Subj\n\nfirst\n\n  indented\n\n");
  });
});

describe("import of a file whose name pq does not take as a patch name (t122 N9)", () => {
  it("names -n NAME, which imports it, and writes nothing", async () => {
    const tree = repo({ f: "a\n" });
    expect((await pq(tree, "init")).code).toBe(0);
    const dir = tempDir("pq-import-spaced-");
    dirs.push(dir);
    const file = join(dir, "Fix build (1).patch");
    writeFileSync(file, "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+A\n");
    const r = await pq(tree, "import", file);
    expect(r.code).toBe(2);
    const way = /(pq import -n NAME .*) names the patch NAME/.exec(r.err)?.[1];
    expect(way).toBe(`pq import -n NAME '${file}'`);
    expect((await pq(tree, "series")).out).toBe("");
    expect((await pq(tree, "import", "-n", "fix-build.patch", file)).code).toBe(0);
    expect((await pq(tree, "series")).out).toBe("fix-build.patch\n");
  });
});

describe("an edited message pq refuses, taken up again (t122 N10)", () => {
  it("names pq header -e -F SAVED NAME, which opens the saved text in the editor; refresh -e alike", async () => {
    const tree = repo({ "a.c": "a\n" });
    expect((await pq(tree, "init")).code).toBe(0);
    expect((await pq(tree, "new", "x", "-m", "orig subject")).code).toBe(0);
    const scripts = tempDir();
    dirs.push(scripts);
    // The first editor types a message with a "---" line; the second indents it, as the refusal asks.
    write(scripts, "type.sh", `#!/bin/sh\nprintf 'Subject: long new subject\\n\\nA long body typed carefully.\\n---\\nmore\\n' > "$1"\n`);
    write(scripts, "indent.sh", `#!/bin/sh\nsed -i 's/^---$/ ---/' "$1"\n`);
    for (const s of ["type.sh", "indent.sh"]) chmodSync(join(scripts, s), 0o755);
    const was = process.env.EDITOR;
    try {
      for (const command of [
        ["header", "-e"],
        ["refresh", "-e"],
      ]) {
        process.env.EDITOR = join(scripts, "type.sh");
        const r = await pq(tree, ...command);
        expect(r.code, command.join(" ")).toBe(2);
        const again = /\((pq \S+ -e -F \S+(?: x)?) opens it again in the editor\)/.exec(r.err)?.[1];
        expect(again, r.err).toBeDefined();
        process.env.EDITOR = join(scripts, "indent.sh");
        expect((await pq(tree, ...again!.split(" ").slice(1))).code, again).toBe(0);
        const patch = read(join(tree, "patches"), "x");
        expect(patch).toContain("Subject: long new subject\n\nA long body typed carefully.\n ---\nmore\n");
        expect((await pq(tree, "header", "-m", "orig subject")).code).toBe(0);
      }
    } finally {
      if (was === undefined) delete process.env.EDITOR;
      else process.env.EDITOR = was;
    }
  });
});

describe("a patch without a header, mailed and finished (t122 N4)", () => {
  it("has its name without .patch for a subject in both, also after a fold left its Subject: line empty", async () => {
    const tree = repo({ f: "a\nb\nc\n" });
    expect((await pq(tree, "init")).code).toBe(0);
    const file = besideTree(tree, "n4", ".patch");
    writeFileSync(file, "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n-a\n+A\n b\n c\n");
    expect((await pq(tree, "import", "-n", "n4.patch", file, "--push")).code).toBe(0);
    expect((await pq(tree, "export", "--mbox", "-")).out).toContain("Subject: [PATCH] n4\n");
    expect((await pq(tree, "new", "other", "-m", "Add the other thing")).code).toBe(0);
    write(tree, "f", "A\nb\nc\nd\n");
    expect((await pq(tree, "refresh")).code).toBe(0);
    expect((await pq(tree, "pop")).code).toBe(0);
    expect((await pq(tree, "fold", "other")).code).toBe(0);
    expect((await pq(tree, "export", "--mbox", "-")).out).toContain("Subject: [PATCH] n4\n");
    expect((await pq(tree, "finish", "-a")).code).toBe(0);
    expect(git(tree, "log", "-1", "--format=%s")).toBe("n4\n");
  });
});

describe("a plain patch whose description starts like a kernel subject (t125 N6)", () => {
  it("keeps 'mm: fix leak' as its subject in header, fold and finish: no field of a patch header is named mm", async () => {
    const tree = repo({ a: "a\n", b: "b\n" });
    expect((await pq(tree, "init")).code).toBe(0);
    const q1 = besideTree(tree, "q1", ".patch");
    const q2 = besideTree(tree, "q2", ".patch");
    writeFileSync(q1, "mm: fix leak\n\nThe leak happens when X.\n\n--- a/a\n+++ b/a\n@@ -1 +1,2 @@\n a\n+1\n");
    writeFileSync(q2, "net: fix race\n\n--- a/b\n+++ b/b\n@@ -1 +1,2 @@\n b\n+2\n");
    // Each goes in ahead of the unapplied ones, as hg's qimport puts it: q2 first gives q1, q2.
    expect((await pq(tree, "import", "-n", "q2.patch", q2)).code).toBe(0);
    expect((await pq(tree, "import", "-n", "q1.patch", q1)).code).toBe(0);
    expect(JSON.parse((await pq(tree, "header", "q1.patch", "--json")).out)).toMatchObject({
      subject: "mm: fix leak",
      body: "The leak happens when X.",
    });
    expect(JSON.parse((await pq(tree, "header", "q2.patch", "--json")).out)).toMatchObject({ subject: "net: fix race" });
    expect((await pq(tree, "push")).code).toBe(0);
    expect((await pq(tree, "fold", "q2.patch")).code).toBe(0);
    expect((await pq(tree, "finish", "-a")).code).toBe(0);
    expect(git(tree, "log", "-1", "--format=%B")).toBe("mm: fix leak\n\nThe leak happens when X.\n\n* * *\n\nnet: fix race\n\n");
  });
});

describe("pq export of a stack whose tree is a folder of its repository (t154 N6)", () => {
  it("says the mails' paths are the tree's, and the git am --directory that applies them in a clone works", async () => {
    const repo = makeRepo({ "pkg/f.c": "1\n2\n3\n", "f.c": "top\n" });
    const clone = tempDir();
    dirs.push(repo, clone);
    const pkg = join(repo, "pkg");
    await pq(pkg, "init");
    await pq(pkg, "new", "fix", "-m", "fix f.c");
    write(pkg, "f.c", "1\ntwo\n3\n");
    await pq(pkg, "refresh");
    const exported = await pq(pkg, "export", "--mbox", join(clone, "fix.mbox"));
    expect(exported.code).toBe(0);
    expect(exported.err).toContain("this tree is pkg/ of its git repository");
    const way = /git am --directory=\S+/.exec(exported.err)![0];
    execFileSync("git", ["clone", "-q", repo, join(clone, "repo")]);
    execFileSync("git", [...way.split(" ").slice(1), join(clone, "fix.mbox")], { cwd: join(clone, "repo") });
    expect(read(join(clone, "repo"), "pkg/f.c")).toBe("1\ntwo\n3\n");
    expect(read(join(clone, "repo"), "f.c")).toBe("top\n");
  });
});

describe("pq export --quilt of a series line with an explicit -p1 (t154 N12)", () => {
  it("writes the queue's own line, tab and spacing kept, since it says the same", async () => {
    const repo = makeRepo({ f: "1\n2\n3\n4\n" });
    const out = tempDir();
    dirs.push(repo, out);
    write(repo, "patches/one.patch", "--- a/f\n+++ b/f\n@@ -3 +3 @@\n-3\n+X3\n");
    write(repo, "patches/series", "# vendor fixes\none.patch\t-p1   # keep until 2.0\n");
    await pq(repo, "init");
    expect((await pq(repo, "export", "-a", "--quilt", join(out, "q"))).code).toBe(0);
    expect(read(join(out, "q"), "series")).toBe("# vendor fixes\none.patch\t-p1   # keep until 2.0\n");
  });
});

describe("pq export of a message with a line git am takes for its end (t154 N11)", () => {
  it("says so, naming the patch and the line", async () => {
    const repo = makeRepo({ f: "1\n2\n3\n4\n" });
    const out = tempDir();
    dirs.push(repo, out);
    write(
      repo,
      "patches/d.patch",
      "Description: fix three\n Before the change:\n ---\n the old behaviour was bad.\nAuthor: Dee Three <d3@example.org>\n\n--- a/f\n+++ b/f\n@@ -3 +3 @@\n-3\n+X3\n",
    );
    write(repo, "patches/series", "d.patch\n");
    await pq(repo, "init");
    const exported = await pq(repo, "export", "-a", "--mbox", join(out, "d.mbox"));
    expect(exported.code).toBe(0);
    expect(exported.err).toContain('d.patch ("---"): its message has a line git am takes for the message\'s end');
  });
});
