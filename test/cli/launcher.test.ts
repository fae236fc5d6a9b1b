import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, cpSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeRepo, tempDir, write } from "../helpers/repo.js";
import { fixtureKernelTree } from "../helpers/kernels.js";

const LAUNCHER = resolve("bin/pq");
const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

describe("bin/pq, the installed command", () => {
  it("runs a bundle built before the bundle file held its wrapper (a git pull without npm run build, t31 F1)", () => {
    const install = tempDir();
    dirs.push(install);
    cpSync(resolve("bin"), join(install, "bin"), { recursive: true });
    mkdirSync(join(install, "dist", "bundle"), { recursive: true });
    const head = "(function (exports, require, module, __filename, __dirname) {";
    const text = readFileSync(resolve("dist/bundle/pq.cjs"), "latin1");
    expect(text.startsWith(head) && text.endsWith("\n})")).toBe(true);
    writeFileSync(join(install, "dist", "bundle", "pq.cjs"), text.slice(head.length, -"\n})".length), "latin1");
    const repo = makeRepo({ "a.c": "one\n" });
    dirs.push(repo);
    const run = (launcher: string) => spawnSync(process.execPath, [launcher, "status"], { cwd: repo, encoding: "utf8" });
    const old = run(join(install, "bin", "pq.cjs"));
    const now = run(resolve("bin/pq.cjs"));
    expect(old.stderr).toBe(now.stderr);
    expect([old.status, old.stdout]).toEqual([now.status, now.stdout]);
    expect(old.stderr).not.toContain("Error:");
  });

  it("runs pq through a relative symlink (as npm links it) and hands NODE_EXTRA_CA_CERTS to what pq runs", () => {
    const repo = makeRepo({ a: "one\n" });
    const links = tempDir();
    dirs.push(repo, links);
    // npm's node_modules/.bin/pq is a relative symlink to the package's bin/pq.
    mkdirSync(join(links, ".bin"));
    symlinkSync(relative(join(links, ".bin"), LAUNCHER), join(links, ".bin", "pq"));
    const run = (...args: string[]) =>
      spawnSync(join(links, ".bin", "pq"), args, {
        cwd: repo,
        encoding: "utf8",
        // The "editor" writes what it saw of the two variables as the new message.
        env: {
          ...process.env,
          NODE_EXTRA_CA_CERTS: "/nonexistent/extra-ca.pem",
          EDITOR: `sh -c 'printf "certs=%s saved=%s\\n" "$NODE_EXTRA_CA_CERTS" "\${PQ_NODE_EXTRA_CA_CERTS-unset}" > "$0"'`,
        },
      });
    expect(run("init").status).toBe(0);
    expect(run("new", "p", "-m", "first").status).toBe(0);
    write(repo, "a", "two\n");
    expect(run("refresh").status).toBe(0);
    const edited = run("header", "-e");
    expect(edited.stderr).toBe("");
    expect(edited.status).toBe(0);
    expect(edited.stdout).toContain("certs=/nonexistent/extra-ca.pem saved=unset");
    // A failing command still reaches the user as pq's error, with its exit code.
    const missing = run("push", "no-such-patch");
    expect(missing.status).toBe(3);
    expect(missing.stderr).toMatch(/^pq: /);
  });

  it("output that cannot be written (a full disk) is a failure said on stderr, as git's; a closed pipe stays quiet", () => {
    const dir = makeRepo({ "a.txt": "a\n" });
    dirs.push(dir);
    expect(spawnSync(LAUNCHER, ["init"], { cwd: dir }).status).toBe(0);
    expect(spawnSync(LAUNCHER, ["new", "p1"], { cwd: dir }).status).toBe(0);
    write(dir, "a.txt", "a\nchanged\n");
    expect(spawnSync(LAUNCHER, ["refresh"], { cwd: dir }).status).toBe(0);
    write(dir, "a.txt", "a\nchanged\nagain\n");
    const full = openSync("/dev/full", "w");
    try {
      for (const args of [["series"], ["diff"], ["show", "p1"]]) {
        const r = spawnSync(LAUNCHER, args, { cwd: dir, stdio: ["ignore", full, "pipe"], encoding: "utf8" });
        expect(r.status, args.join(" ")).toBe(14);
        expect(r.stderr).toContain("pq: cannot write the output: ENOSPC");
        expect(r.stderr).toContain("pq stops here; pq status shows where the stack is");
      }
    } finally {
      closeSync(full);
    }
    const piped = spawnSync("sh", ["-c", `${LAUNCHER} series | head -c 1 >/dev/null; echo "\${PIPESTATUS:-0}"`], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(piped.stderr).toBe("");
    // No stderr to say a refusal on (closed, or a pipe nobody reads): the exit code still tells.
    const closed = spawnSync("sh", ["-c", `exec 2>&-; "$0" push no-such-patch`, LAUNCHER], { cwd: dir, encoding: "utf8" });
    expect(closed.status).toBe(3);
    const python = "import os, subprocess, sys\nr, w = os.pipe()\nos.close(r)\nsys.exit(subprocess.run(sys.argv[1:], stderr=w).returncode)";
    expect(spawnSync("python3", ["-c", python, LAUNCHER, "push", "no-such-patch"], { cwd: dir }).status).toBe(3);
  });

  it("a build that compiled keeps its own exit code when the reader of its output has gone (t135 N1: the wait for the process starter made it 141)", () => {
    const tree = fixtureKernelTree("pass");
    const cache = tempDir();
    dirs.push(tree, cache);
    // stdout a pipe whose reader is gone before pq writes its last line.
    const python = "import os, subprocess, sys\nr, w = os.pipe()\nos.close(r)\nsys.exit(subprocess.run(sys.argv[1:], stdout=w).returncode)";
    const r = spawnSync("python3", ["-c", python, LAUNCHER, "build", "--tree", tree], {
      encoding: "utf8",
      env: { ...process.env, PQ_CACHE_DIR: cache },
    });
    expect(r.status, r.stderr).toBe(0);
  });

  it("a terminal is shown a colleague's control characters, not made to obey them; a pipe gets the bytes (t60 N3)", () => {
    const dir = makeRepo({ "a.txt": "a\n" });
    dirs.push(dir);
    expect(spawnSync(LAUNCHER, ["init"], { cwd: dir }).status).toBe(0);
    // A header someone pushed: an escape that retitles the terminal, and a carriage return that writes over the line.
    write(dir, "patches/p1", "From: Mal <mal@example.org>\nSubject: fix \x1b]0;OWNED\x07five\n\nlooks fine\rhidden\n---\n");
    write(dir, "patches/series", "p1\n");
    const piped = spawnSync(LAUNCHER, ["header", "p1"], { cwd: dir, encoding: "utf8" });
    expect(piped.stdout).toContain("fix \x1b]0;OWNED\x07five");
    // `script` gives the command a terminal (a pty), as a user's shell does.
    const shown = spawnSync("script", ["-qec", `${LAUNCHER} header p1`, "/dev/null"], { cwd: dir, encoding: "utf8" });
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain("fix ^[]0;OWNED^Gfive");
    expect(shown.stdout).toContain("looks fine^Mhidden");
    expect(shown.stdout).not.toContain("\x1b");
    // pq show's own colours stay colours (t64 N1), and a CRLF patch's last line ends as it is (t64 N7).
    write(
      dir,
      "patches/p1",
      "From: Mal <mal@example.org>\nSubject: fix \x1b]0;OWNED\x07five\n\n---\r\n--- a/a.txt\r\n+++ b/a.txt\r\n@@ -1 +1 @@\r\n-a\r\n+A \x1b[32mfake green\r\n",
    );
    const coloured = spawnSync("script", ["-qec", `${LAUNCHER} show p1`, "/dev/null"], { cwd: dir, encoding: "utf8" });
    expect(coloured.stdout).toContain("\x1b[33mFrom: Mal <mal@example.org>\x1b[m");
    expect(coloured.stdout).toContain("^[]0;OWNED^G");
    // A colour code in the patch is shown as text, not obeyed (t66 N1); a CR LF line keeps its pair (t66 N2).
    expect(coloured.stdout).toContain("+A ^[[32mfake green");
    expect(coloured.stdout).not.toContain("^M");
    // Uncoloured too.
    const plain = spawnSync("script", ["-qec", `${LAUNCHER} show --no-color p1`, "/dev/null"], { cwd: dir, encoding: "utf8" });
    expect(plain.stdout).toContain("+A ^[[32mfake green");
  });

  it("PQ_TIMINGS=1 prints when each phase of a command started, on stderr only", () => {
    const repo = makeRepo({ a: "one\n" });
    dirs.push(repo);
    const run = (env: Record<string, string>, ...args: string[]) =>
      spawnSync(LAUNCHER, args, { cwd: repo, encoding: "utf8", env: { ...process.env, ...env } });
    expect(run({}, "init").status).toBe(0);
    expect(run({}, "new", "p").stderr).toBe("");
    const timed = run({ PQ_TIMINGS: "1" }, "pop");
    expect(timed.status).toBe(0);
    expect(timed.stdout).not.toContain("pq timings");
    const phases = [...timed.stderr.matchAll(/^pq timings: +[\d.]+ ms {2}\(\+ *[\d.]+\) {2}(.+)$/gm)].map((m) => m[1]);
    expect(phases).toEqual(
      expect.arrayContaining(["main", "stack opened", "planned", "journal written", "tree written", "logged", "exit"]),
    );
    expect(phases.at(-1)).toBe("exit");
  });

  it("a promise rejected with no one to hear it is pq's internal error (exit 70), said without Node's stack (t127 N3)", () => {
    const repo = makeRepo({ a: "one\n" });
    dirs.push(repo);
    const stray = join(repo, "..", `stray-${Date.now()}.cjs`);
    dirs.push(stray);
    writeFileSync(stray, 'setTimeout(() => Promise.reject(new Error("a stray failure")), 0);\n');
    const r = spawnSync(LAUNCHER, ["--version"], {
      cwd: repo,
      encoding: "utf8",
      env: { ...process.env, NODE_OPTIONS: `--require ${stray}` },
    });
    expect(r.status).toBe(70);
    expect(r.stderr).toContain("pq: internal error: a stray failure");
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).not.toContain("Node.js v");
  });

  it("exits at once when done, yet a slow reader of a pipe still gets every line", () => {
    const repo = makeRepo({ a: "one\n" });
    dirs.push(repo);
    expect(spawnSync(LAUNCHER, ["init"], { cwd: repo }).status).toBe(0);
    // 6000 names: about 140 KB, more than a pipe holds, so pq's writes wait for the reader.
    const names = Array.from({ length: 6000 }, (_, i) => `patch-number-${String(i).padStart(5, "0")}.diff`);
    for (const name of names) writeFileSync(join(repo, "patches", name), "");
    writeFileSync(join(repo, "patches", "series"), names.join("\n") + "\n");
    const piped = spawnSync("sh", ["-c", `"$0" series | (sleep 0.5; cat)`, LAUNCHER], { cwd: repo, encoding: "utf8", maxBuffer: 1 << 24 });
    expect(piped.status).toBe(0);
    expect(piped.stdout.split("\n").filter(Boolean)).toEqual(names);
    // The same into a pipe another program made non-blocking (pq then meets EAGAIN when it is full, and waits).
    const python = `import os, subprocess, sys, time
r, w = os.pipe()
os.set_blocking(w, False)
child = subprocess.Popen(sys.argv[1:], stdout=w)
os.close(w)
time.sleep(0.5)
data = b""
while True:
    chunk = os.read(r, 65536)
    if not chunk:
        break
    data += chunk
sys.stdout.buffer.write(data)
sys.exit(child.wait())`;
    const nonBlocking = spawnSync("python3", ["-c", python, LAUNCHER, "series"], { cwd: repo, encoding: "utf8", maxBuffer: 1 << 24 });
    expect(nonBlocking.stderr).toBe("");
    expect(nonBlocking.status).toBe(0);
    expect(nonBlocking.stdout.split("\n").filter(Boolean)).toEqual(names);
  });

  it("a push that stops part way, its stdout's reader gone, still says why and exits with its code (verify-12 F1)", () => {
    const dir = makeRepo({ "a.txt": "a\n", "b.txt": "b\n" });
    dirs.push(dir);
    expect(spawnSync(LAUNCHER, ["init"], { cwd: dir }).status).toBe(0);
    expect(spawnSync(LAUNCHER, ["new", "p1"], { cwd: dir }).status).toBe(0);
    write(dir, "b.txt", "b changed\n");
    expect(spawnSync(LAUNCHER, ["refresh"], { cwd: dir }).status).toBe(0);
    expect(spawnSync(LAUNCHER, ["new", "p2"], { cwd: dir }).status).toBe(0);
    expect(spawnSync(LAUNCHER, ["pop", "-a"], { cwd: dir }).status).toBe(0);
    write(dir, "patches/p2", "--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n nope\n-not there\n+x\n");
    // A pipe whose reader is gone before pq writes: p1's line meets EPIPE, then p2 is refused.
    const readerGone =
      "import os, subprocess, sys\nr, w = os.pipe()\nos.close(r)\np = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)\nsys.stderr.buffer.write(p.stderr)\nsys.exit(p.returncode)";
    for (const args of [
      ["push", "-a"],
      ["push", "-a", "--json"],
    ]) {
      const stopped = spawnSync("python3", ["-c", readerGone, LAUNCHER, ...args], { cwd: dir, encoding: "utf8" });
      expect(stopped.status, args.join(" ")).toBe(6);
      expect(stopped.stderr).toContain("pq: p2 does not apply");
      expect(spawnSync(LAUNCHER, ["pop", "-a"], { cwd: dir }).status).toBe(0);
    }
    // A ci whose reader is gone (verify-13 N2: exit 0 for a ci that never ran): its progress is on stderr
    // (ci-17 F13), so it runs to its end and exits with its own code, 1 for the failing states, never 0.
    const ci = spawnSync("python3", ["-c", readerGone, LAUNCHER, "ci", "--run", "sleep 1; false"], { cwd: dir, encoding: "utf8" });
    expect(ci.status).toBe(1);
    expect(ci.stderr).toContain("running the command at state 0");
    // A refusal whose --json report cannot be written keeps its code (verify-13 N3: it became 14).
    const full = openSync("/dev/full", "w");
    try {
      const refused = spawnSync(LAUNCHER, ["pop", "--json"], { cwd: dir, stdio: ["ignore", full, "pipe"], encoding: "utf8" });
      expect(refused.status).toBe(12);
      expect(refused.stderr).toContain("pq stops here");
      // A success whose output is lost: 14.
      expect(spawnSync(LAUNCHER, ["series"], { cwd: dir, stdio: ["ignore", full, "pipe"] }).status).toBe(14);
    } finally {
      closeSync(full);
    }
  });

  it("a stat cache that is a FIFO is never read: every command goes on (verify-13 N1: each waited for a writer)", () => {
    const dir = makeRepo({ "a.txt": "a\n" });
    dirs.push(dir);
    expect(spawnSync(LAUNCHER, ["init"], { cwd: dir }).status).toBe(0);
    expect(spawnSync(LAUNCHER, ["new", "p1"], { cwd: dir }).status).toBe(0);
    write(dir, "a.txt", "a changed\n");
    expect(spawnSync(LAUNCHER, ["refresh"], { cwd: dir }).status).toBe(0);
    for (const name of ["statcache", "statcache.json"]) {
      rmSync(join(dir, ".pq", "statcache"), { force: true });
      execFileSync("mkfifo", [join(dir, ".pq", name)]);
      for (const args of [["top"], ["pop"], ["push"]]) {
        const r = spawnSync(LAUNCHER, args, { cwd: dir, timeout: 20_000, encoding: "utf8" });
        expect(r.status, `${name}: ${args.join(" ")}`).toBe(0);
      }
      rmSync(join(dir, ".pq", name), { force: true });
    }
  });
});
