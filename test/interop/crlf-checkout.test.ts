/**
 * Checkouts whose files git converts: `eol=crlf` in .gitattributes or core.autocrlf, where
 * a file holds CRLF lines and its blob LF ones. pq works on the file's bytes, as quilt does,
 * and asks git for HEAD's files as a checkout writes them and stores commits as `git add`
 * would: a refresh is the line changed, a pop leaves git status clean, finish commits LF.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, git, makeRepo, pq, read, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

/** A repository committed with LF files and checked out again under `convert` (attributes or config). */
function convertingCheckout(convert: "attributes" | "autocrlf"): string {
  const dir = makeRepo({
    "f.txt": "a\nb\nc\n",
    "g.txt": "x\ny\n",
    ...(convert === "attributes" ? { ".gitattributes": "*.txt text eol=crlf\n" } : {}),
  });
  dirs.push(dir);
  if (convert === "autocrlf") git(dir, "config", "core.autocrlf", "true");
  for (const f of ["f.txt", "g.txt"]) rmSync(join(dir, f));
  git(dir, "checkout", "--", "f.txt", "g.txt");
  write(dir, ".git/info/exclude", "patches/\n");
  expect(read(dir, "f.txt")).toBe("a\r\nb\r\nc\r\n");
  return dir;
}

describe.each(["attributes", "autocrlf"] as const)("a checkout git converts to CRLF (%s)", (convert) => {
  it("refresh records only the changed line, pop leaves nothing modified, finish commits what git add would", async () => {
    const dir = convertingCheckout(convert);
    expect((await pq(dir, "init")).code).toBe(0);
    expect((await pq(dir, "new", "p1")).code).toBe(0);
    write(dir, "f.txt", "a\r\nB\r\nc\r\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    const patch = read(dir, "patches/p1");
    expect(patch).toContain("@@ -1,3 +1,3 @@\n a\r\n-b\r\n+B\r\n c\r\n");
    expect((await pq(dir, "pop")).code).toBe(0);
    expect(read(dir, "f.txt")).toBe("a\r\nb\r\nc\r\n");
    expect(git(dir, "status", "--porcelain", "--untracked-files=no")).toBe("");
    expect((await pq(dir, "push")).code).toBe(0);
    expect((await pq(dir, "finish", "-a")).code).toBe(0);
    expect(git(dir, "show", "HEAD:f.txt")).toBe("a\nB\nc\n");
    expect(git(dir, "status", "--porcelain", "--untracked-files=no")).toBe("");
  });

  it("the patch's content staged with git add goes from the index with the pop, as in an LF checkout (t115 N9)", async () => {
    const dir = convertingCheckout(convert);
    expect((await pq(dir, "init")).code).toBe(0);
    await pq(dir, "new", "p1");
    write(dir, "f.txt", "a\r\nB\r\nc\r\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    git(dir, "add", "f.txt");
    expect((await pq(dir, "pop")).code).toBe(0);
    expect(git(dir, "status", "--porcelain", "--untracked-files=no")).toBe("");
  });

  it("the patches committed by hand: the way out names the commit below them (t115 N10)", async () => {
    const dir = convertingCheckout(convert);
    expect((await pq(dir, "init")).code).toBe(0);
    const base = git(dir, "rev-parse", "HEAD").trim();
    await pq(dir, "new", "p1");
    write(dir, "f.txt", "a\r\nB\r\nc\r\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    git(dir, "commit", "-qam", "by hand");
    expect((await pq(dir, "status")).out).toContain(`git reset ${base.slice(0, 12)} (a mixed reset to the commit below them`);
  });

  it("a clone pushes and pops an imported CRLF patch without calling the checkout's files edits", async () => {
    const dir = convertingCheckout(convert);
    const queue = tempDir("pq-crlf-queue-");
    dirs.push(queue);
    write(queue, "series", "g.patch\n");
    write(queue, "g.patch", "Subject: g\n\n--- a/g.txt\n+++ b/g.txt\n@@ -1,2 +1,2 @@\n x\r\n-y\r\n+Y\r\n");
    expect((await pq(dir, "init")).code).toBe(0);
    expect((await pq(dir, "import", "--quilt", queue)).code).toBe(0);
    const pushed = await pq(dir, "push");
    expect(pushed.err).toBe("");
    expect(pushed.code).toBe(0);
    expect(read(dir, "g.txt")).toBe("x\r\nY\r\n");
    expect((await pq(dir, "pop")).code).toBe(0);
    expect(git(dir, "status", "--porcelain", "--untracked-files=no")).toBe("");
  });

  it("a rebase writes the new upstream's files as a checkout would", async () => {
    const dir = convertingCheckout(convert);
    git(dir, "checkout", "-q", "-b", "upstream");
    write(dir, "g.txt", "x\r\ny\r\nz\r\n");
    git(dir, "commit", "-q", "-am", "upstream: z");
    git(dir, "checkout", "-q", "main");
    expect((await pq(dir, "init")).code).toBe(0);
    expect((await pq(dir, "new", "p1")).code).toBe(0);
    write(dir, "f.txt", "a\r\nB\r\nc\r\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    const rebased = await pq(dir, "rebase", "upstream");
    expect(rebased.err).toBe("");
    expect(read(dir, "g.txt")).toBe("x\r\ny\r\nz\r\n");
    expect((await pq(dir, "pop")).code).toBe(0);
    expect(git(dir, "status", "--porcelain", "--untracked-files=no")).toBe("");
  });
});

describe("core.autocrlf from the user's global git config (GIT_CONFIG_GLOBAL), right after a clone (collab-8 C12)", () => {
  it("refresh takes the line changed, not every file the checkout converted", async () => {
    const base = makeRepo({ "f.txt": "a\nb\nc\n", "g.txt": "x\ny\n", ".gitattributes": "*.bin binary\n" });
    dirs.push(base);
    const home = tempDir("pq-gitconfig-");
    dirs.push(home);
    write(home, "gitconfig", "[core]\n\tautocrlf = true\n");
    const was = process.env.GIT_CONFIG_GLOBAL;
    process.env.GIT_CONFIG_GLOBAL = join(home, "gitconfig");
    try {
      const clone = join(home, "clone");
      git(home, "clone", "-q", base, clone);
      expect(read(clone, "g.txt")).toBe("x\r\ny\r\n");
      expect((await pq(clone, "init")).code).toBe(0);
      expect((await pq(clone, "new", "p1")).code).toBe(0);
      write(clone, "f.txt", "a\r\nB\r\nc\r\n");
      const r = await pq(clone, "refresh");
      expect(r.out).toContain("refreshed p1: f.txt\n");
    } finally {
      if (was === undefined) delete process.env.GIT_CONFIG_GLOBAL;
      else process.env.GIT_CONFIG_GLOBAL = was;
    }
  });
});

describe("conversion rules that changed since the tree's checkout (t113 N8, N11)", () => {
  /** A repository with f.txt (LF) checked out with no conversion, and a pq stack. */
  async function lfCheckout(files: Record<string, string> = { "f.txt": "a\nb\nc\n" }): Promise<string> {
    const dir = makeRepo(files);
    dirs.push(dir);
    write(dir, ".git/info/exclude", "patches/\n");
    expect((await pq(dir, "init")).code).toBe(0);
    return dir;
  }

  it("core.autocrlf set after an LF checkout: the refresh is the line changed, and pop gives the LF file back", async () => {
    const dir = await lfCheckout();
    git(dir, "config", "core.autocrlf", "true");
    await pq(dir, "new", "p");
    write(dir, "f.txt", "a\nB\nc\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    expect(read(dir, "patches/p")).toContain("@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
    expect((await pq(dir, "pop")).code).toBe(0);
    expect(read(dir, "f.txt")).toBe("a\nb\nc\n");
    expect(git(dir, "status", "--porcelain", "--untracked-files=no")).toBe("");
  });

  it("an eol=crlf attribute a lower patch brings in: the next patch's edit is its line, and pop -a gives the file back", async () => {
    const dir = await lfCheckout();
    await pq(dir, "new", "attrs");
    write(dir, ".gitattributes", "*.txt text eol=crlf\n");
    expect((await pq(dir, "refresh", ".gitattributes")).code).toBe(0);
    await pq(dir, "new", "edit");
    write(dir, "f.txt", "a\nB\nc\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    expect(read(dir, "patches/edit")).toContain("@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
    expect((await pq(dir, "pop", "-a")).code).toBe(0);
    expect(read(dir, "f.txt")).toBe("a\nb\nc\n");
    expect(git(dir, "status", "--porcelain", "--untracked-files=no")).toBe("");
  });

  it("an ident attribute the patch brings in: no $Id$ line the user never had", async () => {
    const dir = await lfCheckout({ "f.c": "/* $Id$ */\nint a;\n" });
    await pq(dir, "new", "p");
    write(dir, ".gitattributes", "*.c ident\n");
    write(dir, "f.c", "/* $Id$ */\nint a;\nint b;\n");
    expect((await pq(dir, "refresh", ".gitattributes", "f.c")).code).toBe(0);
    expect(read(dir, "patches/p")).toContain("@@ -1,2 +1,3 @@\n /* $Id$ */\n int a;\n+int b;\n");
    expect((await pq(dir, "pop")).code).toBe(0);
    expect(read(dir, "f.c")).toBe("/* $Id$ */\nint a;\n");
  });
});
