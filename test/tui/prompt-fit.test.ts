import { describe, expect, it } from "vitest";
import { fitPrompt } from "../../src/tui/prompt.js";

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
