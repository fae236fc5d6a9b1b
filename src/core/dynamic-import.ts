/**
 * import() for modules outside pq's bundle (v86, the TUI). bin/pq.js runs the bundle through
 * vm.Script with V8's code cache, and on Node 20 a script compiled from a code cache loses
 * its import() loader; bin/pq.js hands its own import() over instead. Unbundled code (tests,
 * worker threads) has no such hook and imports directly.
 */
export function importModule<T>(specifier: string): Promise<T> {
  const hook = (globalThis as { __pqImport?: (s: string) => Promise<unknown> }).__pqImport;
  return (hook ? hook(specifier) : import(specifier)) as Promise<T>;
}
