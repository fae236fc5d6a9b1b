import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, read } from "../helpers/repo.js";
import { editLine, expectConverged, join_, ok, remoteQueue, world } from "./shared-helpers.js";

let w: ReturnType<typeof world>;
let pidFile: string;
let url: string;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  w = world();
  pidFile = join(w.root, "daemon.pid");
  const port = await freePort();
  execFileSync("git", ["daemon", "--export-all", "--enable=receive-pack", `--base-path=${w.root}`, "--listen=127.0.0.1", `--port=${port}`, "--detach", `--pid-file=${pidFile}`, "--reuseaddr", w.root]);
  url = `git://127.0.0.1:${port}/queue.git`;
  for (let i = 0; i < 50; i++) {
    if (spawnSync("git", ["ls-remote", url]).status === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("git daemon did not come up");
});

afterAll(() => {
  try {
    process.kill(Number(readFileSync(pidFile, "utf8").trim()));
  } catch {
    // already gone
  }
  cleanup(w.root);
});

describe("pq sync over git:// (git daemon on 127.0.0.1)", () => {
  it("three contributors add and refresh patches and all end with every change", async () => {
    const ann = await join_(w, url, "Ann Example", "ann@example.org");
    await ok(ann.tree, "new", "base-fix.patch", "-m", "base fix");
    editLine(ann.tree, "a.c", 10, "ten");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "start");
    await ok(ann.tree, "sync");
    const bob = await join_(w, url, "Bob Example", "bob@example.org");
    const cat = await join_(w, url, "Cat Example", "cat@example.org");
    for (const p of [bob, cat]) await ok(p.tree, "push", "-a");

    await ok(bob.tree, "new", "bob.patch", "-m", "bob's");
    editLine(bob.tree, "b.c", 2, "two (bob)");
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "bob adds");

    await ok(cat.tree, "goto", "base-fix.patch");
    editLine(cat.tree, "a.c", 38, "thirty-eight (cat)");
    await ok(cat.tree, "refresh");
    await ok(cat.tree, "commit", "-m", "cat refreshes base-fix");

    await ok(ann.tree, "pop", "-a");
    await ok(ann.tree, "new", "ann-first.patch", "-m", "ann's, first");
    editLine(ann.tree, "b.c", 19, "nineteen (ann)");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "ann adds in front");

    for (const p of [bob, cat, ann]) await ok(p.tree, "sync");
    for (const p of [bob, cat]) await ok(p.tree, "sync");
    expect(remoteQueue(w.remote).series).toBe("ann-first.patch\nbase-fix.patch\nbob.patch\n");
    expect(remoteQueue(w.remote).patches["base-fix.patch"]).toContain("+thirty-eight (cat)");
    const authors = execFileSync("git", ["-C", w.remote, "log", "--format=%an", "main"], { encoding: "utf8" });
    expect(new Set(authors.trim().split("\n"))).toEqual(new Set(["Ann Example", "Bob Example", "Cat Example"]));
    await expectConverged(w.remote, [ann, bob, cat], w.base);
    await ok(bob.tree, "push", "-a");
    expect(read(bob.tree, "a.c")).toContain("thirty-eight (cat)\n");
    expect(read(bob.tree, "b.c")).toContain("nineteen (ann)\n");
  });
});
