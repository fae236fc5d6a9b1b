/**
 * Where pq's compiled modules live, for the few places that load one at run time by
 * path (boot workers, the TUI). The CLI normally runs as one bundled file
 * (dist/bundle/pq.cjs, made by scripts/bundle.mjs, which defines PQ_BUNDLE); tests run the
 * TypeScript sources, whose compiled twins are in dist/.
 */
declare const PQ_BUNDLE: boolean | undefined;

/** Whether this code runs from one of pq's bundles (dist/bundle/), not from dist/ or src/. */
export function inBundle(): boolean {
  return typeof PQ_BUNDLE !== "undefined" && Boolean(PQ_BUNDLE);
}

export function distModule(fromHere: string, relativeToDist: string): string {
  if (inBundle()) return new URL(`../${relativeToDist}`, fromHere).href;
  if (fromHere.endsWith(".ts") || fromHere.endsWith(".tsx")) {
    const src = fromHere.slice(0, fromHere.lastIndexOf("/src/") + 1);
    return new URL(`dist/${relativeToDist}`, src).href;
  }
  const dist = fromHere.slice(0, fromHere.lastIndexOf("/dist/") + 1);
  return new URL(`dist/${relativeToDist}`, dist).href;
}
