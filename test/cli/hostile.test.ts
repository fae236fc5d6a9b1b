/**
 * Refusals found by a hostile tester (December 2): each was accepted before, and either
 * changed what a patch does, read outside the tree, acted on a patch nobody named, or
 * wedged the stack behind a raw system error.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { spawnSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, git, makeRepo, pq, read, snapshot, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

async function stack(
  files: Record<string, string> = { "a.txt": "line1\nline2\nline3\n", "main.c": "int main(void)\n{\n\treturn 0;\n}\n" },
) {
  const dir = makeRepo(files);
  dirs.push(dir);
  expect((await pq(dir, "init")).code).toBe(0);
  return dir;
}

const quotedDiff =
  "Fix a.txt\n\nThe earlier attempt was:\ndiff --git a/main.c b/main.c\n--- a/main.c\n+++ b/main.c\n@@ -1 +1 @@\n-int main(void)\n+int main(int argc)\n";

describe("messages that would be read as a diff", () => {
  it("new -m, header -m and refresh -m refuse a message quoting a diff or holding a --- line, and change nothing", async () => {
    const dir = await stack();
    const r = await pq(dir, "new", "fix", "-m", quotedDiff);
    expect(r.code).toBe(2);
    expect(r.err).toContain('line 4 of the message ("diff --git a/main.c b/main.c") would be read as the start of the patch\'s diff');
    expect(r.err).toContain("indent that line");
    expect((await pq(dir, "series")).out).toBe("");
    expect((await pq(dir, "new", "fix", "-m", "Fix a.txt")).code).toBe(0);
    write(dir, "a.txt", "line1\nline2\nline3\nx\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    const before = snapshot(dir);
    expect((await pq(dir, "header", "fix", "-m", quotedDiff)).code).toBe(2);
    expect((await pq(dir, "refresh", "-m", "Fix\n\nBackground:\n---\nafter the line")).code).toBe(2);
    // A "--- " line and a word ends a description as git am reads it (t69 N1); indented, it and a quoted diff are text.
    expect((await pq(dir, "header", "fix", "-m", "Fix\n\n--- not a diff")).code).toBe(2);
    expect((await pq(dir, "header", "fix", "-m", "Fix\n\n --- not a diff\n diff --git a/x b/x")).code).toBe(0);
    expect(snapshot(dir)["main.c"]).toBe(before["main.c"]);
    await pq(dir, "pop");
    expect((await pq(dir, "push")).code).toBe(0);
    expect(read(dir, "main.c")).toBe("int main(void)\n{\n\treturn 0;\n}\n");
  });
});

describe("what pq's patches hold: regular files", () => {
  it("refresh leaves out a staged symlink and a tracked file replaced by one, and says so (nothing read through the link)", async () => {
    const dir = await stack();
    const outside = makeRepo({ "secret.txt": "not for the patch\n" });
    dirs.push(outside);
    await pq(dir, "new", "s");
    symlinkSync(join(outside, "secret.txt"), join(dir, "secret"));
    git(dir, "add", "secret");
    const r = await pq(dir, "refresh");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("left out (symlinks or other non-files; pq's patches hold regular files only): secret");
    expect(read(join(dir, "patches"), "s")).not.toContain("not for the patch");
    git(dir, "rm", "-q", "--cached", "secret");
    rmSync(join(dir, "secret"));
    expect((await pq(dir, "refresh")).code).toBe(0);
    // A tracked file replaced by a link to a file outside the tree.
    rmSync(join(dir, "a.txt"));
    symlinkSync(join(outside, "secret.txt"), join(dir, "a.txt"));
    const r3 = await pq(dir, "refresh");
    expect(r3.out).toContain("left out (symlinks or other non-files; pq's patches hold regular files only): a.txt");
    expect(readFileSync(join(dir, "patches", "s"), "latin1")).not.toContain("not for the patch");
  });

  it("add refuses a directory (it used to wedge every later command on EISDIR)", async () => {
    const dir = await stack();
    await pq(dir, "new", "p1");
    mkdirSync(join(dir, "d"));
    write(dir, "d/f1", "1\n");
    const r = await pq(dir, "add", "d");
    expect(r.code).toBe(2);
    expect(r.err).toContain("d is a directory; pq takes files, named one by one");
    expect((await pq(dir, "add", ".")).err).toContain(". is a directory");
    // A path outside the tree is a bad argument (2), not a bad patch (t62 N2: it was 7).
    const outside = await pq(dir, "add", "../elsewhere.c");
    expect([outside.code, outside.err]).toEqual([2, expect.stringContaining("../elsewhere.c is outside the tree")]);
    expect((await pq(dir, "add", "d/f1")).code).toBe(0);
    expect((await pq(dir, "refresh")).code).toBe(0);
    expect((await pq(dir, "status")).code).toBe(0);
  });
});

describe("a patch file that is a symbolic link (t60 N5)", () => {
  it("is not read through when it leads out of the queue: push, show, header and export refuse, naming it; one inside is read", async () => {
    const dir = await stack();
    const secret = join(tempDir("pq-secret-"), "id_key");
    dirs.push(dirname(secret));
    writeFileSync(secret, "-----BEGIN FAKE PRIVATE KEY-----\nAAAASECRET\n-----END FAKE PRIVATE KEY-----\n");
    symlinkSync(secret, join(dir, "patches", "leak.patch"));
    write(dir, "patches/inner.patch", "--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n-line1\n+LINE1\n line2\n line3\n");
    symlinkSync("inner.patch", join(dir, "patches", "alias.patch"));
    write(dir, "patches/series", "alias.patch\nleak.patch\n");
    const before = snapshot(dir);
    expect((await pq(dir, "push")).code).toBe(0); // the link inside the queue: read as the patch it names
    for (const args of [["push"], ["show", "leak.patch"], ["header", "leak.patch"], ["export", "--mbox", "-", "-a"]]) {
      const r = await pq(dir, ...args);
      expect([r.code, r.err], args.join(" ")).toEqual([
        7,
        expect.stringContaining(`"leak.patch" in the queue is a symbolic link to ${secret}, outside the queue directory`),
      ]);
      expect(r.out).not.toContain("SECRET");
    }
    expect((await pq(dir, "pop")).code).toBe(0);
    expect(snapshot(dir)).toEqual(before);
  });
});

describe("a queue to import holding a symbolic link out of it (t127 N6)", () => {
  it("is refused by name for --quilt and --hg, nothing imported; a link to a patch inside it is read", async () => {
    const secret = join(tempDir("pq-secret-"), "id_key");
    dirs.push(dirname(secret));
    writeFileSync(secret, "FAKE PRIVATE KEY MATERIAL\n");
    const patch = "--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n-line1\n+LINE1\n line2\n line3\n";
    for (const [flag, sub] of [
      ["--quilt", "patches"],
      ["--hg", ".hg/patches"],
    ]) {
      const source = tempDir("pq-source-");
      dirs.push(source);
      mkdirSync(join(source, sub), { recursive: true });
      writeFileSync(join(source, sub, "ok.patch"), patch);
      symlinkSync("ok.patch", join(source, sub, "alias.patch"));
      symlinkSync(secret, join(source, sub, "leak.patch"));
      writeFileSync(join(source, sub, "series"), "alias.patch\nleak.patch\n");
      const dir = await stack();
      const before = snapshot(dir);
      const r = await pq(dir, "import", flag, source);
      expect([r.code, r.err], flag).toEqual([
        7,
        expect.stringContaining(`${join(source, sub, "leak.patch")} leads out of ${source} through a symbolic link`),
      ]);
      expect(snapshot(dir)).toEqual(before);
      writeFileSync(join(source, sub, "series"), "alias.patch\n");
      const inside = await pq(dir, "import", flag, source);
      expect(inside.code, inside.err).toBe(0);
      expect(read(dir, "patches/alias.patch")).toBe(patch);
    }
    // The queue folder itself a link out of the directory named (t131 N3).
    const elsewhere = tempDir("pq-elsewhere-");
    const source = tempDir("pq-source-");
    dirs.push(elsewhere, source);
    writeFileSync(join(elsewhere, "ok.patch"), patch);
    writeFileSync(join(elsewhere, "series"), "ok.patch\n");
    symlinkSync(elsewhere, join(source, "patches"));
    const dir = await stack();
    const linked = await pq(dir, "import", "--quilt", source);
    expect([linked.code, linked.err]).toEqual([7, expect.stringContaining("leads out of")]);
  });
});

describe("export --quilt into a directory holding a symbolic link to a folder (t127 N15)", () => {
  it("refuses to write a patch through it, --force too, naming it; nothing is written there", async () => {
    const dir = await stack();
    expect((await pq(dir, "new", "sub/x.patch")).code).toBe(0);
    write(dir, "a.txt", "changed\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    const outside = tempDir("pq-outside-");
    const into = tempDir("pq-export-");
    dirs.push(outside, into);
    writeFileSync(join(outside, "x.patch"), "precious\n");
    symlinkSync(outside, join(into, "sub"));
    for (const force of [[], ["--force"]]) {
      const r = await pq(dir, "export", "--quilt", into, ...force);
      expect([r.code, r.err], force.join(" ")).toEqual([7, expect.stringContaining(`${join(into, "sub")} is a symbolic link`)]);
    }
    expect(readFileSync(join(outside, "x.patch"), "utf8")).toBe("precious\n");
    expect(readdirSync(into)).toEqual(["sub"]);
  });
});

describe("pq import -n NAME where the queue holds a folder NAME (t127 N5)", () => {
  it("is refused before anything is written, as new refuses it; the stack stays usable", async () => {
    const dir = await stack();
    write(dir, "patches/notes/todo.txt", "my notes\n");
    const patch = join(tempDir("pq-import-"), "fix.patch");
    dirs.push(dirname(patch));
    writeFileSync(patch, "--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n-line1\n+LINE1\n line2\n line3\n");
    const before = snapshot(dir);
    const r = await pq(dir, "import", "-n", "notes", patch);
    expect([r.code, r.err]).toEqual([3, expect.stringContaining("is a directory")]);
    expect(snapshot(dir)).toEqual(before);
    expect((await pq(dir, "series")).code).toBe(0);
  });
});

describe("pq import of what is no regular file (t127 N12)", () => {
  it("refuses a device and a queue's FIFO by name at once, instead of reading until memory runs out; standard input still imports", async () => {
    const dir = await stack();
    const before = snapshot(dir);
    const zero = await pq(dir, "import", "/dev/zero");
    expect([zero.code, zero.err]).toEqual([7, expect.stringContaining("/dev/zero is not a regular file")]);
    const source = tempDir("pq-source-");
    dirs.push(source);
    mkdirSync(join(source, "patches"));
    expect(spawnSync("mkfifo", [join(source, "patches", "z.patch")]).status).toBe(0);
    writeFileSync(join(source, "patches", "series"), "z.patch\n");
    const fifo = await pq(dir, "import", "--quilt", source);
    expect([fifo.code, fifo.err]).toEqual([7, expect.stringContaining("z.patch is not a regular file")]);
    expect(snapshot(dir)).toEqual(before);
    const piped = spawnSync(resolve("bin/pq"), ["import", "-"], {
      cwd: dir,
      input: "--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n-line1\n+LINE1\n line2\n line3\n",
      encoding: "utf8",
    });
    expect(piped.status, piped.stderr).toBe(0);
    expect(read(dir, "patches/series")).toContain("stdin.patch");
    // A header from a device (t131 N4): refused at once, as usage.
    expect((await pq(dir, "push")).code).toBe(0);
    for (const command of ["header", "refresh"]) {
      const r = await pq(dir, command, "-F", "/dev/zero");
      expect([r.code, r.err], command).toEqual([2, expect.stringContaining("/dev/zero is not a regular file")]);
    }
  });
});

describe("a queue directory in the tree replaced by a symbolic link out of it (t60 N14)", () => {
  it("is refused by every command, restore-queue's writes included; one that stays inside the tree is the queue", async () => {
    const dir = await stack();
    const outside = tempDir("pq-outside-");
    dirs.push(outside);
    rmSync(join(dir, "patches"), { recursive: true });
    symlinkSync(outside, join(dir, "patches"));
    for (const args of [["status"], ["new", "x.patch"], ["restore-queue"]]) {
      const r = await pq(dir, ...args);
      expect([r.code, r.err], args.join(" ")).toEqual([
        7,
        expect.stringContaining(`the queue directory ${join(dir, "patches")} leads out of the tree`),
      ]);
    }
    expect(readdirSync(outside)).toEqual([]);
    // Inside the tree: the queue it leads to.
    rmSync(join(dir, "patches"));
    mkdirSync(join(dir, "debian/patches"), { recursive: true });
    writeFileSync(join(dir, "debian/patches/series"), "");
    symlinkSync("debian/patches", join(dir, "patches"));
    expect((await pq(dir, "new", "y.patch")).code).toBe(0);
    expect(readFileSync(join(dir, "debian/patches/series"), "utf8")).toBe("y.patch\n");
  });
});

describe("git's index", () => {
  it("changes staged with git add/rm are unstaged once refresh took them: pop leaves nothing for an unrelated git commit", async () => {
    const dir = await stack();
    await pq(dir, "new", "p1");
    write(dir, "new.c", "work in progress\n");
    git(dir, "add", "new.c");
    git(dir, "rm", "-q", "a.txt");
    expect((await pq(dir, "refresh")).out).toContain("refreshed p1: a.txt, new.c");
    expect((await pq(dir, "pop")).code).toBe(0);
    expect(git(dir, "diff", "--cached", "--name-only")).toBe("");
    write(dir, "main.c", "int main(void)\n{\n\treturn 1;\n}\n");
    git(dir, "commit", "-qam", "unrelated fix");
    expect(git(dir, "show", "--name-only", "--format=", "HEAD").trim()).toBe("main.c");
    expect((await pq(dir, "push")).code).toBe(0);
    expect(read(dir, "new.c")).toBe("work in progress\n");
  });

  it("a refresh that would unstage meets git's index.lock: refused before anything is written, no journal left (verify-6 N9)", async () => {
    const dir = await stack();
    await pq(dir, "new", "p1");
    const empty = read(join(dir, "patches"), "p1");
    write(dir, "new.c", "work in progress\n");
    git(dir, "add", "new.c");
    write(dir, ".git/index.lock", "");
    const r = await pq(dir, "refresh");
    expect(r.code).toBe(11);
    expect(r.err).toContain("index.lock exists); nothing was changed");
    expect(read(join(dir, "patches"), "p1")).toBe(empty);
    expect(existsSync(join(dir, ".pq/journal.json"))).toBe(false);
    expect((await pq(dir, "status")).code).toBe(0);
    rmSync(join(dir, ".git/index.lock"));
    expect((await pq(dir, "refresh")).out).toContain("refreshed p1: new.c");
    expect(git(dir, "diff", "--cached", "--name-only")).toBe("");
  });
});

describe("names nobody gave", () => {
  it("an empty name is refused, and rename with one name and nothing applied says so", async () => {
    const dir = await stack();
    await pq(dir, "new", "important-work");
    write(dir, "a.txt", "changed\n");
    await pq(dir, "refresh");
    for (const cmd of [
      ["finish", ""],
      ["delete", ""],
      ["header", "", "-m", "clobbered"],
      ["push", ""],
    ]) {
      const r = await pq(dir, ...cmd);
      expect(r.code, cmd.join(" ")).toBe(2);
      expect(r.err).toContain("an empty patch name names no patch");
    }
    expect(read(join(dir, "patches"), "important-work")).toContain("Subject: important-work");
    expect(git(dir, "log", "--format=%s", "-1").trim()).not.toBe("important-work");
    await pq(dir, "pop");
    const rename = await pq(dir, "rename", "newname");
    expect(rename.code).toBe(12);
    expect(rename.err).toContain("no patch is applied to rename");
    expect((await pq(dir, "series")).out).toBe("important-work\n");
  });
});

describe("the command line", () => {
  it('"--" ends the options: the words after it are names, even ones starting with "-"', async () => {
    const dir = await stack();
    for (const n of ["p1", "p2", "p3"]) await pq(dir, "new", n);
    await pq(dir, "pop", "-a");
    expect((await pq(dir, "push", "--", "p3")).code).toBe(0);
    expect((await pq(dir, "applied")).out).toBe("p1\np2\np3\n");
    expect((await pq(dir, "pop", "--", "p1")).code).toBe(0);
    expect((await pq(dir, "applied")).out).toBe("p1\n");
    expect((await pq(dir, "new", "--", "-fix")).code).toBe(0);
    expect((await pq(dir, "top")).out).toBe("-fix\n");
  });

  it("export to a directory mkdir can never make (under /proc) fails at once instead of spinning", async () => {
    const dir = await stack();
    await pq(dir, "new", "p1");
    const r = await pq(dir, "export", "--dir", "/proc/pq-no-such-dir/out");
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("/proc/pq-no-such-dir");
  });

  it("status, read-only, reports a staged file whose name is not UTF-8 instead of refusing like refresh", async () => {
    const dir = await stack();
    await pq(dir, "new", "p1");
    writeFileSync(Buffer.from(join(dir, "caf\xe9.txt"), "latin1"), "x\n");
    git(dir, "add", "-A", ".");
    const st = await pq(dir, "status");
    expect(st.code).toBe(0);
    expect(st.out).toContain("unrefreshed changes: caf\ufffd.txt");
    expect((await pq(dir, "refresh")).code).toBe(7);
  });

  it("status says when a series edited by hand lists applied patches out of their applied order", async () => {
    const dir = await stack();
    await pq(dir, "new", "p1");
    await pq(dir, "new", "p2");
    expect((await pq(dir, "status")).out).not.toContain("another order");
    write(dir, "patches/series", "p2\np1\n");
    expect((await pq(dir, "status")).out).toContain(
      "the series lists the applied patches in another order than they were applied (p1, p2)",
    );
  });

  it("raw system errors become pq's: a name under a patch file, a queue that is a file, a state that is null", async () => {
    const dir = await stack();
    await pq(dir, "new", "x");
    const under = await pq(dir, "new", "x/y");
    expect(under.code).toBe(3);
    expect(under.err).toContain("x is a file in the queue (a patch), so x/y cannot be made under it");
    expect((await pq(dir, "rename", "x", "x/z")).err).toContain("so x/z cannot be made under it");
    const other = makeRepo({ q: "a file\n" });
    dirs.push(other);
    const init = await pq(other, "init", "--queue", "q");
    expect(init.code).toBe(2);
    expect(init.err).toContain("--queue q is not a directory");
    write(dir, ".pq/state.json", "null\n");
    const top = await pq(dir, "top");
    expect(top.code).toBe(13);
    expect(top.err).toContain("unreadable (unknown format)");
    // The way out keeps unrefreshed edits and .pq's log, objects and backups (undo-5 #6).
    expect(top.err).toContain("keep your unrefreshed edits first");
    expect(top.err).toContain("mv .pq/state.json");
    expect(top.err).not.toContain("move .pq/ away");
    write(dir, ".pq/state.json", "garbage{\n");
    expect((await pq(dir, "top")).err.split("\n")[0]).toMatch(/unreadable \(.*garbage\{ .*\)$/);
  });
});

describe("commands that did more than asked", () => {
  /** Ann's p1 with Bob's p2 folded into it (`p1Message` and `p2Message`: their -m, if any); the folded patch's text. */
  async function foldBobIntoAnn(p1Message: string[], p2Message: string): Promise<string> {
    const dir = await stack();
    await pq(dir, "new", "p1", ...p1Message, "-u", "Ann Example <ann@example.org>");
    write(dir, "a.txt", "line1\nline2\nline3\np1\n");
    await pq(dir, "refresh");
    await pq(dir, "new", "p2", "-m", p2Message, "-u", "Bob Example <bob@example.org>");
    write(dir, "main.c", "int main(void)\n{\n\treturn 2;\n}\n");
    await pq(dir, "refresh");
    await pq(dir, "pop");
    expect((await pq(dir, "fold", "p2")).code).toBe(0);
    return read(join(dir, "patches"), "p1");
  }

  it("fold keeps the folded patches' authors as Co-developed-by trailers", async () => {
    const text = await foldBobIntoAnn([], "second");
    expect(text).toContain("From: Ann Example <ann@example.org>");
    expect(text).toContain("Co-developed-by: Bob Example <bob@example.org>");
  });

  it("fold puts a co-author's Co-developed-by right before that author's own sign-off (the kernel's rule)", async () => {
    const text = await foldBobIntoAnn(
      ["-m", "first\n\nSigned-off-by: Ann Example <ann@example.org>"],
      "second\n\nSigned-off-by: Bob Example <bob@example.org>",
    );
    expect(text).toContain("Co-developed-by: Bob Example <bob@example.org>\nSigned-off-by: Bob Example <bob@example.org>");
    expect(text.match(/Co-developed-by/g)).toHaveLength(1);
  });

  it("fold refuses over unrefreshed edits instead of taking them into the top patch", async () => {
    const dir = await stack();
    await pq(dir, "new", "p1");
    write(dir, "a.txt", "line1\nline2\nline3\np1\n");
    await pq(dir, "refresh");
    await pq(dir, "new", "p2");
    await pq(dir, "pop");
    write(dir, "main.c", "int main(void)\n{\n\treturn 0; /* half-done experiment */\n}\n");
    const r = await pq(dir, "fold", "p2");
    expect(r.code).toBe(5);
    expect(r.err).toContain("unrefreshed changes in main.c: the fold would take them into p1");
    expect(read(join(dir, "patches"), "p1")).not.toContain("experiment");
    expect((await pq(dir, "series")).out).toBe("p1\np2\n");
  });

  it("push over an unrefreshed edit that is in the patch's way says so (exit 5), also with --force, and nothing joins the patch", async () => {
    const dir = await stack({ a: Array.from({ length: 20 }, (_, i) => `${i + 1}\n`).join("") });
    await pq(dir, "new", "p1");
    write(dir, "a", read(dir, "a").replace("\n5\n", "\nfive\n"));
    await pq(dir, "refresh");
    await pq(dir, "pop");
    write(dir, "a", read(dir, "a").replace("\n15\n", "\nfifteen\n").replace("\n5\n", "\nFIVE\n"));
    const before = read(dir, "a");
    for (const args of [["push"], ["push", "--force"]]) {
      const r = await pq(dir, ...args);
      expect(r.code, args.join(" ")).toBe(5);
      expect(r.err).toContain("unrefreshed changes in a, which p1 also changes");
    }
    expect(read(dir, "a")).toBe(before);
    expect((await pq(dir, "applied")).out).toBe("");
    expect(read(join(dir, "patches"), "p1")).not.toContain("fifteen");
  });

  it("push --dry-run --move names no guarded patch as skipped: the push moves its patch right above the top (t49 N3)", async () => {
    const dir = await stack();
    for (const n of ["p1", "g1", "last"]) await pq(dir, "new", n);
    await pq(dir, "pop", "-a");
    await pq(dir, "guard", "g1", "+xen");
    const dry = await pq(dir, "push", "--dry-run", "--move", "last");
    expect(dry.code, dry.err).toBe(0);
    expect(dry.out).not.toContain("skipping");
    const real = await pq(dir, "push", "--move", "last");
    expect(real.out).not.toContain("skipping");
    expect((await pq(dir, "applied")).out).toBe("last\n");
  });

  it("push --move refuses a patch its guards exclude; reorder and import refuse options that contradict", async () => {
    const dir = await stack();
    for (const n of ["p1", "p2", "p3"]) await pq(dir, "new", n);
    await pq(dir, "pop", "-a");
    await pq(dir, "guard", "p3", "+xen");
    const r = await pq(dir, "push", "--move", "p3");
    expect(r.code).toBe(12);
    expect(r.err).toContain("p3 is guarded (+xen)");
    expect((await pq(dir, "applied")).out).toBe("");
    expect((await pq(dir, "reorder", "p2", "--first", "--last")).code).toBe(2);
    write(dir, "one.patch", "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-line1\n+LINE1\n");
    write(dir, "two.patch", "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-line1\n+LINE1\n");
    const imp = await pq(dir, "import", "-n", "wanted", "one.patch", "two.patch");
    expect(imp.code).toBe(2);
    expect(imp.err).toContain("--name names one imported patch");
    write(
      dir,
      "two.mbox",
      ["1", "2"]
        .map(
          (k) =>
            `From 1234567890abcdef1234567890abcdef12345678 Mon Sep 17 00:00:00 2001\nFrom: Test User <test@example.org>\nSubject: [PATCH] m${k}\n\n---\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-line1\n+LINE${k}\n`,
        )
        .join(""),
    );
    expect((await pq(dir, "import", "-n", "wanted", "two.mbox")).err).toContain("two.mbox holds 2");
    write(dir, "cut.patch", "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1,2 @@\n line1\n+two");
    const cut = await pq(dir, "import", "cut.patch");
    expect(cut.code).toBe(7);
    expect(cut.err).toContain("the patch ends in the middle of line 5");
    expect((await pq(dir, "series")).out).toBe("p1\np2\np3\n");
  });

  it("export --dir of an unapplied quilt -p0 patch writes a mail git am applies", async () => {
    const q = makeRepo({ x: "x\n" });
    dirs.push(q);
    write(q, "patches/fix.patch", "Index: src/a.txt\n--- src/a.txt.orig\n+++ src/a.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n");
    write(q, "patches/series", "fix.patch -p0\n");
    const dir = makeRepo({ "src/a.txt": "one\ntwo\nthree\n" });
    dirs.push(dir);
    await pq(dir, "init");
    expect((await pq(dir, "import", "--quilt", join(q, "patches"))).code).toBe(0);
    const mails = join(q, "mails");
    expect((await pq(dir, "export", "-a", "--dir", mails)).code).toBe(0);
    const clone = makeRepo({ "src/a.txt": "one\ntwo\nthree\n" });
    dirs.push(clone);
    git(clone, "am", "-q", join(mails, "0001-fix.patch"));
    expect(read(clone, "src/a.txt")).toBe("one\nTWO\nthree\n");
  });

  it("import --quilt of this very tree while quilt has patches applied refuses (they are in the files already)", async () => {
    const dir = makeRepo({ f: "1\n2\n3\n" });
    dirs.push(dir);
    write(dir, "patches/one.patch", "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n");
    write(dir, "patches/series", "one.patch\n");
    // quilt pushed after pq's stack was made (pq init itself takes over what quilt has applied, or refuses).
    expect((await pq(dir, "init", "--queue", "pq-patches")).code).toBe(0);
    write(dir, ".pc/applied-patches", "one.patch\n");
    const r = await pq(dir, "import", "--quilt", ".");
    expect(r.code).toBe(12);
    expect(r.err).toContain("quilt has 1 patch(es) applied in this tree");
    expect((await pq(dir, "series")).out).toBe("");
  });

  it("init in a directory of a tree that has a stack refuses (a second stack would claim the same files)", async () => {
    const dir = await stack({ "src/s.c": "s\n" });
    const r = await pq(join(dir, "src"), "init");
    expect(r.code).toBe(3);
    expect(r.err).toContain(`${dir}, which contains ${join(dir, "src")}, already has a pq stack`);
  });

  it("an author must be 'Name <address>' on one line", async () => {
    const dir = await stack();
    for (const bad of ["bad author", "Ann <a@example.org>\nX-Evil: 1", "<a@example.org>"]) {
      const r = await pq(dir, "new", "p", "-u", bad);
      expect(r.code, bad).toBe(2);
      expect(r.err).toContain("takes an author as 'Name <address>'");
    }
    expect((await pq(dir, "new", "p", "-u", "Ann Example <ann@example.org>")).code).toBe(0);
    expect(read(join(dir, "patches"), "p")).toContain("From: Ann Example <ann@example.org>");
  });

  it("top, next and prev with nothing to name exit with the table's 'refused' (12)", async () => {
    const dir = await stack();
    expect(await pq(dir, "top")).toMatchObject({ code: 12, err: "pq: no patches applied\n  pq series -v shows where the stack is\n" });
    expect(JSON.parse((await pq(dir, "top", "--json")).out)).toEqual({ name: null });
  });
});

/** A stack with p1 and p2 applied, each creating its own file (p1.txt, p2.txt). */
async function twoNewFilePatches(): Promise<string> {
  const dir = await stack();
  for (const n of ["p1", "p2"]) {
    await pq(dir, "new", n);
    write(dir, `${n}.txt`, `${n}\n`);
    await pq(dir, "add", `${n}.txt`);
    await pq(dir, "refresh");
  }
  return dir;
}

describe("what a name or a place given twice, empty or unwritable gets (December 3)", () => {
  it("fold, delete and import refuse a name given twice; export refuses an empty place and an mbox it cannot write, before any work", async () => {
    const dir = await twoNewFilePatches();
    await pq(dir, "pop");
    for (const args of [
      ["fold", "p2", "p2"],
      ["delete", "p2", "p2"],
    ]) {
      const r = await pq(dir, ...args);
      expect([r.code, r.err]).toEqual([2, expect.stringContaining("patch p2 is named twice")]);
    }
    write(dir, "u.diff", "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-line1\n+LINE1\n");
    const twice = await pq(dir, "import", "u.diff", "u.diff");
    expect([twice.code, twice.err]).toEqual([2, expect.stringContaining("is named twice")]);
    const before = snapshot(dir);
    const empty = await pq(dir, "export", "--dir", "");
    expect([empty.code, empty.err]).toEqual([2, expect.stringContaining("--dir names no place")]);
    const nowhere = await pq(dir, "export", "--mbox", join(dir, "no", "such", "x.mbox"));
    expect([nowhere.code, nowhere.err]).toEqual([14, expect.stringContaining("cannot write into")]);
    expect(snapshot(dir)).toEqual(before);
  });

  it("goto --force names its backup, which lists a deleted file; refresh -p of a new file says how to add it", async () => {
    const dir = await twoNewFilePatches();
    write(dir, "n.txt", "new\n");
    const fresh = await pq(dir, "refresh", "-p", "p1", "n.txt");
    expect([fresh.code, fresh.err]).toEqual([7, expect.stringContaining("pq goto p1, pq add n.txt, pq refresh")]);
    await pq(dir, "new", "p3");
    write(dir, "a.txt", "edited by p3\n");
    await pq(dir, "refresh");
    // a.txt deleted is an edit the pop overwrites; p1.txt, which p1 made, the pop removes anyway (t49 N1): nothing of it to save.
    rmSync(join(dir, "a.txt"));
    rmSync(join(dir, "p1.txt"));
    const g = await pq(dir, "goto", "--force", "0");
    expect(g.code, g.err).toBe(0);
    const saved = /unrefreshed changes were saved in (\S+)/.exec(g.out)?.[1];
    expect(saved).toBeDefined();
    expect(readFileSync(join(saved!, ".pq-deleted-files"), "utf8")).toBe("a.txt\n");
  });

  it("a failed push suggests --merge only when git has the blob the patch started from", async () => {
    const dir = await stack();
    await pq(dir, "new", "mine");
    write(dir, "a.txt", "line1\nMINE\nline3\n");
    await pq(dir, "refresh");
    await pq(dir, "pop");
    write(dir, "plain.diff", "--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n line1\n-nothing like this\n+PLAIN\n line3\n");
    await pq(dir, "import", join(dir, "plain.diff"));
    // The committed a.txt changed under both: mine (made by pq, with an index line git knows) and a plain diff.
    write(dir, "a.txt", "line1\nline2 changed\nline3\n");
    git(dir, "commit", "-qam", "upstream");
    // (pq import puts plain.diff first, as hg's qimport inserts above the top.)
    const plain = await pq(dir, "push", "plain.diff");
    expect([plain.code, plain.err]).toEqual([6, expect.stringContaining("pq push --merge cannot help here (the patch names no blob")]);
    await pq(dir, "reorder", "plain.diff", "--last");
    const withBlob = await pq(dir, "push", "mine");
    expect([withBlob.code, withBlob.err]).toEqual([6, expect.stringContaining("pq push --merge tries a three-way merge")]);
    // A context line edited by hand: the patch no longer applies to the blob it names, so a merge cannot help, and
    // neither the advice nor --merge's own failure may say otherwise (readme-15 F5).
    write(join(dir, "patches"), "mine", read(join(dir, "patches"), "mine").replace(" line3\n", " LINE 3 BY HAND\n"));
    const edited = await pq(dir, "push", "mine");
    expect([edited.code, edited.err]).toEqual([
      6,
      expect.stringContaining("pq push --merge cannot help here (the patch does not apply to the blob"),
    ]);
    const merged = await pq(dir, "push", "--merge", "mine");
    expect([merged.code, merged.err]).toEqual([
      6,
      expect.stringContaining("a three-way merge could not help: the patch does not apply to the blob"),
    ]);
  });
});

describe("file names with a control character in a list", () => {
  it("are quoted as git status quotes them, one name reading as one (verify-14 C3)", async () => {
    const dir = makeRepo({ "a.txt": "a\n" });
    dirs.push(dir);
    expect((await pq(dir, "init")).code).toBe(0);
    expect((await pq(dir, "new", "p1")).code).toBe(0);
    write(dir, "a.txt", "a2\n");
    write(dir, "new\nline.txt", "n\n");
    write(dir, "tab\there.txt", "t\n");
    const refreshed = await pq(dir, "refresh", "a.txt", "new\nline.txt");
    expect(refreshed.out).toContain('refreshed p1: a.txt, "new\\nline.txt" (the patch\'s files: a.txt, "new\\nline.txt")\n');
    write(dir, "new\nline.txt", "n2\n");
    const status = await pq(dir, "status");
    expect(status.out).toContain('unrefreshed changes: "new\\nline.txt"\n');
    expect(status.out).toContain('untracked: "tab\\there.txt"');
    // ... and in add's, files' and remove's (verify-16 F12).
    expect((await pq(dir, "add", "tab\there.txt")).out).toBe('added "tab\\there.txt" to p1\n');
    expect((await pq(dir, "files")).out).toContain('"new\\nline.txt"');
    expect((await pq(dir, "remove", "tab\there.txt")).out).toBe(
      'removed "tab\\there.txt" from p1\nthe unrefreshed changes to "tab\\there.txt" went too (pq undo brings them back)\n',
    );
  });
});

describe("a command run from a directory that no longer exists (t37 N6)", () => {
  it("says so and how out, with no stack trace (a pop removed the shell's directory)", () => {
    const dir = tempDir("pq-gone-");
    const gone = join(dir, "made-by-a-patch");
    mkdirSync(gone);
    const r = spawnSync("sh", ["-c", `cd "${gone}" && rmdir "${gone}" && "${process.execPath}" "${resolve("bin/pq.js")}" status`], {
      encoding: "utf8",
    });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain("pq: the current directory no longer exists");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("a tree whose path has a byte that is not UTF-8 (t37 N14)", () => {
  it("is said to be unnameable, not missing, from inside it and through --tree, also beside a twin spelled with U+FFFD (t40 N6, N7)", () => {
    const dir = tempDir("pq-latin1-");
    // Made from the shell, with its bytes: Node's own names would be UTF-8. The twin is the name
    // Node makes of the Latin-1 one, a directory of its own, with a stack.
    const script = [
      `d="$1/lat$(printf '\\374')/tree"; twin="$1/lat$(printf '\\357\\277\\275')/tree"`,
      `mkdir -p "$d" "$twin" && git -C "$d" init -q && git -C "$twin" init -q && (cd "$twin" && "$2" "$3" init >/dev/null)`,
      `cd "$d"`,
      `"$2" "$3" status; echo "status rc=$?"`,
      `"$2" "$3" --tree "$d" series; echo "series rc=$?"`,
      `"$2" "$3" ci --tree "$d"; echo "ci rc=$?"`,
      `"$2" "$3" --help >/dev/null; echo "help rc=$?"`,
      `"$2" "$3" help status >/dev/null; echo "help status rc=$?"`,
      // A queue directory named with such a byte is not made by another name beside it (t41 N4).
      `cd "$1" && mkdir plain && cd plain && git init -q && "$2" "$3" init --queue "q$(printf '\\374')ue"; echo "init rc=$?"; ls`,
    ].join("\n");
    const r = spawnSync("sh", ["-c", script, "sh", dir, process.execPath, resolve("bin/pq.js")], { encoding: "utf8" });
    expect(r.stdout).toBe("status rc=3\nseries rc=3\nci rc=3\nhelp rc=0\nhelp status rc=0\ninit rc=3\n");
    const lines = r.stderr.split("\n").filter((l) => l.startsWith("pq: "));
    expect(lines).toHaveLength(4);
    for (const line of lines.slice(0, 3)) expect(line).toContain("/lat\uFFFD/tree cannot be named: its path has a byte that is not UTF-8");
    expect(lines[3]).toContain("/plain/q\uFFFDue cannot be named");
    expect(r.stdout).not.toContain("q\uFFFDue");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    rmSync(dir, { recursive: true, force: true });
  });

  it("any other argument so typed is refused before anything runs: a patch file, a local URL (beside its twin), a message (t42 N3, N7)", () => {
    const dir = tempDir("pq-latin1-args-");
    const script = [
      `cd "$1" && git init -q t && cd t && echo a > a.c && git add a.c && git -c user.name=A -c user.email=a@example.org commit -qm a`,
      `"$2" "$3" init >/dev/null && printf -- '--- a/a.c\\n+++ b/a.c\\n@@ -1 +1 @@\\n-a\\n+b\\n' > "../fix-$(printf '\\344').patch"`,
      `"$2" "$3" import "../fix-$(printf '\\344').patch"; echo "import rc=$?"`,
      // The twin Node's name leads to: it was cloned, and later syncs would have pushed there.
      `git init -q --bare "../q$(printf '\\344').git" && git init -q --bare "../q$(printf '\\357\\277\\275').git"`,
      `"$2" "$3" init --shared "../q$(printf '\\344').git" --queue shared; echo "init rc=$?"`,
      `"$2" "$3" new p -m "caf$(printf '\\351')"; echo "new rc=$?"`,
      `"$2" "$3" series; ls`,
    ].join("\n");
    const r = spawnSync("sh", ["-c", script, "sh", dir, process.execPath, resolve("bin/pq.js")], { encoding: "utf8" });
    expect(r.stdout).toBe("import rc=3\ninit rc=3\nnew rc=2\na.c\npatches\n");
    const lines = r.stderr.split("\n").filter((l) => l.startsWith("pq: "));
    expect(lines).toEqual([
      "pq: ../fix-\uFFFD.patch cannot be named: it has a byte that is not UTF-8 (shown as \uFFFD), which Node, and so pq, cannot pass on; nothing was changed",
      "pq: ../q\uFFFD.git cannot be named: it has a byte that is not UTF-8 (shown as \uFFFD), which Node, and so pq, cannot pass on; nothing was changed",
      'pq: the argument "caf\uFFFD" has a byte that is not UTF-8 (shown as \uFFFD); nothing was changed',
    ]);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("refusals say what to do next (t77 N2)", () => {
  it("each has a line after the reason", async () => {
    const dir = await stack();
    for (const n of ["p1", "p2", "p3"]) expect((await pq(dir, "new", n, "-m", n)).code).toBe(0);
    expect((await pq(dir, "goto", "p2")).code).toBe(0);
    for (const args of [
      ["goto", "99"],
      ["fold", "p1"],
      ["push", "--move", "p1"],
      ["reorder", "p2", "--last"],
      ["reorder", "p3", "--after", "p3"],
      ["reorder", "p3"],
      ["rename", "p3", "p3"],
    ]) {
      const r = await pq(dir, ...args);
      expect(r.code, args.join(" ")).not.toBe(0);
      expect(r.err.split("\n").filter(Boolean).length, `${args.join(" ")}: ${r.err}`).toBeGreaterThan(1);
    }
  });
});

describe("--tree and --queue naming a file, or given an empty value (t82 N2, N3)", () => {
  it("are refused by the option's name for every kind of command, and nothing changes", async () => {
    const dir = await stack();
    expect((await pq(dir, "new", "p1", "-m", "one")).code).toBe(0);
    write(dir, "a.txt", "line1\nchanged\nline3\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    expect((await pq(dir, "pop")).code).toBe(0);
    const before = snapshot(dir);
    for (const args of [
      ["push", "--tree", "a.txt"],
      ["series", "--tree", "/dev/null"],
      ["init", "--tree", "a.txt"],
      ["build", "--tree", "a.txt"],
      ["series", "--queue", "a.txt"],
    ]) {
      const r = await pq(dir, ...args);
      expect([r.code, r.err], args.join(" ")).toEqual([2, expect.stringContaining(`--${args[1].slice(2)} ${args[2]} is not a directory`)]);
    }
    for (const args of [
      ["push", "--tree", ""],
      ["push", "--tree="],
      ["push", "-a", "--queue", ""],
    ]) {
      const r = await pq(dir, ...args);
      expect([r.code, r.err], args.join(" ")).toEqual([
        2,
        expect.stringMatching(/--(tree|queue) needs a directory, and its value is empty/),
      ]);
    }
    expect(snapshot(dir)).toEqual(before);
  });
});

describe("options that contradict each other, and a short option given '=' with nothing after it (t82 N4, N5)", () => {
  it("are refused with exit 2 and change nothing; -m= is an empty message, as -m '' is", async () => {
    const dir = await stack();
    for (const name of ["p1", "p2"]) {
      expect((await pq(dir, "new", name, "-m", name)).code).toBe(0);
      write(dir, "a.txt", `line1\n${name}\nline3\n`);
      expect((await pq(dir, "refresh")).code).toBe(0);
    }
    const before = snapshot(dir);
    const head = git(dir, "rev-parse", "HEAD");
    for (const [args, said] of [
      [["guard", "--none", "+x"], "--none and +x cannot be given together"],
      [["guard", "p1", "--none", "p2"], "--none and p2 cannot be given together"],
      [["select", "--none", "x"], "--none and x cannot be given together"],
      [["guard", "p1", "+a", "-a"], "+a and -a cannot be given together"],
      [["queue", "list", "extra"], "pq queue list takes no queue name"],
      [["finish", "-a", "p1"], "give a patch or --all, not both"],
    ] as const) {
      const r = await pq(dir, ...args);
      expect([r.code, r.err], args.join(" ")).toEqual([2, expect.stringContaining(said)]);
    }
    expect(snapshot(dir)).toEqual(before);
    expect(git(dir, "rev-parse", "HEAD")).toBe(head);
    const empty = await pq(dir, "new", "p3", "-m=");
    expect([empty.code, empty.err]).toEqual([0, ""]);
  });
});

describe("a name or a place given an empty value, and guards of a patch named -x (t89 N1, N3)", () => {
  it("--dir and -n given empty are refused by name; guard --none -- -x unguards -x; a guard twice is kept once", async () => {
    const dir = await stack();
    const mail = join(tempDir(), "one.diff");
    dirs.push(join(mail, ".."));
    writeFileSync(mail, "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-line1\n+LINE1\n");
    const before = snapshot(dir);
    for (const args of [
      ["queue", "create", "q2", "--dir", ""],
      ["import", "-n", "", mail],
    ]) {
      const r = await pq(dir, ...args);
      expect([r.code, r.err], args.join(" ")).toEqual([
        2,
        expect.stringMatching(/--(dir|name|quilt) needs a value, and its value is empty/),
      ]);
    }
    expect(snapshot(dir)).toEqual(before);
    expect((await pq(dir, "new", "--", "-x")).code).toBe(0);
    expect((await pq(dir, "new", "p2")).code).toBe(0);
    await pq(dir, "select", "a", "b");
    await pq(dir, "guard", "p2", "+b");
    expect((await pq(dir, "guard", "p2", "+a", "+a")).out).toBe("p2: +a\n");
    // The patch named -x, not the top: with --none one word is the patch.
    const series = await pq(dir, "series", "-v");
    expect(series.out).toContain("p2  #+a");
    expect((await pq(dir, "guard", "--none", "--", "-x")).out).toBe("-x: unguarded\n");
    expect((await pq(dir, "guard", "p2")).out).toBe("p2: +a\n");
    const bad = await pq(dir, "guard", "p2", "--", "--none");
    expect(bad.err).toContain('"--none"');
  });
});

describe("GIT_DIR or GIT_INDEX_FILE in the environment, and a tree path with a line break (t93 N4, N5)", () => {
  it("pq finish works on the tree's own repository and index; a path with a line break is refused by name", async () => {
    const dir = await stack();
    expect((await pq(dir, "new", "p1", "-m", "one")).code).toBe(0);
    write(dir, "a.txt", "line1\nchanged\nline3\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    const other = tempDir();
    dirs.push(other);
    git(other, "clone", "-q", dir, ".");
    const otherHead = git(other, "rev-parse", "HEAD");
    const PQ = resolve("bin/pq.js");
    const finished = spawnSync(process.execPath, [PQ, "finish", "p1"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, GIT_DIR: join(other, ".git"), GIT_INDEX_FILE: join(other, ".git", "index") },
    });
    expect(finished.status, finished.stderr).toBe(0);
    expect(git(dir, "log", "-1", "--format=%s")).toBe("one\n");
    // The tree's own index moved with its branch: nothing staged, nothing to revert.
    expect(git(dir, "status", "--porcelain", "--untracked-files=no")).toBe("");
    expect(git(other, "rev-parse", "HEAD")).toBe(otherHead);
    const broken = join(tempDir(), "line\nbreak");
    dirs.push(join(broken, ".."));
    mkdirSync(broken);
    const r = await pq(broken, "series");
    expect([r.code, r.err]).toEqual([3, expect.stringContaining("its path has a line break, which git's output cannot carry")]);
  });
});

describe("empty values of ci's, bisect's, import's and hook's options (t92 N4, N5)", () => {
  it("are refused by name (exit 2), not read as not given or as the current directory", async () => {
    const dir = await stack();
    for (const args of [
      ["ci", "--json", ""],
      ["ci", "--shard", ""],
      ["bisect", "--run", ""],
      ["import", "--mbox", ""],
      ["hook", "install", dir, "--base", ""],
    ]) {
      const r = await pq(dir, ...args);
      expect([r.code, r.err], args.join(" ")).toEqual([
        2,
        expect.stringMatching(/needs a value, and its value is empty|--run names no command/),
      ]);
    }
  });
});

describe("pq status with many unrefreshed files (t92 N6)", () => {
  it("names the first ten and the count, and --json lists them all", async () => {
    const dir = await stack();
    expect((await pq(dir, "new", "p1")).code).toBe(0);
    const files = Array.from({ length: 12 }, (_, i) => `f${String(i).padStart(2, "0")}.txt`);
    for (const f of files) write(dir, f, "x\n");
    git(dir, "add", ...files);
    git(dir, "commit", "-qm", "files");
    for (const f of files) write(dir, f, "y\n");
    const out = (await pq(dir, "status")).out;
    expect(out).toContain(`unrefreshed changes: ${files.slice(0, 10).join(", ")}, ... (12 in all) (pq status --json lists them all)`);
    expect(JSON.parse((await pq(dir, "status", "--json")).out).pending).toEqual(files);
  });
});

describe("a new patch's Date: line and the commit pq finish makes of it (t93 N7)", () => {
  it("are in the machine's time zone, as git writes an author date", async () => {
    const dir = await stack();
    const PQ = resolve("bin/pq.js");
    const env = { ...process.env, TZ: "Asia/Kolkata" };
    expect(spawnSync(process.execPath, [PQ, "new", "p1", "-m", "one"], { cwd: dir, env }).status).toBe(0);
    expect(read(join(dir, "patches"), "p1")).toMatch(/^Date: .* \+0530$/m);
    write(dir, "a.txt", "line1\nchanged\nline3\n");
    expect(spawnSync(process.execPath, [PQ, "refresh"], { cwd: dir, env }).status).toBe(0);
    expect(spawnSync(process.execPath, [PQ, "finish", "-a"], { cwd: dir, env }).status).toBe(0);
    expect(git(dir, "log", "-1", "--format=%ai")).toMatch(/\+0530\n$/);
  });

  it("a POSIX TZ rule Node's ICU cannot read (IST-5:30, <+0545>-5:45, with DST rules) dates it as git and date(1) do, not +0000 (t95 N4)", async () => {
    const dir = await stack();
    const PQ = resolve("bin/pq.js");
    for (const [tz, offset] of [
      ["IST-5:30", "+0530"],
      ["<+0545>-5:45", "+0545"],
      ["XST3XDT,M3.2.0,M11.1.0", null],
    ] as const) {
      const name = `p-${offset ?? "dst"}`;
      const env = { ...process.env, TZ: tz };
      expect(spawnSync(process.execPath, [PQ, "new", name], { cwd: dir, env }).status).toBe(0);
      // With DST rules the offset depends on the day: whatever date(1) says for now (-0300 or -0200).
      const expected = offset ?? spawnSync("date", ["+%z"], { env, encoding: "utf8" }).stdout.trim();
      expect(read(join(dir, "patches"), name)).toMatch(new RegExp(`^Date: .* \\${expected}$`, "m"));
    }
  });
});

describe("--queue through a symlink to the tree's own queue (t89 N2)", () => {
  it("is the same queue; another one is refused with the way on", async () => {
    const dir = await stack();
    symlinkSync("patches", join(dir, "ql"));
    expect((await pq(dir, "series", "--queue", "ql")).code).toBe(0);
    mkdirSync(join(dir, "other"));
    const r = await pq(dir, "series", "--queue", "other");
    expect([r.code, r.err]).toEqual([2, expect.stringContaining("or leave --queue out")]);
  });
});

describe("guard --list with more, and unknown options (t96 N6)", () => {
  it("are refused, naming what was typed", async () => {
    const dir = await stack();
    expect((await pq(dir, "new", "p1")).code).toBe(0);
    for (const [args, said] of [
      [["guard", "p1", "--none", "--list"], "--list shows every patch's guards and takes no --none"],
      [["guard", "--list", "p1", "+z"], "--list shows every patch's guards and takes no p1 +z"],
      [["select", "-a"], "Unknown argument: -a"],
      [["select", "--pop", "a"], "Unknown argument: --pop"],
    ] as const) {
      const r = await pq(dir, ...args);
      expect([r.code, r.err], args.join(" ")).toEqual([2, expect.stringContaining(said)]);
    }
    expect((await pq(dir, "guard", "p1")).out).toBe("p1: unguarded\n");
  });
});

describe("pq hook install with GIT_DIR in the environment (t95 N2)", () => {
  it("installs the gate into the repository named on the command line", async () => {
    const dir = await stack();
    const bare = tempDir();
    const other = tempDir();
    dirs.push(bare, other);
    git(bare, "init", "-q", "--bare");
    git(other, "init", "-q", "--bare");
    const r = spawnSync(process.execPath, [resolve("bin/pq.js"), "hook", "install", bare, "--base", dir, "--run", "true"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, GIT_DIR: other },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(bare, "hooks", "pre-receive"))).toBe(true);
    expect(existsSync(join(other, "hooks", "pre-receive"))).toBe(false);
  });
});

describe("pq uncommit -n given an empty value (t95 N5)", () => {
  it("says the value is empty, not 0", async () => {
    const dir = await stack();
    const r = await pq(dir, "uncommit", "-n", "");
    expect([r.code, r.err]).toEqual([2, expect.stringContaining("-n needs a value, and its value is empty")]);
    expect((await pq(dir, "uncommit", "-n", "0")).err).toContain("not 0");
  });
});

describe("patch paths as GNU patch reads them (t154 N8, N10)", () => {
  it("./ at the start and doubled slashes name the file itself: the push applies, as patch -p0 does", async () => {
    const dir = await stack({ "src/m.c": "1\n2\n3\n4\n" });
    for (const [name, strip, path] of [
      ["dot.patch", "0", "./src/m.c"],
      ["dot-p1.patch", "1", "a/./src/m.c"],
      ["slashes.patch", "1", "a/src//m.c"],
    ] as const) {
      // diff -u ./src/m.c.orig ./src/m.c, as made from the tree's root for -p0; a/ b/ prefixes for -p1.
      const old = strip === "0" ? `${path}.orig` : path;
      write(dir, `../${name}`, `--- ${old}\n+++ ${path}\n@@ -3 +3 @@\n-3\n+X3\n`);
      expect((await pq(dir, "import", `-p${strip}`, join(dir, "..", name))).code).toBe(0);
      const pushed = await pq(dir, "push");
      expect(pushed.code, pushed.err).toBe(0);
      expect(read(dir, "src/m.c")).toBe("1\n2\nX3\n4\n");
      expect((await pq(dir, "pop")).code).toBe(0);
      expect(read(dir, "src/m.c")).toBe("1\n2\n3\n4\n");
      expect((await pq(dir, "delete", name)).code).toBe(0);
    }
  });

  it("a file name longer than a file system holds is refused before anything is written, and the stack stays usable", async () => {
    const dir = await stack();
    write(dir, "../long.patch", `--- /dev/null\n+++ b/dir/${"q".repeat(300)}\n@@ -0,0 +1 @@\n+x\n`);
    expect((await pq(dir, "import", join(dir, "..", "long.patch"))).code).toBe(0);
    const before = snapshot(dir);
    const pushed = await pq(dir, "push");
    expect(pushed.code).toBe(7);
    expect(pushed.err).toContain("has a name of 300 bytes");
    expect(existsSync(join(dir, ".pq", "journal.json"))).toBe(false);
    expect(snapshot(dir)).toEqual(before);
    expect((await pq(dir, "delete", "long.patch")).code).toBe(0);
    expect((await pq(dir, "status")).code).toBe(0);
  });
});
