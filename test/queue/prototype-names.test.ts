/**
 * Files named like Object.prototype's members (`toString`, `constructor`, `__proto__`) are
 * files like any other (t24 F1, F2): pq's maps from paths had Object.prototype, so a change to
 * such a file went unrecorded (pop left it in the tree), refresh and diff ended in an internal
 * error, and a copy from such a file was reused after its source changed.
 */
import { cpSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, git, makeRepo, pq, read, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(cleanup));

const NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty"];

describe("files named like Object.prototype's members", () => {
  it("are refreshed, shown, popped and pushed like any file", async () => {
    const dir = makeRepo(Object.fromEntries([...NAMES, "other"].map((n) => [n, `${n} 1\n`])));
    dirs.push(dir);
    expect((await pq(dir, "init")).code).toBe(0);
    expect((await pq(dir, "new", "x")).code).toBe(0);
    for (const n of NAMES) write(dir, n, `${n} 1\n${n} 2\n`);
    const refreshed = await pq(dir, "refresh");
    expect([refreshed.code, refreshed.err]).toEqual([0, ""]);
    expect(Object.keys(JSON.parse(read(dir, ".pq/state.json")).applied[0].files).sort()).toEqual([...NAMES].sort());
    const diff = await pq(dir, "diff");
    expect(diff.code).toBe(0);
    for (const n of NAMES) expect(diff.out).toContain(`+${n} 2\n`);
    expect((await pq(dir, "pop")).code).toBe(0);
    for (const n of NAMES) expect(read(dir, n)).toBe(`${n} 1\n`);
    expect((await pq(dir, "push")).code).toBe(0);
    for (const n of NAMES) expect(read(dir, n)).toBe(`${n} 1\n${n} 2\n`);
  });

  it("as a copy's source, are read again by a remembered push when they changed", async () => {
    const files: Record<string, string> = { toString: "orig\n" };
    for (let i = 1; i <= 17; i++) files[`f${i}`] = "l1\nl2\nl3\n";
    const dir = makeRepo(files);
    dirs.push(dir);
    expect((await pq(dir, "init")).code).toBe(0);
    const series = ["c1"];
    write(dir, "patches/c1", "Subject: copy\n\n---\ndiff --git a/toString b/copy1\nsimilarity index 100%\ncopy from toString\ncopy to copy1\n");
    for (let i = 1; i <= 17; i++) {
      write(dir, `patches/p${i}`, `Subject: p${i}\n\n---\ndiff --git a/f${i} b/f${i}\n--- a/f${i}\n+++ b/f${i}\n@@ -1,3 +1,4 @@\n l1\n l2\n l3\n+y\n`);
      series.push(`p${i}`);
    }
    write(dir, "patches/series", `${series.join("\n")}\n`);
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect(read(dir, "copy1")).toBe("orig\n");
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    write(dir, "toString", "changed\n");
    git(dir, "commit", "-qam", "toString changed");
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect(read(dir, "copy1")).toBe("changed\n");
  });
});

describe("pq range-diff of two queue directories", () => {
  it("compares a patch named __proto__ as any other (t25 F3)", async () => {
    const dir = makeRepo({ a: "a\n", b: "b\n" });
    dirs.push(dir);
    expect((await pq(dir, "init")).code).toBe(0);
    expect((await pq(dir, "new", "__proto__", "-m", "one")).code).toBe(0);
    write(dir, "a", "a\nA\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    const before = `${dir}-before`;
    dirs.push(before);
    cpSync(join(dir, "patches"), before, { recursive: true });
    write(dir, "b", "b\nD\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    const r = await pq(dir, "range-diff", before, "patches");
    expect(r.code).toBe(0);
    expect(r.out).not.toContain("1: __proto__ = 1: __proto__");
    expect(r.out).toContain("+D");
  });
});
