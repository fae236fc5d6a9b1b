import { KEYS } from "../../src/tui/keymap.js";
import React from "react";
import { existsSync, readFileSync, writeFileSync, chmodSync, mkdirSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { render } from "ink-testing-library";
import { afterEach, describe, expect, it, onTestFinished, vi } from "vitest";
import { Stack } from "../../src/queue/stack.js";
import { App } from "../../src/tui/app.js";
import { cleanup, git, makeRepo, pq, read, snapshot, tempDir, write } from "../helpers/repo.js";
import { notesAfter, patchName } from "../helpers/series.mjs";
import { answer, KEY, seriesStack, settle, tick } from "./tui-helpers.js";

const dirs: string[] = [];
const uis: { unmount: () => void }[] = [];
afterEach(() => {
  while (uis.length) uis.pop()!.unmount();
  while (dirs.length) cleanup(dirs.pop()!);
});

function mount(stack: Stack, env: NodeJS.ProcessEnv = {}) {
  const ui = render(<App stack={stack} env={env} />);
  uis.push(ui);
  return ui;
}

/** `c`, the name, Enter, and Enter for no message: the frame once it says the patch was created. */
async function newPatchByKeys(ui: ReturnType<typeof mount>, name: string): Promise<string> {
  ui.stdin.write("c");
  await tick();
  ui.stdin.write(name);
  await tick();
  ui.stdin.write("\r");
  await tick();
  ui.stdin.write("\r");
  return settle(ui.lastFrame, /✓ created/);
}

const seriesFile = (dir: string) =>
  readFileSync(join(dir, "patches", "series"), "utf8")
    .trim()
    .split("\n");

/** A repository with a stack of one applied patch `name` that makes a.txt hold `content`. */
async function onePatch(name: string, content: string) {
  const dir = makeRepo({ "a.txt": "a\n" });
  dirs.push(dir);
  const stack = await Stack.init({ tree: dir });
  await stack.newPatch(name);
  write(dir, "a.txt", content);
  await stack.refresh();
  return { dir, stack };
}

async function threePatches() {
  const dir = makeRepo({ "a.txt": "a\n" });
  dirs.push(dir);
  const stack = await Stack.init({ tree: dir });
  for (const n of ["one", "two", "three"]) {
    await stack.newPatch(n, { message: `add ${n} to a` });
    write(dir, "a.txt", read(dir, "a.txt") + `${n}\n`);
    await stack.refresh();
  }
  await stack.pop({ all: true });
  return { dir, stack };
}

describe("pq tui: the stack from single keys", () => {
  it("shows the series and drives push, pop, goto and refresh, checked on disk after each", async () => {
    const { dir, stack } = await threePatches();
    const ui = mount(stack);
    let frame = await settle(ui.lastFrame, /1 U one\s+add one to a/);
    expect(frame).toMatch(/0\/3 applied/);
    expect(frame).toMatch(/2 U two/);

    ui.stdin.write("p");
    frame = await settle(ui.lastFrame, /now at: one/);
    expect(frame).toMatch(/▶> +1 A one/);
    expect(stack.applied()).toEqual(["one"]);
    expect(read(dir, "a.txt")).toBe("a\none\n");

    // Two keys in one chunk (as a terminal sends them when typed fast): both count.
    ui.stdin.write("jj");
    await tick();
    ui.stdin.write(KEY.enter);
    frame = await settle(ui.lastFrame, /3\/3 applied/);
    expect(frame).toMatch(/▶> +3 A three/);
    expect(read(dir, "a.txt")).toBe("a\none\ntwo\nthree\n");

    write(dir, "a.txt", "a\none\ntwo\nthree\nmore\n");
    ui.stdin.write("\x0c"); // ctrl-l reloads
    frame = await settle(ui.lastFrame, /unrefreshed: a\.txt/);
    // The preview of the top patch shows what a refresh would take.
    frame = await settle(ui.lastFrame, /with unrefreshed edits/);
    expect(frame).toMatch(/\+more/);
    ui.stdin.write("r");
    frame = await settle(ui.lastFrame, /refreshed three: a\.txt/);
    expect(readFileSync(stack.patchPath("three"), "latin1")).toMatch(/^\+more$/m);

    ui.stdin.write("o");
    frame = await settle(ui.lastFrame, /popped 1; now at: two/);
    expect(read(dir, "a.txt")).toBe("a\none\ntwo\n");
    ui.stdin.write("P");
    frame = await settle(ui.lastFrame, /pushed 1 .*now at: three/);
    expect(read(dir, "a.txt")).toBe("a\none\ntwo\nthree\nmore\n");
    ui.stdin.write("O");
    frame = await settle(ui.lastFrame, /queue empty/);
    expect(read(dir, "a.txt")).toBe("a\n");
    expect(stack.applied()).toEqual([]);
  });

  it("shows a refused pop in the status line and changes nothing", async () => {
    const { dir, stack } = await onePatch("p", "b\n");
    write(dir, "a.txt", "edited, not refreshed\n");
    const ui = mount(stack);
    await settle(ui.lastFrame, /1\/1 applied/);
    ui.stdin.write("o");
    const frame = await settle(ui.lastFrame, /✗ .*unrefreshed changes in 1 file/);
    expect(frame).toContain("pq refresh to keep them");
    expect(read(dir, "a.txt")).toBe("edited, not refreshed\n");
    expect(stack.applied()).toEqual(["p"]);
    // The interface stays usable: the next key works.
    ui.stdin.write("?");
    await settle(ui.lastFrame, /pq tui keys/);
  });

  it("says where an edit made while an operation ran was saved (t32 F4: the status line said only the result)", async () => {
    const { dir, stack } = await onePatch("p", "b\n");
    const ui = mount(stack);
    await settle(ui.lastFrame, /1\/1 applied/);
    // An editor's save between the pop's plan and its write (the executor's own hook for it).
    process.env.PQ_FAILPOINT = "planned:sh";
    process.env.PQ_FAILPOINT_SH = `printf 'edited meanwhile\\n' > '${join(dir, "a.txt")}'`;
    onTestFinished(() => {
      delete process.env.PQ_FAILPOINT;
      delete process.env.PQ_FAILPOINT_SH;
    });
    ui.stdin.write("o");
    // Ahead of the result (which ! shows whole with it).
    await settle(ui.lastFrame, /files changed while pop p ran were saved in/);
    expect(stack.applied()).toEqual([]);
    expect(read(dir, "a.txt")).toBe("a\n");
    const backups = spawnSync("grep", ["-rl", "edited meanwhile", join(dir, ".pq", "backups")], { encoding: "utf8" }).stdout;
    expect(backups).toMatch(/changed-during-operation/);
  });

  it("shows the failing file and hunk of a push that does not apply", async () => {
    const { dir, stack } = await seriesStack(5, 0);
    dirs.push(dir);
    // The base itself moved (committed): the patch no longer fits. (An edit that is not
    // committed is reported as unrefreshed changes in the patch's way instead.)
    write(dir, "notes.txt", "a different\nfile\naltogether\n");
    git(dir, "commit", "-qam", "notes rewritten upstream");
    const before = snapshot(dir);
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/5 applied/);
    ui.stdin.write("p");
    const frame = await settle(ui.lastFrame, /✗ 00001-change-1\.patch does not apply/);
    expect(frame).toMatch(/notes\.txt: Hunk #1 FAILED/);
    expect(snapshot(dir)).toEqual(before);
    expect(stack.applied()).toEqual([]);
  });
});

describe("pq tui: a refusal longer than a line (tui-2 #8)", () => {
  it("wraps over the status lines, and ! shows it whole", async () => {
    const dir = makeRepo({ "a.txt": "a\nb\nc\n" });
    dirs.push(dir);
    const stack = await Stack.init({ tree: dir });
    const long = `${"a-really-long-patch-name-".repeat(4)}end`;
    await stack.newPatch(long, { message: "change b" });
    write(dir, "a.txt", "a\nB\nc\n");
    await stack.refresh();
    await stack.pop({ all: true });
    write(dir, "a.txt", "x\ny\nz\n");
    git(dir, "commit", "-qam", "a.txt rewritten upstream");
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/1 applied/);
    ui.stdin.write("p");
    // The message's end, past the first line's 100 columns, is on screen.
    let frame = await settle(ui.lastFrame, /does not apply \(nothing was changed\)/);
    expect(frame).toContain(`✗ ${long.slice(0, 90)}`);
    expect(frame).toContain("(! for all)");
    ui.stdin.write("!");
    frame = await settle(ui.lastFrame, /the last error/);
    expect(frame).toContain("a.txt: Hunk #1 FAILED");
    expect(frame).toContain("pq push --force applies the hunks that fit");
    // Any other key closes it; the error stays in the status lines.
    ui.stdin.write("x");
    frame = await settle(ui.lastFrame, /1 U a-really/);
    expect(frame).not.toContain("the last error");
    expect(frame).toContain("(! for all)");
  });

  it("! shows the last message whole when there was no error (tui-8 T10)", async () => {
    const { stack } = await threePatches();
    const long = `${"a-really-long-patch-name-".repeat(5)}end`;
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/3 applied/);
    const created = await newPatchByKeys(ui, long);
    expect(created).toContain("✓ created");
    ui.stdin.write("!");
    const frame = await settle(ui.lastFrame, /the last message/);
    expect(frame.replace(/[│\s]+/g, "")).toContain(`now at: ${long}`.replace(/\s/g, ""));
  });
});

describe("pq tui: editing the series", () => {
  it("creates, renames, moves, guards, selects, folds and deletes patches from prompts", async () => {
    const { dir, stack } = await threePatches();
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/3 applied/);

    ui.stdin.write("p");
    await settle(ui.lastFrame, /now at: one/);
    // Refused before anything more is asked: a name already taken, a delete of an applied patch.
    ui.stdin.write("c");
    await settle(ui.lastFrame, /new patch name:/);
    await answer(ui, "two");
    await settle(ui.lastFrame, /✗ two is already in the series/);
    // The name prompt is open again with "two" (verify-11 Z2): Esc leaves it.
    expect(ui.lastFrame()).toContain("new patch name: two");
    ui.stdin.write("\x1b");
    await tick(80);
    ui.stdin.write("D");
    await settle(ui.lastFrame, /✗ one is applied/);
    ui.stdin.write("c");
    await settle(ui.lastFrame, /new patch name:/);
    await answer(ui, "fresh");
    await settle(ui.lastFrame, /message for fresh:/);
    await answer(ui, "a fresh start");
    await settle(ui.lastFrame, /created fresh/);
    let frame = await settle(ui.lastFrame, /▶> +2 A fresh\s+a fresh start/);
    expect(seriesFile(dir)).toEqual(["one", "fresh", "two", "three"]);
    expect(stack.top()).toBe("fresh");
    expect(readFileSync(stack.patchPath("fresh"), "latin1")).toMatch(/^Subject: a fresh start$/m);
    expect(frame).toMatch(/▶> +2 A fresh\s+a fresh start/);

    // Rename the patch under the cursor (the prompt starts with its name: clear it first).
    ui.stdin.write("R");
    await settle(ui.lastFrame, /rename fresh to:/);
    ui.stdin.write("\x15"); // ctrl-u clears
    await answer(ui, "renamed");
    await settle(ui.lastFrame, /renamed fresh to renamed/);
    expect(seriesFile(dir)).toEqual(["one", "renamed", "two", "three"]);
    expect(existsSync(stack.patchPath("renamed"))).toBe(true);
    expect(stack.applied()).toEqual(["one", "renamed"]);

    // Move "three" up above "two" ([), then down again (]).
    ui.stdin.write("G");
    await settle(ui.lastFrame, /▶ +4 U three/);
    ui.stdin.write("[");
    frame = await settle(ui.lastFrame, /moved three before two/);
    expect(seriesFile(dir)).toEqual(["one", "renamed", "three", "two"]);
    expect(frame).toMatch(/▶ +3 U three/);
    ui.stdin.write("]");
    await settle(ui.lastFrame, /moved three after two/);
    expect(seriesFile(dir)).toEqual(["one", "renamed", "two", "three"]);

    // Guard "three" and select the guard.
    ui.stdin.write("s");
    await settle(ui.lastFrame, /guards for three/);
    await answer(ui, "+extra");
    frame = await settle(ui.lastFrame, /three: guards \+extra/);
    expect(readFileSync(join(dir, "patches", "series"), "utf8")).toMatch(/^three #\+extra$/m);
    expect(frame).toMatch(/4 G three/);
    ui.stdin.write("S");
    await settle(ui.lastFrame, /select guards/);
    await answer(ui, "extra");
    frame = await settle(ui.lastFrame, /selected: extra/);
    expect(stack.selectedGuards()).toEqual(["extra"]);
    expect(frame).toMatch(/4 U three\s.*\+extra\*/);

    // Fold "two" (under the cursor) into the top patch.
    ui.stdin.write("k");
    await settle(ui.lastFrame, /▶ +3 U two/);
    ui.stdin.write("F");
    await settle(ui.lastFrame, /folded two into renamed/);
    expect(seriesFile(dir)).toEqual(["one", "renamed", "three #+extra"]);
    expect(read(dir, "a.txt")).toBe("a\none\ntwo\n");
    expect(readFileSync(stack.patchPath("renamed"), "latin1")).toMatch(/^\+two$/m);

    // Delete "three" (asks first, one key: "n" keeps it, "y" deletes; no Enter, so the next key acts).
    ui.stdin.write("G");
    await settle(ui.lastFrame, /▶ +3 U three/);
    ui.stdin.write("D");
    await settle(ui.lastFrame, /delete three\? \(y deletes, any other key keeps it\)/);
    await tick();
    ui.stdin.write("n");
    await settle(ui.lastFrame, /kept three: nothing was deleted/);
    expect(seriesFile(dir)).toEqual(["one", "renamed", "three #+extra"]);
    expect(ui.lastFrame()).not.toMatch(/delete three\?/);
    ui.stdin.write("D");
    await settle(ui.lastFrame, /delete three\? \(y deletes/);
    await tick();
    ui.stdin.write("y");
    await settle(ui.lastFrame, /deleted three/);
    expect(seriesFile(dir)).toEqual(["one", "renamed"]);
    expect(existsSync(stack.patchPath("three"))).toBe(false);
  });

  it("refuses a name pq would refuse at the name prompt, before asking for the message (tui-8 T16)", async () => {
    const { stack } = await threePatches();
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/3 applied/);
    ui.stdin.write("c");
    await tick();
    ui.stdin.write("foo bar");
    await tick();
    ui.stdin.write("\r");
    await settle(ui.lastFrame, /invalid patch name "foo bar": it contains a space/);
    expect(ui.lastFrame()).not.toContain("message for");
    // The prompt is open again with the name, so what is typed next is not run as keys (verify-11 Z2).
    expect(ui.lastFrame()).toContain("new patch name:");
    ui.stdin.write("\x7f\x7f\x7f\x7f-bar");
    await tick();
    ui.stdin.write("\r");
    await settle(ui.lastFrame, /message for foo-bar:/);
  });

  it("edits a message in $EDITOR", async () => {
    const { dir, stack } = await threePatches();
    const tools = tempDir("pq-editor-");
    dirs.push(tools);
    const editor = join(tools, "editor.sh");
    // An editor that rewrites the subject line (what a person would do in vi).
    writeFileSync(editor, '#!/bin/sh\nsed -i "1s/.*/better subject for two/" "$1"\n');
    chmodSync(editor, 0o755);
    const suspended: string[] = [];
    const ui = render(
      <App
        stack={stack}
        env={{}}
        suspend={(fn) => {
          suspended.push("in");
          const r = fn();
          suspended.push("out");
          return r;
        }}
      />,
    );
    uis.push(ui);
    const old = process.env.EDITOR;
    process.env.EDITOR = editor;
    try {
      await settle(ui.lastFrame, /0\/3 applied/);
      ui.stdin.write("j");
      await settle(ui.lastFrame, /▶ +2 U two/);
      ui.stdin.write("e");
      await settle(ui.lastFrame, /two: message updated/);
      await settle(ui.lastFrame, /2 U two\s+better subject for two/);
    } finally {
      if (old === undefined) delete process.env.EDITOR;
      else process.env.EDITOR = old;
    }
    expect(suspended).toEqual(["in", "out"]);
    const text = readFileSync(stack.patchPath("two"), "latin1");
    expect(text).toMatch(/^Subject: better subject for two$/m);
    expect(text).toMatch(/^\+two$/m);
    expect(seriesFile(dir)).toEqual(["one", "two", "three"]);
  });
});

describe("pq tui: a message pq refuses, an editor that fails (tui-8 T1, T2)", () => {
  it("keeps the text typed in $EDITOR in a file the refusal names, and shows a failed editor as a refusal", async () => {
    const { dir, stack } = await threePatches();
    const tools = tempDir("pq-editor-");
    dirs.push(tools);
    const quoting = join(tools, "quoting.sh");
    // A message that quotes a diff: its "diff --git" line would start the patch.
    writeFileSync(quoting, '#!/bin/sh\nprintf "subject kept\\n\\nsee this:\\ndiff --git a/x b/x\\n" > "$1"\n');
    const failing = join(tools, "failing.sh");
    writeFileSync(failing, '#!/bin/sh\necho garbage > "$1"\nexit 3\n');
    chmodSync(quoting, 0o755);
    chmodSync(failing, 0o755);
    const before = readFileSync(stack.patchPath("one"), "latin1");
    const ui = mount(stack);
    const old = process.env.EDITOR;
    let savedText = "";
    try {
      await settle(ui.lastFrame, /0\/3 applied/);
      process.env.EDITOR = quoting;
      ui.stdin.write("e");
      await settle(ui.lastFrame, /your text is saved in/);
      const saved = /your text is saved in (\S+)/.exec(ui.lastFrame()!.replace(/\s*\n\s*/g, ""))![1];
      expect(readFileSync(saved, "utf8")).toContain("diff --git a/x b/x");
      expect(ui.lastFrame()).toContain("✗");
      // The line as typed, and the command that opens the saved text again (t130 N3), which keeps the author.
      const said = ui.lastFrame()!.replace(/\s*\n\s*/g, " ");
      expect(said).toContain("line 4 of the edited message");
      ui.stdin.write("!");
      const whole = (await settle(ui.lastFrame, /the last error/)).replace(/[│\s]+/g, "");
      expect(whole).toContain("pqheader-e-F");
      expect(whole).toContain("oneopensitagainintheeditor");
      ui.stdin.write("\x1b");
      await tick(80);
      savedText = saved;
      process.env.EDITOR = failing;
      ui.stdin.write("e");
      await settle(ui.lastFrame, /the editor exited with 3: the message is unchanged/);
      expect(ui.lastFrame()).toContain("✗");
    } finally {
      if (old === undefined) delete process.env.EDITOR;
      else process.env.EDITOR = old;
    }
    expect(readFileSync(stack.patchPath("one"), "latin1")).toBe(before);
    ui.unmount();
    // The saved text, corrected and taken by the command the refusal named: the author and date stay.
    writeFileSync(savedText, readFileSync(savedText, "utf8").replace("diff --git", " diff --git"));
    expect((await pq(dir, "header", "-F", savedText, "one")).code).toBe(0);
    const now = readFileSync(stack.patchPath("one"), "latin1");
    expect(now).toContain(/^From: .*$/m.exec(before)![0]);
    expect(now).toContain(/^Date: .*$/m.exec(before)![0]);
    expect(now).toContain("Subject: subject kept");
  });
});

describe("pq tui: a long series", () => {
  it("starts on a 10,000-patch series at the top, reading only the headers on screen", async () => {
    const { dir, stack } = await seriesStack(10_000, 300);
    dirs.push(dir);
    let reads = 0;
    const original = stack.patchHeader.bind(stack);
    stack.patchHeader = (name: string) => {
      reads++;
      return original(name);
    };
    const ui = mount(stack);
    let frame = await settle(ui.lastFrame, /change number 300 of the series/);
    expect(frame).toMatch(/▶> +300 A 00300-change-300\.patch/);
    expect(frame).toMatch(/300\/10000 applied/);
    expect(frame).toMatch(/series 300\/10000 · \d+ above · \d+ below/);
    // Only the window is rendered.
    expect(frame.split("\n").filter((l) => /\d+ [AUG] \d{5}-change/.test(l)).length).toBeLessThan(40);
    expect(reads).toBeLessThan(60);

    ui.stdin.write(KEY.end);
    frame = await settle(ui.lastFrame, /▶ +10000 U 10000-change-10000\.patch/);
    expect(frame).toMatch(/ 0 below/);
    ui.stdin.write(KEY.home);
    frame = await settle(ui.lastFrame, /▶ +1 A 00001-change-1\.patch/);
    expect(frame).toMatch(/· 0 above/);
    ui.stdin.write("t");
    await settle(ui.lastFrame, /▶> +300 A/);
    ui.stdin.write(KEY.pgdn);
    frame = await settle(ui.lastFrame, /▶ +3\d\d U/);
    ui.stdin.write(KEY.pgup);
    await settle(ui.lastFrame, /▶> +300 A/);
    expect(reads).toBeLessThan(200);

    // Search by subject: "number 7777 " is in a subject only (names say "change-7777").
    ui.stdin.write("/");
    await settle(ui.lastFrame, /search \//);
    await answer(ui, "number 7777 of");
    frame = await settle(ui.lastFrame, /▶ +7777 U 07777-change-7777\.patch/);
    ui.stdin.write("/");
    await answer(ui, "change-12");
    await settle(ui.lastFrame, /▶ +12 A 00012-change-12\.patch/);
    ui.stdin.write("n");
    await settle(ui.lastFrame, /▶ +120 A 00120-change-120\.patch/);
    expect(read(dir, "notes.txt")).toBe(notesAfter(300));
  });

  it("previews the patch under the cursor: header, diffstat, diff, scrolled on its own", async () => {
    const { dir, stack } = await seriesStack(20, 10);
    dirs.push(dir);
    const ui = mount(stack);
    // A short terminal, so the preview has something to scroll.
    Object.defineProperty(ui.stdout, "rows", { value: 16, configurable: true });
    ui.stdout.emit("resize");
    let frame = await settle(ui.lastFrame, /Bump the version to 10 and record it/);
    expect(frame).toMatch(/notes\.txt \|\s+2 \+-/);
    expect(frame).toMatch(/2 files changed, 3 insertions\(\+\), 1 deletion\(-\)/);
    // The diff is further down: scroll to it.
    ui.stdin.write("\x04\x04\x04"); // ctrl-d x 3
    frame = await settle(ui.lastFrame, /-version = 9 \(build 9\)/);
    expect(frame).toMatch(/\+version = 10 \(build 10\)/);
    ui.stdin.write("j");
    frame = await settle(ui.lastFrame, /Bump the version to 11/);
    expect(frame).toContain(patchName(11));
    // Scroll the preview (J), and with Tab the arrows scroll it too.
    expect(frame).toMatch(/lines 1-/);
    ui.stdin.write("JJJ");
    frame = await settle(ui.lastFrame, /lines 4-/);
    ui.stdin.write(KEY.tab);
    await tick();
    ui.stdin.write(KEY.down);
    await settle(ui.lastFrame, /lines 5-/);
    ui.stdin.write(KEY.tab);
    // Mouse wheel over the series moves the cursor.
    ui.stdin.write("\x1b[<65;5;10M");
    await settle(ui.lastFrame, /▶ +14 U/);
  });

  it("at 37 columns a long patch name leaves the subject room (tui-8 T15)", async () => {
    const { stack } = await threePatches();
    await stack.renamePatch("two", "a-patch-name-of-thirty-two-cells");
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/3 applied/);
    Object.defineProperty(ui.stdout, "columns", { value: 37, configurable: true });
    ui.stdout.emit("resize");
    await settle(ui.lastFrame, /series 0\/3/);
    await tick(100);
    // The row of "one": its subject ("add one to a") shows at least in part.
    expect(ui.lastFrame()).toMatch(/1 U one +add one/);
  });

  it("follows resizes: a narrow terminal shows one pane, Tab switches it", async () => {
    const { dir, stack } = await seriesStack(30, 5);
    dirs.push(dir);
    const ui = mount(stack);
    let frame = await settle(ui.lastFrame, /Bump the version to 5/);
    expect(frame).toMatch(/▶> +5 A/);
    Object.defineProperty(ui.stdout, "columns", { value: 70, configurable: true });
    ui.stdout.emit("resize");
    frame = await settle(ui.lastFrame, /series 5\/30/);
    await tick(100);
    frame = ui.lastFrame()!;
    expect(frame).not.toMatch(/Bump the version/);
    expect(Math.max(...frame.split("\n").map((l) => l.length))).toBeLessThanOrEqual(70);
    ui.stdin.write(KEY.tab);
    frame = await settle(ui.lastFrame, /Bump the version to 5/);
    expect(frame).not.toMatch(/series 5\/30/);
    Object.defineProperty(ui.stdout, "columns", { value: 120, configurable: true });
    ui.stdout.emit("resize");
    frame = await settle(ui.lastFrame, /series 5\/30[\s\S]*Bump the version to 5|Bump the version to 5[\s\S]*series 5\/30/);
  });

  it("lists every key in the help overlay and closes it with any key", async () => {
    const { dir, stack } = await seriesStack(5, 0);
    dirs.push(dir);
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/5 applied/);
    expect(ui.lastFrame()).toMatch(/p\/o push\/pop · P\/O all · ⏎ goto · r refresh/);
    ui.stdin.write("?");
    let frame = await settle(ui.lastFrame, /pq tui keys/);
    // A help taller than the pane scrolls (j / space); what it shows over its pages is every key.
    let seen = frame;
    for (let page = 0; page < 10; page++) {
      const m = /lines \d+-(\d+) of (\d+)/.exec(frame);
      if (!m || m[1] === m[2]) break;
      ui.stdin.write(" ");
      frame = await settle(ui.lastFrame, new RegExp(`lines \\d+-(?!${m[1]} )\\d+ of`));
      seen += frame;
    }
    for (const k of KEYS) expect(seen, k.what).toContain(k.what);
    ui.stdin.write("x");
    await settle(ui.lastFrame, /series 0\/5/);
    expect(ui.lastFrame()).not.toMatch(/pq tui keys/);
  });

  it("u says, as pq undo does, that the version it took back is committed in the queue (t123 N4)", async () => {
    const dir = makeRepo({ "f.txt": "a\nb\n" });
    dirs.push(dir);
    expect((await pq(dir, "init", "--shared")).code).toBe(0);
    await pq(dir, "new", "a", "-m", "a");
    write(dir, "f.txt", "a\nB\n");
    await pq(dir, "refresh");
    expect((await pq(dir, "commit", "-m", "queue v1")).code).toBe(0);
    const stack = await Stack.open({ tree: dir });
    const ui = mount(stack);
    await settle(ui.lastFrame, /1\/1 applied/);
    ui.stdin.write("u");
    const frame = await settle(ui.lastFrame, /✓ undid refresh/);
    expect(frame.replace(/\s+/g, " ")).toContain("is committed in the queue: pq commit would take it back there too");
  });

  it("undoes and redoes the last operation (the stack's oplog), checked on disk", async () => {
    const { dir, stack } = await seriesStack(3, 1);
    dirs.push(dir);
    const ui = mount(stack);
    await settle(ui.lastFrame, /1\/3 applied/);
    ui.stdin.write("p");
    await settle(ui.lastFrame, /2\/3 applied/);
    expect(read(dir, "notes.txt")).toBe(notesAfter(2));
    ui.stdin.write("u");
    let frame = await settle(ui.lastFrame, /✓ undid push/);
    expect(frame).toMatch(/1\/3 applied/);
    expect(stack.applied()).toEqual([patchName(1)]);
    expect(read(dir, "notes.txt")).toBe(notesAfter(1));
    ui.stdin.write("U");
    frame = await settle(ui.lastFrame, /✓ redid push/);
    expect(frame).toMatch(/2\/3 applied/);
    expect(read(dir, "notes.txt")).toBe(notesAfter(2));
  });
});

describe("pq tui: stored verdicts and the shared queue", () => {
  it("shows the ci verdicts the stack keeps as badges beside their patches", async () => {
    const { dir, stack } = await seriesStack(3, 2);
    dirs.push(dir);
    // What pq ci records (a gcc build and a boot per state) stands in for here: the badges are under test.
    vi.spyOn(stack, "ciVerdicts").mockReturnValue(new Map([[patchName(1), { native: "pass", xen: "fail" }]]));
    const ui = mount(stack);
    Object.defineProperty(ui.stdout, "columns", { value: 140, configurable: true });
    ui.stdout.emit("resize");
    await settle(ui.lastFrame, /00001-change-1\.patch\s.*n\+ x!/);
    expect(read(dir, "notes.txt")).toBe(notesAfter(2));
  });

  it("shows a queue versioned in the tree's repository as shared (src/collab/status)", async () => {
    const { dir, stack } = await seriesStack(3, 1);
    dirs.push(dir);
    git(dir, "add", "patches");
    git(dir, "commit", "-qm", "share the queue");
    write(dir, "patches/00003-change-3.patch", read(dir, "patches/00003-change-3.patch") + "\n");
    const ui = mount(stack);
    Object.defineProperty(ui.stdout, "columns", { value: 140, configurable: true });
    ui.stdout.emit("resize");
    await settle(ui.lastFrame, /shared \(in the tree's repository\): no upstream · 1 uncommitted/);
  });
});

/** The series file replaced by a directory (a series pq cannot read); returns what puts it back. */
function seriesAsDirectory(dir: string): () => void {
  const series = join(dir, "patches", "series");
  const text = read(join(dir, "patches"), "series");
  rmSync(series);
  mkdirSync(series);
  return () => {
    rmSync(series, { recursive: true });
    writeFileSync(series, text);
  };
}

/** A TUI on three unapplied patches, with c pressed and `name` given: at the message prompt. */
async function atMessagePrompt(name: string) {
  const { dir, stack } = await threePatches();
  const ui = mount(stack);
  await settle(ui.lastFrame, /0\/3 applied/);
  ui.stdin.write("c");
  await settle(ui.lastFrame, /new patch name:/);
  await answer(ui, name);
  await settle(ui.lastFrame, new RegExp(`message for ${name}:`));
  return { dir, stack, ui };
}

describe("pq tui against what a hostile tester tried", () => {
  it("an emoji is a key like any other (no crash), and a pasted message is text, not keys", async () => {
    const { dir, stack } = await threePatches();
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/3 applied/);
    ui.stdin.write("😀");
    await tick();
    ui.stdin.write("c");
    await settle(ui.lastFrame, /new patch name:/);
    await answer(ui, "m1");
    await settle(ui.lastFrame, /message for m1:/);
    await tick();
    // A paste of two paragraphs whose words are all keys (O p o P u ...): none runs.
    // The terminal marks it (bracketed paste, which the TUI turns on).
    ui.stdin.write("\x1b[200~Fix the frobnicator\n\nOn top of that, Pop it all and push a couple.\x1b[201~");
    await tick(100);
    ui.stdin.write("\r");
    await settle(ui.lastFrame, /created m1/);
    expect(stack.applied()).toEqual(["m1"]);
    expect(read(join(dir, "patches"), "m1")).toContain("Fix the frobnicator  On top of that, Pop it all and push a couple.");
    // Outside a prompt a paste is not run as keys either.
    ui.stdin.write("\x1b[200~oooo pppp\x1b[201~");
    await settle(ui.lastFrame, /a paste of 9 characters was not taken as keys/);
    // Pasted text that holds an end mark of its own (tmux's paste-buffer -p passes it on): what follows it in the
    // same read is the rest of the paste, not keys (tui-8 T21: PP pushed everything, the real end mark's [ moved a patch).
    ui.stdin.write("\x1b[200~copied from a web page\x1b[201~PP\x1b[201~");
    await settle(ui.lastFrame, /a paste of 2 characters was not taken as keys/);
    // Keys typed afterwards, in a read of their own, are keys again.
    await tick(60);
    const ops = stack.recentOperations().entries.map((e) => e.op);
    // Nothing after the new patch: no push, pop or undo ran from the pastes.
    expect(ops[0]).toBe("new m1");
    expect(stack.applied()).toEqual(["m1"]);
    ui.stdin.write("P");
    await settle(ui.lastFrame, /now at: three/);
    expect(stack.applied()).toEqual(["m1", "one", "two", "three"]);
  });

  it("a paste start mark that no end mark follows is said after a pause, and Ctrl-C ends it; a paste whose data pauses stays text (t54 N10, t57 N2)", async () => {
    const { stack } = await threePatches();
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/3 applied/);
    // Pasted unbracketed through something that passed a start mark on: every key after it was taken as paste.
    ui.stdin.write("\x1b[200~pp");
    await tick(100);
    ui.stdin.write("p");
    await settle(ui.lastFrame, /a paste is open \(3 characters, no end mark yet\): its text is not run as keys; Ctrl-C ends it/);
    expect(stack.applied()).toEqual([]);
    ui.stdin.write("\x03");
    await settle(ui.lastFrame, /a paste of 3 characters with no end mark \(ended by Ctrl-C\) was not taken as keys/);
    // The rest of that paste, coming after the Ctrl-C, is no keys either (t58 N1: it popped the stack).
    ui.stdin.write("OOu");
    await settle(ui.lastFrame, /the rest of the paste Ctrl-C ended was not taken as keys/);
    expect(stack.applied()).toEqual([]);
    // More of it after a second stall: a burst, still no keys (t59 N1).
    await tick(1300);
    ui.stdin.write("OOpe");
    await tick(200);
    expect(stack.applied()).toEqual([]);
    await tick(1100);
    ui.stdin.write("p");
    await settle(ui.lastFrame, /now at: one/);
    expect(stack.applied()).toEqual(["one"]);
    // A bracketed paste whose data pauses for more than a second mid-way (a slow link) is text to its end mark.
    ui.stdin.write("\x1b[200~Notes from the meeting: ");
    await tick(1300);
    ui.stdin.write("Open items, Pending work \x1b[201~");
    await settle(ui.lastFrame, /a paste of \d+ characters was not taken as keys/);
    await tick(100);
    expect(stack.applied()).toEqual(["one"]);
  });

  it("keys sent in one burst are keys, Enters and spaces included: a prompt answered and submitted (tui-2 #6)", async () => {
    const { dir, stack } = await threePatches();
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/3 applied/);
    // What tmux send-keys, ssh or a busy TUI deliver as one read: c, a name, Enter, a message with a space, Enter.
    ui.stdin.write("cnewp\rfirst words\r");
    await settle(ui.lastFrame, /created newp/);
    expect(stack.applied()).toEqual(["newp"]);
    expect(read(join(dir, "patches"), "newp")).toContain("first words");
  });

  it("an operation key and q in one burst: the operation runs, then the TUI quits (tui-8 T6)", async () => {
    const { dir, stack } = await threePatches();
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/3 applied/);
    ui.stdin.write("pq");
    const applied = () => JSON.parse(read(dir, ".pq/state.json")).applied.map((a: { name: string }) => a.name);
    for (const until = Date.now() + 10_000; applied().length === 0 && Date.now() < until;) await tick();
    expect(applied()).toEqual(["one"]);
    // Keys behind the running one are still dropped: "ppq" pushes one.
    const again = await threePatches();
    const ui2 = mount(again.stack);
    await settle(ui2.lastFrame, /0\/3 applied/);
    ui2.stdin.write("ppq");
    await new Promise((r) => setTimeout(r, 1500));
    expect(JSON.parse(read(again.dir, ".pq/state.json")).applied.map((a: { name: string }) => a.name)).toEqual(["one"]);
  });

  it("function keys with modifiers, focus reports and a terminal's answers act on nothing and end nothing (tui-8 T19, T20)", async () => {
    // An e read from an answer would open the editor: one that ends at once, so that such a
    // failure shows in the frame instead of waiting on an editor.
    const editors = { EDITOR: process.env.EDITOR, VISUAL: process.env.VISUAL };
    onTestFinished(() => {
      for (const [name, value] of Object.entries(editors)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });
    const { dir, stack } = await threePatches();
    // The editor leaves a mark when it runs: no answer may open it.
    const opened = join(dir, "..", `editor-opened-${Date.now()}`);
    process.env.EDITOR = process.env.VISUAL = `touch ${opened};true`;
    await stack.push();
    const ui = mount(stack);
    await settle(ui.lastFrame, /1\/3 applied/);
    // Shift+F1 (was [ then P: push all), Ctrl+F1 (was a TypeError), focus out (was O: pop all), a colour answer (was ?).
    // And (verify-11) a stray paste-end mark (was [), an X10 mouse report (was !), an OSC answer ended by ESC \ (was b).
    for (const sequence of [
      "\x1b[1;2P",
      "\x1b[1;5P",
      "\x1b[O",
      "\x1b]11;rgb:0000/0000/0000\x07",
      "\x1b[1;2R",
      "\x1b[201~",
      "\x1b[M !!",
      "\x1b]11;rgb:0000/0000/0000\x1b\\",
      // A DCS answer (XTGETTCAP: "TN=xterm"), whose text holds r (refresh) and e (edit).
      "\x1bP1+r544e=787465726d\x1b\\",
      // Alt+Shift+P typed alone: nothing, and the keys after it are keys (below).
      "\x1bP",
    ]) {
      ui.stdin.write(sequence);
      await tick(60);
    }
    ui.stdin.write("p");
    await settle(ui.lastFrame, /now at: two/);
    expect(JSON.parse(read(dir, ".pq/state.json")).applied.map((a: { name: string }) => a.name)).toEqual(["one", "two"]);
    expect(ui.lastFrame()).not.toContain("rename");
    expect(ui.lastFrame()).not.toContain("pq tui keys");
    expect(ui.lastFrame()).not.toContain("new patch name");
    expect(ui.lastFrame()).not.toContain("build.json");
    expect(read(join(dir, "patches"), "series")).toBe("one\ntwo\nthree\n");
    expect(existsSync(opened)).toBe(false);
  });

  it("a key after another pq was killed mid-operation completes that operation and does nothing else (t27 F5)", async () => {
    const { dir, stack } = await threePatches();
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/3 applied/);
    // A push -a killed once its journal is written: the state on disk is still the one the screen shows.
    const killed = spawnSync(process.execPath, [resolve("bin/pq.cjs"), "push", "-a"], {
      cwd: dir,
      env: { ...process.env, PQ_FAILPOINT: "journal-written" },
    });
    expect(killed.signal).toBe("SIGKILL");
    expect(existsSync(join(dir, ".pq", "journal.json"))).toBe(true);
    ui.stdin.write("p");
    await settle(ui.lastFrame, /completed an interrupted operation[\s\S]*the key did nothing else/);
    expect(JSON.parse(read(dir, ".pq/state.json")).applied.map((a: { name: string }) => a.name)).toEqual(["one", "two", "three"]);
    ui.stdin.write("o");
    await settle(ui.lastFrame, /now at: two/);
  });

  it("[[ in one read moves the patch up twice", async () => {
    const { dir, stack } = await threePatches();
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/3 applied/);
    ui.stdin.write("G");
    await tick();
    ui.stdin.write("[[");
    await settle(ui.lastFrame, /1 U three/);
    expect(seriesFile(dir)).toEqual(["three", "one", "two"]);
  });

  it("follows commands run in another terminal, and shows a broken series file as a refusal, not an exit", async () => {
    const { dir, stack } = await threePatches();
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/3 applied/);
    const other = await Stack.open({ tree: dir });
    await other.push({ all: true });
    ui.stdin.write("\x0c");
    await settle(ui.lastFrame, /3\/3 applied/);
    write(join(dir, "patches"), "series", "one\ntwo\nthree\none\n");
    ui.stdin.write("\x0c");
    await settle(ui.lastFrame, /listed twice/);
    write(join(dir, "patches"), "series", "one\ntwo\nthree\n");
    // The series changed since the screen was drawn: the first key brings it up to date.
    ui.stdin.write("o");
    await settle(ui.lastFrame, /changed in another terminal/);
    ui.stdin.write("o");
    await settle(ui.lastFrame, /now at: two/);
  });

  it("a refusal stays on the status line when the poll shows another terminal's change (tui-8 T14)", async () => {
    const { dir, stack } = await threePatches();
    await stack.push();
    write(dir, "a.txt", read(dir, "a.txt") + "mine\n");
    const ui = mount(stack);
    await settle(ui.lastFrame, /1\/3 applied/);
    ui.stdin.write("o");
    await settle(ui.lastFrame, /✗ unrefreshed changes/);
    const other = await Stack.open({ tree: dir });
    await other.setGuards("three", ["+elsewhere"]);
    await settle(ui.lastFrame, /\+elsewhere/, 10_000);
    expect(ui.lastFrame()).toContain("✗ unrefreshed changes");
    ui.stdin.write("!");
    await settle(ui.lastFrame, /the last error/);
  });

  it("keeps the cursor on its patch when another terminal adds a patch above it (tui-8 T22)", async () => {
    const { dir, stack } = await threePatches();
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/3 applied/);
    ui.stdin.write("G");
    await settle(ui.lastFrame, /▶ +3 U three/);
    const other = await Stack.open({ tree: dir });
    await other.newPatch("inserted", { message: "from the shell" });
    await settle(ui.lastFrame, /inserted/, 10_000);
    expect(ui.lastFrame()).toMatch(/▶ +4 U three/);
  });

  it("moves typed in one burst with Enter leave the cursor on the patch the goto went to (t86 N1)", async () => {
    const { stack } = await threePatches();
    await stack.setGuards("two", ["+slow"]);
    await stack.select(["slow"]);
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/3 applied/);
    ui.stdin.write("jj\r");
    await settle(ui.lastFrame, /3\/3 applied/);
    await tick(300);
    expect(ui.lastFrame()).toMatch(/▶> +3 A three/);
    ui.stdin.write("k");
    await settle(ui.lastFrame, /▶ +2 A two/);
  });

  it("a key pressed before the screen showed another terminal's push acts on nothing and brings the screen up to date (tui-8 T3)", async () => {
    const { dir, stack } = await threePatches();
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/3 applied/);
    const other = await Stack.open({ tree: dir });
    await other.push();
    // Before the poll saw it: the screen still says nothing is applied.
    ui.stdin.write("p");
    const refused = await settle(ui.lastFrame, /changed in another terminal since this screen was drawn/);
    expect(refused.replace(/\s+/g, " ")).toContain("since this screen was drawn (the top is one); nothing was done");
    expect(ui.lastFrame()).toMatch(/1\/3 applied/);
    expect(JSON.parse(read(dir, ".pq/state.json")).applied.map((a: { name: string }) => a.name)).toEqual(["one"]);
    ui.stdin.write("p");
    await settle(ui.lastFrame, /now at: two/);
  });

  it("a queue directory outside the tree: another tree's command on it that changes nothing here is no change of this screen's stack (t140 N3)", async () => {
    const queue = tempDir();
    dirs.push(queue);
    const [dir, elsewhere] = [makeRepo({ "a.txt": "a\n" }), makeRepo({ "a.txt": "a\n" })];
    dirs.push(dir, elsewhere);
    const stack = await Stack.init({ tree: dir, queue });
    await stack.newPatch("one", { message: "add one to a" });
    write(dir, "a.txt", "a\none\n");
    await stack.refresh();
    await stack.pop({ all: true });
    const other = await Stack.init({ tree: elsewhere, queue });
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/1 applied/);
    // The other tree's dry run takes the queue directory's lock (made and removed there) and writes nothing.
    await other.push({ all: true, dryRun: true });
    ui.stdin.write("p");
    await settle(ui.lastFrame, /now at: one/);
    expect(ui.lastFrame()).not.toContain("changed in another terminal");
  });

  it("shows, without a key, a change made elsewhere before its first look, and a subject changed elsewhere", async () => {
    const { dir, stack } = await threePatches();
    const ui = mount(stack);
    // Right after the first frame, before the first poll: another pq pushes and rewrites a header.
    const other = await Stack.open({ tree: dir });
    await other.push({ all: true });
    await other.setHeader("one", { ...(await other.patchHeader("one")), subject: "one, renamed elsewhere" });
    await settle(ui.lastFrame, /3\/3 applied/, 10_000);
    await settle(ui.lastFrame, /one, renamed elsewhere/, 10_000);
  });

  it("says a rebase is stopped, and that u of its --continue stopped it again (tui-8 T18)", async () => {
    const dir = makeRepo({ "a.txt": Array.from({ length: 30 }, (_, i) => `l${i + 1}\n`).join("") });
    dirs.push(dir);
    git(dir, "branch", "up");
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("p1");
    write(dir, "a.txt", read(dir, "a.txt").replace("l20\n", "twenty\n"));
    await stack.refresh();
    await stack.pop();
    git(dir, "checkout", "-q", "up");
    write(dir, "a.txt", read(dir, "a.txt").replace("l20\n", "TWENTY\n"));
    git(dir, "commit", "-qam", "upstream");
    git(dir, "checkout", "-q", "-");
    await stack.push();
    const { rebase, continueRebase } = await import("../../src/queue/rebase.js");
    await rebase(stack, { upstream: "up" });
    write(dir, "a.txt", read(dir, "a.txt").replace(/<<<<<<<[\s\S]*?>>>>>>> [^\n]*\n/, "twenty, merged\n"));
    await stack.refresh();
    const ui = mount(stack);
    await settle(ui.lastFrame, /rebase onto up in progress, stopped at p1/);
    await continueRebase(stack);
    ui.stdin.write("\x0c");
    await settle(ui.lastFrame, /1\/1 applied/);
    ui.stdin.write("u");
    await settle(ui.lastFrame, /the rebase is stopped again/);
  });

  it("says what pq status says of patches committed by hand and of a patch applied with fuzz (tui-8 T4)", async () => {
    const { dir, stack } = await threePatches();
    await stack.push({ all: true });
    git(dir, "commit", "-qam", "oops, committed the patches");
    const ui = mount(stack);
    await settle(ui.lastFrame, /HEAD has commits that change a\.txt, as the applied patches do/);
    git(dir, "reset", "-q", "HEAD^");
    await settle(ui.lastFrame, /no unrefreshed changes/, 10_000);
    // A patch whose first context line upstream changed: pushed again, it needs fuzz.
    await stack.pop({ all: true });
    await stack.newPatch("four");
    const twenty = Array.from({ length: 20 }, (_, i) => `l${i + 1}\n`).join("");
    write(dir, "b.txt", twenty);
    git(dir, "add", "b.txt");
    git(dir, "commit", "-qm", "b");
    write(dir, "b.txt", twenty.replace("l10\n", "ten\n"));
    await stack.refresh();
    await stack.pop();
    write(dir, "b.txt", twenty.replace("l7\n", "seven\n"));
    git(dir, "commit", "-qam", "upstream changed line 7");
    await stack.reload();
    ui.stdin.write("\x0c");
    await settle(ui.lastFrame, /0\/4 applied/);
    ui.stdin.write("G");
    await tick();
    ui.stdin.write("\r");
    await settle(ui.lastFrame, /applied only with fuzz: four/, 10_000);
  });

  it("after pq queue switch elsewhere, a push from the TUI refuses instead of mixing the queues", async () => {
    const { dir, stack } = await threePatches();
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/3 applied/);
    const { createQueue, switchQueue } = await import("../../src/queue/queues.js");
    const other = await Stack.open({ tree: dir });
    await createQueue(other, "other");
    await switchQueue(other, "other");
    ui.stdin.write("p");
    const frame = await settle(ui.lastFrame, /active queue is now/);
    const state = JSON.parse(read(dir, ".pq/state.json"));
    expect(state.applied).toEqual([]);
    // The rows are as last read, and said so; the tree's status, which may be another queue's, is not shown (tui-22 F4).
    expect(frame).toContain("as last read: 0/3 applied (the stack cannot be read now: see below)");
    expect(frame).not.toMatch(/no unrefreshed changes|unrefreshed:/);
  });

  it("c goes through when another terminal changed the stack while its name and message were typed (t54 N6)", async () => {
    const { dir, stack, ui } = await atMessagePrompt("fromtui");
    // Meanwhile, in another terminal: a push.
    await (await Stack.open({ tree: dir })).push();
    await answer(ui, "typed message");
    await settle(ui.lastFrame, /created fromtui/);
    expect(JSON.parse(read(dir, ".pq/state.json")).applied.map((a: { name: string }) => a.name)).toEqual(["one", "fromtui"]);
    expect(read(join(dir, "patches"), "fromtui")).toContain("typed message");
  });

  it("p with nothing to push says why as pq push does: every patch applied (t54 N7's aside)", async () => {
    const { stack } = await threePatches();
    await stack.push({ all: true });
    const ui = mount(stack);
    await settle(ui.lastFrame, /3\/3 applied/);
    ui.stdin.write("p");
    await settle(ui.lastFrame, /nothing to push: every patch is applied \(top: three\)/);
  });

  it("c keeps its typed message in a file when the create is refused for a reason that arose meanwhile (t57 N4)", async () => {
    const { dir, stack, ui } = await atMessagePrompt("fromtui");
    // Meanwhile, in another terminal: a patch of that name.
    await (await Stack.open({ tree: dir })).newPatch("fromtui");
    await answer(ui, "typed message kept");
    const frame = await settle(ui.lastFrame, /your text is saved in/);
    const saved = /your text is saved in (\S+?\.txt)/.exec(frame.replace(/\n\s*/g, ""))?.[1];
    expect(saved && readFileSync(saved, "utf8")).toBe("typed message kept");
  });

  it("C while the series cannot be read ends its job: C after the series is back runs, not 'busy' (t57 N14)", async () => {
    const { dir, stack } = await threePatches();
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/3 applied/);
    const putBack = seriesAsDirectory(dir);
    ui.stdin.write("C");
    await settle(ui.lastFrame, /stopped: /);
    putBack();
    ui.stdin.write("C");
    // This tree has no build.json: the second run is refused for that, not as a job still running.
    const frame = await settle(ui.lastFrame, /build\.json/);
    expect(frame).not.toContain("busy: a build, boot or ci run is still going");
  });

  it("an applied patch whose series line was deleted: the title and the series pane count the rows there are (t54 N8, t59 N3)", async () => {
    const { dir, stack } = await threePatches();
    await stack.push({ all: true });
    writeFileSync(join(dir, "patches", "series"), "one\nthree\n");
    const ui = mount(stack);
    const frame = await settle(ui.lastFrame, /2\/2 applied \(\+1 not in the series\)/);
    expect(frame).toContain("series 2/2");
    await settle(ui.lastFrame, /two is applied, but the series no longer lists it/);
  });

  it("refuses an operation key while the series file cannot be read, and says why as pq does (t54 N3)", async () => {
    const { dir, stack } = await threePatches();
    await stack.push({ all: true });
    const ui = mount(stack);
    await settle(ui.lastFrame, /3\/3 applied/);
    // The series replaced by a directory: a pop had gone ahead unseen, the screen keeping the old stack.
    const putBack = seriesAsDirectory(dir);
    ui.stdin.write("O");
    const frame = await settle(ui.lastFrame, /nothing was done: the stack cannot be read now/);
    expect(frame).toContain("a directory stands where pq reads or writes a file");
    expect(frame).not.toContain("EISDIR: illegal operation");
    expect(JSON.parse(read(dir, ".pq/state.json")).applied).toHaveLength(3);
    // Put back: the screen is brought up to date first (the stale-screen rule), then the key acts.
    putBack();
    ui.stdin.write("O");
    await settle(ui.lastFrame, /press the key again|0\/3 applied/);
    if (JSON.parse(read(dir, ".pq/state.json")).applied.length) ui.stdin.write("O");
    await settle(ui.lastFrame, /0\/3 applied/);
    expect(JSON.parse(read(dir, ".pq/state.json")).applied).toEqual([]);
  });

  it("shows control characters of a patch in caret notation, never raw", async () => {
    const { stack } = await onePatch("evil", "a\nrm -rf ~ # evil\rok\n\x1b]0;title\x07tail\n");
    const ui = mount(stack);
    const frame = await settle(ui.lastFrame, /\^M/);
    expect(frame).toContain("rm -rf ~ # evil^Mok");
    expect(frame).toContain("^[]0;title^Gtail");
    expect(frame).not.toContain("\x1b]0");
  });

  it("shows a subject (and an author) with escape sequences in caret notation in the list too (tui-8 T11)", async () => {
    const dir = makeRepo({ "a.txt": "a\n" });
    dirs.push(dir);
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("hidden", { message: "shown \x1b[8mconcealed\x07" });
    await stack.setHeader("hidden", { ...(await stack.patchHeader("hidden")), author: "Mallory \x1b[7m <mallory@example.org>" });
    const ui = mount(stack);
    const frame = await settle(ui.lastFrame, /shown \^\[\[8mconcealed\^G/);
    expect(frame).not.toContain("\x1b[8m");
    expect(frame).not.toContain("\x07");
  });
});

describe("pq tui and an operation killed in another terminal", () => {
  it("says on the status line that it completed it and where edits made since were saved", async () => {
    const { spawnSync } = await import("node:child_process");
    const { resolve } = await import("node:path");
    const { dir, stack } = await threePatches();
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/3 applied/);
    const killed = spawnSync(process.execPath, [resolve("bin/pq.js"), "push"], {
      cwd: dir,
      env: { ...process.env, PQ_FAILPOINT: "journal-written" },
    });
    expect(killed.signal).toBe("SIGKILL");
    write(dir, "a.txt", "a\nmy edit\n");
    ui.stdin.write("p");
    const frame = await settle(ui.lastFrame, /completed an interrupted operation/);
    expect(frame).toMatch(/saved in/);
    // Said as a warning, not a ✓ (t97 N3), and the next key is not refused for it again.
    expect(frame).not.toMatch(/✓ completed an interrupted operation/);
    expect(existsSync(join(dir, ".pq/backups"))).toBe(true);
    ui.stdin.write("o");
    await settle(ui.lastFrame, /0\/3 applied/);
  });
});

describe("pq tui help in the smallest terminal it draws in (tui-22 F6)", () => {
  it("pages several lines at a time: the help takes the status lines' rows too", async () => {
    const { stack } = await threePatches();
    const ui = mount(stack);
    Object.defineProperty(ui.stdout, "columns", { value: 30, configurable: true });
    Object.defineProperty(ui.stdout, "rows", { value: 11, configurable: true });
    ui.stdout.emit("resize");
    await settle(ui.lastFrame, /0\/3/);
    ui.stdin.write("?");
    const frame = await settle(ui.lastFrame, /lines 1-/);
    // Five lines of keys a page (one, with the status lines kept under the panes).
    expect(Number(/lines 1-(\d+) of/.exec(frame)![1])).toBeGreaterThanOrEqual(5);
  });
});

describe("a stopped rebase ended in another terminal (t73 N2)", () => {
  it("leaves the status line once the poll sees its record gone", async () => {
    const dir = makeRepo({ "a.c": "a 1\na 2\na 3\n" });
    dirs.push(dir);
    git(dir, "checkout", "-q", "-b", "upstream");
    write(dir, "a.c", "a 1\na UP\na 3\n");
    git(dir, "commit", "-qam", "upstream");
    git(dir, "checkout", "-q", "main");
    expect((await pq(dir, "init")).code).toBe(0);
    await pq(dir, "new", "pa", "-m", "pa");
    write(dir, "a.c", "a 1\na mine\na 3\n");
    await pq(dir, "refresh");
    expect((await pq(dir, "rebase", "upstream")).code).toBe(6);
    write(dir, "a.c", "a 1\na mine, over UP\na 3\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    const ui = mount(await Stack.open({ tree: dir }));
    await settle(ui.lastFrame, /rebase onto upstream in progress/);
    expect((await pq(dir, "rebase", "--continue")).code).toBe(0);
    // The --continue changed neither the series nor what is applied: only the rebase's record went.
    const until = Date.now() + 15_000;
    while (/rebase onto upstream in progress/.test(ui.lastFrame() ?? "") && Date.now() < until) await tick(50);
    expect(ui.lastFrame()).not.toMatch(/rebase onto upstream in progress/);
  }, 30_000);
});

describe("a message on the status line (t86 N2)", () => {
  it("wraps at spaces with an indent, as a refusal does: a patch name is never split", async () => {
    const { stack } = await threePatches();
    const name = "a-patch-name-of-forty-five-characters-exactly";
    const ui = mount(stack);
    await settle(ui.lastFrame, /0\/3 applied/);
    const frame = await newPatchByKeys(ui, name);
    // "✓ created NAME ... now at: NAME" is wider than the 100 columns: both names whole, the second on an indented line.
    expect(frame.split(name).length - 1, frame).toBeGreaterThanOrEqual(3);
    expect(frame).toMatch(new RegExp(`^ {2}${name}`, "m"));
  });
});
