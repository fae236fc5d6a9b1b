/**
 * A shared queue keeps its patches byte for byte, whatever git would convert: with
 * core.autocrlf set in the queue's repository, a patch to a CRLF file (its lines end in CR LF)
 * reaches a colleague with its CRs, and applies there.
 */
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, git, read, write } from "../helpers/repo.js";
import { join_, ok, world } from "./shared-helpers.js";

let root: string | undefined;
afterEach(() => {
  if (root) cleanup(root);
});

describe("a shared queue in a repository with core.autocrlf", () => {
  it("commits and syncs a patch with CRLF lines unchanged; nothing is left uncommitted", async () => {
    const w = world();
    root = w.root;
    write(w.base, "dos.txt", "one\r\ntwo\r\n");
    git(w.base, "add", "dos.txt");
    git(w.base, "commit", "-q", "-m", "a CRLF file");
    const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    git(ann.queue, "config", "core.autocrlf", "true");
    await ok(ann.tree, "new", "dos.patch", "-m", "dos: two becomes 2");
    write(ann.tree, "dos.txt", "one\r\n2\r\n");
    await ok(ann.tree, "refresh");
    const patch = read(ann.queue, "dos.patch");
    expect(patch).toContain("-two\r\n+2\r\n");
    await ok(ann.tree, "commit", "-m", "dos.patch");
    expect(git(ann.queue, "show", "HEAD:dos.patch")).toBe(patch);
    expect((await ok(ann.tree, "status")).out).not.toContain("uncommitted");
    expect(git(ann.queue, "status", "--porcelain")).toBe("");
    await ok(ann.tree, "sync");

    const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
    git(bob.queue, "config", "core.autocrlf", "true");
    expect(read(bob.queue, "dos.patch")).toBe(patch);
    await ok(bob.tree, "push", "-a");
    expect(read(bob.tree, "dos.txt")).toBe("one\r\n2\r\n");

    // A new version comes through pq sync (not git clone) just as exactly.
    write(ann.tree, "dos.txt", "one\r\n2\r\nthree\r\n");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "dos.patch: three");
    await ok(ann.tree, "sync");
    await ok(bob.tree, "pop", "-a");
    await ok(bob.tree, "sync");
    expect(read(bob.queue, "dos.patch")).toBe(read(ann.queue, "dos.patch"));
    expect(git(bob.queue, "status", "--porcelain")).toBe("");
    await ok(bob.tree, "push", "-a");
    expect(read(bob.tree, "dos.txt")).toBe("one\r\n2\r\nthree\r\n");
  });
});
