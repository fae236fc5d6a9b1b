/**
 * Model-based check of the semantic merge: random queues where each patch replaces some
 * lines of one file (lines far enough apart that no two changes touch each other), and
 * two sides that independently add patches anywhere, refresh patches (both sides may
 * refresh the same one), delete patches the other side leaves alone, and move one patch.
 * Whatever the mix, the merge must have no conflict, apply in every state, and end with
 * exactly the union of both sides' line changes.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitRepo } from "../../src/git/repo.js";
import { createFilePatch } from "../../src/patch/index.js";
import { mergeQueues } from "../../src/collab/queue-merge.js";
import { simulateQueue } from "../../src/collab/simulate.js";
import type { MergeServices, QueueVersion } from "../../src/collab/types.js";
import { cleanup, makeRepo } from "../helpers/repo.js";

const LINES = 400;
const BASE = Array.from({ length: LINES }, (_, i) => `line ${i + 1}\n`);

/** A patch: replacements of whole base lines (1-based) by one or two new lines. */
interface Model {
  name: string;
  edits: Map<number, string>;
}

const render = (edits: Map<number, string>) => BASE.map((l, i) => edits.get(i + 1) ?? l).join("");

/** The queue text of a side: unchanged patches keep the base bytes, changed/added ones are made on this side. */
function queueOf(order: Model[], baseText: Map<string, string>, changed: Set<string>): QueueVersion {
  const patches: Record<string, string> = {};
  const applied = new Map<number, string>();
  for (const p of order) {
    const before = render(applied);
    for (const [l, t] of p.edits) applied.set(l, t);
    patches[p.name] = !changed.has(p.name) && baseText.has(p.name) ? baseText.get(p.name)! : `Subject: ${p.name}\n\n` + createFilePatch({ oldPath: "a.c", newPath: "a.c", oldContent: before, newContent: render(applied) });
  }
  return { series: order.map((p) => p.name).join("\n") + "\n", patches };
}

let dir: string;
let svc: MergeServices;
beforeAll(async () => {
  dir = makeRepo({ "x": "x\n" });
  const git = (await GitRepo.open(dir))!;
  svc = { baseFile: async (p) => (p === "a.c" ? BASE.join("") : null), mergeFile: (o, b, t, l) => git.mergeFile(o, b, t, l) };
});
afterAll(() => cleanup(dir));

const op = fc.constantFrom("keep", "keep", "ours-refresh", "theirs-refresh", "both-refresh", "ours-delete", "theirs-delete");


describe.each([
  ["far apart (contexts never overlap)", 8, false],
  ["two lines apart (contexts overlap)", 2, false],
  ["on neighbouring lines (a conflict is allowed, a wrong result is not)", 1, true],
])("semantic merge, model-based: changes %s", (_label, stride, conflictsAllowed) => {
  it("keeps every change of both sides and every state applies", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 2, maxLength: 7 }),
        fc.array(fc.tuple(fc.boolean(), fc.nat(), fc.boolean()), { maxLength: 4 }), // additions: side, position, two lines?
        fc.option(fc.tuple(fc.boolean(), fc.nat(), fc.nat())), // one move: side, from, to
        fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }), // which new lines become two lines
        async (ops, adds, move, doubles) => {
          let slot = 0;
          const fresh = () => {
            const line = 3 + stride * slot;
            const text = doubles[slot % doubles.length] ? `new ${line}\nextra ${line}\n` : `new ${line}\n`;
            slot++;
            return [line, text] as const;
          };
          const base: Model[] = ops.map((_, i) => ({ name: `p${i}.patch`, edits: new Map([fresh()]) }));
          const baseText = new Map(Object.entries(queueOf(base, new Map(), new Set()).patches));
          const side = (which: "ours" | "theirs") => {
            const changed = new Set<string>();
            let order: Model[] = [];
            for (const [i, p] of base.entries()) {
              const o = ops[i];
              if (o === `${which}-delete`) continue;
              if (o === `${which}-refresh` || o === "both-refresh") {
                order.push({ name: p.name, edits: new Map([...p.edits, fresh()]) });
                changed.add(p.name);
              } else order.push(p);
            }
            for (const [k, [isOurs, pos, two]] of adds.entries()) {
              if (isOurs !== (which === "ours")) continue;
              const e = fresh();
              const p = { name: `${which}-new${k}.patch`, edits: new Map([two ? e : [e[0], `new ${e[0]}\n`]]) };
              order.splice(pos % (order.length + 1), 0, p);
              changed.add(p.name);
            }
            if (move && move[0] === (which === "ours") && order.length > 1) {
              const [m] = order.splice(move[1] % order.length, 1);
              order.splice(move[2] % (order.length + 1), 0, m);
            }
            return { order, version: queueOf(order, baseText, changed) };
          };
          const ours = side("ours");
          const theirs = side("theirs");
          // Only sides whose own queue applies (a move across a neighbouring change may not).
          for (const v of [ours.version, theirs.version]) fc.pre([...(await simulateQueue(v, svc.baseFile)).runs.values()].every((x) => x.ok));
          const r = await mergeQueues(queueOf(base, new Map(), new Set()), ours.version, theirs.version, svc);
          if (conflictsAllowed && r.conflicts.length) {
            // Stopped, never silently wrong: every conflict names its patch and keeps both versions.
            for (const c of r.conflicts) expect(c.kind === "content" ? /^\+<<<<<<< /m.test(r.queue.patches[c.patch]) : true, c.message).toBe(true);
            return;
          }
          expect(r.conflicts).toEqual([]);
          const sim = await simulateQueue(r.queue, svc.baseFile);
          for (const [name, run] of sim.runs) expect(run.ok, `${name}: ${run.failures.join("; ")}`).toBe(true);
          const expected = new Map<number, string>();
          for (const s of [ours, theirs]) for (const p of s.order) for (const [l, t] of p.edits) expected.set(l, t);
          // A patch one side deleted and the other left alone is gone with its change.
          for (const [i, p] of base.entries()) if (ops[i].endsWith("-delete")) for (const l of p.edits.keys()) expected.delete(l);
          expect(await sim.current("a.c")).toBe(render(expected));
          const names = new Set([...ours.order, ...theirs.order].map((p) => p.name));
          for (const [i, p] of base.entries()) if (ops[i].endsWith("-delete")) names.delete(p.name);
          expect(new Set(r.queue.series.trim().split("\n").filter(Boolean))).toEqual(names);
        },
      ),
      { numRuns: 60, seed: 20261125 },
    );
  });
});
