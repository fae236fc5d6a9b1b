import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { createFilePatch } from "../../src/patch/index.js";
import { cleanup, tempDir, write } from "../helpers/repo.js";

/** git writes a heading after each hunk's @@ (the enclosing function, by its default rule): so does pq. */
describe("hunk headings", () => {
  it("are git's: the nearest line above the hunk starting with a letter, '_' or '$', cut at 80 bytes", () => {
    const long = `static int ${"a_really_long_function_name_".repeat(4)}(void)   `;
    const before = [
      "#include <stdio.h>",
      "",
      "int first(void)",
      "{",
      ...Array.from({ length: 10 }, (_, i) => `\tint x${i} = ${i};`),
      "\treturn 0;",
      "}",
      "",
      long,
      "{",
      ...Array.from({ length: 10 }, (_, i) => `\tint y${i} = ${i};`),
      "\treturn 1;",
      "}",
      "",
    ].join("\n");
    const after = before.replace("int x7 = 7;", "int x7 = 77;").replace("int y8 = 8;", "int y8 = 88;");
    const dir = tempDir("pq-heading-");
    try {
      write(dir, "a/f.c", before);
      write(dir, "b/f.c", after);
      const git = spawnSync("git", ["diff", "--no-index", "a/f.c", "b/f.c"], { cwd: dir, encoding: "utf8" }).stdout;
      const ours = createFilePatch({ oldPath: "f.c", newPath: "f.c", oldContent: before, newContent: after });
      const headings = (text: string) => text.split("\n").filter((l) => l.startsWith("@@"));
      expect(headings(git)).toHaveLength(2);
      expect(headings(ours)).toEqual(headings(git));
    } finally {
      cleanup(dir);
    }
  });
});
