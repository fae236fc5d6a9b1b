import { existsSync } from "node:fs";
import { statePaths } from "../../queue/state.js";
import { defineCommand, positiveCount } from "../io.js";
import { openStack, printJson } from "../open-stack.js";

export default defineCommand({
  command: "oplog",
  describe: "list the operations pq did in this tree, newest first (what undo and redo move through)",
  builder: (y) =>
    y
      .option("limit", { alias: "n", type: "string", describe: "show at most N entries" })
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    const limit = positiveCount(args.limit, "-n/--limit");
    const stack = await openStack(args, io);
    // Read from the end of the log: -n N costs the same however long the tree's history is.
    const { entries: shown, undone: undoneIds, redoable, damaged } = stack.recentOperations(limit);
    // While a rebase or a sync is stopped, pq redo refuses (their --continue is the way on): nothing is redoable then (t79 N1).
    const redoBlocked = existsSync(statePaths(stack.tree).rebase) || existsSync(statePaths(stack.tree).sync);
    // Damage is named: the lines are skipped, and undo and redo refuse to read past them.
    if (damaged.length) io.err(`pq: .pq/oplog has ${damaged.length} damaged line(s) (${damaged.slice(0, 3).join(", ")}), not listed`);
    if (args.json) {
      return void printJson(
        io,
        shown.map((e) => ({
          id: e.id,
          time: e.time,
          user: e.user,
          op: e.op,
          command: e.command,
          undone: undoneIds.has(e.id),
          redoable: !redoBlocked && redoable.has(e.id),
          files: e.tree.length,
          queueFiles: e.queue.map(([p]) => p),
          ...(e.git
            ? {
                git: {
                  ref: e.git.ref,
                  from: e.git.from,
                  to: e.git.to,
                  ...(e.git.indexOnly ? { indexOnly: true, index: e.git.index.length } : {}),
                },
              }
            : {}),
          ...(e.group ? { group: e.group } : {}),
          ...(e.queueDir ? { queue: e.queueDir } : {}),
          ...(e.backup ? { backup: e.backup } : {}),
          ...(e.changedDuring ? { changedDuring: e.changedDuring } : {}),
        })),
      );
    }
    if (!shown.length) return void io.out("no operations yet");
    const current = stack.queueName();
    for (const e of shown) {
      const files = e.tree.length ? `, ${e.tree.length} file(s)` : "";
      // The operations of one command (a rebase, a sync) name it: undo takes them back together.
      const of = e.group !== undefined ? `  [${oneLine(e.command)}]` : "";
      // Several queues share a tree's log (pq queue): an operation on another queue than the one in use says which.
      const other = e.queueDir && e.queueDir !== current ? `  (queue ${e.queueDir})` : "";
      io.out(
        `${e.id}  ${e.time.replace("T", " ").slice(0, 19)} UTC  ${e.user}  ${e.op}${files}${of}${other}${undoneIds.has(e.id) ? "  (undone)" : ""}`,
      );
      // What was run, and a branch the operation moved (finish, uncommit): the ids to take it back by hand.
      if (e.group === undefined && e.command) io.out(`    ${oneLine(e.command)}`);
      if (e.git?.indexOnly) io.out(`    git index: ${e.git.index.length} entr${e.git.index.length === 1 ? "y" : "ies"}`);
      else if (e.git) io.out(`    ${e.git.ref.replace(/^refs\/heads\//, "")}: ${e.git.from.slice(0, 12)} -> ${e.git.to.slice(0, 12)}`);
      // Where it saved what it overwrote: the user's edits (--force), or files changed while it ran.
      if (e.backup) io.out(`    saved edits it overwrote in ${e.backup}`);
      if (e.changedDuring) io.out(`    saved files changed while it ran in ${e.changedDuring}`);
    }
  },
});

/**
 * A logged command line on one line of the listing: a message with a line break (`-m "a<newline>b"`)
 * started a line of its own, read as another entry (t128 N2). The break is shown as bash's $'\n'
 * splices it back into the quoted word; --json keeps the command as it was.
 */
function oneLine(command: string): string {
  return command.replace(/\r?\n/g, (nl) => `'$'${nl === "\n" ? "\\n" : "\\r\\n"}''`);
}
