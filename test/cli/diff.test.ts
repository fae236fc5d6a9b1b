import { afterEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { cleanup, makeRepo, pq, read, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(cleanup));
const numbered = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}\n`).join("");

describe("pq diff", () => {
  it("-z shows only what changed since the last refresh (quilt diff -z), and FILES narrow it", async () => {
    const tree = makeRepo({ "a.c": numbered(30), "src/b.c": numbered(30) });
    dirs.push(tree);
    await pq(tree, "init");
    await pq(tree, "new", "low.patch");
    write(tree, "src/b.c", read(tree, "src/b.c").replace("3\n", "three\n"));
    await pq(tree, "refresh");
    await pq(tree, "new", "top.patch");
    write(tree, "a.c", read(tree, "a.c").replace("5\n", "five\n"));
    await pq(tree, "refresh");
    // Since the refresh: a.c again (the top patch's file) and src/b.c (a lower patch's).
    write(tree, "a.c", read(tree, "a.c").replace("25\n", "twenty-five\n"));
    write(tree, "src/b.c", read(tree, "src/b.c").replace("20\n", "twenty\n"));

    const z = await pq(tree, "diff", "-z");
    expect(z.code, z.err).toBe(0);
    expect(z.out).toContain("+twenty-five\n");
    expect(z.out).toContain("+twenty\n");
    // Against what the patches left: neither patch's own change is in it.
    expect(z.out).not.toContain("+five\n");
    expect(z.out).not.toContain("+three\n");
    expect(z.out).toMatch(/^--- a\/src\/b\.c$/m);

    // The whole refresh-to-be, and one file of it, named from a subdirectory as quilt takes it.
    const all = await pq(tree, "diff");
    expect(all.out).toContain("+five\n");
    expect(all.out).toContain("+twenty-five\n");
    const one = await pq(join(tree, "src"), "diff", "-z", "b.c");
    expect(one.out).toContain("+twenty\n");
    expect(one.out).not.toContain("a.c");

    // After a refresh there is nothing since it.
    await pq(tree, "refresh");
    expect((await pq(tree, "diff", "-z")).out).toBe("");
  });
});
