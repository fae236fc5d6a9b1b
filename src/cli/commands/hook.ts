import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { backendList, commandText } from "../ci-options.js";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PqError } from "../../errors.js";
import { checkVersions, versionInGitDir } from "../../collab/gate.js";
import { defineCommand } from "../io.js";

const ZERO = /^0+$/;
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** bin/pq.js of this installation, found from this module (bundled or not). */
function pqScript(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, "bin", "pq.js"))) return join(dir, "bin", "pq.js");
  }
  throw new PqError("internal", "cannot find bin/pq.js next to this installation");
}

const install = defineCommand({
  command: "install <dir>",
  describe: "install a pre-receive hook in a bare shared-queue repository: pushes that break a state are refused",
  builder: (y) =>
    y
      .positional("dir", { type: "string", demandOption: true, describe: "the bare repository" })
      .option("base", { type: "string", demandOption: true, describe: "directory with the tree the queue applies to" })
      .option("subdir", {
        type: "string",
        default: "",
        describe: "the queue's directory inside the repository (in-tree queues), e.g. queue/",
      })
      .option("backends", { alias: "b", type: "string", default: "native,xen,vmi", describe: "backends to boot each state on" })
      .option("run", { type: "string", describe: "judge each state by this shell command instead of build and boot (as pq ci --run)" }),
  run: async (args, io) => {
    const run = commandText(args.run);
    const dir = resolve(io.cwd, String(args.dir));
    if (!existsSync(join(dir, "HEAD")) || !existsSync(join(dir, "objects")))
      throw new PqError("not-found", `${dir} is not a bare git repository`);
    const base = resolve(io.cwd, String(args.base));
    if (!existsSync(base)) throw new PqError("not-found", `${base} does not exist`);
    // Checked now, not at the first push: a hook that cannot build the base refuses every push.
    if (run === undefined && !existsSync(join(base, "build.json"))) {
      throw new PqError("usage", `${base} has no build.json: the hook could not build and boot its states`, [
        "pass --run CMD to check each state with a command instead (exit 0 passes, 125 skips, 1-127 fails)",
      ]);
    }
    const sub = args.subdir && !String(args.subdir).endsWith("/") ? `${args.subdir}/` : String(args.subdir ?? "");
    const hook = join(dir, "hooks", "pre-receive");
    if (existsSync(hook) && !readFileSync(hook, "latin1").includes("installed by pq hook install")) {
      throw new PqError("exists", `${hook} exists and was not written by pq`, ["move it away first, or call pq hook check from it"]);
    }
    const cmd = [
      process.execPath,
      pqScript(),
      "hook",
      "check",
      "--git-dir",
      '"$PWD"',
      "--old",
      '"$old"',
      "--new",
      '"$new"',
      "--base",
      base,
      "--subdir",
      sub || "''",
      "--backends",
      String(args.backends),
      ...(run !== undefined ? ["--run", run] : []),
    ]
      .map((a) => (a.startsWith('"') || a === "''" ? a : shq(a)))
      .join(" ");
    const script = `#!/bin/sh
# installed by pq hook install: every pushed queue version runs pq ci; a state that passed
# before and fails in the pushed version refuses the push.
while read old new ref; do
  case "$new" in *[!0]*) ;; *) continue ;; esac
  ${cmd} || exit 1
done
`;
    writeFileSync(hook, script);
    chmodSync(hook, 0o755);
    io.out(`installed ${hook} (checks ${run !== undefined ? `each state with ${run}` : args.backends} over ${base})`);
  },
});

const check = defineCommand({
  command: "check",
  describe: "check one pushed queue version against the previous one (what the pre-receive hook runs)",
  builder: (y) =>
    y
      .option("git-dir", { type: "string", demandOption: true, describe: "the repository receiving the push (set by the hook)" })
      .option("old", { type: "string", demandOption: true, describe: "the queue branch before the push" })
      .option("new", { type: "string", demandOption: true, describe: "the queue branch after the push" })
      .option("base", { type: "string", demandOption: true, describe: "the tree the queue applies to" })
      .option("subdir", { type: "string", default: "", describe: "the queue's directory inside the repository" })
      .option("backends", { alias: "b", type: "string", default: "native,xen,vmi", describe: "backends to boot each state on" })
      .option("run", { type: "string", describe: "judge each state by this shell command instead of build and boot" }),
  run: async (args, io) => {
    const gitDir = resolve(io.cwd, String(args["git-dir"]));
    const sub = String(args.subdir ?? "");
    const before = ZERO.test(String(args.old)) ? null : versionInGitDir(gitDir, String(args.old), sub);
    const after = versionInGitDir(gitDir, String(args.new), sub);
    const base = resolve(io.cwd, String(args.base));
    const verdict = await checkVersions(base, before, after, {
      backends: backendList(args.backends),
      run: commandText(args.run),
      describe: { tree: base, command: "pq hook install" },
    });
    if (verdict.ok) {
      io.err(`pq: the pushed queue keeps every state green (${String(args.new).slice(0, 12)})`);
      return 0;
    }
    io.err(`pq: refusing ${String(args.new).slice(0, 12)}: it breaks a state that passed before`);
    io.err(verdict.report);
    return 1;
  },
});

export default defineCommand({
  command: "hook",
  describe: "the shared queue's server-side gate (pq hook install DIR --base TREE)",
  builder: (y) =>
    y
      .command(install as never)
      .command(check as never)
      .demandCommand(1, "pq hook install DIR --base TREE"),
  run: async () => undefined,
});
