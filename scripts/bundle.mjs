// Bundles the compiled CLI (dist/cli/main.js) into one CommonJS file, dist/bundle/pq.cjs,
// which bin/pq.js loads through a V8 code cache (dist/bundle/cache/, one file per command,
// written by the first run of that command). Start-up is most of a warm push or pop: one
// file instead of a few hundred modules, each command's module initialised only when it
// runs (its import() in src/cli/commands/index.ts becomes a lazy initialiser), and compiled
// code read back instead of compiled again. v86, ink and react stay outside: they load only
// when a command needs them.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";

// string-width (yargs' help layout) makes an Intl.Segmenter when it loads: ICU's segmenter
// costs 13-19 ms of every pq start, for help text that most commands never print. Made on
// first use instead; if a new string-width no longer matches, the bundle is only slower.
const lazySegmenter = {
  name: "lazy-segmenter",
  setup(b) {
    b.onLoad({ filter: /[\\/]string-width[\\/]index\.js$/ }, ({ path }) => {
      const source = readFileSync(path, "utf8");
      const eager = "const segmenter = new Intl.Segmenter();";
      if (!source.includes(eager)) console.warn(`bundle: ${path} has no eager Intl.Segmenter to defer`);
      const lazy = "let madeSegmenter; const segmenter = { segment: (s) => (madeSegmenter ??= new Intl.Segmenter()).segment(s) };";
      return { contents: source.replace(eager, lazy), loader: "js" };
    });
  },
};

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const finalDir = join(root, "dist/bundle");
// Built aside and swapped in, so that a pq started meanwhile (tests run several at once)
// never sees half a bundle: for the moment there is none, bin/pq.js runs dist/cli/main.js.
const outdir = `${finalDir}.new-${process.pid}`;
rmSync(outdir, { recursive: true, force: true });
rmSync(join(root, "dist/cli/pq.mjs"), { force: true }); // the single-file bundle of earlier versions
await build({
  entryPoints: [join(root, "dist/cli/main.js")],
  outfile: join(outdir, "pq.cjs"),
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  // Node 20 has regexp set notation (/v): kept as a literal, V8 compiles string-width's
  // \p{RGI_Emoji} pattern only if it is used (help text), instead of at every start (18 ms).
  supported: { "regexp-set-notation": true },
  external: ["v86", "ink", "react", "react/*"],
  define: {
    PQ_BUNDLE: "true",
    PQ_VERSION: JSON.stringify(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version),
    // src/core/layout.ts and friends find dist/ from their own URL: the bundle's.
    "import.meta.url": "__pqModuleUrl",
  },
  banner: { js: 'var __pqModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  plugins: [lazySegmenter],
  logLevel: "warning",
});
mkdirSync(join(outdir, "cache"));
const old = `${finalDir}.old-${process.pid}`;
try {
  renameSync(finalDir, old);
} catch {
  /* first build */
}
renameSync(outdir, finalDir);
rmSync(old, { recursive: true, force: true });
