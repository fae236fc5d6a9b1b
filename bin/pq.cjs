// pq's launcher, as CommonJS: an ES module entry point makes Node set up its ESM loader
// (and with it fs/promises, readline and the stream modules) before any of pq runs: 10-20 ms
// of every command here (README, Set up). bin/pq starts this file; bin/pq.js imports it for `node bin/pq.js`.
//
// The compiled CLI lives in dist/ (built by `npm ci` through the prepare script): the
// one-file bundle when it is there, else the plain tsc output.
"use strict";
const { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } = require("node:fs");
const { createRequire } = require("node:module");
const { dirname, join } = require("node:path");
const vm = require("node:vm");

/** How scripts/bundle.mjs starts the bundle file: the function Node wraps a CommonJS module in. */
const BUNDLE_HEAD = "(function (exports, require, module, __filename, __dirname) {";
/** The commands that may boot kernels (see runBundle). */
const BOOTING_COMMANDS = new Set(["ci", "bisect", "boot", "tui", "sync", "hook"]);
/** Where the launcher and src/emulator/boot.ts say whether, and when, --liftoff-only was set. */
const WASM_BASELINE_ONLY = Symbol.for("pq.wasm-baseline-only");

// bin/pq, the launcher, started this Node without NODE_EXTRA_CA_CERTS (pq opens no TLS
// connection, and Node 20 parses those certificates at every start): what pq runs gets it back.
if (process.env.PQ_NODE_EXTRA_CA_CERTS !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = process.env.PQ_NODE_EXTRA_CA_CERTS;
  delete process.env.PQ_NODE_EXTRA_CA_CERTS;
}

// A reader that stops early (pq log -p | head) closes the pipe: stop quietly, as git does.
// Output that cannot be written otherwise (a full disk, a closed descriptor) is a failure,
// said on stderr, with the exit code of pq's other operating-system refusals (14).
// Attached when a stream is first made: pq writes a file, a pipe or /dev/null without Node's
// stream objects (src/cli/io.ts), and making them costs about 2 ms of every start.
function guardOutput(stream) {
  stream.on("error", (e) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    if (stream === process.stdout) {
      try {
        process.stderr.write(
          `pq: cannot write the output: ${e.message}\n  pq stops here; pq status shows where the stack is (the next pq command completes an operation left half done)\n`,
        );
      } catch {
        /* stderr is gone too */
      }
    }
    // The operating system refused (a full disk, a closed descriptor): pq's exit code for that, 14.
    process.exit(14);
  });
}
for (const name of ["stdout", "stderr"]) {
  const made = Object.getOwnPropertyDescriptor(process, name);
  if (!made?.get || !made.configurable) {
    guardOutput(process[name]);
    continue;
  }
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: made.enumerable,
    get() {
      const stream = made.get.call(process);
      Object.defineProperty(process, name, { configurable: true, enumerable: made.enumerable, writable: true, value: stream });
      guardOutput(stream);
      return stream;
    },
  });
}

// A promise rejected with no one to hear it (a boot worker's second failure after the run had
// stopped at the first) printed Node's own report, pq's source lines and stack, to a user or
// through a pushing git's "remote:" lines (t127 N3). It is pq's internal error, said as main says one.
for (const event of ["unhandledRejection", "uncaughtException"]) {
  process.on(event, (e) => {
    try {
      process.stderr.write(
        `pq: internal error: ${(e && e.message) || String(e)}\n  this is a bug in pq; run with PQ_DEBUG=1 for details and report it\n`,
      );
      if (process.env.PQ_DEBUG) process.stderr.write(`${(e && e.stack) || e}\n`);
    } catch {
      /* stderr is gone too */
    }
    process.exit(70);
  });
}

/** The bundle's stopProcessStarter, once the command has run. */
let stopHelpers;
const bundle = join(__dirname, "..", "dist", "bundle", "pq.cjs");
const argv = process.argv.slice(2);
const run = existsSync(bundle)
  ? runBundle(bundle, argv)
  : import(require("node:url").pathToFileURL(join(__dirname, "..", "dist", "cli", "main.js")).href).then((cli) => {
      stopHelpers = cli.stopProcessStarter;
      return cli.main(argv);
    });
run.then(async (code) => {
  process.exitCode = code;
  // The programs pq's process starter ran are waited for once the code is set (src/cli/main.ts says why).
  if (stopHelpers) await stopHelpers();
  // A failed write of the output reports its error on the next tick (a stream's error event,
  // src/cli/io.ts's exit): let it come first. A tick, not a turn of the event loop: V8 used
  // such a turn for a scavenge of what a push of 1000 patches left (1.5 ms) before pq exited.
  await new Promise((resolve) => process.nextTick(resolve));
  exitIfIdle();
});

/**
 * A finished command leaves V8 an idle event loop, which it uses for garbage collection (a
 * scavenge and the end of an incremental mark, 8-10 ms after a pop of 1000 patches) before
 * Node exits; nothing needs that memory any more. So pq exits at once when nothing is left in
 * flight: only the standard streams (written synchronously on Linux, for files, pipes and
 * terminals alike) and the close of the file Node read this script from. A child process, a
 * timer, a socket or a pending write keeps the normal exit, which waits for them.
 */
function exitIfIdle() {
  const idle = new Set(["TTYWrap", "PipeWrap", "CloseReq"]);
  if (process.getActiveResourcesInfo().every((resource) => idle.has(resource))) process.exit();
}

/**
 * Runs the bundle as Node runs a CommonJS module, but compiled through vm.Script with V8's
 * code cache (what Node 22's module.enableCompileCache does; Node 20 has no such API): the
 * first run of a command writes what V8 compiled for it, later runs read it back instead of
 * parsing and compiling the bundle again. V8 checks the cache against the source and its own
 * version and flags and rejects a stale one, which is then rewritten. No cache (a read-only
 * install) only costs the compile.
 */
async function runBundle(file, args) {
  // ASCII (the build checks it): read as latin1, which makes V8's one-byte string with no decoding.
  const source = readFileSync(file, "latin1");
  // The command's name (after --tree/--queue and their values): one cache per command.
  const word = args.find((a, i) => !a.startsWith("-") && args[i - 1] !== "--tree" && args[i - 1] !== "--queue") ?? "";
  const cacheFile = join(dirname(file), "cache", `${/^[a-z-]{1,20}$/.test(word) ? word : "other"}.${process.version}.v8cache`);
  // The commands that may boot kernels run WebAssembly with V8's baseline compiler only (why:
  // src/emulator/boot.ts). V8 checks a code cache against its flags: set here, before the bundle
  // is compiled, this command's cache is made and checked under the same flags every run.
  if (BOOTING_COMMANDS.has(word)) {
    require("node:v8").setFlagsFromString("--liftoff-only");
    globalThis[WASM_BASELINE_ONLY] = "set at start";
  }
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    /* first run of this command */
  }
  // The file holds the function a CommonJS module is wrapped in (scripts/bundle.mjs writes it
  // so); a bundle built before that (a git pull without npm run build) is wrapped here as it was.
  const wrapped = source.startsWith(BUNDLE_HEAD) ? source : `${BUNDLE_HEAD}${source}\n})`;
  const script = new vm.Script(wrapped, { filename: file, cachedData });
  // Node 20 drops a cached script's import() loader: the bundle imports through this module's.
  globalThis.__pqImport = (specifier) => import(specifier);
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  const code = await module.exports.main(args);
  stopHelpers = module.exports.stopProcessStarter;
  // A command that set the flag as it ran (boot.ts, for a command not named above) would write a
  // cache every later run rejects: it writes none.
  if ((!cachedData || script.cachedDataRejected) && globalThis[WASM_BASELINE_ONLY] !== "set while running") {
    try {
      mkdirSync(dirname(cacheFile), { recursive: true });
      const tmp = `${cacheFile}.${process.pid}`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    } catch {
      /* not writable: run without a cache */
    }
  }
  return code;
}
