import { linkSync, lstatSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { replaceFile } from "../../src/tree/files.js";
import { execFileSync } from "node:child_process";
import { cleanup, makeRepo, pq, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

describe("replacing a tree file", () => {
  it("creates a new file: a hard link to the old one keeps the old content", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir, "a.c");
    writeFileSync(file, "old\n");
    linkSync(file, join(dir, "elsewhere.c"));
    const inode = statSync(file).ino;
    const stat = replaceFile(file, "new\n", false);
    expect(readFileSync(file, "latin1")).toBe("new\n");
    // The stat it returns (taken before close) is what the stat cache records: it must be the file's.
    expect(stat.size).toBe(4);
    expect(stat.mtimeMs).toBe(statSync(file).mtimeMs);
    expect(stat.mode).toBe(statSync(file).mode);
    expect(readFileSync(join(dir, "elsewhere.c"), "latin1")).toBe("old\n");
    expect(statSync(file).ino).not.toBe(inode);
  });

  it("rewrites a file with one link in place, shorter or longer, and returns its stat", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir, "a.c");
    writeFileSync(file, "a long old line that the new content is shorter than\n");
    const inode = statSync(file).ino;
    for (const content of ["short\n", "x".repeat(70_000) + "\n", ""]) {
      const stat = replaceFile(file, content, false);
      expect(readFileSync(file, "latin1")).toBe(content);
      expect(statSync(file).ino).toBe(inode);
      const st = statSync(file);
      expect(stat).toEqual({ size: content.length, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: st.mode });
    }
    replaceFile(file, new Uint8Array([0, 255, 10]), false);
    expect([...readFileSync(file)]).toEqual([0, 255, 10]);
  });

  it("never writes through a symlink or into a FIFO, and replaces a read-only file or one whose executable bit changes", async () => {
    const dir = tempDir();
    dirs.push(dir);
    writeFileSync(join(dir, "target.txt"), "outside\n");
    symlinkSync(join(dir, "target.txt"), join(dir, "link.c"));
    replaceFile(join(dir, "link.c"), "inside\n", false);
    expect(lstatSync(join(dir, "link.c")).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(dir, "link.c"), "latin1")).toBe("inside\n");
    expect(readFileSync(join(dir, "target.txt"), "latin1")).toBe("outside\n");
    // A FIFO where a file was: replaced, without waiting for a reader.
    execFileSync("mkfifo", [join(dir, "fifo.c")]);
    replaceFile(join(dir, "fifo.c"), "plain\n", false);
    expect(lstatSync(join(dir, "fifo.c")).isFile()).toBe(true);
    expect(readFileSync(join(dir, "fifo.c"), "latin1")).toBe("plain\n");
    const locked = join(dir, "locked.c");
    writeFileSync(locked, "old\n", { mode: 0o444 });
    replaceFile(locked, "new\n", false);
    expect(readFileSync(locked, "latin1")).toBe("new\n");
    const script = join(dir, "run.sh");
    writeFileSync(script, "echo\n");
    replaceFile(script, "echo hi\n", true);
    expect(statSync(script).mode & 0o100).toBe(0o100);
  });

  it("sets the executable bit as asked, creates missing directories and keeps every byte", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const bytes = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join("");
    replaceFile(join(dir, "x", "y", "run.sh"), bytes, true);
    expect(readFileSync(join(dir, "x", "y", "run.sh"), "latin1")).toBe(bytes);
    expect(statSync(join(dir, "x", "y", "run.sh")).mode & 0o100).toBe(0o100);
    replaceFile(join(dir, "x", "y", "run.sh"), "plain\n", false);
    expect(statSync(join(dir, "x", "y", "run.sh")).mode & 0o111).toBe(0);
  });

  it("pq push and pop leave a hard-linked copy of the tree (cp -al) as it was", async () => {
    const tree = makeRepo({ "main.c": "int main(void) { return 0; }\n" });
    const copy = tempDir();
    dirs.push(tree, copy);
    await pq(tree, "init");
    await pq(tree, "new", "exit-one");
    write(tree, "main.c", "int main(void) { return 1; }\n");
    await pq(tree, "refresh");
    expect((await pq(tree, "pop")).code).toBe(0);
    execFileSync("cp", ["-al", `${tree}/.`, copy]);
    expect((await pq(tree, "push")).code).toBe(0);
    expect(readFileSync(join(tree, "main.c"), "latin1")).toBe("int main(void) { return 1; }\n");
    expect(readFileSync(join(copy, "main.c"), "latin1")).toBe("int main(void) { return 0; }\n");
    expect((await pq(tree, "pop")).code).toBe(0);
    expect(readFileSync(join(copy, "main.c"), "latin1")).toBe("int main(void) { return 0; }\n");
  });
});

describe("underRoot", () => {
  it("joins a normal tree path by concatenation and anything else as path.join does", async () => {
    const { underRoot } = await import("../../src/tree/paths.js");
    const { join } = await import("node:path");
    for (const p of ["a.c", "src/x.c", ".git/x", "a/.hidden", "src/..x", "a//b", "./a", "a/./b", "a/../b", "a/", ".."])
      expect(underRoot("/t/tree", p)).toBe(join("/t/tree", p));
  });
});
