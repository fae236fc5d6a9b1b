import { afterAll, describe, expect, it } from "vitest";
import { validFor, VerdictCache, verdictKey } from "../../src/ci/verdict-cache.js";
import type { BootResult } from "../../src/emulator/index.js";
import { cleanup, tempDir } from "../helpers/repo.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));

const boot = (verdict: BootResult["verdict"], msToVerdict: number): BootResult => ({
  backend: "native",
  verdict,
  log: "",
  lines: [],
  msToVerdict,
});

describe("remembered boot verdicts across hang limits", () => {
  it("a verdict holds for any limit it came within; a hang for any limit up to the one it waited out", () => {
    expect(validFor({ verdict: "pass", msToVerdict: 800, timeoutMs: 20_000 }, 5000)).toBe(true);
    expect(validFor({ verdict: "fail", msToVerdict: 6000, timeoutMs: 20_000 }, 5000)).toBe(false);
    expect(validFor({ verdict: "fail", msToVerdict: 6000, timeoutMs: 20_000 }, 20_000)).toBe(true);
    // Reached under the same or a shorter limit, even if start-up made it take longer than the limit.
    expect(validFor({ verdict: "pass", msToVerdict: 1900, timeoutMs: 1500 }, 1500)).toBe(true);
    expect(validFor({ verdict: "pass", msToVerdict: 1900, timeoutMs: 1500 }, 5000)).toBe(true);
    expect(validFor({ verdict: "hang", msToVerdict: 5200, timeoutMs: 5000 }, 1500)).toBe(true);
    expect(validFor({ verdict: "hang", msToVerdict: 5200, timeoutMs: 5000 }, 20_000)).toBe(false);
  });

  it("the key leaves the limit out, the entry keeps it, and an entry without it is not trusted", () => {
    const dir = tempDir("pq-verdicts-");
    dirs.push(dir);
    const cache = new VerdictCache(dir);
    const key = verdictKey("f".repeat(64), { backend: "xen", timeoutMs: 5000 });
    expect(verdictKey("f".repeat(64), { backend: "xen", timeoutMs: 20_000 })).toBe(key);
    expect(verdictKey("f".repeat(64), { backend: "vmi", timeoutMs: 5000 })).not.toBe(key);
    cache.put(key, boot("pass", 700), 20_000);
    expect(cache.get(key)).toMatchObject({ verdict: "pass", msToVerdict: 700, timeoutMs: 20_000 });
    const old = verdictKey("e".repeat(64), { backend: "xen" });
    (cache as unknown as { store: { put(k: string, v: unknown): void } }).store.put(old, {
      backend: "xen",
      verdict: "pass",
      log: "",
      msToVerdict: 700,
    });
    expect(cache.get(old)).toBeNull();
  });
});
