/**
 * How alike a deleted and a created file are as one file moved: what refresh and sync pair as a
 * rename (git's rename detection's 50%), and what they must not (t52 N4, N7).
 */
import { describe, expect, it } from "vitest";
import { bestMove, moveSimilarity, pairMoves, sameFileMoved } from "../../src/patch/index.js";

const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag} ${i + 1}\n`).join("");

describe("moveSimilarity", () => {
  it("counts the lines that say something: braces and blank lines make no two files one", () => {
    const a = "int a(void)\n{\n}\n\n\n}\n";
    const b = "int b(void)\n{\n}\n\n\n}\n";
    expect(sameFileMoved(a, b)).toBe(false);
    expect(sameFileMoved(lines(10, "x"), lines(10, "x").replace("x 3\n", "three\n"))).toBe(true);
  });

  it("pairs a move that changed line endings, the same binary bytes and two empty files; never other binary files", () => {
    expect(moveSimilarity(lines(10, "x"), lines(10, "x").replaceAll("\n", "\r\n"))).toBe(1);
    expect(moveSimilarity("\0bin\0", "\0bin\0")).toBe(1);
    expect(moveSimilarity("", "")).toBe(1);
    expect(moveSimilarity("\0bin\0 1", "\0bin\0 2")).toBe(0);
  });

  it("takes the one best candidate, none on a tie", () => {
    const was = lines(10, "x");
    const texts: Record<string, string> = { near: was.replace("x 1\n", "one\n"), exact: was, other: lines(10, "y") };
    expect(bestMove(was, Object.keys(texts), (c) => texts[c])).toBe("exact");
    expect(bestMove(was, ["exact", "twin"], (c) => (c === "twin" ? was : texts[c]))).toBeNull();
  });
});

describe("pairMoves", () => {
  it("pairs the most alike first: a 70% match does not take the file another one is 100% like (t52 N5)", () => {
    const f2 = lines(10, "x");
    const f1 = lines(10, "x").replace("x 1\n", "a\n").replace("x 2\n", "b\n").replace("x 3\n", "c\n");
    const texts: Record<string, string> = { f1, f2, g: f2 };
    expect(
      pairMoves(
        ["f1", "f2"],
        ["g"],
        (n) => texts[n],
        (n) => texts[n],
      ),
    ).toEqual([["f2", "g"]]);
  });
});
