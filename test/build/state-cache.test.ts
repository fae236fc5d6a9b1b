import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildTree } from "../../src/build/index.js";
import { detectToolchain } from "../../src/build/toolchain.js";
import { LruStore, sha256 } from "../../src/build/lru-store.js";
import { fixtureKernelTree } from "../helpers/kernels.js";
import { cleanup, tempDir } from "../helpers/repo.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));
const dir = (prefix: string) => {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
};
const key = (n: number) => sha256(`entry ${n}`);

describe("the cache folder store", () => {
  it("round-trips entries, and treats a torn or altered entry as missing (and drops it)", () => {
    const store = new LruStore<{ verdict: string }>(dir("pq-store-"), 1 << 20);
    store.put(key(1), { verdict: "pass" }, Buffer.from("payload bytes"));
    const e = store.get(key(1))!;
    expect(e.meta).toEqual({ verdict: "pass" });
    expect(e.payload.toString()).toBe("payload bytes");
    expect(store.get(key(2))).toBeNull();

    const file = join(store.dir, key(1));
    const raw = readFileSync(file, "latin1");
    writeFileSync(file, raw.replace('"pass"', '"fail"'), "latin1"); // same length, still valid JSON
    expect(store.get(key(1))).toBeNull();
    expect(readdirSync(store.dir)).toEqual([]);
    store.put(key(1), { verdict: "pass" });
    writeFileSync(file, readFileSync(file).subarray(0, 20)); // torn
    expect(store.get(key(1))).toBeNull();
    writeFileSync(file, "not a cache entry at all");
    expect(store.get(key(1))).toBeNull();
  });

  it("evicts least recently used entries first when over budget", () => {
    const store = new LruStore<{ n: number }>(dir("pq-store-"), 10_000);
    const filler = Buffer.alloc(1000, 1);
    for (let n = 0; n < 8; n++) {
      store.put(key(n), { n }, filler);
      const t = new Date(Date.now() - (100 - n) * 1000);
      utimesSync(join(store.dir, key(n)), t, t);
    }
    expect(store.get(key(0))?.meta.n).toBe(0); // used just now: the newest
    for (let n = 8; n < 12; n++) store.put(key(n), { n }, filler);
    const r = store.prune();
    const left = readdirSync(store.dir);
    expect(left.reduce((t, f) => t + statSync(join(store.dir, f)).size, 0)).toBeLessThanOrEqual(8000);
    expect(r.removed).toBeGreaterThan(0);
    expect(left).toContain(key(0));
    expect(left).toContain(key(11));
    expect(left).not.toContain(key(1)); // the least recently used went first
  });
});

describe("the cache folder store, across processes", () => {
  it("a process prunes a folder at its first write there: short runs cannot grow it past its budget", () => {
    const d = dir("pq-store-");
    const old = new Date(Date.now() - 3600_000);
    for (let n = 0; n < 20; n++) {
      writeFileSync(join(d, key(100 + n)), Buffer.alloc(1000)); // left by earlier runs (not even valid entries)
      utimesSync(join(d, key(100 + n)), old, old);
    }
    new LruStore<{ n: number }>(d, 10_000).put(key(1), { n: 1 });
    const left = readdirSync(d);
    expect(left.reduce((t, f) => t + statSync(join(d, f)).size, 0)).toBeLessThanOrEqual(10_000);
    expect(left).toContain(key(1));
  });
});

describe("the state-level build cache", () => {
  it("a tree with the same contents elsewhere reuses the image without linking; a change does not", async () => {
    const cacheDir = dir("pq-cache-");
    const a = fixtureKernelTree("pass", dir("pq-tree-a-"));
    const first = await buildTree({ tree: a, cacheDir });
    expect(first.ok && first.reusedImage).toBe(false);
    const b = dir("pq-tree-b-");
    cpSync(a, b, { recursive: true, filter: (src) => !src.includes(".pq") });
    const again = await buildTree({ tree: b, cacheDir });
    expect(again.reusedImage).toBe(true);
    expect(again.compiled).toBe(0);
    expect(again.imageSha).toBe(first.imageSha);
    expect(sha256(readFileSync(again.kernelPath!))).toBe(first.imageSha);
    writeFileSync(join(b, "main.c"), readFileSync(join(b, "main.c"), "utf8") + "\n/* a comment at the end changes no code */\n");
    const comment = await buildTree({ tree: b, cacheDir });
    expect(comment.reusedImage).toBe(false);
    expect(comment.imageSha).toBe(first.imageSha); // relinked, same bytes
    const off = await buildTree({ tree: b, cacheDir, stateCache: false });
    expect(off.reusedImage).toBe(false);
  });

  it("a symlink in the tree counts by where it points: re-pointed, the image is not reused (ci-17 F11)", async () => {
    const cacheDir = dir("pq-cache-");
    const tree = fixtureKernelTree("pass", dir("pq-tree-link-"));
    for (const which of ["a", "b"]) {
      mkdirSync(join(tree, `cfg-${which}`));
      writeFileSync(join(tree, `cfg-${which}`, "cfg.h"), `/* config ${which} */\n`);
    }
    symlinkSync("cfg-a", join(tree, "cfg"));
    const first = await buildTree({ tree, cacheDir });
    expect(first.reusedImage).toBe(false);
    expect((await buildTree({ tree, cacheDir })).reusedImage).toBe(true);
    // The same files under the same names, the link pointing elsewhere.
    rmSync(join(tree, "cfg"));
    symlinkSync("cfg-b", join(tree, "cfg"));
    expect((await buildTree({ tree, cacheDir })).reusedImage).toBe(false);
  });

  it("a build that failed with compiler errors is remembered too, and blamed afresh", async () => {
    const cacheDir = dir("pq-cache-");
    const tree = fixtureKernelTree("compile-error", dir("pq-tree-err-"));
    const first = await buildTree({ tree, cacheDir });
    expect([first.ok, first.reusedImage]).toEqual([false, false]);
    const blame = (file: string, line: number) => (file === "main.c" && line === 4 ? "broken.patch" : undefined);
    const again = await buildTree({ tree, cacheDir, blame });
    expect([again.ok, again.reusedImage, again.compiled]).toEqual([false, true, 0]);
    expect(again.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.file}:${d.line}`)).toEqual(
      first.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.file}:${d.line}`),
    );
    expect(again.log).toContain("last touched by patch broken.patch");
  });

  it("a header reached through CPATH, and a linker that changed in place, are part of the key; a refresh build replaces a stale entry", async () => {
    const cacheDir = dir("pq-cache-");
    const tree = fixtureKernelTree("pass", dir("pq-tree-env-"));
    const include = dir("pq-cpath-");
    writeFileSync(join(include, "extra.h"), "#define EXTRA 1\n");
    const withCpath = await detectToolchain({ ...process.env, CPATH: include });
    const plain = await detectToolchain(process.env);
    expect(withCpath.identity).not.toBe(plain.identity);
    // ld's default format (GNUTARGET=elf32-little links nothing): another toolchain (ci-17 F2).
    expect((await detectToolchain({ ...process.env, GNUTARGET: "elf32-little" })).identity).not.toBe(plain.identity);
    writeFileSync(join(include, "extra.h"), "#define EXTRA 22\n");
    expect((await detectToolchain({ ...process.env, CPATH: include })).identity).not.toBe(withCpath.identity);
    // ld -V's version and the binaries' stamps are in the identity (an upgrade at the same path):
    // gcc, ld, and the assembler and cc1 gcc runs.
    expect(plain.identity).toContain(`${plain.ld} GNU ld`);
    expect(plain.identity.split("\n").filter((l) => /^\/\S+ \d+ [\d.]+$/.test(l))).toHaveLength(4);
    const first = await buildTree({ tree, cacheDir, toolchain: plain });
    const stale = await buildTree({ tree, cacheDir, toolchain: plain, stateCache: "refresh" });
    expect([first.reusedImage, stale.reusedImage]).toEqual([false, false]);
    expect((await buildTree({ tree, cacheDir, toolchain: plain })).reusedImage).toBe(true);
  });
});

describe("--no-cache over a compiler wrapper whose flags come from a file (t51 N1)", () => {
  it("preprocesses every source again, so a -D the wrapper adds gives a new image instead of the recorded objects", async () => {
    const tree = fixtureKernelTree("pass", dir("pq-wrapped-"));
    writeFileSync(
      join(tree, "main.c"),
      '#include "serial.h"\nvoid main(void) {\n#ifdef PQ_WRAPPED\n\tputs_serial("wrapped\\n");\n#endif\n\tputs_serial("pq: backends=native\\npq: smoke=pass\\n");\n}\n',
    );
    const bin = dir("pq-wrapper-");
    const flags = join(bin, "flags");
    writeFileSync(flags, "");
    // The shape of a distribution's or a cross compiler's wrapper: its own flags from a file.
    writeFileSync(join(bin, "gcc"), `#!/bin/sh\nexec /usr/bin/gcc $(cat ${flags}) "$@"\n`, { mode: 0o755 });
    const toolchain = await detectToolchain({ ...process.env, PATH: `${bin}:${process.env.PATH}` });
    const cacheDir = dir("pq-wrapped-cache-");
    const plain = await buildTree({ tree, cacheDir, toolchain });
    expect(plain.ok).toBe(true);
    writeFileSync(flags, "-DPQ_WRAPPED");
    // A warm build cannot see it (the wrapper's stamp is unchanged): the known limit --no-cache is for.
    const refreshed = await buildTree({ tree, cacheDir, toolchain, stateCache: "refresh" });
    expect(refreshed.ok).toBe(true);
    expect(refreshed.imageSha).not.toBe(plain.imageSha);
    expect(readFileSync(refreshed.kernelPath!, "latin1")).toContain("wrapped");
  });
});
