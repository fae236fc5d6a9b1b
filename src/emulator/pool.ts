/**
 * Several boots at once: worker threads, each with its own compiled v86 module (compiled
 * once per worker, reused for every boot it runs). One worker means in-process boots.
 */
import { Worker } from "node:worker_threads";
import { distModule } from "../core/layout.js";
import { PqError, type PqErrorCode } from "../errors.js";
import { baselineWasmOnly, bootKernel, type BootOptions, type BootResult } from "./boot.js";

interface Job {
  kernel: string | Uint8Array;
  opts: BootOptions;
  resolve: (r: BootResult) => void;
  reject: (e: Error) => void;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
let mod;
parentPort.on("message", async (msg) => {
  if (msg.close) {
    // The idle machines go first, then the port: the thread ends when nothing is left to run.
    if (mod) await mod.releaseMachines().catch(() => undefined);
    parentPort.close();
    return;
  }
  try {
    if (!mod) mod = await import(workerData.bootModule);
    const result = await mod.bootKernel(msg.kernel, msg.opts);
    parentPort.postMessage({ id: msg.id, result });
  } catch (e) {
    // A PqError's code, details and data cross too: the caller tells a kernel no emulator can load from a failure of pq's.
    const pq = e && e.name === "PqError" ? { code: e.code, details: e.details, data: e.data } : undefined;
    parentPort.postMessage({ id: msg.id, error: String(e && e.message || e), pq });
  }
});
`;

interface WorkerAnswer {
  id: number;
  result?: BootResult;
  error?: string;
  pq?: { code: PqErrorCode; details: string[]; data: Record<string, unknown> };
}

function workerError(message: string, pq: WorkerAnswer["pq"]): Error {
  return pq ? new PqError(pq.code, message, pq.details, pq.data) : new Error(message);
}

export class BootPool {
  /**
   * Boots in flight per worker: a boot spends much of its time waiting for emulated timer
   * ticks (which follow host time), so a few interleave well on one thread.
   */
  static readonly PER_WORKER = 3;
  private workers: { worker: Worker; inflight: number }[] = [];
  private queue: Job[] = [];
  private pending = new Map<number, Job>();
  private nextId = 1;
  readonly size: number;

  constructor(opts: { workers: number }) {
    this.size = Math.max(1, opts.workers);
    if (this.size > 1) {
      // V8's flags are the process's: set from this thread, where the launcher looks for the mark.
      baselineWasmOnly();
      // Workers load the compiled module (also when this code runs from the bundle or as .ts source).
      const bootModule = distModule(import.meta.url, "emulator/boot.js");
      for (let i = 0; i < this.size; i++) {
        const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bootModule } });
        const slot = { worker, inflight: 0 };
        worker.on("message", (msg: WorkerAnswer) => {
          const job = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          slot.inflight--;
          if (job) msg.error !== undefined ? job.reject(workerError(msg.error, msg.pq)) : job.resolve(msg.result!);
          this.drain();
        });
        worker.on("error", (e) => {
          for (const job of this.pending.values()) job.reject(e);
          this.pending.clear();
        });
        this.workers.push(slot);
      }
    }
  }

  boot(kernel: string | Uint8Array, opts: BootOptions): Promise<BootResult> {
    if (this.size === 1) return bootKernel(kernel, opts);
    return new Promise((resolve, reject) => {
      this.queue.push({ kernel, opts, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    for (;;) {
      const slot = this.workers.filter((w) => w.inflight < BootPool.PER_WORKER).sort((a, b) => a.inflight - b.inflight)[0];
      if (!slot || !this.queue.length) return;
      const job = this.queue.shift()!;
      const id = this.nextId++;
      slot.inflight++;
      this.pending.set(id, job);
      slot.worker.postMessage({ id, kernel: job.kernel, opts: job.opts });
    }
  }

  /**
   * Each worker is asked to end (its machines destroyed, its port closed) and waited for; one
   * that has not ended after CLOSE_WAIT_MS is terminated. Terminating a thread while its
   * emulator's WebAssembly may still run crashed Node now and then (a segfault in libgcc_s at
   * the end of a ci run in the TUI: tui-22 F1; nodejs/node#33377 is one such crash).
   */
  async close(): Promise<{ terminated: number }> {
    const ends = await Promise.all(
      this.workers.map(({ worker }) => {
        const ended = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
        worker.postMessage({ close: true });
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), BootPool.CLOSE_WAIT_MS)));
        return Promise.race([ended, late]).then(async (r) => {
          clearTimeout(timer);
          if (r === "late") await worker.terminate();
          return r === "late";
        });
      }),
    );
    this.workers = [];
    return { terminated: ends.filter(Boolean).length };
  }

  /** How long close() waits for a worker to end on its own. */
  static readonly CLOSE_WAIT_MS = 2000;
}
