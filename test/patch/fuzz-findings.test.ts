/**
 * Inputs the patch fuzzer (test/fuzz/patch-fuzz.mjs) found, reduced by hand: each once
 * crashed with something other than a PqError, hung, or broke a round trip.
 */
import { spawnSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { PqError } from "../../src/errors.js";
import { applyFilePatch, createFilePatch, parsePatch } from "../../src/patch/index.js";
import { cleanup, read, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));

const pqErrorOf = (f: () => unknown): PqError | undefined => {
  try {
    f();
  } catch (e) {
    if (e instanceof PqError) return e;
    throw e;
  }
  return undefined;
};

describe("patch fuzz findings", () => {
  it("a hunk header stating line 2^31 is searched only inside the file (was a hang)", () => {
    const fp = parsePatch("--- a/f.c\n+++ b/f.c\n@@ -2147483648 +1,2 @@\n int a;\n+int b;\n").files[0];
    const r = applyFilePatch("int a;\n", fp, { fuzz: 1 });
    expect(r).toMatchObject({ ok: true, content: "int a;\nint b;\n" });
  });

  it("damaged zlib data in a GIT binary patch is a bad-patch error, not a zlib exception", () => {
    const good = createFilePatch({ oldPath: "x.bin", newPath: "x.bin", oldContent: "a\0b", newContent: "a\0c".repeat(50) });
    const lines = good.split("\n");
    const at = lines.findIndex((l) => /^literal \d+$/.test(l)) + 1;
    // Still valid base85, but no longer the deflate stream it was.
    lines[at] = lines[at][0] + lines[at].slice(1).replace(/[0-9]/g, "9");
    const fp = parsePatch(lines.join("\n")).files[0];
    expect(pqErrorOf(() => applyFilePatch("a\0b", fp))?.code).toBe("bad-patch");
  });

  it("a binary delta that inserts past its stated result size is a bad-patch error", async () => {
    const { deflateSync } = await import("node:zlib");
    // src size 3, dst size 1, then an insert of 4 bytes.
    const delta = Buffer.from([3, 1, 4, 0x41, 0x42, 0x43, 0x44]);
    const fp = {
      oldPath: "x",
      newPath: "x",
      kind: "modify" as const,
      hunks: [],
      binary: { forward: { kind: "delta" as const, size: delta.length, data: deflateSync(delta) }, reverse: null },
    };
    expect(pqErrorOf(() => applyFilePatch("abc", fp))?.code).toBe("bad-patch");
  });

  it("an Index: line with nothing after it is a bad-patch error (was a TypeError)", () => {
    expect(pqErrorOf(() => parsePatch("Index: f.c\n===================================================================\n"))?.code).toBe(
      "bad-patch",
    );
  });

  it("a patch line with a newline does not match a last line without one, as in GNU patch (broke reverse round trips)", () => {
    const p = "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-same\n+other\n";
    const dir = tempDir("pq-gnu-");
    dirs.push(dir);
    write(dir, "f", "same");
    write(dir, "p.diff", p);
    const gnu = spawnSync("patch", ["-p1", "--no-backup-if-mismatch", "-r", "-", "-i", "p.diff"], { cwd: dir });
    expect(gnu.status).not.toBe(0);
    expect(read(dir, "f")).toBe("same");
    expect(applyFilePatch("same", parsePatch(p).files[0]).ok).toBe(false);
    // CRLF against LF still matches (pq's documented leniency).
    expect(applyFilePatch("same\r\n", parsePatch(p).files[0]).content).toBe("other\r\n");
  });
});
