import { PqError } from "../../errors.js";
import { createQueue, deleteQueue, listQueues, switchQueue } from "../../queue/queues.js";
import { defineCommand, refuseEmptyOptions } from "../io.js";
import { openStack, printJson } from "../open-stack.js";

export default defineCommand({
  command: "queue <action> [name]",
  describe: "several queues on one tree (hg qqueue): list, create NAME, switch NAME, delete NAME",
  builder: (y) =>
    y
      .positional("action", {
        type: "string",
        choices: ["list", "create", "switch", "delete"] as const,
        demandOption: true,
        describe: "what to do",
      })
      .positional("name", { type: "string", describe: "the queue's name" })
      .option("pop", { type: "boolean", describe: "switch: pop the active queue's patches first" })
      .option("dir", { type: "string", describe: "create: the new queue's directory (default: patches-NAME next to the active queue)" })
      .option("purge", { type: "boolean", describe: "delete: also move the queue's directory to .pq/trash" })
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    refuseEmptyOptions(args, ["dir"]);
    // The active queue's directory gone or linked out of the tree: list, switch (with nothing of it applied) and delete of another queue still work (t142 N4).
    const stack = await openStack(args, io, undefined, { queueMayBeAway: args.action !== "create" });
    if (stack.queueAway && (args.action === "create" || (args.action === "switch" && stack.applied().length))) throw stack.queueAway;
    if (args.action === "list") {
      if (args.name)
        throw new PqError("usage", `pq queue list takes no queue name (${args.name} was given)`, ["pq queue list lists every queue"]);
      const queues = listQueues(stack);
      if (args.json) return void printJson(io, queues);
      for (const q of queues) io.out(`${q.active ? "*" : " "} ${q.name}  (${q.patches} patch${q.patches === 1 ? "" : "es"}, ${q.dir})`);
      return;
    }
    if (!args.name) throw new PqError("usage", `pq queue ${args.action} needs a queue NAME`);
    if (args.action === "create") {
      const q = await createQueue(stack, args.name, { dir: args.dir });
      io.out(`created queue ${q.name} in ${q.dir}; pq queue switch ${q.name} to use it`);
    } else if (args.action === "switch") {
      const { popped } = await switchQueue(stack, args.name, { pop: args.pop });
      if (popped.length) io.out(`popped ${popped.length} patch(es)`);
      io.out(`now on queue ${args.name}`);
    } else {
      const r = await deleteQueue(stack, args.name, { purge: args.purge });
      io.out(`deleted queue ${args.name}${r.trashed ? ` (its files are in ${r.trashed})` : " (its directory is kept)"}`);
      // Files of the directory that are not the queue's own stay where they are (t82 N1).
      if (r.left)
        io.out(
          `${r.left.dir} is kept: it holds files that are not the queue's (${r.left.files.slice(0, 3).join(", ")}${r.left.files.length > 3 ? ", ..." : ""})`,
        );
    }
  },
});
