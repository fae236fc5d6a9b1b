/**
 * `.pq/queuehashes`: the patch files' hashes by their stat, checked in one pass by a push. The
 * same answers as the stat cache's `\0queue/NAME` entries under the same racy rule, and only
 * an accelerator: a damaged file or a directory in its place gives no answer and no error.
 */
import { mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StatCache } from "../../src/queue/caches.js";
import { sha1 } from "../../src/tree/files.js";
import { cleanup, makeRepo, pq, read, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

/**
 * Waits out the clock tick a file was just changed in: the racy rules go by the later of a
 * file's mtime and ctime, and utimes can set the mtime back but not the ctime.
 */
function pastItsTick(): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
}

/** A directory with a patch file `name` holding `text`, its mtime long ago (its ctime a tick ago). */
function patchDir(name: string, text: string): { dir: string; file: string } {
  const dir = tempDir();
  dirs.push(dir);
  const file = join(dir, name);
  writeFileSync(file, text);
  utimesSync(file, 1_000_000, 1_000_000);
  pastItsTick();
  return { dir, file };
}

/**
 * patchDir's patch, its hash recorded through a stat cache at DIR/statcache and saved (which
 * writes DIR/queuehashes beside it).
 */
function recordedPatch(name: string, text: string) {
  const { dir, file } = patchDir(name, text);
  const cacheFile = join(dir, "statcache");
  const st = statSync(file);
  const cache = new StatCache(cacheFile);
  cache.recordPatchHash(name, st, sha1(text));
  cache.save();
  return { dir, file, cacheFile, hashes: join(dir, "queuehashes"), st };
}

describe("the queue's hashes", () => {
  it("answer for a patch file whose stat is unchanged, older than the file that holds them, without the stat cache's own file", () => {
    const { cacheFile, hashes, st } = recordedPatch("a.patch", "one\n");
    const hash = sha1("one\n");
    expect(statSync(hashes).isFile()).toBe(true);
    // The stat cache's file gone: the queue's hashes alone answer.
    rmSync(cacheFile);
    expect(new StatCache(cacheFile).patchHash("a.patch", st)).toBe(hash);
    // Another name, another size, mtime, ctime or inode: no answer.
    expect(new StatCache(cacheFile).patchHash("b.patch", st)).toBeUndefined();
    for (const field of ["size", "mtimeMs", "ctimeMs", "ino"] as const) {
      expect(new StatCache(cacheFile).patchHash("a.patch", { ...st, [field]: st[field] + 1 })).toBeUndefined();
    }
    // Written in the file's tick (or before it): a write in that tick would keep the stamp, so no answer.
    utimesSync(hashes, st.ctimeMs / 1000, st.ctimeMs / 1000);
    expect(new StatCache(cacheFile).patchHash("a.patch", st)).toBeUndefined();
    utimesSync(hashes, (st.ctimeMs + 4) / 1000, (st.ctimeMs + 4) / 1000);
    expect(new StatCache(cacheFile).patchHash("a.patch", st)).toBe(hash);
  });

  it("miss an edit that puts the old size and mtime back (its ctime changed), and take the new hash once it is recorded", () => {
    const { file, cacheFile } = recordedPatch("a.patch", "one\n");
    writeFileSync(file, "two\n");
    utimesSync(file, 1_000_000, 1_000_000);
    pastItsTick();
    const again = statSync(file);
    const next = new StatCache(cacheFile);
    expect(next.patchHash("a.patch", again)).toBeUndefined();
    next.recordPatchHash("a.patch", again, sha1("two\n"));
    next.save();
    rmSync(cacheFile);
    expect(new StatCache(cacheFile).patchHash("a.patch", again)).toBe(sha1("two\n"));
  });

  it("never keep an entry they did not vouch for by the racy rule, so a later save's time cannot vouch for it (t28 F1)", () => {
    const { cacheFile, hashes, st } = recordedPatch("a.patch", "one\n");
    // The file of hashes as if written in the patch's tick: its entry is not vouched for...
    utimesSync(hashes, st.ctimeMs / 1000, st.ctimeMs / 1000);
    rmSync(cacheFile);
    expect(new StatCache(cacheFile).patchHash("a.patch", st)).toBeUndefined();
    // ...and a later save for another patch does not carry it over into a file whose time would.
    const { file: other } = patchDir("b.patch", "two\n");
    const second = new StatCache(cacheFile);
    second.recordPatchHash("b.patch", statSync(other), sha1("two\n"));
    second.save();
    rmSync(cacheFile);
    expect(new StatCache(cacheFile).patchHash("a.patch", st)).toBeUndefined();
    expect(new StatCache(cacheFile).patchHash("b.patch", statSync(other))).toBe(sha1("two\n"));
    // An entry whose mtime is not older than the new file's own is not written at all.
    const future = { ...st, mtimeMs: Date.now() + 1_000_000 };
    const third = new StatCache(cacheFile);
    third.recordPatchHash("a.patch", future, sha1("one\n"));
    third.save();
    utimesSync(hashes, Date.now() / 1000 + 2000, Date.now() / 1000 + 2000);
    rmSync(cacheFile);
    expect(new StatCache(cacheFile).patchHash("a.patch", future)).toBeUndefined();
    expect(new StatCache(cacheFile).patchHash("b.patch", statSync(other))).toBe(sha1("two\n"));
  });

  it("keep names beyond ASCII and the entries of other patches when one is recorded", () => {
    const { dir, file } = patchDir("名前.patch", "one\n");
    const other = join(dir, "sub");
    mkdirSync(other);
    writeFileSync(join(other, "b.patch"), "two\n");
    utimesSync(join(other, "b.patch"), 1_000_000, 1_000_000);
    pastItsTick();
    const cacheFile = join(dir, "statcache");
    const first = new StatCache(cacheFile);
    first.recordPatchHash("名前.patch", statSync(file), sha1("one\n"));
    first.save();
    const second = new StatCache(cacheFile);
    second.recordPatchHash("sub/b.patch", statSync(join(other, "b.patch")), sha1("two\n"));
    second.save();
    rmSync(cacheFile);
    const third = new StatCache(cacheFile);
    expect(third.patchHash("名前.patch", statSync(file))).toBe(sha1("one\n"));
    expect(third.patchHash("sub/b.patch", statSync(join(other, "b.patch")))).toBe(sha1("two\n"));
  });

  it("drop the names no command asked about once they pass 20,000 (renamed and deleted patches do not pile up)", () => {
    const { dir, file } = patchDir("a.patch", "one\n");
    const cacheFile = join(dir, "statcache");
    const st = statSync(file);
    const many = new StatCache(cacheFile);
    for (let i = 0; i < 20_000; i++) many.recordPatchHash(`old-${i}.patch`, { ...st, ino: st.ino + 1 + i }, sha1(`${i}`));
    many.save();
    rmSync(cacheFile);
    expect(new StatCache(cacheFile).patchHash("old-7.patch", { ...st, ino: st.ino + 8 })).toBe(sha1("7"));
    const next = new StatCache(cacheFile);
    next.recordPatchHash("a.patch", st, sha1("one\n"));
    next.save();
    rmSync(cacheFile);
    const after = new StatCache(cacheFile);
    expect(after.patchHash("a.patch", st)).toBe(sha1("one\n"));
    expect(after.patchHash("old-7.patch", { ...st, ino: st.ino + 8 })).toBeUndefined();
    expect(statSync(join(dir, "queuehashes")).size).toBeLessThan(200);
  });

  it("are an accelerator: a damaged file or a directory in its place gives no answer and no error, and the stat cache still answers", () => {
    const { dir, cacheFile, hashes, st } = recordedPatch("a.patch", "one\n");
    const good = readFileSync(hashes);
    const damaged = [
      good.subarray(0, good.length - 3), // cut short
      Buffer.concat([good.subarray(0, 20), Buffer.from([9, 0, 0, 0]), good.subarray(24)]), // another count
      Buffer.from(good).fill(0x41, 24 + 32, 24 + 32 + 4), // not hex
      Buffer.from("pq stat cache 2\n"),
      Buffer.alloc(0),
    ];
    for (const bytes of damaged) {
      writeFileSync(hashes, bytes);
      utimesSync(hashes, 2_000_000, 2_000_000);
      // The stat cache's entry answers.
      expect(new StatCache(cacheFile).patchHash("a.patch", st)).toBe(sha1("one\n"));
    }
    for (const bytes of damaged) {
      writeFileSync(hashes, bytes);
      utimesSync(hashes, 2_000_000, 2_000_000);
      // No stat cache beside it (the same directory, another file name): no answer at all.
      expect(new StatCache(join(dir, "no-statcache")).patchHash("a.patch", st)).toBeUndefined();
    }
    rmSync(hashes);
    mkdirSync(hashes);
    const blocked = new StatCache(cacheFile);
    expect(blocked.patchHash("a.patch", st)).toBe(sha1("one\n"));
    blocked.recordPatchHash("a.patch", { ...st, size: 99 }, sha1("x"));
    expect(() => blocked.save()).not.toThrow();
    expect(statSync(hashes).isDirectory()).toBe(true);
  });
});

describe("a push over a patch edited in place", () => {
  it("applies the edited text when the edit kept the patch's size and mtime (a run of 20 patches remembered before)", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 20; i++) files[`f${i}.c`] = `line ${i}\n`;
    const repo = makeRepo(files);
    dirs.push(repo);
    expect((await pq(repo, "init")).code).toBe(0);
    for (let i = 0; i < 20; i++) {
      expect((await pq(repo, "new", `p${String(i).padStart(2, "0")}.patch`)).code).toBe(0);
      write(repo, `f${i}.c`, `line ${i} changed\n`);
      expect((await pq(repo, "refresh")).code).toBe(0);
    }
    // The patch's mtime a whole second, which utimes puts back exactly after the edit.
    const file = join(repo, "patches", "p07.patch");
    utimesSync(file, 1_000_000, 1_000_000);
    // Remembered as a run, and the queue's hashes written.
    for (let round = 0; round < 2; round++) {
      expect((await pq(repo, "pop", "-a")).code).toBe(0);
      expect((await pq(repo, "push", "-a")).code).toBe(0);
    }
    expect((await pq(repo, "pop", "-a")).code).toBe(0);
    expect(statSync(join(repo, ".pq", "queuehashes")).isFile()).toBe(true);
    const before = statSync(file);
    const text = readFileSync(file, "latin1");
    // The same length: "changed" becomes "CHANGED".
    writeFileSync(file, text.replace("+line 7 changed", "+line 7 CHANGED"));
    utimesSync(file, 1_000_000, 1_000_000);
    const after = statSync(file);
    expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
    expect((await pq(repo, "push", "-a")).code).toBe(0);
    expect(read(repo, "f7.c")).toBe("line 7 CHANGED\n");
    expect(read(repo, "f8.c")).toBe("line 8 changed\n");
  });
});
