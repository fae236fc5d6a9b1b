import { spawnSync } from "node:child_process";

/**
 * CLI tests that spawn `node bin/pq.js` (SIGKILL, a real terminal, interop with other
 * tools) need dist/ to match src/: compile and bundle once before the run. tsc still emits when it
 * finds type errors; those are reported by `npm run typecheck`, not here.
 */
export default function setup(): void {
  // Long runs started side by side (npm run fuzz with several seeds) build once beforehand.
  if (process.env.PQ_SKIP_BUILD === "1") return;
  const r = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], { encoding: "utf8" });
  if (r.status !== 0) process.stderr.write(`warning: tsc reported errors while building dist/:\n${r.stdout.slice(0, 2000)}\n`);
  // bin/pq.js runs the bundle when there is one: rebuild it too, or tests would run a stale CLI.
  const b = spawnSync(process.execPath, ["scripts/bundle.mjs"], { encoding: "utf8" });
  if (b.status !== 0) throw new Error(`bundling the CLI failed:\n${b.stderr}`);
}
