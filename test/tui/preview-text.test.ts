import { describe, expect, it } from "vitest";
import { asUtf8 } from "../../src/tui/use-preview.js";
import { fit, printable } from "../../src/tui/cells.js";

const bytes = (text: string) => Buffer.from(text, "utf8").toString("latin1");

describe("the preview's text", () => {
  it("shows a line of UTF-8 bytes as its characters, any other line byte for byte, control characters in caret notation", () => {
    expect(asUtf8(bytes("+naïve café 日本"))).toBe("+naïve café 日本");
    expect(asUtf8("+caf\xe9 in latin1")).toBe("+caf\xe9 in latin1");
    expect(asUtf8("+plain")).toBe("+plain");
    expect(printable(asUtf8(bytes("+é\x1b[2J")))).toBe("+é^[[2J");
  });
});

describe("the preview of a huge patch (tui-8 T12)", () => {
  it("shows its first 20,000 diff lines and says where the rest is", async () => {
    const { loadPreview } = await import("../../src/tui/use-preview.js");
    const { Stack } = await import("../../src/queue/stack.js");
    const { cleanup, makeRepo, write } = await import("../helpers/repo.js");
    const dir = makeRepo({ "a.txt": "a\n" });
    try {
      const stack = await Stack.init({ tree: dir });
      await stack.newPatch("huge", { message: "a generated file" });
      write(dir, "gen.txt", Array.from({ length: 30_000 }, (_, i) => `generated line ${i}\n`).join(""));
      await stack.add(["gen.txt"]);
      await stack.refresh();
      for (const applied of [true, false]) {
        if (!applied) await stack.pop();
        const lines = await loadPreview(stack, "huge", { applied, isTop: applied, pending: 0, width: 80 });
        expect(lines.length).toBeLessThan(20_100);
        expect(
          lines.some((l) => /the diff has 3000\d lines: the preview shows the first 20000 \(pq show huge shows it whole\)/.test(l.text)),
        ).toBe(true);
        expect(lines.at(-1)!.text).toMatch(/cut at line 20000 of 3000\d/);
      }
      // The top with an unrefreshed edit: too long to rebuild, and said so (t54 N5: the edit was neither shown nor mentioned).
      await stack.push();
      write(dir, "gen.txt", Array.from({ length: 30_000 }, (_, i) => `generated line ${i === 3 ? "three" : i}\n`).join(""));
      const edited = await loadPreview(stack, "huge", { applied: true, isTop: true, pending: 1, width: 80 });
      expect(edited.some((l) => l.text.includes("its unrefreshed edits are not shown (pq diff shows them; r takes them)"))).toBe(true);
    } finally {
      cleanup(dir);
    }
  });
});

describe("characters whose width ink, terminals and pq measure apart (t73 N1)", () => {
  it("are shown as ones every measure agrees on, so a fitted row is exactly its width by ink's measure too", async () => {
    const { default: stringWidth } = await import("string-width");
    const risky = [
      "\u{1f1e6}\u{1f1e7}\u{1f1e6}\u{1f1e7} no flag",
      "\u2764\ufe0f heart",
      "zero\u200bwidth\u2060joiner",
      "\u202eevil\u202c order",
      "\u{1f468}\u200d\u{1f469}\u200d\u{1f467} family",
      "\u{1f44d}\u{1f3fd} skin tone",
      "\u3164 filler",
      "\u{1f3f4}\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f} tags",
    ];
    for (const text of risky) for (const width of [5, 12, 40]) expect(stringWidth(fit(text, width)), `${text} in ${width}`).toBe(width);
    expect(printable("\u{1f1e6}\u{1f1e7}")).toBe("AB");
    expect(printable("\u202eevil")).toBe("?evil");
  });
});
