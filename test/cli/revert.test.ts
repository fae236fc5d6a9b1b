import { afterEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { cleanup, makeRepo, pq, read, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(cleanup));
const numbered = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}\n`).join("");

describe("pq revert (quilt revert)", () => {
  it("puts files back as the applied patches left them, and pq undo brings the changes back", async () => {
    const tree = makeRepo({ "a.c": numbered(30), "src/b.c": numbered(30), "c.c": "c\n" });
    dirs.push(tree);
    await pq(tree, "init");
    await pq(tree, "new", "low.patch");
    write(tree, "src/b.c", read(tree, "src/b.c").replace("3\n", "three\n"));
    await pq(tree, "refresh");
    await pq(tree, "new", "top.patch");
    write(tree, "a.c", read(tree, "a.c").replace("5\n", "five\n"));
    write(tree, "new.c", "new\n");
    await pq(tree, "refresh", "new.c");
    const refreshed = { a: read(tree, "a.c"), b: read(tree, "src/b.c"), n: read(tree, "new.c") };
    // Unrefreshed: the top patch's files, a lower patch's file, a file no patch touches, a deleted new file.
    write(tree, "a.c", refreshed.a.replace("25\n", "twenty-five\n"));
    write(tree, "src/b.c", refreshed.b.replace("20\n", "twenty\n"));
    write(tree, "c.c", "c changed\n");
    cleanup(join(tree, "new.c"));
    const edited = { a: read(tree, "a.c"), b: read(tree, "src/b.c") };

    const r = await pq(join(tree, "src"), "revert", "../a.c", "b.c", "../c.c", "../new.c");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe("reverted a.c, src/b.c, c.c, new.c (pq undo brings the changes back)\n");
    expect([read(tree, "a.c"), read(tree, "src/b.c"), read(tree, "c.c"), read(tree, "new.c")]).toEqual([
      refreshed.a,
      refreshed.b,
      "c\n",
      refreshed.n,
    ]);
    expect((await pq(tree, "status")).out).not.toContain("unrefreshed");
    expect((await pq(tree, "revert", "a.c")).out).toBe("nothing to revert: no unrefreshed changes in those files\n");

    expect((await pq(tree, "undo")).code).toBe(0);
    expect([read(tree, "a.c"), read(tree, "src/b.c"), read(tree, "c.c"), existsSync(join(tree, "new.c"))]).toEqual([
      edited.a,
      edited.b,
      "c changed\n",
      false,
    ]);

    // A file nothing could put back is refused, and nothing is changed.
    write(tree, "stray.c", "stray\n");
    const stray = await pq(tree, "revert", "a.c", "stray.c");
    expect(stray.code).toBe(3);
    expect(stray.err).toContain("stray.c is in no applied patch and not in git's HEAD");
    expect(read(tree, "a.c")).toBe(edited.a);
  });
});
