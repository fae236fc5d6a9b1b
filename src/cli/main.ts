/**
 * For the launcher (bin/pq.cjs), which calls it once the command's exit code is set: the process
 * starter's programs are waited for, so that their CPU counts as pq's (GNU time, a CI job) and no
 * process outlives pq. Not from main itself: a reader gone from stdout while it waited made a
 * finished command exit 141 (t135 N1).
 */
export { stopProcessStarter } from "../core/process-starter.js";
import { systemRefusal } from "../core/system-refusal.js";
import { EXIT, EXIT_LEGEND, PqError } from "../errors.js";
import { commandNames, loadCommands } from "./commands/index.js";
import { invocation, processIO, type CliIO } from "./io.js";
import { mark, timingLines, timingsEnabled } from "../core/timings.js";
import { declared, quickArgs } from "./quick-args.js";
import { isAbsolute, resolve } from "node:path";
import { statSync } from "node:fs";
import { notUtf8Argument, notUtf8Path } from "../tree/paths.js";
import { dropRepositoryVariables } from "../git/env.js";
import { shellWord } from "../core/shell-word.js";
import { treeTopNotes } from "./tree-top.js";
import type { CommandModule } from "yargs";

declare const PQ_VERSION: string | undefined;

/** Levenshtein distance, for git's "Did you mean" suggestion. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

function unknownCommand(name: string): PqError {
  const scored = commandNames()
    .map((c) => ({ c, d: distance(name, c) }))
    .filter((s) => s.d <= 2)
    .sort((x, y) => x.d - y.d);
  const hint = scored.length
    ? [
        `Did you mean ${
          scored.length > 1 && scored[1].d === scored[0].d
            ? "one of " +
              scored
                .filter((s) => s.d === scored[0].d)
                .map((s) => s.c)
                .join(", ")
            : scored[0].c
        }?`,
      ]
    : [];
  return new PqError("usage", `'${name}' is not a pq command. See 'pq --help'.`, hint, { command: name });
}

/** The command an argument list names: its first word that is neither an option nor a global option's value. */
function commandWord(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--tree" || argv[i] === "--queue") i++;
    else if (!argv[i].startsWith("-")) return argv[i];
  }
  return undefined;
}

/** The mark of a word that came after "--" (see main). */
const LITERAL = "\u0001";
function unmarked(value: unknown): unknown {
  if (typeof value === "string") return value.startsWith(LITERAL) ? value.slice(1) : value;
  return Array.isArray(value) ? value.map(unmarked) : value;
}

function version(): string {
  return typeof PQ_VERSION !== "undefined" ? PQ_VERSION : (process.env.npm_package_version ?? "dev");
}

/**
 * Runs one pq invocation and returns its exit code. Nothing below the CLI prints or
 * exits: library code throws PqError and this maps it to a message and an exit code.
 * No stack trace ever reaches the user (PQ_DEBUG=1 shows one for an internal error).
 */
/** PQ_TIMINGS=1: the phase marks go to stderr at exit (once, however often main runs in a process). */
let timingsHooked = false;

/**
 * --tree and --queue name directories: an empty value (a script's unset variable) or none at all
 * had meant the default, the directory the command ran in, even for push and pop; a file had
 * meant the tree that holds it for most commands, and for the others an advice to move the file
 * (/dev/null too) away (t82 N2, N3). Both are refused by the option's name. A --queue that does
 * not exist yet is left to the command (init makes it).
 */
function refuseOddPlaces(parsed: Record<string, unknown>, cwd: string): void {
  for (const option of ["tree", "queue"] as const) {
    const value = parsed[option];
    // Given twice (a list): refuseRepeatedOptions says so.
    if (value === undefined || Array.isArray(value)) continue;
    if (typeof value !== "string" || value === "") {
      throw new PqError("usage", `--${option} needs a directory, and its value is empty`, [
        `name the ${option === "tree" ? "working tree" : "queue directory"}, or leave --${option} out for ${option === "tree" ? "the current directory" : "the tree's own queue"}`,
      ]);
    }
    let st: ReturnType<typeof statSync> | undefined;
    try {
      st = statSync(resolve(cwd, value));
    } catch {
      continue; // missing: the command says what it makes of that
    }
    if (!st.isDirectory()) {
      throw new PqError("usage", `--${option} ${value} is not a directory`, [
        `name the ${option === "tree" ? "working tree's directory" : "queue's directory"} with --${option}`,
      ]);
    }
  }
}

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  if (timingsEnabled && !timingsHooked) {
    timingsHooked = true;
    process.on("exit", () => {
      mark("exit");
      for (const line of timingLines()) io.err(line);
    });
  }
  mark("main");
  // With --json a refusal is printed as JSON on stdout, unless the command printed its own
  // JSON report there already (sync --json stopping on conflicts): one document either way.
  let printedOut = false;
  const caller = io;
  io = { ...io, out: (text) => ((printedOut = true), caller.out(text)), outBytes: (text) => ((printedOut = true), caller.outBytes(text)) };
  invocation.io = io;
  invocation.exitCode = 0;
  // Quoted as a shell would need it: the log's command line can be copied back, and `-m "a b"` is not `-m a b`.
  invocation.command = ["pq", ...argv].map(shellWord).join(" ");
  invocation.argv = [...argv];
  if (argv[0] === "--version" || argv[0] === "-V" || argv[0] === "version") {
    io.out(`pq ${version()}`);
    return EXIT.ok;
  }
  if (io.cwd === "") {
    return report(
      io,
      new PqError("not-found", "the current directory no longer exists (a pop, or a checkout, removed it while the shell was in it)", [
        'cd to the tree again (cd "$PWD/.." until a directory exists, or cd TREE), then run the command again',
      ]),
      argv.includes("--json"),
    );
  }
  // Help needs no tree; a --tree (or --queue) needs its own path to be nameable, and the process's
  // directory only when the tree's is relative.
  const tree = optionValue(argv, "--tree");
  const queue = optionValue(argv, "--queue");
  const unnamed =
    argv[0] === "help" || argv.some((a) => a === "--help" || a === "-h")
      ? null
      : ((tree === null || !isAbsolute(tree) ? notUtf8Path(io.cwd, "cwd") : null) ??
        (tree === null ? null : notUtf8Path(resolve(io.cwd, tree), { argument: tree })) ??
        (queue === null ? null : notUtf8Path(resolve(io.cwd, queue), { argument: queue, mayBeMissing: true })) ??
        notUtf8Argument(argv, io.cwd));
  if (unnamed) return report(io, unnamed, argv.includes("--json"));
  // A line break in the tree's path: git's output, read line by line, cannot carry it (t93 N5: the
  // path was cut at it, and git ran elsewhere).
  const broken = [tree === null ? io.cwd : resolve(io.cwd, tree), ...(queue === null ? [] : [resolve(io.cwd, queue)])].find((p) =>
    /[\r\n]/.test(p),
  );
  if (broken !== undefined && argv[0] !== "help" && !argv.some((a) => a === "--help" || a === "-h"))
    return report(
      io,
      new PqError("not-found", `${JSON.stringify(broken)} cannot be named: its path has a line break, which git's output cannot carry`, [
        "rename that directory to a name without one (mv), then run pq again",
      ]),
      argv.includes("--json"),
    );
  // pq names its repository by directory: GIT_DIR and the like are dropped for every git it runs (the gate's hook keeps them).
  // (Only `pq hook check`, which the hook runs, keeps them: `pq hook install` names its repository: t95 N2.)
  const plainWords = argv.filter((a) => !a.startsWith("-"));
  if (!(plainWords[0] === "hook" && plainWords[1] === "check")) dropRepositoryVariables();
  // git's "help CMD" is "CMD --help".
  // A subcommand's too: pq help ci merge is pq ci merge --help (t62 N7).
  if (argv[0] === "help") argv = argv.length > 1 ? [...argv.slice(1).filter((a) => !a.startsWith("-")), "--help"] : ["--help"];
  const names = new Set(commandNames());
  // `--json` (a flag everywhere but `pq ci`, where it names a report file): a refusal is printed
  // on stdout as JSON too, so that a script reads its code and data instead of an empty output.
  const jsonErrors = argv.includes("--json") && commandWord(argv) !== "ci";
  if (argv[0] && !argv[0].startsWith("-") && !names.has(argv[0])) return report(io, unknownCommand(argv[0]), jsonErrors);

  // The commonest command lines (`pq pop -a`, `pq push NAME`) are read without yargs (see quick-args.ts).
  if (argv[0] && names.has(argv[0])) {
    const [command] = await loadCommands(argv[0]);
    const args = quickArgs(argv[0], argv.slice(1), command);
    if (args) {
      mark("command loaded");
      try {
        await command.handler(args as never);
        mark("command done");
        return invocation.exitCode;
      } catch (e) {
        return report(io, e, jsonErrors && !printedOut);
      }
    }
  }
  const { default: yargs } = await import("yargs");

  // After "--" every word is an argument, even one starting with "-" (a patch named -fix).
  // yargs leaves such words unbound to the command's positionals: they are marked here so
  // that it takes them as plain words, and unmarked before the command sees them.
  const endOfOptions = argv.indexOf("--");
  // A word of the user's own that starts with the mark gets it twice, so the unmarking gives it back whole (t22 F3).
  const markedOwn = (a: string) => (a.startsWith(LITERAL) ? LITERAL + a : a);
  const commands = await loadCommands(commandWord(argv));
  let options: string[];
  try {
    options = withValuesJoined(endOfOptions === -1 ? argv : argv.slice(0, endOfOptions), commands.length === 1 ? commands[0] : null);
  } catch (e) {
    return report(io, e, jsonErrors);
  }
  const words = options.map(markedOwn).concat(endOfOptions === -1 ? [] : argv.slice(endOfOptions + 1).map((a) => LITERAL + a));
  let parser = yargs(words)
    .scriptName("pq")
    .usage("pq <command> [options]\n\nA patch queue whose every state is built and booted.")
    .option("tree", { type: "string", describe: "working tree (default: the current directory)", global: true })
    .option("queue", { type: "string", describe: "queue directory (default: the tree's recorded queue, else patches/)", global: true })
    .strict()
    .demandCommand(1, "name a command; pq --help lists them")
    .help()
    .alias("h", "help")
    .version(false)
    .wrap(Math.min(110, (io.isTTY && process.stdout.columns) || 100))
    .epilog(EXIT_LEGEND)
    .fail((msg, err) => {
      // yargs' own refusals of the command line (an option missing its value) come as a YError: a usage error.
      if (err && err.name !== "YError") throw err;
      const message = unknownAsTyped(msg ?? err?.message ?? "invalid arguments", argv);
      // Words after -- are names, options too (pq new -- -fix -m MSG gave -m to no one: t125 N16).
      const afterDashes = argv.includes("--") && /^Unknown arguments?: /.test(message);
      throw new PqError("usage", message, [
        ...(afterDashes ? ["every word after -- is a name: options go before it (pq new -m MSG -- -fix)"] : []),
        `run pq ${argv[0] && names.has(argv[0]) ? argv[0] + " " : ""}--help for usage`,
      ]);
    })
    .exitProcess(false)
    .middleware((parsed) => {
      for (const key of Object.keys(parsed)) parsed[key] = unmarked(parsed[key]);
    }, true)
    .middleware((parsed) => refuseOddPlaces(parsed, io.cwd), true)
    // An option of one value given twice (yargs makes it a list): refused by name, where the
    // command took the list for a value (--dir a --dir b wrote into "a,b") or failed inside (exit 70).
    .middleware((parsed) =>
      refuseRepeatedOptions(
        parsed,
        endOfOptions === -1 ? argv : argv.slice(0, endOfOptions),
        (parser as unknown as { getOptions(): YargsOptions }).getOptions(),
      ),
    );
  // Only the named command is loaded and registered; `pq --help` loads them all.
  for (const command of commands) parser = parser.command(command as never);
  // yargs renders the whole help text after every command, in case the command fails later and
  // help is to be shown then; pq never shows help on a failure (its errors say what to do next),
  // so that rendering (about 20 ms of every command) is skipped.
  const internals = parser as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } };
  const usage = internals.getInternalMethods?.().getUsageInstance?.();
  if (usage?.cacheHelpMessage) usage.cacheHelpMessage = () => undefined;
  mark("command loaded");
  try {
    let helpShown = false;
    await parser.parseAsync(words, {}, (_err, _argv, output) => {
      if (output) {
        helpShown = true;
        io.out(output);
      }
    });
    mark("command done");
    return helpShown ? EXIT.ok : invocation.exitCode;
  } catch (e) {
    return report(io, e, jsonErrors && !printedOut);
  }
}

/**
 * An option that takes a value takes the next word as it even when the word starts with "-",
 * as git's options do (`pq new -m -dash.patch`: yargs read "-dash.patch" as the short flags
 * -d -a -s -h and left -m empty: t23 F11), unless that word is one of the command's options
 * (`--quilt --push`: the directory forgotten, said so) or "-" (standard input or output).
 * Given as `--name=VALUE`, yargs reads it so. A message option with no word after it (before
 * `--`, or an option next) is refused, as git refuses it: yargs made it an empty message, which
 * erased the patch's, or took the first word after `--` for it (t25 F7).
 */
function withValuesJoined(words: string[], command: CommandModule<any, any> | null): string[] {
  const takesValue = new Set(["--tree", "--queue"]);
  const options = new Set(["--tree", "--queue", "--help", "-h", "--version"]);
  const message = new Set<string>();
  const spelled = (name: string) => (name.length === 1 ? `-${name}` : `--${name}`);
  if (command) {
    for (const [name, spec] of declared(command).options) {
      const names = [name, ...([spec.alias ?? []].flat() as string[])];
      for (const n of names) options.add(spelled(n));
      if (spec.type === "boolean") options.add(`--no-${name}`);
      if (spec.type === "string" && !spec.array) for (const n of names) takesValue.add(spelled(n));
      if (name === "message" && spec.type === "string") for (const n of names) message.add(spelled(n));
    }
  }
  // "--=x" is a word (a message), not the end of the options.
  const isOption = (word: string) => word === "-" || word === "--" || (/^--?[^-=]/.test(word) && options.has(word.replace(/=.*$/s, "")));
  const joined: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const next = words[i + 1];
    if (message.has(words[i]) && (next === undefined || isOption(next))) {
      throw new PqError("usage", `${words[i]} needs the message as the next word`, [
        `give it after ${words[i]} (in quotes for several words), or as ${words[i]}=TEXT; an empty message is ${words[i]} ""`,
      ]);
    }
    // "-m=" (a short option and "=" with nothing after it): yargs reads "=" as a second flag; it is -m "" (t82 N5).
    if (/^-[A-Za-z]=$/.test(words[i]) && takesValue.has(words[i].slice(0, 2))) {
      joined.push(words[i].slice(0, 2), "");
      continue;
    }
    if (takesValue.has(words[i]) && next !== undefined && next.startsWith("-") && !isOption(next)) {
      joined.push(`${words[i]}=${next}`);
      i++;
    } else joined.push(words[i]);
  }
  return joined;
}

function report(io: CliIO, e: unknown, json = false): number {
  if (e instanceof PqError) {
    io.err(`pq: ${e.message}`);
    if (typeof e.data.pathsFrom === "string" && e.details.length)
      for (const note of treeTopNotes(io.cwd, e.data.pathsFrom)) io.err(`  ${note}`);
    for (const line of e.details) io.err(`  ${line}`);
    if (json) io.out(JSON.stringify(e, null, 2));
    return e.exitCode;
  }
  // Operating-system refusals are the user's to fix, not bugs: say which file and why.
  const refusal = systemRefusal(e);
  if (refusal) {
    io.err(`pq: ${refusal.message}`);
    io.err(`  ${refusal.next}`);
    io.err("  nothing was changed unless the message above says otherwise");
    return EXIT.system;
  }
  const err = e as Error;
  io.err(`pq: internal error: ${err?.message ?? String(e)}`);
  io.err("  this is a bug in pq; run with PQ_DEBUG=1 for details and report it");
  if (process.env.PQ_DEBUG) io.err(String(err?.stack ?? e));
  return EXIT.internal;
}

/**
 * yargs names an unknown option without its dashes ("Unknown argument: a" for -a, "pop" for
 * --pop): named as typed where the command line has it so (t96 N6).
 */
function unknownAsTyped(message: string, argv: string[]): string {
  const m = /^(Unknown arguments?): (.*)$/.exec(message);
  if (!m) return message;
  // Options are typed before --: a name after it that holds the letter is no -x (t125 N16: "d" read as -d in "-- -dash -m d").
  const dashes = argv.indexOf("--");
  argv = dashes === -1 ? argv : argv.slice(0, dashes);
  const typed = m[2].split(", ").map((name) => {
    const long = `--${name}`;
    if (argv.some((a) => a === long || a.startsWith(`${long}=`))) return long;
    if (name.length === 1 && argv.some((a) => /^-[^-]/.test(a) && a.slice(1).split("=")[0].includes(name))) return `-${name}`;
    return name;
  });
  return `${m[1]}: ${typed.join(", ")}`;
}

/** What yargs knows of the command's options (its getOptions(), which its types leave out). */
interface YargsOptions {
  array: string[];
  boolean: string[];
  alias: Record<string, string[]>;
  /** Every option the command declares. */
  key: Record<string, unknown>;
}

/**
 * Options of one value that the command line gives more than once (see the middleware above),
 * found in the words typed: yargs makes most of them a list, but sums a number option given
 * twice when the last value is 1 (-p 2 -p 1 became -p3: verify-16 F2). Flags and list options
 * may repeat.
 */
function refuseRepeatedOptions(parsed: Record<string, unknown>, words: readonly string[], options: YargsOptions): void {
  const mayRepeat = new Set([...options.array, ...options.boolean]);
  /** One name per option, whichever of its aliases was typed. */
  const canonical = (name: string) => [name, ...(options.alias[name] ?? [])].sort((a, b) => b.length - a.length)[0];
  const seen = new Map<string, number>();
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    const m = /^--([A-Za-z][\w-]*)(?:=.*)?$|^-([A-Za-z])(.*)$/.exec(word);
    if (!m) continue;
    // --no-cache is the flag cache; a word that names no option of the command (a guard -g taken as an argument) is no option.
    const typed = m[1]?.startsWith("no-") && !(m[1] in options.key) ? m[1].slice(3) : (m[1] ?? m[2]);
    if (!(typed in options.key)) continue;
    const name = canonical(typed);
    if (mayRepeat.has(name) || (options.alias[name] ?? []).some((a) => mayRepeat.has(a))) continue;
    seen.set(name, (seen.get(name) ?? 0) + 1);
    // Its value is the next word unless given with it (--m=x, -mx): a message "-m" is no second -m.
    if (!word.includes("=") && !m[3]) i++;
  }
  for (const [key, value] of Object.entries(parsed)) {
    if (key === "_" || key === "--" || !Array.isArray(value) || mayRepeat.has(key)) continue;
    seen.set(canonical(key), Math.max(seen.get(canonical(key)) ?? 0, value.length));
  }
  for (const [name, times] of seen) {
    if (times < 2) continue;
    // As typed: the short form when the user typed that one.
    const typed = words.find((w) =>
      [name, ...(options.alias[name] ?? [])].some(
        (n) => w === `-${n}` || (w.startsWith(`-${n}`) && n.length === 1) || w === `--${n}` || w.startsWith(`--${n}=`),
      ),
    );
    const flag = typed ? typed.replace(/=.*$/, "").slice(0, typed.startsWith("--") ? undefined : 2) : `--${name}`;
    throw new PqError("usage", `${flag} is given ${times} times; it takes one value`, [`give ${flag} once`]);
  }
}

/** The value of a global option (`--tree DIR` or `--tree=DIR`) before any `--`, or null. */
function optionValue(argv: readonly string[], option: string): string | null {
  for (let i = 0; i < argv.length && argv[i] !== "--"; i++) {
    if (argv[i] === option && i + 1 < argv.length) return argv[i + 1];
    if (argv[i].startsWith(`${option}=`)) return argv[i].slice(option.length + 1);
  }
  return null;
}
