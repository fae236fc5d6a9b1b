// Bundles the compiled CLI (dist/cli/main.js) into dist/bundle/: an entry file, pq.js, plus
// chunks that load only when a command needs them (each command is a dynamic import in
// src/cli/commands/index.ts). Loading a few bundled files instead of a few hundred modules,
// and only the code the command runs, is most of pq's start-up, which is most of a warm push
// or pop. v86, ink and react stay outside: they load only when a command needs them.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { readFileSync, rmSync } from "node:fs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outdir = join(root, "dist/bundle");
rmSync(outdir, { recursive: true, force: true });
rmSync(join(root, "dist/cli/pq.mjs"), { force: true }); // the single-file bundle of earlier versions
await build({
  entryPoints: { pq: join(root, "dist/cli/main.js") },
  outdir,
  // Every file in one directory: src/core/layout.ts finds dist/ as "../" from any of them.
  chunkNames: "[name]-[hash]",
  bundle: true,
  splitting: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["v86", "ink", "react", "react/*"],
  define: { PQ_BUNDLE: "true", PQ_VERSION: JSON.stringify(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version) },
  banner: { js: "import { createRequire as __pqCreateRequire } from 'node:module'; const require = __pqCreateRequire(import.meta.url);" },
  logLevel: "warning",
});
