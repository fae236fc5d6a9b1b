/**
 * The working tree as a stack operation sees it: the files on disk plus the changes the
 * operation has planned but not yet written. Nothing touches the disk until `plannedWrites`
 * is handed to the journal, so a refused operation leaves the tree exactly as it was.
 */
import { lstatSync, type Stats } from "node:fs";
import { PqError } from "../errors.js";
import { readText, fileStat, sha1, type FileStat } from "../tree/files.js";
import { ObjectStore } from "../tree/objects.js";
import type { LineIndex } from "../patch/apply.js";
import type { DeltaPiece } from "../patch/types.js";
import { checkTreePath, ParentDirs, underRoot } from "../tree/paths.js";
import { StatCache } from "./caches.js";
import { makeVersion, versionId, type Version } from "./state.js";

interface Entry {
  version: Version;
  /** Loaded lazily: a cached push knows versions without reading contents. */
  content?: string | null;
  /** Where the content's lines start, when a patch produced it (the next patch on the file reuses it). */
  index?: LineIndex;
}

export class WorkingSet {
  private planned = new Map<string, Entry>();
  private undo: Map<string, Entry | undefined> | null = null;
  private seen = new Map<string, Entry>();
  /** Paths that passed checkTreePath in this operation (the tree does not change until the executor runs). */
  private checked = new Set<string>();
  /** Parent directories checked for symlinks, once each per operation. */
  private parents: ParentDirs;
  /** Tree paths no patch may write (the queue directory when it lives in the tree). */
  reserved: string[] = [];
  /**
   * Where git does not trust the file system's executable bits (core.fileMode = false): the
   * bit pq knows for a path (see knownExecBits), taken instead of the file's.
   */
  knownExec: ((path: string) => boolean) | null = null;

  constructor(
    readonly tree: string,
    private store: ObjectStore,
    private statCache: StatCache,
  ) {
    this.parents = new ParentDirs(tree);
  }

  /** The version of a path as the operation sees it (planned, else on disk). */
  version(path: string): Version {
    return this.entry(path).version;
  }

  content(path: string): string | null {
    const e = this.entry(path);
    if (e.content !== undefined) return e.content;
    const id = versionId(e.version);
    // Not kept in memory once stored (big pushes would hold every version); known only
    // through the stat cache means the store may not hold it yet, but the disk does.
    if (id === null) return null;
    if (!this.store.has(id)) return readText(underRoot(this.tree, path));
    try {
      return this.store.get(id);
    } catch (err) {
      // The store lost it (a pack gone): a version read from disk is still on disk, and is
      // stored again by preserve (a planned one is in memory, so this is the disk's).
      if (!(err instanceof PqError) || err.code !== "damaged" || this.planned.has(path)) throw err;
      const text = readText(underRoot(this.tree, path));
      if (text === null || sha1(text) !== id) throw err;
      this.store.forget(id);
      return text;
    }
  }

  /** The content planned for a path, when this operation made it in memory (not for cache hits or pops). */
  plannedContent(path: string): string | null | undefined {
    return this.planned.get(path)?.content;
  }

  /** The line index of a path's planned content, if a patch of this operation produced it. */
  lineIndex(path: string): LineIndex | undefined {
    return this.entry(path).index;
  }

  /**
   * Plan a new content for a path; returns its version. Contents enter the object store now.
   * The latest planned content of each path stays in memory (the next patch on it reads it);
   * `index`, when given, is that content's line index; `delta`, that content as pieces of
   * the stored version `base` (kept that way in the store).
   */
  set(path: string, content: string | null, exec: boolean, index?: LineIndex, delta?: { base: string; pieces: DeltaPiece[] }): Version {
    const id = content === null ? null : delta ? this.store.putDelta(content, delta.base, delta.pieces) : this.store.put(content);
    const version = id === null ? null : makeVersion(id, exec);
    this.remember(path);
    this.planned.set(path, { version, content, ...(index && content !== null && index.text === content ? { index } : {}) });
    return version;
  }

  /** checkTreePath, remembered for the operation: a push checks the same paths patch after patch. */
  checkPath(path: string, what: string): void {
    if (this.checked.has(path)) return;
    checkTreePath(this.tree, path, what, this.reserved);
    this.checked.add(path);
  }

  /** Plan a version already in the store (cache hits, pops). */
  setVersion(path: string, version: Version): void {
    this.remember(path);
    this.planned.set(path, { version });
  }

  private remember(path: string): void {
    if (this.undo && !this.undo.has(path)) this.undo.set(path, this.planned.get(path));
  }

  /** Make sure the current on-disk content of a path is in the store (so it can be restored). */
  preserve(path: string): Version {
    // A planned version is in the store already: put there by set, or checked present by a cache hit.
    const planned = this.planned.get(path);
    if (planned) return planned.version;
    const e = this.entry(path);
    // present, not has: a version whose pack is gone is stored again from the disk.
    if (e.version !== null && !this.store.present(versionId(e.version)!)) {
      this.store.put(this.content(path)!);
    }
    // The store has it now: forget a copy read from disk (a planned one is what the next patch reads).
    if (e.version !== null && !this.planned.has(path)) delete e.content;
    return e.version;
  }

  /**
   * The version a path has on disk, before anything planned; stored, so that undo can
   * bring it back.
   */
  originalVersion(path: string): Version {
    let e = this.seen.get(path);
    if (!e) {
      e = this.readDisk(path);
      this.seen.set(path, e);
    }
    const id = versionId(e.version);
    if (id !== null && !this.store.present(id)) {
      const content = e.content ?? readText(underRoot(this.tree, path));
      if (content !== null) this.store.put(content);
    }
    return e.version;
  }

  /**
   * Whether a path is a file as the operation sees it: planned as one, or a regular file on
   * disk that nothing planned replaces. A directory is not (and is not read, unlike version()).
   */
  isFile(path: string): boolean {
    const planned = this.planned.get(path);
    if (planned) return planned.version !== null;
    // The tree does not change until the executor runs: what is on disk stays so for this operation.
    return this.parents.kindOf(path) === "file";
  }

  /** A file this operation plans inside `dir` (a path under it), or undefined: asked only where a patch creates `dir` as a file. */
  plannedFileUnder(dir: string): string | undefined {
    const prefix = `${dir}/`;
    for (const [path, e] of this.planned) if (e.version !== null && path.startsWith(prefix)) return path;
    return undefined;
  }

  /** The version a path had on disk when this operation first read it (undefined: not read). */
  diskVersion(path: string): Version | undefined {
    return this.seen.get(path)?.version;
  }

  plannedWrites(): [string, Version][] {
    return [...this.planned].map(([p, e]) => [p, e.version]);
  }

  /**
   * Start recording what the next changes replace, so a patch that fails halfway through
   * a push -a can be taken back (an undo log: copying the plan per patch was quadratic).
   */
  begin(): void {
    this.undo = new Map();
  }
  /**
   * A path's version before the changes since begin() (the step under way, a patch being
   * applied): as an earlier step of the operation planned it, else on disk.
   */
  versionBeforeStep(path: string): Version {
    const replaced = this.undo?.get(path);
    if (replaced) return replaced.version;
    if (!this.undo?.has(path)) return this.version(path);
    let e = this.seen.get(path);
    if (!e) {
      e = this.readDisk(path);
      this.seen.set(path, e);
    }
    return e.version;
  }

  rollback(): void {
    for (const [path, entry] of this.undo ?? []) {
      if (entry) this.planned.set(path, entry);
      else this.planned.delete(path);
    }
    this.undo = null;
  }

  private entry(path: string): Entry {
    const planned = this.planned.get(path);
    if (planned) return planned;
    let e = this.seen.get(path);
    if (!e) {
      e = this.readDisk(path);
      this.seen.set(path, e);
    }
    return e;
  }

  private readDisk(path: string): Entry {
    // Paths from a push cache, the log or a pop were checked when recorded; a directory may have become a symlink since.
    this.parents.refuseSymlink(path);
    const full = underRoot(this.tree, path);
    // Before the stat: whether the file's clock tick may still have been running when pq read it (see StatCache.record).
    const statedAt = Date.now();
    const st = fileStat(full);
    if (!st) {
      // Nothing there, or a symlink to nothing (stat follows links): a link is refused as any other.
      refuseNonFile(full, path);
      return { version: null, content: null };
    }
    const exec = this.knownExec ? this.knownExec(path) : (st.mode & 0o111) !== 0;
    const cached = this.statCache.lookup(path, st);
    if (cached !== undefined && cached !== null) return { version: makeVersion(versionId(cached)!, exec) };
    refuseNonFile(full, path);
    const content = readText(full);
    if (content === null) return { version: null, content: null };
    const version = makeVersion(this.racilyRecorded(path, st, content) ?? sha1(content), exec);
    this.statCache.record(path, st, version, statedAt);
    return { version, content };
  }

  /**
   * The id the stat cache has for a file it does not vouch for only because the file was written
   * in the same tick of the file system's clock as the cache (git's racy-clean case: an edit in
   * that tick would keep the stamp), when the file's bytes are that version's in the store. A
   * command's last writes land in the tick of its cache's save (a few milliseconds on ext4), and
   * the next command hashed them, which loaded node:crypto (~2.2 ms) for a handful of files.
   */
  private racilyRecorded(path: string, st: FileStat, content: string): string | null {
    const id = versionId(this.statCache.recordedValue(path, st) ?? null);
    return id !== null && this.store.holdsText(id, content) ? id : null;
  }
}

/**
 * pq's patches hold regular files. A symlink would be read through (its target's bytes, from
 * anywhere, written into a patch as a file) and a directory cannot be read: both are refused
 * by name before anything is planned, as pq add refuses them.
 */
function refuseNonFile(full: string, path: string): void {
  let st: Stats | undefined;
  try {
    st = lstatSync(full, { throwIfNoEntry: false });
  } catch (e) {
    // A file where a parent directory should be (ENOTDIR): nothing at this path; the executor refuses the write.
    if ((e as NodeJS.ErrnoException).code === "ENOTDIR") return;
    throw e;
  }
  if (st?.isSymbolicLink()) {
    throw new PqError(
      "unsupported",
      `${path} is a symlink; pq's patches hold regular files only, and a link is not followed`,
      ["replace it with a regular file, or take it out of git's index (git rm --cached) and of the patch, then run the command again"],
      { file: path },
    );
  }
  if (st && !st.isFile() && !st.isDirectory()) {
    // Opened to be read, a FIFO would wait for a writer for ever.
    throw new PqError(
      "unsupported",
      `${path} is not a regular file (a FIFO, a socket or a device); pq's patches hold regular files only`,
      ["move it away, then run the command again"],
      { file: path },
    );
  }
  if (st?.isDirectory()) {
    throw new PqError(
      "unsupported",
      `${path} is a directory where pq expects a file (or no file)`,
      // Said for a push over a folder of the user's too (t119 N12): the pq add half only where pq add took the folder.
      ["move the directory away, then run the command again (only where pq add took the directory itself: pq undo takes that add back, and pq add DIR/FILE names the files in it)"],
      { file: path },
    );
  }
}
