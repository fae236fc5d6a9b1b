/**
 * Builds a tree from its `build.json`: every source compiled in parallel into a
 * content-addressed object cache shared by all trees and states, then linked.
 *
 * Cache keys: an object is named by sha256(compiler identity, flags, preprocessed
 * source), so two states that differ in one file share every other object. Running the
 * preprocessor costs a process per file, so a first-level key (the source and every
 * header its last compile read, by content) skips it when nothing it depends on changed.
 */
import { runProgram, type Started } from "../core/process-starter.js";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { availableParallelism, homedir } from "node:os";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { PqError } from "../errors.js";
import { refusedFlag } from "./flag-policy.js";
import { assemblerReads } from "./assembler-reads.js";
import { makeDirs, readText, realpathOr } from "../tree/files.js";
import { ignoreEvents, type EventSink } from "../core/events.js";
import { formatDiagnostic, parseDiagnostics, type Diagnostic } from "./diagnostics.js";
import { absolutePath, detectToolchain, type Toolchain } from "./toolchain.js";
import { pruneFolder, sha256 } from "./lru-store.js";
import { fileSetDigest, ImageCache, stateKey, treeFiles } from "./state-cache.js";

export interface BuildDescription {
  output: string;
  cflags: string[];
  asflags: string[];
  ldflags: string[];
  linkerScript: string;
  sources: string[];
}

export interface BuildResult {
  ok: boolean;
  kernelPath?: string;
  diagnostics: Diagnostic[];
  log: string;
  compiled: number;
  cached: number;
  ms: number;
  /** sha256 of the kernel image (set when the build succeeded). */
  imageSha?: string;
  /** The image came whole from the state-level cache: nothing was compiled or linked. */
  reusedImage?: boolean;
  /** Where the whole log of this build was written (build.log beside the image). */
  logFile?: string;
}

export interface BuildOptions {
  tree: string;
  outDir?: string;
  cacheDir?: string;
  jobs?: number;
  toolchain?: Toolchain;
  blame?: (file: string, line: number) => string | undefined;
  onEvent?: EventSink;
  /**
   * Reuse (and record) whole images by the state-level key; default true. "refresh": build
   * afresh, every source preprocessed again, and record the result over what the cache held
   * (ci --no-cache: a stale entry, from a toolchain change the keys could not see, is replaced,
   * not served again).
   */
  stateCache?: boolean | "refresh";
  /** Folders inside the tree that are no compile input (a queue kept in the tree), left out of the state key. */
  notInputs?: string[];
}

export function defaultCacheDir(): string {
  if (process.env.PQ_CACHE_DIR) return resolve(process.env.PQ_CACHE_DIR);
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "pq");
}

/**
 * A warning when the cache folder (or one of its folders) is writable by every user or
 * owned by another: its checksums catch damage, not a forged entry, so whoever can write it
 * decides what a cached verdict says (ci-17 F6). Null when only its owner, this user, can.
 */
export function cacheTrustWarning(dir: string): string | null {
  const uid = process.getuid?.();
  let folders: string[] = [dir];
  try {
    // Folders reached through a symlink too: pq writes through them (t23 F8).
    folders = [dir, ...readdirSync(dir).map((name) => join(dir, name))].filter((f) =>
      statSync(f, { throwIfNoEntry: false })?.isDirectory(),
    );
  } catch {
    return null; // not made yet: pq makes it with the umask, as the user's own
  }
  for (const folder of folders) {
    const st = statSync(folder, { throwIfNoEntry: false });
    if (!st) continue;
    // Group-writable is left alone: with user private groups (Debian's umask 002) every folder is.
    const everyone = (st.mode & 0o002) !== 0;
    const another = uid !== undefined && st.uid !== uid;
    if (!everyone && !another) continue;
    const what = everyone ? `writable by every user (mode ${(st.mode & 0o7777).toString(8)})` : `owned by another user (uid ${st.uid})`;
    // chmod helps only with a folder of one's own that is not a shared one like /tmp (sticky).
    const fix = everyone && !another && !(st.mode & 0o1000) ? `chmod o-w ${folder}, or ` : "";
    return `warning: the cache folder ${folder} is ${what}: whoever can write it decides what a cached verdict says (its checksums catch damage, not a forged entry); ${fix}set PQ_CACHE_DIR to a folder only you write (or run with --no-cache)`;
  }
  return null;
}

/**
 * For pq build, pq boot and the TUI's build key: a tree with no build.json has nothing to
 * build, a refusal of the tree (12, as ci and bisect give), not a failed build (9). In a ci
 * state a patch that deletes it is that state's build error instead (readBuildDescription).
 */
export function requireBuildDescription(tree: string): void {
  if (existsSync(join(tree, "build.json"))) return;
  throw new PqError(
    "refused",
    `${tree} has no build.json: pq builds and boots trees that describe their build in one (the kernel model's)`,
    [
      "for any other project, pq ci --run 'make && make check' judges every state of the stack by a command (exit 0 passes, 125 skips, 1-127 fails)",
    ],
  );
}

export function readBuildDescription(tree: string): BuildDescription {
  const file = join(tree, "build.json");
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new PqError("build-failed", `cannot read ${file}: ${(e as Error).message}`, [
      "a tree pq builds describes itself in build.json (output, cflags, asflags, ldflags, linkerScript, sources)",
    ]);
  }
  const d = raw as Partial<BuildDescription>;
  const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === "string");
  if (!strings(d.sources) || !d.sources!.length || typeof d.linkerScript !== "string") {
    throw new PqError("build-failed", `${file} needs "sources" (a list of .c/.S files) and "linkerScript"`);
  }
  // A patch can change build.json: nothing it names may lead out of the tree (a build in pq
  // ci's scratch copy wrote its image wherever "output" pointed, ../ included).
  // A path inside the tree by its name can still lead out through a symlink in it (-Iinclude/lnk, verify-8 W1).
  const realTree = realpathOr(tree);
  const outside = (p: string) => {
    if (isAbsolute(p) || p.split("/").includes("..")) return true;
    // A path not there yet is judged by its deepest folder that is: a link in the tree leading
    // out made ld write a new -Map=outlink/x.map through it (t132 N4).
    let full = resolve(tree, p);
    while (lstatSync(full, { throwIfNoEntry: false }) === undefined && dirname(full) !== full) full = dirname(full);
    // A link that leads nowhere yet (dang -> /outside/new.map) is written through by the tool: it can lead anywhere (t133 N2).
    if (lstatSync(full, { throwIfNoEntry: false })?.isSymbolicLink() && !existsSync(full)) return true;
    return !isInside(realTree, realpathOr(full));
  };
  // gcc and ld take an argument starting with '-' for an option, and one starting with '@' for a
  // file of more arguments wherever it stands: a source named @opts.c handed gcc the -wrapper its
  // patch wrote into opts.c (t136 N2). gcc also hands its programs parts of a name (cc1's
  // -dumpbase): no part of such a name is taken, as no such flag is.
  const optionLike = (key: string, name: string) => {
    const part = name.split("/").find((p) => p.startsWith("-") || p.startsWith("@"));
    if (part !== undefined)
      throw new PqError(
        "unsafe-path",
        `${file}: the ${key} ${JSON.stringify(name)} has a part starting with '${part[0]}': gcc and ld read such a word as ${part[0] === "@" ? "a file of options" : "an option"}, so pq takes no part of a name so`,
        [`rename it so that no part of its path starts with '-' or '@', then name it so in ${file}`],
      );
  };
  optionLike("linkerScript", d.linkerScript!);
  if (typeof d.output === "string") optionLike("output", d.output);
  for (const s of d.sources!) {
    optionLike("source", s);
    if (outside(s)) throw new PqError("unsafe-path", `${file}: source ${s} is outside the tree`);
    if (!/\.(c|S)$/.test(s)) throw new PqError("build-failed", `${file}: ${s} is neither a .c nor a .S file`);
  }
  if (d.output !== undefined && (typeof d.output !== "string" || !d.output || outside(d.output))) {
    throw new PqError("unsafe-path", `${file}: output ${JSON.stringify(d.output)} is not a file name inside the build directory`);
  }
  if (outside(d.linkerScript!)) throw new PqError("unsafe-path", `${file}: linkerScript ${d.linkerScript} is outside the tree`);
  // The files the linker script itself names (INPUT, GROUP, INCLUDE, SEARCH_DIR, OUTPUT, STARTUP):
  // INPUT(/abs/file) under TARGET(binary) linked any file into the image (t133 N1).
  const script = readText(join(tree, d.linkerScript!));
  for (const named of script === null ? [] : linkerScriptFiles(script)) {
    // A name starting with '=' (or $SYSROOT) is the sysroot's, which ld joins: with none set, '=/abs' is /abs (t134 N1).
    if (/^=|\$SYSROOT/.test(named) || (named.startsWith("-l") ? /[/\\]|\.\./.test(named) : outside(named)))
      throw new PqError("unsafe-path", `${d.linkerScript}: ${JSON.stringify(named)} names a file outside the tree`, [
        "a linker script names files of the tree alone (relative paths inside it)",
      ]);
  }
  for (const key of ["cflags", "asflags", "ldflags"] as const) {
    const refused = refusedFlag(strings(d[key]) ? d[key]! : [], key === "ldflags" ? "ld" : "cc");
    if (refused)
      throw new PqError("unsafe-path", `${file}: the ${key} entry ${JSON.stringify(refused.flag)} is refused: ${refused.why}`, [
        `take it out of ${key} (pq builds with gcc and ld as they are; a command of your own, pq ci --run CMD, runs whatever you choose)`,
      ]);
    for (const flag of strings(d[key]) ? d[key]! : []) {
      // A response file (@FILE, or passed on as -Wp,@FILE) holds more flags, which no check here would see (verify-7 V4).
      if (flag.startsWith("@") || flagValues(flag).some((v) => v.startsWith("@")))
        throw new PqError(
          "unsafe-path",
          `${file}: the ${key} entry ${JSON.stringify(flag)} is a response file, whose flags pq cannot check: write them into ${key} themselves`,
        );
      if (flagValues(flag).some((v) => v !== "" && outside(v))) {
        throw new PqError("unsafe-path", `${file}: the ${key} entry ${JSON.stringify(flag)} names a path outside the tree`);
      }
    }
  }
  return {
    output: d.output ?? "kernel.elf",
    cflags: strings(d.cflags) ? d.cflags! : [],
    asflags: strings(d.asflags) ? d.asflags! : [],
    ldflags: strings(d.ldflags) ? d.ldflags! : [],
    linkerScript: d.linkerScript!,
    sources: d.sources!,
  };
}

/** The file and folder names a linker script's commands take: INPUT(a b), GROUP(...), AS_NEEDED(...), SEARCH_DIR(d), INCLUDE f, OUTPUT(f), STARTUP(f). */
export function linkerScriptFiles(script: string): string[] {
  const text = script.replace(/\/\*[^]*?\*\//g, " ");
  const names: string[] = [];
  const words = (list: string) =>
    list
      .split(/[\s,]+/)
      .map((w) => w.replace(/^"|"$/g, ""))
      .filter((w) => w && w !== "AS_NEEDED" && w !== "(" && w !== ")");
  for (const m of text.matchAll(/\b(INPUT|GROUP|SEARCH_DIR|OUTPUT|STARTUP|INCLUDE)\s*\(([^)]*(?:\([^)]*\)[^)]*)*)\)/g))
    names.push(...words(m[2].replace(/AS_NEEDED\s*\(|\)/g, " ")));
  for (const m of text.matchAll(/\bINCLUDE\s+("?)([^\s;"()]+)\1/g)) names.push(m[2]);
  return names;
}

/**
 * The values a compiler or linker flag carries, which may be paths: -Iinclude's "include",
 * -Wl,-Map=x's "-Map=x" and "x", -o's next argument (an entry of its own), --opt=value's value.
 */
function flagValues(flag: string): string[] {
  const split = (v: string) => v.split(/[=,]/);
  // -Wp, (the preprocessor's options) too: -Wp,-I/abs read headers from anywhere (ci-7 #17).
  if (/^-W[lap],/.test(flag)) return split(flag.slice(flag.indexOf(",") + 1)).flatMap((v) => [v, ...flagValues(v)]);
  if (flag.startsWith("-Xlinker")) return split(flag.slice(flag.indexOf(",") + 1));
  // -iprefix, -isysroot, -iwithprefix(before) and ld's -T (a linker script), -R (symbols of an
  // object) and -c (an MRI script) take a path glued on too (t43 N3, t45 N4).
  const attached =
    /^-(isystem|isysroot|iquote|idirafter|iprefix|iwithprefixbefore|iwithprefix|include|imacros|MF|MT|MQ|I|L|B|T|R|c|o)(.+)$/.exec(flag);
  if (attached) return split(attached[2].replace(/^=/, ""));
  if (!flag.startsWith("-")) return split(flag); // the argument of the entry before (-o FILE, -z ARG)
  const eq = flag.indexOf("=");
  return eq === -1 ? [] : split(flag.slice(eq + 1));
}

type Run = Started;

/** Signals that end a program from outside it: a kill, a timeout, the out-of-memory killer. */
const ENDED_FROM_OUTSIDE = new Set<string>(["SIGKILL", "SIGTERM", "SIGINT", "SIGHUP"]);
/**
 * gcc's own line for a program it ran (cc1, as) that such a signal ended: "gcc: fatal error:
 * Killed signal terminated program cc1", a whole line that starts with the driver's own name.
 * The words anywhere else (an #error's text, a quoted source line) are the tree's (t138 N5).
 */
const endedUnderGcc = (driver: string) =>
  new RegExp(
    `^${driver.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: fatal error: (Killed|Terminated|Interrupt|Hangup) signal terminated program (cc1|cc1plus|as|collect2|lto1|cpp)$`,
    "m",
  );

/**
 * A compile or link that a signal from outside ended says nothing about the tree: the build
 * stops as pq's other refusals by the operating system do (exit 14), not as a failed build
 * (exit 9, whose advice is to fix and refresh a patch: t137 N3): the refusal. A program ended
 * by another signal (a crash) is said in the log, which had no word of it: the line.
 */
function signalEnd(cmd: string, doing: string, r: Run, driver: boolean): { line: string; refusal: PqError | null } {
  // gcc's line from gcc alone: ld prints a linker script's ASSERT message as a line of its own (t139 N4).
  const under = driver && r.code !== 0 ? endedUnderGcc(basename(cmd)).exec(r.stderr) : null;
  if ((r.signal && ENDED_FROM_OUTSIDE.has(r.signal)) || under) {
    const who = under ? `${under[2]} (run by ${basename(cmd)})` : basename(cmd);
    const refusal = new PqError(
      "system",
      `the build did not finish: ${who} was ended by a signal (${r.signal ?? under![1]}) while ${doing}; nothing says the tree is at fault`,
      [
        "run the command again (a kill, a timeout or the out-of-memory killer ends a compiler so; dmesg names what the out-of-memory killer ended)",
      ],
    );
    return { line: `pq: ${refusal.message}\n`, refusal };
  }
  return { line: r.signal ? `${basename(cmd)} was ended by ${r.signal} while ${doing}\n` : "", refusal: null };
}

/** The files a preprocessed source came from, by its line markers (`# 1 "include/x.h" 1`), gcc's own pseudo-files aside. */
function includedFiles(preprocessed: string): string[] {
  const files = new Set<string>();
  for (const m of preprocessed.matchAll(/^# \d+ "((?:[^"\\]|\\.)*)"/gm)) {
    const name = m[1].replace(/\\(.)/g, "$1");
    if (!/^<.*>$/.test(name)) files.add(name);
  }
  return [...files];
}

/** An absolute name, or one with '..': a dependency record made before reads were checked could hold one. */
const leavesByName = (path: string) => isAbsolute(path) || path.split("/").includes("..");

/** Whether a real path is the tree's (given by its real path) or under it. */
function isInside(realTree: string, real: string): boolean {
  return real === realTree || real.startsWith(`${realTree}/`);
}

/**
 * Whether a file a build reads (named as the compiler names it, from the tree) is outside it, and
 * not a toolchain header under /usr. `realTree` is the tree's real path, found once per build.
 */
function readsOutside(tree: string, realTree: string, path: string): boolean {
  const real = realpathOr(resolve(tree, path));
  return !isInside(realTree, real) && !real.startsWith("/usr/");
}

/** The scripts and input files ld --verbose says it opened. */
export function linkerInputs(verbose: string): string[] {
  const opened: string[] = [];
  for (const line of verbose.split("\n")) {
    const m = /^opened script file (.+)$/.exec(line) ?? /^attempt to open (.+) succeeded$/.exec(line);
    if (m) opened.push(m[1]);
  }
  return opened;
}

/** A compile or link, started from pq's small helper process once pq is large (why: src/core/process-starter.ts). */
function run(cmd: string, args: string[], cwd: string): Promise<Run> {
  return runProgram(cmd, args, cwd, { ...process.env, PATH: absolutePath() });
}

/** A temporary name no other build can pick, in this process (concurrent builds) or another. */
const uniq = () => `${process.pid}-${randomBytes(6).toString("hex")}`;

const sha = (...parts: (string | Buffer)[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\0");
  return h.digest("hex");
};

/** Runs `fn` over items with at most `jobs` at once. */
async function pooled<T, R>(items: T[], jobs: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  // One job's failure starts no other, and the ones under way are waited for: what they said is in
  // the log the failure writes (t139 N5: a compile that ended well beside a killed one was cached,
  // its warning in no log).
  const settled = await Promise.allSettled(
    Array.from({ length: Math.min(jobs, items.length) }, async () => {
      while (next < items.length && !failed) {
        const i = next++;
        try {
          results[i] = await fn(items[i], i);
        } catch (e) {
          failed = true;
          throw e;
        }
      }
    }),
  );
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failure) throw failure.reason;
  return results;
}

interface DepRecord {
  objectKey: string;
  deps: Record<string, string>; // path (absolute or tree-relative) → content sha
  /**
   * The names of the tree's files when the record was made (fileSetDigest). The dependency
   * list says which files a compile read, not which it looked for and did not find: a header
   * added since, earlier on the include path (an arch override) or tested with
   * __has_include, changes the object without changing any listed file. Any file added or
   * removed sends the source to level 2, which preprocesses and sees it.
   */
  fileSet?: string;
}

/**
 * The prerequisites of the rule gcc -MD writes, unescaped as make reads them: gcc writes a
 * space in a name as a backslash and a space, a # as a backslash and #, and a $ as "$$" (ci-7 #9: split on whitespace, a
 * header named "pq val.h" became two names that do not exist, and dropped out of the record).
 */
export function depsFromMakefile(text: string): string[] {
  const body = text.replace(/\\\r?\n/g, " ");
  // The target ends at the first ": " (a colon in a name is escaped, and a Windows drive letter is not followed by a space).
  const rest = body.slice(body.search(/:(\s|$)/) + 1);
  const deps: string[] = [];
  let name = "";
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (c === "\\" && (rest[i + 1] === " " || rest[i + 1] === "#" || rest[i + 1] === "\t")) name += rest[++i];
    else if (c === "$" && rest[i + 1] === "$") name += rest[++i];
    else if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      if (name) deps.push(name);
      name = "";
    } else name += c;
  }
  if (name) deps.push(name);
  return deps;
}

/** An object file in the cache with its checksum beside it (`.sum`), and its bytes match it. */
function objectMatchesSum(obj: string): boolean {
  try {
    return readFileSync(`${obj}.sum`, "utf8").trim() === sha(readFileSync(obj));
  } catch {
    return false; // no object, or one from before checksums (compiled again once)
  }
}

/** An object used now: the objects folder is pruned least recently used first (see pruneCacheOnce). */
function touched(obj: string): true {
  try {
    const now = new Date();
    utimesSync(obj, now, now);
  } catch {
    /* a read-only cache: it costs the order of pruning, nothing more */
  }
  return true;
}

/** Budgets of the object cache's folders (images and verdicts have their own: state-cache.ts, verdict-cache.ts). */
const OBJECTS_MAX_BYTES = 512 * 1024 * 1024;
const DEPS_MAX_BYTES = 64 * 1024 * 1024;
const prunedThisProcess = new Set<string>();

/**
 * The objects and dependency records kept within a budget, and a killed compile's temporaries
 * removed, once per process per folder (ci-17 F7: objects/ grew by every header variant for
 * ever). An object pruned while another pq links it costs that build a compile.
 */
function pruneCacheOnce(objDir: string, depDir: string): void {
  for (const [dir, budget] of [
    [objDir, OBJECTS_MAX_BYTES],
    [depDir, DEPS_MAX_BYTES],
  ] as const) {
    if (prunedThisProcess.has(dir)) continue;
    prunedThisProcess.add(dir);
    try {
      pruneFolder(dir, budget);
    } catch {
      /* best effort: a cache folder pq may not clean is only bigger */
    }
  }
}

function writeObjectSum(obj: string, bytes: Buffer): void {
  const tmp = `${obj}.sum.tmp-${uniq()}`;
  writeFileSync(tmp, sha(bytes) + "\n");
  renameSync(tmp, `${obj}.sum`);
}

function fileSha(path: string): string | null {
  try {
    return sha(readFileSync(path));
  } catch {
    return null;
  }
}

export async function buildTree(opts: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  const tree = resolve(opts.tree);
  const emit = opts.onEvent ?? ignoreEvents;
  const desc = readBuildDescription(tree);
  const tc = opts.toolchain ?? (await detectToolchain());
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const objDir = join(cacheDir, "objects");
  const depDir = join(cacheDir, "deps");
  const outDir = opts.outDir ?? join(tree, ".pq", "build");
  // One level at a time (makeDirs): a recursive mkdir on a read-only file system says ENOENT, and the user looked for a missing folder (t68 N3).
  makeDirs(objDir);
  makeDirs(depDir);
  pruneCacheOnce(objDir, depDir);
  makeDirs(outDir);
  const logFile = join(outDir, "build.log");
  const jobs = Math.max(1, opts.jobs ?? availableParallelism());
  let compiled = 0;
  let cached = 0;
  let log = "";
  /**
   * A program's messages into the log, with the line saying a signal ended it; one a signal from
   * outside ended stops the build, its log so far kept in build.log (t138 N6: an older build's stayed).
   */
  const logRun = (cmd: string, doing: string, r: Run) => {
    const { line, refusal } = signalEnd(cmd, doing, r, cmd === tc.cc);
    log += r.stderr + line;
    if (refusal) {
      writeFileSync(logFile, log);
      throw refusal;
    }
  };
  /** The compiles, each source's object (null: it failed); a signal's refusal keeps in build.log what the compiles under way beside it said. */
  const compileAll = async (compileOne: (source: string, i: number) => Promise<string | null>) => {
    try {
      return await pooled(desc.sources, jobs, compileOne);
    } catch (e) {
      writeFileSync(logFile, log);
      throw e;
    }
  };
  const images = opts.stateCache === false ? null : new ImageCache(cacheDir);
  const inputs = treeFiles(tree, [outDir, ...(opts.notInputs ?? [])]);
  const key = images ? stateKey(tree, tc, [], inputs) : "";
  const hit = opts.stateCache === "refresh" ? undefined : images?.get(key);
  if (hit?.failed) {
    writeFileSync(logFile, hit.log);
    const diagnostics = parseDiagnostics(hit.log, opts.blame);
    return {
      ok: false,
      diagnostics,
      log: decorate(hit.log, diagnostics),
      compiled: 0,
      cached: 0,
      ms: Date.now() - started,
      reusedImage: true,
      logFile,
    };
  }
  if (hit) {
    const kernelPath = join(outDir, desc.output);
    const tmp = `${kernelPath}.tmp-${uniq()}`;
    writeFileSync(tmp, hit.image);
    renameSync(tmp, kernelPath);
    writeFileSync(logFile, hit.log);
    const diagnostics = parseDiagnostics(hit.log, opts.blame);
    return {
      ok: true,
      kernelPath,
      diagnostics,
      log: hit.log,
      compiled: 0,
      cached: desc.sources.length,
      ms: Date.now() - started,
      imageSha: hit.imageSha,
      reusedImage: true,
      logFile,
    };
  }
  const missing = desc.sources.filter((s) => !existsSync(join(tree, s)));
  if (missing.length) {
    const diagnostics = missing.map((m) => ({
      file: "build.json",
      line: 1,
      severity: "error" as const,
      message: `source ${m} does not exist`,
    }));
    const said = diagnostics.map(formatDiagnostic).join("\n");
    writeFileSync(logFile, `${said}\n`);
    return { ok: false, diagnostics, log: said, compiled, cached, ms: Date.now() - started, logFile };
  }

  const fileSet = fileSetDigest(tree, inputs);
  const realTree = realpathOr(tree);
  // Each cached object checked once per build against the checksum written with it: a
  // truncated or damaged one (a full disk, a copy cut short) is compiled again, not linked.
  const intact = new Map<string, boolean>();
  const intactObject = (obj: string): boolean => {
    if (!intact.has(obj)) intact.set(obj, objectMatchesSum(obj) && touched(obj));
    return intact.get(obj)!;
  };
  // Each file hashed once per build, however many records of however many sources name it.
  const shas = new Map<string, string | null>();
  const shaOf = (path: string) => {
    if (!shas.has(path)) shas.set(path, fileSha(path));
    return shas.get(path)!;
  };
  const objects = await compileAll(async (source, i) => {
    const flags = [...tc.ccFlags, ...(source.endsWith(".S") ? desc.asflags : desc.cflags)];
    // Not the tree's path: ci builds in a new scratch folder every run, and the record's
    // dependencies (tree-relative, with the file set) say whether its object still holds.
    const depKey = sha(tc.identity, flags.join(" "), source);
    const depFile = join(depDir, `${depKey}.json`);
    // Level 1: nothing this source read when one of its recorded builds was made has changed.
    // Not in a refresh (ci --no-cache): a toolchain change the keys cannot see (a gcc wrapper
    // adding a -D from a variable or a file) keeps every record, and each would give back its
    // stale object (t51 N1: --no-cache linked the same stale image again); preprocessed through
    // the toolchain as it is now, the source names its object by what it compiles to.
    const fresh = opts.stateCache === "refresh";
    for (const rec of fresh ? [] : readDepRecords(depFile)) {
      const obj = join(objDir, `${rec.objectKey}.o`);
      if (
        rec.fileSet === fileSet &&
        // Only a name that can leave the tree by itself is looked at: one compiled since was checked then (a link out fails its hash).
        Object.entries(rec.deps).every(
          ([p, h]) => !(leavesByName(p) && readsOutside(tree, realTree, p)) && shaOf(resolve(tree, p)) === h,
        ) &&
        intactObject(obj)
      ) {
        cached++;
        return obj;
      }
    }
    // Level 2: the preprocessed source names the object.
    const pre = await run(tc.cc, [...flags, "-E", source], tree);
    if (pre.code !== 0) {
      logRun(tc.cc, `preprocessing ${source}`, pre);
      return null;
    }
    const reads = assemblerReads(pre.stdout, tree, flags, source.endsWith(".S") ? "asm" : "c");
    // A file read from outside the tree (#include "/abs", .incbin "/abs"): built into the image, a
    // kernel printed it, and a gate showed it to whoever pushed (t132 N3). Refused before the compile.
    const outsider = [...includedFiles(pre.stdout), ...(reads ?? [])].find((path) => readsOutside(tree, realTree, path));
    if (outsider !== undefined) {
      log += `${source}: reads ${outsider}, outside the tree: pq builds a tree from its own files (and the toolchain's headers under /usr)\n`;
      return null;
    }
    const objectKey = sha(
      tc.identity,
      flags.join(" "),
      source.endsWith(".S") ? "S" : "c",
      pre.stdout,
      ...(reads ?? ["(files the assembler reads, unnamed)"]).map((p) => `${p}\0${shaOf(resolve(tree, p)) ?? "missing"}`),
    );
    const obj = join(objDir, `${objectKey}.o`);
    if (reads === null || !intactObject(obj)) {
      emit({ kind: "compile", message: `CC ${source}`, current: i + 1, total: desc.sources.length });
      const tmp = `${obj}.tmp-${uniq()}`;
      const dep = `${tmp}.d`;
      const cc = await run(tc.cc, [...flags, "-MD", "-MF", dep, "-c", source, "-o", tmp], tree);
      logRun(tc.cc, `compiling ${source}`, cc);
      if (cc.code !== 0) {
        rmSync(tmp, { force: true });
        rmSync(dep, { force: true });
        return null;
      }
      // Its checksum first, then the object: an object is used only with a checksum it matches.
      writeObjectSum(obj, readFileSync(tmp));
      renameSync(tmp, obj);
      compiled++;
      // No record for an object not keyed on what its assembler reads: level 1 would hand it back.
      if (reads !== null) recordDeps(dep, depFile, objectKey, tree, fileSet, reads);
      else rmSync(dep, { force: true });
    } else {
      cached++;
      // Refresh the level-1 record from the preprocessor's view of dependencies.
      const dep = join(depDir, `${depKey}.tmp-${uniq()}.d`);
      const r = await run(tc.cc, [...flags, "-M", "-MF", dep, source], tree);
      if (r.code === 0) recordDeps(dep, depFile, objectKey, tree, fileSet, reads);
    }
    return obj;
  });

  // Compiler and linker errors are as reproducible as a success: remember them under the state key
  // too. A failure without a located error (a killed compiler, a full disk) may be transient: not remembered.
  const rememberFailure = (diagnostics: Diagnostic[]) => {
    if (!images || !diagnostics.some((d) => d.severity === "error")) return;
    try {
      images.putFailure(key, log);
    } catch {
      /* best effort */
    }
  };
  const diagnostics = parseDiagnostics(log, opts.blame);
  if (objects.some((o) => o === null)) {
    refuseOwnFilesRefused(log, [cacheDir, outDir]);
    rememberFailure(diagnostics);
    writeFileSync(logFile, log);
    return {
      ok: false,
      diagnostics,
      log: decorate(log, diagnostics),
      compiled,
      cached,
      ms: Date.now() - started,
      reusedImage: false,
      logFile,
    };
  }
  emit({ kind: "link", message: `LD ${desc.output}` });
  const kernelPath = join(outDir, desc.output);
  const tmpOut = `${kernelPath}.tmp-${uniq()}`;
  // --verbose: ld names every script and input file it opened (INCLUDEd scripts, a text input or
  // -l library read as a script, a file an input-section pattern names, a second -T): a file
  // outside the tree read any of those ways was linked into the image (t137 N2), which the
  // check of build.json's own script could not see. Judged after the link, before the image is used.
  const ld = await run(
    tc.ld,
    [...tc.ldFlags, "--verbose", "-T", desc.linkerScript, ...desc.ldflags, ...(objects as string[]), "-o", tmpOut],
    tree,
  );
  // A link a signal ended leaves no image to keep.
  if (ld.signal) rmSync(tmpOut, { force: true });
  const ownObjects = new Set(objects as string[]);
  const readOutside = linkerInputs(ld.stdout).find((path) => !ownObjects.has(path) && readsOutside(tree, realTree, path));
  if (readOutside !== undefined) {
    rmSync(tmpOut, { force: true });
    throw new PqError(
      "unsafe-path",
      `the link read ${readOutside}, a file outside the tree (through ${desc.linkerScript} or the scripts and inputs it names)`,
      ["a build links files of the tree alone: take out the script line, input or library that names it"],
    );
  }
  logRun(tc.ld, `linking ${desc.output}`, ld);
  const all = parseDiagnostics(log, opts.blame);
  if (ld.code !== 0) {
    rmSync(tmpOut, { force: true });
    refuseOwnFilesRefused(log, [cacheDir, outDir]);
    rememberFailure(all);
    writeFileSync(logFile, log);
    return { ok: false, diagnostics: all, log: decorate(log, all), compiled, cached, ms: Date.now() - started, logFile };
  }
  renameSync(tmpOut, kernelPath);
  writeFileSync(logFile, log);
  const image = readFileSync(kernelPath);
  let imageSha = sha256(image);
  try {
    if (images) imageSha = images.put(key, image, log);
  } catch {
    /* a full or read-only cache folder costs the next run a link, nothing more */
  }
  return { ok: true, kernelPath, diagnostics: all, log, compiled, cached, ms: Date.now() - started, imageSha, reusedImage: false, logFile };
}

/** What the operating system says when it refuses a file (strerror's words, as gcc, as and ld print them). */
const SYSTEM_REFUSAL =
  /No space left on device|Read-only file system|Permission denied|No such file or directory|Disk quota exceeded|Input\/output error|Too many open files/;

/**
 * A build that failed because the system refused pq's own files (the cache folder read-only,
 * full or cleaned while it ran; the output folder) is no compile error of the tree: blamed on a
 * source line it turned good states red, and remembered it served them red later (ci-17 F3, F4).
 * Refused as the system's refusal (exit 14), nothing remembered. A link error that names a
 * cached object (undefined reference) has no such words, and a missing header no pq path.
 */
function refuseOwnFilesRefused(log: string, ownDirs: string[]): void {
  const line = log.split("\n").find((l) => SYSTEM_REFUSAL.test(l) && ownDirs.some((dir) => l.includes(dir)));
  if (line === undefined) return;
  throw new PqError("system", `the build could not write pq's own files: ${line.trim()}`, [
    `make room in (or make writable) ${ownDirs[0]}, or set PQ_CACHE_DIR to another folder, then run the command again`,
    "this build's failure is not the tree's and was not remembered",
  ]);
}

/**
 * A source's dependency records, newest first: one per variant of its inputs (each state of a
 * series builds the source against other headers), so ci over a whole series finds each
 * state's objects by level 1 the next time. An old single-record file reads as one.
 */
function readDepRecords(depFile: string): DepRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(depFile, "utf8"));
  } catch {
    return []; // no record yet (or a torn one: rebuilt from the next compile)
  }
  // A record of another shape (damaged, a hand edit, another writer) counts as none, as a torn
  // one does; the next compile writes the file again (ci-17 F14: exit 70 on every run).
  return (Array.isArray(parsed) ? parsed : [parsed]).filter(isDepRecord);
}

function isDepRecord(r: unknown): r is DepRecord {
  if (typeof r !== "object" || r === null) return false;
  const { objectKey, deps, fileSet } = r as Record<string, unknown>;
  return (
    typeof objectKey === "string" &&
    /^[0-9a-f]{64}$/.test(objectKey) &&
    typeof deps === "object" &&
    deps !== null &&
    !Array.isArray(deps) &&
    Object.values(deps).every((v) => typeof v === "string") &&
    (fileSet === undefined || typeof fileSet === "string")
  );
}

/** How many variants of one source's inputs are remembered (a series of a few dozen states builds most sources in few). */
const DEP_RECORDS_KEPT = 32;

function recordDeps(depMake: string, depFile: string, objectKey: string, tree: string, fileSet: string, assembled: string[]): void {
  try {
    // No rule written (build.json's own -MD/-MF flags sent gcc's elsewhere, ci-7 #18): no record, level 2 decides next time.
    const rules = readText(depMake);
    if (rules === null) return;
    const deps: Record<string, string> = {};
    for (const p of [...depsFromMakefile(Buffer.from(rules, "latin1").toString("utf8")), ...assembled]) {
      const h = fileSha(resolve(tree, p));
      // A dependency it cannot read makes the record unusable: level 2 decides the next time.
      if (!h) return;
      deps[p] = h;
    }
    const record: DepRecord = { objectKey, deps, fileSet };
    const same = (r: DepRecord) => r.objectKey === objectKey && r.fileSet === fileSet && JSON.stringify(r.deps) === JSON.stringify(deps);
    const records = [record, ...readDepRecords(depFile).filter((r) => !same(r))].slice(0, DEP_RECORDS_KEPT);
    const tmp = `${depFile}.tmp-${uniq()}`;
    writeFileSync(tmp, JSON.stringify(records));
    renameSync(tmp, depFile);
  } finally {
    rmSync(depMake, { force: true });
  }
}

/** The compiler's output with each diagnostic's patch appended where known. */
function decorate(log: string, diagnostics: Diagnostic[]): string {
  const blamed = diagnostics.filter((d) => d.patch);
  if (!blamed.length) return log;
  return log + "\n" + blamed.map(formatDiagnostic).join("\n") + "\n";
}
