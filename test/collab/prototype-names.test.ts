/**
 * Patches named like Object.prototype's members in a shared queue (t25 F1, F2): `__proto__` was
 * never in a committed version of the queue (pq status and pq sync said it was uncommitted for
 * ever), and both sides adding `constructor` ended the sync in an internal error.
 */
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, pq } from "../helpers/repo.js";
import { commitNewPatch, join_, ok, remoteQueue, world } from "./shared-helpers.js";

const roots: string[] = [];
afterEach(() => roots.splice(0).forEach(cleanup));

describe("patches named like Object.prototype's members in a shared queue", () => {
  it("a patch named __proto__ is committed, synced and reaches a colleague", async () => {
    const w = world();
    roots.push(w.root);
    const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    await commitNewPatch(ann, "__proto__", { file: "a.c", line: 5, text: "five" });
    expect((await ok(ann.tree, "status")).out).not.toContain("uncommitted");
    await ok(ann.tree, "sync");
    expect(remoteQueue(w.remote).series).toBe("__proto__\n");
    const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
    await ok(bob.tree, "push", "-a");
    expect((await ok(bob.tree, "applied")).out).toBe("__proto__\n");
    await ok(bob.tree, "sync");
  });

  it("a colleague's sync that only takes in changes keeps a patch named constructor applied", async () => {
    const w = world();
    roots.push(w.root);
    const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    await commitNewPatch(ann, "constructor", { file: "a.c", line: 5, text: "five" });
    await ok(ann.tree, "sync");
    const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
    await ok(bob.tree, "push", "-a");
    await commitNewPatch(ann, "toString", { file: "b.c", line: 3, text: "three" });
    await ok(ann.tree, "sync");
    const r = await pq(bob.tree, "sync");
    expect([r.code, r.err]).toEqual([0, expect.not.stringContaining("internal error")]);
    expect((await ok(bob.tree, "applied")).out).toBe("constructor\n");
    expect((await ok(bob.tree, "series")).out).toBe("constructor\ntoString\n");
  });

  it("keeps apart two patches named constructor added on both sides", async () => {
    const w = world();
    roots.push(w.root);
    const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
    const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
    await commitNewPatch(ann, "constructor", { file: "a.c", line: 10, text: "ten ann" }, "Ann's");
    await ok(ann.tree, "sync");
    await commitNewPatch(bob, "constructor", { file: "a.c", line: 30, text: "thirty bob" }, "Bob's");
    const r = await pq(bob.tree, "sync");
    expect([r.code, r.err]).toEqual([0, expect.not.stringContaining("internal error")]);
    expect(r.out).toContain("constructor: added on both sides as two different patches");
    const remote = remoteQueue(w.remote);
    expect(remote.series).toBe("constructor\nconstructor-2\n");
    expect(remote.patches.constructor).toContain("+ten ann");
    expect(remote.patches["constructor-2"]).toContain("+thirty bob");
  });
});
