import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeRepo, pq, read, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});
const repo = (files: Record<string, string>) => {
  const d = makeRepo(files);
  dirs.push(d);
  return d;
};

const base = { "timer.c": "int ticks;\nint hz = 100;\n", "driver.c": "void probe(void) {}\n", Makefile: "all:\n" };
const diff = (path: string, from: string, to: string) => `--- a/${path}\n+++ b/${path}\n@@ -1 +1 @@\n-${from}\n+${to}\n`;

/** A hand-written quilt queue whose names have directories, as distribution series do. */
function quiltQueue(): string {
  const q = tempDir("pq-quilt-");
  dirs.push(q);
  write(
    q,
    "patches/series",
    "# topic directories\nbugfix/x86/timer-ticks.patch\nfeatures/all/driver-probe.patch #+drivers\ndebian/makefile.diff\n",
  );
  write(
    q,
    "patches/bugfix/x86/timer-ticks.patch",
    "From: Ann Example <ann@example.org>\nSubject: timer: long ticks\n\n" + diff("timer.c", "int ticks;", "long ticks;"),
  );
  write(
    q,
    "patches/features/all/driver-probe.patch",
    "Subject: driver: probe returns int\n\n" + diff("driver.c", "void probe(void) {}", "int probe(void) { return 0; }"),
  );
  write(q, "patches/debian/makefile.diff", diff("Makefile", "all:", "all: timer.o"));
  return q;
}

const series = async (tree: string) => (await pq(tree, "series")).out.trim().split("\n");

describe("patch names with directories", () => {
  it("import --quilt keeps the names; series, push/pop/goto by name and position, guard and header take them", async () => {
    const tree = repo(base);
    await pq(tree, "init");
    const imported = await pq(tree, "import", "--quilt", quiltQueue());
    expect(imported.code).toBe(0);
    expect(await series(tree)).toEqual(["bugfix/x86/timer-ticks.patch", "features/all/driver-probe.patch", "debian/makefile.diff"]);
    expect(read(tree, "patches/features/all/driver-probe.patch")).toContain("int probe(void)");
    expect(JSON.parse((await pq(tree, "guard", "features/all/driver-probe.patch", "--json")).out)).toEqual({
      name: "features/all/driver-probe.patch",
      guards: ["+drivers"],
    });

    await pq(tree, "select", "drivers");
    expect((await pq(tree, "push", "features/all/driver-probe")).out).toContain("now at: features/all/driver-probe.patch");
    expect(read(tree, "driver.c")).toBe("int probe(void) { return 0; }\n");
    expect((await pq(tree, "pop", "1")).out).toContain("bugfix/x86/timer-ticks.patch");
    expect((await pq(tree, "goto", "3")).code).toBe(0);
    expect((await pq(tree, "top")).out.trim()).toBe("debian/makefile.diff");
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    expect((await pq(tree, "push", "makefile")).out).toContain("now at: debian/makefile.diff"); // the last component is enough when unique
    expect(read(tree, "Makefile")).toBe("all: timer.o\n");

    expect((await pq(tree, "guard", "bugfix/x86/timer-ticks.patch", "+x86")).code).toBe(0);
    expect((await pq(tree, "series", "-v")).out).toContain("bugfix/x86/timer-ticks.patch  #+x86");
    expect((await pq(tree, "header", "2", "-m", "driver: probe reports success")).code).toBe(0);
    expect(JSON.parse((await pq(tree, "header", "features/all/driver-probe.patch", "--json")).out)).toMatchObject({
      subject: "driver: probe reports success",
    });
    expect(JSON.parse((await pq(tree, "header", "timer-ticks", "--json")).out)).toMatchObject({
      author: "Ann Example <ann@example.org>",
      subject: "timer: long ticks",
    });
  });

  it("new, refresh, rename across directories, delete and fold keep every file and prune emptied directories", async () => {
    const tree = repo(base);
    await pq(tree, "init");
    expect((await pq(tree, "new", "bugfix/x86/one.patch", "-m", "one")).code).toBe(0);
    write(tree, "timer.c", "long ticks;\nint hz = 100;\n");
    await pq(tree, "refresh");
    expect(read(tree, "patches/bugfix/x86/one.patch")).toContain("+long ticks;");

    expect((await pq(tree, "rename", "bugfix/x86/one.patch", "features/arch/x86-one.patch")).code).toBe(0);
    expect(existsSync(join(tree, "patches/features/arch/x86-one.patch"))).toBe(true);
    expect(existsSync(join(tree, "patches/bugfix"))).toBe(false); // emptied directories go
    expect((await pq(tree, "top")).out.trim()).toBe("features/arch/x86-one.patch");
    // A new patch named as a directory of patches: said as that, not "pq import it" (t55 N5).
    const clash = await pq(tree, "new", "features");
    expect(clash.code).toBe(3);
    expect(clash.err).toContain("is a directory: a patch name cannot also be a directory of patches");
    expect(clash.err).not.toContain("pq import");
    // A rename to the directory the patch is alone in: refused before anything is written (t57 N8: it wedged the stack).
    const into = await pq(tree, "rename", "features/arch/x86-one.patch", "features/arch");
    expect(into.code).toBe(3);
    expect(into.err).toContain("is a directory: a patch name cannot also be a directory of patches");
    expect((await pq(tree, "status")).code).toBe(0);

    // Two unapplied patches in a directory: delete one, fold the other into the top.
    write(tree, "patches/extra/a/two.patch", "Subject: two\n\n" + diff("driver.c", "void probe(void) {}", "void probe(int x) {}"));
    write(tree, "patches/extra/a/three.patch", "Subject: three\n\n" + diff("Makefile", "all:", "all: driver.o"));
    write(tree, "patches/series", read(tree, "patches/series") + "extra/a/two.patch\nextra/a/three.patch\n");
    expect((await pq(tree, "delete", "extra/a/three")).code).toBe(0);
    expect((await pq(tree, "fold", "extra/a/two.patch")).code).toBe(0);
    expect(read(tree, "driver.c")).toBe("void probe(int x) {}\n");
    expect(existsSync(join(tree, "patches/extra"))).toBe(false);
    const trash = readdirSync(join(tree, ".pq/trash"));
    expect(trash.some((f) => f.endsWith("-extra_a_three.patch"))).toBe(true);
    expect(trash.some((f) => f.endsWith("-extra_a_two.patch"))).toBe(true);
    expect(await series(tree)).toEqual(["features/arch/x86-one.patch"]);

    // A forced pop over unrefreshed changes backs them up under a flat name too.
    write(tree, "timer.c", "short ticks;\nint hz = 100;\n");
    expect((await pq(tree, "pop", "--force")).code).toBe(0);
    expect(readdirSync(join(tree, ".pq/backups")).some((d) => d.endsWith("-pop-features_arch_x86-one.patch"))).toBe(true);
  });

  it("export --quilt writes the series with its directories and --dir flattens names into mail files", async () => {
    const tree = repo(base);
    await pq(tree, "init");
    await pq(tree, "import", "--quilt", quiltQueue());
    await pq(tree, "select", "drivers");
    await pq(tree, "push", "-a");
    const out = tempDir("pq-export-");
    dirs.push(out);
    expect((await pq(tree, "export", "--quilt", join(out, "q"))).code).toBe(0);
    expect(read(out, "q/series")).toBe(
      "# topic directories\nbugfix/x86/timer-ticks.patch\nfeatures/all/driver-probe.patch #+drivers\ndebian/makefile.diff\n",
    );
    expect(read(out, "q/features/all/driver-probe.patch")).toContain("+int probe(void) { return 0; }");
    expect((await pq(tree, "export", "--dir", join(out, "mails"))).code).toBe(0);
    expect(readdirSync(join(out, "mails")).sort()).toEqual([
      "0001-bugfix_x86_timer-ticks.patch",
      "0002-features_all_driver-probe.patch",
      "0003-debian_makefile.patch",
      "series",
    ]);
    expect((await pq(tree, "export", "--quilt", join(out, "x"), "--dir", join(out, "y"))).code).toBe(2);
  });

  it("import --hg keeps names with directories", async () => {
    const hg = tempDir("pq-hg-");
    dirs.push(hg);
    write(hg, ".hg/patches/series", "topic/one.diff\n");
    write(
      hg,
      ".hg/patches/topic/one.diff",
      "# HG changeset patch\n# User Ann Example <ann@example.org>\ntimer\n\n" + diff("timer.c", "int ticks;", "long ticks;"),
    );
    const tree = repo(base);
    await pq(tree, "init");
    expect((await pq(tree, "import", "--hg", hg, "--push")).code).toBe(0);
    expect(await series(tree)).toEqual(["topic/one.diff"]);
    expect(read(tree, "timer.c")).toBe("long ticks;\nint hz = 100;\n");
  });

  it("refuses names that escape the queue directory, from the command line or a series file", async () => {
    const tree = repo(base);
    await pq(tree, "init");
    for (const [name, code] of [
      ["../x.patch", 7],
      ["/abs.patch", 7],
      ["a/../../x", 7],
      ["a//b", 2],
      [".pq/x", 2],
      ["series", 2],
    ] as const) {
      const r = await pq(tree, "new", name);
      expect(r.code, name).toBe(code);
      expect(r.err, name).toMatch(/patch name/);
    }
    await pq(tree, "new", "ok.patch");
    expect((await pq(tree, "rename", "ok.patch", "../../escaped.patch")).code).toBe(7);
    expect(existsSync(join(tree, "patches/ok.patch"))).toBe(true);

    const evil = tempDir("pq-evil-");
    dirs.push(evil);
    write(evil, "patches/series", "fine.patch\n../../outside.patch\n");
    write(evil, "patches/fine.patch", diff("timer.c", "int ticks;", "long ticks;"));
    const r = await pq(tree, "import", "--quilt", evil);
    expect(r.code).toBe(7);
    expect(r.err).toMatch(/series line 2/);
    expect(await series(tree)).toEqual(["ok.patch"]);
    expect((await pq(tree, "import", join(evil, "patches/fine.patch"), "--name", "a/../../x.patch")).code).toBe(7);
  });
});

describe("pq init over a series it cannot read (ci-7 #5)", () => {
  it("refuses with nothing made, so pq init works once the series is fixed", async () => {
    const tree = repo(base);
    write(tree, "debian/patches/fix.patch", diff("Makefile", "all:", "all: fix"));
    write(tree, "debian/patches/series", "fix.patch -R\n");
    const refused = await pq(tree, "init", "--queue", "debian/patches");
    expect(refused.code).toBe(7);
    expect(refused.err).toContain("debian/patches/series: series line 1: option -R after fix.patch is not supported");
    expect(refused.err).toContain("nothing was made");
    expect(existsSync(join(tree, ".pq"))).toBe(false);
    write(tree, "debian/patches/series", "fix.patch\nfix.patch\n");
    expect((await pq(tree, "init", "--queue", "debian/patches")).err).toContain("fix.patch is listed twice");
    expect(existsSync(join(tree, ".pq"))).toBe(false);
    write(tree, "debian/patches/series", "fix.patch\n");
    const init = await pq(tree, "init", "--queue", "debian/patches");
    expect(init.code, init.err).toBe(0);
    expect((await pq(tree, "push")).code).toBe(0);
    expect(read(tree, "Makefile")).toBe("all: fix\n");
  });
});

describe("pq init over the project's own patches/ directory (t145 N13)", () => {
  it("refuses a patches/ git tracks files in and no series names, naming --queue; takes it when named, and an untracked one", async () => {
    const tree = repo({ ...base, "patches/left-pad+1.3.0.patch": diff("node_modules/left-pad/index.js", "a", "b") });
    const refused = await pq(tree, "init");
    expect(refused.code).toBe(3);
    expect(refused.err).toContain("patches/ holds 1 file(s) the project's git tracks (left-pad+1.3.0.patch) and no series");
    expect(refused.err).toContain("pq init --queue DIR puts the queue in another directory");
    expect(existsSync(join(tree, ".pq"))).toBe(false);
    expect(existsSync(join(tree, "patches/series"))).toBe(false);
    const elsewhere = await pq(tree, "init", "--queue", "pq-patches");
    expect(elsewhere.code, elsewhere.err).toBe(0);
    expect((await pq(tree, "new", "p")).code).toBe(0);
    write(tree, "patches/left-pad+1.3.0.patch", `${read(tree, "patches/left-pad+1.3.0.patch")}+// tweak\n`);
    expect((await pq(tree, "refresh")).out).toContain("patches/left-pad+1.3.0.patch");
    // Named with --queue, it is the user's choice; an untracked patches/ with no series is a queue to start.
    const named = repo({ ...base, "patches/README": "mine\n" });
    expect((await pq(named, "init", "--queue", "patches")).code).toBe(0);
    const fresh = repo(base);
    write(fresh, "patches/x.patch", diff("Makefile", "all:", "all: x"));
    expect((await pq(fresh, "init")).code).toBe(0);
  });
});
