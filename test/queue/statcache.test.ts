/**
 * The stat cache trusts a recorded (size, mtime) only below the cache file's own mtime
 * (git's racy rule, on the file system's clock): a file changed again in the same tick as
 * pq's write must be read, not trusted.
 */
import { statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StatCache } from "../../src/queue/caches.js";
import { makeVersion } from "../../src/queue/state.js";
import { sha1 } from "../../src/tree/files.js";
import { cleanup, tempDir } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

describe("the stat cache's racy rule", () => {
  it("trusts an entry older than the cache file, not one from the same tick or later", () => {
    const dir = tempDir();
    dirs.push(dir);
    const cacheFile = join(dir, "statcache.json");
    const file = join(dir, "a.c");
    writeFileSync(file, "one\n");
    utimesSync(file, 1_000_000, 1_000_000);
    const st = statSync(file);
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
    // A different size or mtime is never trusted.
    expect(new StatCache(cacheFile).lookup("a.c", { ...st, size: st.size + 1 })).toBeUndefined();
    expect(new StatCache(cacheFile).lookup("a.c", { ...st, mtimeMs: st.mtimeMs + 1 })).toBeUndefined();
  });

  it("reads a missing or damaged cache as empty, and an entry without ctime and inode (pq before December 3) as a miss", () => {
    const dir = tempDir();
    dirs.push(dir);
    const cacheFile = join(dir, "statcache.json");
    const stamp = { size: 4, mtimeMs: 1000, ctimeMs: 1000, ino: 7 };
    expect(new StatCache(cacheFile).lookup("a.c", stamp)).toBeUndefined();
    writeFileSync(cacheFile, JSON.stringify({ savedAt: 5_000_000_000_000, entries: { "a.c": [4, 1000, "v"], "b.c": [4, 1000, "w", 1000, 7] } }));
    utimesSync(cacheFile, 2, 2);
    expect(new StatCache(cacheFile).lookup("a.c", stamp)).toBeUndefined();
    expect(new StatCache(cacheFile).lookup("b.c", stamp)).toBe("w");
    writeFileSync(cacheFile, "{ not json");
    expect(new StatCache(cacheFile).lookup("b.c", stamp)).toBeUndefined();
  });

  it("misses an edit that puts the old size and mtime back (cp -p, rsync -a, touch -r): its ctime and inode changed (stack-3 #1)", () => {
    const dir = tempDir();
    dirs.push(dir);
    const cacheFile = join(dir, "statcache.json");
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
});
