import React from "react";
import { render } from "ink";
import type { Stack } from "../queue/stack.js";
import { App } from "./app.js";

export async function runTui(stack: Stack): Promise<void> {
  const app = render(<App stack={stack} />);
  await app.waitUntilExit();
}
