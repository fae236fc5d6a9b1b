import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeRepo, pq, write } from "../helpers/repo.js";

/**
 * procmail's Debian series names its patches 00..31. A name is looked up as a name before its
 * digits are taken as a position (as hg does), and an operation that hands a resolved name
 * on (goto to push or pop, delete to the series edit) must not resolve it a second time.
 */
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(cleanup));

async function digitSeries(): Promise<string> {
  const files = Object.fromEntries([0, 1, 2, 3, 4].map((i) => [`f${i}`, `line ${i}\n`]));
  const tree = makeRepo(files);
  dirs.push(tree);
  await pq(tree, "init");
  for (const i of [0, 1, 2, 3, 4]) {
    await pq(tree, "new", `0${i}`);
    write(tree, `f${i}`, `line ${i}\nchanged by 0${i}\n`);
    await pq(tree, "refresh");
  }
  await pq(tree, "pop", "-a");
  return tree;
}

const lines = async (tree: string, ...args: string[]) => (await pq(tree, ...args)).out.trim().split("\n").filter(Boolean);

describe("patches named by digits", () => {
  it("a number is a position, a patch's own name is its name; each command acts on the patch it names", async () => {
    const tree = await digitSeries();
    // Position 3 is 02; the name 03 is the fourth patch.
    expect((await pq(tree, "goto", "3")).code).toBe(0);
    expect(await lines(tree, "applied")).toEqual(["00", "01", "02"]);
    expect((await pq(tree, "goto", "03")).code).toBe(0);
    expect(await lines(tree, "top")).toEqual(["03"]);
    // 0 is still "nothing applied".
    expect((await pq(tree, "goto", "0")).code).toBe(0);
    expect(await lines(tree, "applied")).toEqual([]);
    const del = await pq(tree, "delete", "5");
    expect(del.out).toContain("deleted 04");
    expect(await lines(tree, "series")).toEqual(["00", "01", "02", "03"]);
    expect((await pq(tree, "rename", "4", "four")).out).toContain("renamed 03 to four");
    expect(await lines(tree, "series")).toEqual(["00", "01", "02", "four"]);
    expect((await pq(tree, "guard", "02", "+x")).out).toContain("02: +x");
    expect((await pq(tree, "goto", "2")).code).toBe(0);
    expect((await pq(tree, "fold", "4")).out).toContain("folded four into 01");
    expect(await lines(tree, "series")).toEqual(["00", "01", "02"]);
  });

  it("a patch called 0 is a name for goto and pop", async () => {
    const tree = makeRepo({ "a.txt": "a\n" });
    dirs.push(tree);
    await pq(tree, "init");
    await pq(tree, "new", "0");
    write(tree, "a.txt", "b\n");
    await pq(tree, "refresh");
    await pq(tree, "new", "1");
    expect((await pq(tree, "goto", "0")).out).toContain("now at: 0");
    // Pop to 0: the patch called 0 stays the top (pop -a empties the stack).
    expect((await pq(tree, "pop", "0")).code).toBe(0);
    expect(await lines(tree, "applied")).toEqual(["0"]);
  });
});

describe("names typed in part", () => {
  it("a unique prefix names a patch for goto, but delete and finish take whole names, as hg's qdelete (t129 N5); an applied patch's delete names the pop that works (t129 N9)", async () => {
    const tree = makeRepo({ a: "a\n", b: "b\n" });
    dirs.push(tree);
    await pq(tree, "init");
    for (const [name, file] of [
      ["fix", "a"],
      ["fix-locking", "b"],
    ]) {
      await pq(tree, "new", name);
      write(tree, file, `${file} by ${name}\n`);
      await pq(tree, "refresh");
    }
    // Applied, the delete names the way that takes it off: pq pop fix would leave fix applied.
    const applied = await pq(tree, "delete", "fix");
    expect([applied.code, applied.err]).toEqual([12, expect.stringContaining("pq pop -a, then pq delete fix")]);
    const upper = await pq(tree, "delete", "fix-locking");
    expect(upper.err).toContain("pq goto fix, then pq delete fix-locking");
    // Several: the lowest applied one decides the pop, and the delete names them all (t131 N8).
    const both = await pq(tree, "delete", "fix-locking", "fix");
    expect(both.err).toContain("fix-locking, fix are applied");
    expect(both.err).toContain("pq pop -a, then pq delete fix-locking fix");
    await pq(tree, "pop", "-a");
    expect((await pq(tree, "delete", "fix")).code).toBe(0);
    const again = await pq(tree, "delete", "fix");
    expect([again.code, again.err]).toEqual([
      3,
      expect.stringContaining("fix-locking starts with it: this command takes a patch's whole name"),
    ]);
    expect(await lines(tree, "series")).toEqual(["fix-locking"]);
    expect((await pq(tree, "goto", "fix")).code).toBe(0); // a prefix, for goto
    const finish = await pq(tree, "finish", "fix");
    expect(finish.code).toBe(3);
    expect(await lines(tree, "applied")).toEqual(["fix-locking"]);
  });
});
