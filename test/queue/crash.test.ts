import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, git, makeRepo, snapshot, tempDir, write } from "../helpers/repo.js";

const PQ = resolve("bin/pq.js");
const runPq = (cwd: string, ...args: string[]) => spawnSync(process.execPath, [PQ, ...args], { cwd, encoding: "utf8" });

/** A repo whose queue holds `count` patches touching 3 of 120 files each, all unapplied. */
function bigQueue(count: number): { dir: string; base: Record<string, string>; top: Record<string, string> } {
  const files: Record<string, string> = {};
  for (let f = 0; f < 120; f++) files[`src/file${f}.c`] = Array.from({ length: 60 }, (_, i) => `int f${f}_${i} = ${i};\n`).join("");
  const dir = makeRepo(files);
  const base = snapshot(dir);
  for (let p = 0; p < count; p++) {
    for (let k = 0; k < 3; k++) {
      const f = (p * 7 + k * 41) % 120;
      const path = join(dir, `src/file${f}.c`);
      const text = spawnSync("cat", [path], { encoding: "latin1" }).stdout;
      const line = (p * 13 + k) % 60;
      write(dir, `src/file${f}.c`, text.replace(new RegExp(`^(int f${f}_${line} = )(.*);$`, "m"), `$1$2 + ${p};`));
    }
    git(dir, "commit", "-qam", `change ${p}`);
  }
  const top = snapshot(dir);
  const patches = join(dir, "patches");
  git(dir, "format-patch", "-q", "--no-signature", "-o", patches, `HEAD~${count}`);
  git(dir, "reset", "-q", "--hard", `HEAD~${count}`);
  write(dir, "patches/series", readdirSync(patches).filter((n) => n.endsWith(".patch")).sort().join("\n") + "\n");
  return { dir, base, top };
}

describe("SIGKILL in the middle of push -a / pop -a", () => {
  let dir: string;
  let base: Record<string, string>;
  let top: Record<string, string>;
  beforeAll(() => {
    ({ dir, base, top } = bigQueue(300));
    expect(runPq(dir, "init").status).toBe(0);
  });
  afterAll(() => cleanup(dir));

  const withoutQueue = (s: Record<string, string>) => Object.fromEntries(Object.entries(s).filter(([p]) => !p.startsWith("patches/")));

  async function killAfter(args: string[], ms: number): Promise<void> {
    const child = spawn(process.execPath, [PQ, ...args], { cwd: dir, stdio: "ignore" });
    const exited = new Promise((r) => child.on("exit", r));
    await new Promise((r) => setTimeout(r, ms));
    child.kill("SIGKILL");
    await exited;
  }

  it("the next command repairs the tree to a whole state, every time", async () => {
    // Time one full push to spread the kills over it.
    const t0 = Date.now();
    expect(runPq(dir, "push", "-a").status).toBe(0);
    const full = Date.now() - t0;
    expect(runPq(dir, "pop", "-a").status).toBe(0);
    const seen = new Set<string>();
    for (const fraction of [0.3, 0.5, 0.65, 0.8, 0.9, 0.97]) {
      for (const op of [["push", "-a"], ["pop", "-a"]]) {
        // Start from the other end: a push from nothing applied, a pop from everything applied.
        expect(runPq(dir, op[0] === "push" ? "pop" : "push", "-a").status).toBe(0);
        await killAfter(op, Math.round(full * fraction));
        const applied = runPq(dir, "applied", "--json");
        expect(applied.status).toBe(0);
        const count = JSON.parse(applied.stdout).length;
        // One transaction: all or nothing, and the files match the recorded state exactly.
        expect([0, 300]).toContain(count);
        expect(withoutQueue(snapshot(dir))).toEqual(count === 0 ? base : top);
        seen.add(`${op[0]}:${count}`);
      }
    }
    // Nothing may be left behind: no journal, and the queue intact. A kill after the work but before the
    // lock's removal can leave the lock of a dead pid: the next writer takes it over (a read-only command
    // does not remove it: between its read and its removal a live pq could have taken the lock).
    expect(readdirSync(join(dir, ".pq")).filter((n) => n === "journal.json")).toEqual([]);
    if (existsSync(join(dir, ".pq", "lock"))) {
      const pid = Number(readFileSync(join(dir, ".pq", "lock"), "utf8"));
      expect(() => process.kill(pid, 0)).toThrow();
      expect(runPq(dir, "pop", "-a").status).toBe(0);
      expect(existsSync(join(dir, ".pq", "lock"))).toBe(false);
    }
    expect(seen.size).toBeGreaterThan(0);
  }, 120_000);
});
