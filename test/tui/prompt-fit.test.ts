import { describe, expect, it } from "vitest";
import type { Key } from "ink";
import { fitPrompt, promptKey, type PromptState } from "../../src/tui/prompt.js";
import { cellWidth } from "../../src/tui/cells.js";

const long = "this-is-a-really-long-patch-name-that-goes-on-and-on-past-the-width-of-any-terminal.patch";

describe("a prompt on one line", () => {
  it("keeps the input visible: a long label is cut in its middle, a long input shows its end", () => {
    expect(fitPrompt("new patch name:", "fix", 80)).toEqual({ label: "new patch name:", value: "fix" });
    const rename = fitPrompt(`rename ${long} to:`, long.replace(".patch", "-2.patch"), 60);
    expect(rename.value.endsWith("-2.patch")).toBe(true);
    expect([...rename.label].length + [...rename.value].length).toBeLessThanOrEqual(58);
    expect(rename.label.startsWith("rename")).toBe(true);
    const typed = fitPrompt(`delete ${long}? y to confirm:`, "y", 60);
    expect(typed.value).toBe("y");
    expect(typed.label.endsWith("y to confirm:")).toBe(true);
    expect([...typed.label].length + 1).toBeLessThanOrEqual(58);
  });
});

describe("a prompt holding wide (CJK) characters (t57 N12)", () => {
  it("is fitted by terminal cells: the end of the input, where typing happens, stays on the line", () => {
    const typed = "日本語のテキスト".repeat(8) + "END";
    const fit = fitPrompt("message for wide:", typed, 100);
    expect(fit.value.endsWith("END")).toBe(true);
    expect(cellWidth(fit.label) + 1 + cellWidth(fit.value) + 1).toBeLessThanOrEqual(100);
    const label = fitPrompt(`rename ${"名前".repeat(40)} to:`, "x", 40);
    expect(cellWidth(label.label) + 1 + cellWidth(label.value) + 1).toBeLessThanOrEqual(40);
  });
});

describe("editing a prompt's line", () => {
  it("moves with the arrows, Home/End and ctrl-a/ctrl-e, types at the cursor, deletes before it, ctrl-w a word", () => {
    const state: PromptState = { spec: { label: "message:", onSubmit: () => {} }, value: "" };
    const key = (flags: Partial<Key> = {}) => flags as Key;
    for (const ch of "Hello wrld") promptKey(state, ch, key());
    for (let i = 0; i < 3; i++) promptKey(state, "", key({ leftArrow: true }));
    promptKey(state, "o", key());
    expect(state.value).toBe("Hello world");
    promptKey(state, "a", key({ ctrl: true }));
    promptKey(state, "¡", key());
    promptKey(state, "", key({ end: true }));
    promptKey(state, "!", key());
    expect(state.value).toBe("¡Hello world!");
    promptKey(state, "", key({ backspace: true }));
    promptKey(state, "w", key({ ctrl: true }));
    expect(state.value).toBe("¡Hello ");
    promptKey(state, "", key({ home: true }));
    promptKey(state, "", key({ rightArrow: true }));
    promptKey(state, "", key({ delete: true }));
    expect([state.value, state.cursor]).toEqual(["Hello ", 0]);
    expect(promptKey(state, "", key({ return: true }))).toBe("submit");
  });
});
