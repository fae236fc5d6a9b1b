/**
 * The command lines main.ts reads without yargs (src/cli/quick-args.ts) must mean exactly
 * what yargs makes of them: for every command, every plain flag (by name and by alias), pairs
 * of them and a positional word, the arguments are compared with the ones yargs hands the
 * same command; and what is not read there (values, repeats, globals, --) is left to yargs.
 */
import yargs from "yargs";
import type { CommandModule } from "yargs";
import { describe, expect, it } from "vitest";
import { commandLoaders } from "../../src/cli/commands/index.js";
import { declared, quickArgs } from "../../src/cli/quick-args.js";
import { cleanup, makeRepo, pq, read } from "../helpers/repo.js";

async function yargsArgs(words: string[], command: CommandModule<any, any>): Promise<Record<string, unknown>> {
  let seen: Record<string, unknown> | null = null;
  await yargs(words)
    .scriptName("pq")
    .option("tree", { type: "string", global: true })
    .option("queue", { type: "string", global: true })
    .strict()
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    })
    .command({ ...command, handler: (args: Record<string, unknown>) => void (seen = { ...args }) } as never)
    .parseAsync();
  return seen!;
}

/** The flag words a command declares as plain booleans, each as typed. */
function flagWords(command: CommandModule<any, any>): string[] {
  return [...declared(command).options].flatMap(([name, spec]) =>
    spec.type !== "boolean" ? [] : [`--${name}`, ...(typeof spec.alias === "string" && spec.alias.length === 1 ? [`-${spec.alias}`] : [])],
  );
}

describe("command lines read without yargs", () => {
  it("give every command the arguments yargs gives it", async () => {
    let quick = 0;
    for (const [name, load] of commandLoaders) {
      const command = (await load()).default;
      const flags = flagWords(command);
      const lines: string[][] = [[], ["x"], ["3"], ...flags.map((f) => [f]), ...flags.map((f) => ["x", f]), ...flags.map((f) => [f, "x"])];
      for (let i = 0; i < flags.length; i++) for (let j = i + 1; j < flags.length; j++) lines.push([flags[i], flags[j]]);
      for (const words of lines) {
        const args = quickArgs(name, words, command);
        if (args === null) continue;
        quick++;
        expect(args, `pq ${name} ${words.join(" ")}`).toEqual(await yargsArgs([name, ...words], command));
      }
    }
    // push -a, pop -a, undo, top and the like are read here.
    expect(quick).toBeGreaterThan(100);
  });

  it("leaves to yargs what it does not read", async () => {
    const push = (await commandLoaders.find(([n]) => n === "push")![1]()).default;
    const pop = (await commandLoaders.find(([n]) => n === "pop")![1]()).default;
    expect(quickArgs("push", ["-a"], push)).toMatchObject({ all: true, a: true });
    expect(quickArgs("push", ["--dry-run"], push)).toMatchObject({ "dry-run": true, dryRun: true, n: true });
    for (const words of [
      ["-a", "-a"],
      ["--all", "-a"],
      ["--fuzz", "1"],
      ["--fuzz=1"],
      ["--tree", "t"],
      ["--", "-x"],
      ["--help"],
      ["-h"],
      ["-an"],
      ["a", "b"],
      ["--no-all"],
      [""],
      ["-x"],
    ])
      expect(quickArgs("push", words, push), words.join(" ")).toBeNull();
    expect(quickArgs("pop", ["-f", "-a"], pop)).toMatchObject({ force: true, f: true, all: true, a: true });
    // A command with a required positional, or an option with a check, goes to yargs whole.
    for (const [name, load] of commandLoaders) {
      const command = (await load()).default;
      if (typeof command.command === "string" && command.command.includes("<")) expect(quickArgs(name, ["x"], command), name).toBeNull();
    }
  });
});

describe("a word that starts with U+0001 (t22 F3)", () => {
  it("reaches the command whole through yargs too, as through the quick path", async () => {
    const dir = makeRepo({ "a.c": "a\n" });
    try {
      expect((await pq(dir, "init", "--queue", "\u0001q")).code).toBe(0);
      expect(JSON.parse(read(dir, ".pq/state.json")).queue).toBe("\u0001q");
      // After "--" as well: the mark main.ts adds there is taken off, the user's own is kept.
      const viaYargs = await pq(dir, "push", "--fuzz", "0", "--", "\u0001p");
      const quick = await pq(dir, "push", "\u0001p");
      expect(viaYargs.err).toContain("\u0001p");
      expect(viaYargs.err.replace(/\n.*/s, "")).toBe(quick.err.replace(/\n.*/s, ""));
    } finally {
      cleanup(dir);
    }
  });
});
