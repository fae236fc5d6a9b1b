import { execFileSync } from "node:child_process";
import { afterEach, expect, it } from "vitest";
import { cleanup, git, makeRepo, pq, read, snapshot, write } from "../helpers/repo.js";

let dir = "";
afterEach(() => cleanup(dir));

/** A tree with p1 pushed and then committed by hand: pq pop must refuse (it would revert the commit). */
async function committedByHand(): Promise<string> {
  dir = makeRepo({ "a.txt": "a\nb\n" });
  expect((await pq(dir, "init")).code).toBe(0);
  expect((await pq(dir, "new", "p1")).code).toBe(0);
  write(dir, "a.txt", "a\nb\nc\n");
  expect((await pq(dir, "refresh")).code).toBe(0);
  git(dir, "commit", "-qam", "p1 committed by hand");
  expect((await pq(dir, "pop", "-a")).code).toBe(12);
  return dir;
}

/**
 * A repository git refuses to work in is not a plain directory: pq had taken every refusal of
 * git rev-parse for "no git", and then popped a stack git's HEAD check would have stopped
 * (reverting a commit in the tree) and said finish "needs a git work tree" (t99 N5).
 */
it("a repository git refuses (a format it does not know) is refused as git's failure, and nothing is popped", async () => {
  await committedByHand();
  git(dir, "config", "core.repositoryformatversion", "99");
  const before = snapshot(dir);
  for (const argv of [["pop", "-a"], ["status"], ["finish", "-a"]]) {
    const r = await pq(dir, ...argv);
    expect(r.code, argv.join(" ")).toBe(11);
    expect(r.err).toMatch(/^pq: git rev-parse failed: fatal: .*repo.*version/);
    expect(r.err).toContain("mend what git names");
  }
  expect(snapshot(dir)).toEqual(before);
  expect(read(dir, "a.txt")).toBe("a\nb\nc\n");
});

it.runIf(process.getuid?.() === 0)("a tree another user owns (git's safe.directory refusal) says so and how to trust it", async () => {
  await committedByHand();
  // Owned by a user id that is not root's (none need exist): git refuses it as dubious ownership.
  execFileSync("chown", ["-R", "65534", dir]);
  const r = await pq(dir, "pop", "-a");
  expect(r.code).toBe(11);
  expect(r.err).toContain("dubious ownership");
  expect(r.err).toContain("safe.directory");
  expect(read(dir, "a.txt")).toBe("a\nb\nc\n");
});

it("a linked worktree whose main repository moved is refused with the way to mend it, not taken for a tree without git (t101 N3)", async () => {
  const main = await committedByHand();
  const wt = `${main}-wt`;
  git(main, "worktree", "add", "-q", wt);
  const moved = `${main}-moved`;
  try {
    expect((await pq(wt, "init")).code).toBe(0);
    expect((await pq(wt, "new", "p1")).code).toBe(0);
    write(wt, "a.txt", "a\nb\nw\n");
    expect((await pq(wt, "refresh")).code).toBe(0);
    git(wt, "commit", "-qam", "p1 committed by hand");
    execFileSync("mv", [main, moved]);
    const r = await pq(wt, "pop", "-a");
    expect(r.code).toBe(11);
    expect(r.err).toContain("not a git repository: ");
    expect(r.err).toContain("git worktree repair");
    expect(read(wt, "a.txt")).toBe("a\nb\nw\n");
  } finally {
    execFileSync("rm", ["-rf", wt, moved]);
  }
});
