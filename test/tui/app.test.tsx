import React from "react";
import { render } from "ink-testing-library";
import { afterEach, describe, expect, it } from "vitest";
import { Stack } from "../../src/queue/stack.js";
import { App } from "../../src/tui/app.js";
import { cleanup, makeRepo, read, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

const settle = async (frame: () => string | undefined, want: RegExp) => {
  for (let i = 0; i < 100; i++) {
    if (want.test(frame() ?? "")) return frame()!;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the screen never showed ${want}:\n${frame()}`);
};

describe("pq tui", () => {
  it("shows the series and drives push, pop, goto and refresh from keys", async () => {
    const dir = makeRepo({ "a.txt": "a\n" });
    dirs.push(dir);
    const stack = await Stack.init({ tree: dir });
    for (const n of ["one", "two", "three"]) {
      await stack.newPatch(n);
      write(dir, "a.txt", read(dir, "a.txt") + `${n}\n`);
      await stack.refresh();
    }
    await stack.pop({ all: true });

    const ui = render(<App stack={stack} />);
    let frame = await settle(ui.lastFrame, /3 unapplied/);
    expect(frame).toMatch(/1 U one/);

    ui.stdin.write("p");
    frame = await settle(ui.lastFrame, /now at: one/);
    expect(frame).toMatch(/1 A one/);
    expect(stack.applied()).toEqual(["one"]);

    // Cursor down twice and enter: goto three.
    ui.stdin.write("j");
    ui.stdin.write("j");
    await new Promise((r) => setTimeout(r, 50));
    ui.stdin.write("\r");
    frame = await settle(ui.lastFrame, /3 applied/);
    expect(read(dir, "a.txt")).toBe("a\none\ntwo\nthree\n");

    write(dir, "a.txt", "a\none\ntwo\nthree\nmore\n");
    ui.stdin.write("g");
    frame = await settle(ui.lastFrame, /unrefreshed: a\.txt/);
    ui.stdin.write("r");
    frame = await settle(ui.lastFrame, /refreshed three: a\.txt/);

    ui.stdin.write("O");
    frame = await settle(ui.lastFrame, /queue empty/);
    expect(read(dir, "a.txt")).toBe("a\n");
    ui.unmount();
  });

  it("shows a refusal as an error and changes nothing", async () => {
    const dir = makeRepo({ "a.txt": "a\n" });
    dirs.push(dir);
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("p");
    write(dir, "a.txt", "b\n");
    await stack.refresh();
    write(dir, "a.txt", "edited, not refreshed\n");
    const ui = render(<App stack={stack} />);
    await settle(ui.lastFrame, /1 applied/);
    ui.stdin.write("o");
    const frame = await settle(ui.lastFrame, /unrefreshed changes in 1 file/);
    expect(frame).toContain("pq refresh to keep them");
    expect(read(dir, "a.txt")).toBe("edited, not refreshed\n");
    ui.unmount();
  });
});
