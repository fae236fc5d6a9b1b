import { describe, expect, it } from "vitest";
import type { PqError } from "../../src/errors.js";
import { isPushable, Series } from "../../src/queue/series.js";

describe("series file", () => {
  const text = "# the paravirt queue\np1.patch\np2.patch #+xen\n\np3.patch #-native #+vmi  # needs the ROM\n";

  it("parses names and guards and keeps comments on rewrite", () => {
    const s = Series.parse(text);
    expect(s.entries()).toEqual([
      { name: "p1.patch", guards: [] },
      { name: "p2.patch", guards: ["+xen"] },
      { name: "p3.patch", guards: ["-native", "+vmi"] },
    ]);
    // Lines that still say what they said keep their bytes (the two spaces before the comment).
    expect(s.serialize()).toBe(text);
    s.setGuards("p3.patch", ["+vmi"]);
    expect(s.serialize()).toBe("# the paravirt queue\np1.patch\np2.patch #+xen\n\np3.patch #+vmi # needs the ROM\n");
  });

  it("reads bare names (taken at a glance) exactly as the lines around them, and finds one listed twice by its line", () => {
    const text = "a.patch\r\nb.patch\n# note\nbugfix/x86/c.patch -p0 #+xen\nd.patch  # why\ne.patch\n\n";
    const s = Series.parse(text);
    expect(s.entries()).toEqual([
      { name: "a.patch", guards: [] },
      { name: "b.patch", guards: [] },
      { name: "bugfix/x86/c.patch", guards: ["+xen"], strip: 0 },
      { name: "d.patch", guards: [] },
      { name: "e.patch", guards: [] },
    ]);
    expect(s.serialize()).toBe(text);
    s.rename("e.patch", "f.patch");
    expect(s.serialize()).toBe(text.replace("e.patch", "f.patch"));
    expect(() => Series.parse("x.patch\ny.patch\nx.patch\n")).toThrow("series line 3: x.patch is listed twice");
    // Names that are not plain still get the whole check.
    expect(() => Series.parse("ok.patch\n../up.patch\n")).toThrow(/series line 2: .*'\.\.'/);
    expect(() => Series.parse("ok.patch\nseries\n")).toThrow(/series line 2/);
  });

  it("refuses a '#' inside a name, which quilt reads as part of it and hg mq as a comment, as a bad queue file (interop-17 F6)", () => {
    for (const text of ["ok.patch\nfix-bug#123.patch\n", "ok.patch\nfix-bug#+xen\n", "ok.patch\n  fix-bug#1.patch -p1 #+xen\n"]) {
      const refusal = (() => {
        try {
          Series.parse(text);
        } catch (e) {
          return e as PqError;
        }
      })();
      expect(refusal?.code).toBe("bad-patch");
      expect(refusal?.message).toMatch(/^series line 2: the patch name "fix-bug#[^"]*" holds a '#'/);
    }
    // After a space it is a comment or a guard, as before.
    expect(Series.parse("fix-bug.patch #123\nx.patch #+xen\n").entries()).toEqual([
      { name: "fix-bug.patch", guards: [] },
      { name: "x.patch", guards: ["+xen"] },
    ]);
    // A name the series may not hold is a bad queue file too (exit 7), not a usage error.
    expect(() => Series.parse("ok.patch\nseries\n")).toThrow(expect.objectContaining({ code: "bad-patch" }));
  });

  it("applies hg mq's guard rules", () => {
    const [p1, p2, p3] = Series.parse(text).entries();
    expect(isPushable(p1, [])).toBe(true);
    expect(isPushable(p2, [])).toBe(false);
    expect(isPushable(p2, ["xen"])).toBe(true);
    expect(isPushable(p3, ["vmi"])).toBe(true);
    expect(isPushable(p3, ["vmi", "native"])).toBe(false);
    // A # then + or - twice is a comment, as hg mq reads it (a guard's name does not start with + or -: t154 N7).
    const [commented] = Series.parse("cxx.patch #++ fixes the C++ build\n").entries();
    expect(commented.guards).toEqual([]);
    expect(isPushable(commented, [])).toBe(true);
    expect(Series.parse("cxx.patch #++ fixes the C++ build\n").serialize()).toBe("cxx.patch #++ fixes the C++ build\n");
  });

  it("inserts, moves, renames and removes", () => {
    const s = Series.parse(text);
    s.insertAfter("p1.patch", { name: "new", guards: [] });
    s.move("p3.patch", null);
    s.rename("p2.patch", "two");
    s.remove("p1.patch");
    expect(s.names()).toEqual(["p3.patch", "new", "two"]);
    expect(() => s.insertAfter(null, { name: "new", guards: [] })).toThrow(/already in the series/);
  });

  it("refuses a name listed twice and quilt options it cannot honour; keeps -pN", () => {
    expect(() => Series.parse("a\na\n")).toThrow(/listed twice/);
    expect(() => Series.parse("a -R\n")).toThrow(/option -R after a/);
    const s = Series.parse("a -p0 #+g\nb -p1\nc\n");
    expect(s.names()).toEqual(["a", "b", "c"]);
    expect(["a", "b", "c"].map((n) => s.stripOf(n))).toEqual([0, 1, 1]);
    expect(s.serialize()).toBe("a -p0 #+g\nb -p1\nc\n");
  });
});

describe("a CR LF series file (ci-7 #13)", () => {
  it("keeps every line's ending; lines pq adds take the file's", () => {
    const s = Series.parse("# comment\r\nsub/one.patch\r\ntwo.patch   \r\nlf.patch\n");
    s.insertAfter("two.patch", { name: "three.patch", guards: [] });
    s.setGuards("lf.patch", ["+xen"]);
    expect(s.serialize()).toBe("# comment\r\nsub/one.patch\r\ntwo.patch   \r\nthree.patch\r\nlf.patch #+xen\n");
    // An LF file stays LF.
    const lf = Series.parse("a.patch\n");
    lf.insertAfter("a.patch", { name: "b.patch", guards: [] });
    expect(lf.serialize()).toBe("a.patch\nb.patch\n");
  });
});

describe("a series a git pull left conflict markers in (t146 N3)", () => {
  it("is refused as a conflict to resolve, not as an option after a name", () => {
    const text = "a.patch\n<<<<<<< HEAD\nmine.patch\n=======\ntheirs.patch\n>>>>>>> 78663ed\n";
    expect(() => Series.fromBytes(text)).toThrow(/series line 2 \(<<<<<<< HEAD\) is a merge's conflict marker/);
  });
});
