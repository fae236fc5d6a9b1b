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
