/**
 * The operating system's refusals as pq says them: the directory to fix when the file was one pq
 * was making (a lock, a temporary copy), and a path said once (t93 N1).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { systemRefusal } from "../../src/core/system-refusal.js";
import { cleanup, tempDir } from "../helpers/repo.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));

const refusal = (code: string, path: string, syscall = "open") =>
  Object.assign(new Error(`${code}: ${code === "EACCES" ? "permission denied" : "no such file or directory"}, ${syscall} '${path}'`), {
    code,
    path,
    syscall,
  });

describe("systemRefusal", () => {
  it("names the directory pq may not write into, not the file it was making there", () => {
    const dir = tempDir();
    dirs.push(dir);
    mkdirSync(join(dir, ".pq"));
    const r = systemRefusal(refusal("EACCES", join(dir, ".pq", "lock.1321")))!;
    expect(r.message).toBe(`${join(dir, ".pq")} is not writable for you (permission denied, making lock.1321 there)`);
    expect(r.next).toContain(`make ${join(dir, ".pq")} writable for you (chmod u+w, by its owner if that is not you)`);
  });

  it("says a path once, where Node's message has it already", () => {
    const r = systemRefusal(refusal("ENOENT", "/nowhere/x"))!;
    expect(r.message).toBe("no such file or directory, open '/nowhere/x'");
  });
});
