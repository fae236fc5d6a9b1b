/**
 * Finding a compiler and linker that produce i386 ELF: gcc -m32 with GNU ld first (the
 * common Debian setup; freestanding code needs no multilib), clang --target=i386-elf with
 * ld.lld second.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { PqError } from "../errors.js";

export interface Toolchain {
  kind: "gcc" | "clang";
  cc: string;
  ld: string;
  /** Compiler version and path: part of every object's cache key. */
  identity: string;
  ccFlags: string[];
  ldFlags: string[];
}

function which(cmd: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const full = join(dir, cmd);
    try {
      accessSync(full, constants.X_OK);
      return full;
    } catch {
      /* keep looking */
    }
  }
  return null;
}

const firstLine = (cmd: string, args: string[], env: NodeJS.ProcessEnv) => {
  const r = spawnSync(cmd, args, { encoding: "utf8", env });
  return r.status === 0 ? (r.stdout || r.stderr).split("\n")[0].trim() : null;
};

const cache = new Map<string, Toolchain>();

export async function detectToolchain(env: NodeJS.ProcessEnv = process.env): Promise<Toolchain> {
  const key = env.PATH ?? "";
  const known = cache.get(key);
  if (known) return known;
  const gcc = which("gcc", env);
  const ld = which("ld", env);
  let found: Toolchain | null = null;
  if (gcc && ld && firstLine(ld, ["-V"], env) !== null && /elf_i386/.test(spawnSync(ld, ["-V"], { encoding: "utf8", env }).stdout)) {
    found = {
      kind: "gcc",
      cc: gcc,
      ld,
      identity: `${gcc} ${firstLine(gcc, ["--version"], env)}`,
      ccFlags: ["-m32"],
      ldFlags: ["-m", "elf_i386"],
    };
  }
  if (!found) {
    const clang = which("clang", env);
    const lld = which("ld.lld", env);
    if (clang && lld)
      found = {
        kind: "clang",
        cc: clang,
        ld: lld,
        identity: `${clang} ${firstLine(clang, ["--version"], env)}`,
        ccFlags: ["--target=i386-elf", "-march=i386"],
        ldFlags: ["-m", "elf_i386"],
      };
  }
  if (!found) {
    throw new PqError(
      "toolchain",
      "no compiler that targets i386 ELF was found (looked for gcc -m32 with ld -m elf_i386, and clang --target=i386-elf with ld.lld)",
      ["install one: apt-get install gcc binutils (or clang lld), and make sure it is on PATH"],
    );
  }
  cache.set(key, found);
  return found;
}
