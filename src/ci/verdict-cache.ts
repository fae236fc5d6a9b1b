/**
 * Boot verdicts remembered by what decides them: the kernel image's bytes (by hash), the
 * backend, the full command line, the memory size and the emulator's identity. Patch names
 * and positions are not part of the key, so a renamed or reordered patch whose state links
 * the same image reuses its verdict. The hang limit is not in the key either but kept with
 * the verdict: a verdict reached within a run's limit holds for it, and a hang for any limit
 * up to the one it waited out (`validFor`). So a run with a longer limit (a loaded machine,
 * `--timeout`) reuses what a run with the default judged. Stored next to the object cache
 * ($PQ_CACHE_DIR/verdicts), bounded, least recently used first out.
 */
import { join } from "node:path";
import { LruStore, sha256 } from "../build/lru-store.js";
import { bootCmdline, type BootOptions, type BootResult } from "../emulator/boot.js";
import { emulatorIdentity } from "../emulator/identity.js";

const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;
const VERDICTS = new Set(["pass", "fail", "skip", "panic", "hang", "crash"]);
/**
 * Verdicts the kernel decides: two boots of one image that end in two of them show a guest that
 * is not deterministic (it reads the time: rdtsc follows the host's clock in v86). A hang (a
 * loaded machine) and a crash (the emulator) are not counted: they are booted again anyway.
 */
const DECIDED: ReadonlySet<string> = new Set(["pass", "fail", "skip", "panic"]);
/** Worst first: what a flaky image's cell shows. */
const SEVERITY: BootResult["verdict"][] = ["panic", "fail", "skip", "pass"];

export type CachedBoot = Omit<BootResult, "lines"> & {
  /** The hang limit the boot ran under. */
  timeoutMs: number;
  /**
   * Every decided verdict boots of this image gave, worst first, when they were not all the same:
   * a flaky image, whose verdict is never reused (ci-17 F1: one lucky boot was a PASS for ever).
   */
  seen?: BootResult["verdict"][];
  /** How many boots in a row gave this verdict (absent: one); `pq ci --repeat N` reuses it only from N. */
  boots?: number;
  /** A flaky image's worst boot, kept for its log and reason (the last boot may have passed). */
  worst?: ImageRecord["worst"];
};

/** What put learnt of an image: its verdicts when they differ, and the worst boot of them. */
export interface ImageRecord {
  seen?: BootResult["verdict"][];
  worst?: Pick<BootResult, "verdict" | "reason" | "log">;
}

/** The decided verdicts among `verdicts`, worst first, when there are two or more; else undefined. */
export function flakySet(verdicts: Iterable<string>): BootResult["verdict"][] | undefined {
  const decided = new Set([...verdicts].filter((v) => DECIDED.has(v)));
  return decided.size > 1 ? SEVERITY.filter((v) => decided.has(v)) : undefined;
}

/**
 * How a boot's lines become a verdict, when that changes: a verdict judged by an older rule is
 * not reused. 2: a skip of a backend the kernel lists is a fail (ci-17 F8). 3: a pass on other
 * ops than the backend asked for is a fail (t85 N1), and so is a smoke value pq cannot read (t85 N4).
 */
const JUDGING_RULES = 3;

export function verdictKey(imageSha: string, opts: BootOptions): string {
  const parts = {
    rules: JUDGING_RULES,
    image: imageSha,
    backend: opts.backend,
    cmdline: bootCmdline(opts),
    memoryMB: opts.memoryMB ?? 32,
    emulator: emulatorIdentity(),
  };
  return sha256(JSON.stringify(parts));
}

/**
 * Whether a remembered boot decides a boot under the hang limit `timeoutMs`. A verdict does when
 * it came under a limit no longer than this one, or within this one by its own time (which
 * counts from before the emulator started, more than the limit counts). A hang does when it
 * waited out at least this long.
 */
export function validFor(known: Pick<CachedBoot, "verdict" | "msToVerdict" | "timeoutMs">, timeoutMs: number): boolean {
  return known.verdict === "hang" ? known.timeoutMs >= timeoutMs : known.timeoutMs <= timeoutMs || known.msToVerdict <= timeoutMs;
}

export class VerdictCache {
  private store: LruStore<CachedBoot>;

  constructor(cacheDir: string, maxBytes = DEFAULT_MAX_BYTES) {
    this.store = new LruStore<CachedBoot>(join(cacheDir, "verdicts"), maxBytes);
  }

  get(key: string): CachedBoot | null {
    const e = this.store.get(key);
    const m = e?.meta;
    // A well-formed file with a nonsensical body is as untrustworthy as a torn one.
    if (
      !m ||
      typeof m !== "object" ||
      !VERDICTS.has(m.verdict) ||
      typeof m.backend !== "string" ||
      typeof m.log !== "string" ||
      typeof m.msToVerdict !== "number" ||
      typeof m.timeoutMs !== "number" ||
      (m.seen !== undefined && !(Array.isArray(m.seen) && JSON.stringify(flakySet(m.seen)) === JSON.stringify(m.seen))) ||
      (m.boots !== undefined && !(Number.isInteger(m.boots) && m.boots >= 1)) ||
      (m.worst !== undefined &&
        !(typeof m.worst === "object" && m.worst !== null && VERDICTS.has(m.worst.verdict) && typeof m.worst.log === "string"))
    )
      return null;
    return m;
  }

  /**
   * Remembers a boot. The entry keeps every decided verdict the image gave once they differ
   * (whatever later boots give) and the worst of those boots; `fresh`: the history starts
   * again with this boot (--no-cache replaces what the cache held).
   */
  put(key: string, result: BootResult, timeoutMs: number, fresh = false): ImageRecord {
    const before = fresh ? null : this.get(key);
    const seen = flakySet([...(before?.seen ?? (before ? [before.verdict] : [])), result.verdict]);
    const { lines: _lines, ...kept } = result;
    const boots = before && !seen && before.verdict === result.verdict ? (before.boots ?? 1) + 1 : 1;
    let worst: ImageRecord["worst"];
    if (seen) {
      const earlier = before?.worst ?? before ?? undefined;
      const rank = (v: string) => (SEVERITY as string[]).indexOf(v);
      const pick =
        earlier && rank(earlier.verdict) !== -1 && (rank(result.verdict) === -1 || rank(earlier.verdict) < rank(result.verdict))
          ? earlier
          : result;
      worst = { verdict: pick.verdict, log: pick.log, ...(pick.reason ? { reason: pick.reason } : {}) };
    }
    this.store.put(key, { ...kept, timeoutMs, ...(boots > 1 ? { boots } : {}), ...(seen ? { seen, worst } : {}) });
    return seen ? { seen, worst } : {};
  }

  prune() {
    return this.store.prune();
  }
}
