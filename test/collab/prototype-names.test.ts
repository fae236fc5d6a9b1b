/**
 * Patches named like Object.prototype's members in a shared queue (t25 F1, F2): `__proto__` was
 * never in a committed version of the queue (pq status and pq sync said it was uncommitted for
 * ever), and both sides adding `constructor` ended the sync in an internal error.
 */
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, pq } from "../helpers/repo.js";
import { editLine, join_, ok, remoteQueue, world } from "./shared-helpers.js";

const roots: string[] = [];
afterEach(() => roots.splice(0).forEach(cleanup));

describe("patches named like Object.prototype's members in a shared queue", () => {
  it("a patch named __proto__ is committed, synced and reaches a colleague", async () => {
    const w = world();
    roots.push(w.root);
    const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    await ok(ann.tree, "new", "__proto__", "-m", "proto");
    editLine(ann.tree, "a.c", 5, "five");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "one");
    expect((await ok(ann.tree, "status")).out).not.toContain("uncommitted");
    await ok(ann.tree, "sync");
    expect(remoteQueue(w.remote).series).toBe("__proto__\n");
    const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
    await ok(bob.tree, "push", "-a");
    expect((await ok(bob.tree, "applied")).out).toBe("__proto__\n");
    await ok(bob.tree, "sync");
  });

  it("keeps apart two patches named constructor added on both sides", async () => {
    const w = world();
    roots.push(w.root);
    const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
    await ok(ann.tree, "new", "constructor", "-m", "Ann's");
    editLine(ann.tree, "a.c", 10, "ten ann");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "ann adds");
    await ok(ann.tree, "sync");
    await ok(bob.tree, "new", "constructor", "-m", "Bob's");
    editLine(bob.tree, "a.c", 30, "thirty bob");
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "bob adds");
    const r = await pq(bob.tree, "sync");
    expect([r.code, r.err]).toEqual([0, expect.not.stringContaining("internal error")]);
    expect(r.out).toContain("constructor: added on both sides as two different patches");
    const remote = remoteQueue(w.remote);
    expect(remote.series).toBe("constructor\nconstructor-2\n");
    expect(remote.patches.constructor).toContain("+ten ann");
    expect(remote.patches["constructor-2"]).toContain("+thirty bob");
  });
});
