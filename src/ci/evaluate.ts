/**
 * Judging one state of a series, shared by pq ci and pq bisect: build the tree as it
 * stands (the state-level cache hands back an unchanged image without compiling or
 * linking), then get one verdict per backend, from the verdict cache when the same image
 * was judged before under the same conditions, otherwise by booting it.
 */
import { logTail } from "../core/log-tail.js";
import { PqError } from "../errors.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildTree, defaultCacheDir, formatDiagnostic, parseDiagnostics, type Diagnostic } from "../build/index.js";
import { BootPool, DEFAULT_BOOT_TIMEOUT_MS, type BootOptions, type BootResult } from "../emulator/index.js";
import { stackBlame } from "../queue/blame.js";
import type { Stack } from "../queue/stack.js";
import { FAILING, type Cell, type Outcome } from "./report.js";
import { flakySet, validFor, VerdictCache, verdictKey, type ImageRecord } from "./verdict-cache.js";

export interface EvaluateOptions {
  backends: string[];
  /** Worker threads for boots (1 = boots in this thread). */
  jobs?: number;
  timeoutMs?: number;
  cacheDir?: string;
  /** Link and boot everything again; the results still refresh the caches. */
  noCache?: boolean;
  /** Also reuse remembered hang and crash verdicts (by default a possibly flaky boot is retried). */
  reuseFailures?: boolean;
  /** Boot again whatever verdict is remembered (images still come from the cache): bisect's check of its answer. */
  freshBoots?: boolean;
  /** Boots of each image this run judges (1 by default): more find a flaky guest (see Cell.flaky). */
  repeat?: number;
  /** Hears, once, that boot verdicts cannot be kept (the cache's folder unusable): every run boots them again. */
  onNote?: (message: string) => void;
}

/** An image judged in this run: the boot its cell shows, and its verdicts when boots of it differed. */
interface Judged {
  result: BootResult;
  flaky?: Outcome[];
  /** A flaky image's worst boot (its log), when none of this run's boots was it. */
  worst?: ImageRecord["worst"];
}

export interface StateEvaluation {
  state: number;
  built: boolean;
  /** sha256 of the state's kernel image, when it built. */
  imageSha?: string;
  /** The image came from the state-level cache (nothing compiled or linked). */
  reusedImage: boolean;
  /** Every backend's cell; resolves once all have a verdict (boots run in the background). */
  cells: Promise<Cell[]>;
}

/** Verdicts that may come from a flaky boot: only reused on request. */
const FLAKY: ReadonlySet<Outcome> = new Set(["hang", "crash"]);

const tail = (log: string) => logTail(log, 40);

export function cellFromBoot(
  state: number,
  r: Omit<BootResult, "lines">,
  extra: { reused?: boolean; image?: string; flaky?: Outcome[]; worst?: ImageRecord["worst"] } = {},
): Cell {
  const cell: Cell = { state, backend: r.backend, outcome: r.verdict };
  if (r.reason) cell.reason = r.reason;
  if (r.verdict !== "pass" && r.verdict !== "skip") cell.log = tail(r.log);
  if (extra.flaky) {
    // The worst verdict this very image has given stands: one lucky boot does not make it pass.
    cell.flaky = extra.flaky;
    // A boot of this run that failed on its own (a hang, a crash) is shown as it is (t31 F2).
    if (r.verdict !== extra.flaky[0] && !FAILING.has(r.verdict)) {
      const earlier = extra.worst?.verdict === extra.flaky[0] ? extra.worst : undefined;
      cell.reason = `an earlier boot of this same image gave ${extra.flaky[0]}${earlier?.reason ? ` (${earlier.reason})` : ""}; this one ${r.verdict}${r.reason ? ` (${r.reason})` : ""}`;
      cell.outcome = extra.flaky[0];
      // That boot's log, which the cache kept (t30 F4: reports had none for it).
      if (earlier?.log) cell.log = tail(earlier.log);
      else delete cell.log;
    }
  }
  if (extra.image) cell.image = extra.image.slice(0, 16);
  // A reused cell took no time in this run; its original boot time is not this run's cost.
  if (extra.reused) cell.reused = true;
  else cell.ms = r.msToVerdict;
  return cell;
}

/**
 * A failed build's errors for the log tail: each with the notes gcc gave after it (where a
 * macro or a declaration was made, which blame ties to the patch that made it: an interaction
 * of two patches shows both), and a line repeated for every file that includes a header said
 * once with its count (t85 N3: one error five times, and the note naming the cause dropped).
 */
export function errorLines(diagnostics: Diagnostic[]): string[] {
  const counts = new Map<string, number>();
  let inError = false;
  for (const d of diagnostics) {
    if (d.severity === "error") inError = true;
    else if (d.severity !== "note") inError = false;
    if (!inError) continue;
    const line = formatDiagnostic(d);
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  return [...counts].map(([line, n]) => (n > 1 ? `${line} (${n} times)` : line));
}

export class StateEvaluator {
  /** What this evaluator did: how many links and boots it ran and how many it reused. */
  readonly stats = { states: 0, linked: 0, reusedImages: 0, booted: 0, reusedVerdicts: 0 };
  private pool: BootPool | null = null;
  private readonly verdicts: VerdictCache;
  /** Boots started in this run, so two states with the same image boot it once. */
  private readonly inflight = new Map<string, Promise<Judged>>();
  private readonly cacheDir: string;
  private unstoredSaid = false;

  constructor(private readonly opts: EvaluateOptions) {
    this.cacheDir = opts.cacheDir ?? defaultCacheDir();
    this.verdicts = new VerdictCache(this.cacheDir);
  }

  /** Evaluates the state the stack's tree is in now; `onCell` hears each cell as it is decided. */
  async evaluate(state: number, stack: Stack, onCell: (cell: Cell) => void = () => {}): Promise<StateEvaluation> {
    this.stats.states++;
    let built: Awaited<ReturnType<typeof buildTree>>;
    try {
      built = await buildTree({
        tree: stack.tree,
        cacheDir: this.cacheDir,
        stateCache: this.opts.noCache ? "refresh" : true,
        notInputs: queueFilesOf(stack),
      });
    } catch (e) {
      // The state's build.json is unreadable or unsafe (a patch broke it): that state fails
      // to build, like a compile error; the run goes on and the matrix shows it.
      if (!(e instanceof PqError) || (e.code !== "build-failed" && e.code !== "unsafe-path")) throw e;
      const reason = e.message.split(`${stack.tree}/`).join("");
      const cells = this.opts.backends.map((backend): Cell => ({ state, backend, outcome: "build-error", reason, log: reason }));
      cells.forEach(onCell);
      return { state, built: false, reusedImage: false, cells: Promise.resolve(cells) };
    }
    if (!built.ok) {
      // Blame only costs something when there is an error to blame.
      const diagnostics = parseDiagnostics(built.log, await stackBlame(stack));
      const errors = errorLines(diagnostics).join("\n");
      // A remembered failure (same tree, same toolchain) is reused like a verdict.
      const reused = !!built.reusedImage;
      if (reused) this.stats.reusedImages++;
      const cells = this.opts.backends.map((backend): Cell => ({
        state,
        backend,
        outcome: "build-error",
        reason: "the build failed",
        log: tail(errors || built.log),
        ...(reused ? { reused: true } : { ms: built.ms }),
      }));
      cells.forEach(onCell);
      return { state, built: false, reusedImage: reused, cells: Promise.resolve(cells) };
    }
    if (built.reusedImage) this.stats.reusedImages++;
    else this.stats.linked++;
    const imageSha = built.imageSha!;
    // Read the kernel now: the next state's build overwrites the file while these boot.
    const kernel = new Uint8Array(readFileSync(built.kernelPath!));
    const cells = Promise.all(
      this.opts.backends.map(async (backend) => {
        const cell = await this.verdict(state, kernel, imageSha, { backend, timeoutMs: this.opts.timeoutMs });
        onCell(cell);
        return cell;
      }),
    );
    return { state, built: true, imageSha, reusedImage: !!built.reusedImage, cells };
  }

  private async verdict(state: number, kernel: Uint8Array, imageSha: string, boot: BootOptions): Promise<Cell> {
    const key = verdictKey(imageSha, boot);
    const limit = boot.timeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS;
    /** Boots of this image in a row the cache already has (counted towards --repeat). */
    let before = 0;
    if (!this.opts.noCache && !this.opts.freshBoots) {
      const known = this.verdicts.get(key);
      // A flaky image (boots of it gave different verdicts) is booted again on every run, and
      // --repeat N reuses a verdict only N boots in a row gave (t30 F1).
      const usable = known && !known.seen && validFor(known, limit) && (this.opts.reuseFailures || !FLAKY.has(known.verdict));
      if (usable && (known.boots ?? 1) >= this.repeat) {
        this.stats.reusedVerdicts++;
        return cellFromBoot(state, known, { reused: true, image: imageSha });
      }
      before = usable ? (known.boots ?? 1) : 0;
      const running = this.inflight.get(key);
      if (running) {
        const judged = await running;
        if (!judged.flaky && (this.opts.reuseFailures || !FLAKY.has(judged.result.verdict))) {
          this.stats.reusedVerdicts++;
          return cellFromBoot(state, judged.result, { reused: true, image: imageSha });
        }
      }
    }
    const judging = this.bootImage(kernel, boot, key, limit, Math.max(1, this.repeat - before));
    this.inflight.set(key, judging);
    const { result, flaky, worst } = await judging;
    return cellFromBoot(state, result, { image: imageSha, ...(flaky ? { flaky, worst } : {}) });
  }

  private get repeat(): number {
    return Math.max(1, this.opts.repeat ?? 1);
  }

  /**
   * Boots an image `times` times (what --repeat asks beyond the boots in a row the cache has),
   * each boot remembered (the cache keeps every decided verdict the image gave once they
   * differ); the cell shows the worst boot.
   */
  private async bootImage(kernel: Uint8Array, boot: BootOptions, key: string, limit: number, times: number): Promise<Judged> {
    this.pool ??= new BootPool({ workers: Math.max(1, this.opts.jobs ?? 1) });
    const results: BootResult[] = [];
    let record: ImageRecord = {};
    for (let i = 0; i < times; i++) {
      const r = await this.pool.boot(kernel, boot).catch((e: unknown) => {
        // An image no emulator can load (no multiboot header: a patch changed the linker script
        // or head.S) is that state's failure, a red cell, not an aborted run (t127 N3).
        if (e instanceof PqError && e.data.notBootable === true)
          return { backend: boot.backend, verdict: "crash", reason: e.message, log: "", lines: [], msToVerdict: 0 } satisfies BootResult;
        throw e;
      });
      this.stats.booted++;
      results.push(r);
      try {
        // --no-cache: this run's first boot replaces what the cache held, a flaky mark included.
        const now = this.verdicts.put(key, r, limit, i === 0 && Boolean(this.opts.noCache));
        if (now.seen) record = now;
      } catch (e) {
        // A read-only, full or broken cache folder only costs the next run this boot; said once,
        // where it had turned verdict caching off without a word (t85 N5).
        if (!this.unstoredSaid) {
          this.unstoredSaid = true;
          this.opts.onNote?.(
            `boot verdicts cannot be kept in ${join(this.cacheDir, "verdicts")} (${(e as Error).message}): the next run boots these states again; make that folder writable, or set PQ_CACHE_DIR to another`,
          );
        }
      }
    }
    const flaky = flakySet([...(record.seen ?? []), ...results.map((r) => r.verdict)]);
    const shown = results.find((r) => (flaky ? r.verdict === flaky[0] : FAILING.has(r.verdict))) ?? results[0];
    return { result: shown, ...(flaky ? { flaky, ...(record.worst ? { worst: record.worst } : {}) } : {}) };
  }

  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = null;
    try {
      this.verdicts.prune();
    } catch {
      /* pruning is best effort */
    }
  }
}

/**
 * The files of a queue kept inside the tree (the current stack's patches/) that are no compile
 * input: its series and patch files, so that an edited patch header does not change every
 * state's key. Anything else in that folder (a header a source includes from it) is an input
 * like any file of the tree (t43 N1: the whole folder was left out, and a broken header there
 * kept a state's PASS).
 */
function queueFilesOf(stack: Stack): string[] {
  return [join(stack.queueDir, "series"), ...stack.series().map((e) => join(stack.queueDir, e.name))];
}
