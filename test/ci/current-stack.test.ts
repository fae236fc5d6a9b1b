import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCi } from "../../src/ci/run.js";
import { runBisect } from "../../src/ci/bisect-run.js";
import { ciVerdicts } from "../../src/queue/ci-verdicts.js";
import { cacheTrustWarning } from "../../src/build/build.js";
import { fixtureKernelTree } from "../helpers/kernels.js";
import { cleanup, git, pq, read, snapshot, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));

/** The fixture kernel committed as a git tree with an empty pq stack on it. */
async function stackOnFixture(): Promise<string> {
  const tree = fixtureKernelTree("pass");
  dirs.push(tree);
  commitBase(tree);
  await pq(tree, "init");
  return tree;
}

/** `tree` as a git repository whose one commit, "base", holds every file in it. */
function commitBase(tree: string): void {
  git(tree, "init", "-q", "-b", "main");
  git(tree, "add", "-A");
  git(tree, "-c", "user.name=T", "-c", "user.email=t@x", "commit", "-qm", "base");
}

/** ROOT/t, a git tree whose file v holds 0, with a pq stack made by `pq init ...init`. */
async function stackOnV(init: string[] = []): Promise<{ root: string; tree: string }> {
  const root = tempDir();
  dirs.push(root);
  const tree = join(root, "t");
  mkdirSync(tree);
  write(tree, "v", "0\n");
  commitBase(tree);
  await pq(tree, "init", ...init);
  return { root, tree };
}

/** ROOT/t, a git tree whose file v holds 0, with patches p1 and p2 (v = 1, then 2) applied; `init` are pq init's options. */
async function twoPatchesOnV(init: string[]): Promise<{ root: string }> {
  const { root, tree } = await stackOnV(init);
  for (const i of [1, 2]) {
    await pq(tree, "new", `p${i}`, "-m", `p${i} v1`);
    write(tree, "v", `${i}\n`);
    await pq(tree, "refresh");
  }
  return { root };
}

describe("pq ci and bisect on the current stack", () => {
  it("run in a scratch copy: the user's tree, stack and unrefreshed edits are untouched", async () => {
    const tree = await stackOnFixture();
    await pq(tree, "new", "say-more.patch", "-m", "Say more", "-u", "Good Author <good@example.org>");
    write(tree, "main.c", readFileSync(join(tree, "main.c"), "utf8").replace("smoke=pass", "check name=more ok\\npq: smoke=pass"));
    await pq(tree, "refresh");
    await pq(tree, "new", "break-it.patch", "-m", "Break the verdict", "-u", "Bad Author <bad@example.org>");
    write(tree, "main.c", readFileSync(join(tree, "main.c"), "utf8").replace("pq: smoke=pass", 'pq: smoke=fail reason=\\"broken\\"'));
    await pq(tree, "refresh");
    await pq(tree, "pop");
    write(tree, "notes.txt", "unrefreshed work\n");
    const before = snapshot(tree);
    const state = readFileSync(join(tree, ".pq/state.json"), "utf8");

    const notes: string[] = [];
    const cacheDir = tempDir();
    const report = await runCi({
      tree,
      backends: ["native"],
      cacheDir,
      onEvent: (e) => e.kind === "note" && notes.push(e.message),
    });
    expect(report.cells.map((c) => `${c.state}:${c.outcome}`)).toEqual(["0:pass", "1:pass", "2:fail"]);
    // The untracked file in no patch is not in the states, and the run says so (ci-7 #8).
    expect(notes).toEqual([expect.stringContaining("left out of every state: notes.txt (untracked and in no patch")]);
    expect(report.states[2]).toMatchObject({ patch: "break-it.patch", author: "Bad Author <bad@example.org>" });
    const bisect = await runBisect({ tree, backends: ["native"], cacheDir: tempDir() });
    expect(bisect.patch).toBe("break-it.patch");
    // The same cache made writable by every user: the run that reads its verdicts says so (ci-17 F6).
    chmodSync(cacheDir, 0o777);
    const warned: string[] = [];
    await runCi({ tree, backends: ["native"], cacheDir, onEvent: (e) => e.kind === "note" && warned.push(e.message) });
    expect(warned).toContainEqual(expect.stringContaining(`warning: the cache folder ${cacheDir} is writable by every user (mode 777)`));

    expect(snapshot(tree)).toEqual(before);
    expect(readFileSync(join(tree, ".pq/state.json"), "utf8")).toBe(state);
  }, 60_000);

  it("refuses a tree with edits in no patch (they would be dropped from some states and baked into others)", async () => {
    const tree = await stackOnFixture();
    write(tree, "main.c", readFileSync(join(tree, "main.c"), "utf8") + "/* an edit in no patch */\n");
    const none = await pq(tree, "ci", "-b", "native");
    expect(none.code).toBe(5);
    expect(none.err).toContain("unrefreshed changes in main.c: pq ci tests the queue's patches");
    await pq(tree, "new", "p.patch");
    const some = await pq(tree, "ci", "-b", "native");
    expect(some.code).toBe(5);
    expect(readFileSync(join(tree, "main.c"), "utf8")).toContain("an edit in no patch");
  }, 60_000);

  it("states see their own files: a relative symlink stays relative, an untracked file in no patch is left out (ci-7 #1, #8)", async () => {
    const tree = tempDir();
    dirs.push(tree);
    mkdirSync(join(tree, "real"));
    write(tree, "real/conf", "value=base\n");
    symlinkSync("real/conf", join(tree, "conf"));
    commitBase(tree);
    await pq(tree, "init");
    await pq(tree, "new", "change-conf", "-m", "change conf");
    write(tree, "real/conf", "value=patched\n");
    await pq(tree, "refresh");
    await pq(tree, "pop");
    write(tree, "stray.txt", "in no patch\n");
    const before = snapshot(tree);
    // State 0 must read the base through its own link; the last state's command writes through it too.
    const r = await pq(
      tree,
      "ci",
      "--run",
      'test "$(readlink conf)" = real/conf && test ! -e stray.txt && grep -q "value=$(test $PQ_STATE = 0 && echo base || echo patched)" conf && { test $PQ_STATE = 0 || echo scribbled > conf; }',
    );
    expect(r.out).toContain("2 cells: 2 pass");
    expect(r.err).toContain("left out of every state: stray.txt");
    expect(snapshot(tree)).toEqual(before);
    expect(readFileSync(join(tree, "real/conf"), "utf8")).toBe("value=base\n");
  }, 60_000);

  it("runs the command without pq's .pq/ in the tree: a grep -r for a patch's line finds it only where the patch is applied (t118 N3)", async () => {
    const root = tempDir();
    dirs.push(root);
    const tree = join(root, "t");
    mkdirSync(tree);
    write(tree, "f.txt", "one\ntwo\n");
    commitBase(tree);
    await pq(tree, "init", "--queue", "../q");
    await pq(tree, "new", "p1");
    write(tree, "f.txt", "one\nFORBIDDEN\n");
    await pq(tree, "refresh");
    for (const args of [["ci"], ["bisect"]]) {
      const r = await pq(tree, ...args, "--run", "test -d .pq && exit 3; ! grep -rq FORBIDDEN --exclude-dir=.git .");
      expect(r.code).toBe(1);
      expect(r.out).toMatch(args[0] === "ci" ? /0 +\(base tree\) PASS[\s\S]*1 +p1 +FAIL/ : /p1/);
    }
    expect(existsSync(join(tree, ".pq", "state.json"))).toBe(true);
    expect((await pq(tree, "top")).out).toBe("p1\n");
  }, 60_000);

  it("refuses edits in no patch; with no patch applied it names pq new, not a refresh that would refuse (t120 N7)", async () => {
    const tree = tempDir();
    dirs.push(tree);
    write(tree, "f.txt", "one\n");
    commitBase(tree);
    await pq(tree, "init");
    await pq(tree, "new", "p1");
    write(tree, "g.txt", "new\n");
    await pq(tree, "add", "g.txt");
    await pq(tree, "refresh");
    await pq(tree, "pop", "-a");
    write(tree, "f.txt", "one\nmine\n");
    const r = await pq(tree, "ci", "--run", "true");
    expect(r.code).toBe(5);
    expect(r.err).toContain("pq new NAME and pq refresh make them a patch\n");
  }, 60_000);

  it("ci, bisect, build and boot run from a folder inside the tree on its stack, as other commands do (t125 N9)", async () => {
    const tree = fixtureKernelTree("pass");
    dirs.push(tree);
    mkdirSync(join(tree, "sub"));
    write(tree, "sub/notes.txt", "notes\n");
    commitBase(tree);
    await pq(tree, "init");
    await pq(tree, "new", "p1");
    write(tree, "sub/notes.txt", "notes, more\n");
    await pq(tree, "refresh");
    const sub = join(tree, "sub");
    for (const args of [
      ["ci", "--run", "grep -q more sub/notes.txt || exit 1"],
      ["bisect", "--run", "true"],
    ]) {
      const r = await pq(sub, ...args);
      expect([r.code, r.err], args.join(" ")).toEqual([args[0] === "ci" ? 1 : 0, expect.not.stringContaining("no pq stack")]);
    }
    const built = await pq(sub, "build");
    expect(built.code, built.err).toBe(0);
    expect(existsSync(join(tree, ".pq", "build", "kernel.elf"))).toBe(true);
  }, 120_000);

  it("with patches applied, names a way to set the edits aside that leaves the patches' changes, followed word for word (t124 N5)", async () => {
    const tree = tempDir();
    dirs.push(tree);
    write(tree, "f.txt", "one\ntwo\n");
    commitBase(tree);
    await pq(tree, "init");
    await pq(tree, "new", "p1");
    write(tree, "f.txt", "ONE\ntwo\n");
    await pq(tree, "refresh");
    write(tree, "f.txt", "ONE\ntwo\nmine\n");
    const r = await pq(tree, "ci", "--run", "true");
    expect(r.code).toBe(5);
    const way = /or set them aside: (pq revert \S+), then pq ci, then pq undo puts them back/.exec(r.err)?.[1];
    expect(way).toBe("pq revert f.txt");
    // From a folder below the top, the files are named from the top, and said so (t126 N4).
    mkdirSync(join(tree, "sub"), { recursive: true });
    expect((await pq(join(tree, "sub"), "ci", "--run", "true")).err).toContain(
      `(the commands below name files from the tree's top: cd ${tree} first)`,
    );
    expect((await pq(tree, ...way!.split(" ").slice(1))).code).toBe(0);
    expect(read(tree, "f.txt")).toBe("ONE\ntwo\n");
    expect((await pq(tree, "ci", "--run", "true")).code).toBe(0);
    expect((await pq(tree, "undo")).code).toBe(0);
    expect(read(tree, "f.txt")).toBe("ONE\ntwo\nmine\n");
  }, 60_000);

  it("tests the queue as it was when the run started: a patch changed meanwhile is not what a later state applies (ci-7 #7)", async () => {
    const { root } = await twoPatchesOnV(["--queue", "../q"]);
    await pq(join(root, "t"), "pop", "-a");
    // State 0's command rewrites p2 in the real queue, as a git pull during a long run would.
    const p2 = join(root, "q", "p2");
    const r = await pq(
      root,
      "ci",
      "--queue",
      "q",
      "--tree",
      "t",
      "--json",
      join(root, "r.json"),
      "--run",
      // Failing, so that every cell keeps its output.
      `test $PQ_STATE != 0 || sed -i 's/^+2$/+22/' ${p2}; cat v; exit 1`,
    );
    expect(r.code, r.err).toBe(1);
    const report = JSON.parse(readFileSync(join(root, "r.json"), "utf8")) as { cells: { state: number; log: string }[] };
    expect(report.cells.map((c) => [c.state, c.log.trim()])).toEqual([
      [0, "0"],
      [1, "1"],
      [2, "2"],
    ]);
    expect(readFileSync(p2, "utf8")).toContain("+22");
  }, 60_000);

  it("--queue naming the tree's own queue through a symlink is the current stack (ci-7 #15)", async () => {
    const { root } = await twoPatchesOnV([]);
    symlinkSync("t/patches", join(root, "qlink"));
    await pq(root, "ci", "--queue", "qlink", "--tree", "t", "--json", join(root, "r.json"), "--run", "cat v; exit 1");
    const report = JSON.parse(readFileSync(join(root, "r.json"), "utf8")) as { cells: { state: number; log: string }[] };
    expect(report.cells.map((c) => c.log.trim())).toEqual(["0", "1", "2"]);
    // The tree through a symlink too (verify-7 V1).
    symlinkSync("t", join(root, "tlink"));
    const linked = await pq(root, "ci", "--tree", "tlink", "--run", 'test "$(cat v)" = $PQ_STATE');
    expect(linked.code, linked.err).toBe(0);
    expect(linked.out).toContain("3 cells: 3 pass");
  }, 60_000);

  it("a link leading out of the tree, and a queue's patch file that is a link, read what the user's tree reads (verify-7 V11, V12)", async () => {
    const root = tempDir();
    dirs.push(root);
    write(root, "data/conf", "shared\n");
    write(root, "shared/p1.patch", "--- a/v\n+++ b/v\n@@ -1 +1 @@\n-0\n+1\n");
    write(root, "q/series", "p1\n");
    symlinkSync("../shared/p1.patch", join(root, "q/p1"));
    const tree = join(root, "t");
    mkdirSync(tree);
    symlinkSync("../data", join(tree, "data"));
    // Into the tree by way of its own directory's name (verify-8 W5).
    mkdirSync(join(tree, "sub"));
    symlinkSync("../../t/v", join(tree, "sub/viaparent"));
    write(tree, "v", "0\n");
    commitBase(tree);
    const r = await pq(
      root,
      "ci",
      "--queue",
      "q",
      "--tree",
      "t",
      "--run",
      'test "$(cat data/conf)" = shared && test "$(cat v)" = $PQ_STATE && test "$(cat sub/viaparent)" = $PQ_STATE',
    );
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain("2 cells: 2 pass");
  }, 60_000);

  it("a --run command that changes tracked files does not carry them into the next state (verify-7 V2)", async () => {
    const { root } = await twoPatchesOnV([]);
    const tree = join(root, "t");
    write(tree, "counter", "1\n");
    git(tree, "add", "counter");
    git(tree, "-c", "user.name=T", "-c", "user.email=t@x", "commit", "-qm", "counter");
    // Every state sees the committed counter and its own v, though each command changes both.
    const r = await pq(tree, "ci", "--run", 'test "$(cat counter)" = 1 && test "$(cat v)" = $PQ_STATE && echo x >> counter && echo y >> v');
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain("3 cells: 3 pass");
    // A tracked file made a directory, a mode changed, a new file: all gone before the next state (verify-8 W4).
    const types = await pq(
      tree,
      "ci",
      "--run",
      "test -f counter && test ! -e made && rm counter && mkdir counter && chmod 600 v && touch made",
    );
    expect(types.out).toContain("3 cells: 3 pass");
    // A file git's ignore rules would leave out (p2 makes it), and a command that commits in the copy (verify-9 X2, X3).
    await pq(tree, "new", "p3");
    write(tree, "gen.h", "made by p3\n");
    await pq(tree, "refresh", "gen.h");
    write(tree, ".git/info/exclude", "gen.h\n");
    const ignored = await pq(
      tree,
      "ci",
      "--run",
      'test $PQ_STATE != 3 || test "$(cat gen.h)" = "made by p3"; echo changed > gen.h; echo y >> v; git commit -qam "by the command"; true',
    );
    expect(ignored.code, ignored.out + ignored.err).toBe(0);
    expect(ignored.out).toContain("4 cells: 4 pass");
    const twice = await pq(tree, "ci", "--run", 'test $PQ_STATE != 3 || test "$(cat gen.h)" = "made by p3"');
    expect(twice.out).toContain("4 cells: 4 pass");
    const bisect = await pq(tree, "bisect", "--run", 'test "$(cat counter)" = 1 && echo x >> counter && test "$(cat v)" != 2');
    expect(bisect.out + bisect.err).toContain("p2");
  }, 60_000);
});

describe("a cache folder others can write (ci-17 F6, t23 F8)", () => {
  it("is said, with advice that fixes it; a folder of one's own, group-writable or not, is not", () => {
    const root = tempDir();
    dirs.push(root);
    const cache = join(root, "cache");
    expect(cacheTrustWarning(cache)).toBeNull(); // not made yet
    mkdirSync(join(cache, "verdicts"), { recursive: true });
    chmodSync(cache, 0o755);
    chmodSync(join(cache, "verdicts"), 0o775);
    expect(cacheTrustWarning(cache)).toBeNull();
    chmodSync(join(cache, "verdicts"), 0o777);
    expect(cacheTrustWarning(cache)).toBe(
      `warning: the cache folder ${join(cache, "verdicts")} is writable by every user (mode 777): whoever can write it decides what a cached verdict says (its checksums catch damage, not a forged entry); chmod o-w ${join(cache, "verdicts")}, or set PQ_CACHE_DIR to a folder only you write (or run with --no-cache)`,
    );
    // A shared folder like /tmp (sticky): no chmod advice, a folder of one's own.
    chmodSync(join(cache, "verdicts"), 0o755);
    chmodSync(cache, 0o1777);
    const sticky = cacheTrustWarning(cache)!;
    expect(sticky).toContain("is writable by every user (mode 1777)");
    expect(sticky).not.toContain("chmod");
    // A folder reached through a symlink is checked too: pq writes through it.
    chmodSync(cache, 0o755);
    const shared = join(root, "shared");
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    symlinkSync(shared, join(cache, "images"));
    expect(cacheTrustWarning(cache)).toContain(`the cache folder ${join(cache, "images")} is writable by every user`);
  });

  it("is said by ci and bisect that read verdicts from it, not by --run, which keeps none there", async () => {
    const { root } = await twoPatchesOnV([]);
    const cache = join(root, "shared-cache");
    mkdirSync(join(cache, "verdicts"), { recursive: true });
    chmodSync(join(cache, "verdicts"), 0o777);
    const saved = process.env.PQ_CACHE_DIR;
    process.env.PQ_CACHE_DIR = cache;
    try {
      const run = await pq(join(root, "t"), "ci", "--run", "true");
      expect(run.code).toBe(0);
      expect(run.err).not.toContain("warning: the cache folder");
      const bisect = await pq(join(root, "t"), "bisect", "--run", "true");
      expect(bisect.err).not.toContain("warning: the cache folder");
    } finally {
      if (saved === undefined) delete process.env.PQ_CACHE_DIR;
      else process.env.PQ_CACHE_DIR = saved;
    }
  }, 60_000);
});

describe("state files that hold patch names beyond latin1 (tui-22 F2)", () => {
  it("keep them: the last ci run's verdicts are found under the patch's name", async () => {
    const { tree } = await stackOnV();
    const name = "na\u00efve-\u540d\u524d";
    await pq(tree, "new", name, "-m", "one");
    write(tree, "v", "1\n");
    await pq(tree, "refresh");
    expect((await pq(tree, "ci", "--run", "true")).code).toBe(0);
    expect(ciVerdicts(tree, join(tree, "patches"), [name]).get(name)).toEqual({ run: "pass" });
  }, 60_000);
});

describe("pq ci and bisect refuse what would test the wrong states (t68 N1, N2)", () => {
  it("a copy of the queue over a tree with its own patches applied: refused, naming them; popped, it runs", async () => {
    const { root } = await twoPatchesOnV([]);
    const copy = join(root, "q-copy");
    mkdirSync(copy);
    for (const f of ["series", "p1", "p2"]) write(copy, f, readFileSync(join(root, "t/patches", f), "latin1"));
    for (const command of ["ci", "bisect"]) {
      const r = await pq(root, command, "--queue", "q-copy", "--tree", "t", "--run", 'test "$(cat v)" = $PQ_STATE');
      expect([r.code, r.err], command).toEqual([12, expect.stringContaining("has 2 patch(es) of its own queue applied (p1, p2)")]);
    }
    await pq(join(root, "t"), "pop", "-a");
    // Nothing applied, but an edit in no patch: refused as the tree's own stack refuses it (t71 N1).
    write(join(root, "t"), "v", "9\n");
    const edited = await pq(root, "ci", "--queue", "q-copy", "--tree", "t", "--run", "true");
    expect([edited.code, edited.err]).toEqual([5, expect.stringContaining("has changes that are in no patch of its own stack: v")]);
    write(join(root, "t"), "v", "0\n");
    const ran = await pq(root, "ci", "--queue", "q-copy", "--tree", "t", "--run", 'test "$(cat v)" = $PQ_STATE');
    expect(ran.code, ran.err).toBe(0);
    expect(ran.out).toContain("3 cells: 3 pass");
  }, 60_000);

  it("a series line whose patch file is missing: refused before any state is built", async () => {
    const { root } = await twoPatchesOnV([]);
    const tree = join(root, "t");
    write(tree, "patches/series", "p1\nmissing\np2\n");
    for (const command of ["ci", "bisect"]) {
      const r = await pq(tree, command, "--run", `echo built >> ${join(root, "built")}; true`);
      expect([r.code, r.err], command).toEqual([
        3,
        expect.stringContaining(`the series lists missing, whose patch file ${join(tree, "patches", "missing")} is missing`),
      ]);
      expect(r.err).not.toContain("the top is now");
    }
    expect(existsSync(join(root, "built"))).toBe(false);
  }, 60_000);
});
