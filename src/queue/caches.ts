/**
 * Two caches that make repeated work cheap:
 * - the stat cache remembers (size, mtime) → version for files pq wrote or hashed, like
 *   git's index, so checking "is this file still what pq left?" needs no read;
 * - the push cache remembers, per patch content, which file versions it turned into which,
 *   so a push whose inputs are unchanged is a checkout instead of an apply (StGit's
 *   fast-forward of stored commits, without commits).
 */
import { appendFileSync } from "node:fs";
import { asciiJson, readText, writeAtomic } from "../tree/files.js";
import { versionId, type FileChange, type Version } from "./state.js";
import type { WorkingSet } from "./workset.js";

/**
 * A recorded (size, mtime) proves the content only if the file could not have been
 * modified again within the same clock tick: entries are trusted when the file's mtime is
 * at least this much older than the moment the cache was saved (git's "racy" rule; file
 * system timestamps move in steps of a few milliseconds).
 */
const RACY_MS = 10;

export class StatCache {
  private loaded: Record<string, [number, number, string]> | null = null;
  private savedAt = 0;
  private dirty = false;
  constructor(private file: string) {}

  /** Read on first use: a stack is opened (and its caches re-opened under the lock) more often than it is used. */
  private get entries(): Record<string, [number, number, string]> {
    if (this.loaded) return this.loaded;
    const text = readText(this.file);
    let parsed: { savedAt?: number; entries?: Record<string, [number, number, string]> } = {};
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      /* damaged: start empty, it is only an accelerator */
    }
    this.savedAt = parsed.savedAt ?? 0;
    this.loaded = parsed.entries ?? {};
    return this.loaded;
  }

  lookup(path: string, size: number, mtimeMs: number): Version | undefined {
    const e = this.entries[path];
    if (e && e[0] === size && e[1] === mtimeMs && mtimeMs < this.savedAt - RACY_MS) return e[2];
    return undefined;
  }

  record(path: string, size: number, mtimeMs: number, version: Version): void {
    if (version === null) return this.forget(path);
    this.entries[path] = [size, mtimeMs, version];
    this.dirty = true;
  }

  forget(path: string): void {
    if (this.entries[path]) {
      delete this.entries[path];
      this.dirty = true;
    }
  }

  save(): void {
    if (!this.dirty) return;
    // Saved after the files it describes were written; lookups trust entries older than this.
    this.savedAt = Date.now();
    writeAtomic(this.file, asciiJson({ savedAt: this.savedAt, entries: this.entries }));
    this.dirty = false;
  }
}

export interface PushCacheEntry {
  files: Record<string, [Version, Version]>;
  renames?: [string, string][];
  /** Hunks that applied with an offset ("f.c: Hunk #1 succeeded at 14 (offset 2 lines)."): a reused push reports them too. */
  notes?: string[];
}

export class PushCache {
  private byPatch: Map<string, PushCacheEntry[]> | null = null;
  private pending: string[] = [];
  constructor(private file: string) {}

  private load(): Map<string, PushCacheEntry[]> {
    if (this.byPatch) return this.byPatch;
    this.byPatch = new Map();
    const text = readText(this.file) ?? "";
    for (const line of text.split("\n")) {
      const tab = line.indexOf("\t");
      if (tab === -1) continue;
      try {
        const entry = JSON.parse(line.slice(tab + 1)) as PushCacheEntry;
        const key = line.slice(0, tab);
        const list = this.byPatch.get(key) ?? [];
        list.push(entry);
        this.byPatch.set(key, list);
      } catch {
        // A line torn by a crash: ignore it, the cache is only an accelerator.
      }
    }
    return this.byPatch;
  }

  candidates(patchHash: string): PushCacheEntry[] {
    return this.load().get(patchHash) ?? [];
  }

  add(patchHash: string, entry: PushCacheEntry): void {
    const list = this.load().get(patchHash) ?? [];
    const key = asciiJson(entry);
    if (list.some((e) => asciiJson(e) === key)) return;
    list.push(entry);
    this.load().set(patchHash, list);
    this.pending.push(`${patchHash}\t${key}\n`);
  }

  flush(): void {
    if (this.pending.length) appendFileSync(this.file, this.pending.join(""));
    this.pending = [];
  }

  /** Remember that this patch turns these versions into these (a push or a refresh made it so). */
  record(patchHash: string, files: Record<string, FileChange>, renames: [string, string][], notes: string[] = []): void {
    const changed = Object.entries(files).filter(([, c]) => c.pre !== c.post);
    this.add(patchHash, {
      files: Object.fromEntries(changed.map(([p, c]) => [p, [c.pre, c.post]])),
      ...(renames.length ? { renames } : {}),
      ...(notes.length ? { notes } : {}),
    });
  }

  /**
   * Replay a remembered push on the working set if the files are still exactly its inputs
   * and its results are still in the object store (`readable`: the executor then reads back
   * the versions it writes, and pop rebuilds any lost one from the patches); returns the
   * patch's file changes, or null when the patch has to be applied.
   */
  replay(
    ws: WorkingSet,
    patchHash: string,
    readable: (id: string) => boolean,
  ): { files: Record<string, FileChange>; renames?: [string, string][]; notes?: string[] } | null {
    for (const entry of this.candidates(patchHash)) {
      const paths = Object.keys(entry.files);
      if (!paths.every((p) => ws.version(p) === entry.files[p][0])) continue;
      if (!paths.every((p) => entry.files[p][1] === null || readable(versionId(entry.files[p][1])!))) continue;
      const files: Record<string, FileChange> = {};
      for (const p of paths) {
        const [pre, post] = entry.files[p];
        ws.preserve(p);
        ws.setVersion(p, post);
        files[p] = { pre, post };
      }
      return { files, renames: entry.renames, notes: entry.notes };
    }
    return null;
  }
}
