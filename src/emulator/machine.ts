/**
 * Reusable v86 machines. Building an emulator (instantiating the wasm module, allocating
 * guest memory, creating every device) is most of a warm boot's cost, so each thread keeps
 * a few idle machines. A new machine's first boot is an ordinary fresh boot, except for the
 * thread's first machine of a kind: before its first instruction it zeroes guest memory
 * and saves its whole state, then loads its kernel again. Every later boot on any machine
 * of that kind restores that state (CPU, devices, zero memory, empty JIT cache) and loads
 * the kernel the way v86's own multiboot loader does at construction. What a kernel sees is thus what a fresh
 * instance shows it; test/emulator/reuse.test.ts checks verdicts and serial logs of every
 * state of the bundled series against fresh boots.
 * A machine whose boot ended in a hang or crash, or that would not stop, is destroyed.
 */

export interface V86Like {
  add_listener(event: string, fn: (arg: unknown) => void): void;
  destroy(): Promise<void>;
  stop(): Promise<void>;
  run(): Promise<void>;
  save_state(): Promise<ArrayBuffer>;
  restore_state(state: ArrayBuffer): Promise<void>;
  v86?: Inner;
}

interface Inner {
  cpu?: Cpu;
  do_tick?: () => void;
  running?: boolean;
  stop?: () => void;
}

interface Cpu {
  cr?: Int32Array;
  reg32: Int32Array;
  memory_size: Uint32Array;
  instruction_counter?: Uint32Array;
  io?: {
    register_read(port: number, device: unknown, r8?: () => number, r16?: () => number, r32?: () => number): void;
    port_read32(port: number): number;
  };
  zero_memory(offset: number, length: number): void;
  load_multiboot_option_rom(buffer: ArrayBuffer, initrd: undefined, cmdline: string): unknown;
  update_state_flags(): void;
  full_clear_tlb(): void;
  jit_clear_cache(): void;
  devices?: { pci?: PciLike };
}

interface PciLike {
  devices: ({ pci_bars: ({ original_bar: number } | undefined)[] } | undefined)[];
  device_spaces: Int32Array[];
  pci_addr: Uint8Array;
  pci_value: Uint8Array;
  pci_response: Uint8Array;
  pci_status: Uint8Array;
  set_io_bars(bar: unknown, from: number, to: number): void;
  set_state(state: unknown[]): void;
}

export interface MachineSession {
  onByte(byte: number): void;
  /** The emulated CPU stopped with an exception inside v86 (a triple fault or fatal state). */
  onFatal(e: Error): void;
}

/** The multiboot port v86's loader answers on; reading it loads the kernel and sets the registers. */
const MULTIBOOT_PORT = 0xf4;
const MAX_IDLE = 4;
/** What this thread's machines did: built anew, or reset for another boot. */
export const machineStats = { built: 0, reset: 0 };
const idle = new Map<string, Machine[]>();
/** Per kind (memory size, JIT or not): the state of a just-built machine before its first instruction. */
const snapshots = new Map<string, Promise<ArrayBuffer>>();

export class Machine {
  session: MachineSession | null = null;
  /** Still holding the kernel it was built with, never run. */
  private pristine = true;
  /** In the snapshot's state already (memory zeroed before the snapshot was taken), never run. */
  private memoryZeroed = false;
  private constructor(
    readonly emulator: V86Like,
    private readonly cpu: Cpu,
    readonly kind: string,
  ) {}

  /** An idle machine of this kind, or a new one. */
  static async acquire(kind: string, build: () => V86Like, onReady: (m: V86Like) => void): Promise<Machine> {
    for (let m = idle.get(kind)?.pop(); m; m = idle.get(kind)?.pop()) {
      if (await m.stopped) return m;
      void m.destroy();
    }
    const emulator = build();
    machineStats.built++;
    await new Promise<void>((resolve) => emulator.add_listener("emulator-ready", () => resolve()));
    onReady(emulator);
    const cpu = emulator.v86!.cpu!;
    guardPciRestore(cpu.devices?.pci);
    const machine = new Machine(emulator, cpu, kind);
    if (!snapshots.has(kind)) {
      // The snapshot holds zero memory (what every reset then starts from); this machine loads its kernel again.
      cpu.zero_memory(0, cpu.memory_size[0]);
      snapshots.set(kind, emulator.save_state());
      machine.pristine = false;
      machine.memoryZeroed = true;
    }
    await snapshots.get(kind);
    emulator.add_listener("serial0-output-byte", (byte) => machine.session?.onByte(byte as number));
    const inner = emulator.v86!;
    const tick = inner.do_tick!.bind(inner);
    inner.do_tick = () => {
      try {
        tick();
      } catch (e) {
        inner.running = false;
        const s = machine.session;
        machine.session = null;
        s?.onFatal(e as Error);
      }
    };
    return machine;
  }

  /** Puts the machine in the state a fresh instance has with this kernel loaded, and runs it. */
  async start(kernel: ArrayBuffer, cmdline: string, session: MachineSession): Promise<void> {
    if (this.pristine) {
      // Built for this very boot: nothing to reset.
      this.pristine = false;
      this.session = session;
      await this.emulator.run();
      return;
    }
    if (this.memoryZeroed) this.memoryZeroed = false;
    else {
      machineStats.reset++;
      await this.emulator.restore_state(await snapshots.get(this.kind)!);
    }
    const cpu = this.cpu;
    if (!cpu.load_multiboot_option_rom(kernel, undefined, cmdline)) throw new Error("no multiboot header in the kernel");
    cpu.reg32[0] = cpu.io!.port_read32(MULTIBOOT_PORT);
    if (cpu.instruction_counter) cpu.instruction_counter[0] = 0;
    cpu.update_state_flags();
    cpu.full_clear_tlb();
    cpu.jit_clear_cache();
    this.session = session;
    await this.emulator.run();
  }

  /** Ends the boot; a machine that stops cleanly goes back to the idle list at once (the next acquire waits for the stop), any other is destroyed. */
  release(reusable: boolean): void {
    this.session = null;
    const list = idle.get(this.kind) ?? [];
    if (!reusable || list.length >= MAX_IDLE) {
      void this.destroy();
      return;
    }
    this.stopped = Promise.race([this.emulator.stop().then(() => true), delay(200, false)]);
    list.push(this);
    idle.set(this.kind, list);
  }

  /** Destroys every idle machine of this thread (a worker about to end: see BootPool.close). */
  static async destroyIdle(): Promise<void> {
    const machines = [...idle.values()].flat();
    idle.clear();
    await Promise.all(machines.map(async (m) => (await m.stopped, m.destroy())));
  }

  /** Resolves true once the emulator has stopped after its last boot. */
  private stopped: Promise<boolean> = Promise.resolve(true);

  private async destroy(): Promise<void> {
    this.session = null;
    // A CPU that died inside the emulator may never acknowledge: don't wait long.
    await Promise.race([this.emulator.destroy().catch(() => undefined), delay(200, undefined)]);
  }
}

function delay<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms).unref());
}

/**
 * v86 0.5's PCI restore dereferences every I/O BAR the saved config space flags, even
 * where the device declares no such BAR, and throws. Same restore, minus that slip: a BAR
 * the device does not have has nothing to remap.
 */
function guardPciRestore(pci: PciLike | undefined): void {
  if (!pci) return;
  pci.set_state = function (this: PciLike, state: unknown[]) {
    for (let i = 0; i < 256; i++) {
      const device = this.devices[i];
      const space = state[i] as Int32Array | undefined;
      if (!device || !space) continue;
      for (let nr = 0; nr < device.pci_bars.length; nr++) {
        const value = space[4 + nr];
        const bar = device.pci_bars[nr];
        if (value & 1 && bar) this.set_io_bars(bar, bar.original_bar & 0xfffe, value & 0xfffe);
      }
      this.device_spaces[i].set(space);
    }
    this.pci_addr.set(state[256] as Uint8Array);
    this.pci_value.set(state[257] as Uint8Array);
    this.pci_response.set(state[258] as Uint8Array);
    this.pci_status.set(state[259] as Uint8Array);
  };
}
