import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, git, makeRepo, pq, read, write } from "../helpers/repo.js";

/** quilt's commands on the top patch's files: diff -z, revert and remove. */
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(cleanup));
const numbered = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}\n`).join("");

/**
 * Two refreshed patches: low.patch changes src/b.c (line 3), top.patch changes a.c (line 5)
 * and src/b.c (line 10) and creates new.c. c.c is in no patch.
 */
async function twoPatches(): Promise<string> {
  const tree = makeRepo({ "a.c": numbered(30), "src/b.c": numbered(30), "c.c": "c\n" });
  dirs.push(tree);
  await pq(tree, "init");
  await pq(tree, "new", "low.patch");
  write(tree, "src/b.c", read(tree, "src/b.c").replace("3\n", "three\n"));
  await pq(tree, "refresh");
  await pq(tree, "new", "top.patch", "-m", "Top: three files");
  write(tree, "a.c", read(tree, "a.c").replace("5\n", "five\n"));
  write(tree, "src/b.c", read(tree, "src/b.c").replace("10\n", "ten\n"));
  write(tree, "new.c", "new\n");
  await pq(tree, "add", "new.c");
  await pq(tree, "refresh");
  return tree;
}

describe("pq diff", () => {
  it("-z shows only what changed since the last refresh (quilt diff -z), and FILES narrow it", async () => {
    const tree = await twoPatches();
    write(tree, "a.c", read(tree, "a.c").replace("25\n", "twenty-five\n"));
    write(tree, "src/b.c", read(tree, "src/b.c").replace("20\n", "twenty\n"));

    const z = await pq(tree, "diff", "-z");
    expect(z.code, z.err).toBe(0);
    expect(z.out).toContain("+twenty-five\n");
    expect(z.out).toContain("+twenty\n");
    // Against what the patches left: neither patch's own changes are in it.
    for (const own of ["+five\n", "+three\n", "+ten\n", "+new\n"]) expect(z.out).not.toContain(own);
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

describe("pq refresh FILES", () => {
  it("takes the named files' changes alone, as hg's qrefresh FILES and git commit FILES do: the patch keeps its other files as last refreshed", async () => {
    const tree = await twoPatches();
    const before = read(tree, "patches/top.patch");
    write(tree, "a.c", read(tree, "a.c").replace("25\n", "twenty-five\n"));
    write(tree, "src/b.c", read(tree, "src/b.c").replace("20\n", "twenty\n"));
    write(tree, "c.c", "c, edited\n");
    write(tree, "made.c", "made\n");
    git(tree, "add", "c.c");
    const r = await pq(tree, "refresh", "a.c", "made.c", "--json");
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({
      name: "top.patch",
      files: ["a.c", "made.c", "new.c", "src/b.c"],
      notTaken: ["c.c", "src/b.c"],
    });
    const patch = read(tree, "patches/top.patch");
    for (const line of ["+five\n", "+twenty-five\n", "+made\n", "+ten\n", "+new\n"]) expect(patch).toContain(line);
    expect(patch).not.toContain("+twenty\n");
    expect(patch).not.toContain("c, edited");
    // A change staged in a file left out stays staged (a taken file's staged change is unstaged with the refresh).
    expect(git(tree, "diff", "--cached", "--name-only")).toBe("c.c\n");
    // The edits left out are still unrefreshed, and a refresh without FILES takes them.
    const z = await pq(tree, "diff", "-z");
    expect(z.out).toContain("+twenty\n");
    expect(z.out).toContain("+c, edited\n");
    expect(z.out).not.toContain("+twenty-five\n");
    // One transaction: undo gives the patch back, the tree keeps every edit.
    expect((await pq(tree, "undo")).code).toBe(0);
    expect(read(tree, "patches/top.patch")).toBe(before);
    expect(read(tree, "c.c")).toBe("c, edited\n");
    expect((await pq(tree, "redo")).code).toBe(0);
    expect(read(tree, "patches/top.patch")).toBe(patch);
    expect((await pq(tree, "refresh")).code).toBe(0);
    expect(read(tree, "patches/top.patch")).toContain("+c, edited\n");
  });

  it("takes a file moved with git mv as a rename when either name is named", async () => {
    const tree = await twoPatches();
    git(tree, "mv", "c.c", "d.c");
    write(tree, "a.c", read(tree, "a.c").replace("25\n", "twenty-five\n"));
    const r = await pq(tree, "refresh", "d.c");
    expect(r.code, r.err).toBe(0);
    const patch = read(tree, "patches/top.patch");
    expect(patch).toContain("rename from c.c\nrename to d.c\n");
    expect(patch).not.toContain("+twenty-five\n");
    // a.c's edit is still unrefreshed: pop refuses over it (exit 5).
    expect((await pq(tree, "pop")).code).toBe(5);
  });
});

/** p1 (s and b) pushed with `mode` over a commit that changed s under it: the push stops (exit 6) with s to resolve. */
async function pushedOverMovedBase(mode: string): Promise<string> {
  const tree = makeRepo({ s: "l1\nl2\nl3\n", b: "b\n" });
  dirs.push(tree);
  await pq(tree, "init");
  await pq(tree, "new", "p1", "-m", "p1");
  write(tree, "s", "l1\nP1\nl3\n");
  write(tree, "b", "b\ny\n");
  await pq(tree, "refresh");
  await pq(tree, "pop");
  write(tree, "s", "l1\nBASE\nl3\n");
  git(tree, "commit", "-qam", "base moves under p1");
  expect((await pq(tree, "push", mode)).code, mode).toBe(6);
  return tree;
}

describe("pq refresh FILES after a push that left a file to resolve (t125 N1, N2)", () => {
  it("takes the resolved file with the named ones, after push --merge and after push --force alike", async () => {
    for (const mode of ["--merge", "--force"]) {
      const tree = await pushedOverMovedBase(mode);
      // Resolved by hand (the .rej applied and deleted), then a refresh of another file.
      write(tree, "s", "l1\nP1\nl3\n");
      rmSync(join(tree, "s.rej"), { force: true });
      write(tree, "b", "b\ny\nz\n");
      const r = await pq(tree, "refresh", "b");
      expect(r.code, `${mode}: ${r.err}`).toBe(0);
      const patch = read(tree, "patches/p1");
      expect(patch, mode).toContain("-BASE\n+P1\n");
      expect(patch, mode).toContain("+z\n");
      expect(patch, mode).not.toContain("<<<<<<<");
    }
  });

  it("says it took the file a push --force left to resolve, where its .rej went unapplied (t126 N3)", async () => {
    const tree = await pushedOverMovedBase("--force");
    rmSync(join(tree, "s.rej"));
    write(tree, "b", "b\ny\nz\n");
    const r = await pq(tree, "refresh", "b");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(
      "taken as the tree has it too, as the push left it to resolve (a hunk not in the tree is no longer in the patch; pq undo brings it back): s",
    );
  });
});

describe("pq revert (quilt revert)", () => {
  it("puts files back as the applied patches left them, and pq undo brings the changes back", async () => {
    const tree = await twoPatches();
    const refreshed = { a: read(tree, "a.c"), b: read(tree, "src/b.c"), n: read(tree, "new.c") };
    // Unrefreshed: the top patch's files, a file no patch touches, a deleted new file.
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
    const unsafe = await pq(tree, "revert", ".pq/state.json");
    expect(unsafe.code).toBe(7);
    expect(unsafe.err).toContain("name a file of the working tree, outside .git, .pq, .pc and the queue directory");
  });
});

describe("pq remove (quilt remove)", () => {
  it("takes files out of the top patch, back as they were below it; the rest of the patch and its unrefreshed edits stay", async () => {
    const tree = await twoPatches();
    await pq(tree, "pop");
    const belowTop = read(tree, "src/b.c");
    await pq(tree, "push");
    write(tree, "a.c", read(tree, "a.c").replace("20\n", "twenty\n"));
    const editedA = read(tree, "a.c");

    const r = await pq(tree, "remove", "src/b.c", "new.c");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe("removed src/b.c, new.c from top.patch\n");
    expect(read(tree, "src/b.c")).toBe(belowTop);
    expect(existsSync(join(tree, "new.c"))).toBe(false);
    expect(read(tree, "a.c")).toBe(editedA);
    const patch = read(tree, "patches/top.patch");
    expect(patch).toContain("Subject: Top: three files");
    expect(patch).not.toContain("b.c");
    expect(patch).not.toContain("new.c");
    expect(patch).toContain("+five\n");
    expect(patch).not.toContain("twenty");
    expect((await pq(tree, "status")).out).toContain("unrefreshed changes: a.c");
    expect((await pq(tree, "files")).out).toMatch(/^\+1 -1 +a\.c\n$/);

    // A file the top patch does not change is refused; undo puts the removed files back.
    const not = await pq(tree, "remove", "a.c", "c.c");
    expect(not.code).toBe(3);
    expect(not.err).toContain("c.c is not in top.patch");
    expect((await pq(tree, "undo")).code).toBe(0);
    expect(read(tree, "new.c")).toBe("new\n");
    expect(read(tree, "patches/top.patch")).toContain("a/src/b.c");
    // The rewritten patch pops and pushes like any other.
    await pq(tree, "remove", "src/b.c");
    await pq(tree, "refresh");
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    expect([read(tree, "a.c"), read(tree, "src/b.c")]).toEqual([numbered(30), numbered(30)]);
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect([read(tree, "a.c"), read(tree, "src/b.c")]).toEqual([editedA, belowTop]);
  });
});
