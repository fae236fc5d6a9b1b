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
