/**
 * The stat cache trusts a recorded (size, mtime) only below the cache file's own mtime
 * (git's racy rule, on the file system's clock): a file changed again in the same tick as
 * pq's write must be read, not trusted.
 */
import { existsSync, linkSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StatCache } from "../../src/queue/caches.js";
import { makeVersion } from "../../src/queue/state.js";
import { sha1 } from "../../src/tree/files.js";
import { cleanup, pq, repoWithPatch, tempDir } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

/** A directory of its own (removed after the test) and the stat cache's file in it. */
function cacheDir(): { dir: string; cacheFile: string } {
  const dir = tempDir();
  dirs.push(dir);
  return { dir, cacheFile: join(dir, "statcache") };
}

describe("the stat cache's racy rule", () => {
  it("trusts an entry older than the cache file, not one from the same tick or later", () => {
    const { cacheFile } = cacheDir();
    // A file last changed at 1,000,000 s (mtime and ctime: utimes cannot set a real file's ctime back).
    const st = { size: 4, mtimeMs: 1_000_000_000, ctimeMs: 1_000_000_000, ino: 7 };
    const version = makeVersion(sha1("one\n"), false);
    const cache = new StatCache(cacheFile);
    cache.record("a.c", st, version);
    cache.save();
    // Saved now, long after the file's time: trusted, in this process and the next.
    expect(cache.lookup("a.c", st)).toBe(version);
    expect(new StatCache(cacheFile).lookup("a.c", st)).toBe(version);
    // The cache written in the same tick as the file: the file may have changed after pq
    // recorded it without its size or mtime changing, so it is not trusted.
    utimesSync(cacheFile, 1_000_000, 1_000_000);
    expect(new StatCache(cacheFile).lookup("a.c", st)).toBeUndefined();
    utimesSync(cacheFile, 999_999, 999_999);
    expect(new StatCache(cacheFile).lookup("a.c", st)).toBeUndefined();
    // One tick later it is.
    utimesSync(cacheFile, 1_000_000.004, 1_000_000.004);
    expect(new StatCache(cacheFile).lookup("a.c", st)).toBe(version);
    // Nor one whose ctime is not older than the cache file (a copy that kept an old mtime: t32 F2).
    expect(new StatCache(cacheFile).lookup("a.c", { ...st, ctimeMs: 1_000_000_004 })).toBeUndefined();
    // A different size or mtime is never trusted.
    expect(new StatCache(cacheFile).lookup("a.c", { ...st, size: st.size + 1 })).toBeUndefined();
    expect(new StatCache(cacheFile).lookup("a.c", { ...st, mtimeMs: st.mtimeMs + 1 })).toBeUndefined();
  });

  it("reads a missing or damaged cache as empty, and an entry without ctime and inode (pq before December 3) as a miss", () => {
    const dir = tempDir();
    dirs.push(dir);
    // pq before December 5 kept the cache as JSON in statcache.json: read when there is no new file yet.
    const cacheFile = join(dir, "statcache");
    const legacyFile = join(dir, "statcache.json");
    const stamp = { size: 4, mtimeMs: 1000, ctimeMs: 1000, ino: 7 };
    expect(new StatCache(cacheFile).lookup("a.c", stamp)).toBeUndefined();
    writeFileSync(legacyFile, JSON.stringify({ savedAt: 5_000_000_000_000, entries: { "a.c": [4, 1000, "v"], "b.c": [4, 1000, "w", 1000, 7] } }));
    utimesSync(legacyFile, 2, 2);
    expect(new StatCache(cacheFile).lookup("a.c", stamp)).toBeUndefined();
    expect(new StatCache(cacheFile).lookup("b.c", stamp)).toBe("w");
    // The first save writes the new file, with the legacy entries, and removes the JSON.
    const upgraded = new StatCache(cacheFile);
    upgraded.record("c.c", stamp, "x");
    upgraded.save();
    expect(existsSync(legacyFile)).toBe(false);
    utimesSync(cacheFile, 2, 2);
    expect(["a.c", "b.c", "c.c"].map((p) => new StatCache(cacheFile).lookup(p, stamp))).toEqual([undefined, "w", "x"]);
    writeFileSync(legacyFile, "{ not json");
    rmSync(cacheFile);
    expect(new StatCache(cacheFile).lookup("b.c", stamp)).toBeUndefined();
    // A damaged file in the new format: its whole lines count, nothing else.
    writeFileSync(cacheFile, "pq stat cache 2\nb.c\t4\t1000\tw\t1000\t7\nd.c\tfour\t1000\tv\t1000\t7\ne.c\t4\t1000\tv\t1000\t7");
    utimesSync(cacheFile, 2, 2);
    expect(["b.c", "d.c", "e.c"].map((p) => new StatCache(cacheFile).lookup(p, stamp))).toEqual(["w", undefined, undefined]);
    writeFileSync(cacheFile, "something else\nb.c\t4\t1000\tw\t1000\t7\n");
    expect(new StatCache(cacheFile).lookup("b.c", stamp)).toBeUndefined();
  });

  it("keeps any path and version exactly (tabs, line breaks, backslashes, characters beyond latin1), and forgets", () => {
    const { dir, cacheFile } = cacheDir();
    const stamp = { size: 4, mtimeMs: 1000.25, ctimeMs: 999.125, ino: 7 };
    const paths = ["plain.c", "tab\there.c", "line\nbreak.c", "back\\slash\\t.c", "caf\u00e9.c", "\u0141\u20ac.c", "\0head/x.c"];
    const cache = new StatCache(cacheFile);
    paths.forEach((p, i) => cache.record(p, stamp, `v${i}\t\\${p}`));
    cache.record("gone.c", stamp, "g");
    cache.save();
    utimesSync(cacheFile, 2, 2);
    const again = new StatCache(cacheFile);
    expect(paths.map((p) => again.lookup(p, stamp))).toEqual(paths.map((p, i) => `v${i}\t\\${p}`));
    expect(again.lookup("gone.c", stamp)).toBe("g");
    again.forget("gone.c");
    again.record("plain.c", { ...stamp, size: 5 }, "new");
    again.save();
    utimesSync(cacheFile, 2, 2);
    const third = new StatCache(cacheFile);
    expect(third.lookup("gone.c", stamp)).toBeUndefined();
    expect(third.lookup("plain.c", { ...stamp, size: 5 })).toBe("new");
    expect(third.lookup("tab\there.c", stamp)).toBe(`v1\t\\tab\there.c`);
  });

  it("misses an edit that puts the old size and mtime back (cp -p, rsync -a, touch -r): its ctime and inode changed (stack-3 #1)", () => {
    const { dir, cacheFile } = cacheDir();
    const file = join(dir, "a.c");
    writeFileSync(file, "one\n");
    utimesSync(file, 1_000_000, 1_000_000);
    const st = statSync(file);
    const cache = new StatCache(cacheFile);
    cache.record("a.c", st, makeVersion(sha1("one\n"), false));
    cache.save();
    // Rewritten in place, same size, mtime put back: only the ctime tells.
    writeFileSync(file, "two\n");
    utimesSync(file, 1_000_000, 1_000_000);
    const again = statSync(file);
    expect([again.size, again.mtimeMs]).toEqual([st.size, st.mtimeMs]);
    expect(new StatCache(cacheFile).lookup("a.c", again)).toBeUndefined();
  });

  it("is an accelerator: a directory where its file (or an older pq's) should be reads as empty and is never trusted (verify-12 F5)", () => {
    const { dir, cacheFile } = cacheDir();
    const stamp = { size: 4, mtimeMs: 1000, ctimeMs: 1000, ino: 7 };
    for (const blocked of [cacheFile, join(dir, "statcache.json")]) {
      mkdirSync(blocked);
      const cache = new StatCache(cacheFile);
      expect(cache.lookup("a.c", stamp)).toBeUndefined();
      cache.record("a.c", stamp, "v");
      expect(() => cache.save()).not.toThrow();
      // Recorded in this process, but with no file whose time marks it trusted: not trusted.
      if (blocked === cacheFile) expect(cache.lookup("a.c", stamp)).toBeUndefined();
      expect(existsSync(blocked)).toBe(true);
      rmSync(blocked, { recursive: true, force: true });
      rmSync(cacheFile, { force: true });
    }
  });


  it("appends what changed, later lines replacing earlier ones, and writes only the live lines once most lines are stale", () => {
    const { dir, cacheFile } = cacheDir();
    const stamp = (size: number) => ({ size, mtimeMs: 1000, ctimeMs: 1000, ino: 7 });
    const first = new StatCache(cacheFile);
    for (let i = 0; i < 600; i++) first.record(`f${i}.c`, stamp(1), `v${i}`);
    first.save();
    const lines = () => readFileSync(cacheFile, "latin1").split("\n").length - 2;
    expect(lines()).toBe(600);
    // A second process changes 100 entries and forgets one: 101 lines appended, the file not rewritten.
    const inode = statSync(cacheFile).ino;
    const second = new StatCache(cacheFile);
    for (let i = 0; i < 100; i++) second.record(`f${i}.c`, stamp(2), `w${i}`);
    second.forget("f599.c");
    second.save();
    // Saved twice in one process: only what changed since the first save is appended.
    second.record("f100.c", stamp(2), "w100");
    second.save();
    expect([statSync(cacheFile).ino, lines()]).toEqual([inode, 702]);
    utimesSync(cacheFile, 2, 2);
    const third = new StatCache(cacheFile);
    expect([third.lookup("f0.c", stamp(2)), third.lookup("f0.c", stamp(1)), third.lookup("f101.c", stamp(1)), third.lookup("f599.c", stamp(1))]).toEqual([
      "w0",
      undefined,
      "v101",
      undefined,
    ]);
    // Once the stale lines would pass the live ones (plus 256), the file is written whole with only the live lines.
    for (let round = 0; round < 4; round++) {
      const next = new StatCache(cacheFile);
      for (let i = 0; i < 200; i++) next.record(`f${i}.c`, stamp(3 + round), `r${round}.${i}`);
      next.save();
    }
    expect(lines()).toBe(599);
    utimesSync(cacheFile, 2, 2);
    const last = new StatCache(cacheFile);
    expect([last.lookup("f0.c", stamp(6)), last.lookup("f300.c", stamp(1)), last.lookup("f599.c", stamp(1))]).toEqual(["r3.0", "v300", undefined]);
  });

  it("never appends through a symlink or to a hard-linked copy's file, and skips a line a crash cut short", () => {
    const { dir, cacheFile } = cacheDir();
    const elsewhere = join(dir, "elsewhere");
    const stamp = { size: 4, mtimeMs: 1000, ctimeMs: 1000, ino: 7 };
    writeFileSync(elsewhere, "pq stat cache 2\nx.c\t4\t1000\tv\t1000\t7\n");
    symlinkSync(elsewhere, cacheFile);
    const cache = new StatCache(cacheFile);
    cache.record("a.c", stamp, "v");
    cache.save();
    // The link was replaced by a file of pq's; what it named is as it was.
    expect([lstatSync(cacheFile).isFile(), readFileSync(elsewhere, "latin1")]).toEqual([true, "pq stat cache 2\nx.c\t4\t1000\tv\t1000\t7\n"]);
    const copy = join(dir, "copy");
    linkSync(cacheFile, copy);
    const linked = new StatCache(cacheFile);
    linked.record("b.c", stamp, "w");
    linked.save();
    expect(readFileSync(copy, "latin1")).not.toContain("b.c");
    // A torn last line (a crash while appending): not an entry, and the next append starts on a line of its own.
    writeFileSync(cacheFile, readFileSync(cacheFile, "latin1") + "c.c\t4\t10");
    const torn = new StatCache(cacheFile);
    torn.record("d.c", stamp, "d");
    torn.save();
    utimesSync(cacheFile, 2, 2);
    const after = new StatCache(cacheFile);
    expect(["a.c", "b.c", "c.c", "d.c"].map((p) => after.lookup(p, stamp))).toEqual(["v", "w", undefined, "d"]);
  });
});

describe("an entry recorded in the tick its save was written in (t28 F1)", () => {
  it("stays untrusted after later saves move the cache file's time on, appended or written whole, until it is recorded again", () => {
    const { dir, cacheFile } = cacheDir();
    // A file whose mtime is not older than the cache's save: the save's own tick, on a clock of seconds.
    const future = Date.now() / 1000 + 1000;
    const racy = { size: 4, mtimeMs: future * 1000, ctimeMs: future * 1000, ino: 7 };
    const first = new StatCache(cacheFile);
    first.record("a.c", racy, "v1");
    first.save();
    expect(first.lookup("a.c", racy)).toBeUndefined();
    // Another command saves later (its file's time past the entry's): the entry must not become trusted.
    const other = { size: 4, mtimeMs: 1_000_000, ctimeMs: 1_000_000, ino: 8 };
    const second = new StatCache(cacheFile);
    expect(second.lookup("a.c", racy)).toBeUndefined();
    second.record("b.c", other, "v2");
    second.save();
    utimesSync(cacheFile, future + 10, future + 10);
    const third = new StatCache(cacheFile);
    expect(third.lookup("a.c", racy)).toBeUndefined();
    expect(third.lookup("b.c", other)).toBe("v2");
    // The content check's answer (the version pq recorded under exactly that stamp) is still there.
    expect(third.recordedValue("a.c", racy)).toBe("v1");
    // Written whole (a hard-linked copy's file is never appended to): the mark goes with it.
    linkSync(cacheFile, join(dir, "copy"));
    third.record("c.c", other, "v3");
    third.save();
    utimesSync(cacheFile, future + 20, future + 20);
    expect(readFileSync(join(dir, "copy"), "latin1")).not.toContain("c.c");
    const fourth = new StatCache(cacheFile);
    expect(fourth.lookup("a.c", racy)).toBeUndefined();
    expect(fourth.lookup("c.c", other)).toBe("v3");
    // Recorded again under a stamp older than the save: trusted.
    const older = { ...racy, mtimeMs: 1_000_000, ctimeMs: 1_000_000 };
    fourth.record("a.c", older, "v4");
    fourth.save();
    expect(new StatCache(cacheFile).lookup("a.c", older)).toBe("v4");
  });
});

describe("the tick a file time stands for", () => {
  it("is a second on a file system that keeps whole seconds, else nothing (t29 F1)", async () => {
    const { sameTickSpan } = await import("../../src/tree/stat.js");
    expect(sameTickSpan(1_796_479_563_000)).toBe(1000);
    expect(sameTickSpan(1_796_479_563_000.25)).toBe(0);
    expect(sameTickSpan(1_796_479_563_417.123)).toBe(0);
    expect(sameTickSpan(0)).toBe(0);
  });
});

describe("a file the cache does not vouch for only because of the racy rule", () => {
  it("takes the recorded version when its bytes are that version's in the store, and is hashed when they are not", async () => {
    const { WorkingSet } = await import("../../src/queue/workset.js");
    const { ObjectStore } = await import("../../src/tree/objects.js");
    const { dir, cacheFile } = cacheDir();
    const store = new ObjectStore(join(dir, "objects"));
    const recorded = store.put("as pq wrote it\n");
    store.flush();
    writeFileSync(join(dir, "a.c"), "as pq wrote it\n");
    writeFileSync(join(dir, "b.c"), "not the same!!\n"); // the same size, other bytes
    for (const name of ["a.c", "b.c"]) utimesSync(join(dir, name), 1_000_000, 1_000_000);
    const cache = new StatCache(cacheFile);
    for (const name of ["a.c", "b.c"]) cache.record(name, statSync(join(dir, name)), recorded);
    cache.save();
    // The cache saved in the files' tick: lookup does not vouch for them.
    utimesSync(cacheFile, 1_000_000, 1_000_000);
    expect(new StatCache(cacheFile).lookup("a.c", statSync(join(dir, "a.c")))).toBeUndefined();
    const ws = new WorkingSet(dir, store, new StatCache(cacheFile));
    expect(ws.version("a.c")).toBe(recorded);
    expect(ws.version("b.c")).toBe(sha1("not the same!!\n"));
  });
});

describe("what a command records while it opens the stack", () => {
  it("is kept under the lock and saved: the pack index's seal checks are not made again by every command", async () => {
    const dir = await repoWithPatch({ "a.c": "one\n" }, "a.patch", { "a.c": "two\n" });
    dirs.push(dir);
    const sealChecks = () => readFileSync(join(dir, ".pq", "statcache"), "latin1").split("\n").filter((line) => line.startsWith("\0objects/index "));
    // Opening the stack checks state.json against the store's copy, whose read checks the
    // index lines' seal; until December 5 the stat cache holding that check was dropped when
    // the lock was taken (it had recorded something), and every command hashed the index again.
    for (let i = 0; i < 2; i++) {
      expect((await pq(dir, "pop")).code).toBe(0);
      expect((await pq(dir, "push")).code).toBe(0);
    }
    expect(sealChecks().length).toBeGreaterThan(0);
  });
});

describe("the check right before pq overwrites a file (recordedAs)", () => {
  it("does not vouch for an entry recorded in its file's own clock tick, where a later write keeps the stamp (t29's neighbour)", () => {
    const { cacheFile } = cacheDir();
    const version = makeVersion(sha1("one\n"), false);
    // A file system with whole-seconds times: read within its second, an edit later in that second keeps the stamp.
    const whole = { size: 4, mtimeMs: 1_000_000_000, ctimeMs: 1_000_000_000, ino: 7 };
    const cache = new StatCache(cacheFile);
    cache.record("a.c", whole, version, 1_000_000_500);
    expect(cache.recordedAs("a.c", whole, version)).toBe(false);
    cache.record("a.c", whole, version, 1_000_001_000);
    expect(cache.recordedAs("a.c", whole, version)).toBe(true);
    // pq's own write, recorded right after it: within its second on such a file system.
    const now = Math.floor(Date.now() / 1000) * 1000;
    const justWritten = { ...whole, mtimeMs: now, ctimeMs: now };
    cache.record("a.c", justWritten, version);
    expect(cache.recordedAs("a.c", justWritten, version)).toBe(false);
    // Finer times: the coarse clock's tick (at most 10 ms).
    const fine = { ...whole, mtimeMs: 1_000_000_123.4, ctimeMs: 1_000_000_123.4 };
    cache.record("a.c", fine, version, fine.mtimeMs + 5);
    expect(cache.recordedAs("a.c", fine, version)).toBe(false);
    cache.record("a.c", fine, version, fine.mtimeMs + 20);
    expect(cache.recordedAs("a.c", fine, version)).toBe(true);
    cache.record("a.c", fine, version);
    expect(cache.recordedAs("a.c", fine, version)).toBe(true);
    // Another version, another stamp: no.
    expect(cache.recordedAs("a.c", fine, makeVersion(sha1("two\n"), false))).toBe(false);
    expect(cache.recordedAs("a.c", { ...fine, ctimeMs: fine.ctimeMs + 1 }, version)).toBe(false);
  });

  it("does not vouch for an entry the file marks as recorded in its save's tick", () => {
    const { dir, cacheFile } = cacheDir();
    const file = join(dir, "a.c");
    writeFileSync(file, "one\n");
    // A file time not older than the save's: the entry is marked as recorded in the save's tick.
    const later = Math.floor(Date.now() / 1000) + 100;
    utimesSync(file, later + 0.5, later + 0.5);
    const st = statSync(file);
    const version = makeVersion(sha1("one\n"), false);
    const cache = new StatCache(cacheFile);
    cache.record("a.c", st, version, st.mtimeMs + 1000);
    cache.save();
    expect(readFileSync(cacheFile, "latin1")).toContain("\0racy\0a.c");
    expect(new StatCache(cacheFile).recordedAs("a.c", st, version)).toBe(false);
  });
});

describe("the racy rules (t32)", () => {
  const v = makeVersion(sha1("one\n"), false);
  it("mark an entry recorded in its file's own tick however late the save comes (F1: the TUI saved one seconds later)", () => {
    const { cacheFile } = cacheDir();
    // Whole seconds; stated half a second into the file's second, saved now (decades later).
    const stamp = { size: 4, mtimeMs: 1_000_000_000, ctimeMs: 1_000_000_000, ino: 7 };
    const cache = new StatCache(cacheFile);
    cache.record("a.c", stamp, v, 1_000_000_500);
    cache.record("b.c", { ...stamp, ino: 8 }, v, 1_000_001_000);
    cache.save();
    const next = new StatCache(cacheFile);
    expect(next.lookup("a.c", stamp)).toBeUndefined();
    expect(next.lookup("b.c", { ...stamp, ino: 8 })).toBe(v);
  });

  it("go by the later of mtime and ctime: a copy that kept an old mtime is as new as its ctime (F2, F3)", () => {
    const { cacheFile } = cacheDir();
    const future = Date.now() + 3_600_000;
    const kept = { size: 4, mtimeMs: 1_000_000_000, ctimeMs: future, ino: 7 };
    const cache = new StatCache(cacheFile);
    cache.record("a.c", kept, v, future + 5_000);
    cache.recordPatchHash("p1.patch", kept, sha1("one\n"), future + 5_000);
    cache.save();
    // The file changed (its ctime) after the cache was saved: nothing is vouched for, by either file.
    rmSync(join(cacheFile, "..", "statcache"));
    writeFileSync(cacheFile, "");
    expect(new StatCache(cacheFile).lookup("a.c", kept)).toBeUndefined();
    expect(new StatCache(cacheFile).patchHash("p1.patch", kept)).toBeUndefined();
  });
});
