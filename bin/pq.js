#!/usr/bin/env node
// The compiled CLI lives in dist/ (built by `npm ci` through the prepare script): the
// single-file bundle when it is there, else the plain tsc output.
import { existsSync } from "node:fs";

const bundle = new URL("../dist/bundle/pq.js", import.meta.url);
// A reader that stops early (pq log -p | head) closes the pipe: stop quietly, as git does.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
}
const { main } = await import(existsSync(bundle) ? bundle.href : new URL("../dist/cli/main.js", import.meta.url).href);
process.exitCode = await main(process.argv.slice(2));
