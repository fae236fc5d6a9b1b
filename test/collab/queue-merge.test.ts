import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitRepo } from "../../src/git/repo.js";
import { applyFilePatch, createFilePatch, parsePatch } from "../../src/patch/index.js";
import { mergeQueues, oneTrailerBlock } from "../../src/collab/queue-merge.js";
import { restackFailure } from "../../src/collab/restack.js";
import { mergeOrder } from "../../src/collab/series-merge.js";
import { mergeHeaders } from "../../src/collab/header-merge.js";
import { simulateQueue } from "../../src/collab/simulate.js";
import { validateIncoming } from "../../src/collab/incoming.js";
import type { MergeServices, QueueVersion } from "../../src/collab/types.js";
import { cleanup, makeRepo } from "../helpers/repo.js";

const lines = (n: number, tag = "line") => Array.from({ length: n }, (_, i) => `${tag} ${i + 1}\n`).join("");
const BASE_TREE: Record<string, string> = { "a.c": lines(40), "b.c": lines(20, "bee") };

const edit = (text: string, at: number, replacement: string) => {
  const ls = text.split("\n");
  ls[at - 1] = replacement;
  return ls.join("\n");
};

function patch(subject: string, author: string, diffs: string[], body = ""): string {
  return `From: ${author}\nSubject: ${subject}\n\n${body ? body + "\n\n" : ""}${diffs.join("")}`;
}
const mod = (path: string, before: string, after: string) =>
  createFilePatch({ oldPath: path, newPath: path, oldContent: before, newContent: after });
/** An edit of a file that also makes it executable. */
const modAndChmod = (path: string, before: string, after: string) =>
  createFilePatch({ oldPath: path, newPath: path, oldContent: before, newContent: after, oldMode: "100644", newMode: "100755" });

let dir: string;
let svc: MergeServices;
beforeAll(async () => {
  dir = makeRepo({ "x.txt": "x\n" });
  const git = (await GitRepo.open(dir))!;
  svc = { baseFile: async (p) => BASE_TREE[p] ?? null, mergeFile: (o, b, t, l) => git.mergeFile(o, b, t, l) };
});
afterAll(() => cleanup(dir));

const A = "Ann Example <ann@example.org>";
const B = "Bob Example <bob@example.org>";

/** Applies a queue in memory and returns the final files. */
async function finalTree(q: QueueVersion): Promise<Record<string, string | null>> {
  const sim = await simulateQueue(q, svc.baseFile);
  const out: Record<string, string | null> = {};
  for (const [name, run] of sim.runs) expect(run.ok, `${name}: ${run.failures.join("; ")}`).toBe(true);
  for (const p of Object.keys(BASE_TREE)) out[p] = await sim.current(p);
  return out;
}

/** Merges both ways round (ours and theirs swapped): a merge must not depend on who syncs first. */
async function eachWayRound(
  base: QueueVersion,
  a: QueueVersion,
  b: QueueVersion,
  check: (r: Awaited<ReturnType<typeof mergeQueues>>) => Promise<void>,
): Promise<void> {
  for (const [o, t] of [
    [a, b],
    [b, a],
  ])
    await check(await mergeQueues(base, o, t, svc));
}

/** The merge went without a conflict, and its queue, applied, leaves these files so (null: none there). */
async function expectCleanMerge(r: Awaited<ReturnType<typeof mergeQueues>>, files: Record<string, string | null>): Promise<void> {
  expect(r.conflicts).toEqual([]);
  const sim = await simulateQueue(r.queue, svc.baseFile);
  for (const [path, content] of Object.entries(files)) expect(await sim.current(path), path).toBe(content);
}

describe("series order merge", () => {
  it("keeps insertions from both sides, a reorder on one side, and deletions", () => {
    const base = ["a", "b", "c", "d"];
    const ours = ["a", "x", "b", "c", "d"]; // x inserted after a
    const theirs = ["d", "a", "b", "y", "c"].filter((n) => n !== "c").concat(["c"]); // d moved first, y added after b
    const r = mergeOrder(base, ours, theirs, new Set(["a", "b", "c", "d", "x", "y"]));
    expect(r.order).toEqual(["d", "a", "x", "b", "y", "c"]);
    const del = mergeOrder(base, ["a", "c", "d"], theirs, new Set(["a", "c", "d", "y"]));
    expect(del.order).toEqual(["d", "a", "y", "c"]);
  });
});

describe("header merge", () => {
  it("merges subject on one side and an added trailer on the other", () => {
    const base = "From: Ann Example <ann@example.org>\nSubject: fix it\n\nWhy.\n\nSigned-off-by: Ann Example <ann@example.org>\n";
    const ours = base.replace("fix it", "fix the thing");
    const theirs = base.replace(
      "Signed-off-by: Ann Example <ann@example.org>\n",
      "Signed-off-by: Ann Example <ann@example.org>\nAcked-by: Bob Example <bob@example.org>\n",
    );
    const r = mergeHeaders(base, ours, theirs);
    expect(r.clashes).toEqual([]);
    expect(r.header).toBe(
      "From: Ann Example <ann@example.org>\nSubject: fix the thing\n\nWhy.\n\nSigned-off-by: Ann Example <ann@example.org>\nAcked-by: Bob Example <bob@example.org>\n",
    );
  });
});

describe("mergeQueues", () => {
  const p1 = patch("one", A, [mod("a.c", BASE_TREE["a.c"], edit(BASE_TREE["a.c"], 5, "five"))]);
  const p2 = patch("two", A, [mod("b.c", BASE_TREE["b.c"], edit(BASE_TREE["b.c"], 3, "three"))]);
  const base: QueueVersion = { series: "p1\np2\n", patches: { p1, p2 } };

  it("adds patches inserted at different positions on both sides", async () => {
    const n1 = patch("new one", A, [mod("a.c", edit(BASE_TREE["a.c"], 5, "five"), edit(edit(BASE_TREE["a.c"], 5, "five"), 30, "thirty"))]);
    const n2 = patch("new two", B, [
      mod("b.c", edit(BASE_TREE["b.c"], 3, "three"), edit(edit(BASE_TREE["b.c"], 3, "three"), 15, "fifteen")),
    ]);
    const ours = { series: "p1\nn1\np2\n", patches: { p1, p2, n1 } };
    const theirs = { series: "p1\np2\nn2\n", patches: { p1, p2, n2 } };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.conflicts).toEqual([]);
    expect(r.queue.series).toBe("p1\nn1\np2\nn2\n");
    expect(r.queue.patches).toEqual({ p1, p2, n1, n2 });
  });

  it("merges one patch refreshed on both sides in different hunks: the result is the tree with both edits", async () => {
    const pre = BASE_TREE["a.c"];
    const post = edit(pre, 5, "five");
    const ours = { series: base.series, patches: { ...base.patches, p1: patch("one", A, [mod("a.c", pre, edit(post, 2, "two (ours)"))]) } };
    const theirs = {
      series: base.series,
      patches: { ...base.patches, p1: patch("one", A, [mod("a.c", pre, edit(post, 35, "thirty-five (theirs)"))]) },
    };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.conflicts).toEqual([]);
    const tree = await finalTree(r.queue);
    expect(tree["a.c"]).toBe(edit(edit(post, 2, "two (ours)"), 35, "thirty-five (theirs)"));
    expect(tree["b.c"]).toBe(edit(BASE_TREE["b.c"], 3, "three"));
  });

  it("reports the same lines changed on both sides as a conflict with both versions in the patch", async () => {
    const pre = BASE_TREE["a.c"];
    const ours = { series: base.series, patches: { ...base.patches, p1: patch("one", A, [mod("a.c", pre, edit(pre, 5, "five (ours)"))]) } };
    const theirs = {
      series: base.series,
      patches: { ...base.patches, p1: patch("one", A, [mod("a.c", pre, edit(pre, 5, "five (theirs)"))]) },
    };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.conflicts.map((c) => [c.patch, c.kind])).toEqual([["p1", "content"]]);
    expect(r.queue.patches.p1).toContain("+<<<<<<< ours");
    expect(r.queue.patches.p1).toContain("+five (ours)");
    expect(r.queue.patches.p1).toContain("+five (theirs)");
  });

  it("follows a rename on one side while the other refreshed the patch", async () => {
    const pre = BASE_TREE["a.c"];
    const refreshed = patch("one", A, [mod("a.c", pre, edit(edit(pre, 5, "five"), 6, "six"))]);
    const ours = { series: "p1-renamed\np2\n", patches: { "p1-renamed": p1, p2 } };
    const theirs = { series: base.series, patches: { ...base.patches, p1: refreshed } };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.conflicts).toEqual([]);
    expect(r.queue.series).toBe("p1-renamed\np2\n");
    expect(r.queue.patches).toEqual({ "p1-renamed": refreshed, p2 });
  });

  it("keeps the refresh when the other side deleted the patch, as a conflict", async () => {
    const pre = BASE_TREE["b.c"];
    const refreshed = patch("two", A, [mod("b.c", pre, edit(edit(pre, 3, "three"), 4, "four"))]);
    const ours = { series: "p1\n", patches: { p1 } };
    const theirs = { series: base.series, patches: { ...base.patches, p2: refreshed } };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.conflicts.map((c) => [c.patch, c.kind])).toEqual([["p2", "delete-modify"]]);
    expect(r.queue.patches.p2).toBe(refreshed);
    expect(r.queue.series).toBe("p1\np2\n");
    expect(r.conflicts[0].message).toContain("pq delete p2 if it should go");
  });

  it("names a patch deleted on one side and renamed and changed on the other by its new name (t118 N4)", async () => {
    const pre = BASE_TREE["b.c"];
    const refreshed = patch("two", A, [mod("b.c", pre, edit(edit(pre, 3, "three"), 4, "four"))]);
    const ours = { series: "p1\n", patches: { p1 } };
    const theirs = { series: "p1\np2-new\n", patches: { p1, "p2-new": refreshed } };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.conflicts.map((c) => c.kind)).toEqual(["delete-modify"]);
    expect(r.conflicts[0].message).toContain("p2 was deleted here but changed there (renamed to p2-new)");
    expect(r.conflicts[0].message).toContain("pq delete p2-new if it should go");
  });

  it("regenerates a later patch whose context moved because an earlier one grew", async () => {
    const pre = BASE_TREE["a.c"];
    const post1 = edit(pre, 5, "five");
    const later = patch("later", B, [mod("a.c", post1, edit(post1, 30, "thirty"))]);
    const b2 = { series: "p1\nlater\n", patches: { p1, later } };
    const grown = edit(post1, 2, "two\nextra 1\nextra 2");
    const ours = { series: b2.series, patches: { p1: patch("one", A, [mod("a.c", pre, grown)]), later } };
    const theirs = {
      series: "p1\nlater\nnew\n",
      patches: { p1, later, new: patch("new", B, [mod("b.c", BASE_TREE["b.c"], edit(BASE_TREE["b.c"], 1, "uno"))]) },
    };
    const r = await mergeQueues(b2, ours, theirs, svc);
    expect(r.conflicts).toEqual([]);
    expect(r.queue.patches.later).not.toBe(later);
    expect(r.queue.patches.later).toContain("@@ -29,");
    expect(r.notes.join("\n")).toContain("later: regenerated");
    const sim = await simulateQueue(r.queue, svc.baseFile);
    expect([...sim.runs.values()].every((x) => x.exact)).toBe(true);
  });

  it("a patch deleted on both sides is gone, and one side's reorder is kept (collab-17 F9: an internal error on every sync)", async () => {
    const a = lines(40);
    const p = (n: number) => patch(`p${n}`, A, [mod("a.c", a, edit(a, n * 5, `line ${n * 5} p${n}`))]);
    const patches = { p1: p(1), p2: p(2), p3: p(3), p4: p(4) };
    const b = { series: "p1\np2\np3\np4\n", patches };
    const { p4: _gone, ...kept } = patches;
    const ours = { series: "p1\np3\np2\n", patches: kept };
    const theirs = { series: "p1\np2\np3\n", patches: kept };
    const r = await mergeQueues(b, ours, theirs, svc);
    expect(r.conflicts).toEqual([]);
    expect(r.queue.series).toBe("p1\np3\np2\n");
    expect(Object.keys(r.queue.patches).sort()).toEqual(["p1", "p2", "p3"]);
  });

  it("names a corrupt series from the other side", async () => {
    const theirs = { series: "p1 -R\n", patches: base.patches };
    await expect(mergeQueues(base, { series: "p1\n", patches: base.patches }, theirs, svc)).rejects.toThrow(/their series: series line 1/);
  });
});

describe("series comments above one patch added on both sides (collab-17 F19)", () => {
  it("are all kept, and the sync says so", async () => {
    const a = lines(40);
    const patches = { P: patch("P", A, [mod("a.c", a, edit(a, 5, "five"))]), Q: patch("Q", A, [mod("a.c", a, edit(a, 30, "thirty"))]) };
    const b = { series: "P\nQ\n", patches };
    const ours = { series: "P\n# Q: bob: upstream has it\nQ\n", patches };
    const theirs = { series: "P\n# Q: ann: keep it for xen\nQ\n", patches };
    const r = await mergeQueues(b, ours, theirs, svc);
    expect(r.conflicts).toEqual([]);
    expect(r.queue.series).toBe("P\n# Q: bob: upstream has it\n# Q: ann: keep it for xen\nQ\n");
    expect(r.notes.join("\n")).toContain("Q: series comments above it changed on both sides: both sides' lines kept");
    // One side's change alone is taken as it is, a removal too.
    expect((await mergeQueues(ours, ours, { series: "P\nQ\n", patches }, svc)).queue.series).toBe("P\nQ\n");
  });
});

describe("a header text merged cleanly with trailers added on both sides (collab-17 F13)", () => {
  it("has them in one block at the end, as git reads trailers; anything else as it was", () => {
    const head = "From: Ann Example <ann@example.org>\nSubject: P\n\nBody by bob.\n\n";
    expect(
      oneTrailerBlock(
        `${head}Acked-by: Dan Example <dan@example.org>\nSigned-off-by: Bob Example <bob@example.org>\n\nSigned-off-by: Ann Example <ann@example.org>\n`,
      ),
    ).toBe(
      `${head}Acked-by: Dan Example <dan@example.org>\nSigned-off-by: Bob Example <bob@example.org>\nSigned-off-by: Ann Example <ann@example.org>\n`,
    );
    // Notes after "---" stay where they are.
    expect(oneTrailerBlock(`${head}Acked-by: A <a@example.org>\n\nSigned-off-by: B <b@example.org>\n---\nv2: more\n`)).toBe(
      `${head}Acked-by: A <a@example.org>\nSigned-off-by: B <b@example.org>\n---\nv2: more\n`,
    );
    for (const same of [`${head}Signed-off-by: B <b@example.org>\n`, "From: A <a@example.org>\nSubject: P\n\nText.\n\nMore text.\n"])
      expect(oneTrailerBlock(same)).toBe(same);
  });
});

describe("series order merge with the same move on both sides and an addition after it (collab-17 F8)", () => {
  it("puts the addition right after the patch both moved, where its author put it", () => {
    // Ann moved P last; Bob moved Q first and added R right after Q.
    const bob = mergeOrder(["P", "Q"], ["Q", "R", "P"], ["Q", "P"], new Set(["P", "Q", "R"]));
    expect(bob.order).toEqual(["Q", "R", "P"]);
    const ann = mergeOrder(["P", "Q"], ["Q", "P"], ["Q", "R", "P"], new Set(["P", "Q", "R"]));
    expect(ann.order).toEqual(["Q", "R", "P"]);
  });
});

describe("series order merge with a reorder on one side and an addition on the other", () => {
  it("puts the addition where it was relative to the patches that did not move", () => {
    const r = mergeOrder(["p1", "p2"], ["p2", "p1"], ["p1", "p2", "n3"], new Set(["p1", "p2", "n3"]));
    expect(r.order).toEqual(["p2", "p1", "n3"]);
  });
});

describe("guards and headers in the merge", () => {
  it("keeps a guard change on one side and a refresh with a new trailer on the other", async () => {
    const pre = BASE_TREE["a.c"];
    const p1 = patch("one", A, [mod("a.c", pre, edit(pre, 5, "five"))]);
    const p2 = patch("two", A, [mod("b.c", BASE_TREE["b.c"], edit(BASE_TREE["b.c"], 3, "three"))]);
    const base: QueueVersion = { series: "p1\np2\n", patches: { p1, p2 } };
    const ours = { series: "p1 #+xen\np2\n", patches: { p1, p2 } };
    const refreshed = patch(
      "one",
      A,
      [mod("a.c", pre, edit(edit(pre, 5, "five"), 9, "nine"))],
      "Signed-off-by: Bob Example <bob@example.org>",
    );
    const theirs = { series: "p1\np2 #-vmi\n", patches: { p1: refreshed, p2 } };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.conflicts).toEqual([]);
    expect(r.queue.series).toBe("p1 #+xen\np2 #-vmi\n");
    expect(r.queue.patches.p1).toBe(refreshed);
    expect(r.notes.filter((n) => n.includes("guards changed on both sides"))).toEqual([]);
  });

  it("guards changed differently on both sides: the union is kept and the sync says so", async () => {
    const pre = BASE_TREE["a.c"];
    const p1 = patch("one", A, [mod("a.c", pre, edit(pre, 5, "five"))]);
    const base: QueueVersion = { series: "p1\n", patches: { p1 } };
    const r = await mergeQueues(base, { series: "p1 #-native\n", patches: { p1 } }, { series: "p1 #+xen\n", patches: { p1 } }, svc);
    expect(r.queue.series).toBe("p1 #-native #+xen\n");
    expect(r.notes).toContain(
      'p1: guards changed on both sides (here "-native", there "+xen"): kept "-native +xen"; pq guard p1 to choose',
    );
    // The series has no comments: none is said to have changed (t35 F12).
    expect(r.notes.join("\n")).not.toContain("series comments");
  });
});

describe("the same patch name added on both sides", () => {
  it("merges the two additions as changes of the same files, and marks a clash with both versions", async () => {
    const pre = BASE_TREE["a.c"];
    const base: QueueVersion = { series: "", patches: {} };
    const ours = { series: "fix\n", patches: { fix: patch("fix", A, [mod("a.c", pre, edit(edit(pre, 5, "five"), 3, "three (ann)"))]) } };
    const theirs = {
      series: "fix\n",
      patches: { fix: patch("fix", A, [mod("a.c", pre, edit(edit(pre, 5, "five"), 30, "thirty (bob)"))]) },
    };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.conflicts).toEqual([]);
    expect(r.notes).toContain("fix: added on both sides, merged");
    expect((await finalTree(r.queue))["a.c"]).toBe(edit(edit(edit(pre, 5, "five"), 3, "three (ann)"), 30, "thirty (bob)"));
    const clash = { series: "fix\n", patches: { fix: patch("fix", A, [mod("a.c", pre, edit(pre, 5, "five (bob)"))]) } };
    const c = await mergeQueues(
      base,
      { series: "fix\n", patches: { fix: patch("fix", A, [mod("a.c", pre, edit(pre, 5, "five (ann)"))]) } },
      clash,
      svc,
    );
    expect(c.conflicts.map((x) => [x.patch, x.kind])).toEqual([["fix", "content"]]);
    expect(c.queue.patches.fix).toMatch(/\+<<<<<<< ours\n\+five \(ann\)\n\+=======\n\+five \(bob\)\n\+>>>>>>> theirs\n/);
  });
});

describe("series comments", () => {
  it("stay where they were when both sides changed the series", async () => {
    const pre = BASE_TREE["a.c"];
    const p1 = patch("one", A, [mod("a.c", pre, edit(pre, 5, "five"))]);
    const p2 = patch("two", A, [mod("b.c", BASE_TREE["b.c"], edit(BASE_TREE["b.c"], 3, "three"))]);
    const n = patch("n", B, [mod("b.c", edit(BASE_TREE["b.c"], 3, "three"), edit(edit(BASE_TREE["b.c"], 3, "three"), 12, "twelve"))]);
    const base: QueueVersion = { series: "# core\np1 # the first\n\n# drivers\np2\n", patches: { p1, p2 } };
    const ours = { series: "# core\np1 #+xen # the first\n\n# drivers\np2\n", patches: { p1, p2 } };
    const theirs = { series: "# core\np1 # the first\n\n# drivers\np2\nn\n", patches: { p1, p2, n } };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.queue.series).toBe("# core\np1 #+xen # the first\n\n# drivers\np2\nn\n");
  });

  it("are kept from the side that added them, when the other side changed a patch (shared-3 #2)", async () => {
    const pre = BASE_TREE["a.c"];
    const p1 = patch("one", A, [mod("a.c", pre, edit(pre, 5, "five"))]);
    const refreshed = patch("one", A, [mod("a.c", pre, edit(edit(pre, 5, "five"), 30, "thirty"))]);
    const base: QueueVersion = { series: "p1\n", patches: { p1 } };
    const theirs = { series: "# upstream: 2.6.20\np1 # see LKML\n# the end\n", patches: { p1 } };
    const ours = { series: "p1\n", patches: { p1: refreshed } };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.conflicts).toEqual([]);
    expect(r.queue.series).toBe("# upstream: 2.6.20\np1 # see LKML\n# the end\n");
    expect(r.queue.patches.p1).toBe(refreshed);
    // And a patch added on our side keeps its place under their comments.
    const n = patch("n", B, [mod("b.c", BASE_TREE["b.c"], edit(BASE_TREE["b.c"], 12, "twelve"))]);
    const added = await mergeQueues(base, { series: "p1\nn # ours\n", patches: { p1, n } }, theirs, svc);
    expect(added.queue.series).toBe("# upstream: 2.6.20\np1 # see LKML\nn # ours\n# the end\n");
  });

  it("keep a patch's -pN through a merge, and the merge applies it so (shared-3 #5)", async () => {
    const pre = BASE_TREE["a.c"];
    const p1 = patch("one", A, [mod("a.c", pre, edit(pre, 5, "five"))]);
    const p0 = `From: ${B}\nSubject: p0\n\n--- a.c\n+++ a.c\n@@ -10 +10 @@\n-line 10\n+ten\n`;
    const base: QueueVersion = { series: "p1\n", patches: { p1 } };
    const theirs = { series: "p1\np0 -p0\n", patches: { p1, p0 } };
    const ours = { series: "p1\n", patches: { p1: patch("one, renamed", A, [mod("a.c", pre, edit(pre, 5, "five"))]) } };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.conflicts).toEqual([]);
    expect(r.queue.series).toBe("p1\np0 -p0\n");
    expect(r.queue.patches.p0).toBe(p0);
    const sim = await simulateQueue(r.queue, async (path) => BASE_TREE[path] ?? null);
    expect(sim.runs.get("p0")!.ok).toBe(true);
    // A colleague's sync reads the incoming -p0 patch as -p0 (it refused it, exit 7, as a -p1 patch without prefixes).
    expect(() => validateIncoming(theirs, base, "the remote's")).not.toThrow();
    expect(() => validateIncoming({ series: "p1\np0\n", patches: { p1, p0 } }, base, "the remote's")).toThrow(/fewer than 2 components/);
  });
});

describe("DEP-3 headers changed on both sides (shared-3 #1)", () => {
  const diff = mod("a.c", BASE_TREE["a.c"], edit(BASE_TREE["a.c"], 10, "ten"));
  const dep3 = (origin: string, forwarded: string) =>
    `Description: Fix line ten\n Longer text.\nAuthor: Ann Example <ann@example.org>\nOrigin: ${origin}\nBug-Debian: https://bugs.example.org/123\nForwarded: ${forwarded}\nLast-Update: 2026-11-30\n---\n${diff}`;

  it("keeps both edits of different fields, and every other field, as DEP-3", async () => {
    const base: QueueVersion = { series: "ten\n", patches: { ten: dep3("vendor", "no") } };
    const ours = { series: "ten\n", patches: { ten: dep3("upstream", "no") } };
    const theirs = { series: "ten\n", patches: { ten: dep3("vendor", "yes") } };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.conflicts).toEqual([]);
    expect(r.queue.patches.ten).toBe(dep3("upstream", "yes"));
  });

  it("stops on the same field changed differently, keeping our fields and the others", async () => {
    const base: QueueVersion = { series: "ten\n", patches: { ten: dep3("vendor", "no") } };
    const ours = { series: "ten\n", patches: { ten: dep3("upstream", "no") } };
    const theirs = { series: "ten\n", patches: { ten: dep3("other", "no") } };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.conflicts.map((c) => [c.patch, c.kind])).toEqual([["ten", "header"]]);
    expect(r.conflicts[0].message).toContain("other fields");
    for (const field of [
      "Description: Fix line ten\n Longer text.\n",
      "Author: Ann",
      "Origin: upstream\n",
      "Bug-Debian:",
      "Forwarded: no\n",
      "Last-Update:",
    ])
      expect(r.queue.patches.ten).toContain(field);
  });
});

describe("a patch deleted on one side", () => {
  it("takes a rename or guard change made on the other side with it, and says so (shared-3 #13)", async () => {
    const pre = BASE_TREE["a.c"];
    const p1 = patch("one", A, [mod("a.c", pre, edit(pre, 5, "five"))]);
    const p2 = patch("two", A, [mod("b.c", BASE_TREE["b.c"], edit(BASE_TREE["b.c"], 3, "three"))]);
    const base: QueueVersion = { series: "p1\np2\n", patches: { p1, p2 } };
    const theirs = { series: "p1\n", patches: { p1 } };
    const ours = { series: "p1 #+xen\nkeep-me\n", patches: { p1, "keep-me": p2 } };
    const merged = await mergeQueues(base, ours, theirs, svc);
    expect(merged.conflicts).toEqual([]);
    expect(merged.queue.series).toBe("p1 #+xen\n");
    expect(merged.notes).toContain(
      "p2 was deleted there; it was renamed to keep-me here, which went with it (pq log p2 shows its history)",
    );
  });
});

describe("a Debian-style series through a merge (verify-7 V13, V14)", () => {
  it("keeps CR LF endings and each line's own bytes, and takes a -p0 patch's existing file", async () => {
    // quilt's -p0 form: the old name is a backup that does not exist; the patch changes a.c.
    const p0 = `Subject: pa\n\n--- a.c.orig\n+++ a.c\n@@ -4,3 +4,3 @@\n line 4\n-line 5\n+line FIVE\n line 6\n`;
    const base: QueueVersion = { series: "# a series\r\npa.patch\t-p0\r\n", patches: { "pa.patch": p0 } };
    const pb = patch("pb", A, [mod("b.c", lines(20, "bee"), edit(lines(20, "bee"), 3, "bee three"))]);
    const pc = patch("pc", B, [mod("b.c", lines(20, "bee"), edit(lines(20, "bee"), 15, "bee fifteen"))]);
    const ours: QueueVersion = { series: `${base.series}pb.patch\r\n`, patches: { ...base.patches, "pb.patch": pb } };
    const theirs: QueueVersion = { series: `${base.series}pc.patch\r\n`, patches: { ...base.patches, "pc.patch": pc } };
    const merged = await mergeQueues(base, ours, theirs, svc);
    expect(merged.conflicts).toEqual([]);
    expect(merged.queue.series).toBe("# a series\r\npa.patch\t-p0\r\npc.patch\r\npb.patch\r\n");
    expect(merged.queue.patches["pa.patch"]).toBe(p0);
    expect((await finalTree(merged.queue))["a.c"]).toBe(edit(lines(40), 5, "line FIVE"));
  });
});

describe("a series line's explicit -p1 through a merge (verify-8)", () => {
  it("stays as it was written when neither side changed the line", async () => {
    const pa = patch("pa", A, [mod("a.c", lines(40), edit(lines(40), 5, "line FIVE"))]);
    const pb = patch("pb", A, [mod("b.c", lines(20, "bee"), edit(lines(20, "bee"), 3, "bee three"))]);
    const pc = patch("pc", B, [mod("b.c", lines(20, "bee"), edit(lines(20, "bee"), 15, "bee fifteen"))]);
    const base: QueueVersion = { series: "pa.patch\t-p1   \n", patches: { "pa.patch": pa } };
    const ours: QueueVersion = { series: `${base.series}pb.patch\n`, patches: { ...base.patches, "pb.patch": pb } };
    const theirs: QueueVersion = { series: `${base.series}pc.patch\n`, patches: { ...base.patches, "pc.patch": pc } };
    expect((await mergeQueues(base, ours, theirs, svc)).queue.series).toBe("pa.patch\t-p1   \npc.patch\npb.patch\n");
  });
});

describe("the advice of a restack that could not put the stack back (collab-17 F10)", () => {
  it("names the patch you were on only while it is still in the series", () => {
    const report = { popped: [], pushed: [], top: "P.patch", stoppedAt: "P.patch", error: "Q.patch does not apply", wasTop: "N.patch" };
    const gone = restackFailure({ ...report, left: [{ name: "N.patch", why: "made-meanwhile" }] })!;
    expect(gone.details.at(-1)).toBe(
      "then pq push (or pq goto) as far as you want: N.patch, the patch you were on, is no longer in the series",
    );
    expect(restackFailure(report)!.details.at(-1)).toBe("then pq goto N.patch, the patch you were on");
  });
});

describe("modes in a patch a sync merges or regenerates (t49 N6, N7)", () => {
  const pre = BASE_TREE["a.c"];
  const bee = BASE_TREE["b.c"];
  const chmod = (path: string, from: string, to: string) => `diff --git a/${path} b/${path}\nold mode ${from}\nnew mode ${to}\n`;
  const withMode = (aEdit: [number, string], mode: string | null) =>
    patch("one", A, [...(mode ? [chmod("b.c", "100644", mode)] : []), mod("a.c", pre, edit(pre, ...aEdit))]);
  /** The mode lines the merged patch gives b.c (none: it leaves b.c's mode). */
  const modeOfB = (text: string) => /^diff --git a\/b.c b\/b.c\nold mode (\d+)\nnew mode (\d+)$/m.exec(text)?.slice(1) ?? null;

  it("keeps a mode changed alone (chmod +x, no content) when both sides edited another file of the patch", async () => {
    const base: QueueVersion = {
      series: "p1\n",
      patches: { p1: patch("one", A, [chmod("b.c", "100644", "100755"), mod("a.c", pre, edit(pre, 20, "twenty"))]) },
    };
    const ours = {
      series: "p1\n",
      patches: { p1: patch("one", A, [chmod("b.c", "100644", "100755"), mod("a.c", pre, edit(edit(pre, 20, "twenty"), 2, "two (ours)"))]) },
    };
    const theirs = {
      series: "p1\n",
      patches: {
        p1: patch("one", A, [chmod("b.c", "100644", "100755"), mod("a.c", pre, edit(edit(pre, 20, "twenty"), 35, "35 (theirs)"))]),
      },
    };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.conflicts).toEqual([]);
    // The merge rebuilt the patch from contents alone: b.c's chmod, no content change, was gone for both.
    expect(modeOfB(r.queue.patches.p1)).toEqual(["100644", "100755"]);
    expect(r.queue.patches.p1).toContain("+two (ours)");
    expect(r.queue.patches.p1).toContain("+35 (theirs)");
  });

  it("merges the mode three-way: one side's removal of a chmod holds against the other side's edit", async () => {
    const base: QueueVersion = { series: "p1\n", patches: { p1: withMode([5, "five"], "100755") } };
    const ours = {
      series: "p1\n",
      patches: {
        // b.c edited, its chmod kept: the merge wrote whichever side's mode came last.
        p1: patch("one", A, [modAndChmod("b.c", bee, edit(bee, 10, "ten (ours)")), mod("a.c", pre, edit(pre, 5, "five"))]),
      },
    };
    const theirs = { series: "p1\n", patches: { p1: withMode([5, "five"], null) } };
    await eachWayRound(base, ours, theirs, async (r) => {
      expect(r.conflicts).toEqual([]);
      expect(r.queue.patches.p1).toMatch(/^diff --git a\/b.c b\/b.c\nindex [0-9a-f]+\.\.[0-9a-f]+ 100644$/m);
      expect(r.queue.patches.p1).toContain("+ten (ours)");
    });
  });

  it("adds both sides' chmods of different files", async () => {
    const base: QueueVersion = { series: "p1\n", patches: { p1: withMode([5, "five"], null) } };
    const ours = { series: "p1\n", patches: { p1: withMode([5, "five"], "100755") } };
    const theirs = {
      series: "p1\n",
      patches: {
        p1: patch("one", A, [modAndChmod("a.c", pre, edit(pre, 5, "five"))]),
      },
    };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.conflicts).toEqual([]);
    expect(modeOfB(r.queue.patches.p1)).toEqual(["100644", "100755"]);
    expect(r.queue.patches.p1).toMatch(/^diff --git a\/a.c b\/a.c\nold mode 100644\nnew mode 100755$/m);
  });

  it("keeps a mode changed alone in a later patch regenerated because its context moved", async () => {
    const post1 = edit(pre, 5, "five");
    const p1 = patch("one", A, [mod("a.c", pre, post1)]);
    const later = patch("later", B, [chmod("b.c", "100644", "100755"), mod("a.c", post1, edit(post1, 30, "thirty"))]);
    const base: QueueVersion = { series: "p1\nlater\n", patches: { p1, later } };
    const ours = {
      series: base.series,
      patches: { p1: patch("one", A, [mod("a.c", pre, edit(post1, 2, "two\nextra 1\nextra 2"))]), later },
    };
    const theirs = {
      series: "p1\nlater\nnew\n",
      patches: { p1, later, new: patch("new", B, [mod("b.c", BASE_TREE["b.c"], edit(BASE_TREE["b.c"], 1, "uno"))]) },
    };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.notes.join("\n")).toContain("later: regenerated");
    expect(modeOfB(r.queue.patches.later)).toEqual(["100644", "100755"]);
  });
});

describe("renames in a patch a sync merges (t49 N4, N5, N8)", () => {
  const pre = BASE_TREE["a.c"];
  const move = (to: string, content: string) => createFilePatch({ oldPath: "a.c", newPath: to, oldContent: pre, newContent: content });
  const base: QueueVersion = { series: "p1\n", patches: { p1: patch("one", A, [mod("a.c", pre, edit(pre, 5, "five"))]) } };

  it("follows a rename on one side with the other side's edit of the file, either way round", async () => {
    const ours = { series: "p1\n", patches: { p1: patch("one", A, [move("z.c", edit(pre, 5, "five"))]) } };
    const theirs = {
      series: "p1\n",
      patches: { p1: patch("one", A, [mod("a.c", pre, edit(edit(pre, 5, "five"), 30, "thirty (theirs)"))]) },
    };
    await eachWayRound(base, ours, theirs, async (r) => {
      // It was a false "conflict markers in a.c", whose resolution pushed a copy beside the rename.
      expect(r.conflicts).toEqual([]);
      expect(r.queue.patches.p1).toContain("rename from a.c\nrename to z.c\n");
      expect(r.queue.patches.p1).not.toContain("new file mode");
      const sim = await simulateQueue(r.queue, svc.baseFile);
      expect(await sim.current("a.c")).toBeNull();
      expect(await sim.current("z.c")).toBe(edit(edit(pre, 5, "five"), 30, "thirty (theirs)"));
    });
  });

  it("stops on one file renamed to two names, yours kept with both sides' edits, not a rename and a copy", async () => {
    const ours = { series: "p1\n", patches: { p1: patch("one", A, [move("ours.c", edit(edit(pre, 5, "five"), 2, "two (ours)"))]) } };
    const theirs = { series: "p1\n", patches: { p1: patch("one", A, [move("theirs.c", edit(edit(pre, 5, "five"), 35, "35 (theirs)"))]) } };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.conflicts.map((c) => [c.patch, c.kind])).toEqual([["p1", "rename"]]);
    expect(r.conflicts[0].message).toContain("a.c is renamed to ours.c in yours and to theirs.c in theirs: yours is kept (ours.c)");
    expect(r.queue.patches.p1).toContain("rename from a.c\nrename to ours.c\n");
    expect(r.queue.patches.p1).not.toContain("theirs.c");
    const sim = await simulateQueue(r.queue, svc.baseFile);
    expect(await sim.current("ours.c")).toBe(edit(edit(edit(pre, 5, "five"), 2, "two (ours)"), 35, "35 (theirs)"));
  });

  it("says a file deleted on one side and changed on the other as that, not as conflict markers", async () => {
    const ours = {
      series: "p1\n",
      patches: { p1: patch("one", A, [createFilePatch({ oldPath: "a.c", newPath: null, oldContent: pre, newContent: null })]) },
    };
    const theirs = { series: "p1\n", patches: { p1: patch("one", A, [mod("a.c", pre, edit(edit(pre, 5, "five"), 30, "thirty"))]) } };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.conflicts.map((c) => c.message)).toEqual([expect.stringContaining("p1: a.c: deleted on one side, changed on the other")]);
    expect(r.conflicts[0].message).not.toContain("markers");
    // Its own kind for --json, the TUI and the advice (t50 N6, N8: it had been "content", whose advice is to edit markers).
    expect(r.conflicts.map((c) => [c.kind, c.files])).toEqual([["delete-change", ["a.c"]]]);
  });

  it("a file deleted on one side and moved on the other is kept under its new name, a delete/change conflict that names that file (t50 N8)", async () => {
    const ours = {
      series: "p1\n",
      patches: { p1: patch("one", A, [createFilePatch({ oldPath: "a.c", newPath: null, oldContent: pre, newContent: null })]) },
    };
    const moved = edit(edit(pre, 5, "five"), 30, "thirty (theirs)");
    const theirs = {
      series: "p1\n",
      patches: { p1: patch("one", A, [createFilePatch({ oldPath: "a.c", newPath: "m.c", oldContent: pre, newContent: moved })]) },
    };
    await eachWayRound(base, ours, theirs, async (r) => {
      expect(r.conflicts.map((c) => [c.patch, c.kind, c.files])).toEqual([["p1", "delete-change", ["m.c"]]]);
      expect(r.conflicts[0].message).toContain(
        "a.c: deleted on one side, moved to m.c (and maybe changed) on the other: the moved one is kept as m.c",
      );
      const sim = await simulateQueue(r.queue, svc.baseFile);
      expect(await sim.current("m.c")).toBe(moved);
      expect(await sim.current("a.c")).toBeNull();
    });
  });

  it("carries a patch's edit of a file to the name a patch below now renames it to", async () => {
    const p2 = patch("two", B, [mod("a.c", edit(pre, 5, "five"), edit(edit(pre, 5, "five"), 20, "twenty (p2)"))]);
    const b2: QueueVersion = { series: "p1\np2\n", patches: { ...base.patches, p2 } };
    const theirs = { series: b2.series, patches: { p1: patch("one", A, [move("z.c", edit(pre, 5, "five"))]), p2 } };
    const ours = {
      series: b2.series,
      patches: {
        p1: base.patches.p1,
        p2: patch("two", B, [mod("a.c", edit(pre, 5, "five"), edit(edit(pre, 5, "five"), 21, "21 (ours)"))]),
      },
    };
    const r = await mergeQueues(b2, ours, theirs, svc);
    // p2 had been rewritten to make the whole of a.c again, with a conflict that had no markers.
    expect(r.conflicts).toEqual([]);
    expect(r.notes.join("\n")).toContain("p2: its change of a.c follows it to z.c");
    expect(r.queue.patches.p2).toMatch(/^diff --git a\/z.c b\/z.c$/m);
    expect(r.queue.patches.p2).not.toContain("new file mode");
    const sim = await simulateQueue(r.queue, svc.baseFile);
    expect(await sim.current("a.c")).toBeNull();
    expect(await sim.current("z.c")).toBe(edit(edit(pre, 5, "five"), 21, "21 (ours)"));
  });
});

describe("moves a sync follows, more (t50 N4, N9, N15)", () => {
  const pre = BASE_TREE["a.c"];
  const base: QueueVersion = { series: "p1\n", patches: { p1: patch("one", A, [mod("a.c", pre, edit(pre, 5, "five"))]) } };
  const move = (to: string, content: string, modes: { oldMode?: string; newMode?: string } = {}) =>
    createFilePatch({ oldPath: "a.c", newPath: to, oldContent: pre, newContent: content, ...modes });

  it("keeps one side's chmod of a file the other side renames, either way round", async () => {
    const ours = { series: "p1\n", patches: { p1: patch("one", A, [move("z.c", edit(pre, 5, "five"))]) } };
    const theirs = {
      series: "p1\n",
      patches: {
        p1: patch("one", A, [modAndChmod("a.c", pre, edit(pre, 5, "five"))]),
      },
    };
    await eachWayRound(base, ours, theirs, async (r) => {
      expect(r.conflicts).toEqual([]);
      expect(r.queue.patches.p1).toContain("diff --git a/a.c b/z.c\nold mode 100644\nnew mode 100755\nrename from a.c\nrename to z.c\n");
    });
  });

  it("merges a rename onto a name the other side adds a file under as a file added on both sides, with markers: nothing of either is lost", async () => {
    const ours = { series: "p1\n", patches: { p1: patch("one", A, [move("z.c", edit(pre, 5, "five"))]) } };
    const theirs = {
      series: "p1\n",
      patches: {
        p1: patch("one", A, [
          mod("a.c", pre, edit(pre, 5, "five")),
          createFilePatch({ oldPath: null, newPath: "z.c", oldContent: null, newContent: "their own z\n" }),
        ]),
      },
    };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.conflicts.map((c) => [c.kind, c.files])).toEqual([["content", ["z.c"]]]);
    expect(r.queue.patches.p1).toContain("+their own z");
    expect(r.queue.patches.p1).toContain("+five");
  });

  it("follows a move written as a deletion and a new file (a second move, a plain mv) with the other side's edit", async () => {
    const renamed = edit(pre, 5, "five");
    const b2: QueueVersion = { series: "p1\n", patches: { p1: patch("one", A, [move("m2.c", renamed)]) } };
    // Ours moved it on with mv: a deletion of a.c and a new m3.c, each whole.
    const ours = {
      series: "p1\n",
      patches: {
        p1: patch("one", A, [
          createFilePatch({ oldPath: "a.c", newPath: null, oldContent: pre, newContent: null }),
          createFilePatch({ oldPath: null, newPath: "m3.c", oldContent: null, newContent: edit(renamed, 10, "ten (ours)") }),
        ]),
      },
    };
    const theirs = { series: "p1\n", patches: { p1: patch("one", A, [move("m2.c", edit(renamed, 20, "twenty (theirs)"))]) } };
    const r = await mergeQueues(b2, ours, theirs, svc);
    expect(r.conflicts).toEqual([]);
    expect(r.queue.patches.p1).toContain("rename from a.c\nrename to m3.c\n");
    const sim = await simulateQueue(r.queue, svc.baseFile);
    expect(await sim.current("m2.c")).toBeNull();
    expect(await sim.current("m3.c")).toBe(edit(edit(renamed, 10, "ten (ours)"), 20, "twenty (theirs)"));
  });
});

describe("a patch over a lower patch that now moves or changes its file (t50 N5, N6, N10)", () => {
  const pre = BASE_TREE["a.c"];
  const bee = BASE_TREE["b.c"];
  const p1 = patch("one", A, [mod("b.c", bee, edit(bee, 1, "uno"))]);

  it("a move of its own over a lower move of the same file to another name: a rename conflict, its move kept from the lower's name", async () => {
    const p2 = patch("two", B, [createFilePatch({ oldPath: "a.c", newPath: "x.c", oldContent: pre, newContent: edit(pre, 30, "thirty") })]);
    const base: QueueVersion = { series: "p1\np2\n", patches: { p1, p2 } };
    const theirs = {
      series: base.series,
      patches: {
        p1: patch("one", A, [
          mod("b.c", bee, edit(bee, 1, "uno")),
          createFilePatch({ oldPath: "a.c", newPath: "z.c", oldContent: pre, newContent: edit(pre, 5, "five") }),
        ]),
        p2,
      },
    };
    const ours = {
      series: base.series,
      patches: {
        p1,
        p2: patch("two", B, [createFilePatch({ oldPath: "a.c", newPath: "x.c", oldContent: pre, newContent: edit(pre, 31, "31") })]),
      },
    };
    const r = await mergeQueues(base, ours, theirs, svc);
    // It had become a whole second copy of the file.
    expect(r.conflicts.map((c) => [c.patch, c.kind])).toEqual([["p2", "rename"]]);
    expect(r.queue.patches.p2).toContain("rename from z.c\nrename to x.c\n");
    const sim = await simulateQueue(r.queue, svc.baseFile);
    expect(await sim.current("z.c")).toBeNull();
    expect(await sim.current("x.c")).toBe(edit(edit(pre, 5, "five"), 31, "31"));
  });

  it("a deletion over a lower patch's new edit of the file is said as that, not as markers", async () => {
    const p2 = patch("two", B, [createFilePatch({ oldPath: "b.c", newPath: null, oldContent: edit(bee, 1, "uno"), newContent: null })]);
    const base: QueueVersion = { series: "p1\np2\n", patches: { p1, p2 } };
    const theirs = { series: base.series, patches: { p1: patch("one", A, [mod("b.c", bee, edit(edit(bee, 1, "uno"), 10, "ten"))]), p2 } };
    const ours = {
      series: base.series,
      patches: {
        p1,
        p2: patch("two", B, [
          createFilePatch({ oldPath: "b.c", newPath: null, oldContent: edit(bee, 1, "uno"), newContent: null }),
          mod("a.c", pre, edit(pre, 2, "two")),
        ]),
      },
    };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.conflicts.map((c) => c.message)).toEqual([
      expect.stringContaining("p2: b.c: deleted by this patch, changed by a patch below"),
    ]);
    expect(r.conflicts.map((c) => [c.kind, c.files])).toEqual([["delete-change", ["b.c"]]]);
  });

  it("an edit over a lower chain of moves (a rename, then a move written as a deletion and a new file) follows the file to its last name", async () => {
    const moved = (from: string, to: string, text: string) =>
      createFilePatch({ oldPath: from, newPath: to, oldContent: text, newContent: text });
    const c = patch("c", B, [mod("a.c", pre, edit(pre, 28, "28 (c)"))]);
    const base: QueueVersion = { series: "c\n", patches: { c } };
    const theirs = {
      series: "p1\np2\nc\n",
      patches: {
        p1: patch("one", A, [moved("a.c", "m2.c", pre)]),
        p2: patch("two", A, [
          createFilePatch({ oldPath: "m2.c", newPath: null, oldContent: pre, newContent: null }),
          createFilePatch({ oldPath: null, newPath: "m3.c", oldContent: null, newContent: pre }),
        ]),
        c,
      },
    };
    const ours = { series: "c\n", patches: { c: patch("c", B, [mod("a.c", pre, edit(pre, 29, "29 (c)"))]) } };
    const r = await mergeQueues(base, ours, theirs, svc);
    await expectCleanMerge(r, { "a.c": null, "m3.c": edit(pre, 29, "29 (c)") });
  });
});

describe("a file deleted on one side and chmodded alone on the other (t50 N14)", () => {
  it("is a modify/delete conflict, the chmodded one kept, as git merge says it", async () => {
    const pre = BASE_TREE["a.c"];
    const bee = BASE_TREE["b.c"];
    const p1 = patch("one", A, [mod("a.c", pre, edit(pre, 5, "five"))]);
    const base: QueueVersion = { series: "p1\n", patches: { p1 } };
    const ours = {
      series: "p1\n",
      patches: {
        p1: patch("one", A, [
          mod("a.c", pre, edit(pre, 5, "five")),
          createFilePatch({ oldPath: "b.c", newPath: null, oldContent: bee, newContent: null }),
        ]),
      },
    };
    const theirs = {
      series: "p1\n",
      patches: {
        p1: patch("one", A, [mod("a.c", pre, edit(pre, 5, "five")), "diff --git a/b.c b/b.c\nold mode 100644\nnew mode 100755\n"]),
      },
    };
    await eachWayRound(base, ours, theirs, async (r) => {
      // It merged silently as the deletion.
      expect(r.conflicts.map((c) => c.message)).toEqual([expect.stringContaining("p1: b.c: deleted on one side, changed on the other")]);
      expect(r.queue.patches.p1).toMatch(/^diff --git a\/b.c b\/b.c\nold mode 100644\nnew mode 100755$/m);
    });
  });
});

describe("two files moved to one name, one on each side (t52 N17)", () => {
  it("merges the name as a file added on both sides, with markers: neither file's content is lost", async () => {
    const [pre, bee] = [BASE_TREE["a.c"], BASE_TREE["b.c"]];
    const base: QueueVersion = { series: "p1\n", patches: { p1: patch("one", A, [mod("a.c", pre, edit(pre, 5, "five"))]) } };
    const ours = {
      series: "p1\n",
      patches: {
        p1: patch("one", A, [
          mod("a.c", pre, edit(pre, 5, "five")),
          createFilePatch({ oldPath: "b.c", newPath: "z.c", oldContent: bee, newContent: bee }),
        ]),
      },
    };
    const theirs = {
      series: "p1\n",
      patches: {
        p1: patch("one", A, [createFilePatch({ oldPath: "a.c", newPath: "z.c", oldContent: pre, newContent: edit(pre, 5, "five") })]),
      },
    };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.conflicts.map((c) => [c.kind, c.files])).toEqual([["content", ["z.c"]]]);
    const z = applyFilePatch(
      bee,
      parsePatch(r.queue.patches.p1).files.find((f) => f.newPath === "z.c")!,
    ).content!;
    expect(z).toContain("bee 1\n");
    expect(z).toContain("line 1\n");
    expect(z).toContain("<<<<<<< ours");
  });
});

describe("a new file made under another name, and a move over a lower change (t52 N9, N10)", () => {
  const pre = BASE_TREE["a.c"];
  const made = lines(40, "made");
  const creates = (name: string, text: string) => createFilePatch({ oldPath: null, newPath: name, oldContent: null, newContent: text });

  it("an edit of a file a lower patch now makes under another name follows it there", async () => {
    const p2 = patch("two", B, [mod("f.c", made, edit(made, 30, "thirty (p2)"))]);
    const base: QueueVersion = { series: "p1\np2\n", patches: { p1: patch("one", A, [creates("f.c", made)]), p2 } };
    const theirs = { series: base.series, patches: { p1: patch("one", A, [creates("h.c", edit(made, 5, "five"))]), p2 } };
    const ours = {
      series: base.series,
      patches: { p1: base.patches.p1, p2: patch("two", B, [mod("f.c", made, edit(made, 31, "31 (p2)"))]) },
    };
    const r = await mergeQueues(base, ours, theirs, svc);
    // It was "deleted by a patch below", and the patch made the whole of f.c again.
    await expectCleanMerge(r, { "f.c": null, "h.c": edit(edit(made, 5, "five"), 31, "31 (p2)") });
  });

  it("in one patch: one side makes the file under another name, the other edits it: one file with both", async () => {
    const base: QueueVersion = { series: "p1\n", patches: { p1: patch("one", A, [creates("f.c", made)]) } };
    const ours = { series: "p1\n", patches: { p1: patch("one", A, [creates("f.c", edit(made, 30, "thirty (ours)"))]) } };
    const theirs = { series: "p1\n", patches: { p1: patch("one", A, [creates("h.c", edit(made, 5, "five (theirs)"))]) } };
    const r = await mergeQueues(base, ours, theirs, svc);
    await expectCleanMerge(r, { "f.c": null, "h.c": edit(edit(made, 5, "five (theirs)"), 30, "thirty (ours)") });
  });

  it("a move written as a deletion and a new file, over a lower patch's new change of the file, takes the change along", async () => {
    const p1 = patch("one", A, [mod("a.c", pre, edit(pre, 5, "five"))]);
    const p2 = patch("two", B, [
      createFilePatch({ oldPath: "a.c", newPath: null, oldContent: edit(pre, 5, "five"), newContent: null }),
      creates("m2.c", edit(edit(pre, 5, "five"), 20, "twenty (p2)")),
    ]);
    // Ours added p2; theirs changed p1 meanwhile.
    const base: QueueVersion = { series: "p1\n", patches: { p1 } };
    const theirs = { series: "p1\n", patches: { p1: patch("one", A, [mod("a.c", pre, edit(edit(pre, 5, "five"), 10, "ten (p1)"))]) } };
    const ours = { series: "p1\np2\n", patches: { p1, p2 } };
    const r = await mergeQueues(base, ours, theirs, svc);
    await expectCleanMerge(r, { "a.c": null, "m2.c": edit(edit(edit(pre, 5, "five"), 10, "ten (p1)"), 20, "twenty (p2)") });
  });
});

describe("a move onto a name a lower patch now uses, and a chmod against a move written whole (t52 N18, N12)", () => {
  const [pre, bee] = [BASE_TREE["a.c"], BASE_TREE["b.c"]];

  it("stops as a conflict instead of pushing a queue whose patch renames onto a file that is there", async () => {
    const p1 = patch("one", A, [mod("a.c", pre, edit(pre, 5, "five"))]);
    const base: QueueVersion = { series: "p1\n", patches: { p1 } };
    const theirs = {
      series: "p1\n",
      patches: {
        p1: patch("one", A, [createFilePatch({ oldPath: "a.c", newPath: "z.c", oldContent: pre, newContent: edit(pre, 5, "five") })]),
      },
    };
    const ours = {
      series: "p1\np2\n",
      patches: { p1, p2: patch("two", B, [createFilePatch({ oldPath: "b.c", newPath: "z.c", oldContent: bee, newContent: bee })]) },
    };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.conflicts.map((c) => [c.patch, c.kind])).toEqual([["p2", "content"]]);
    // Every state of the merged queue applies (the markers are the conflict's).
    const sim = await simulateQueue(r.queue, svc.baseFile);
    expect([...sim.runs.values()].every((run) => run.ok)).toBe(true);
  });

  it("keeps one side's chmod against the other side's move written as a deletion and a new file, with no note of a clash", async () => {
    const base: QueueVersion = { series: "p1\n", patches: { p1: patch("one", A, [mod("a.c", pre, edit(pre, 5, "five"))]) } };
    const ours = {
      series: "p1\n",
      patches: {
        p1: patch("one", A, [modAndChmod("a.c", pre, edit(edit(pre, 5, "five"), 20, "twenty"))]),
      },
    };
    const theirs = {
      series: "p1\n",
      patches: {
        p1: patch("one", A, [
          createFilePatch({ oldPath: "a.c", newPath: null, oldContent: pre, newContent: null }),
          createFilePatch({ oldPath: null, newPath: "m2.c", oldContent: null, newContent: edit(edit(pre, 5, "five"), 10, "ten") }),
        ]),
      },
    };
    const r = await mergeQueues(base, ours, theirs, svc);
    expect(r.conflicts).toEqual([]);
    expect(r.notes.join("\n")).not.toContain("both sides set another mode");
    expect(r.queue.patches.p1).toContain("diff --git a/a.c b/m2.c\nold mode 100644\nnew mode 100755\nrename from a.c\nrename to m2.c\n");
  });
});

describe("a rename conflict into another folder (t52 N6)", () => {
  it("says the mkdir its mv needs first", async () => {
    const pre = BASE_TREE["a.c"];
    const move = (to: string) => createFilePatch({ oldPath: "a.c", newPath: to, oldContent: pre, newContent: pre });
    const base: QueueVersion = { series: "p1\n", patches: { p1: patch("one", A, [mod("a.c", pre, edit(pre, 5, "five"))]) } };
    const r = await mergeQueues(
      base,
      { series: "p1\n", patches: { p1: patch("one", A, [move("d/ours.c")]) } },
      { series: "p1\n", patches: { p1: patch("one", A, [move("e/theirs.c")]) } },
      svc,
    );
    expect(r.conflicts[0].message).toContain("for theirs, mkdir -p e, mv d/ours.c e/theirs.c, pq add e/theirs.c and pq refresh");
  });
});

describe("a patch's move of a file a lower patch now deletes (t53 N1)", () => {
  it("is a conflict, as git rebase's rename/delete, not the deleted file made again in silence", async () => {
    const pre = BASE_TREE["a.c"];
    const p1 = patch("one", A, [mod("a.c", pre, edit(pre, 5, "five"))]);
    const base: QueueVersion = { series: "p1\n", patches: { p1 } };
    const theirs = {
      series: "p1\n",
      patches: { p1: patch("one", A, [createFilePatch({ oldPath: "a.c", newPath: null, oldContent: pre, newContent: null })]) },
    };
    const p2 = patch("two", B, [
      createFilePatch({
        oldPath: "a.c",
        newPath: "m2.c",
        oldContent: edit(pre, 5, "five"),
        newContent: edit(edit(pre, 5, "five"), 20, "twenty"),
      }),
    ]);
    const r = await mergeQueues(base, { series: "p1\np2\n", patches: { p1, p2 } }, theirs, svc);
    expect(r.conflicts.map((c) => c.message)).toEqual([
      expect.stringContaining("p2: m2.c: moved here from a.c, which a patch below now deletes"),
    ]);
  });
});
