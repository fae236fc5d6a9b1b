// Bundles the compiled CLI (dist/cli/main.js) into one CommonJS file, dist/bundle/pq.cjs,
// which bin/pq.js loads through a V8 code cache (dist/bundle/cache/, one file per command,
// written by the first run of that command). Start-up is most of a warm push or pop: one
// file instead of a few hundred modules, each command's module initialised only when it
// runs (its import() in src/cli/commands/index.ts becomes a lazy initialiser), and compiled
// code read back instead of compiled again. v86, ink and react stay outside: they load only
// when a command needs them (the TUI and its ink and react from a second bundle, tui.mjs).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";

// string-width (yargs' help layout) makes an Intl.Segmenter and a \p{RGI_Emoji} regexp when
// it loads: ICU's segmenter costs 13-19 ms of every pq start and the regexp 11-19 ms (a
// regexp literal read back from V8's code cache is built when it is evaluated, not when it
// is first used), for help text that most commands never print. Both are made on first use
// instead; if a new string-width no longer matches, the bundle is only slower.
const deferredInStringWidth = [
  {
    from: "const segmenter = new Intl.Segmenter();",
    to: "let madeSegmenter; const segmenter = { segment: (s) => (madeSegmenter ??= new Intl.Segmenter()).segment(s) };",
  },
  {
    from: "const rgiEmojiRegex = /^\\p{RGI_Emoji}$/v;",
    optional: true, // the older copies under cliui and wrap-ansi use emoji-regex instead
    to: 'let madeRgiEmojiRegex; const rgiEmojiRegex = { test: (s) => (madeRgiEmojiRegex ??= new RegExp("^\\\\p{RGI_Emoji}$", "v")).test(s) };',
  },
];
// yargs finds "the program's package.json" upwards from its shim's node_modules, or from the
// current directory when there is none, which in the bundle is always: every command read
// the directories from the user's tree up to / (and the package.json of any JavaScript
// project on the way, for the --version that pq turns off), then built an AssertionError.
// The bundle's shim starts from pq's own package instead (dist/bundle/../..).
const yargsMainFilename = {
  from: "mainFilename: mainFilename || process.cwd(),",
  to: 'mainFilename: require("node:path").join(__dirname, "..", ".."),',
};

// yargs' shim imports node:assert for two checks it makes at every parse (strictEqual and
// notStrictEqual, which compare with Object.is); loading assert and its error, colour and
// call-tracker modules cost every command ~3 ms. The shim makes the comparison itself and
// loads assert only to throw its AssertionError when a check fails.
const lazyAssertInYargs = {
  from: "import { notStrictEqual, strictEqual } from 'assert'",
  to: [
    'const assertionFailed = (actual, expected, operator, message) => { const { AssertionError } = require("node:assert"); return new AssertionError({ actual, expected, operator, message }); };',
    'const notStrictEqual = (actual, expected, message) => { if (Object.is(actual, expected)) throw assertionFailed(actual, expected, "notStrictEqual", message); };',
    'const strictEqual = (actual, expected, message) => { if (!Object.is(actual, expected)) throw assertionFailed(actual, expected, "strictEqual", message); };',
  ].join("\n"),
};

// yargs' shim reads process.stdout.columns when it loads, which makes Node's stdout stream:
// pq writes a file or a pipe without one (src/cli/io.ts), so the width is read when yargs asks.
const lazyColumnsInYargs = {
  from: "stdColumns: typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null",
  to: "get stdColumns() { return typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null; }",
};

/** Replaces each `from` text of the matching dependency source by its `to`. */
const sourcePatches = [
  { file: /[\\/]string-width[\\/]index\.js$/, patches: deferredInStringWidth },
  { file: /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/, patches: [yargsMainFilename, lazyAssertInYargs, lazyColumnsInYargs] },
];
const patchSources = {
  name: "patch-sources",
  setup(b) {
    for (const { file, patches } of sourcePatches) {
      b.onLoad({ filter: file }, ({ path }) => {
        let source = readFileSync(path, "utf8");
        for (const { from, to, optional } of patches) {
          if (source.includes(from)) source = source.replace(from, to);
          else if (!optional) console.warn(`bundle: ${path} has no \`${from}\` to replace`);
        }
        return { contents: source, loader: "js" };
      });
    }
  },
};

// ink imports react-devtools-core (not installed) from a module it loads only when DEV=true:
// the TUI bundle gets an empty stand-in, as ink without devtools behaves.
const withoutDevtools = {
  name: "without-devtools",
  setup(b) {
    b.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: "react-devtools-core", namespace: "pq-stub" }));
    b.onLoad({ filter: /.*/, namespace: "pq-stub" }, () => ({
      contents: "export default { initialize() {}, connectToDevTools() {} };",
      loader: "js",
    }));
  },
};

/** What bin/pq.cjs expects around the bundle's code (see the end of this script). */
const BUNDLE_HEAD = "(function (exports, require, module, __filename, __dirname) {";
const BUNDLE_TAIL = "\n})";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const finalDir = join(root, "dist/bundle");
// Built aside and swapped in, so that a pq started meanwhile (tests run several at once)
// never sees half a bundle: for the moment there is none, bin/pq.js runs dist/cli/main.js.
const outdir = `${finalDir}.new-${process.pid}`;
rmSync(outdir, { recursive: true, force: true });
rmSync(join(root, "dist/cli/pq.mjs"), { force: true }); // the single-file bundle of earlier versions
/** What both bundles share: one file for Node 20. */
const forNode = {
  bundle: true,
  platform: "node",
  target: "node20",
  // Node 20 has regexp set notation (/v): string-width's /v literals are kept as written
  // instead of being turned into eagerly built `new RegExp` calls.
  supported: { "regexp-set-notation": true },
  logLevel: "warning",
};
await build({
  ...forNode,
  entryPoints: [join(root, "dist/cli/main.js")],
  outfile: join(outdir, "pq.cjs"),
  format: "cjs",
  external: ["v86", "ink", "react", "react/*"],
  define: {
    PQ_BUNDLE: "true",
    PQ_VERSION: JSON.stringify(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version),
    // src/core/layout.ts and friends find dist/ from their own URL: the bundle's.
    "import.meta.url": "__pqModuleUrl",
  },
  banner: { js: 'var __pqModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  plugins: [patchSources],
});

// The TUI (dist/tui/run.js with ink, react and yoga) as one ES module, dist/bundle/tui.mjs,
// which `pq tui` imports: unbundled, Node resolved and compiled some two hundred modules
// (pq's own dist/ files and ink's dependencies) before the first frame, 0.9-1.1 s on this
// machine with two other jobs running, against 0.23-0.25 s for the one file. ES module, not
// CommonJS like pq.cjs: yoga-layout loads its WebAssembly with a top-level await.
await build({
  ...forNode,
  entryPoints: [join(root, "dist/tui/run.js")],
  outfile: join(outdir, "tui.mjs"),
  format: "esm",
  external: ["v86"],
  define: {
    PQ_BUNDLE: "true",
    // What pq tui sets before loading it: React's production build only.
    "process.env.NODE_ENV": '"production"',
  },
  // CommonJS dependencies (react, signal-exit) call require() for Node's modules.
  banner: { js: 'import { createRequire as __pqCreateRequire } from "node:module"; const require = __pqCreateRequire(import.meta.url);' },
  plugins: [patchSources, withoutDevtools],
});
// bin/pq.cjs reads pq.cjs as latin1 (a one-byte string, no UTF-8 decoding: about 1 ms of
// every start for 1.1 MB): that reads it right only while it is ASCII, which esbuild's default
// charset makes it (it escapes every other character). Checked, not assumed.
const bundled = readFileSync(join(outdir, "pq.cjs"), "latin1");
if (/[^\x00-\x7f]/.test(bundled)) {
  throw new Error("dist/bundle/pq.cjs has a character beyond ASCII: bin/pq.cjs reads it as latin1");
}
// bin/pq.cjs compiles the bundle as the function Node would wrap a CommonJS module in: the
// file holds that function already, so no 1.2 MB string is joined and copied at every start
// (0.5 ms). Loaded as a module (require), it only evaluates the function and exports nothing.
writeFileSync(join(outdir, "pq.cjs"), `${BUNDLE_HEAD}${bundled}${BUNDLE_TAIL}`, "latin1");
mkdirSync(join(outdir, "cache"));
const old = `${finalDir}.old-${process.pid}`;
try {
  renameSync(finalDir, old);
} catch {
  /* first build */
}
renameSync(outdir, finalDir);
rmSync(old, { recursive: true, force: true });
