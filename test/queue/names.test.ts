import { readdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PqError } from "../../src/errors.js";
import { clashingName, flattenName, resolveName, validatePatchName } from "../../src/queue/names.js";
import { Series } from "../../src/queue/series.js";
import { cleanup, makeRepo, pq, read, tempDir, write } from "../helpers/repo.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof PqError) return e.code;
    throw e;
  }
  return undefined;
}

describe("patch names", () => {
  it("accepts names with directories, as quilt series use them", () => {
    for (const name of ["fix.patch", "bugfix/x86/fix-timer.patch", "features/all/new-driver.diff", "debian/series-fix.patch", "a/series", "0001-x.patch", "-x.patch", "a,b=c@d%e~f+g.patch", `d/${"x".repeat(200)}`, "héllo.patch"]) {
      expect(codeOf(() => validatePatchName(name)), name).toBeUndefined();
    }
  });

  it("refuses names that would leave the queue directory as unsafe-path", () => {
    for (const name of ["../x.patch", "/abs.patch", "a/../../x", "a/..", "..", "a\\b.patch", "C:/x.patch", "a\0b"]) {
      expect(codeOf(() => validatePatchName(name)), JSON.stringify(name)).toBe("unsafe-path");
    }
    // Components a file system takes for .git, as git's core.protectNTFS and protectHFS refuse them (t145 N17).
    for (const name of ["git~1/config.patch", "a/GIT~1/x.patch", "\u200c.git/x.patch"]) {
      expect(codeOf(() => validatePatchName(name)), JSON.stringify(name)).not.toBeUndefined();
    }
    expect(codeOf(() => validatePatchName("git~1/config.patch"))).toBe("unsafe-path");
    expect(codeOf(() => validatePatchName("x/gi\u200ct/y.patch"))).toBe("usage");
    // Invisible and direction-changing characters make one name look like another (t145 N15).
    for (const name of ["fix\u200b.patch", "fix\u202egnp.patch", "fi\u2060x.patch"]) {
      expect(() => validatePatchName(name), JSON.stringify(name)).toThrow(/invisible or direction-changing character/);
    }
    expect(() => validatePatchName("git~2.patch")).not.toThrow();
    // A colon after one letter is no drive unless a slash follows (verify-11 Z9).
    for (const name of ["x:y.patch", "C:foo.patch"]) expect(() => validatePatchName(name), name).not.toThrow();
  });

  it("refuses a name longer than 1024 bytes, each part of it valid: paths stop at 4096 (t60 N12)", () => {
    const deep = Array.from({ length: 22 }, () => "d".repeat(200)).join("/") + "/x.patch";
    expect(() => validatePatchName(deep)).toThrow(/longer than 1024 bytes/);
    expect(() => validatePatchName(Array.from({ length: 5 }, () => "d".repeat(200)).join("/"))).not.toThrow();
  });

  it("refuses a name with a control character (an escape sequence every terminal listing it would obey: tui-8 T11)", () => {
    for (const name of ["esc\x1b[7mname", "bell\x07name", "del\x7f", "csi\u009b7m"]) {
      expect(() => validatePatchName(name), JSON.stringify(name)).toThrow(/contains a control character/);
      // The refusal itself sends none of them to the terminal (verify-11 Z4).
      expect(() => validatePatchName(name)).toThrow(/^[^\x00-\x1f\x7f-\x9f]*$/);
    }
  });

  it("refuses empty components, dot names, spaces, '#' and the queue's own files as usage errors", () => {
    for (const name of ["", "a//b", "a/", "./x.patch", ".hidden", "a/.b", ".pq/trash/x", "a b", "x#1", "series", "status", "guards", "series/x.patch", "guards/a/b", "x".repeat(201), `a/${"é".repeat(101)}`, "a\tb"]) {
      expect(codeOf(() => validatePatchName(name)), JSON.stringify(name)).toBe("usage");
    }
  });

  it("finds a patch by exact name, position, name without extension, unique prefix or unique last component", () => {
    const names = ["bugfix/x86/timer.patch", "bugfix/arm/timer.patch", "features/all/driver.diff", "debian/version.patch"];
    expect(resolveName(names, "features/all/driver.diff")).toBe("features/all/driver.diff");
    expect(resolveName(names, 2)).toBe("bugfix/arm/timer.patch");
    expect(resolveName(names, "3")).toBe("features/all/driver.diff");
    expect(resolveName(names, "bugfix/x86/timer")).toBe("bugfix/x86/timer.patch");
    expect(resolveName(names, "deb")).toBe("debian/version.patch");
    expect(resolveName(names, "driver")).toBe("features/all/driver.diff");
    expect(resolveName(names, "version.patch")).toBe("debian/version.patch");
    expect(codeOf(() => resolveName(names, "bugfix/"))).toBe("usage"); // two patches start with it
    expect(codeOf(() => resolveName(names, "timer"))).toBe("usage"); // two last components are timer.patch
    expect(codeOf(() => resolveName(names, "5"))).toBe("not-found");
    expect(codeOf(() => resolveName(names, "nothing"))).toBe("not-found");
    // A last component before a prefix, as the README orders them, whole names only or not (t145 N4).
    const debian = ["base.patch", "debian/fix.patch", "fix-other.patch"];
    expect(resolveName(debian, "fix")).toBe("debian/fix.patch");
    expect(resolveName(debian, "fix", undefined, true)).toBe("debian/fix.patch");
    expect(resolveName(debian, "fix-")).toBe("fix-other.patch");
  });

  it("flattens a name into one file name and spots a name that is another's directory", () => {
    expect(flattenName("bugfix/x86/timer.patch")).toBe("bugfix_x86_timer.patch");
    expect(clashingName(["a/b.patch"], "a")).toBe("a/b.patch");
    expect(clashingName(["a"], "a/b.patch")).toBe("a");
    expect(clashingName(["ab.patch"], "a")).toBeUndefined();
  });

  it("keeps a long name in a directory within one file name's bytes: delete, fold and undo of it work (t154 N4)", async () => {
    // Two components within pq's limits (each under 200 bytes, the whole under 1024): flattened, over 255.
    const long = `features-all-${"x".repeat(97)}/${"y".repeat(114)}.patch`;
    const flat = flattenName(long);
    expect(Buffer.byteLength(flat, "utf8")).toBeLessThanOrEqual(160);
    expect(flat).toMatch(/^features-all-x+_y+-[0-9a-f]{12}\.patch$/);
    expect(flattenName(`${long}-other`)).not.toBe(flat);
    // Cut at a character, not inside one.
    expect(flattenName(`${"\u540d".repeat(80)}/a.patch`)).not.toContain("\ufffd");
    const dir = makeRepo({ "f.txt": Array.from({ length: 20 }, (_, i) => `${i + 1}\n`).join("") });
    try {
      await pq(dir, "init");
      expect((await pq(dir, "new", long, "-m", "long name")).code).toBe(0);
      write(dir, "f.txt", read(dir, "f.txt").replace("3\n", "three\n"));
      expect((await pq(dir, "refresh")).code).toBe(0);
      const text = read(join(dir, "patches"), long);
      await pq(dir, "pop");
      const deleted = await pq(dir, "delete", long);
      expect(deleted.code, deleted.err).toBe(0);
      expect((await pq(dir, "status")).code).toBe(0);
      expect((await pq(dir, "undo")).code).toBe(0);
      expect(read(join(dir, "patches"), long)).toBe(text);
      // fold keeps the folded patch's file in the trash too.
      expect((await pq(dir, "new", "base.patch", "-m", "base")).code).toBe(0);
      const folded = await pq(dir, "fold", long);
      expect(folded.code, folded.err).toBe(0);
      expect((await pq(dir, "undo")).code).toBe(0);
      expect(read(join(dir, "patches"), long)).toBe(text);
    } finally {
      cleanup(dir);
    }
  });

  it("refuses a name whose directory is a symlink in the queue directory (it could lead anywhere)", async () => {
    const dir = makeRepo({ "b.txt": "b\n" });
    const outside = tempDir("pq-outside-");
    try {
      expect((await pq(dir, "init")).code).toBe(0);
      symlinkSync(outside, join(dir, "patches", "link"));
      const r = await pq(dir, "new", "link/x.patch");
      expect(r.code).toBe(7);
      expect(r.err).toContain("goes through the symlink link");
      expect(readdirSync(outside)).toEqual([]);
      expect((await pq(dir, "series")).out).toBe("");
    } finally {
      cleanup(dir);
      cleanup(outside);
    }
  });

  it("the series refuses escaping names from a series file and clashing names on insert or rename", () => {
    expect(codeOf(() => Series.parse("ok.patch\n../x.patch\n"))).toBe("unsafe-path");
    expect(() => Series.parse("ok.patch\n/abs.patch\n")).toThrow(/series line 2/);
    // A bad name in the series file is a bad queue file (exit 7), not a usage error (interop-17 F6).
    expect(codeOf(() => Series.parse("a//b\n"))).toBe("bad-patch");
    const s = Series.parse("bugfix/one.patch #+x86\nfeatures/two.patch\n");
    expect(s.entries()[0]).toEqual({ name: "bugfix/one.patch", guards: ["+x86"] });
    expect(codeOf(() => s.insertAfter(null, { name: "bugfix", guards: [] }))).toBe("exists");
    expect(codeOf(() => s.rename("features/two.patch", "bugfix/one.patch/x"))).toBe("exists");
    s.rename("features/two.patch", "bugfix/two.patch");
    expect(s.serialize()).toBe("bugfix/one.patch #+x86\nbugfix/two.patch\n");
  });
});

describe("a patch name typed with bytes that are not UTF-8 (stack-3 #15)", () => {
  it("is refused as a name, not reported as a tree file named after the series", () => {
    expect(() => validatePatchName("bad\ufffd")).toThrow(/not valid UTF-8/);
  });
});

describe("a patch name in another Unicode form than the one typed (t73 N3)", () => {
  it("is found by its letters: stored decomposed, typed composed, and the other way", () => {
    const decomposed = "cafe\u0301-menu.patch";
    expect(resolveName(["a.patch", decomposed], "café-menu.patch")).toBe(decomposed);
    expect(resolveName(["a.patch", decomposed], "café-menu")).toBe(decomposed);
    expect(resolveName(["a.patch", "café.patch"], "cafe\u0301")).toBe("café.patch");
    expect(() => resolveName(["a.patch", decomposed], "cafe-menu")).toThrow(/not in the series/);
  });
});
