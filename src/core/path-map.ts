/**
 * A map from tree paths or patch names, with no prototype: a file or patch named `toString`, `constructor` or
 * `__proto__` (git tracks any name) is a key like any other. In a plain object
 * `files["toString"]` answered with Object.prototype's function, so a change to such a file
 * went unrecorded (pop left it in the tree) and refresh ended in an internal error, and
 * `files["__proto__"] = x` changed the object's prototype instead (t24 F1, F2).
 */
export function pathMap<T>(entries?: Iterable<readonly [string, T]>): Record<string, T> {
  const map = Object.create(null) as Record<string, T>;
  if (entries) for (const [path, value] of entries) map[path] = value;
  return map;
}

/** Path maps parsed from JSON (which gives them Object.prototype) made path maps (see pathMap). */
export function asPathMap<T>(map: Record<string, T>): Record<string, T> {
  if (map && typeof map === "object" && Object.getPrototypeOf(map) !== null) Object.setPrototypeOf(map, null);
  return map;
}
