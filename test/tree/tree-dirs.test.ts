import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TreeDirs } from "../../src/tree/tree-dirs.js";
import { cleanup, tempDir } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

function tree(): string {
  const dir = tempDir("pq-tree-dirs-");
  dirs.push(dir);
  mkdirSync(join(dir, "sub/deeper"), { recursive: true });
  writeFileSync(join(dir, "sub/deeper/f.txt"), "inside\n");
  return dir;
}

describe("TreeDirs: the tree's directories entered and checked before pq writes in them", () => {
  it("gives names relative to the file's own directory, and puts the process's directory back", () => {
    const root = tree();
    const home = process.cwd();
    const dirs = new TreeDirs(root);
    const name = dirs.enter("sub/deeper/f.txt", false);
    expect(name).toBe("f.txt");
    expect(readFileSync(name, "utf8")).toBe("inside\n");
    // A new directory is made for a write, not for a removal.
    expect(dirs.enter("new/dir/g.txt", false)).toBe(join(root, "new/dir/g.txt"));
    expect(process.cwd()).toBe(home);
    expect(dirs.enter("new/dir/g.txt", true)).toBe("g.txt");
    writeFileSync("g.txt", "made\n");
    dirs.leave();
    expect(process.cwd()).toBe(home);
    expect(readFileSync(join(root, "new/dir/g.txt"), "utf8")).toBe("made\n");
  });

  it("refuses a directory swapped for a symlink to outside the tree, naming the link, and is back home", () => {
    const root = tree();
    const outside = tempDir("pq-tree-dirs-outside-");
    dirs.push(outside, `${root}-moved`);
    mkdirSync(join(outside, "deeper"));
    writeFileSync(join(outside, "deeper/f.txt"), "outside\n");
    const home = process.cwd();
    const dirs2 = new TreeDirs(root);
    expect(dirs2.enter("sub/deeper/f.txt", true)).toBe("f.txt");
    dirs2.leave();
    renameSync(join(root, "sub"), `${root}-moved`);
    symlinkSync(outside, join(root, "sub"));
    expect(() => dirs2.enter("sub/deeper/f.txt", true)).toThrow(/sub\/deeper\/f\.txt was not written: it goes through the symlink sub/);
    expect(process.cwd()).toBe(home);
    // Once in, a swap made afterwards leads nowhere: names still resolve in the directory entered.
    unlinkSync(join(root, "sub"));
    renameSync(`${root}-moved`, join(root, "sub"));
    const name = dirs2.enter("sub/deeper/f.txt", true);
    renameSync(join(root, "sub"), `${root}-moved`);
    symlinkSync(outside, join(root, "sub"));
    writeFileSync(name, "written\n");
    dirs2.leave();
    expect(readFileSync(join(outside, "deeper/f.txt"), "utf8")).toBe("outside\n");
    expect(readFileSync(join(`${root}-moved`, "deeper/f.txt"), "utf8")).toBe("written\n");
  });

  it("makes a missing directory one level at a time in its checked parent: a symlink swapped in above leads no mkdir outside", () => {
    const root = tree();
    const outside = tempDir("pq-tree-dirs-outside-");
    dirs.push(outside, `${root}-moved`);
    const home = process.cwd();
    const treeDirs = new TreeDirs(root);
    renameSync(join(root, "sub"), `${root}-moved`);
    symlinkSync(outside, join(root, "sub"));
    expect(() => treeDirs.enter("sub/new/deep/n.txt", true)).toThrow(
      /sub\/new\/deep\/n\.txt was not written: it goes through the symlink sub/,
    );
    expect(process.cwd()).toBe(home);
    // By its full path (mkdir -p), sub/new/deep had been made inside the directory the link leads to.
    expect(readdirSync(outside)).toEqual([]);
    // Back as it was, the same write makes them in the tree.
    unlinkSync(join(root, "sub"));
    renameSync(`${root}-moved`, join(root, "sub"));
    expect(treeDirs.enter("sub/new/deep/n.txt", true)).toBe("n.txt");
    writeFileSync("n.txt", "made\n");
    treeDirs.leave();
    expect(readFileSync(join(root, "sub/new/deep/n.txt"), "utf8")).toBe("made\n");
  });

  it("names a system error's file by its path in the tree", () => {
    const root = tree();
    const dirs = new TreeDirs(root);
    const name = dirs.enter("sub/deeper/nothing.txt", false);
    let error: unknown;
    try {
      readFileSync(name);
    } catch (e) {
      error = dirs.named(e, "sub/deeper/nothing.txt");
    } finally {
      dirs.leave();
    }
    expect((error as NodeJS.ErrnoException).path).toBe(join(root, "sub/deeper/nothing.txt"));
    expect((error as Error).message).toContain(`'${join(root, "sub/deeper/nothing.txt")}'`);
  });

  it("refuses when the tree's own directory was moved away, replaced by another or by a symlink, and makes nothing at its old path (t37 N4, N7)", () => {
    for (const how of ["moved", "replaced", "symlink"] as const) {
      const root = tree();
      const moved = `${root}-moved`;
      dirs.push(moved);
      const guard = new TreeDirs(root);
      expect(guard.enter("sub/deeper/f.txt", true)).toBe("f.txt");
      guard.leave();
      renameSync(root, moved);
      if (how === "replaced") mkdirSync(join(root, "sub/deeper"), { recursive: true });
      if (how === "symlink") symlinkSync(moved, root);
      expect(() => guard.enter("sub/deeper/g.txt", true), how).toThrow(
        `the tree's directory ${root} was moved or replaced while pq was writing`,
      );
      expect(() => guard.enter("top.txt", true), how).toThrow("was moved or replaced");
      if (how === "moved") expect(existsSync(root)).toBe(false);
      if (how === "replaced") expect(readdirSync(join(root, "sub/deeper"))).toEqual([]);
      rmSync(root, { recursive: true, force: true });
    }
  });
});
