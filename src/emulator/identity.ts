/**
 * What identifies the emulator a verdict came from: the v86 package's version and the
 * hashes of its WebAssembly core and JavaScript devices, plus the version of pq's own
 * boot harness (how serial output becomes a verdict). A change to any of them makes
 * every cached verdict stale.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { sha256 } from "../build/lru-store.js";

/** Bump when the harness changes how a boot is judged (protocol parsing, skip rules, hang and crash detection). */
export const BOOT_HARNESS_VERSION = 2;

let identity: string | null = null;

export function v86Dir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve("v86/package.json"));
}

export function emulatorIdentity(): string {
  if (identity) return identity;
  const dir = v86Dir();
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version?: string };
  const wasm = sha256(readFileSync(join(dir, "build", "v86.wasm")));
  const js = sha256(readFileSync(join(dir, "build", "libv86.mjs")));
  identity = `v86@${pkg.version} wasm:${wasm.slice(0, 16)} js:${js.slice(0, 16)} harness:${BOOT_HARNESS_VERSION}`;
  return identity;
}
