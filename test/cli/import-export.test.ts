import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeRepo, pq, read, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});
const repo = (files: Record<string, string>) => {
  const d = makeRepo(files);
  dirs.push(d);
  return d;
};

describe("import and export", () => {
  it("an hg mq queue (HG changeset headers, guards) imports with its guards and authors", async () => {
    const hg = tempDir("pq-hg-");
    dirs.push(hg);
    write(hg, ".hg/patches/series", "one.diff\ntwo.diff #+experimental\n");
    write(hg, ".hg/patches/one.diff", "# HG changeset patch\n# User Xena Eventchan <xena.eventchan@example.org>\n# Date 1165000000 28800\n# Parent  0000000000000000000000000000000000000000\nxen: first\n\nWhy.\n\ndiff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+A\n");
    write(hg, ".hg/patches/two.diff", "From: Vera Romscan <vera.romscan@example.org>\nSubject: vmi: second\n\ndiff --git a/b.txt b/b.txt\nnew file mode 100644\n--- /dev/null\n+++ b/b.txt\n@@ -0,0 +1 @@\n+b\n");
    const tree = repo({ "a.txt": "a\n" });
    await pq(tree, "init");
    expect((await pq(tree, "import", "--hg", hg)).code).toBe(0);
    expect(JSON.parse((await pq(tree, "guard", "--list", "--json")).out)).toEqual([
      { name: "one.diff", guards: [] },
      { name: "two.diff", guards: ["+experimental"] },
    ]);
    const header = JSON.parse((await pq(tree, "header", "one.diff", "--json")).out);
    expect(header).toMatchObject({ author: "Xena Eventchan <xena.eventchan@example.org>", subject: "xen: first", body: "Why." });
    expect((await pq(tree, "push", "-a")).out).toContain("now at: one.diff");
    expect(read(tree, "a.txt")).toBe("A\n");
  });

  it("export --mbox and import of that mbox round-trip patches, messages and authors", async () => {
    const tree = repo({ "a.txt": "a\n" });
    await pq(tree, "init");
    await pq(tree, "new", "first.patch", "-m", "First change\n\nBody one.", "-u", "J\u00f6rg Author <j@example.org>");
    write(tree, "a.txt", "a1\n");
    await pq(tree, "refresh");
    await pq(tree, "new", "second.patch", "-m", "Second change");
    write(tree, "a.txt", "a2\n");
    await pq(tree, "refresh");
    const mbox = join(tempDir(), "out.mbox");
    dirs.push(resolve(mbox, ".."));
    expect((await pq(tree, "export", "--mbox", mbox)).code).toBe(0);

    const other = repo({ "a.txt": "a\n" });
    await pq(other, "init");
    const imported = await pq(other, "import", mbox, "--push");
    expect(imported.out).toContain("imported 2 patch(es)");
    expect(read(other, "a.txt")).toBe("a2\n");
    const first = JSON.parse((await pq(other, "header", (await pq(other, "series")).out.split("\n")[0], "--json")).out);
    expect(first).toMatchObject({ subject: "First change", body: "Body one.", author: "J\u00f6rg Author <j@example.org>" });
    // git am takes the same mbox.
    const am = repo({ "a.txt": "a\n" });
    expect(spawnSync("git", ["am", "-q", mbox], { cwd: am }).status).toBe(0);
    expect(read(am, "a.txt")).toBe("a2\n");
  });

  it("header edits the message and author of a patch", async () => {
    const tree = repo({ "a.txt": "a\n" });
    await pq(tree, "init");
    await pq(tree, "new", "p.patch", "-m", "old subject");
    expect((await pq(tree, "header", "-m", "new subject\n\nnew body", "-u", "New Author <n@example.org>")).code).toBe(0);
    const h = JSON.parse((await pq(tree, "header", "--json")).out);
    expect(h).toMatchObject({ subject: "new subject", body: "new body", author: "New Author <n@example.org>" });
  });
});

describe("a missing compiler", () => {
  it("pq build with no gcc or clang on PATH says what to install and exits 8", () => {
    const empty = tempDir("pq-empty-path-");
    dirs.push(empty);
    const r = spawnSync(process.execPath, [resolve("bin/pq.js"), "build", "--tree", resolve("kernel-model")], { encoding: "utf8", env: { PATH: empty, HOME: process.env.HOME } });
    expect(r.status).toBe(8);
    expect(r.stderr).toContain("no compiler that targets i386 ELF");
    expect(r.stderr).toContain("apt-get install gcc binutils");
  });
});
