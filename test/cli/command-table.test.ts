/**
 * The command table loads one module per command by name; each name must be the first
 * word of its module's own `command`, or `pq NAME` would load the wrong one.
 */
import { describe, expect, it } from "vitest";
import { commandLoaders, loadCommands } from "../../src/cli/commands/index.js";
import { main } from "../../src/cli/main.js";

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
    let out = "";
    const io = { out: (t: string) => void (out += t + "\n"), err: (t: string) => void (out += t + "\n"), isTTY: false, cwd: process.cwd() };
    expect(await main(["--tree", "/nonexistent-pq-tree", "series"], io)).not.toBe(2);
    expect(out).not.toMatch(/Unknown|not a pq command/);
    out = "";
    expect(await main(["--help"], io)).toBe(0);
    for (const [name] of commandLoaders) expect(out).toContain(`pq ${name}`);
  });
});
