/**
 * Boot verdicts remembered by what decides them: the kernel image's bytes (by hash), the
 * backend, the full command line, the hang limit, the memory size and the emulator's
 * identity. Patch names and positions are not part of the key, so a renamed or reordered
 * patch whose state links the same image reuses its verdict. Stored next to the object
 * cache ($PQ_CACHE_DIR/verdicts), bounded, least recently used first out.
 */
import { join } from "node:path";
import { LruStore, sha256 } from "../build/lru-store.js";
import { bootCmdline, DEFAULT_BOOT_TIMEOUT_MS, type BootOptions, type BootResult } from "../emulator/boot.js";
import { emulatorIdentity } from "../emulator/identity.js";

const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;
const VERDICTS = new Set(["pass", "fail", "skip", "panic", "hang", "crash"]);

export type CachedBoot = Omit<BootResult, "lines">;

export function verdictKey(imageSha: string, opts: BootOptions): string {
  const parts = {
    image: imageSha,
    backend: opts.backend,
    cmdline: bootCmdline(opts),
    timeoutMs: opts.timeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS,
    memoryMB: opts.memoryMB ?? 32,
    emulator: emulatorIdentity(),
  };
  return sha256(JSON.stringify(parts));
}

export class VerdictCache {
  private store: LruStore<CachedBoot>;

  constructor(cacheDir: string, maxBytes = DEFAULT_MAX_BYTES) {
    this.store = new LruStore<CachedBoot>(join(cacheDir, "verdicts"), maxBytes);
  }

  get(key: string): CachedBoot | null {
    const e = this.store.get(key);
    const m = e?.meta;
    // A well-formed file with a nonsensical body is as untrustworthy as a torn one.
    if (
      !m ||
      typeof m !== "object" ||
      !VERDICTS.has(m.verdict) ||
      typeof m.backend !== "string" ||
      typeof m.log !== "string" ||
      typeof m.msToVerdict !== "number"
    )
      return null;
    return m;
  }

  put(key: string, result: BootResult): void {
    const { lines: _lines, ...kept } = result;
    this.store.put(key, kept);
  }

  prune() {
    return this.store.prune();
  }
}
