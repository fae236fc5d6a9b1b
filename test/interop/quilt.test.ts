import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, utimesSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, git, makeRepo, pq, read, snapshot, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

const hasQuilt = spawnSync("quilt", ["--version"]).status === 0;
const quilt = (cwd: string, ...args: string[]) =>
  execFileSync("quilt", args, { cwd, encoding: "utf8", env: { ...process.env, QUILT_PATCHES: "patches", QUILTRC: "/dev/null" } });

const base = { "drivers/serial.c": Array.from({ length: 30 }, (_, i) => `serial line ${i}\n`).join(""), README: "model\n" };

/** A -p1 patch of `base`'s drivers/serial.c changing line `n` ("serial line n") to `now`. */
function serialLinePatch(n: number, now: string): string {
  const around = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ` serial line ${from + i}\n`).join("");
  return (
    `--- a/drivers/serial.c\n+++ b/drivers/serial.c\n@@ -${n - 2},7 +${n - 2},7 @@\n` +
    `${around(n - 3, n)}-serial line ${n}\n+${now}\n${around(n + 1, n + 4)}`
  );
}

describe("quilt interoperability (real quilt)", () => {
  it("quilt is installed (by .ci/run)", () => {
    expect(hasQuilt).toBe(true);
  });

  it("a queue made by quilt imports into pq and pushes to the tree quilt makes", async () => {
    const qdir = makeRepo(base);
    dirs.push(qdir);
    quilt(qdir, "new", "one.patch");
    quilt(qdir, "add", "drivers/serial.c");
    write(qdir, "drivers/serial.c", read(qdir, "drivers/serial.c").replace("serial line 3\n", "serial line three\n"));
    quilt(qdir, "refresh");
    quilt(qdir, "new", "two.patch");
    quilt(qdir, "add", "README", "NEWFILE");
    write(qdir, "README", "model kernel\n");
    write(qdir, "NEWFILE", "new\n");
    quilt(qdir, "refresh");
    const quiltTop = snapshot(qdir);

    const tree = makeRepo(base);
    dirs.push(tree);
    await pq(tree, "init");
    const imported = await pq(tree, "import", "--quilt", qdir, "--push");
    expect(imported.code).toBe(0);
    expect(imported.out).toContain("now at: two.patch");
    const mine = snapshot(tree);
    for (const f of ["drivers/serial.c", "README", "NEWFILE"]) expect(mine[f]).toBe(quiltTop[f]);
  });

  it("pq's queue directory pushes under quilt", async () => {
    const tree = makeRepo(base);
    dirs.push(tree);
    await pq(tree, "init");
    await pq(tree, "new", "first.patch", "-m", "First");
    write(tree, "drivers/serial.c", read(tree, "drivers/serial.c").replace("serial line 10\n", "serial line ten\n"));
    await pq(tree, "refresh");
    await pq(tree, "new", "second.patch", "-m", "Second");
    write(tree, "added.c", "int x;\n");
    await pq(tree, "refresh", "added.c");
    const pqTop = snapshot(tree);

    const other = makeRepo(base);
    dirs.push(other);
    execFileSync("cp", ["-r", join(tree, "patches"), join(other, "patches")]);
    const out = quilt(other, "push", "-a");
    expect(out).toContain("Now at patch second.patch");
    const quiltTree = snapshot(other);
    for (const f of ["drivers/serial.c", "added.c"]) expect(quiltTree[f]).toBe(pqTop[f]);
    git(other, "status", "--short");
  });

  it("a queue with names in directories: quilt's pushes under pq, and pq export --quilt pushes under quilt, to the same tree", async () => {
    const qdir = makeRepo(base);
    dirs.push(qdir);
    quilt(qdir, "new", "bugfix/serial/one.patch");
    quilt(qdir, "add", "drivers/serial.c");
    write(qdir, "drivers/serial.c", read(qdir, "drivers/serial.c").replace("serial line 3\n", "serial line three\n"));
    quilt(qdir, "refresh");
    quilt(qdir, "new", "features/all/two.patch");
    quilt(qdir, "add", "README");
    write(qdir, "README", "model kernel\n");
    quilt(qdir, "refresh");
    const quiltTop = snapshot(qdir);

    const tree = makeRepo(base);
    dirs.push(tree);
    await pq(tree, "init");
    expect((await pq(tree, "import", "--quilt", qdir, "--push")).out).toContain("now at: features/all/two.patch");
    for (const f of ["drivers/serial.c", "README"]) expect(snapshot(tree)[f]).toBe(quiltTop[f]);

    const other = makeRepo(base);
    dirs.push(other);
    expect((await pq(tree, "export", "--quilt", join(other, "patches"))).code).toBe(0);
    expect(quilt(other, "push", "-a")).toContain("Now at patch features/all/two.patch");
    const again = snapshot(other);
    for (const f of ["drivers/serial.c", "README"]) expect(again[f]).toBe(quiltTop[f]);
  });
});

describe("pq export --quilt of a guarded series (t129 N8)", () => {
  it("says that quilt reads the guards as comments and pushes those patches too", async () => {
    const tree = makeRepo(base);
    dirs.push(tree);
    await pq(tree, "init");
    await pq(tree, "new", "xen.patch");
    write(tree, "README", "model, xen\n");
    await pq(tree, "refresh");
    await pq(tree, "guard", "xen.patch", "+xen");
    const out = join(tempDir("pq-export-"), "q");
    dirs.push(out);
    const r = await pq(tree, "export", "-a", "--quilt", out);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain("xen.patch has guards, written as hg mq writes them (#+g), which quilt reads as comments");
  });
});

describe("pq init in a tree where quilt has patches applied (real quilt)", () => {
  const withoutPc = (s: Record<string, string>) => Object.fromEntries(Object.entries(s).filter(([p]) => !p.startsWith(".pc/")));
  /** The files the patches change: no queue, no .pc/. */
  const sources = (s: Record<string, string>) =>
    Object.fromEntries(Object.entries(withoutPc(s)).filter(([p]) => !p.startsWith("patches/")));

  /** Three quilt patches, the first two applied: edits, a new file in a new directory, a deletion, a file two patches change. */
  function quiltStack(): { tree: string; baseTree: Record<string, string> } {
    const tree = makeRepo(base);
    dirs.push(tree);
    const baseTree = snapshot(tree);
    quilt(tree, "new", "one.patch");
    quilt(tree, "add", "drivers/serial.c", "drivers/new/port.c");
    write(tree, "drivers/serial.c", read(tree, "drivers/serial.c").replace("serial line 3\n", "serial line three\n"));
    write(tree, "drivers/new/port.c", "int port;\n");
    quilt(tree, "refresh");
    quilt(tree, "new", "two.patch");
    quilt(tree, "add", "drivers/serial.c", "README");
    write(tree, "drivers/serial.c", read(tree, "drivers/serial.c").replace("serial line 20\n", "serial line twenty\n"));
    execFileSync("rm", [join(tree, "README")]);
    quilt(tree, "refresh");
    quilt(tree, "new", "three.patch");
    quilt(tree, "add", "drivers/serial.c");
    write(tree, "drivers/serial.c", read(tree, "drivers/serial.c").replace("serial line 27\n", "serial line 27 (three)\n"));
    quilt(tree, "refresh");
    quilt(tree, "pop");
    return { tree, baseTree };
  }

  it("takes the applied patches over without touching the tree; pop, push and undo work from there", async () => {
    const { tree, baseTree } = quiltStack();
    const before = snapshot(tree);
    const init = await pq(tree, "init");
    expect(init.code, init.err).toBe(0);
    expect(init.out).toContain("took over the 2 patch(es) quilt had applied, up to two.patch");
    // The tree is exactly as quilt left it, without quilt's .pc/ (pq's now).
    expect(snapshot(tree)).toEqual(withoutPc(before));
    expect((await pq(tree, "applied")).out).toBe("one.patch\ntwo.patch\n");
    expect((await pq(tree, "status")).out).not.toContain("untracked");
    // Popping restores the base quilt saved (README back, the new directory gone)...
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    expect(sources(snapshot(tree))).toEqual(baseTree);
    // ...and pushing the whole series makes the tree quilt makes.
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    const other = makeRepo(base);
    dirs.push(other);
    execFileSync("cp", ["-r", join(tree, "patches"), join(other, "patches")]);
    quilt(other, "push", "-a");
    expect(snapshot(tree)).toEqual(withoutPc(snapshot(other)));
    // Undo back past the takeover: .pc/ returns, and quilt pops with its own backups.
    for (let i = 0; i < 3; i++) expect((await pq(tree, "undo")).code).toBe(0);
    expect(snapshot(tree)).toEqual(before);
    quilt(tree, "pop", "-a");
    expect(sources(snapshot(tree))).toEqual(baseTree);
  });

  it("takes over applied patches named beyond ASCII, and export --quilt writes their names back as quilt reads them (t23 F4, F5)", async () => {
    const tree = makeRepo(base);
    dirs.push(tree);
    const name = "na\u00efve-\u540d\u524d.patch";
    quilt(tree, "new", name);
    quilt(tree, "add", "drivers/serial.c");
    write(tree, "drivers/serial.c", read(tree, "drivers/serial.c").replace("serial line 3\n", "serial line three\n"));
    quilt(tree, "refresh");
    const init = await pq(tree, "init");
    expect(init.code, init.err).toBe(0);
    expect((await pq(tree, "applied")).out).toBe(`${name}\n`);
    const out = join(tree, "..", `export-${Date.now()}`);
    dirs.push(out);
    expect((await pq(tree, "export", "--quilt", out)).code).toBe(0);
    expect(readFileSync(join(out, "series"), "utf8")).toBe(`${name}\n`);
    // quilt pushes the export onto a clean tree.
    const other = makeRepo(base);
    dirs.push(other);
    execFileSync("cp", ["-r", out, join(other, "patches")]);
    quilt(other, "push", "-a");
    expect(read(other, "drivers/serial.c")).toContain("serial line three\n");
  });

  it("the queue it took over comes back with pq restore-queue after git clean -fd removed it, unapplied patches too (readme-15 F7, verify-16 F11)", async () => {
    const { tree } = quiltStack();
    const queue = snapshot(join(tree, "patches"));
    expect((await pq(tree, "init")).code).toBe(0);
    rmSync(join(tree, "patches"), { recursive: true });
    const restored = await pq(tree, "restore-queue");
    expect([restored.code, restored.err]).toEqual([0, ""]);
    // Byte for byte: the applied ones, three.patch (quilt's unapplied one, which pq never wrote), and quilt's series.
    expect(snapshot(join(tree, "patches"))).toEqual(queue);
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect((await pq(tree, "applied")).out).toBe("one.patch\ntwo.patch\nthree.patch\n");
  });

  it("pq init finds the queue quilt recorded in .pc/.quilt_patches (a Debian quiltrc sets it for quilt alone), popped or applied (interop-17 F1)", async () => {
    for (const applied of [false, true]) {
      const tree = makeRepo(base);
      dirs.push(tree);
      write(tree, "debian/patches/fix-serial.patch", serialLinePatch(5, "serial line V"));
      write(tree, "debian/patches/series", "fix-serial.patch\n");
      git(tree, "add", "-A");
      git(tree, "commit", "-qm", "packaging");
      const debianQuilt = (...args: string[]) =>
        execFileSync("quilt", args, {
          cwd: tree,
          encoding: "utf8",
          env: { ...process.env, QUILT_PATCHES: "debian/patches", QUILTRC: "/dev/null" },
        });
      debianQuilt("push", "-a");
      if (!applied) debianQuilt("pop", "-a");
      const init = await pq(tree, "init");
      expect([init.code, init.err]).toEqual([0, ""]);
      expect(init.out).toContain(`with the queue ${tree}/debian/patches (quilt's .pc/.quilt_patches) (1 patch in its series)`);
      expect(existsSync(join(tree, "patches"))).toBe(false);
      if (!applied) expect((await pq(tree, "push", "-a")).code).toBe(0);
      expect((await pq(tree, "applied")).out).toBe("fix-serial.patch\n");
      expect(read(tree, "drivers/serial.c")).toContain("serial line V\n");
    }
  });

  it("a .pc/.quilt_patches that came with the tree and names a folder outside it, or in a git directory, is refused; --queue names it (t127 N10)", async () => {
    const victim = makeRepo({ v: "v\n" });
    dirs.push(victim);
    for (const recorded of [join(victim, ".git"), "../elsewhere", ".git/patches"]) {
      const tree = makeRepo(base);
      dirs.push(tree);
      write(tree, ".pc/.quilt_patches", `${recorded}\n`);
      write(tree, ".pc/.version", "2\n");
      const init = await pq(tree, "init");
      expect([init.code, init.err], recorded).toEqual([7, expect.stringContaining("quilt's .pc/.quilt_patches names")]);
      expect(existsSync(join(victim, ".git", "series"))).toBe(false);
      expect(existsSync(join(tree, ".pq"))).toBe(false);
    }
  });

  it("quilt's leftovers in .pc/ are no untracked files of the user's, and no file a patch takes (interop-17 F7)", async () => {
    const { tree } = quiltStack();
    quilt(tree, "pop", "-a");
    expect(existsSync(join(tree, ".pc", ".version"))).toBe(true);
    expect((await pq(tree, "init")).code).toBe(0);
    expect((await pq(tree, "push")).code).toBe(0);
    expect((await pq(tree, "status")).out).not.toContain(".pc");
    const taken = await pq(tree, "refresh", ".pc/.version");
    expect([taken.code, taken.err]).toEqual([
      7,
      expect.stringContaining('file ".pc/.version" is inside .pc/ (quilt\'s state); nothing was changed'),
    ]);
  });

  it("a push with an empty series says the series is empty, and where", async () => {
    const tree = makeRepo(base);
    dirs.push(tree);
    expect((await pq(tree, "init")).code).toBe(0);
    const push = await pq(tree, "push");
    expect(push.code).toBe(12);
    expect(push.err).toContain(`nothing to push: the series in ${tree}/patches is empty`);
  });

  it("restore-queue brings back a queue pq init found unapplied (Debian's, names in directories) as it found it, and later operations win", async () => {
    const tree = makeRepo(base);
    dirs.push(tree);
    const queueDir = join(tree, "debian", "patches");
    write(tree, "debian/patches/upstream/fix-serial.patch", "Description: serial\n\n" + serialLinePatch(5, "serial line V"));
    write(tree, "debian/patches/debian/readme.patch", "Description: readme\n\n" + serialLinePatch(20, "serial line XX"));
    write(tree, "debian/patches/series", "# Debian's\nupstream/fix-serial.patch\ndebian/readme.patch -p1\n");
    const queue = snapshot(queueDir);
    expect((await pq(tree, "init", "--queue", "debian/patches")).code).toBe(0);
    // A later operation's version is the one restored: a patch renamed after init comes back under its new name only.
    expect((await pq(tree, "rename", "debian/readme.patch", "debian/readme-2.patch")).code).toBe(0);
    const renamed = snapshot(queueDir);
    rmSync(queueDir, { recursive: true });
    const restored = await pq(tree, "restore-queue");
    expect([restored.code, restored.err]).toEqual([0, ""]);
    expect(snapshot(queueDir)).toEqual(renamed);
    expect(renamed["upstream/fix-serial.patch"]).toBe(queue["upstream/fix-serial.patch"]);
    expect(renamed["debian/readme-2.patch"]).toBe(queue["debian/readme.patch"]);
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect((await pq(tree, "restore-queue")).out).toContain("nothing to restore");
  });

  it("a pq init killed before its take-over is journaled starts over when run again, and the log keeps its command line (safe-6 #3, #4)", async () => {
    const { tree } = quiltStack();
    const before = snapshot(tree);
    const killed = spawnSync(process.execPath, [resolve("bin/pq.js"), "init"], {
      cwd: tree,
      encoding: "utf8",
      env: { ...process.env, PQ_FAILPOINT: "init-state-saved" },
    });
    expect(killed.signal).toBe("SIGKILL");
    expect(snapshot(tree)).toEqual(before);
    const status = await pq(tree, "status");
    expect(status.code).toBe(13);
    expect(status.err).toContain("pq init was interrupted before it was done");
    const again = await pq(tree, "init");
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain("took over the 2 patch(es) quilt had applied");
    expect((await pq(tree, "applied")).out).toBe("one.patch\ntwo.patch\n");
    expect((await pq(tree, "oplog")).out).toContain("    pq init\n");
  });

  it("two pq init at once over quilt's applied patches: one takes them over, the other makes nothing (t59 N1)", async () => {
    for (let round = 0; round < 4; round++) {
      const { tree } = quiltStack();
      const start = () =>
        new Promise<{ code: number | null; err: string }>((res) => {
          const c = spawn(process.execPath, [resolve("bin/pq.js"), "init"], { cwd: tree });
          let err = "";
          c.stderr.on("data", (d) => (err += d));
          c.on("exit", (code) => res({ code, err }));
        });
      const [a, b] = await Promise.all([start(), start()]);
      // One made the stack; the other was told the tree is locked or has a stack already.
      expect(
        [a.code, b.code].filter((code) => code === 0),
        `${a.err}\n${b.err}`,
      ).toHaveLength(1);
      for (const r of [a, b]) if (r.code !== 0) expect(r.err).toMatch(/locked by pid|already has a pq stack/);
      // The stack has quilt's two patches applied, as the tree has them.
      expect((await pq(tree, "applied")).out).toBe("one.patch\ntwo.patch\n");
      expect((await pq(tree, "status")).code).toBe(0);
    }
  }, 60_000);

  it("warns at takeover when HEAD already holds the applied patches (a tree committed with them applied), and the way it gives works", async () => {
    const { tree, baseTree } = quiltStack();
    // quilt's .pc/ committed too, as a plain `git add -A` of an unpacked source package does (t38 F9).
    git(tree, "add", "-A");
    git(tree, "commit", "-qm", "patches applied, as dgit commits them");
    expect(git(tree, "ls-files", ".pc")).not.toBe("");
    const init = await pq(tree, "init");
    expect(init.code, init.err).toBe(0);
    expect(init.err).toContain("HEAD already holds the applied patches' changes to drivers/new/port.c, drivers/serial.c, README");
    expect((await pq(tree, "pop")).code).toBe(12);
    // The way out it names: quilt gets its state back, pops, and the tree is committed without the patches.
    expect((await pq(tree, "undo")).code).toBe(0);
    quilt(tree, "pop", "-a");
    git(tree, "add", "-A");
    git(tree, "rm", "-r", "-q", "--cached", "--ignore-unmatch", ".pc");
    git(tree, "commit", "-qm", "patches unapplied");
    expect(git(tree, "ls-files", ".pc")).toBe("");
    expect(sources(snapshot(tree))).toEqual(baseTree);
    expect(init.err).toContain(
      "pq undo (quilt's state comes back), quilt pop -a, commit the tree quilt leaves without quilt's .pc/ (git add -A; git rm -r -q --cached --ignore-unmatch .pc; git commit), then pq push -a",
    );
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    // An ordinary takeover (HEAD below the patches) says nothing of the kind: the test above.
  });

  it("over a forced quilt push, the refusal and the takeover name the .rej hunks a quilt refresh would drop (t129 N3)", async () => {
    const tree = makeRepo(base);
    dirs.push(tree);
    quilt(tree, "new", "fix.patch");
    quilt(tree, "add", "drivers/serial.c");
    write(
      tree,
      "drivers/serial.c",
      read(tree, "drivers/serial.c").replace("serial line 5\n", "five\n").replace("serial line 25\n", "twenty-five\n"),
    );
    quilt(tree, "refresh");
    quilt(tree, "pop");
    write(tree, "drivers/serial.c", read(tree, "drivers/serial.c").replace("serial line 25\n", "upstream 25\n"));
    git(tree, "commit", "-qam", "upstream");
    expect(
      spawnSync("quilt", ["push", "-f"], { cwd: tree, env: { ...process.env, QUILT_PATCHES: "patches", QUILTRC: "/dev/null" } }).status,
    ).toBe(1);
    const refused = await pq(tree, "init");
    expect(refused.code).toBe(5);
    expect(refused.err).toContain("apply the hunks in drivers/serial.c.rej by hand and delete it, then quilt refresh and pq init");
    // The other way round (refreshed first): the takeover says where the dropped hunks are.
    quilt(tree, "refresh");
    const taken = await pq(tree, "init");
    expect(taken.code, taken.err).toBe(0);
    expect(taken.err).toContain("drivers/serial.c.rej holds hunks a forced quilt push of fix.patch left out");
  });

  it("a stack made before quilt pushed: pq push over quilt's changes names quilt, not git stash", async () => {
    const tree = makeRepo(base);
    dirs.push(tree);
    expect((await pq(tree, "init")).code).toBe(0);
    quilt(tree, "new", "q.patch");
    quilt(tree, "add", "README");
    write(tree, "README", "model (quilt)\n");
    quilt(tree, "refresh");
    expect((await pq(tree, "status")).out).toContain(
      "quilt has 1 patch(es) applied here (up to q.patch): quilt pop -a before pq pushes over them",
    );
    const r = await pq(tree, "push");
    expect(r.code).toBe(5);
    expect(r.err).toContain("quilt has 1 patch(es) applied here (.pc/applied-patches): these may be their changes; quilt pop -a first");
    quilt(tree, "pop", "-a");
    expect((await pq(tree, "push")).code).toBe(0);
    expect(read(tree, "README")).toBe("model (quilt)\n");
  });

  it("refuses, and leaves everything as it was, over unrefreshed changes in quilt's top patch or another queue", async () => {
    const { tree } = quiltStack();
    write(tree, "drivers/serial.c", read(tree, "drivers/serial.c").replace("serial line 25\n", "serial line 25 (not refreshed)\n"));
    const before = snapshot(tree);
    const r = await pq(tree, "init");
    expect(r.code).toBe(5);
    expect(r.err).toContain("quilt's applied patches do not make the tree as it is: drivers/serial.c differ");
    expect(r.err).toContain("quilt refresh");
    expect(snapshot(tree)).toEqual(before);
    expect(existsSync(join(tree, ".pq"))).toBe(false);
    expect(read(tree, "patches/series")).toBe("one.patch\ntwo.patch\nthree.patch\n");
    const elsewhere = await pq(tree, "init", "--queue", "mine");
    expect(elsewhere.code).toBe(12);
    expect(elsewhere.err).toContain("quilt has 2 patch(es) applied here from patches/");
    expect(existsSync(join(tree, "mine"))).toBe(false);
    // Done quilt's way, the takeover goes through, with the edit now in two.patch.
    quilt(tree, "refresh");
    expect((await pq(tree, "init")).code).toBe(0);
    expect((await pq(tree, "top")).out).toBe("two.patch\n");
    expect((await pq(tree, "diff")).out).toContain("+serial line 25 (not refreshed)");
  });

  it("names the quilt patch an edit belongs to when it is below the top, and pq init again, word for word (t145 N10)", async () => {
    const { tree } = quiltStack();
    quilt(tree, "push");
    // three.patch is on top now; the edit is in a file only a lower patch changes.
    const lower = "drivers/new/port.c";
    expect(quilt(tree, "files", "three.patch")).not.toContain(lower);
    write(tree, lower, `${read(tree, lower)}edited by hand\n`);
    const r = await pq(tree, "init");
    expect(r.code).toBe(5);
    expect(r.err).toContain(
      "quilt pop one.patch, quilt refresh, then quilt pop -a, then pq init again and pq push -a to apply them with pq",
    );
    quilt(tree, "pop", "one.patch");
    quilt(tree, "refresh");
    quilt(tree, "pop", "-a");
    expect((await pq(tree, "init")).code).toBe(0);
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect(read(tree, lower)).toContain("edited by hand\n");
  });

  it("tells a patch file changed since quilt applied it from an edit, and does not offer the quilt refresh that would overwrite it (t154 N3)", async () => {
    const { tree } = quiltStack();
    // A colleague's new two.patch arrives (a git pull of the queue) while quilt has the old one applied.
    const newer = read(tree, "patches/two.patch").replace("+serial line twenty\n", "+serial line twenty (v2)\n");
    write(tree, "patches/two.patch", newer);
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(tree, "patches/two.patch"), later, later);
    const r = await pq(tree, "init");
    expect(r.code).toBe(5);
    expect(r.err).toContain("two.patch was written after quilt applied it (newer than .pc/two.patch/.timestamp");
    expect(r.err).not.toContain("to keep the edits in quilt's patches");
    expect(r.err).toContain("quilt pop -a -f (it puts back the files quilt saved before pushing");
    // Both readings, with what each way loses: a touched file with the tree's own edits is the other one (t157 N4).
    expect(r.err).toContain(
      "if the tree's edits are to keep: copy two.patch aside first (quilt refresh writes the tree's version over it)",
    );
    expect(read(tree, "patches/two.patch")).toBe(newer);
    // Its way, word for word: the new version is what is applied.
    quilt(tree, "pop", "-a", "-f");
    expect((await pq(tree, "init")).code).toBe(0);
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect(read(tree, "drivers/serial.c")).toContain("serial line twenty (v2)\n");
    expect(read(tree, "patches/two.patch")).toBe(newer);
  });
});
