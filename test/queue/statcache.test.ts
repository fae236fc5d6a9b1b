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
    cache.record("a.c", st.size, st.mtimeMs, version);
    cache.save();
    // Saved now, long after the file's time: trusted, in this process and the next.
    expect(cache.lookup("a.c", st.size, st.mtimeMs)).toBe(version);
    expect(new StatCache(cacheFile).lookup("a.c", st.size, st.mtimeMs)).toBe(version);
    // The cache written in the same tick as the file: the file may have changed after pq
    // recorded it without its size or mtime changing, so it is not trusted.
    utimesSync(cacheFile, 1_000_000, 1_000_000);
    expect(new StatCache(cacheFile).lookup("a.c", st.size, st.mtimeMs)).toBeUndefined();
    utimesSync(cacheFile, 999_999, 999_999);
    expect(new StatCache(cacheFile).lookup("a.c", st.size, st.mtimeMs)).toBeUndefined();
    // One tick later it is.
    utimesSync(cacheFile, 1_000_000.004, 1_000_000.004);
    expect(new StatCache(cacheFile).lookup("a.c", st.size, st.mtimeMs)).toBe(version);
    // A different size or mtime is never trusted.
    expect(new StatCache(cacheFile).lookup("a.c", st.size + 1, st.mtimeMs)).toBeUndefined();
    expect(new StatCache(cacheFile).lookup("a.c", st.size, st.mtimeMs + 1)).toBeUndefined();
  });

  it("reads an old cache file (with its savedAt field) and a missing or damaged one as empty", () => {
    const dir = tempDir();
    dirs.push(dir);
    const cacheFile = join(dir, "statcache.json");
    expect(new StatCache(cacheFile).lookup("a.c", 4, 1)).toBeUndefined();
    writeFileSync(cacheFile, JSON.stringify({ savedAt: 5_000_000_000_000, entries: { "a.c": [4, 1000, "v"] } }));
    utimesSync(cacheFile, 2, 2);
    expect(new StatCache(cacheFile).lookup("a.c", 4, 1000)).toBe("v");
    writeFileSync(cacheFile, "{ not json");
    expect(new StatCache(cacheFile).lookup("a.c", 4, 1000)).toBeUndefined();
  });
});
