import { render } from "ink-testing-library";
import { Stack } from "../../src/queue/stack.js";
import { seriesRepo } from "../helpers/series.mjs";

/** Waits until the last frame matches (ink renders asynchronously); fails with the screen. */
export async function settle(frame: () => string | undefined, want: RegExp, ms = 15_000): Promise<string> {
  const until = Date.now() + ms;
  for (;;) {
    const f = frame() ?? "";
    if (want.test(f)) return f;
    if (Date.now() > until) throw new Error(`the screen never showed ${want}:\n${f}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

export const tick = (ms = 40) => new Promise((r) => setTimeout(r, ms));

export const KEY = {
  down: "\x1b[B",
  up: "\x1b[A",
  pgdn: "\x1b[6~",
  pgup: "\x1b[5~",
  home: "\x1b[H",
  end: "\x1b[F",
  enter: "\r",
  tab: "\t",
  esc: "\x1b",
  backspace: "\x7f",
};

/** A generated series of `count` patches with a stack on it, pushed up to `top`. */
export async function seriesStack(count: number, top: number): Promise<{ dir: string; stack: Stack }> {
  const dir = seriesRepo(count);
  const stack = await Stack.init({ tree: dir });
  if (top) await stack.push({ target: top });
  return { dir, stack };
}

export type Ui = ReturnType<typeof render>;

/** Types text into a prompt, one chunk like a paste, then Enter. */
export async function answer(ui: Ui, text: string): Promise<void> {
  await tick();
  if (text) ui.stdin.write(text);
  await tick();
  ui.stdin.write("\r");
}
