/**
 * Random command sequences against the reference model (test/model/stack-model.ts).
 * npm test runs a short, seeded run; `npm run fuzz` runs a long one (PQ_MODEL_RUNS,
 * PQ_MODEL_SEED). A failure prints the seed and the shrunk sequence to reproduce it.
 */
import fc from "fast-check";
import { appendFileSync } from "node:fs";
import { describe, it } from "vitest";
import { cleanupReal, commandArbitraries, newModel, setupReal } from "./stack-model.js";

const runs = Number(process.env.PQ_MODEL_RUNS ?? 6);
const seed = Number(process.env.PQ_MODEL_SEED ?? 20261125);
let steps = 0;

describe("the stack against its reference model", () => {
  it(`${runs} random sequences (seed ${seed})`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.commands(commandArbitraries(), { maxCommands: Number(process.env.PQ_MODEL_LENGTH ?? 40), size: "max" }),
        async (cmds) => {
          const real = await setupReal();
          try {
            await fc.asyncModelRun(
              () => ({ model: newModel(), real }),
              [...cmds].map((c) => {
                const run = c.run.bind(c);
                c.run = async (m, r) => {
                  if (++steps % 1000 === 0 && process.env.PQ_MODEL_PROGRESS)
                    appendFileSync(process.env.PQ_MODEL_PROGRESS, `${new Date().toISOString()} ${steps} steps\n`);
                  await run(m, r);
                };
                return c;
              }),
            );
          } finally {
            cleanupReal(real.dir);
          }
        },
      ),
      {
        numRuns: runs,
        seed,
        endOnFailure: process.env.PQ_MODEL_SHRINK !== "1",
        // Replays one failure: the seed and path fast-check printed.
        ...(process.env.PQ_MODEL_PATH ? { path: process.env.PQ_MODEL_PATH } : {}),
      },
    );
    console.log(`model: ${runs} sequences, ${steps} steps, seed ${seed}`);
  }, 3_600_000);
});
