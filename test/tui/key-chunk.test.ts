import { describe, expect, it } from "vitest";
import { pastedLine, splitChunk } from "../../src/tui/key-chunk.js";

describe("a chunk of keys split as the terminal sent them", () => {
  it("splits brackets, letters and escape sequences one key each", () => {
    expect(splitChunk("[[").map(([k]) => k)).toEqual(["[", "["]);
    expect(splitChunk("G[").map(([k]) => k)).toEqual(["G", "["]);
    const keys = splitChunk("j\x1b[Ak\x1b[6~");
    expect(keys.map(([k]) => k)).toEqual(["j", "", "k", ""]);
    expect(keys[1][1].upArrow).toBe(true);
    expect(keys[3][1].pageDown).toBe(true);
    expect(splitChunk("j\r")[1][1].return).toBe(true);
    // A mouse report stays whole, as its text.
    expect(splitChunk("j\x1b[<64;10;5M").map(([k]) => k)).toEqual(["j", "[<64;10;5M"]);
  });

  it("keeps a character outside the BMP (an emoji) as one key", () => {
    expect(splitChunk("🚀")).toEqual([["🚀", {}]]);
    expect(splitChunk("a😀b").map(([k]) => k)).toEqual(["a", "😀", "b"]);
  });

  it("makes pasted text one line for a prompt", () => {
    expect(pastedLine("Fix it\r\n\r\nbody\x07 text\n")).toBe("Fix it  body text");
    // A tab is whitespace too (t57 N11: it was dropped, gluing the words on each side).
    expect(pastedLine("col1\tcol2\tend")).toBe("col1 col2 end");
  });
});

describe("series columns in terminal cells", () => {
  it("wraps text at spaces by cells, a word wider than a line inside it", async () => {
    const { wrapCells, cellWidth } = await import("../../src/tui/cells.js");
    expect(wrapCells("one two three four", 9)).toEqual(["one two", "three", "four"]);
    expect(wrapCells("one two three four", 9, "  ")).toEqual(["one two", "  three", "  four"]);
    expect(wrapCells("abcdefghijkl", 5)).toEqual(["abcde", "fghij", "kl"]);
    expect(wrapCells("名前名前 x", 5)).toEqual(["名前", "名前", "x"]);
    expect(wrapCells("", 5)).toEqual([""]);
    for (const line of wrapCells("a b ".repeat(50) + "名".repeat(30), 7, " ")) expect(cellWidth(line)).toBeLessThanOrEqual(7);
  });

  it("pads and cuts wide characters by the cells they take", async () => {
    const { fit } = await import("../../src/tui/cells.js");
    expect(fit("ünï-名前", 10)).toBe("ünï-名前  ");
    expect(fit("名前名前名前", 7)).toBe("名前名…");
    expect(fit("名前名前名前", 8)).toBe("名前名… ");
    expect(fit("plain", 3)).toBe("pl…");
    expect(fit("ab", 4)).toBe("ab  ");
    // Control characters in caret notation, a tab as a space (a subject or author from a mail: tui-8 T11).
    expect(fit("Mallory \x1b[7m\x07\tx", 20)).toBe("Mallory ^[[7m^G x   ");
  });
});

describe("escape sequences pq does not use (tui-8 T19, T20)", () => {
  it("are keys that do nothing, whole: function keys with modifiers, focus reports, a terminal's answers", () => {
    for (const sequence of [
      "\x1b[1;2P",
      "\x1b[1;5P",
      "\x1b[1;2Q",
      "\x1b[15;2~",
      "\x1b[O",
      "\x1b[I",
      "\x1b[G",
      "\x1b[?1;2c",
      "\x1b]11;rgb:0000/0000/0000\x07",
      "\x1bP1$r0m\x1b\\",
    ]) {
      const keys = splitChunk(sequence);
      expect(keys, JSON.stringify(sequence)).toHaveLength(1);
      expect(keys[0][0], JSON.stringify(sequence)).toBe("");
    }
    // Between keys: the keys around it stay keys.
    expect(splitChunk("j\x1b[1;2Pk").map(([input]) => input)).toEqual(["j", "", "k"]);
    expect(splitChunk("\x1b[200~").map(([input]) => input)).toEqual(["[200~"]);
  });
});
