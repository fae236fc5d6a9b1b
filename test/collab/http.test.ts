import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, read } from "../helpers/repo.js";
import { BASE_FILES, editLine, expectConverged, join_, ok, world } from "./shared-helpers.js";

let w: ReturnType<typeof world>;
let server: ChildProcess;
let url: string;

beforeAll(async () => {
  w = world();
  // Pushing over smart HTTP needs receive-pack enabled for the (authenticated) user.
  execFileSync("git", ["-C", w.remote, "config", "http.receivepack", "true"]);
  // A separate process: pq runs git synchronously, which would starve a server in this one.
  server = spawn(process.execPath, [resolve("test/collab/fixtures/http-git-server.mjs"), w.root], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<string>((res) => server.stdout!.once("data", (d) => res(String(d).trim())));
  url = `http://127.0.0.1:${port}/queue.git`;
});

afterAll(() => {
  server.kill();
  cleanup(w.root);
});

describe("pq sync over smart HTTP (git http-backend behind node on 127.0.0.1)", () => {
  it("merges the same patch refreshed on both sides", async () => {
    const ann = await join_(w, url, "Ann Example", "ann@example.org");
    await ok(ann.tree, "new", "p1.patch", "-m", "one");
    editLine(ann.tree, "a.c", 5, "five");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "p1");
    await ok(ann.tree, "sync");
    const bob = await join_(w, url, "Bob Example", "bob@example.org");
    await ok(bob.tree, "push", "-a");
    editLine(ann.tree, "a.c", 1, "one (ann)");
    await ok(ann.tree, "refresh");
    await ok(ann.tree, "commit", "-m", "ann");
    await ok(ann.tree, "sync");
    editLine(bob.tree, "a.c", 40, "forty (bob)");
    await ok(bob.tree, "refresh");
    await ok(bob.tree, "commit", "-m", "bob");
    expect((await ok(bob.tree, "sync")).out).toContain("pushed");
    await ok(ann.tree, "sync");
    const expected = BASE_FILES["a.c"]
      .replace("line 1\n", "one (ann)\n")
      .replace("line 5\n", "five\n")
      .replace("line 40\n", "forty (bob)\n");
    expect(read(ann.tree, "a.c")).toBe(expected);
    expect(read(bob.tree, "a.c")).toBe(expected);
    await expectConverged(w.remote, [ann, bob], w.base);
  });
});
