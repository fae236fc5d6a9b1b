import { describe, expect, it } from "vitest";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { runFromHelper, stopProcessStarter } from "../../src/core/process-starter.js";
import { cleanup, expectPqError, tempDir } from "../helpers/repo.js";

describe("the process starter (programs started from a small helper process)", () => {
  it("gives a program's exit code, its output byte for byte and its error text, in the directory and environment asked", async () => {
    const dir = tempDir();
    try {
      const script = `printf '\\377\\000\\200%s' "$PWD" ; printf 'said: %s' "$PQ_TEST_WORD" >&2; exit 3`;
      const r = await runFromHelper("sh", ["-c", script], dir, { ...process.env, PQ_TEST_WORD: "grüß" });
      expect(r.code).toBe(3);
      expect(r.stdout).toBe(`\xff\x00\x80${dir}`);
      expect(r.stderr).toBe("said: grüß");
      const many = await Promise.all(
        [1, 2, 3, 4, 5, 6].map((n) => runFromHelper("sh", ["-c", `sleep 0.0${n}; echo ${n}`], dir, process.env)),
      );
      expect(many.map((m) => m.stdout)).toEqual(["1\n", "2\n", "3\n", "4\n", "5\n", "6\n"]);
      // Stopped (as main does at a command's end: waited for, so gone), then started again on the next program.
      const helperPid = Number((await runFromHelper("sh", ["-c", "echo $PPID"], dir, process.env)).stdout);
      await stopProcessStarter();
      expect(spawnSync("kill", ["-0", String(helperPid)]).status).not.toBe(0);
      const again = await runFromHelper("sh", ["-c", "echo $PPID"], dir, process.env);
      expect(Number(again.stdout)).not.toBe(helperPid);
      await stopProcessStarter();
    } finally {
      cleanup(dir);
    }
  });

  it("passes back an output of 100 MB of control bytes whole (t136 N1: JSON's escaping made a 150 MB preprocessor output fail)", async () => {
    const r = await runFromHelper("sh", ["-c", "head -c 100000000 /dev/zero | tr '\\0' '\\1'"], process.cwd(), process.env);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(100_000_000);
    expect(r.stdout[0]).toBe("\x01");
    expect(r.stdout.at(-1)).toBe("\x01");
  });

  it("a helper that ends under a running program is pq's failure (exit 70), not the program's exit code", async () => {
    const helperPid = Number((await runFromHelper("sh", ["-c", "echo $PPID"], process.cwd(), process.env)).stdout);
    const running = runFromHelper("sleep", ["5"], process.cwd(), process.env);
    process.kill(helperPid, "SIGKILL");
    const error = await expectPqError(running, "internal");
    expect(error.message).toMatch(/pq could not run sleep: .*ended before the program did/);
    // The next program starts a new helper.
    expect((await runFromHelper("sh", ["-c", "echo ok"], process.cwd(), process.env)).stdout).toBe("ok\n");
    await stopProcessStarter();
  });

  it("a program still running when pq is killed (SIGKILL, or a signal to pq alone) is ended with it, its children too (t135 N3)", () => {
    const dir = tempDir();
    try {
      const starter = pathToFileURL(resolve("dist/core/process-starter.js")).href;
      for (const signal of ["SIGKILL", "SIGTERM"]) {
        const file = join(dir, "use.mjs");
        // A program that starts a child of its own (as gcc starts cc1), both waiting 30 s; then the user of the helper is killed.
        writeFileSync(
          file,
          `import { runFromHelper } from ${JSON.stringify(starter)};\n` +
            `runFromHelper("sh", ["-c", "sleep 30 & echo $! > child.pid; echo $$ > program.pid; wait"], process.cwd(), process.env);\n` +
            `setInterval(() => {}, 1000);\n`,
        );
        const user = spawn(process.execPath, [file], { cwd: dir, stdio: "ignore" });
        const pids = () =>
          ["program.pid", "child.pid"].map((f) => (existsSync(join(dir, f)) ? Number(readFileSync(join(dir, f), "utf8")) : 0));
        for (let i = 0; i < 100 && pids().includes(0); i++) spawnSync("sleep", ["0.1"]);
        const [program, child] = pids();
        expect(program).toBeGreaterThan(0);
        user.kill(signal as NodeJS.Signals);
        const alive = (pid: number) => spawnSync("kill", ["-0", String(pid)]).status === 0;
        for (let i = 0; i < 50 && (alive(program) || alive(child)); i++) spawnSync("sleep", ["0.1"]);
        expect([signal, alive(program), alive(child)]).toEqual([signal, false, false]);
        rmSync(join(dir, "program.pid"));
        rmSync(join(dir, "child.pid"));
      }
    } finally {
      cleanup(dir);
    }
  });

  it("answers 127 with the reason for a program that cannot be started", async () => {
    const r = await runFromHelper("/nonexistent/pq-no-such-program", [], process.cwd(), process.env);
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/ENOENT/);
  });

  it("keeps no process running after the command that used it ends: the helper holds the event loop only while it runs something", () => {
    const dir = tempDir();
    try {
      // A Node program (compiled pq, as the CLI runs it) that starts one program through the helper and prints the helper's pid.
      const starter = pathToFileURL(resolve("dist/core/process-starter.js")).href;
      const file = join(dir, "use.mjs");
      writeFileSync(
        file,
        `import { runFromHelper } from ${JSON.stringify(starter)};\n` +
          `const r = await runFromHelper("sh", ["-c", "echo $PPID"], process.cwd(), process.env);\n` +
          `process.stdout.write(process.pid + " " + r.stdout);\n`,
      );
      const started = Date.now();
      const [userPid, helperPid] = execFileSync(process.execPath, [file], { cwd: dir, encoding: "utf8", timeout: 20_000 })
        .trim()
        .split(" ")
        .map(Number);
      // The program's parent was the helper, not the Node program that asked for it.
      expect(helperPid).toBeGreaterThan(0);
      expect(helperPid).not.toBe(userPid);
      expect(Date.now() - started).toBeLessThan(15_000);
      // The helper saw its channel close and ended (allow it a moment).
      let alive = true;
      for (let i = 0; i < 50 && alive; i++) {
        alive = spawnSync("kill", ["-0", String(helperPid)]).status === 0;
        if (alive) spawnSync("sleep", ["0.1"]);
      }
      expect(alive).toBe(false);
    } finally {
      cleanup(dir);
    }
  });
});
