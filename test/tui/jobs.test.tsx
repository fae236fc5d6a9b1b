import React from "react";
import { execFileSync } from "node:child_process";
import { readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { render } from "ink-testing-library";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Stack } from "../../src/queue/stack.js";
import { App } from "../../src/tui/app.js";
import { fixtureKernelTree } from "../helpers/kernels.js";
import { cleanup, git, pq, snapshot, tempDir, write } from "../helpers/repo.js";
import { settle } from "./tui-helpers.js";

const dirs: string[] = [];
const uis: { unmount: () => void }[] = [];
let oldCache: string | undefined;
beforeAll(() => {
  oldCache = process.env.PQ_CACHE_DIR;
  const cache = tempDir("pq-cache-");
  dirs.push(cache);
  process.env.PQ_CACHE_DIR = cache;
});
afterAll(() => {
  if (oldCache === undefined) delete process.env.PQ_CACHE_DIR;
  else process.env.PQ_CACHE_DIR = oldCache;
  while (dirs.length) cleanup(dirs.pop()!);
});
afterEach(() => {
  while (uis.length) uis.pop()!.unmount();
});

/** The pass kernel with two patches: one that keeps it passing, one that breaks the verdict. */
async function kernelStack(variant = "pass") {
  const tree = fixtureKernelTree(variant);
  dirs.push(tree);
  git(tree, "init", "-q", "-b", "main");
  git(tree, "add", "-A");
  git(tree, "-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "-qm", "base");
  await pq(tree, "init");
  if (variant === "pass") {
    await pq(tree, "new", "say-more.patch", "-m", "Say more", "-u", "Good Author <good@example.org>");
    write(tree, "main.c", readFileSync(join(tree, "main.c"), "utf8").replace("smoke=pass", "check name=more ok\\npq: smoke=pass"));
    await pq(tree, "refresh");
    await pq(tree, "new", "break-it.patch", "-m", "Break the verdict", "-u", "Bad Author <bad@example.org>");
    write(tree, "main.c", readFileSync(join(tree, "main.c"), "utf8").replace("pq: smoke=pass", 'pq: smoke=fail reason=\\"broken\\"'));
    await pq(tree, "refresh");
    await pq(tree, "pop");
  }
  return { tree, stack: await Stack.open({ tree }) };
}

function mount(stack: Stack) {
  const ui = render(<App stack={stack} env={{}} />);
  uis.push(ui);
  return ui;
}

describe("pq tui: build, boot and ci", () => {
  it("builds and boots the current state, streaming the serial log, and badges the top patch", async () => {
    const { stack } = await kernelStack();
    const ui = mount(stack);
    await settle(ui.lastFrame, /1\/2 applied/);
    ui.stdin.write("b");
    let frame = await settle(ui.lastFrame, /build \+ boot of say-more\.patch/);
    frame = await settle(ui.lastFrame, /✓ say-more\.patch: native pass, xen skip, vmi skip/, 60_000);
    expect(frame).toMatch(/check name=more ok/);
    expect(frame).toMatch(/=> vmi SKIP in \d+ ms: this state has no vmi/);
    expect(frame).toMatch(/say-more\.patch\s.*n\+ x- v-/);
    // l hides the pane, l shows it again.
    ui.stdin.write("l");
    await settle(ui.lastFrame, /^(?![\s\S]*=> vmi SKIP)/);
    ui.stdin.write("l");
    await settle(ui.lastFrame, /=> vmi SKIP/);
  }, 90_000);

  it("a badge stays through a pop and a push back, and the tree's unrefreshed edits earn none (t155 N3, N4)", async () => {
    const { tree, stack } = await kernelStack();
    const ui = mount(stack);
    await settle(ui.lastFrame, /1\/2 applied/);
    // b then o: the build's verdict lands on the patch it built, popped or not.
    ui.stdin.write("b");
    ui.stdin.write("o");
    await settle(ui.lastFrame, /0\/2 applied/, 60_000);
    let frame = await settle(ui.lastFrame, /say-more\.patch\s.*n\+ x- v-/, 60_000);
    ui.stdin.write("p");
    frame = await settle(ui.lastFrame, /1\/2 applied/);
    expect(frame).toMatch(/say-more\.patch\s.*n\+ x- v-/);
    // An unrefreshed edit that breaks the verdict: said, and no badge for the patch.
    ui.stdin.write("p");
    await settle(ui.lastFrame, /2\/2 applied/);
    write(tree, "main.c", readFileSync(join(tree, "main.c"), "utf8").replace('pq: smoke=fail reason=\\"broken\\"', "pq: smoke=pass"));
    ui.stdin.write("\x0c");
    await settle(ui.lastFrame, /reloaded/);
    ui.stdin.write("b");
    frame = await settle(
      ui.lastFrame,
      /break-it\.patch: built with unrefreshed edits or untracked files \(main\.c\), no badge: native pass/,
      60_000,
    );
    expect(frame).not.toMatch(/break-it\.patch\s.*n\+/);
    // An untracked file the build may read is no patch's either (t157 N8).
    expect((await pq(tree, "revert", "main.c")).code).toBe(0);
    write(tree, "local_cfg.h", "/* mine */\n");
    ui.stdin.write("\x0c");
    await settle(ui.lastFrame, /reloaded/);
    ui.stdin.write("b");
    frame = await settle(ui.lastFrame, /built with unrefreshed edits or untracked files \(local_cfg\.h\), no badge/, 60_000);
  }, 120_000);

  it("runs ci over the series with cells filling in, and leaves the tree alone", async () => {
    const { tree, stack } = await kernelStack();
    const before = snapshot(tree);
    const ui = mount(stack);
    await settle(ui.lastFrame, /1\/2 applied/);
    ui.stdin.write("C");
    const frame = await settle(ui.lastFrame, /✓ ci: 9 cells, 1 failing/, 90_000);
    expect(frame).toMatch(/^.*0\s+PASS\s+skip\s+skip\s+\(base\)/m);
    expect(frame).toMatch(/2\s+FAIL\s+skip\s+skip\s+break-it\.patch/);
    expect(frame).toMatch(/break-it\.patch\s.*n! x- v-/);
    expect(snapshot(tree)).toEqual(before);
    expect(stack.applied()).toEqual(["say-more.patch"]);
  }, 120_000);

  it("shows a failed build's errors in the pane and says so in the status line", async () => {
    const { stack } = await kernelStack("compile-error");
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/0 applied/);
    ui.stdin.write("b");
    const frame = await settle(ui.lastFrame, /✗ the build failed \(1 error\(s\)\)/, 60_000);
    // The error is in the status line and in the log pane.
    expect(frame.match(/main\.c:\d+:\d+: error/g)?.length).toBe(2);
  }, 90_000);

  it("says so when there is no compiler, and stays usable", async () => {
    const { stack } = await kernelStack("compile-error");
    // A PATH with git but no gcc, ld or clang.
    const bin = tempDir("pq-path-");
    dirs.push(bin);
    symlinkSync(execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim(), join(bin, "git"));
    const oldPath = process.env.PATH;
    process.env.PATH = bin;
    try {
      const ui = mount(stack);
      await settle(ui.lastFrame, /0\/0 applied/);
      ui.stdin.write("b");
      const frame = await settle(ui.lastFrame, /✗ no compiler that targets i386 ELF was found/, 60_000);
      expect(frame).toMatch(/install one: apt-get install gcc binutils/);
      ui.stdin.write("?");
      await settle(ui.lastFrame, /pq tui keys/);
    } finally {
      process.env.PATH = oldPath;
    }
  });
});
