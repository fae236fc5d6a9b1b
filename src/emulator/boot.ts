/**
 * Boots a multiboot kernel on v86 in this process (no BIOS: v86 loads multiboot kernels
 * itself), reads COM1, and turns the smoke protocol into a verdict. The WebAssembly
 * module is compiled once per thread; emulators are built once and reset for each boot
 * (src/emulator/machine.ts), which is what keeps a warm boot in the tens of milliseconds.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { PqError } from "../errors.js";
import { v86Dir } from "./identity.js";
import { Machine, type V86Like } from "./machine.js";
import { parseProtocolLine, verdictOf, type ProtocolLine, type Verdict } from "./protocol.js";
import { importModule } from "../core/dynamic-import.js";

/** What a kernel the emulator cannot start needs (readme-15 F5). */
const EMULATOR_START_ADVICE = [
  "pq boots an i386 multiboot ELF, as pq build makes it: leave out --kernel to build and boot the tree's, or name such a file",
];

export interface BootOptions {
  backend: string;
  extraCmdline?: string;
  /** No verdict by then is a hang. */
  timeoutMs?: number;
  memoryMB?: number;
  /** Compile the wasm module afresh for this boot (for measuring what reuse saves); implies a fresh instance. */
  coldWasm?: boolean;
  /** Build a new emulator for this boot instead of resetting an idle one (also PQ_BOOT_FRESH=1). */
  freshInstance?: boolean;
  /** Each serial byte as it arrives (in-process boots only: a function does not cross to a worker). */
  onSerial?: (ch: string) => void;
}

export interface BootResult {
  backend: string;
  verdict: Verdict;
  reason?: string;
  log: string;
  lines: ProtocolLine[];
  backendsAvailable?: string[];
  msToFirstByte?: number;
  msToVerdict: number;
}

export const DEFAULT_BOOT_TIMEOUT_MS = 5000;

let v86Module: { V86: new (opts: Record<string, unknown>) => V86Like } | null = null;
let wasmModule: Promise<WebAssembly.Module> | null = null;

async function loadV86() {
  if (!v86Module) v86Module = await importModule<typeof v86Module>("v86");
  return v86Module!;
}

/**
 * v86 compiles hot x86 code into small WebAssembly modules as a boot runs, thousands of them in
 * a ci run, most run a few times. V8 compiles each with its baseline compiler (Liftoff) and then
 * again with TurboFan in background threads: a quarter of `npm start`'s CPU went to TurboFan
 * (perf, December 7), more than the optimised code saved. Liftoff alone: 6.4 s against 8.5 s
 * wall, peak memory 350 against 410 MB. The flag is the process's (V8 has no per-thread flags)
 * and is set before the first module is compiled; it changes no verdict and no instruction
 * count (bench boots count in v86's interpreter). V8 checks a code cache against its flags:
 * the launcher sets it before the bundle is compiled for the commands that boot, and writes
 * no cache for a run where it was set here instead (bin/pq.cjs).
 */
const WASM_BASELINE_ONLY = Symbol.for("pq.wasm-baseline-only");
/** Also called by BootPool before its worker threads compile: the mark the launcher reads is this thread's (t135 N2). */
export function baselineWasmOnly(): void {
  const seen = globalThis as { [WASM_BASELINE_ONLY]?: string };
  // bin/pq.cjs sets it before the bundle is compiled for the commands that boot (the code cache's flags stay the same).
  if (seen[WASM_BASELINE_ONLY] !== undefined) return;
  setFlagsFromString("--liftoff-only");
  seen[WASM_BASELINE_ONLY] = "set while running";
}

function compiledWasm(fresh = false): Promise<WebAssembly.Module> {
  baselineWasmOnly();
  const compile = () => WebAssembly.compile(readFileSync(join(v86Dir(), "build", "v86.wasm")));
  if (fresh) return compile();
  if (!wasmModule) wasmModule = compile();
  return wasmModule;
}

/**
 * The kernel's "bench" mode counts instructions by reading v86's executed-instruction
 * counter through I/O port 0x5f0: exact and the same on every run, where rdtsc follows
 * host time. (A 32-bit read; differences are taken modulo 2^32.)
 */
export const ICOUNT_PORT = 0x5f0;

type PortRead = () => number;
interface CounterCpu {
  instruction_counter?: Uint32Array;
  io?: { register_read(port: number, device: unknown, r8?: PortRead, r16?: PortRead, r32?: PortRead): void };
}

/** Returns false while the CPU's I/O bus does not exist yet (try again later). */
function exposeInstructionCounter(cpu: CounterCpu | undefined): boolean {
  const counter = cpu?.instruction_counter;
  if (!cpu?.io || !counter) return false;
  const read = () => counter[0] >>> 0;
  cpu.io.register_read(
    ICOUNT_PORT,
    {},
    () => read() & 0xff,
    () => read() & 0xffff,
    read,
  );
  return true;
}

/** The kernel command line a boot passes: part of what decides its verdict. */
export function bootCmdline(opts: Pick<BootOptions, "backend" | "extraCmdline">): string {
  return [`paravirt=${opts.backend}`, opts.extraCmdline ?? ""].join(" ").trim();
}

/** Multiboot's rule: a 4-byte aligned magic in the first 8192 bytes, whose flags and checksum add up to zero with it. */
export function hasMultibootHeader(image: Uint8Array): boolean {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  for (let at = 0; at + 12 <= Math.min(image.length, 8192); at += 4) {
    if (view.getUint32(at, true) !== 0x1badb002) continue;
    if ((0x1badb002 + view.getUint32(at + 4, true) + view.getUint32(at + 8, true)) >>> 0 === 0) return true;
  }
  return false;
}

export async function bootKernel(kernel: string | Uint8Array, opts: BootOptions): Promise<BootResult> {
  const image = typeof kernel === "string" ? readFileSync(kernel) : kernel;
  if (image.length < 64 || !(image[0] === 0x7f && image[1] === 0x45 && image[2] === 0x4c && image[3] === 0x46)) {
    throw new PqError("boot-failed", "the kernel is not an ELF file", ["build it first (pq build)"], { notBootable: true });
  }
  // Said of the image, before an emulator is made: pq ci makes it a red cell of that state (t127 N3).
  if (!hasMultibootHeader(image)) {
    throw new PqError(
      "boot-failed",
      "the kernel has no multiboot header in its first 8 KiB (the magic 0x1BADB002 with its checksum), which the emulator loads a kernel by",
      [
        "the tree's linker script or head.S must put the multiboot header first (the kernel model's arch/i386/head.S does)",
        ...EMULATOR_START_ADVICE,
      ],
      { notBootable: true },
    );
  }
  const { V86 } = await loadV86();
  const module = await compiledWasm(opts.coldWasm);
  const buffer = () => image.buffer.slice(image.byteOffset, image.byteOffset + image.byteLength) as ArrayBuffer;
  const cmdline = bootCmdline(opts);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS;
  const memoryMB = opts.memoryMB ?? 32;
  // v86's JIT counts instructions per compiled block; the interpreter counts each one,
  // which the kernel's bench mode needs for exact per-operation figures.
  const disableJit = /\bbench\b/.test(cmdline);
  const reuse = !opts.freshInstance && !opts.coldWasm && process.env.PQ_BOOT_FRESH !== "1";
  const build = () =>
    new V86({
      wasm_fn: async (imports: WebAssembly.Imports) => (await WebAssembly.instantiate(module, quietWasm(imports))).exports,
      multiboot: { buffer: buffer() },
      cmdline,
      memory_size: memoryMB * 1024 * 1024,
      vga_memory_size: 2 * 1024 * 1024,
      autostart: !reuse,
      disable_keyboard: true,
      disable_mouse: true,
      disable_speaker: true,
      log_level: 0,
      disable_jit: disableJit,
    });
  const started = performance.now();

  return new Promise<BootResult>((resolve, reject) => {
    let log = "";
    let current = "";
    const lines: ProtocolLine[] = [];
    let firstByte: number | undefined;
    let backends: string[] | undefined;
    /** The ops the kernel says it runs on (`pq: paravirt name="..."`), once it says so. */
    let runsOn: string | undefined;
    let settled = false;
    let emulator: V86Like | null = null;
    let machine: Machine | null = null;
    const timers: NodeJS.Timeout[] = [];

    const finish = (verdict: Verdict, reason?: string) => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      const result: BootResult = { backend: opts.backend, verdict, log, lines, msToVerdict: Math.round(performance.now() - started) };
      if (reason !== undefined) result.reason = reason;
      if (firstByte !== undefined) result.msToFirstByte = firstByte;
      if (backends) result.backendsAvailable = backends;
      // A requested backend the state does not have is a skip even if the kernel ran on.
      if (backends && !backends.includes(opts.backend) && (verdict === "pass" || verdict === "fail")) {
        result.verdict = "skip";
        result.reason = `this state has no ${opts.backend} backend (it has ${backends.join(", ")})`;
      }
      // And the other way: a skip of a backend the kernel lists as its own is that backend failing
      // to come up (a broken probe), not a state without it (ci-17 F8: ci green, bisect "passes").
      if (backends?.includes(opts.backend) && verdict === "skip") {
        result.verdict = "fail";
        result.reason = `the kernel lists the ${opts.backend} backend (backends=${backends.join(",")}) but did not run on it${reason ? `: ${reason}` : ""}`;
      }
      // A pass on other ops than the backend asked for (a broken probe that let native take over)
      // is that backend not tested at all (t85 N1: xen and vmi were green, run on bare hardware).
      if (backends?.includes(opts.backend) && result.verdict === "pass" && runsOn !== undefined && !runsOnBackend(runsOn, opts.backend)) {
        result.verdict = "fail";
        result.reason = `asked for the ${opts.backend} backend, the kernel ran on ${runsOn === NATIVE_NAME ? "bare hardware" : `"${runsOn}"`}`;
      }
      const done = () => resolve(result);
      // A machine is only reused after a boot that ended by the protocol; the verdict does not wait for that.
      if (machine) {
        machine.release(verdict !== "hang" && verdict !== "crash");
        done();
      }
      // A CPU that died inside the emulator may never acknowledge destroy(): don't wait long.
      else if (emulator) Promise.race([emulator.destroy().catch(() => undefined), new Promise((r) => setTimeout(r, 200))]).then(done, done);
      else done();
    };

    const onLine = (line: string) => {
      const parsed = parseProtocolLine(line);
      if (!parsed) return;
      lines.push(parsed);
      if (parsed.fields.backends !== undefined) backends = parsed.fields.backends.split(",").filter(Boolean);
      if (parsed.flags[0] === "paravirt" && parsed.fields.name !== undefined) runsOn = parsed.fields.name;
      const v = verdictOf(parsed);
      if (v) finish(v.verdict, v.reason);
    };
    const onByte = (byte: number) => {
      if (settled) return;
      if (firstByte === undefined) firstByte = Math.round(performance.now() - started);
      const ch = String.fromCharCode(byte);
      log += ch;
      opts.onSerial?.(ch);
      if (ch === "\n") {
        onLine(current.replace(/\r$/, ""));
        current = "";
      } else current += ch;
    };
    const onFatal = (e: Error) => {
      // What the emulator's Rust said as it stopped (its panic's last line), as the reason's detail.
      const said = wasmSaid.splice(0).join("\n").trim().split("\n").at(-1);
      finish("crash", `the emulated CPU stopped: ${e.message}${said ? ` (v86: ${said})` : ""} (triple fault or fatal CPU state)`);
    };

    // The hang limit counts the kernel's own time: it starts when the emulated CPU is ready,
    // not while a busy machine is still instantiating the emulator.
    let limitStarted = false;
    const startLimit = () => {
      if (limitStarted || settled) return;
      limitStarted = true;
      timers.push(setTimeout(() => finish("hang", `no verdict within ${timeoutMs} ms`), timeoutMs));
    };
    // A triple fault that resets the CPU lands in real mode; the kernel never leaves protected mode itself.
    let sawProtected = false;
    const watch = () => {
      if (settled) return;
      const cr0 = emulator?.v86?.cpu?.cr?.[0];
      if (cr0 !== undefined) {
        if (cr0 & 1) sawProtected = true;
        else if (sawProtected) return finish("crash", "the CPU was reset (triple fault)");
      }
      timers.push(setTimeout(watch, 5));
    };

    if (reuse) {
      Machine.acquire(`${memoryMB}/${disableJit ? "interp" : "jit"}`, build, (e) => exposeInstructionCounter(e.v86?.cpu))
        .then(async (m) => {
          machine = m;
          emulator = m.emulator;
          await m.start(buffer(), cmdline, { onByte, onFatal });
          startLimit();
          watch();
        })
        .catch((e: Error) => {
          if (machine) machine.release(false);
          if (!settled) {
            settled = true;
            timers.forEach(clearTimeout);
            reject(new PqError("boot-failed", `the emulator did not start: ${e.message}`, EMULATOR_START_ADVICE));
          }
        });
      return;
    }

    try {
      emulator = build();
    } catch (e) {
      reject(new PqError("boot-failed", `the emulator did not start: ${(e as Error).message}`, EMULATOR_START_ADVICE));
      return;
    }
    emulator.add_listener("serial0-output-byte", (byte) => onByte(byte as number));
    // v86 stops its CPU with a WebAssembly trap on a triple fault (and on other fatal CPU
    // states): catch it in the emulator's tick so it becomes a crash verdict, not a stray exception.
    // The inner emulator appears once the wasm module is instantiated: hook it then.
    let hooked = false;
    let counterExposed = false;
    const hookTick = () => {
      const inner = emulator?.v86;
      if (!counterExposed) counterExposed = exposeInstructionCounter(inner?.cpu);
      if (hooked || !inner?.do_tick) return;
      hooked = true;
      const tick = inner.do_tick.bind(inner);
      inner.do_tick = () => {
        if (settled) return;
        try {
          tick();
        } catch (e) {
          inner.running = false;
          onFatal(e as Error);
        }
      };
    };
    emulator.add_listener("emulator-ready", () => {
      hookTick();
      startLimit();
    });
    const watchFresh = () => {
      hookTick();
      watch();
    };
    timers.push(setTimeout(watchFresh, 1));
    // Should the ready event never come, the emulator itself is stuck: give it generous time.
    timers.push(setTimeout(startLimit, Math.max(10_000, timeoutMs)));
  });
}

/** Ends this thread's idle machines (each keeps an emulator with its timers): a worker then ends on its own. */
export function releaseMachines(): Promise<void> {
  return Machine.destroyIdle();
}

/**
 * What the emulator's Rust code printed (a panic as the CPU stopped: "panicked at
 * src/rust/cpu/cpu.rs:815:13: Unimplemented: #GP handler"), kept for the crash's reason instead
 * of going to stderr unprefixed between ci's progress lines, where it read as pq's own crash (t85 N2).
 */
const wasmSaid: string[] = [];

/** The wasm imports with v86's console output from Rust taken into wasmSaid. */
function quietWasm(imports: WebAssembly.Imports): WebAssembly.Imports {
  const env = imports.env as Record<string, unknown> | undefined;
  const log = env?.console_log_from_wasm;
  if (!env || typeof log !== "function") return imports;
  env.console_log_from_wasm = (...args: unknown[]) => {
    const saved = console.error;
    console.error = (...parts: unknown[]) => void wasmSaid.push(parts.map(String).join(" "));
    try {
      (log as (...a: unknown[]) => void)(...args);
    } finally {
      console.error = saved;
    }
    // Only the last few are kept: a long run that logs and never crashes holds no more.
    if (wasmSaid.length > 8) wasmSaid.splice(0, wasmSaid.length - 8);
  };
  return imports;
}

/** The name the native ops give themselves in the kernel's `pq: paravirt name=` line. */
const NATIVE_NAME = "bare hardware";

/** Whether the ops the kernel named (`paravirt name=`) are the backend's: its own name, or native's. */
function runsOnBackend(name: string, backend: string): boolean {
  return name === backend || (backend === "native" && name === NATIVE_NAME);
}
