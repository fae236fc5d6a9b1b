import { quotedLog } from "../../core/log-tail.js";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { BootPool, type BootResult } from "../../emulator/index.js";
import { PqError } from "../../errors.js";
import { defineCommand } from "../io.js";
import { printJson } from "../open-stack.js";
import { buildCommand, commandTree, defaultKernelPath } from "../build-run.js";
import { ALL_BACKENDS, backendList, jobCount, judgingArgs } from "../ci-options.js";

export default defineCommand({
  command: "boot",
  describe: "smoke-boot the built kernel on the v86 emulator and print a verdict per backend",
  builder: (y) =>
    y
      .option("backend", { alias: "b", type: "string", array: true, describe: "backend(s) to boot (default: native)" })
      .option("all", { type: "boolean", describe: "every backend: native, xen, vmi" })
      .option("timeout", {
        type: "number",
        requiresArg: true,
        default: 5,
        describe: "seconds without a verdict before a boot counts as a hang",
      })
      .option("log", { type: "boolean", describe: "print every boot's serial log" })
      .option("kernel", { type: "string", describe: "boot this ELF instead of building the tree" })
      .option("cmdline", { type: "string", describe: "extra kernel command line (e.g. nopatch, bench)" })
      .option("jobs", { alias: "j", type: "string", default: 1, describe: "boots at once (worker threads)" })
      .option("json", { type: "boolean", describe: "print the result as JSON" }),
  run: async (args, io) => {
    // As ci and bisect check it: a typo must not boot a healthy kernel into a "hang".
    const { timeoutMs } = judgingArgs({ timeout: args.timeout });
    const tree = commandTree(io.cwd, args.tree);
    let kernel = args.kernel ? resolve(io.cwd, args.kernel) : defaultKernelPath(tree);
    if (!args.kernel) {
      const built = await buildCommand({ tree }, io);
      if (!built.ok) {
        io.err(built.log.trimEnd());
        io.err("pq: the build failed, nothing to boot");
        return 9;
      }
      kernel = built.kernelPath!;
    }
    if (!existsSync(kernel)) throw new PqError("not-found", `no kernel at ${kernel}`, ["run pq build first, or pass --kernel"]);
    const backends = args.all ? ALL_BACKENDS : backendList(((args.backend as string[] | undefined) ?? ["native"]).join(","), "--backend");
    const pool = new BootPool({ workers: Math.min(jobCount(args.jobs, 1)!, backends.length) });
    let results: BootResult[];
    try {
      results = await Promise.all(backends.map((backend) => pool.boot(kernel, { backend, extraCmdline: args.cmdline, timeoutMs })));
    } finally {
      await pool.close();
    }
    if (args.json) printJson(io, results);
    else
      for (const r of results) {
        io.out(`${r.backend.padEnd(7)} ${r.verdict.toUpperCase().padEnd(5)} ${r.msToVerdict} ms${r.reason ? `  ${r.reason}` : ""}`);
        const bad = r.verdict !== "pass" && r.verdict !== "skip";
        if (args.log || bad) io.out(quotedLog(r.log, Infinity));
      }
    return results.every((r) => r.verdict === "pass" || r.verdict === "skip") ? 0 : 10;
  },
});
