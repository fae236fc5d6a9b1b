/**
 * Several boots at once: worker threads, each with its own compiled v86 module (compiled
 * once per worker, reused for every boot it runs). One worker means in-process boots.
 */
import { Worker } from "node:worker_threads";
import { distModule } from "../core/layout.js";
import { bootKernel, type BootOptions, type BootResult } from "./boot.js";

interface Job {
  kernel: string | Uint8Array;
  opts: BootOptions;
  resolve: (r: BootResult) => void;
  reject: (e: Error) => void;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
let boot;
parentPort.on("message", async (msg) => {
  try {
    if (!boot) boot = (await import(workerData.bootModule)).bootKernel;
    const result = await boot(msg.kernel, msg.opts);
    parentPort.postMessage({ id: msg.id, result });
  } catch (e) {
    parentPort.postMessage({ id: msg.id, error: String(e && e.message || e) });
  }
});
`;

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
      // Workers load the compiled module (also when this code runs from the bundle or as .ts source).
      const bootModule = distModule(import.meta.url, "emulator/boot.js");
      for (let i = 0; i < this.size; i++) {
        const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bootModule } });
        const slot = { worker, inflight: 0 };
        worker.on("message", (msg: { id: number; result?: BootResult; error?: string }) => {
          const job = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          slot.inflight--;
          if (job) msg.error ? job.reject(new Error(msg.error)) : job.resolve(msg.result!);
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

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
    this.workers = [];
  }
}
