/**
 * The arguments of the commonest invocations (`pq push -a`, `pq pop`, `pq undo`, `pq push
 * NAME`) read without yargs. Setting yargs up and parsing cost ~3 ms of each command, most of
 * a command that does little (a warm pop of a thousand patches takes ~80 ms, a third of it
 * Node's start). Only a command line whose meaning is beyond doubt is read here: the command
 * word, then flags the command declares as plain booleans (each once, by name or one-letter
 * alias) and at most one word for its one optional positional. Anything else (a global
 * option, `--`, `--help`, a value, a repeat, an option with a default or a check) goes to
 * yargs, which reads it as before. The arguments made are the ones yargs makes for the same
 * words (a test compares the two for every command).
 */
import type { CommandModule } from "yargs";

export interface Declared {
  positionals: Map<string, Record<string, unknown>>;
  options: Map<string, Record<string, unknown>>;
  /** The builder asked for something not read here (a conflict, a check): yargs reads the command line. */
  beyond: boolean;
}

/** What a command's builder declares, recorded by handing it a stand-in for yargs. */
export function declared(command: CommandModule<any, any>): Declared {
  const found: Declared = { positionals: new Map(), options: new Map(), beyond: false };
  const recorder: unknown = new Proxy(
    {},
    {
      get: (_target, method) => (name: unknown, spec: unknown) => {
        if ((method === "positional" || method === "option") && typeof name === "string" && spec && typeof spec === "object")
          (method === "positional" ? found.positionals : found.options).set(name, spec as Record<string, unknown>);
        else {
          // Options declared together (ci's report files) are known by their specs too (main's
          // withValuesJoined reads them), though the command line is then yargs' to read.
          if (method === "options" && name && typeof name === "object")
            for (const [key, value] of Object.entries(name))
              if (value && typeof value === "object") found.options.set(key, value as Record<string, unknown>);
          found.beyond = true;
        }
        return recorder;
      },
    },
  );
  if (typeof command.builder === "function") (command.builder as (y: unknown) => unknown)(recorder);
  else if (command.builder) found.beyond = true;
  return found;
}

/** Keys of an option or positional that leave its meaning as the words say it. */
const PLAIN_KEYS = new Set(["type", "alias", "describe", "hidden"]);
const plain = (spec: Record<string, unknown>) => Object.keys(spec).every((key) => PLAIN_KEYS.has(key));

const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * The arguments yargs would hand `command`'s handler for `words` (the words after the command
 * word), or null when the command line is not one read here.
 */
export function quickArgs(commandWord: string, words: string[], command: CommandModule<any, any>): Record<string, unknown> | null {
  const usage = typeof command.command === "string" ? command.command.split(/\s+/) : [];
  if (usage[0] !== commandWord) return null;
  const slots = usage.slice(1);
  // Only a command with at most one positional, optional ([name]).
  if (slots.length > 1 || slots.some((slot) => !/^\[[a-z][a-z-]*\]$/.test(slot))) return null;
  const spec = declared(command);
  if (spec.beyond || ![...spec.options.values(), ...spec.positionals.values()].every(plain)) return null;
  const positional = slots.length ? slots[0].slice(1, -1) : null;
  if (positional !== null && spec.positionals.get(positional)?.type !== "string") return null;
  const flags = new Map<string, string>();
  for (const [name, option] of spec.options) {
    if (option.type !== "boolean") continue;
    flags.set(`--${name}`, name);
    const alias = option.alias;
    if (typeof alias === "string" && alias.length === 1) flags.set(`-${alias}`, name);
  }
  const args: Record<string, unknown> = { _: [commandWord], $0: "pq" };
  const seen = new Set<string>();
  let positionalGiven = false;
  for (const word of words) {
    const flag = flags.get(word);
    if (flag !== undefined) {
      if (seen.has(flag)) return null;
      seen.add(flag);
      const alias = spec.options.get(flag)!.alias;
      for (const key of [flag, camel(flag), ...(typeof alias === "string" ? [alias] : [])]) args[key] = true;
    } else if (positional !== null && !positionalGiven && word !== "" && !word.startsWith("-")) {
      positionalGiven = true;
      args[positional] = word;
      args[camel(positional)] = word;
    } else return null;
  }
  return args;
}
