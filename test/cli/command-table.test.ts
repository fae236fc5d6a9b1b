/**
 * The command table loads one module per command by name; each name must be the first
 * word of its module's own `command`, or `pq NAME` would load the wrong one.
 */
import { describe, expect, it } from "vitest";
import { commandLoaders, loadCommands } from "../../src/cli/commands/index.js";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { cleanup, makeRepo, pq } from "../helpers/repo.js";

describe("the command table", () => {
  it("names every command module by its own command word, once", async () => {
    const names = commandLoaders.map(([n]) => n);
    expect(new Set(names).size).toBe(names.length);
    for (const [name, load] of commandLoaders) {
      const mod = (await load()).default;
      expect(String(mod.command).split(" ")[0]).toBe(name);
    }
    expect((await loadCommands()).length).toBe(names.length);
    expect((await loadCommands("pop")).map((m) => String(m.command).split(" ")[0])).toEqual(["pop"]);
  });

  it("finds the command after global options, and --help still lists every command", async () => {
    const series = await pq(process.cwd(), "--tree", "/nonexistent-pq-tree", "series");
    expect(series.code).not.toBe(2);
    expect(series.out + series.err).not.toMatch(/Unknown|not a pq command/);
    const help = await pq(process.cwd(), "--help");
    expect(help.code).toBe(0);
    for (const [name] of commandLoaders) expect(help.out + help.err).toContain(`pq ${name}`);
  });

  it("refuses an option of one value given twice by name (exit 2), and takes list options and flags given twice", async () => {
    const dir = makeRepo({ "a.c": "a\n" });
    try {
      expect((await pq(dir, "init")).code).toBe(0);
      expect((await pq(dir, "new", "p1")).code).toBe(0);
      // Each took the list as one value ("a,b" as a directory, a shell command "true,false") or failed inside with exit 70 (readme-15 F2).
      for (const [args, flag] of [
        [["--queue", "a", "--queue", "b", "status"], "--queue"],
        [["export", "--dir", "a", "--dir", "b"], "--dir"],
        [["ci", "--run", "true", "--run", "false"], "--run"],
        [["new", "x", "-m", "a", "-m", "b"], "-m"],
        [["import", "--quilt", "a", "--quilt", "b"], "--quilt"],
        // A number given twice with 1 last: yargs summed them (-p3; verify-16 F2).
        [["import", "-p", "2", "-p", "1", "a.c"], "-p"],
        [["import", "--strip", "2", "--strip=1", "a.c"], "--strip"],
        [["sync", "--retries", "2", "--retries", "1"], "--retries"],
      ] as const) {
        const r = await pq(dir, ...args);
        expect([r.code, r.err]).toEqual([2, `pq: ${flag} is given 2 times; it takes one value\n  give ${flag} once\n`]);
      }
      expect(existsSync(join(dir, "a,b"))).toBe(false);
      expect((await pq(dir, "status", "--json", "--json")).code).toBe(0);
      expect((await pq(dir, "add", "a.c", "--queue", "patches")).code).toBe(0);
      expect((await pq(dir, "pop", "-a", "-a")).code).toBe(0);
    } finally {
      cleanup(dir);
    }
  });
});
