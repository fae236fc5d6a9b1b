/**
 * A file HEAD has as 100755: its executable bit is part of the version pq takes from HEAD, so
 * taking it away is a change (t34 F3: `pq status` did not list a `chmod -x`, and `pq refresh`
 * left it out of the patch), and a content change keeps the mode.
 */
import { chmodSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, git, makeRepo, pq, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

/** A repository whose HEAD has `tool` as an executable file, and a stack with one new patch p1. */
async function executableInHead(): Promise<string> {
  const dir = makeRepo({ "a.txt": "a\n" });
  dirs.push(dir);
  write(dir, "tool", "echo tool\n");
  chmodSync(join(dir, "tool"), 0o755);
  git(dir, "add", "tool");
  git(dir, "commit", "-qm", "an executable");
  expect((await pq(dir, "init")).code).toBe(0);
  expect((await pq(dir, "new", "p1")).code).toBe(0);
  return dir;
}

const executable = (dir: string) => (statSync(join(dir, "tool")).mode & 0o111) !== 0;

describe("the executable bit of a file HEAD has", () => {
  it("taken away is an unrefreshed change, goes into the patch, and comes back with a pop", async () => {
    const dir = await executableInHead();
    chmodSync(join(dir, "tool"), 0o644);
    expect((await pq(dir, "status")).out).toMatch(/unrefreshed changes: tool/);
    expect((await pq(dir, "refresh")).code).toBe(0);
    expect(readFileSync(join(dir, "patches", "p1"), "utf8")).toMatch(/^diff --git a\/tool b\/tool\nold mode 100755\nnew mode 100644$/m);
    expect((await pq(dir, "pop")).code).toBe(0);
    expect(executable(dir)).toBe(true);
    expect((await pq(dir, "push")).code).toBe(0);
    expect(executable(dir)).toBe(false);
  });

  it("stays with a content change: no mode lines, and git applies the patch to HEAD", async () => {
    const dir = await executableInHead();
    write(dir, "tool", "echo tool, changed\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    const patch = readFileSync(join(dir, "patches", "p1"), "utf8");
    expect(patch).not.toMatch(/mode 100/);
    expect(patch).toMatch(/^index [0-9a-f]+\.\.[0-9a-f]+ 100755$/m);
    expect((await pq(dir, "pop")).code).toBe(0);
    git(dir, "apply", "--check", join(dir, "patches", "p1"));
    expect(executable(dir)).toBe(true);
  });
});

describe("a patch's mode change over a file whose mode was set by hand (t44 N8)", () => {
  /** A stack whose only patch, unapplied, makes `tool` (HEAD: 100755) not executable; with `lower`, a patch below it changes tool's text. */
  async function modePatchUnapplied(lower: boolean): Promise<string> {
    const dir = await executableInHead();
    if (lower) {
      write(dir, "tool", "echo tool, changed\n");
      expect((await pq(dir, "refresh")).code).toBe(0);
      expect((await pq(dir, "new", "m")).code).toBe(0);
    }
    chmodSync(join(dir, "tool"), 0o644);
    expect((await pq(dir, "refresh")).code).toBe(0);
    expect((await pq(dir, "pop")).code).toBe(0);
    return dir;
  }

  it.each([false, true])("is refused as an unrefreshed edit, as a content edit is (a patch below it: %s), and pushes once the mode is back", async (lower) => {
    const dir = await modePatchUnapplied(lower);
    const top = lower ? "m" : "p1";
    // The hand chmod makes the patch's change already: the push had recorded the file as only
    // read, and status then called the patch's own mode change unrefreshed.
    chmodSync(join(dir, "tool"), 0o644);
    for (const args of [["push", "--dry-run"], ["push"]]) {
      const refused = await pq(dir, ...args);
      expect(refused.code).toBe(5);
      expect(refused.err).toContain(`unrefreshed changes in tool, which ${top} also changes`);
    }
    expect((await pq(dir, "status")).out).not.toMatch(new RegExp(`top: ${top}`));
    chmodSync(join(dir, "tool"), 0o755);
    expect((await pq(dir, "push")).code).toBe(0);
    expect(executable(dir)).toBe(false);
    expect((await pq(dir, "status")).out).not.toMatch(/unrefreshed/);
    expect((await pq(dir, "pop")).code).toBe(0);
    expect(executable(dir)).toBe(true);
  });
});

describe("a repository whose git does not trust executable bits (core.fileMode false)", () => {
  /**
   * HEAD with `tool` executable and `a.txt` not; git told not to trust the file system's bits,
   * which then say the opposite of HEAD (a Windows drive under WSL shows every file as 777).
   */
  async function untrustedBits(): Promise<string> {
    const dir = await executableInHead();
    git(dir, "config", "core.fileMode", "false");
    chmodSync(join(dir, "a.txt"), 0o777);
    chmodSync(join(dir, "tool"), 0o644);
    expect(git(dir, "status", "--porcelain", "--untracked-files=no")).toBe("");
    return dir;
  }

  it("takes no mode from the file system: status, refresh, pop and push see only the edits", async () => {
    const dir = await untrustedBits();
    // pq took the file system's bits: every touched file became a mode change git would never write.
    expect((await pq(dir, "status")).out).not.toMatch(/unrefreshed/);
    write(dir, "a.txt", "a, edited\n");
    write(dir, "tool", "echo tool, edited\n");
    chmodSync(join(dir, "a.txt"), 0o777);
    chmodSync(join(dir, "tool"), 0o644);
    expect((await pq(dir, "refresh")).code).toBe(0);
    const patch = readFileSync(join(dir, "patches", "p1"), "utf8");
    expect(patch).not.toMatch(/mode 100/);
    expect(patch).toMatch(/^index [0-9a-f]+\.\.[0-9a-f]+ 100644\n--- a\/a.txt$/m);
    expect(patch).toMatch(/^index [0-9a-f]+\.\.[0-9a-f]+ 100755\n--- a\/tool$/m);
    expect((await pq(dir, "pop")).code).toBe(0);
    expect(git(dir, "status", "--porcelain", "--untracked-files=no")).toBe("");
    expect((await pq(dir, "push")).code).toBe(0);
    expect((await pq(dir, "status")).out).not.toMatch(/unrefreshed/);
    expect((await pq(dir, "refresh")).out).toMatch(/unchanged/);
  });

  it("takes a chmod staged with git update-index --chmod (git's way there) into the patch as a mode change", async () => {
    const dir = await untrustedBits();
    chmodSync(join(dir, "a.txt"), 0o644);
    git(dir, "update-index", "--chmod=+x", "a.txt");
    expect((await pq(dir, "status")).out).toMatch(/unrefreshed changes: a.txt/);
    // `pq refresh a.txt` had unstaged the bit and written a patch without it (t47 U3c).
    expect((await pq(dir, "refresh", "a.txt")).code).toBe(0);
    expect(readFileSync(join(dir, "patches", "p1"), "utf8")).toMatch(/^diff --git a\/a.txt b\/a.txt\nold mode 100644\nnew mode 100755$/m);
    expect((await pq(dir, "status")).out).not.toMatch(/unrefreshed/);
    expect((await pq(dir, "pop")).code).toBe(0);
    git(dir, "apply", "--check", join(dir, "patches", "p1"));
    expect((await pq(dir, "push")).code).toBe(0);
    expect((await pq(dir, "status")).out).not.toMatch(/unrefreshed/);
  });

  it("unstages a chmod staged with an edit besides once the patch has both (t50 N1: it went into the next commit)", async () => {
    const dir = await untrustedBits();
    git(dir, "update-index", "--chmod=+x", "a.txt");
    write(dir, "a.txt", "a, edited\n");
    chmodSync(join(dir, "a.txt"), 0o644);
    expect((await pq(dir, "refresh")).code).toBe(0);
    const patch = readFileSync(join(dir, "patches", "p1"), "utf8");
    expect(patch).toMatch(/^diff --git a\/a.txt b\/a.txt\nold mode 100644\nnew mode 100755$/m);
    expect(patch).toContain("+a, edited");
    expect(git(dir, "diff", "--cached", "--name-only")).toBe("");
    expect((await pq(dir, "pop")).code).toBe(0);
    expect(git(dir, "status", "--porcelain", "--untracked-files=no")).toBe("");
    expect((await pq(dir, "push")).code).toBe(0);
  });
});

describe("a chmod of a file no applied patch changes, under a push that changes it (t72 N2)", () => {
  it("is refused as an edit since HEAD is, instead of riding along in the pushed patch's base", async () => {
    const dir = makeRepo({ "f.sh": "one\n" });
    dirs.push(dir);
    expect((await pq(dir, "init")).code).toBe(0);
    expect((await pq(dir, "new", "p1")).code).toBe(0);
    write(dir, "f.sh", "two\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    expect((await pq(dir, "pop")).code).toBe(0);
    chmodSync(join(dir, "f.sh"), 0o755);
    const r = await pq(dir, "push");
    expect([r.code, r.err]).toEqual([5, expect.stringContaining("f.sh, which p1 changes, has another mode than in git's HEAD (a chmod)")]);
    expect(readFileSync(join(dir, "f.sh"), "utf8")).toBe("one\n");
    chmodSync(join(dir, "f.sh"), 0o644);
    expect((await pq(dir, "push")).code).toBe(0);
    expect(statSync(join(dir, "f.sh")).mode & 0o111).toBe(0);
  });
});
