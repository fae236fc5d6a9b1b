import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeRepo, pq, read, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

describe("pq queue: several queues on one tree", () => {
  it("lists, creates, switches (refusing while applied unless --pop) and deletes queues", async () => {
    const dir = makeRepo({ "a.txt": "a\n", "b.txt": "b\n" });
    dirs.push(dir);
    await pq(dir, "init");
    await pq(dir, "new", "fix-a", "-m", "Fix a");
    write(dir, "a.txt", "a fixed\n");
    await pq(dir, "refresh");
    expect((await pq(dir, "queue", "list")).out).toBe("* patches  (1 patch, patches)\n");

    expect((await pq(dir, "queue", "create", "feature")).out).toContain("created queue feature in patches-feature");
    expect(existsSync(join(dir, "patches-feature", "series"))).toBe(true);
    expect((await pq(dir, "queue", "create", "feature")).code).toBe(3);
    expect((await pq(dir, "queue", "create", "bad/name")).code).toBe(2);

    // The queue in use: nothing to switch to, and --pop pops nothing for it (stack-3 #15).
    const same = await pq(dir, "queue", "switch", "--pop", "patches");
    expect([same.code, same.err]).toEqual([12, expect.stringContaining("patches is the queue in use already")]);
    const refused = await pq(dir, "queue", "switch", "feature");
    expect(refused.code).toBe(12);
    expect(refused.err).toContain("1 patch(es) of the active queue are applied");
    expect(read(dir, "a.txt")).toBe("a fixed\n");

    const switched = await pq(dir, "queue", "switch", "feature", "--pop");
    expect(switched.code).toBe(0);
    expect(switched.out).toBe("popped 1 patch(es)\nnow on queue feature\n");
    expect(read(dir, "a.txt")).toBe("a\n");
    expect((await pq(dir, "series")).out).toBe("");
    await pq(dir, "new", "feat-b", "-m", "Feature on b");
    write(dir, "b.txt", "b feature\n");
    await pq(dir, "refresh");
    expect(read(join(dir, "patches-feature"), "series")).toBe("feat-b\n");
    expect((await pq(dir, "queue", "list")).out).toBe("* feature  (1 patch, patches-feature)\n  patches  (1 patch, patches)\n");

    await pq(dir, "pop", "-a");
    expect((await pq(dir, "queue", "switch", "patches")).code).toBe(0);
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect(read(dir, "a.txt")).toBe("a fixed\n");
    expect(read(dir, "b.txt")).toBe("b\n");

    expect((await pq(dir, "queue", "delete", "patches")).err).toContain("is the active queue");
    expect((await pq(dir, "queue", "switch", "nope")).code).toBe(3);
    const del = await pq(dir, "queue", "delete", "feature", "--purge");
    expect(del.code).toBe(0);
    expect(existsSync(join(dir, "patches-feature"))).toBe(false);
    expect((await pq(dir, "queue", "list")).out).toBe("* patches  (1 patch, patches)\n");
  });
});

describe("pq queue create --dir over a directory of other files, and delete --purge (t82 N1)", () => {
  it("refuses a folder of other files or one above the tree; purge moves the queue's own files only", async () => {
    const dir = makeRepo({ "a.txt": "a\n", "src/main.c": "int main(void) { return 0; }\n" });
    dirs.push(dir);
    await pq(dir, "init");
    const outside = `${dir}-userdata`;
    dirs.push(outside);
    mkdirSync(outside);
    writeFileSync(join(outside, "thesis.txt"), "precious\n");
    for (const target of [outside, join(dir, "src"), resolve(dir, ".."), join(dir, ".git")]) {
      const r = await pq(dir, "queue", "create", "q", "--dir", target);
      expect([r.code, r.err], target).toEqual([12, expect.stringMatching(/holds other files|holds the tree itself|git's own directory/)]);
    }
    expect(readFileSync(join(outside, "thesis.txt"), "utf8")).toBe("precious\n");
    expect(existsSync(join(dir, "src", "series"))).toBe(false);
    // A queue's own directory (it has a series) is taken, and so is a new one.
    mkdirSync(join(dir, "other-queue"));
    writeFileSync(join(dir, "other-queue", "series"), "fix.patch\n");
    writeFileSync(join(dir, "other-queue", "fix.patch"), "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+A\n");
    writeFileSync(join(dir, "other-queue", "NOTES"), "mine\n");
    expect((await pq(dir, "queue", "create", "other", "--dir", join(dir, "other-queue"))).code).toBe(0);
    const del = await pq(dir, "queue", "delete", "other", "--purge");
    expect(del.code, del.err).toBe(0);
    expect(del.out).toContain("is kept: it holds files that are not the queue's (NOTES)");
    const trashed = /its files are in (\S+)\)/.exec(del.out)?.[1];
    expect(readFileSync(join(trashed!, "fix.patch"), "utf8")).toContain("+A");
    expect(existsSync(join(trashed!, "series"))).toBe(true);
    expect(readFileSync(join(dir, "other-queue", "NOTES"), "utf8")).toBe("mine\n");
    expect(existsSync(join(dir, "other-queue", "fix.patch"))).toBe(false);
    // A series naming a file outside its directory: the purge moves nothing from there.
    expect((await pq(dir, "queue", "create", "q3", "--dir", join(dir, "q3"))).code).toBe(0);
    writeFileSync(join(dir, "q3", "series"), "../a.txt\n");
    const purged = await pq(dir, "queue", "delete", "q3", "--purge");
    expect(purged.code, purged.err).toBe(0);
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\n");
    // The active queue through a symlink is the active queue (t96 N1); a series line naming a folder does not take it (t96 N2).
    symlinkSync("patches", join(dir, "plink"));
    const linked = await pq(dir, "queue", "create", "other2", "--dir", join(dir, "plink"));
    expect([linked.code, linked.err]).toEqual([3, expect.stringContaining("is already a queue's directory")]);
    expect((await pq(dir, "queue", "create", "q4", "--dir", join(dir, "q4"))).code).toBe(0);
    mkdirSync(join(dir, "q4", "sub"));
    writeFileSync(join(dir, "q4", "sub", "notes.txt"), "mine\n");
    writeFileSync(join(dir, "q4", "series"), "sub\n");
    expect((await pq(dir, "queue", "delete", "q4", "--purge")).code).toBe(0);
    expect(readFileSync(join(dir, "q4", "sub", "notes.txt"), "utf8")).toBe("mine\n");
  });
});

describe("patch names beyond ASCII in the series (tui-22 F2)", () => {
  it("are read as UTF-8 by queue list, by init over an existing series, and by restore-queue's copy from init", async () => {
    const dir = makeRepo({ "a.c": "a\n" });
    try {
      const name = "09-na\u00efve-\u00fcn\u00efcode-\u540d\u524d";
      mkdirSync(join(dir, "patches"));
      writeFileSync(join(dir, "patches", "series"), `${name}\n`);
      writeFileSync(join(dir, "patches", name), "From: T <t@example.org>\nSubject: x\n\n--- a/a.c\n+++ b/a.c\n@@ -1 +1 @@\n-a\n+b\n");
      const init = await pq(dir, "init");
      expect(init.code, init.err).toBe(0);
      const list = await pq(dir, "queue", "list");
      expect(list.code, list.err).toBe(0);
      expect(list.out).toMatch(/patches.*1/);
      // The copy init kept brings the patch back after the queue directory is gone.
      rmSync(join(dir, "patches"), { recursive: true });
      expect((await pq(dir, "restore-queue")).code).toBe(0);
      expect(readFileSync(join(dir, "patches", name), "utf8")).toContain("+b\n");
      expect((await pq(dir, "push")).code).toBe(0);
      expect(read(dir, "a.c")).toBe("b\n");
    } finally {
      cleanup(dir);
    }
  });
});

describe("pq init over a queue it found, stopped before it kept its copies (t56 N5)", () => {
  const queueOf20 = (dir: string) => {
    mkdirSync(join(dir, "patches"));
    const names = Array.from({ length: 20 }, (_, i) => `p${i}.patch`);
    writeFileSync(join(dir, "patches", "series"), names.map((n) => `${n}\n`).join(""));
    for (const [i, n] of names.entries())
      writeFileSync(join(dir, "patches", n), `Subject: ${n}\n\n--- a/a.c\n+++ b/a.c\n@@ -1 +1 @@\n-a\n+${i}\n`);
  };

  it("by a full disk: nothing stays, so init again makes the copies, and restore-queue brings the queue back", async () => {
    const dir = makeRepo({ "a.c": "a\n" });
    dirs.push(dir);
    queueOf20(dir);
    const failed = spawnSync(process.execPath, [resolve("bin/pq.js"), "init"], {
      cwd: dir,
      env: { ...process.env, PQ_FAILPOINT: "init-state-saved:eio" },
    });
    expect(failed.status).toBe(14);
    // "nothing was changed" is true: no stack (it had stayed, without the copies, and a second init was refused).
    expect(existsSync(join(dir, ".pq", "state.json"))).toBe(false);
    expect((await pq(dir, "init")).code).toBe(0);
    rmSync(join(dir, "patches"), { recursive: true });
    expect((await pq(dir, "restore-queue")).code).toBe(0);
    expect(readFileSync(join(dir, "patches", "series"), "utf8").split("\n")).toHaveLength(21);
    expect(existsSync(join(dir, "patches", "p19.patch"))).toBe(true);
  });

  it("by a kill: the next command says init was interrupted, and init again starts over and keeps the copies", async () => {
    const dir = makeRepo({ "a.c": "a\n" });
    dirs.push(dir);
    queueOf20(dir);
    const killed = spawnSync(process.execPath, [resolve("bin/pq.js"), "init"], {
      cwd: dir,
      env: { ...process.env, PQ_FAILPOINT: "init-state-saved" },
    });
    expect(killed.signal).toBe("SIGKILL");
    const status = await pq(dir, "status");
    expect(status.err).toContain("pq init was interrupted before it was done");
    expect((await pq(dir, "init")).code).toBe(0);
    rmSync(join(dir, "patches"), { recursive: true });
    expect((await pq(dir, "restore-queue")).code).toBe(0);
    expect(existsSync(join(dir, "patches", "p19.patch"))).toBe(true);
  });

  it("restore-queue with no copy of a queue that is gone says so, not that every file is there", async () => {
    const dir = makeRepo({ "a.c": "a\n" });
    dirs.push(dir);
    queueOf20(dir);
    expect((await pq(dir, "init")).code).toBe(0);
    rmSync(join(dir, ".pq", "queue-at-init"));
    rmSync(join(dir, "patches"), { recursive: true });
    const r = await pq(dir, "restore-queue");
    expect(r.code).toBe(3);
    expect(r.err).toContain("pq has no copy of the queue");
    expect(r.out).not.toContain("every queue file pq wrote is in");
  });
});
