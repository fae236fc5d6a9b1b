/**
 * A content-addressed store of file versions (pq's `.pq/objects`). Every version a push
 * replaced or produced is kept here before the working tree changes, which is what lets
 * pop restore exact bytes, the journal roll an interrupted operation forward, and a warm
 * push reuse a result instead of re-applying.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { PqError } from "../errors.js";
import { readText, sha1, writeText } from "./files.js";

export class ObjectStore {
  private known = new Set<string>();
  private madeDirs = new Set<string>();
  constructor(readonly dir: string) {}

  put(content: string): string {
    const id = sha1(content);
    if (this.known.has(id)) return id;
    const sub = join(this.dir, id.slice(0, 2));
    const file = join(sub, id.slice(2));
    if (!existsSync(file)) {
      if (!this.madeDirs.has(sub)) {
        mkdirSync(sub, { recursive: true });
        this.madeDirs.add(sub);
      }
      // Written under a temporary name and renamed would be safer against torn writes, but
      // the id check on read (below) catches a torn object and the journal only refers to
      // objects written before it.
      writeText(file, content);
    }
    this.known.add(id);
    return id;
  }

  get(id: string): string {
    const content = readText(join(this.dir, id.slice(0, 2), id.slice(2)));
    if (content === null || sha1(content) !== id) {
      throw new PqError("internal", `pq's object ${id} is missing or damaged in ${this.dir}`, [
        "the state in .pq/ is damaged; the patches in the queue directory are intact",
      ]);
    }
    return content;
  }

  has(id: string): boolean {
    return this.known.has(id) || existsSync(join(this.dir, id.slice(0, 2), id.slice(2)));
  }
}
