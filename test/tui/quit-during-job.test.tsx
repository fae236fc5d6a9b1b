/**
 * q drops the operations queued behind the running one: a build, boot or ci run started with
 * `b` or `C` runs in the same queue, and counts as running (t54 N1: a pop pressed during a
 * build, then q, popped after the build ended, and the TUI quit after it).
 */
import React, { useRef, type MutableRefObject } from "react";
import { Text } from "ink";
import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import { useStack } from "../../src/tui/use-stack.js";
import { Stack } from "../../src/queue/stack.js";
import { cleanup, makeRepo } from "../helpers/repo.js";

type Api = ReturnType<typeof useStack>;

function Probe({ stack, api }: { stack: Stack; api: MutableRefObject<Api | null> }) {
  const hooks = useStack(stack);
  const ref = useRef(api);
  ref.current.current = hooks;
  return <Text>{hooks.view.busy ?? "idle"}</Text>;
}

describe("q while a build runs in the operations' queue", () => {
  it("drops the operation queued behind the build, and says it quits when the build ends", async () => {
    const dir = makeRepo({ "a.txt": "a\n" });
    try {
      const stack = await Stack.init({ tree: dir });
      const api: MutableRefObject<Api | null> = { current: null };
      const ui = render(<Probe stack={stack} api={api} />);
      let buildEnded = false;
      let opRan = false;
      const build = api.current!.inTurn(() => new Promise<string>((done) => setTimeout(() => ((buildEnded = true), done("built")), 300)));
      await new Promise((r) => setTimeout(r, 50));
      expect(api.current!.running()).toBe(true);
      void api.current!.run("pop", async () => {
        opRan = true;
        return "popped";
      });
      // A second build (b) or ci (C) pressed behind it: dropped too (t57 N1).
      let secondRan = false;
      const second = api.current!.inTurn(async () => {
        secondRan = true;
        return "built again";
      });
      const dropped = await api.current!.quit();
      expect(await build).toBe("built");
      expect(buildEnded).toBe(true);
      expect(opRan).toBe(false);
      expect(await second).toBeNull();
      expect(secondRan).toBe(false);
      expect(dropped).toBe(1);
      ui.unmount();
    } finally {
      cleanup(dir);
    }
  });
});
