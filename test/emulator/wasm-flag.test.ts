import { describe, expect, it } from "vitest";
import { BootPool } from "../../src/emulator/pool.js";

describe("V8's baseline-only WebAssembly flag", () => {
  it("a pool of boot workers sets it from the thread that made the pool, where the launcher looks for its mark (t135 N2)", async () => {
    const mark = Symbol.for("pq.wasm-baseline-only");
    const seen = globalThis as { [mark]?: string };
    expect(seen[mark]).toBeUndefined();
    const pool = new BootPool({ workers: 2 });
    try {
      // Set while running (not by the launcher at start): the launcher then writes no code cache, which V8 would reject next run.
      expect(seen[mark]).toBe("set while running");
    } finally {
      await pool.close();
    }
  });
});
