import { describe, expect, it } from "vitest";
import { editText } from "../../src/tui/actions.js";
import { commentCharFor, withoutCommentLines } from "../../src/core/comment-lines.js";

describe("a message given to $EDITOR from the TUI (e)", () => {
  it("comes back as it was when saved unchanged, its own # lines included (t54 N4)", () => {
    const message = "Subject here\n\nThe fix:\n#define FOO 1 is needed\n#123 is the bug report\nend";
    // `true` exits at once: the file is saved as pq wrote it.
    expect(editText(message, (fn) => fn(), { EDITOR: "true" })).toBe(message);
    expect(editText("plain subject\n\nbody", (fn) => fn(), { EDITOR: "true" })).toBe("plain subject\n\nbody");
  });

  it("picks the comment character as git's commentChar=auto does", () => {
    expect(commentCharFor("a\nb")).toBe("#");
    expect(commentCharFor("#x\n;y\n@z")).toBe("!");
    expect(withoutCommentLines("keep\n; drop\n#keep", ";")).toBe("keep\n#keep");
    // Every candidate taken by a line of the message: no comment lines, none of the message's dropped (t57 N3).
    const every = ["#", ";", "@", "!", "$", "%", "^", "&", "|", ":"].map((c) => `${c} line`).join("\n");
    expect(commentCharFor(every)).toBeNull();
    expect(editText(`subject\n\n${every}`, (fn) => fn(), { EDITOR: "true" })).toBe(`subject\n\n${every}`);
  });
});

describe("a refused message's text, kept in a file (t58 N2)", () => {
  it("is written new, readable by its owner alone, in a directory of its own", async () => {
    const { statSync, readFileSync } = await import("node:fs");
    const { dirname } = await import("node:path");
    const { withTextSaved } = await import("../../src/core/refused-text.js");
    const { PqError } = await import("../../src/errors.js");
    const e = withTextSaved(new PqError("refused", "no"), "private words") as InstanceType<typeof PqError>;
    const saved = /your text is saved in (\S+)/.exec(e.details[0])![1];
    expect(readFileSync(saved, "utf8")).toBe("private words");
    expect(statSync(saved).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(saved)).mode & 0o777).toBe(0o700);
  });
});
