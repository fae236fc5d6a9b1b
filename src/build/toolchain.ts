/**
 * Finding a compiler and linker that produce i386 ELF: gcc -m32 with GNU ld first (the
 * common Debian setup; freestanding code needs no multilib), clang --target=i386-elf with
 * ld.lld second.
 */
import { childProcess } from "../core/child-process.js";
import { accessSync, constants, existsSync, readdirSync, realpathSync, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { PqError } from "../errors.js";

export interface Toolchain {
  kind: "gcc" | "clang";
  cc: string;
  ld: string;
  /**
   * What the build's output depends on besides the tree and the flags: the compiler's and the
   * linker's paths, versions and binaries, and the environment variables gcc and ld read
   * (with the files under the include directories they name). Part of every object's and
   * image's cache key, so an upgraded binutils or a CPATH header never serves a stale image.
   */
  identity: string;
  ccFlags: string[];
  ldFlags: string[];
}

/**
 * PATH's absolute folders: an empty or relative entry ('.', 'bin') is the directory pq runs in,
 * the tree, and a gcc or as a patch put there ran while the toolchain was looked up (t135 N6),
 * as it ran from a build before (t132 N6).
 */
function absoluteFolders(env: NodeJS.ProcessEnv): string[] {
  return (env.PATH ?? "").split(delimiter).filter((dir) => isAbsolute(dir));
}

/**
 * PATH as pq's compiles, links and toolchain questions get it: its absolute folders alone. gcc
 * looks its assembler up on PATH from the tree it builds, so an empty or relative entry ran an
 * `as` a patch put in the tree (t132 N6).
 */
export function absolutePath(env: NodeJS.ProcessEnv = process.env): string {
  return absoluteFolders(env).join(delimiter);
}

function which(cmd: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of absoluteFolders(env)) {
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

/** A toolchain question (a version, a program's path), asked with PATH's absolute folders alone. */
const ask = (cmd: string, args: string[], env: NodeJS.ProcessEnv) =>
  childProcess().spawnSync(cmd, args, { encoding: "utf8", env: { ...env, PATH: absolutePath(env) } });

const firstLine = (cmd: string, args: string[], env: NodeJS.ProcessEnv) => {
  const r = ask(cmd, args, env);
  return r.status === 0 ? (r.stdout || r.stderr).split("\n")[0].trim() : null;
};

/** Whether ld answers -V and lists the i386 ELF emulation (one run of ld -V). */
const linksI386 = (ld: string, env: NodeJS.ProcessEnv) => {
  const r = ask(ld, ["-V"], env);
  return r.status === 0 && /elf_i386/.test(r.stdout);
};

/** Variables that change what gcc finds or writes, or what ld links (gcc(1) ENVIRONMENT, ld(1), ld.so(8)). */
const BUILD_ENV = [
  "CPATH",
  "C_INCLUDE_PATH",
  "CPLUS_INCLUDE_PATH",
  "OBJC_INCLUDE_PATH",
  "GCC_EXEC_PREFIX",
  "COMPILER_PATH",
  "LIBRARY_PATH",
  "GCC_COMPARE_DEBUG",
  "SOURCE_DATE_EPOCH",
  "DEPENDENCIES_OUTPUT",
  "SUNPRO_DEPENDENCIES",
  "LD_RUN_PATH",
  // ld's default object format and emulation (ld(1) ENVIRONMENT): GNUTARGET=elf32-little links nothing (ci-17 F2).
  "GNUTARGET",
  "LDEMULATION",
  // What the tools themselves load: another libbfd or a preloaded library is another linker.
  "LD_PRELOAD",
  "LD_LIBRARY_PATH",
];
const INCLUDE_ENV = ["CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH", "OBJC_INCLUDE_PATH"];

/** A binary as it is now: where it resolves to, its size and modification time. */
function binaryStamp(path: string): string {
  try {
    const real = realpathSync(path);
    const st = statSync(real);
    return `${real} ${st.size} ${st.mtimeMs}`;
  } catch {
    return `${path} ?`;
  }
}

/** Names, sizes and times of the files under the include directories the environment adds (bounded: a fingerprint, not a copy). */
function includeDirStamp(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 8 || out.length > 20_000) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) walk(full, depth + 1);
      else {
        try {
          const st = statSync(full);
          out.push(`${full} ${st.size} ${st.mtimeMs}`);
        } catch {
          out.push(`${full} ?`);
        }
      }
    }
  };
  for (const name of INCLUDE_ENV) for (const dir of (env[name] ?? "").split(delimiter)) if (dir) walk(dir, 0);
  return out.sort();
}

/**
 * The programs gcc itself runs that make the objects: the assembler (gcc names it "as", run
 * from PATH, so another binutils earlier on PATH is another assembler; ci-7 #3) and its
 * compiler proper, cc1. Their paths, as gcc resolves them.
 */
function gccHelpers(cc: string, env: NodeJS.ProcessEnv): string[] {
  const helpers: string[] = [];
  for (const prog of ["as", "cc1"]) {
    const named = firstLine(cc, [`-print-prog-name=${prog}`], env);
    if (!named) continue;
    const path = named.includes("/") ? named : which(named, env);
    if (path) helpers.push(path);
  }
  return helpers;
}

/** The versions part of the identity (processes to run: asked once per environment, see detectToolchain). */
function versionsOf(cc: string, ld: string, helpers: string[], env: NodeJS.ProcessEnv): string {
  return [
    `${cc} ${firstLine(cc, ["--version"], env)}`,
    `${ld} ${firstLine(ld, ["-V"], env) ?? firstLine(ld, ["--version"], env)}`,
    ...helpers.filter((h) => /(^|\/)as$/.test(h)).map((h) => `${h} ${firstLine(h, ["--version"], env)}`),
    ...BUILD_ENV.filter((name) => env[name] !== undefined).map((name) => `${name}=${env[name]}`),
  ].join("\n");
}

/** The toolchain found for an environment, before the stamps that are read at every use (see detectToolchain). */
interface Found {
  tc: Omit<Toolchain, "identity">;
  versions: string;
  /** Every binary whose stamp is in the identity: compiler, linker, assembler, cc1. */
  binaries: string[];
}

const cache = new Map<string, Found>();

export async function detectToolchain(env: NodeJS.ProcessEnv = process.env): Promise<Toolchain> {
  // The variables the identity reads are part of the key: one process may build for two environments.
  const key = [env.PATH ?? "", ...BUILD_ENV.map((name) => env[name] ?? "")].join("\0");
  // The binaries (an in-place upgrade) and the files under CPATH change without the
  // variables changing: looked at every time, so a long-running pq tui sees them (ci-7 #16).
  const withStamps = (f: Found): Toolchain => {
    const stamps = [...f.binaries.map(binaryStamp), ...includeDirStamp(env)];
    return { ...f.tc, identity: [f.versions, ...stamps].join("\n") };
  };
  const known = cache.get(key);
  if (known) return withStamps(known);
  const gcc = which("gcc", env);
  const ld = which("ld", env);
  let found: Found | null = null;
  if (gcc && ld && linksI386(ld, env)) {
    const helpers = gccHelpers(gcc, env);
    // gcc runs the assembler from PATH: without it every compile fails, which read as a build
    // failure of the tree (exit 9) and a red base in bisect (t124 N2).
    const asNamed = firstLine(gcc, ["-print-prog-name=as"], env);
    const assembler = asNamed && (asNamed.includes("/") ? (existsSync(asNamed) ? asNamed : null) : which(asNamed, env));
    if (!assembler)
      throw new PqError(
        "toolchain",
        `gcc and ld are here, but not the assembler gcc runs (${asNamed ?? "as"}: binutils' as, looked for on PATH)`,
        ["install it: apt-get install binutils, and make sure it is on PATH"],
      );
    found = {
      tc: { kind: "gcc", cc: gcc, ld, ccFlags: ["-m32"], ldFlags: ["-m", "elf_i386"] },
      versions: versionsOf(gcc, ld, helpers, env),
      binaries: [gcc, ld, ...helpers],
    };
  }
  if (!found) {
    const clang = which("clang", env);
    const lld = which("ld.lld", env);
    if (clang && lld)
      found = {
        tc: { kind: "clang", cc: clang, ld: lld, ccFlags: ["--target=i386-elf", "-march=i386"], ldFlags: ["-m", "elf_i386"] },
        versions: versionsOf(clang, lld, [], env),
        binaries: [clang, lld],
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
  return withStamps(found);
}
