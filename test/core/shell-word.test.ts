/**
 * Names in the commands pq suggests: quoted as a shell reads them back, and after `--` where one
 * starts with a dash (t119 N11, t125 N5), so that the advice works typed word for word.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { operandList, operandWords, shellWord } from "../../src/core/shell-word.js";

/** The words a POSIX shell makes of a command line. */
const wordsOf = (line: string): string[] =>
  JSON.parse(execFileSync("sh", ["-c", `node -e 'console.log(JSON.stringify(process.argv.slice(1)))' -- ${line}`], { encoding: "utf8" }));

describe("names in suggested commands", () => {
  it("read back as the same words, with -- before a dash", () => {
    for (const name of ["plain.patch", "-dash", "my file", "it's", "$HOME", 'a"b']) expect(wordsOf(shellWord(name))).toEqual([name]);
    expect(operandWords("-dash")).toBe("-- -dash");
    expect(operandWords("x86/fix.patch")).toBe("x86/fix.patch");
    expect(operandList(["a.c", "-f", "my file"])).toBe("-- a.c -f 'my file'");
    expect(wordsOf(operandList(["a.c", "-f", "my file"]))).toEqual(["--", "a.c", "-f", "my file"]);
    expect(operandList(["a.c", "b.c"])).toBe("a.c b.c");
  });
});
