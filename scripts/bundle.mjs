// Bundles the compiled CLI (dist/cli/main.js) into one file, dist/cli/pq.mjs: loading one
// file instead of a few hundred modules halves pq's start-up (about 190 ms -> 90 ms),
// which is most of the cost of a warm push or pop. v86, ink and react stay outside:
// they load only when a command needs them.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { readFileSync } from "node:fs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
await build({
  entryPoints: [join(root, "dist/cli/main.js")],
  outfile: join(root, "dist/cli/pq.mjs"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["v86", "ink", "react", "react/*"],
  define: { PQ_BUNDLE: "true", PQ_VERSION: JSON.stringify(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version) },
  banner: { js: "import { createRequire as __pqCreateRequire } from 'node:module'; const require = __pqCreateRequire(import.meta.url);" },
  logLevel: "warning",
});
