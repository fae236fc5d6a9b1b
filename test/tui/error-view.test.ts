import { describe, expect, it } from "vitest";
import { PqError } from "../../src/errors.js";
import { errorView } from "../../src/tui/error-view.js";

describe("the TUI's error view", () => {
  it("names the file and hunk of a patch that does not apply", () => {
    const view = errorView(new PqError("apply-failed", "p1.patch does not apply", [], { patch: "p1.patch", file: "a.c", hunk: 2 }));
    expect(view.details[0]).toBe("a.c hunk #2 does not apply");
  });

  it("says nothing of the kind for other errors that name a file (t37 N2)", () => {
    const swapped = new PqError("unsafe-path", "w/w.c was not written: it goes through the symlink w", [], { file: "w/w.c", symlink: "w" });
    expect(errorView(swapped).details.join("\n")).not.toContain("does not apply");
    const system = new PqError("system", "push p1 was refused while writing the tree", [], { file: "/t/w/w.c" });
    expect(errorView(system).details.join("\n")).not.toContain("does not apply");
  });
});
