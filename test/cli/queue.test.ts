import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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
