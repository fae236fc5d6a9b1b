import yargs from "yargs";
import { PqError } from "../errors.js";
import { commands } from "./commands/index.js";
import { invocation, processIO, type CliIO } from "./io.js";

/**
 * Runs one pq invocation and returns its exit code. Nothing below the CLI prints or
 * exits: library code throws PqError and this maps it to a message and an exit code.
 */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  invocation.io = io;
  invocation.exitCode = 0;
  let parser = yargs(argv)
    .scriptName("pq")
    .usage("pq <command> [options]\n\nA patch queue whose every state is built and booted.")
    .option("tree", { type: "string", describe: "working tree (default: the current directory)", global: true })
    .option("queue", { type: "string", describe: "queue directory (default: the tree's recorded queue, else patches/)", global: true })
    .strict()
    .demandCommand(1, "name a command; pq --help lists them")
    .recommendCommands()
    .help()
    .alias("h", "help")
    .version(false)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .epilog("Exit codes: 0 ok, 1 ci/bisect found failures, 2 usage, 3 unknown name, 4 locked, 5 unrefreshed changes, 6 patch does not apply/conflict, 7 bad or unsafe patch, 8 no toolchain, 9 build failed, 10 boot failed, 11 git failed.")
    .fail((msg, err) => {
      if (err) throw err;
      throw new PqError("usage", msg ?? "invalid arguments", ["run pq --help for usage"]);
    })
    .exitProcess(false);
  for (const command of commands) parser = parser.command(command as never);
  try {
    let helpShown = false;
    await parser.parseAsync(argv, {}, (_err, _argv, output) => {
      if (output) {
        helpShown = true;
        io.out(output);
      }
    });
    return helpShown ? 0 : invocation.exitCode;
  } catch (e) {
    if (e instanceof PqError) {
      io.err(`pq: ${e.message}`);
      for (const line of e.details) io.err(`  ${line}`);
      return e.exitCode;
    }
    const err = e as Error;
    io.err(`pq: internal error: ${err.stack ?? String(err)}`);
    return 70;
  }
}
