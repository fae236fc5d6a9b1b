import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
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
