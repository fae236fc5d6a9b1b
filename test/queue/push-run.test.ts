/**
 * A push of many patches is remembered as one run (PushRun in src/queue/caches.ts): the next
 * push of the same patches over the same versions replays it whole. These tests check that
 * the replay is taken, that it leaves exactly what a patch-by-patch push leaves, and that
 * anything that changed (a patch, a file under the stack, a lost object) sends the push
 * back to the patch-by-patch path, with its refusals.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { cleanup, git, makeRepo, pq, read, snapshot, tempDir, write } from "../helpers/repo.js";
import { Stack } from "../../src/queue/stack.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(cleanup));

const PATCHES = 20;
const lines = (tag: string) => Array.from({ length: 30 }, (_, i) => `${tag} line ${i + 1}\n`).join("");

/**
 * A tree with three files and PATCHES patches, each changing one line of one of them (p07 and
 * p14 create a file too); all popped. Built once, and copied for each test (building it was
 * most of this file's time); the copy's files have new inodes, so pq's stat cache reads them
 * once, as it would after any copy of a tree.
 */
let template: Promise<string> | null = null;
async function stackOf20(): Promise<string> {
  template ??= buildStackOf20();
  const dir = tempDir("pq-run-");
  dirs.push(dir);
  cpSync(await template, dir, { recursive: true, preserveTimestamps: true });
  // The copy's files changed (their ctime) just now: a command reading them in that clock tick
  // could not tell a later write in it, and would not remember their hashes (see StatCache.record).
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  return dir;
}

async function buildStackOf20(): Promise<string> {
  const files = { "a.c": lines("a"), "b.c": lines("b"), "c.c": lines("c") };
  const dir = makeRepo(files);
  expect((await pq(dir, "init")).code).toBe(0);
  for (let i = 1; i <= PATCHES; i++) {
    const file = ["a.c", "b.c", "c.c"][i % 3];
    expect((await pq(dir, "new", `p${String(i).padStart(2, "0")}`, "-m", `change ${i}`)).code).toBe(0);
    write(dir, file, read(dir, file).replace(`line ${i}\n`, `line ${i} changed by p${i}\n`));
    // p07 and p14 also create a file (in a directory of its own).
    if (i % 7 === 0) {
      write(dir, `nd${i}/new${i}.txt`, `made by p${i}\n`);
      expect((await pq(dir, "add", `nd${i}/new${i}.txt`)).code).toBe(0);
    }
    expect((await pq(dir, "refresh")).code).toBe(0);
  }
  expect((await pq(dir, "pop", "-a")).code).toBe(0);
  return dir;
}
afterAll(async () => {
  if (template) cleanup(await template);
});

const applied = async (dir: string) => (await pq(dir, "applied")).out.split("\n").filter(Boolean);

const pushCacheLog = (dir: string) => join(dir, ".pq", "pushcache.log");
const runLines = (dir: string) => readFileSync(pushCacheLog(dir), "latin1").split("\n").filter((l) => l.startsWith("run:"));

/** Keep only the run lines of the push cache: a push that still reports every patch as cached replayed the run. */
function onlyRuns(dir: string): void {
  writeFileSync(pushCacheLog(dir), runLines(dir).map((l) => `${l}\n`).join(""), "latin1");
}

describe("a push remembered as one run", () => {
  it("keeps state.json whole when the tree has files named like the run's keys", async () => {
    // A file `applied` at the top of the tree, changed after another file: its key in the run's
    // files read as the run's records, and the replay wrote a state.json no command could read.
    const dir = makeRepo({ Makefile: "base\n", applied: "x\n", notes: "n\n" });
    dirs.push(dir);
    expect((await pq(dir, "init")).code).toBe(0);
    for (let i = 1; i <= 17; i++) {
      expect((await pq(dir, "new", `p${i}`)).code).toBe(0);
      const file = i === 1 ? "Makefile" : i % 2 ? "applied" : "notes";
      write(dir, file, `${read(dir, file)}line ${i}\n`);
      expect((await pq(dir, "refresh")).code).toBe(0);
    }
    const state = read(dir, ".pq/state.json");
    for (let round = 0; round < 2; round++) {
      expect((await pq(dir, "pop", "-a")).code).toBe(0);
      expect((await pq(dir, "push", "-a")).code).toBe(0);
    }
    expect(runLines(dir)).toHaveLength(1);
    expect(read(dir, ".pq/state.json")).toBe(state);
    expect((await pq(dir, "status")).code).toBe(0);
  });

  it("is replayed whole, and leaves the tree and the state a patch-by-patch push leaves", async () => {
    const dir = await stackOf20();
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect(runLines(dir)).toHaveLength(1);
    const tree = snapshot(dir);
    const state = read(dir, ".pq/state.json");
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    onlyRuns(dir);
    const again = await pq(dir, "push", "-a", "--json");
    expect(again.code).toBe(0);
    const report = JSON.parse(again.out) as { pushed: { name: string; cached: boolean }[] };
    expect(report.pushed.map((p) => p.name)).toEqual(Array.from({ length: PATCHES }, (_, i) => `p${String(i + 1).padStart(2, "0")}`));
    expect(report.pushed.every((p) => p.cached)).toBe(true);
    expect(snapshot(dir)).toEqual(tree);
    expect(read(dir, ".pq/state.json")).toBe(state);
    // The replay is one transaction like any push: undo and pop take it back.
    expect((await pq(dir, "undo")).code).toBe(0);
    expect(read(dir, "a.c")).toBe(lines("a"));
    expect((await pq(dir, "redo")).code).toBe(0);
    expect(snapshot(dir)).toEqual(tree);
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    expect(read(dir, "b.c")).toBe(lines("b"));
  });

  it("is replayed above applied patches too, leaving the same state text", async () => {
    const dir = await stackOf20();
    expect((await pq(dir, "push", "p02")).code).toBe(0);
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    const state = read(dir, ".pq/state.json");
    expect((await pq(dir, "goto", "p02")).code).toBe(0);
    onlyRuns(dir);
    const again = await pq(dir, "push", "-a", "--json");
    const report = JSON.parse(again.out) as { pushed: { name: string; cached: boolean }[] };
    expect([report.pushed.length, report.pushed.every((p) => p.cached)]).toEqual([PATCHES - 2, true]);
    // The records below the run serialised, the run's copied from its stored text: the same text as the first push's.
    expect(read(dir, ".pq/state.json")).toBe(state);
  });

  it("answers the stack's queries after a replay from the run's names, and its records when asked", async () => {
    const dir = await stackOf20();
    expect((await pq(dir, "push", "p02")).code).toBe(0);
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    const records = JSON.parse(read(dir, ".pq/state.json")).applied as { name: string }[];
    expect((await pq(dir, "goto", "p02")).code).toBe(0);
    onlyRuns(dir);
    const stack = await Stack.open({ tree: dir });
    const report = await stack.push({ all: true });
    expect([report.pushed.length, report.pushed.every((p) => p.cached)]).toEqual([PATCHES - 2, true]);
    // The records after p02 are still the run's text here (a warm push's report asks for the
    // top and the names without parsing them); the names are the records' own, in order.
    const names = records.map((r) => r.name);
    expect(stack.top()).toBe("p20");
    expect(stack.applied()).toEqual(names);
    expect(stack.skippedBelowTop()).toEqual([]);
    expect(stack.unapplied()).toEqual([]);
    expect(stack.appliedRecords().map((r) => r.name)).toEqual(names);
    expect(stack.applied()).toEqual(names);
  });

  it("is not taken when a patch in the middle changed: that patch is applied afresh", async () => {
    const dir = await stackOf20();
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    // p10 now changes line 10 differently (a.c: 10 % 3 = 1 → b.c).
    const p10 = join(dir, "patches", "p10");
    writeFileSync(p10, readFileSync(p10, "latin1").replace("changed by p10", "rewritten in p10"), "latin1");
    const r = await pq(dir, "push", "-a", "--json");
    expect(r.code).toBe(0);
    const pushed = (JSON.parse(r.out) as { pushed: { name: string; cached: boolean }[] }).pushed;
    expect(pushed.find((p) => p.name === "p10")!.cached).toBe(false);
    expect(read(dir, "b.c")).toContain("b line 10 rewritten in p10\n");
    expect(read(dir, "b.c")).toContain("b line 13 changed by p13\n");
  });

  it("is not taken over an edit to a file it changes: the push refuses as a patch-by-patch push does", async () => {
    const dir = await stackOf20();
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    onlyRuns(dir);
    write(dir, "c.c", lines("c").replace("c line 30\n", "c line 30 edited by hand\n"));
    const r = await pq(dir, "push", "-a");
    expect(r.code).toBe(5);
    expect(r.err).toContain("unrefreshed changes in c.c");
    expect(read(dir, "c.c")).toContain("edited by hand");
    expect(read(dir, "a.c")).toBe(lines("a"));
  });

  it("refuses over a file whose HEAD version differs from the tree's, naming the patch a patch-by-patch push names", async () => {
    const dir = await stackOf20();
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    // HEAD moves on in c.c while the tree keeps the version the run starts from.
    write(dir, "c.c", lines("c").replace("c line 30\n", "c line 30 upstream\n"));
    git(dir, "commit", "-qam", "upstream");
    write(dir, "c.c", lines("c"));
    onlyRuns(dir);
    const replayed = await pq(dir, "push", "-a");
    rmSync(pushCacheLog(dir));
    const patchByPatch = await pq(dir, "push", "-a");
    expect([replayed.code, replayed.err]).toEqual([patchByPatch.code, patchByPatch.err]);
    expect(replayed.code).toBe(5);
    expect(replayed.err).toContain("c.c, which p02 also changes");
    expect(read(dir, "c.c")).toBe(lines("c"));
  });

  it("names the first file of the first patch in its refusal, as a patch-by-patch push does, when a file is named like a number (t24 F3)", async () => {
    // JSON keeps keys that are numbers first: the run's files list `5` (p10's) before `zz` (p01's).
    const files: Record<string, string> = { zz: "l1\n", "5": "l1\n" };
    for (let i = 2; i <= 17; i++) files[`f${i}`] = "l1\n";
    const dir = makeRepo(files);
    dirs.push(dir);
    expect((await pq(dir, "init")).code).toBe(0);
    for (let i = 1; i <= 17; i++) {
      expect((await pq(dir, "new", `p${String(i).padStart(2, "0")}`)).code).toBe(0);
      const file = i === 1 ? "zz" : i === 10 ? "5" : `f${i}`;
      write(dir, file, "l1\nchanged\n");
      expect((await pq(dir, "refresh")).code).toBe(0);
    }
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    // HEAD moves on in both files while the tree keeps the versions the run starts from.
    write(dir, "zz", "l1\nupstream\n");
    write(dir, "5", "l1\nupstream\n");
    git(dir, "commit", "-qam", "upstream");
    write(dir, "zz", "l1\n");
    write(dir, "5", "l1\n");
    onlyRuns(dir);
    const replayed = await pq(dir, "push", "-a");
    rmSync(pushCacheLog(dir));
    const patchByPatch = await pq(dir, "push", "-a");
    expect([replayed.code, replayed.err]).toEqual([patchByPatch.code, patchByPatch.err]);
    expect(replayed.err).toContain("unrefreshed changes in zz, which p01 also changes");
  });

  it("is not taken, found as the run remembered last, when a patch's -pN changed in the series since", async () => {
    const dir = await stackOf20();
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    // Same patch files, same names: only the strip level differs (p05's a/ and b/ are now path components).
    write(dir, "patches/series", read(dir, "patches/series").replace(/^p05$/m, "p05 -p0"));
    const copy = tempDir("pq-run-copy-");
    dirs.push(copy);
    cpSync(dir, copy, { recursive: true, preserveTimestamps: true });
    rmSync(pushCacheLog(copy));
    const replayed = await pq(dir, "push", "-a");
    const patchByPatch = await pq(copy, "push", "-a");
    expect(replayed.code).not.toBe(0);
    expect([replayed.code, replayed.err.replaceAll(copy, dir)]).toEqual([patchByPatch.code, patchByPatch.err.replaceAll(copy, dir)]);
    expect(await applied(dir)).toEqual(await applied(copy));
  });

  it("logs the state a replay made last time under its own id, and a wrong remembered id is not taken", async () => {
    const dir = await stackOf20();
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    const state = read(dir, ".pq/state.json");
    const id = createHash("sha1").update(state.replace(/\n$/, ""), "latin1").digest("hex");
    const lastLogged = () => (JSON.parse(read(dir, ".pq/oplog").trim().split("\n").at(-1)!) as { state: [string, string] }).state;
    for (let round = 0; round < 3; round++) {
      expect((await pq(dir, "pop", "-a")).code).toBe(0);
      if (round === 2) {
        // The remembered id of the state after the replay made to name another object: the state before it.
        const cache = readFileSync(join(dir, ".pq", "statcache"), "latin1");
        const line = cache.split("\n").filter((l) => l.startsWith("\0state-after ")).at(-1)!;
        writeFileSync(join(dir, ".pq", "statcache"), cache.replace(line, line.replace(/\t[0-9a-f]{40}\t/, `\t${line.split(" ")[1]}\t`)), "latin1");
      }
      onlyRuns(dir);
      // A process of its own: pq's memory of long texts' hashes must not carry over from the last push.
      const again = execFileSync(process.execPath, [resolve("bin/pq.cjs"), "push", "-a", "--json"], { cwd: dir, encoding: "utf8" });
      expect((JSON.parse(again) as { pushed: { cached: boolean }[] }).pushed.every((p) => p.cached)).toBe(true);
      expect(read(dir, ".pq/state.json")).toBe(state);
      expect(lastLogged()[1]).toBe(id);
    }
    // The log's states are the texts: undo and redo put them back.
    expect((await pq(dir, "undo")).code).toBe(0);
    expect((await pq(dir, "redo")).code).toBe(0);
    expect(read(dir, ".pq/state.json")).toBe(state);
  });

  it("is not taken when its object is gone or damaged: the push goes patch by patch", async () => {
    const dir = await stackOf20();
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    const tree = snapshot(dir);
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    // The run line now names an object the store does not have.
    writeFileSync(pushCacheLog(dir), readFileSync(pushCacheLog(dir), "latin1").replace(/("object":")[0-9a-f]{40}/, `$1${"0".repeat(40)}`), "latin1");
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect(snapshot(dir)).toEqual(tree);
  });

  it("refuses by name, as a patch-by-patch push does, a symlink, a FIFO or a directory where a patch creates a file, after pushing the patches before it (stack-4 #1, #3, #4)", async () => {
    const dir = await stackOf20();
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    const target = join(dir, "nd7", "new7.txt");
    const obstacles: [string, () => void, RegExp][] = [
      [
        "a dangling symlink",
        () => symlinkSync("../../somewhere/config", target),
        // The link is the tree's, not the patch's: the advice is about the link (verify-14).
        /target path "nd7\/new7\.txt" is a symlink in the tree[^\n]*\n {2}pq reads and writes regular files only, never through a link: replace nd7\/new7\.txt/,
      ],
      ["a FIFO", () => execFileSync("mkfifo", [target]), /nd7\/new7\.txt is not a regular file \(a FIFO/],
      ["a directory", () => mkdirSync(join(target, "inside"), { recursive: true }), /nd7\/new7\.txt is a directory where pq expects a file/],
    ];
    for (const [what, make, refusal] of obstacles) {
      mkdirSync(join(dir, "nd7"), { recursive: true });
      make();
      const r = await pq(dir, "push", "-a");
      expect([r.code, what]).toEqual([7, what]);
      expect(r.err).toMatch(refusal);
      expect(r.err).toContain("6 patch(es) before it were applied; the top is now p06");
      expect(await applied(dir)).toHaveLength(6);
      if (what === "a dangling symlink") expect(lstatSync(target).isSymbolicLink()).toBe(true);
      expect((await pq(dir, "pop", "-a")).code).toBe(0);
      rmSync(join(dir, "nd7"), { recursive: true, force: true });
    }
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect(read(dir, "nd7/new7.txt")).toBe("made by p7\n");
  });

  it("does not write into the queue directory when it lives where a patch writes (stack-4 #7)", async () => {
    const dir = await stackOf20();
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    expect((await pq(dir, "queue", "create", "other", "--dir", join(dir, "nd7"))).code).toBe(0);
    mkdirSync(join(dir, "nd7"), { recursive: true });
    for (const name of readFileSync(join(dir, "patches", "series"), "latin1").split("\n").filter(Boolean))
      writeFileSync(join(dir, "nd7", name), readFileSync(join(dir, "patches", name)));
    writeFileSync(join(dir, "nd7", "series"), readFileSync(join(dir, "patches", "series")));
    expect((await pq(dir, "queue", "switch", "other")).code).toBe(0);
    const r = await pq(dir, "push", "-a");
    expect(r.code).toBe(7);
    expect(r.err).toContain('target path "nd7/new7.txt" is inside the queue directory nd7/');
    expect(await applied(dir)).toHaveLength(6);
  });

  it("is rebuilt from the tree when the object store lost its packs: the push and its undo work (stack-4 #5)", async () => {
    const dir = await stackOf20();
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    const tree = snapshot(dir);
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    for (const f of readdirSync(join(dir, ".pq", "objects"))) if (f.startsWith("pack-")) rmSync(join(dir, ".pq", "objects", f));
    const r = await pq(dir, "push", "-a");
    expect([r.code, r.err]).toEqual([0, ""]);
    expect(snapshot(dir)).toEqual(tree);
    expect((await pq(dir, "undo")).code).toBe(0);
    expect(read(dir, "a.c")).toBe(lines("a"));
    expect((await pq(dir, "redo")).code).toBe(0);
    expect(snapshot(dir)).toEqual(tree);
  });

  it("is neither taken nor recorded by a dry run, which writes nothing", async () => {
    const dir = await stackOf20();
    const log = readFileSync(pushCacheLog(dir), "latin1");
    const r = await pq(dir, "push", "-a", "--dry-run");
    expect(r.code).toBe(0);
    expect(readFileSync(pushCacheLog(dir), "latin1")).toBe(log);
    expect(git(dir, "status", "--porcelain")).toBe("?? patches/\n");
  });
});

describe("a patch whose file is chosen among two names", () => {
  it("patches the name that exists now, not the one a remembered push chose (stack-4 #6)", async () => {
    const dir = await stackOf20();
    write(dir, "src/x.c", lines("x"));
    git(dir, "add", "src/x.c");
    git(dir, "commit", "-q", "-m", "add src/x.c");
    // A plain diff naming one file two ways (--- x.c / +++ src/x.c), as old kernel and distro patches do.
    const fix = join(dir, "..", `xfix-${Date.now()}.patch`);
    writeFileSync(fix, `--- a/x.c\n+++ b/src/x.c\n@@ -9,3 +9,3 @@\n x line 9\n-x line 10\n+x line 10 fixed\n x line 11\n`);
    dirs.push(fix);
    expect((await pq(dir, "import", fix)).code).toBe(0);
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect(read(dir, "src/x.c")).toContain("x line 10 fixed\n");
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    // A second candidate appears: GNU patch (and quilt) take the one with fewer directories.
    write(dir, "x.c", lines("x"));
    git(dir, "add", "x.c");
    git(dir, "commit", "-q", "-m", "a vendored copy");
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect(read(dir, "x.c")).toContain("x line 10 fixed\n");
    expect(read(dir, "src/x.c")).toBe(lines("x"));
  });

  it("reads a git diff with -p0 as GNU patch does: the existing a/ name is patched, nothing is created (stack-4 #2)", async () => {
    const dir = makeRepo({ "f.txt": "x\ny\n", "a/f.txt": "x\ny\n" });
    dirs.push(dir);
    expect((await pq(dir, "init")).code).toBe(0);
    expect((await pq(dir, "new", "q", "-m", "q")).code).toBe(0);
    write(dir, "f.txt", "x\ny\nz\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    expect((await pq(dir, "pop")).code).toBe(0);
    writeFileSync(join(dir, "patches", "series"), "q -p0\n");
    expect((await pq(dir, "push")).code).toBe(0);
    expect(read(dir, "a/f.txt")).toBe("x\ny\nz\n");
    expect(read(dir, "f.txt")).toBe("x\ny\n");
    expect(git(dir, "status", "--porcelain", "--untracked-files=all", "--", "a", "b")).toBe(" M a/f.txt\n");
  });
});

describe("a stack whose object store is lost", () => {
  it("is rebuilt for diff, and healed by pop -a and push -a: the top patch's before-versions are stored again, so refresh and diff work (readme-4 #16)", async () => {
    const dir = makeRepo({ a: Array.from({ length: 20 }, (_, i) => `${i + 1}\n`).join("") });
    dirs.push(dir);
    expect((await pq(dir, "init")).code).toBe(0);
    for (let i = 1; i <= 3; i++) {
      expect((await pq(dir, "new", `p${i}`, "-m", `p${i}`)).code).toBe(0);
      write(dir, "a", read(dir, "a").replace(`\n${i * 5}\n`, `\nx${i}\n`));
      expect((await pq(dir, "refresh")).code).toBe(0);
    }
    rmSync(join(dir, ".pq", "objects"), { recursive: true });
    // The top patch's before-versions are made again from HEAD and the patches below (t42 N8): diff works at once.
    const rebuilt = await pq(dir, "diff");
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.out).toContain("-15\n+x3\n");
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    write(dir, "a", read(dir, "a") + "edit\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    expect(read(dir, "patches/p3")).toContain("+edit\n");
    expect((await pq(dir, "diff")).code).toBe(0);
  });
});

describe("what a reused push depends on besides the files it changes (stack-4 #8-#13)", () => {
  /** stackOf20 with one more patch, first in the series, made from `text`. */
  async function withFirst(dir: string, name: string, text: string): Promise<void> {
    const file = join(dir, "..", `${name}-${Date.now()}.patch`);
    writeFileSync(file, text);
    dirs.push(file);
    expect((await pq(dir, "import", file)).code).toBe(0);
    const series = read(dir, "patches/series").split("\n").filter(Boolean);
    writeFileSync(join(dir, "patches", "series"), [series.at(-1), ...series.slice(0, -1)].map((n) => `${n}\n`).join(""));
  }

  it("a copy's source changed upstream: the copy is made again from the new source (#9)", async () => {
    const dir = await stackOf20();
    write(dir, "src.txt", lines("src"));
    git(dir, "add", "src.txt");
    git(dir, "commit", "-q", "-m", "src.txt");
    await withFirst(dir, "copy", "diff --git a/src.txt b/dst.txt\nsimilarity index 90%\ncopy from src.txt\ncopy to dst.txt\n--- a/src.txt\n+++ b/dst.txt\n@@ -4,3 +4,3 @@\n src line 4\n-src line 5\n+dst line 5\n src line 6\n");
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    write(dir, "src.txt", lines("src").replace("src line 1\n", "src line 1 upstream\n"));
    git(dir, "commit", "-q", "-a", "-m", "upstream edits src.txt");
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect(read(dir, "dst.txt").split("\n").slice(0, 5)).toEqual(["src line 1 upstream", "src line 2", "src line 3", "src line 4", "dst line 5"]);
  });

  it("a mode change that did nothing when remembered is made when the mode changed since (#10)", async () => {
    const dir = await stackOf20();
    write(dir, "run.sh", "#!/bin/sh\n");
    git(dir, "add", "run.sh");
    git(dir, "update-index", "--chmod=+x", "run.sh");
    execFileSync("chmod", ["+x", join(dir, "run.sh")]);
    git(dir, "commit", "-q", "-m", "run.sh");
    await withFirst(dir, "mode", "diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n");
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    execFileSync("chmod", ["-x", join(dir, "run.sh")]);
    git(dir, "update-index", "--chmod=-x", "run.sh");
    git(dir, "commit", "-q", "-m", "not executable");
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect(lstatSync(join(dir, "run.sh")).mode & 0o111).not.toBe(0);
  });

  it("a three-way merge's result is not reused by a push without --merge (#11)", async () => {
    const dir = await stackOf20();
    write(dir, "m.txt", lines("m"));
    git(dir, "add", "m.txt");
    git(dir, "commit", "-q", "-m", "m.txt");
    expect((await pq(dir, "new", "mp", "-m", "mp")).code).toBe(0);
    write(dir, "m.txt", lines("m").replace("m line 15\n", "m line 15 patched\n"));
    expect((await pq(dir, "refresh")).code).toBe(0);
    expect((await pq(dir, "pop")).code).toBe(0);
    // Upstream changes the lines around the hunk: without fuzz only a three-way merge applies it.
    write(dir, "m.txt", lines("m").replace("m line 13\n", "m line 13 up\n").replace("m line 17\n", "m line 17 up\n"));
    git(dir, "commit", "-q", "-a", "-m", "upstream");
    expect((await pq(dir, "push", "-a", "--fuzz", "0")).code).toBe(6);
    expect((await pq(dir, "push", "-a", "--fuzz", "0", "--merge")).code).toBe(0);
    expect(read(dir, "m.txt")).toContain("m line 15 patched\n");
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    expect((await pq(dir, "push", "-a", "--fuzz", "0")).code).toBe(6);
  });

  it("a file made inside a directory that an applied patch has as a file is refused, not replayed (#12)", async () => {
    const dir = await stackOf20();
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    write(dir, "nd7", "upstream file\n");
    git(dir, "add", "nd7");
    git(dir, "commit", "-q", "-m", "nd7");
    expect((await pq(dir, "new", "del0", "-m", "delete nd7")).code).toBe(0);
    git(dir, "rm", "-q", "nd7");
    expect((await pq(dir, "refresh")).code).toBe(0);
    const r = await pq(dir, "push", "-a");
    expect(r.code).toBe(7);
    expect(r.err).toContain("nd7/new7.txt would be created inside nd7, a file the applied patches change");
    expect(r.err).not.toContain("git rm");
    expect(r.err).toContain("or the patch below it that makes or changes nd7 to leave it alone");
    expect(await applied(dir)).toHaveLength(7);
  });

  it("a file made where a patch before it in the same push made a directory is refused by name, cached or not, dry run alike (t117 N7)", async () => {
    const dir = makeRepo({ "README": "base\n" });
    dirs.push(dir);
    await pq(dir, "init");
    await pq(dir, "new", "mkdir-sub");
    write(dir, "sub/x.c", "x\n");
    await pq(dir, "add", "sub/x.c");
    await pq(dir, "refresh");
    await pq(dir, "pop");
    await pq(dir, "new", "file-sub");
    write(dir, "sub", "f\n");
    await pq(dir, "add", "sub");
    await pq(dir, "refresh");
    await pq(dir, "pop");
    // Each was pushed alone before: the push cache has both.
    expect((await pq(dir, "reorder", "file-sub", "--last")).code).toBe(0);
    const before = snapshot(dir);
    const dry = await pq(dir, "push", "-a", "--dry-run");
    expect(dry.code).toBe(7);
    expect(snapshot(dir)).toEqual(before);
    const real = await pq(dir, "push", "-a");
    for (const r of [dry, real]) expect(r.err).toContain("file-sub: sub is a directory where pq expects a file (or no file): a patch pushed before file-sub makes sub/x.c");
    expect(real.code).toBe(7);
    expect(await applied(dir)).toEqual(["mkdir-sub"]);
    expect(read(dir, "sub/x.c")).toBe("x\n");
  });

  it("a hard-linked copy of the tree (cp -al) keeps its own log and cache (#8)", async () => {
    const dir = await stackOf20();
    const copy = `${dir}-copy`;
    dirs.push(copy);
    execFileSync("cp", ["-al", dir, copy]);
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    for (const f of ["oplog", "pushcache.log", "objects/index"]) expect(lstatSync(join(copy, ".pq", f)).nlink).toBe(1);
    expect((await pq(copy, "oplog")).out).not.toContain("push p01..p20");
    expect((await pq(copy, "push", "-a")).code).toBe(0);
  });

  it("the same patches pushed over two bases in turn replay either run (#13)", async () => {
    const dir = await stackOf20();
    const first = git(dir, "rev-parse", "HEAD").trim();
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    write(dir, "c.c", read(dir, "c.c").replace("c line 30\n", "c line thirty\n"));
    git(dir, "commit", "-q", "-a", "-m", "second base");
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    git(dir, "reset", "-q", "--hard", first);
    onlyRuns(dir);
    const r = await pq(dir, "push", "-a", "--json");
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { pushed: { cached: boolean }[] }).pushed.every((p) => p.cached)).toBe(true);
  });
});

describe("a patch file edited while a push reads it (t22)", () => {
  it("is read again by the next push: its hash is remembered under the stat from before the read", async () => {
    const dir = makeRepo({ "a.c": lines("a") });
    dirs.push(dir);
    expect((await pq(dir, "init")).code).toBe(0);
    expect((await pq(dir, "new", "p1", "-m", "one")).code).toBe(0);
    write(dir, "a.c", read(dir, "a.c").replace("a line 5\n", "a line 5 changed\n"));
    expect((await pq(dir, "refresh")).code).toBe(0);
    expect((await pq(dir, "pop")).code).toBe(0);
    // An editor's save lands right after the push read p1 (same size: only the ctime tells).
    const saved = { failpoint: process.env.PQ_FAILPOINT, sh: process.env.PQ_FAILPOINT_SH };
    process.env.PQ_FAILPOINT = "patch-read:sh";
    process.env.PQ_FAILPOINT_SH = `test -e ${dir}/.git/edited || { sed -i 's/a line 5 changed/a line 5 CHANGED/' ${dir}/patches/p1 && touch ${dir}/.git/edited; }`;
    try {
      const r = await pq(dir, "push");
      expect(r.code, r.err).toBe(0);
    } finally {
      process.env.PQ_FAILPOINT = saved.failpoint ?? "";
      process.env.PQ_FAILPOINT_SH = saved.sh ?? "";
      if (saved.failpoint === undefined) delete process.env.PQ_FAILPOINT;
      if (saved.sh === undefined) delete process.env.PQ_FAILPOINT_SH;
    }
    // That push applied what it read; the next one applies the file as it is now.
    expect(read(dir, "a.c")).toContain("a line 5 changed\n");
    expect((await pq(dir, "pop", "--force")).code).toBe(0);
    expect((await pq(dir, "push")).code).toBe(0);
    expect(read(dir, "a.c")).toContain("a line 5 CHANGED\n");
  });
});
