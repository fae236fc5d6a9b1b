/**
 * A failed build's log tail: gcc's notes kept with their error (an interaction of two patches
 * shows both), and an error repeated for each file including a header said once (t85 N3).
 */
import { describe, expect, it } from "vitest";
import { parseDiagnostics } from "../../src/build/index.js";
import { errorLines } from "../../src/ci/evaluate.js";

describe("the errors of a failed build, as ci's log tail shows them", () => {
  it("keep the notes after each error, drop warnings, and say a repeated line once with its count", () => {
    const unit = (file: string) =>
      [
        `In file included from ${file}:3:`,
        `include/xen/interface.h:63:26: error: macro "xen_init_events" passed 1 arguments, but takes just 0`,
        `include/asm/paravirt.h:3: note: macro "xen_init_events" defined here`,
        `${file}:10:5: warning: unused variable 'x' [-Wunused-variable]`,
        `include/asm/paravirt.h:3: note: a note of the warning's`,
      ].join("\n");
    const log = [unit("kernel/a.c"), unit("kernel/b.c"), "kernel/c.c:192:2: error: implicit declaration of function 'f'"].join("\n");
    const blame = (file: string) =>
      file === "include/asm/paravirt.h" ? "paravirt-cpu-ops.patch" : file.startsWith("include/xen") ? "xen-backend.patch" : undefined;
    expect(errorLines(parseDiagnostics(log, blame))).toEqual([
      `include/xen/interface.h:63:26: error: macro "xen_init_events" passed 1 arguments, but takes just 0  (last touched by patch xen-backend.patch) (2 times)`,
      `include/asm/paravirt.h:3: note: macro "xen_init_events" defined here  (last touched by patch paravirt-cpu-ops.patch) (2 times)`,
      "kernel/c.c:192:2: error: implicit declaration of function 'f'",
    ]);
  });

  it("take the assembler's errors (GNU as's form) as errors with their file, line and patch (t139 N10)", () => {
    const log = [
      "arch/i386/head.S: Assembler messages:",
      "arch/i386/head.S:44: Error: boom",
      "arch/i386/entry.S:7: Warning: a warning",
      "include/asm/segment.h:3: Error: in a header (t147 N3)",
    ].join("\n");
    const found = parseDiagnostics(log, (file) => (file === "arch/i386/head.S" ? "broken.patch" : undefined));
    expect(found).toEqual([
      { file: "arch/i386/head.S", line: 44, severity: "error", message: "boom", patch: "broken.patch" },
      { file: "arch/i386/entry.S", line: 7, severity: "warning", message: "a warning" },
      { file: "include/asm/segment.h", line: 3, severity: "error", message: "in a header (t147 N3)" },
    ]);
    expect(errorLines(found)).toEqual([
      "arch/i386/head.S:44: error: boom  (last touched by patch broken.patch)",
      "include/asm/segment.h:3: error: in a header (t147 N3)",
    ]);
  });
});
