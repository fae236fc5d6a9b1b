import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PqError } from "../../src/errors.js";
import { applyFilePatch, parsePatch, type FilePatch, type Hunk } from "../../src/patch/index.js";
import { cleanup, tempDir } from "../helpers/repo.js";

/**
 * Context diffs are read as GNU patch reads them: GNU diff writes them (every context width,
 * function headings, created and deleted files, a last line without a newline) from random
 * pairs of files, and pq must read each back as the diff of that pair: applied to the old
 * file, it gives the new one, and its hunks are the ones `diff -u` writes for the same pair.
 */
const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));

/** A small deterministic generator (mulberry32): the same pairs on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pair(rand: () => number): [string | null, string | null] {
  const n = Math.floor(rand() * 30);
  const old = Array.from({ length: n }, (_, i) => (rand() < 0.1 ? "\n" : `line ${i} ${rand() < 0.2 ? "int f(void)" : "x"}\n`));
  const next = [...old];
  for (let k = Math.floor(rand() * 5); k >= 0; k--) {
    const at = Math.floor(rand() * (next.length + 1));
    const r = rand();
    if (r < 0.35) next.splice(at, 0, `added ${k}\n`);
    else if (r < 0.65) next.splice(at, 1);
    else next.splice(at, 1, `changed ${k}\n`, ...(rand() < 0.5 ? [`and more ${k}\n`] : []));
  }
  const text = (lines: string[], cut: boolean) => {
    const t = lines.join("");
    return cut && t.endsWith("\n") ? t.slice(0, -1) : t;
  };
  const oldText = rand() < 0.08 ? null : text(old, rand() < 0.15);
  const newText = rand() < 0.08 ? null : text(next, rand() < 0.15);
  return [oldText, newText];
}

/** GNU diff of the trees a/ and b/ under dir (every pair at once: one process per format). */
function gnuDiff(dir: string, flags: string[]): string {
  const r = spawnSync("diff", [...flags, "-r", "-N", "a", "b"], { cwd: dir, encoding: "latin1", maxBuffer: 1 << 26 });
  expect(r.status, r.stderr).toBe(1);
  return r.stdout;
}

describe("context diffs (diff -c), read as GNU patch reads them", () => {
  it("every context width, headings, new and deleted files, no newline at the end: the same change as diff -u", () => {
    const rand = random(20261203);
    const dir = tempDir("pq-context-");
    dirs.push(dir);
    mkdirSync(join(dir, "a"));
    mkdirSync(join(dir, "b"));
    const pairs = new Map<string, [string | null, string | null]>();
    for (let k = 0; k < 300; k++) {
      const [oldText, newText] = pair(rand);
      // diff -N sees no difference between an empty file and a missing one.
      if ((oldText ?? "") === (newText ?? "")) continue;
      const name = `f${k}.c`;
      pairs.set(name, [oldText, newText]);
      if (oldText !== null) writeFileSync(join(dir, "a", name), oldText, "latin1");
      if (newText !== null) writeFileSync(join(dir, "b", name), newText, "latin1");
    }
    const nameOf = (fp: FilePatch) => (fp.newPath ?? fp.oldPath)!;
    let compared = 0;
    for (const flags of [["-c"], ["-C0"], ["-C1"], ["-c", "-p"], ["-C5"]]) {
      const context = parsePatch(gnuDiff(dir, flags)).files;
      const unified = new Map(
        parsePatch(gnuDiff(dir, ["-U" + (flags[0] === "-c" ? "3" : flags[0].slice(2))])).files.map((fp) => [nameOf(fp), fp]),
      );
      expect(context.length).toBe(pairs.size);
      for (const fp of context) {
        const [oldText, newText] = pairs.get(nameOf(fp))!;
        const label = `${nameOf(fp)}, diff ${flags.join(" ")}: ${JSON.stringify([oldText, newText])}`;
        expect(fp.kind, label).toBe(oldText === null ? "create" : newText === null ? "delete" : "modify");
        const applied = applyFilePatch(oldText, fp);
        expect(applied.ok, label).toBe(true);
        expect(applied.content, label).toBe(newText);
        // The same hunks as the unified diff of the same pair (headings aside: -p is context only).
        const strip = (h: Hunk) => ({ ...h, section: "" });
        expect(fp.hunks.map(strip), label).toEqual(unified.get(nameOf(fp))!.hunks.map(strip));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it("a plain diff whose one hunk adds to nothing creates the missing file, as GNU patch does", () => {
    const dir = tempDir("pq-creates-");
    dirs.push(dir);
    const text =
      "--- a/brandnew.c\t2026-12-01 10:00:00.000000000 +0000\n+++ b/brandnew.c\t2026-12-01 10:00:00.000000000 +0000\n@@ -0,0 +1,2 @@\n+int a;\n+int b;\n";
    writeFileSync(join(dir, "p.diff"), text);
    expect(spawnSync("patch", ["-p1", "-i", "p.diff"], { cwd: dir }).status).toBe(0);
    const fp = parsePatch(text).files[0];
    expect(applyFilePatch(null, fp)).toMatchObject({ ok: true, content: readFileSync(join(dir, "brandnew.c"), "latin1") });
    // A hunk with old lines still needs its file.
    expect(applyFilePatch(null, parsePatch(text.replace("@@ -0,0 +1,2 @@\n", "@@ -1 +1,2 @@\n-x\n")).files[0]).ok).toBe(false);
  });

  it("a hunk whose counts do not match its lines is refused by where it is", () => {
    const broken = "*** a/f.c\n--- b/f.c\n***************\n*** 1,4 ****\n  one\n! two\n--- 1,4 ----\n  one\n! TWO\n";
    expect(() => parsePatch(broken)).toThrow(PqError);
    expect(() => parsePatch(broken)).toThrow(
      /context diff hunk at line 3 is malformed: \*\*\* 1,4 \*\*\*\* announces 4 old lines, 2 are there/,
    );
  });
});
