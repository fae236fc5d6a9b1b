import type { CommandModule } from "yargs";

// One module per command, loaded only when it runs: `pq pop` loads pop's module and what
// it needs, not the build, boot, ci or sync code (start-up is most of a warm push or pop).
// A command's name here is the first word of its module's `command` (a test checks it).
// Add one line per command; the order is the order of `pq --help`.

type Loader = () => Promise<{ default: CommandModule<any, any> }>;

export const commandLoaders: [name: string, load: Loader][] = [
  ["init", () => import("./init.js")],
  ["new", () => import("./new.js")],
  ["add", () => import("./add.js")],
  ["remove", () => import("./remove.js")],
  ["refresh", () => import("./refresh.js")],
  ["revert", () => import("./revert.js")],
  ["push", () => import("./push.js")],
  ["pop", () => import("./pop.js")],
  ["goto", () => import("./goto.js")],
  ["series", () => import("./series.js")],
  ["applied", () => import("./applied.js")],
  ["unapplied", () => import("./unapplied.js")],
  ["top", () => import("./top.js")],
  ["next", () => import("./next.js")],
  ["prev", () => import("./prev.js")],
  ["diff", () => import("./diff.js")],
  ["status", () => import("./status.js")],
  ["delete", () => import("./delete.js")],
  ["rename", () => import("./rename.js")],
  ["fold", () => import("./fold.js")],
  ["reorder", () => import("./reorder.js")],
  ["guard", () => import("./guard.js")],
  ["select", () => import("./select.js")],
  ["header", () => import("./header.js")],
  ["import", () => import("./import.js")],
  ["export", () => import("./export.js")],
  ["finish", () => import("./finish.js")],
  ["build", () => import("./build.js")],
  ["boot", () => import("./boot.js")],
  ["ci", () => import("./ci.js")],
  ["bisect", () => import("./bisect.js")],
  ["tui", () => import("./tui.js")],
  ["undo", () => import("./undo.js")],
  ["redo", () => import("./redo.js")],
  ["oplog", () => import("./oplog.js")],
  ["restore-queue", () => import("./restore-queue.js")],
  ["files", () => import("./files.js")],
  ["patches", () => import("./patches.js")],
  ["show", () => import("./show.js")],
  ["uncommit", () => import("./uncommit.js")],
  ["rebase", () => import("./rebase.js")],
  ["absorb", () => import("./absorb.js")],
  ["queue", () => import("./queue.js")],
  ["commit", () => import("./commit.js")],
  ["sync", () => import("./sync.js")],
  ["log", () => import("./log.js")],
  ["range-diff", () => import("./range-diff.js")],
  ["hook", () => import("./hook.js")],
];

export const commandNames = (): string[] => commandLoaders.map(([name]) => name);

/** The named command's module, or every command's (for --help) when name is not one. */
export async function loadCommands(name?: string): Promise<CommandModule<any, any>[]> {
  const chosen = commandLoaders.filter(([n]) => n === name);
  return Promise.all((chosen.length ? chosen : commandLoaders).map(async ([, load]) => (await load()).default));
}
