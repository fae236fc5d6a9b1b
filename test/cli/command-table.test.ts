/**
 * The command table loads one module per command by name; each name must be the first
 * word of its module's own `command`, or `pq NAME` would load the wrong one.
 */
import { describe, expect, it } from "vitest";
import { commandLoaders, loadCommands } from "../../src/cli/commands/index.js";
import { pq } from "../helpers/repo.js";

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
});
