import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { cleanup, pq, read } from "../helpers/repo.js";
import { editLine, expectConverged, join_, ok, remoteQueue, world } from "./shared-helpers.js";

const PQ = resolve("bin/pq.js");

/** Starts `pq sync` as a real process and SIGKILLs it after `ms` (it may finish first). */
async function killedSync(cwd: string, ms: number): Promise<void> {
  const child = spawn(process.execPath, [PQ, "sync"], { cwd, stdio: "ignore" });
  const exited = new Promise((r) => child.on("exit", r));
  await new Promise((r) => setTimeout(r, ms));
  child.kill("SIGKILL");
  await exited;
}

describe("a sync killed at any point", () => {
  it("is completed by the next pq sync, with nothing lost on either side", async () => {
    for (const ms of [60, 150, 250, 350, 500, 700]) {
      const w = world();
      const ann = await join_(w, w.remote, "Ann Example", "ann@example.org");
      await ok(ann.tree, "new", "p1.patch", "-m", "one");
      editLine(ann.tree, "a.c", 5, "five");
      await ok(ann.tree, "refresh");
      await ok(ann.tree, "commit", "-m", "p1");
      await ok(ann.tree, "sync");
      const bob = await join_(w, w.remote, "Bob Example", "bob@example.org");
      await ok(bob.tree, "push", "-a");
      editLine(ann.tree, "a.c", 2, "two (ann)");
      await ok(ann.tree, "refresh");
      await ok(ann.tree, "commit", "-m", "ann refreshes p1");
      await ok(ann.tree, "sync");
      editLine(bob.tree, "a.c", 30, "thirty (bob)");
      await ok(bob.tree, "refresh");
      await ok(bob.tree, "new", "bob.patch", "-m", "bob's");
      editLine(bob.tree, "b.c", 9, "nine (bob)");
      await ok(bob.tree, "refresh");
      await ok(bob.tree, "commit", "-m", "bob refreshes p1, adds bob.patch");

      await killedSync(bob.tree, ms);
      const again = await pq(bob.tree, "sync");
      expect(again.code, `killed after ${ms} ms: ${again.err}`).toBe(0);
      await ok(ann.tree, "sync");
      const p1 = remoteQueue(w.remote).patches["p1.patch"];
      expect(p1, `killed after ${ms} ms`).toContain("+two (ann)");
      expect(p1).toContain("+thirty (bob)");
      expect(remoteQueue(w.remote).series).toBe("p1.patch\nbob.patch\n");
      expect((await ok(bob.tree, "top")).out.trim()).toBe("bob.patch");
      expect(read(bob.tree, "a.c")).toMatch(/two \(ann\)[^]*five[^]*thirty \(bob\)/);
      await expectConverged(w.remote, [ann, bob], w.base);
      cleanup(w.root);
    }
  }, 240_000);
});
