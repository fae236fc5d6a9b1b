/**
 * A full disk during a ci or bisect run is said as the operating system's refusal (exit 14),
 * not as a half-done operation to complete nor as a bug of pq (ci-7 #14).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { scratchFailure } from "../../src/ci/scratch.js";
import { PqError } from "../../src/errors.js";
import { cleanup, makeRepo, pq } from "../helpers/repo.js";

describe("a file system that refuses during pq ci", () => {
  it("is a system refusal naming where pq works, whatever shape the error took", () => {
    const halfDone = new PqError("damaged", "push p1 stopped half way: no space left on device, write", ["its journal ..."], {
      cause: "ENOSPC",
      file: "/tmp/pq-scratch-x/.pq/journal.json",
    });
    const gitFailed = Object.assign(
      new Error("Command failed: git commit -q -m base\nfatal: unable to write loose object file: No space left on device"),
      {
        status: 128,
      },
    );
    const quota = Object.assign(new Error("EDQUOT: disk quota exceeded, write"), { code: "EDQUOT", path: "/tmp/pq-scratch-y/v" });
    for (const e of [halfDone, gitFailed, quota]) {
      const said = scratchFailure(e, "pq ci") as PqError;
      expect(said).toBeInstanceOf(PqError);
      expect(said.code).toBe("system");
      expect(said.exitCode).toBe(14);
      expect(said.message).toMatch(/^pq ci stopped: (no space left on device|a disk quota is used up)/);
      expect(said.details.join("\n")).toContain("nothing is left to complete");
    }
    expect((scratchFailure(quota, "pq bisect") as PqError).message).toContain("(writing /tmp/pq-scratch-y/v)");
    // Anything else passes through as it was.
    const other = new PqError("apply-failed", "p1 does not apply", []);
    expect(scratchFailure(other, "pq ci")).toBe(other);
  });
});

describe("a --run command that removes what git ignores (git clean -xff: t43 N2)", () => {
  it("cannot take the copy's .pq/, which waits outside the copy while the command runs (t118 N3)", async () => {
    const tree = makeRepo({ "value.txt": "v=0\n" });
    try {
      expect((await pq(tree, "init")).code).toBe(0);
      expect((await pq(tree, "new", "p1")).code).toBe(0);
      writeFileSync(join(tree, "value.txt"), "v=1\n");
      expect((await pq(tree, "refresh")).code).toBe(0);
      for (const clean of ["git clean -xfdq", "git clean -xffdq"]) expect((await pq(tree, "ci", "--run", clean)).code).toBe(0);
      expect(existsSync(join(tree, ".pq", "state.json"))).toBe(true);
    } finally {
      cleanup(tree);
    }
  });
});

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(cleanup));

describe("a scratch copy when another handler ends the process (t54 N9)", () => {
  it("is removed at exit: the TUI's signal handler exits before the copy's own handler runs", () => {
    const tree = makeRepo({ "a.txt": "a\n" });
    dirs.push(tree);
    execFileSync(process.execPath, [join(process.cwd(), "bin/pq.js"), "init"], { cwd: tree });
    // A process that opens a scratch copy, as C does in the TUI, and is then ended by a handler
    // registered before the copy's (the TUI's, which gives the terminal back and exits 143).
    const script = `
      process.on("SIGTERM", () => process.exit(143));
      const { openScratch } = await import(${JSON.stringify(pathToFileURL(join(process.cwd(), "dist/ci/scratch.js")).href)});
      await openScratch({ tree: ${JSON.stringify(tree)} });
      console.log(process.pid);
      process.kill(process.pid, "SIGTERM");
      await new Promise((r) => setTimeout(r, 5000));
    `;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(r.status).toBe(143);
    const pid = r.stdout.trim();
    expect(pid).toMatch(/^\d+$/);
    const left = readdirSync(tmpdir()).filter((name) => name.startsWith(`pq-scratch-${basename(tree)}-${pid}-`));
    expect(left).toEqual([]);
  });
});
