import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { mergeOrder } from "../../src/collab/series-merge.js";

/** One side's edit of the series: moves, insertions of its own new patches, deletions. */
type Edit = { kind: "move" | "insert" | "delete"; pick: number; to: number };

function edited(base: string[], edits: Edit[], side: string): string[] {
  const list = [...base];
  edits.forEach((e, n) => {
    if (e.kind === "insert") list.splice(e.to % (list.length + 1), 0, `${side}${n}`);
    else if (list.length) {
      const [id] = list.splice(e.pick % list.length, 1);
      if (e.kind === "move") list.splice(e.to % (list.length + 1), 0, id);
    }
  });
  return list;
}

const edit = fc.record({ kind: fc.constantFrom("move", "insert", "delete"), pick: fc.nat(20), to: fc.nat(20) }) as fc.Arbitrary<Edit>;
const threeWay = fc
  .record({ n: fc.integer({ min: 1, max: 8 }), ours: fc.array(edit, { maxLength: 4 }), theirs: fc.array(edit, { maxLength: 4 }) })
  .map(({ n, ours, theirs }) => {
    const base = Array.from({ length: n }, (_, i) => `p${i + 1}`);
    return { base, ours: edited(base, ours, "o"), theirs: edited(base, theirs, "t") };
  });

/** What the sync keeps: every patch both sides still have, and each side's new ones. */
function survivorsOf(base: string[], ours: string[], theirs: string[]): Set<string> {
  const b = new Set(base);
  return new Set([...ours, ...theirs].filter((id) => !b.has(id) || (ours.includes(id) && theirs.includes(id))));
}

describe("series order merge, as pairwise orders (collab-17 F8's fuzzer)", () => {
  it("never breaks an order both sides keep, and takes one side's order whole when the other did not reorder", () => {
    fc.assert(
      fc.property(threeWay, ({ base, ours, theirs }) => {
        const survivors = survivorsOf(base, ours, theirs);
        const { order } = mergeOrder(base, ours, theirs, survivors);
        expect([...order].sort()).toEqual([...survivors].sort());
        const at = new Map(order.map((id, i) => [id, i]));
        for (const x of order)
          for (const y of order) {
            if (x === y || !ours.includes(x) || !ours.includes(y) || !theirs.includes(x) || !theirs.includes(y)) continue;
            const o = ours.indexOf(x) < ours.indexOf(y);
            if (o === theirs.indexOf(x) < theirs.indexOf(y)) expect(at.get(x)! < at.get(y)!, `${x} ${y} in ${order}`).toBe(o);
          }
        const b = new Set(base);
        const kept = (list: string[]) => list.filter((id) => survivors.has(id));
        // A side that only deleted or kept (no reorder, no insertion): the result is the other side's order.
        const plain = (side: string[]) => side.every((id) => b.has(id)) && side.join() === base.filter((id) => side.includes(id)).join();
        if (plain(theirs)) expect(order).toEqual(kept(ours));
        if (plain(ours)) expect(order).toEqual(kept(theirs));
      }),
      { numRuns: 3000, seed: 20261205 },
    );
  });

  it("the fuzzer's cases keep the orders both sides agree on, and say which move gave way", () => {
    // Seed 3 trial 50: both sides have p1 before p4; ours brought p2 and p3 before p1, theirs p4 before p2 (a cycle).
    const base = ["p1", "p2", "p3", "p4", "p5", "p6"];
    const r = mergeOrder(base, ["p2", "p3", "p1", "p4", "p5", "p6"], ["p1", "p4", "p2", "p5", "p3", "p6"], new Set(base));
    expect(r.order.indexOf("p1")).toBeLessThan(r.order.indexOf("p4"));
    expect(r.order).toEqual(["p2", "p3", "p1", "p4", "p5", "p6"]);
    expect(r.unkept.map((u) => u.side)).toEqual(r.unkept.map(() => "theirs"));
    expect(r.unkept.length).toBeGreaterThan(0);
    // Without the cycle (ours did not move p1), theirs' moves are kept whole and nothing is said.
    const plain = mergeOrder(base, base, ["p1", "p4", "p2", "p5", "p3", "p6"], new Set(base));
    expect(plain).toEqual({ order: ["p1", "p4", "p2", "p5", "p3", "p6"], movedBoth: [], unkept: [] });
  });

  it("a cycle of one-sided swaps breaks no agreed order", () => {
    // Ours swapped a and b, theirs b and c; both keep a before c.
    const r = mergeOrder(["a", "b", "c"], ["b", "a", "c"], ["a", "c", "b"], new Set(["a", "b", "c"]));
    expect(r.order.indexOf("a")).toBeLessThan(r.order.indexOf("c"));
  });

  it("says whose place a patch moved on both sides took", () => {
    const same = mergeOrder(["a", "b", "c"], ["b", "c", "a"], ["b", "c", "a"], new Set(["a", "b", "c"]));
    expect(same).toEqual({ order: ["b", "c", "a"], movedBoth: [], unkept: [] });
    // Ours moved a past c, theirs past e: each pair takes the side that changed it, so a ends last (theirs' place).
    const apart = mergeOrder(
      ["a", "b", "c", "d", "e"],
      ["b", "c", "a", "d", "e"],
      ["b", "c", "d", "e", "a"],
      new Set(["a", "b", "c", "d", "e"]),
    );
    expect(apart.order).toEqual(["b", "c", "d", "e", "a"]);
    expect(apart.movedBoth).toEqual([{ id: "a", kept: "theirs" }]);
    const mirrored = mergeOrder(
      ["a", "b", "c", "d", "e"],
      ["b", "c", "d", "e", "a"],
      ["b", "c", "a", "d", "e"],
      new Set(["a", "b", "c", "d", "e"]),
    );
    expect(mirrored.movedBoth).toEqual([{ id: "a", kept: "ours" }]);
  });

  it("puts a patch kept for a delete/modify conflict where the side that kept it moved it (t22 F1)", () => {
    const base = ["p1", "p2", "p3", "p4", "p5"];
    // Ann (theirs) deleted p5; Bob (ours) moved it first and changed it: kept, first.
    const ours = mergeOrder(base, ["p5", "p1", "p2", "p3", "p4"], ["p1", "p2", "p3", "p4"], new Set(base));
    expect(ours.order).toEqual(["p5", "p1", "p2", "p3", "p4"]);
    // The mirror: theirs moved and changed p2, ours deleted it.
    const theirs = mergeOrder(base, ["p1", "p3", "p4", "p5"], ["p1", "p3", "p4", "p2", "p5"], new Set(base));
    expect(theirs.order).toEqual(["p1", "p3", "p4", "p2", "p5"]);
  });
});
