/**
 * HEAD's blob ids for a set of paths: asked of git cat-file at the moment, or read from a
 * listing of HEAD made ahead (a long push starts it while it applies patches). Both must give
 * the same answers, and the listing must not outlive the commit it lists.
 */
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { GitRepo } from "../../src/git/repo.js";
import { cleanup, git, makeRepo, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(cleanup));

describe("HEAD's blob ids", () => {
  it("are the same listed ahead as asked at the moment, from the top and from a subdirectory; a new commit is asked again", async () => {
    const dir = makeRepo({ "a.c": "a\n", "sub/b.c": "b\n", "sub/deeper/c.c": "c\n", "other/d.c": "d\n" });
    dirs.push(dir);
    symlinkSync("a.c", join(dir, "link"));
    git(dir, "add", "-A");
    git(dir, "commit", "-qm", "link");
    const paths = ["a.c", "sub/b.c", "sub/deeper/c.c", "link", "sub", "missing.c", "sub/missing.c"];
    const asked = await (await GitRepo.open(dir))!.headBlobIds(paths);
    const ahead = (await GitRepo.open(dir))!;
    ahead.listHeadBlobsAhead();
    expect(await ahead.headBlobIds(paths)).toEqual(asked);
    expect(asked!.get("a.c")).toMatch(/^[0-9a-f]{40}$/);
    expect([asked!.get("sub"), asked!.get("missing.c")]).toEqual([null, null]);
    // A tree in a subdirectory of the repository: paths are the tree's.
    const inSub = (await GitRepo.open(join(dir, "sub")))!;
    const subPaths = ["b.c", "deeper/c.c", "a.c"];
    const subAsked = await inSub.headBlobIds(subPaths);
    inSub.listHeadBlobsAhead();
    expect(await inSub.headBlobIds(subPaths)).toEqual(subAsked);
    expect(subAsked!.get("b.c")).toBe(asked!.get("sub/b.c"));
    expect(subAsked!.get("a.c")).toBeNull();
    // HEAD moves after the listing: the answer is the new HEAD's.
    write(dir, "a.c", "a changed\n");
    mkdirSync(join(dir, "new"));
    write(dir, "new/e.c", "e\n");
    git(dir, "add", "-A");
    git(dir, "commit", "-qm", "later");
    const now = await (await GitRepo.open(dir))!.headBlobIds(["a.c", "new/e.c"]);
    expect(now!.get("a.c")).not.toBe(asked!.get("a.c"));
    expect(await ahead.headBlobIds(["a.c", "new/e.c"])).toEqual(now);
  });
});
