import { describe, expect, it } from "vitest";
import { replaySeriesChange, withTheirNewPatches } from "../../src/queue/series-replay.js";

const text = (...lines: string[]) => lines.map((l) => `${l}\n`).join("");

describe("one operation's series change made again over another tree's (t140 N2)", () => {
  it("keeps a line the other tree added, wherever the operation added its own", () => {
    expect(replaySeriesChange(text("a", "b"), text("a", "b", "mine"), text("a", "b", "theirs"))).toBe(text("a", "b", "mine", "theirs"));
    expect(replaySeriesChange(text("a", "b"), text("a", "mine", "b"), text("a", "b", "theirs"))).toBe(text("a", "mine", "b", "theirs"));
    // A rename keeps its place among the other tree's lines (t140 N2's own case).
    expect(replaySeriesChange(text("a1"), text("a1-renamed"), text("b1", "a1"))).toBe(text("b1", "a1-renamed"));
    expect(replaySeriesChange(text("a", "m", "z"), text("a", "m2", "z"), text("a", "m", "z", "t"))).toBe(text("a", "m2", "z", "t"));
    // The renamed line stays after the line below it, wherever the other tree moved the one above it (t141 N3).
    expect(replaySeriesChange(text("a1", "a2", "a3"), text("a1", "a2r", "a3"), text("a3", "a1", "a2"))).toBe(text("a3", "a1", "a2r"));
    expect(replaySeriesChange(text("a", "b"), text("mine", "a", "b"), text("theirs", "a", "b"))).toBe(text("theirs", "mine", "a", "b"));
    expect(replaySeriesChange(text("a", "b"), text("a", "b"), text("a", "x", "y", "b"))).toBe(text("a", "x", "y", "b"));
    expect(replaySeriesChange(text("a", "b"), text("a", "b", "mine"), text("a", "x", "y", "b"))).toBe(text("a", "x", "y", "b", "mine"));
  });

  it("keeps removals, renames and guard changes of different lines from both", () => {
    // The operation renamed b to c; the other tree removed a and guarded d.
    expect(replaySeriesChange(text("a", "b", "d"), text("a", "c", "d"), text("b", "d #+xen"))).toBe(text("c", "d #+xen"));
    // A comment and a blank line are lines too, matched by their text.
    expect(replaySeriesChange(text("# top", "a", "", "b"), text("# top", "a", "", "b", "mine"), text("# top", "", "b"))).toBe(text("# top", "", "b", "mine"));
  });

  it("takes the order of the side that moved the lines, and gives up when both did", () => {
    expect(replaySeriesChange(text("a", "b", "c"), text("c", "a", "b"), text("a", "b", "c", "theirs"))).toBe(text("c", "theirs", "a", "b"));
    expect(replaySeriesChange(text("a", "b", "c"), text("a", "b", "c", "mine"), text("b", "a", "c"))).toBe(text("b", "a", "c", "mine"));
    expect(replaySeriesChange(text("a", "b", "c"), text("c", "a", "b"), text("b", "a", "c"))).toBeNull();
  });

  it("gives up where both changed one line differently, or one changed what the other removed", () => {
    expect(replaySeriesChange(text("a", "b"), text("a", "b #+xen"), text("a", "b #+vmi"))).toBeNull();
    expect(replaySeriesChange(text("a", "b"), text("a", "b #+xen"), text("a"))).toBeNull();
    expect(replaySeriesChange(text("a", "b"), text("a"), text("a", "b -p0"))).toBeNull();
    // Both added a patch of one name with other options.
    expect(replaySeriesChange(text("a"), text("a", "n"), text("a", "n -p0"))).toBeNull();
    // One patch renamed by both, or renamed by one and deleted by the other (t141 N2).
    expect(replaySeriesChange(text("p1"), text("p1-a"), text("p1-b"))).toBeNull();
    expect(replaySeriesChange(text("p1"), text("p1-a"), "")).toBeNull();
    expect(replaySeriesChange(text("p1", "q"), "", text("p1-b", "q"))).toBeNull();
    // Both deleting it, nothing added: one delete. With a line added beside it, it cannot be told from a rename: no merge.
    expect(replaySeriesChange(text("p1", "q"), text("q"), text("q"))).toBe(text("q"));
    expect(replaySeriesChange(text("p1", "q", "r"), text("q", "r"), text("r"))).toBe(text("r"));
    expect(replaySeriesChange(text("p1", "q"), text("q"), text("q", "n"))).toBeNull();
    // A series naming a patch twice is no series pq reads.
    expect(replaySeriesChange(text("a"), text("a", "n"), text("a", "b", "b"))).toBeNull();
  });

  it("is the operation's text where the file is the base or already that text, and the same change twice is made once", () => {
    expect(replaySeriesChange(text("a"), text("a", "n"), text("a"))).toBe(text("a", "n"));
    expect(replaySeriesChange(text("a"), text("a", "n"), text("a", "n"))).toBe(text("a", "n"));
    expect(replaySeriesChange(text("a"), text("a", "n"), text("a", "n", "theirs"))).toBe(text("a", "n", "theirs"));
    expect(replaySeriesChange(text("a"), "", text("a", "theirs"))).toBe(text("theirs"));
  });
});

describe("where the two changes do not merge: the operation's series with the other tree's new patches (t141 N10)", () => {
  it("lists the other side's new patch where it sits, in the operation's order", () => {
    // Both reordered (no merge); the other tree also added b1 first.
    const [base, ours, theirs] = [text("a1", "a2", "a3", "a4"), text("a4", "a1", "a2", "a3"), text("b1", "a2", "a3", "a4", "a1")];
    expect(replaySeriesChange(base, ours, theirs)).toBeNull();
    expect(withTheirNewPatches(base, ours, theirs)).toBe(text("a4", "a1", "b1", "a2", "a3"));
    // Both guarded one patch differently; the other tree added n after b.
    expect(withTheirNewPatches(text("a", "b"), text("a", "b #+xen"), text("a", "b #+vmi", "n"))).toBe(text("a", "b #+xen", "n"));
  });

  it("adds nothing where the other side added no patch, or where its new line may be a rename of a patch both took out", () => {
    expect(withTheirNewPatches(text("a", "b"), text("a", "b #+xen"), text("a", "b #+vmi"))).toBeNull();
    expect(withTheirNewPatches(text("a", "b"), text("a", "b #+xen"), text("a", "b #+vmi", "# a comment"))).toBeNull();
    expect(withTheirNewPatches(text("p1"), text("p1-a"), text("p1-b"))).toBeNull();
    // A delete here, a rename there: the renamed patch stays listed, applied in that tree (t147 N1).
    expect(withTheirNewPatches(text("p1", "q"), text("q"), text("q", "n"))).toBe(text("q", "n"));
    expect(withTheirNewPatches(text("a", "b", "c"), text("a", "c"), text("a", "b1", "c"))).toBe(text("a", "b1", "c"));
  });
});
