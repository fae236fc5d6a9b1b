/** Options pq ci and pq bisect share: how a state is judged and how far the caches are trusted. */
import type { Argv } from "yargs";

export function judgingOptions<T>(y: Argv<T>) {
  return y
    .option("timeout", { type: "number", default: 5, describe: "seconds without a verdict before a boot counts as a hang" })
    .option("cache", {
      type: "boolean",
      default: true,
      describe: "reuse images and verdicts from the cache ($PQ_CACHE_DIR); --no-cache links and boots everything again",
    })
    .option("reuse-failures", {
      type: "boolean",
      default: false,
      describe: "also reuse remembered hang and crash verdicts (by default such boots run again)",
    });
}

export function judgingArgs(args: { timeout?: number; cache?: boolean; reuseFailures?: boolean }) {
  return { timeoutMs: Math.round((args.timeout ?? 5) * 1000), noCache: args.cache === false, reuseFailures: Boolean(args.reuseFailures) };
}

/** Every backend the kernel model knows, in matrix order. */
export const ALL_BACKENDS = ["native", "xen", "vmi"];
