import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir } from "./repo.js";

const FIXTURES = resolve("test/fixtures/kernels");

/** A tree holding one fixture kernel variant (pass, fail, spin, panic, triple-fault, compile-error). */
export function fixtureKernelTree(variant: string, into = tempDir("pq-kernel-")): string {
  mkdirSync(into, { recursive: true });
  for (const f of readdirSync(join(FIXTURES, "common"))) copyFileSync(join(FIXTURES, "common", f), join(into, f));
  copyFileSync(join(FIXTURES, "variants", `${variant}.c`), join(into, "main.c"));
  return into;
}

/**
 * A copy of a fixture queue whose series ends after its first `keep` patches. A defect that hangs
 * waits out the hang limit at every state from the bad patch on: two such states show "from k on"
 * as well as seven do, for a third of the waiting.
 */
export function seriesPrefix(queue: string, keep: number, into = tempDir("pq-queue-prefix-")): string {
  cpSync(queue, into, { recursive: true });
  const series = readFileSync(join(queue, "series"), "utf8").split("\n").filter(Boolean);
  if (keep > series.length) throw new Error(`${queue} has ${series.length} patches, fewer than ${keep}`);
  writeFileSync(join(into, "series"), series.slice(0, keep).join("\n") + "\n");
  return into;
}
