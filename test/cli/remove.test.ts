import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeRepo, pq, read, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(cleanup));
const numbered = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}\n`).join("");

describe("pq remove (quilt remove)", () => {
  it("takes files out of the top patch, back as they were below it; the rest of the patch and its unrefreshed edits stay", async () => {
    const tree = makeRepo({ "a.c": numbered(30), "b.c": numbered(30) });
    dirs.push(tree);
    await pq(tree, "init");
    await pq(tree, "new", "low.patch");
    write(tree, "a.c", read(tree, "a.c").replace("2\n", "two\n"));
    await pq(tree, "refresh");
    const belowTop = read(tree, "a.c");
    await pq(tree, "new", "top.patch", "-m", "Top: two files");
    write(tree, "a.c", read(tree, "a.c").replace("10\n", "ten\n"));
    write(tree, "b.c", read(tree, "b.c").replace("10\n", "ten\n"));
    write(tree, "new.c", "new\n");
    await pq(tree, "refresh", "new.c");
    const refreshedB = read(tree, "b.c");
    write(tree, "b.c", refreshedB.replace("20\n", "twenty\n"));
    const editedB = read(tree, "b.c");

    const r = await pq(tree, "remove", "a.c", "new.c");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe("removed a.c, new.c from top.patch\n");
    expect(read(tree, "a.c")).toBe(belowTop);
    expect(() => read(tree, "new.c")).toThrow();
    expect(read(tree, "b.c")).toBe(editedB);
    const patch = read(tree, "patches/top.patch");
    expect(patch).toContain("Subject: Top: two files");
    expect(patch).not.toContain("a.c");
    expect(patch).not.toContain("new.c");
    expect(patch).toContain("+ten\n");
    expect(patch).not.toContain("twenty");
    expect((await pq(tree, "status")).out).toContain("unrefreshed changes: b.c");
    expect((await pq(tree, "files")).out).toMatch(/^\+1 -1 +b\.c\n$/);

    // A file the top patch does not change is refused; undo puts the removed files back.
    const not = await pq(tree, "remove", "b.c", "a.c");
    expect(not.code).toBe(3);
    expect(not.err).toContain("a.c is not in top.patch");
    expect((await pq(tree, "undo")).code).toBe(0);
    expect(read(tree, "new.c")).toBe("new\n");
    expect(read(tree, "patches/top.patch")).toContain("a/a.c");
    // The rewritten patch pops and pushes like any other.
    await pq(tree, "remove", "a.c");
    await pq(tree, "refresh");
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    expect([read(tree, "a.c"), read(tree, "b.c")]).toEqual([numbered(30), numbered(30)]);
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect([read(tree, "a.c"), read(tree, "b.c")]).toEqual([belowTop, editedB]);
  });
});
