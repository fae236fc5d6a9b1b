import { describe, expect, it } from "vitest";
import { asUtf8 } from "../../src/tui/use-preview.js";
import { printable } from "../../src/tui/cells.js";

const bytes = (text: string) => Buffer.from(text, "utf8").toString("latin1");

describe("the preview's text", () => {
  it("shows a line of UTF-8 bytes as its characters, any other line byte for byte, control characters in caret notation", () => {
    expect(asUtf8(bytes("+naïve café 日本"))).toBe("+naïve café 日本");
    expect(asUtf8("+caf\xe9 in latin1")).toBe("+caf\xe9 in latin1");
    expect(asUtf8("+plain")).toBe("+plain");
    expect(printable(asUtf8(bytes("+é\x1b[2J")))).toBe("+é^[[2J");
  });
});
