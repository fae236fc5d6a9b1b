/**
 * The state-level build cache: a tree whose compile inputs are byte for byte those of a
 * tree built before reuses that build's kernel image without compiling, preprocessing or
 * even linking. The key covers every file of the tree (sources, headers, linker script,
 * build.json; pq's own .pq and git's .git aside) and the toolchain's identity, but not
 * where the tree lives: pq ci builds in a fresh scratch folder every run, and the image
 * does not depend on that path (objects are compiled from tree-relative names).
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { LruStore, sha256 } from "./lru-store.js";
import type { Toolchain } from "./toolchain.js";

/** Bump when what goes into an image changes in a way the key does not see. */
const STATE_KEY_VERSION = "pq-state-key-2"; // 2: images built while level 1 missed new headers are not reused
const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

/** Every file of the tree that can be a build input (.git, the tree's .pq and `skip` aside), as full paths. */
export function treeFiles(tree: string, skip: string[] = []): string[] {
  const root = resolve(tree);
  const skipped = new Set(skip.map((s) => resolve(s)));
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, d.name);
      if (skipped.has(full)) continue;
      if (d.isDirectory()) {
        if (d.name === ".git" || (dir === root && d.name === ".pq")) continue;
        walk(full);
      } else if (d.isFile() || d.isSymbolicLink()) files.push(full);
    }
  };
  walk(root);
  return files;
}

/** The names (not contents) of the tree's input files (`treeFiles`): what an include search can find. */
export function fileSetDigest(tree: string, files: string[]): string {
  const root = resolve(tree);
  return sha256(
    files
      .map((f) => relative(root, f).split("\\").join("/"))
      .sort()
      .join("\n"),
  );
}

/** `files`: the tree's files when the caller has listed them already (one walk per build). */
export function stateKey(tree: string, tc: Toolchain, skip: string[] = [], files: string[] = treeFiles(tree, skip)): string {
  const root = resolve(tree);
  const lines = files.map((f) => {
    let h: string;
    try {
      h = sha256(readFileSync(f));
    } catch {
      h = "unreadable";
    }
    // A symlink counts by where it points, as git records one: re-pointing include/cfg from
    // cfg-a to cfg-b changes what the build reads through it, while every file it reaches is
    // already in the key under its own name (ci-17 F11: a stale PASS for the re-pointed tree).
    const link = symlinkTarget(f);
    if (link !== null) h += `\0link ${link}`;
    return `${relative(root, f).split("\\").join("/")}\0${h}`;
  });
  lines.sort();
  return sha256([STATE_KEY_VERSION, tc.identity, tc.cc, tc.ld, tc.ccFlags.join(" "), tc.ldFlags.join(" "), ...lines].join("\n"));
}

/** Where a symlink points (its text, as readlink gives it), or null for anything else. */
function symlinkTarget(path: string): string | null {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : null;
  } catch {
    return null;
  }
}

export interface CachedImage {
  failed?: false;
  image: Buffer;
  /** sha256 of the image bytes: what the verdict cache keys boots by. */
  imageSha: string;
  log: string;
}

/** A build that failed with compiler or linker errors: as deterministic as a success, so remembered too. */
export interface CachedFailure {
  failed: true;
  log: string;
}

interface ImageMeta {
  imageSha: string;
  log: string;
  failed?: boolean;
}

export class ImageCache {
  private store: LruStore<ImageMeta>;

  constructor(cacheDir: string, maxBytes = DEFAULT_MAX_BYTES) {
    this.store = new LruStore<ImageMeta>(join(cacheDir, "images"), maxBytes);
  }

  get(key: string): CachedImage | CachedFailure | null {
    const e = this.store.get(key);
    if (!e || typeof e.meta.log !== "string") return null;
    if (e.meta.failed === true) return e.payload.length === 0 ? { failed: true, log: e.meta.log } : null;
    if (typeof e.meta.imageSha !== "string" || sha256(e.payload) !== e.meta.imageSha) return null;
    return { image: e.payload, imageSha: e.meta.imageSha, log: e.meta.log };
  }

  put(key: string, image: Uint8Array, log: string): string {
    const imageSha = sha256(image);
    this.store.put(key, { imageSha, log }, image);
    return imageSha;
  }

  putFailure(key: string, log: string): void {
    this.store.put(key, { imageSha: "", log, failed: true });
  }

  prune() {
    return this.store.prune();
  }
}
