import { describe, expect, it } from "vitest";
import { logTail, quotedLog } from "../../src/core/log-tail.js";

describe("log tails under an error", () => {
  it("keeps the last lines, without carriage returns, with control bytes shown", () => {
    expect(logTail("a\r\nb\nc\x1b[31m\n\n", 2)).toBe("b\nc\\x1b[31m");
  });

  it("quotes each line, and says when a log holds nothing instead of quoting an empty line", () => {
    expect(quotedLog("one\ntwo\n")).toBe("    | one\n    | two");
    expect(quotedLog("")).toBe("    (no output)");
    expect(quotedLog("\n\r\n  \n")).toBe("    (no output)");
  });
});
