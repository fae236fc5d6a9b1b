/**
 * States pq ci and pq bisect cannot test as they are (t51): a state whose every backend was
 * skipped booted nothing, so it did not pass; a state that does not build cannot show the boot
 * failure the top has, so bisect skips it, as `make || exit 125` makes it for git bisect run; a
 * patch pq refuses to apply (a symlink it re-points) makes its state red, not the run aborted.
 */
import { existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fixtureKernelTree } from "../helpers/kernels.js";
import { cleanup, git, pq, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));

/** The passing fixture kernel committed with an empty pq stack on it. */
async function passingStack(): Promise<string> {
  const tree = fixtureKernelTree("pass");
  dirs.push(tree);
  git(tree, "init", "-q", "-b", "main");
  git(tree, "add", "-A");
  git(tree, "-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "-qm", "base");
  await pq(tree, "init");
  return tree;
}

/** A patch of main.c, made by `change` of its text. */
async function patchMain(tree: string, name: string, change: (text: string) => string): Promise<void> {
  await pq(tree, "new", name, "-m", name);
  write(tree, "main.c", change(readFileSync(join(tree, "main.c"), "utf8")));
  expect((await pq(tree, "refresh")).code).toBe(0);
}

/** pq bisect with a cache folder of the test's own. */
async function bisect(tree: string, ...args: string[]) {
  const cacheDir = tempDir();
  dirs.push(cacheDir);
  const saved = process.env.PQ_CACHE_DIR;
  process.env.PQ_CACHE_DIR = cacheDir;
  try {
    return await pq(tree, "bisect", ...args);
  } finally {
    if (saved === undefined) delete process.env.PQ_CACHE_DIR;
    else process.env.PQ_CACHE_DIR = saved;
  }
}

describe("pq bisect over states it cannot test", () => {
  it("does not call a top whose every backend was skipped passing (t51 N2)", async () => {
    const tree = await passingStack();
    await patchMain(tree, "one", (t) => t.replace("pq: smoke=pass", "check name=one ok\\npq: smoke=pass"));
    // The fixture kernel lists native alone: xen is skipped at every state.
    const r = await bisect(tree, "-b", "xen");
    expect(r.out + r.err).not.toContain("the top state (1) passes");
    expect(r.code).toBe(12);
    expect(r.err).toContain("xen skipped");
  }, 120_000);

  it("skips a state that does not build when the top fails by booting, and names the boot failure's patch (t51 N6)", async () => {
    const tree = await passingStack();
    const pass = "pq: smoke=pass";
    await patchMain(tree, "ok1", (t) => t.replace(pass, `check name=ok1 ok\\n${pass}`));
    await patchMain(tree, "ok2", (t) => t.replace(pass, `check name=ok2 ok\\n${pass}`));
    await patchMain(tree, "ok3", (t) => t.replace(pass, `check name=ok3 ok\\n${pass}`));
    await patchMain(tree, "buildbreak", (t) => t.replace("void main(void) {", "void main(void) { int broken = ;"));
    await patchMain(tree, "buildfix", (t) => t.replace(" int broken = ;", ""));
    await patchMain(tree, "bootbreak", (t) => t.replace(pass, 'pq: smoke=fail reason=\\"bootbreak\\"'));
    await patchMain(tree, "ok7", (t) => t.replace("pq: smoke=fail", "check name=ok7 ok\\npq: smoke=fail"));
    await patchMain(tree, "ok8", (t) => t.replace("pq: smoke=fail", "check name=ok8 ok\\npq: smoke=fail"));
    const r = await bisect(tree, "-b", "native");
    // It blamed buildbreak, which the next patch fixed, for the top's boot failure.
    expect(r.out).toContain("first bad patch: bootbreak");
    expect(r.code).toBe(1);
    expect(r.err).toContain("state 4 does not build: skipped, since the top fails by booting");
  }, 240_000);
});

describe("pq ci over a patch pq refuses to apply (t51 N8: a re-pointed symlink ended the run, exit 7, no report)", () => {
  it("marks its state red and the states above not built, keeps the verdicts below, and writes the reports", async () => {
    const tree = fixtureKernelTree("pass");
    const queue = tempDir();
    const cacheDir = tempDir();
    dirs.push(tree, queue, cacheDir);
    symlinkSync("serial.h", join(tree, "link.h"));
    git(tree, "init", "-q", "-b", "main");
    git(tree, "add", "-A");
    git(tree, "-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "-qm", "base");
    const repoint =
      "diff --git a/link.h b/link.h\nindex 1111111..2222222 120000\n--- a/link.h\n+++ b/link.h\n@@ -1 +1 @@\n-serial.h\n\\ No newline at end of file\n+head.S\n\\ No newline at end of file\n";
    writeFileSync(join(queue, "relink.patch"), `From: T <t@example.org>\nSubject: relink\n\n${repoint}`);
    const edit =
      '--- a/main.c\n+++ b/main.c\n@@ -1,2 +1,2 @@\n #include "serial.h"\n-void main(void) { puts_serial("pq: backends=native\\npq: smoke=pass\\n"); }\n+void main(void) { puts_serial("pq: backends=native\\ncheck name=x ok\\npq: smoke=pass\\n"); }\n';
    writeFileSync(join(queue, "edit.patch"), `From: T <t@example.org>\nSubject: edit\n\n${edit}`);
    writeFileSync(join(queue, "series"), "relink.patch\nedit.patch\n");
    const saved = process.env.PQ_CACHE_DIR;
    process.env.PQ_CACHE_DIR = cacheDir;
    try {
      const report = join(queue, "..", `${queue.split("/").pop()}-report.json`);
      dirs.push(report);
      const r = await pq(tree, "ci", "--queue", queue, "--tree", tree, "-b", "native", "--json", report);
      expect(r.code, r.err).toBe(1);
      expect(existsSync(report)).toBe(true);
      const cells = JSON.parse(readFileSync(report, "utf8")).cells as { state: number; outcome: string; reason?: string }[];
      expect(cells.map((c) => [c.state, c.outcome])).toEqual([
        [0, "pass"],
        [1, "build-error"],
        [2, "build-error"],
      ]);
      expect(cells[1].reason).toBe("relink.patch cannot be applied");
      expect(cells[2].reason).toBe("not built: relink.patch (state 1) cannot be applied");
      const bisect = await pq(tree, "bisect", "--queue", queue, "--tree", tree, "-b", "native");
      expect(bisect.code).toBe(1);
      expect(bisect.out).toContain("first bad patch: relink.patch");
    } finally {
      if (saved === undefined) delete process.env.PQ_CACHE_DIR;
      else process.env.PQ_CACHE_DIR = saved;
    }
  }, 120_000);
});

describe("pq ci over a state whose image no emulator can load", () => {
  it("makes it a red cell of that state, with or without boot workers, and bisect names the patch (t127 N3)", async () => {
    const tree = await passingStack();
    await pq(tree, "new", "nohead.patch", "-m", "drop the multiboot checksum");
    write(tree, "head.S", readFileSync(join(tree, "head.S"), "utf8").replace(".long -0x1BADB002", ".long 0"));
    expect((await pq(tree, "refresh")).code).toBe(0);
    await pq(tree, "pop", "-a");
    const cacheDir = tempDir();
    dirs.push(cacheDir);
    const saved = process.env.PQ_CACHE_DIR;
    process.env.PQ_CACHE_DIR = cacheDir;
    try {
      for (const backends of ["native", "native,xen"]) {
        const r = await pq(tree, "ci", "-b", backends, "--jobs", "2");
        expect(r.code, r.err).toBe(1);
        expect(r.err).not.toContain("internal error");
        expect(r.out).toContain("no multiboot header");
      }
    } finally {
      if (saved === undefined) delete process.env.PQ_CACHE_DIR;
      else process.env.PQ_CACHE_DIR = saved;
    }
    const found = await bisect(tree, "-b", "native");
    expect(found.code, found.err).toBe(1);
    expect(found.out).toContain("first bad patch: nohead.patch");
  }, 120_000);
});
