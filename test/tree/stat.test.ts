import { closeSync, linkSync, lstatSync, mkdirSync, openSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fstatStamp, isDirectory, isRegular, isSymlink, stampOfStats, statStamp, throughBinding } from "../../src/tree/stat.js";
import { cleanup, tempDir } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

/** What the call threw, or null. */
function thrown(fn: () => unknown): { code?: string } | null {
  try {
    fn();
    return null;
  } catch (e) {
    return e as { code?: string };
  }
}

describe("stat stamps", () => {
  it("come through Node's fs binding on the Node pq is built for (its check against statSync passed)", () => {
    // The speed this module is for (see stat.ts); another Node may fall back to statSync, which the tests below also cover.
    if (process.versions.node.startsWith("20.")) expect(throughBinding()).toBe(true);
  });

  it("are Node's statSync and lstatSync numbers, for every kind of file, times with fractions of a millisecond included", () => {
    const dir = tempDir();
    dirs.push(dir);
    writeFileSync(join(dir, "a.c"), "int a;\n");
    // A time with nanoseconds: the milliseconds must be the very doubles Node computes.
    utimesSync(join(dir, "a.c"), 1_700_000_000.123456, 1_700_000_000.987654);
    mkdirSync(join(dir, "sub"));
    symlinkSync("a.c", join(dir, "link"));
    symlinkSync("nowhere", join(dir, "dangling"));
    for (const name of ["a.c", "sub", "link", "dangling", "missing"]) {
      const full = join(dir, name);
      const st = statSync(full, { throwIfNoEntry: false });
      const lst = lstatSync(full, { throwIfNoEntry: false });
      expect(statStamp(full), name).toEqual(st ? stampOfStats(st) : null);
      expect(statStamp(full, false), name).toEqual(lst ? stampOfStats(lst) : null);
    }
    expect(isRegular(statStamp(join(dir, "a.c"))!)).toBe(true);
    expect(isDirectory(statStamp(join(dir, "sub"))!)).toBe(true);
    expect(isSymlink(statStamp(join(dir, "link"), false)!)).toBe(true);
    expect(isRegular(statStamp(join(dir, "link"))!)).toBe(true);
  });

  it("refuse what Node refuses, with Node's error: a file as a directory, a name with NUL", () => {
    const dir = tempDir();
    dirs.push(dir);
    writeFileSync(join(dir, "a.c"), "int a;\n");
    const under = join(dir, "a.c", "b.c");
    expect(thrown(() => statStamp(under))?.code).toBe("ENOTDIR");
    expect(thrown(() => statStamp(under))?.code).toBe(thrown(() => statSync(under, { throwIfNoEntry: false }))?.code);
    expect(thrown(() => statStamp(under, false))?.code).toBe("ENOTDIR");
    // Node refuses a NUL in a path; the system call would stop at it and stat a.c.
    expect(thrown(() => statStamp(`${join(dir, "a.c")}\0x`))?.code).toBe("ERR_INVALID_ARG_VALUE");
  });

  it("of an open file carry its link count", () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir, "a.c");
    writeFileSync(file, "int a;\n");
    const fd = openSync(file, "r");
    try {
      expect(fstatStamp(fd)).toEqual({ ...stampOfStats(statSync(file)), nlink: 1 });
      linkSync(file, join(dir, "b.c"));
      expect(fstatStamp(fd).nlink).toBe(2);
    } finally {
      closeSync(fd);
    }
    expect(thrown(() => fstatStamp(fd))?.code).toBe("EBADF");
  });
});
