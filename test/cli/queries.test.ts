import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeRepo, pq, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

const lines = (n: number, tag = "line") => Array.from({ length: n }, (_, i) => `${tag} ${i + 1}\n`).join("");

async function threePatches(): Promise<string> {
  const dir = makeRepo({ "a.c": lines(30, "a"), "b.c": lines(30, "b") });
  dirs.push(dir);
  await pq(dir, "init");
  await pq(dir, "new", "one", "-m", "First\n\nTouches a.c twice.");
  write(dir, "a.c", lines(30, "a").replace("a 2\n", "a two\nextra\n").replace("a 20\n", ""));
  await pq(dir, "refresh");
  await pq(dir, "new", "two", "-m", "Second");
  write(dir, "b.c", lines(30, "b").replace("b 5\n", "b five\n"));
  write(dir, "new.txt", "fresh\n");
  await pq(dir, "refresh", "b.c", "new.txt");
  await pq(dir, "new", "three", "-m", "Third");
  write(dir, "a.c", lines(30, "a").replace("a 2\n", "a two\nextra\n").replace("a 20\n", "").replace("a 29\n", "a 29!\n"));
  await pq(dir, "refresh");
  await pq(dir, "pop");
  return dir;
}

describe("queries", () => {
  it("pq top, next and prev say why they have no name, as hg's qtop/qnext/qprev do", async () => {
    const dir = await threePatches();
    await pq(dir, "pop", "-a");
    expect(await pq(dir, "top")).toMatchObject({ code: 12, err: "pq: no patches applied\n  pq series -v shows where the stack is\n" });
    expect(await pq(dir, "prev")).toMatchObject({ code: 12, err: "pq: no patches applied\n  pq series -v shows where the stack is\n" });
    await pq(dir, "push");
    expect(await pq(dir, "prev")).toMatchObject({ code: 12, err: "pq: only one patch applied\n  pq series -v shows where the stack is\n" });
    await pq(dir, "push", "-a");
    expect(await pq(dir, "next")).toMatchObject({ code: 12, err: "pq: all patches applied\n  pq series -v shows where the stack is\n" });
    expect(JSON.parse((await pq(dir, "next", "--json")).out)).toEqual({ name: null });
    await pq(dir, "pop");
    await pq(dir, "guard", "three", "+xen");
    expect(await pq(dir, "next")).toMatchObject({
      code: 12,
      err: "pq: no pushable patch (the rest are guarded off)\n  pq series -v shows where the stack is\n",
    });
  });

  it("pq files lists a patch's files with +/- counts (top by default)", async () => {
    const dir = await threePatches();
    expect((await pq(dir, "files")).out).toBe("+1 -1    b.c\n+1 -0    new.txt\n");
    const one = await pq(dir, "files", "one", "--json");
    expect(JSON.parse(one.out)).toEqual([{ path: "a.c", added: 2, removed: 2, binary: false }]);
    // Unapplied patches are read from their file.
    expect(JSON.parse((await pq(dir, "files", "3", "--json")).out)).toEqual([{ path: "a.c", added: 1, removed: 1, binary: false }]);
    expect((await pq(dir, "files", "nope")).code).toBe(3);
  });

  it("pq patches FILE lists applied and unapplied patches touching it, in series order", async () => {
    const dir = await threePatches();
    expect((await pq(dir, "patches", "a.c")).out).toBe("A one  +2 -2\nU three  +1 -1\n");
    expect((await pq(dir, "patches", "./new.txt")).out).toBe("A two  +1 -0\n");
    const none = await pq(dir, "patches", "zzz");
    expect(none.out).toBe("");
    expect(none.err).toContain("no patch in the series touches zzz");
  });

  it("pq show prints header and diff, coloured only when asked or on a terminal", async () => {
    const dir = await threePatches();
    const plain = await pq(dir, "show", "one");
    expect(plain.out).toContain("Subject: First");
    expect(plain.out).toContain("Touches a.c twice.");
    expect(plain.out).toContain("diff --git a/a.c b/a.c");
    expect(plain.out).toContain("+a two\n");
    expect(plain.out).not.toContain("\x1b[");
    const coloured = await pq(dir, "show", "one", "--color");
    expect(coloured.out).toContain("\x1b[32m+a two\x1b[m");
    expect(coloured.out).toContain("\x1b[31m-a 20\x1b[m");
    expect(coloured.out).toMatch(/\x1b\[36m@@ -1,\d+ \+1,\d+ @@\x1b\[m/);
    expect((await pq(dir, "show")).out).toContain("Subject: Second");
  });
});
