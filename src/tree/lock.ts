/**
 * One pq process per tree. The lock file holds the owner's pid; a lock whose process is
 * gone (killed, crashed) is taken over, and the journal then repairs what it left.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { PqError } from "../errors.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class TreeLock {
  private constructor(private path: string) {}

  static acquire(path: string): TreeLock {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, "wx");
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        return new TreeLock(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        let pid = NaN;
        try {
          pid = parseInt(readFileSync(path, "utf8"), 10);
        } catch {
          /* vanished meanwhile: retry */
        }
        if (Number.isFinite(pid) && pid !== process.pid && alive(pid)) {
          throw new PqError("locked", `the tree is locked by pid ${pid} (another pq is running)`, [
            `wait for it to finish; if no pq is running, remove ${path}`,
          ]);
        }
        rmSync(path, { force: true }); // stale: its owner is gone
      }
    }
    throw new PqError("locked", `could not take the lock ${path}`, ["try again"]);
  }

  release(): void {
    rmSync(this.path, { force: true });
  }
}
