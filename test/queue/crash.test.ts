import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, git, makeRepo, pq, snapshot, tempDir, write } from "../helpers/repo.js";

const PQ = resolve("bin/pq.js");
const runPq = (cwd: string, ...args: string[]) => spawnSync(process.execPath, [PQ, ...args], { cwd, encoding: "utf8" });

/** A repo whose queue holds `count` patches touching 3 of 120 files each, all unapplied. */
function bigQueue(count: number): { dir: string; base: Record<string, string>; top: Record<string, string> } {
  const files: Record<string, string> = {};
  for (let f = 0; f < 120; f++) files[`src/file${f}.c`] = Array.from({ length: 60 }, (_, i) => `int f${f}_${i} = ${i};\n`).join("");
  const dir = makeRepo(files);
  const base = snapshot(dir);
  // The commits are made in one git fast-import (300 git commits cost several seconds).
  const stream: string[] = [];
  for (let p = 0; p < count; p++) {
    stream.push(`commit refs/heads/main\ncommitter Test Author <author@example.org> ${1577836800 + p} +0000\ndata ${`change ${p}`.length}\nchange ${p}\n`);
    if (p === 0) stream.push(`from ${git(dir, "rev-parse", "HEAD").trim()}\n`);
    for (let k = 0; k < 3; k++) {
      const f = (p * 7 + k * 41) % 120;
      const line = (p * 13 + k) % 60;
      const path = `src/file${f}.c`;
      files[path] = files[path].replace(new RegExp(`^(int f${f}_${line} = )(.*);$`, "m"), `$1$2 + ${p};`);
      stream.push(`M 100644 inline ${path}\ndata ${Buffer.byteLength(files[path])}\n${files[path]}\n`);
    }
  }
  const imported = spawnSync("git", ["fast-import", "--quiet"], { cwd: dir, input: stream.join("") });
  expect(imported.status, String(imported.stderr)).toBe(0);
  git(dir, "reset", "-q", "--hard", "main");
  const top = snapshot(dir);
  const patches = join(dir, "patches");
  git(dir, "format-patch", "-q", "--no-signature", "-o", patches, `HEAD~${count}`);
  git(dir, "reset", "-q", "--hard", `HEAD~${count}`);
  write(dir, "patches/series", readdirSync(patches).filter((n) => n.endsWith(".patch")).sort().join("\n") + "\n");
  return { dir, base, top };
}

describe("SIGKILL in the middle of push -a / pop -a", () => {
  let dir: string;
  let base: Record<string, string>;
  let top: Record<string, string>;
  beforeAll(() => {
    ({ dir, base, top } = bigQueue(300));
    expect(runPq(dir, "init").status).toBe(0);
  });
  afterAll(() => cleanup(dir));

  const withoutQueue = (s: Record<string, string>) => Object.fromEntries(Object.entries(s).filter(([p]) => !p.startsWith("patches/")));

  async function killAfter(args: string[], ms: number): Promise<void> {
    const child = spawn(process.execPath, [PQ, ...args], { cwd: dir, stdio: "ignore" });
    const exited = new Promise((r) => child.on("exit", r));
    await new Promise((r) => setTimeout(r, ms));
    child.kill("SIGKILL");
    await exited;
  }

  it("the next command repairs the tree to a whole state, every time", async () => {
    // Time one full push to spread the kills over it.
    const t0 = Date.now();
    expect(runPq(dir, "push", "-a").status).toBe(0);
    const full = Date.now() - t0;
    expect(runPq(dir, "pop", "-a").status).toBe(0);
    const seen = new Set<string>();
    for (const fraction of [0.3, 0.5, 0.65, 0.8, 0.9, 0.97]) {
      for (const op of [["push", "-a"], ["pop", "-a"]]) {
        // Start from the other end: a push from nothing applied, a pop from everything applied.
        // Only the killed command needs a process of its own: the others run in this one.
        expect((await pq(dir, op[0] === "push" ? "pop" : "push", "-a")).code).toBe(0);
        await killAfter(op, Math.round(full * fraction));
        const applied = await pq(dir, "applied", "--json");
        expect(applied.code).toBe(0);
        const count = JSON.parse(applied.out).length;
        // One transaction: all or nothing, and the files match the recorded state exactly.
        expect([0, 300]).toContain(count);
        expect(withoutQueue(snapshot(dir))).toEqual(count === 0 ? base : top);
        seen.add(`${op[0]}:${count}`);
      }
    }
    // Nothing may be left behind: no journal, and the queue intact. A kill after the work but before the
    // lock's removal can leave the lock of a dead pid: the next writer takes it over (a read-only command
    // does not remove it: between its read and its removal a live pq could have taken the lock).
    expect(readdirSync(join(dir, ".pq")).filter((n) => n === "journal.json")).toEqual([]);
    if (existsSync(join(dir, ".pq", "lock"))) {
      const pid = Number(readFileSync(join(dir, ".pq", "lock"), "utf8"));
      expect(() => process.kill(pid, 0)).toThrow();
      expect(runPq(dir, "pop", "-a").status).toBe(0);
      expect(existsSync(join(dir, ".pq", "lock"))).toBe(false);
    }
    expect(seen.size).toBeGreaterThan(0);
  }, 120_000);
});

/** Runs pq in `dir` with PQ_FAILPOINT set (a kill, an I/O error or a command at that point; see executor.ts). */
function atFailpoint(dir: string, point: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [PQ, ...args], { cwd: dir, encoding: "utf8", env: { ...process.env, PQ_FAILPOINT: point, ...env } });
}

/** Runs `fn` in a fresh repository with `files`, removed afterwards. */
function inRepo(files: Record<string, string>, fn: (dir: string) => void): void {
  const dir = makeRepo(files);
  try {
    fn(dir);
  } finally {
    cleanup(dir);
  }
}

/** pq init in `dir` and a patch p1 (made with `newArgs`) that makes `path` hold `content`. */
function initWithP1(dir: string, path: string, content: string, ...newArgs: string[]): void {
  expect(runPq(dir, "init").status).toBe(0);
  expect(runPq(dir, "new", "p1", ...newArgs).status).toBe(0);
  write(dir, path, content);
  expect(runPq(dir, "refresh").status).toBe(0);
}

describe("a pop --force killed after its journal (stack-3 #14)", () => {
  it("is completed by the next command, which says where the pop saved the unrefreshed edits", () => {
    inRepo({ "a.txt": "a\n" }, (dir) => {
      expect(runPq(dir, "init").status).toBe(0);
      expect(runPq(dir, "new", "p1").status).toBe(0);
      write(dir, "a.txt", "a\np1 line\n");
      expect(runPq(dir, "refresh").status).toBe(0);
      write(dir, "a.txt", "a\np1 line\nunrefreshed edit\n");
      const killed = spawnSync(process.execPath, [PQ, "pop", "--force"], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, PQ_FAILPOINT: "journal-written" },
      });
      expect(killed.signal).toBe("SIGKILL");
      const status = runPq(dir, "status");
      const saved = /the unrefreshed edits it overwrote are in (\S+?);?$/m.exec(status.stderr);
      expect(saved, status.stderr).not.toBeNull();
      expect(readFileSync(join(saved![1].replace(/;$/, ""), "a.txt"), "utf8")).toBe("a\np1 line\nunrefreshed edit\n");
      expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\n");
    });
  });
});

describe("a pop --force killed while it backs up the unrefreshed edits, before its journal (t149)", () => {
  it("leaves no folder that looks like a backup and lacks files; the next pop --force saves them all", () => {
    inRepo({ "a.txt": "a\n", "b.txt": "b\n" }, (dir) => {
      expect(runPq(dir, "init").status).toBe(0);
      expect(runPq(dir, "new", "p1").status).toBe(0);
      write(dir, "a.txt", "a\np1\n");
      write(dir, "b.txt", "b\np1\n");
      expect(runPq(dir, "refresh").status).toBe(0);
      write(dir, "a.txt", "a\np1\nedit a\n");
      write(dir, "b.txt", "b\np1\nedit b\n");
      const killed = spawnSync(process.execPath, [PQ, "pop", "--force"], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, PQ_FAILPOINT: "backup-file-written" },
      });
      expect(killed.signal).toBe("SIGKILL");
      // Killed after the first file: nothing changed in the tree, and no backup folder claims to hold the edits.
      expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\np1\nedit a\n");
      const backups = join(dir, ".pq/backups");
      expect(readdirSync(backups).filter((name) => !name.endsWith(".partial"))).toEqual([]);
      const pop = runPq(dir, "pop", "--force");
      expect(pop.status, pop.stderr).toBe(0);
      const whole = readdirSync(backups).filter((name) => !name.endsWith(".partial"));
      expect(whole).toHaveLength(1);
      expect(readFileSync(join(backups, whole[0], "a.txt"), "utf8")).toBe("a\np1\nedit a\n");
      expect(readFileSync(join(backups, whole[0], "b.txt"), "utf8")).toBe("b\np1\nedit b\n");
      expect(pop.stdout + pop.stderr).toContain(whole[0]);
    });
  });
});

describe("edits made between a kill and the next command", () => {
  it("are saved in .pq/backups before the journal's replay overwrites them, and the command says so", () => {
    inRepo({ "a.txt": "a\n", "b.txt": "b\n" }, (dir) => {
      expect(runPq(dir, "init").status).toBe(0);
      expect(runPq(dir, "new", "p1").status).toBe(0);
      write(dir, "a.txt", "a\np1 line\n");
      write(dir, "n.txt", "new\n");
      expect(runPq(dir, "add", "n.txt").status).toBe(0);
      expect(runPq(dir, "refresh").status).toBe(0);
      // Killed after its journal: the tree still looks as before the pop, and the user goes on.
      const killed = atFailpoint(dir, "journal-written", ["pop"]);
      expect(killed.signal).toBe("SIGKILL");
      write(dir, "a.txt", "a\np1 line\nmy important edit\n");
      write(dir, "n.txt", "new\nmore work\n");
      write(dir, "patches/p1", readFileSync(join(dir, "patches/p1"), "utf8") + "a note in the patch\n");
      const status = runPq(dir, "status");
      expect(status.status).toBe(0);
      const saved = /completed an interrupted operation \(pop p1\); files changed since it began were saved in (\S+)$/m.exec(status.stderr);
      expect(saved, status.stderr).not.toBeNull();
      // The pop is complete, and nothing typed after the kill is lost.
      expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\n");
      expect(existsSync(join(dir, "n.txt"))).toBe(false);
      expect(readFileSync(join(saved![1], "a.txt"), "utf8")).toBe("a\np1 line\nmy important edit\n");
      expect(readFileSync(join(saved![1], "n.txt"), "utf8")).toBe("new\nmore work\n");
      // A pop writes no queue file: the note stays where it was typed.
      expect(readFileSync(join(dir, "patches/p1"), "utf8")).toContain("a note in the patch");
    });
  });

  it("a dry run leaves an interrupted operation as it is and says how to complete it (dry-6 #8)", () => {
    inRepo({ "a.txt": "a\n" }, (dir) => {
      expect(runPq(dir, "init").status).toBe(0);
      expect(runPq(dir, "new", "p1").status).toBe(0);
      write(dir, "a.txt", "a\np1 line\n");
      expect(runPq(dir, "refresh").status).toBe(0);
      const killed = atFailpoint(dir, "journal-written", ["pop"]);
      expect(killed.signal).toBe("SIGKILL");
      const before = snapshot(dir);
      const dry = runPq(dir, "push", "--dry-run");
      expect(dry.status).toBe(13);
      expect(dry.stderr).toContain("a dry run writes nothing, so it does not complete it");
      expect(snapshot(dir)).toEqual(before);
      expect(existsSync(join(dir, ".pq", "journal.json"))).toBe(true);
      expect(runPq(dir, "status").stderr).toContain("completed an interrupted operation (pop p1)");
      expect(runPq(dir, "push", "--dry-run").status).toBe(0);
    });
  });

  it("a dry run beside a live operation's journal waits for it, and never calls it interrupted (t61 N1)", async () => {
    const dir = makeRepo({ "a.txt": "a\n" });
    try {
      expect(runPq(dir, "init").status).toBe(0);
      expect(runPq(dir, "new", "p1").status).toBe(0);
      write(dir, "a.txt", "a\np1 line\n");
      expect(runPq(dir, "refresh").status).toBe(0);
      expect(runPq(dir, "pop").status).toBe(0);
      // A push held for a while after its journal is written: its journal is an operation under way.
      const live = spawn(process.execPath, [PQ, "push"], {
        cwd: dir,
        stdio: "ignore",
        env: { ...process.env, PQ_FAILPOINT: "journal-written:sh", PQ_FAILPOINT_SH: "sleep 4" },
      });
      const ended = new Promise<number | null>((res) => live.on("exit", (code) => res(code)));
      for (let i = 0; i < 200 && !existsSync(join(dir, ".pq", "journal.json")); i++) await new Promise((r) => setTimeout(r, 10));
      expect(existsSync(join(dir, ".pq", "journal.json"))).toBe(true);
      const ci = runPq(dir, "ci", "--run", "true");
      expect([ci.status, ci.stderr]).toEqual([4, expect.stringContaining(`the tree is locked by pid ${live.pid}`)]);
      // A dry run waits for the operation under way (t115 N6), then reads the stack it left.
      const dry = runPq(dir, "push", "--dry-run");
      expect(dry.stderr).not.toContain("interrupted");
      expect(dry.status).not.toBe(4);
      expect(runPq(dir, "top").stdout).toBe("p1\n");
      expect(await ended).toBe(0);
      expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\np1 line\n");
    } finally {
      cleanup(dir);
    }
  });

  it("make the operation asked for stop after the replay, saying where they are, where it went on over the tree the replay left (t96 N4)", () => {
    inRepo({ "a.txt": "a\n" }, (dir) => {
      expect(runPq(dir, "init").status).toBe(0);
      expect(runPq(dir, "new", "p1").status).toBe(0);
      write(dir, "a.txt", "a\np1 line\n");
      expect(runPq(dir, "refresh").status).toBe(0);
      expect(runPq(dir, "pop").status).toBe(0);
      expect(atFailpoint(dir, "journal-written", ["push"]).signal).toBe("SIGKILL");
      // The user works on the file the killed push writes, and refreshes.
      write(dir, "a.txt", "a\nmy fix\n");
      const refresh = runPq(dir, "refresh");
      expect([refresh.status, refresh.stderr]).toEqual([12, expect.stringContaining("an interrupted operation was completed first, and the files you changed since it began were saved in")]);
      expect(refresh.stderr).toContain("refresh was not done");
      const saved = /were saved in (\S+); refresh/.exec(refresh.stderr)![1];
      expect(readFileSync(join(saved, "a.txt"), "utf8")).toBe("a\nmy fix\n");
      expect(readFileSync(join(dir, "patches/p1"), "utf8")).toContain("+p1 line");
      // The next command goes on as usual.
      expect(runPq(dir, "refresh").status).toBe(0);
      // A pop stops the same way after such a replay (t97 N2).
      expect(atFailpoint(dir, "journal-written", ["pop"]).signal).toBe("SIGKILL");
      write(dir, "a.txt", "a\nmine again\n");
      const pop = runPq(dir, "pop");
      expect([pop.status, pop.stderr]).toEqual([12, expect.stringContaining("pop was not done")]);
    });
  });

  it("a patch file edited by hand after a killed refresh is saved before the replay writes the refreshed one", () => {
    inRepo({ "a.txt": "a\n" }, (dir) => {
      expect(runPq(dir, "init").status).toBe(0);
      expect(runPq(dir, "new", "p1").status).toBe(0);
      write(dir, "a.txt", "a\np1\n");
      const killed = atFailpoint(dir, "journal-written", ["refresh"]);
      expect(killed.signal).toBe("SIGKILL");
      const edited = readFileSync(join(dir, "patches/p1"), "utf8") + "my notes\n";
      write(dir, "patches/p1", edited);
      const next = runPq(dir, "series");
      const saved = /files changed since it began were saved in (\S+)$/m.exec(next.stderr);
      expect(saved, next.stderr).not.toBeNull();
      expect(readFileSync(join(saved![1], "p1"), "utf8")).toBe(edited);
      expect(readFileSync(join(dir, "patches/p1"), "utf8")).toContain("+p1");
    });
  });

  it("a chmod made since the kill is saved too: the backup keeps the executable bit", () => {
    inRepo({ "run.sh": "echo\n" }, (dir) => {
      expect(runPq(dir, "init").status).toBe(0);
      expect(runPq(dir, "new", "p1").status).toBe(0);
      write(dir, "run.sh", "echo p1\n");
      expect(runPq(dir, "refresh").status).toBe(0);
      const killed = atFailpoint(dir, "journal-written", ["pop"]);
      expect(killed.signal).toBe("SIGKILL");
      chmodSync(join(dir, "run.sh"), 0o755);
      const next = runPq(dir, "series");
      const saved = /files changed since it began were saved in (\S+)$/m.exec(next.stderr);
      expect(saved, next.stderr).not.toBeNull();
      expect(readFileSync(join(saved![1], "run.sh"), "utf8")).toBe("echo p1\n");
      expect(statSync(join(saved![1], "run.sh")).mode & 0o100).toBe(0o100);
      expect(readFileSync(join(dir, "run.sh"), "utf8")).toBe("echo\n");
    });
  });

  it("a replay over files as the kill left them saves nothing", () => {
    inRepo({ "a.txt": "a\n" }, (dir) => {
      expect(runPq(dir, "init").status).toBe(0);
      expect(runPq(dir, "new", "p1").status).toBe(0);
      write(dir, "a.txt", "a\np1\n");
      expect(runPq(dir, "refresh").status).toBe(0);
      for (const point of ["journal-written", "tree-written"]) {
        const killed = atFailpoint(dir, point, ["pop"]);
        expect(killed.signal).toBe("SIGKILL");
        const next = runPq(dir, "series");
        expect(next.stderr).toContain("completed an interrupted operation (pop p1)");
        expect(next.stderr).not.toContain("saved in");
        expect(runPq(dir, "push").status).toBe(0);
      }
      expect(existsSync(join(dir, ".pq/backups"))).toBe(false);
    });
  });
});

describe("an I/O error after the journal is written", () => {
  it("says the operation stopped half way and will be completed, exits 13, and the next command completes it", () => {
    inRepo({ "a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n" }, (dir) => {
      expect(runPq(dir, "init").status).toBe(0);
      expect(runPq(dir, "new", "p1").status).toBe(0);
      for (const f of ["a.txt", "b.txt", "c.txt"]) write(dir, f, `${f} changed\n`);
      expect(runPq(dir, "refresh").status).toBe(0);
      const failed = atFailpoint(dir, "tree-half:eio", ["pop"]);
      expect(failed.status).toBe(13);
      expect(failed.stderr).toContain("pop p1 stopped half way: i/o error");
      expect(failed.stderr).toContain(".pq/journal.json");
      expect(failed.stderr).not.toContain("nothing was changed");
      // While the cause lasts, every command says so (and what will happen).
      const still = atFailpoint(dir, "tree-half:eio", ["series"]);
      expect(still.status).toBe(13);
      expect(still.stderr).toContain("pop p1 was interrupted earlier and cannot be completed now: i/o error");
      const next = runPq(dir, "series", "-v");
      expect(next.status).toBe(0);
      expect(next.stderr).toContain("completed an interrupted operation (pop p1)");
      expect(next.stderr).not.toContain("saved in");
      expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\n");
      expect(readFileSync(join(dir, "c.txt"), "utf8")).toBe("c\n");
    });
  });
});

describe("a system refusal while the tree is written (an immutable file, a full disk)", () => {
  it("puts back what was written, removes the journal, exits 14: nothing was changed, and nothing waits to be completed (verify-16 F4)", () => {
    inRepo({ "a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n", "d.txt": "d\n" }, (dir) => {
      expect(runPq(dir, "init").status).toBe(0);
      expect(runPq(dir, "new", "p1").status).toBe(0);
      for (const f of ["a.txt", "b.txt", "c.txt", "d.txt"]) write(dir, f, `${f} changed\n`);
      write(dir, "new.txt", "made by p1\n");
      expect(runPq(dir, "add", "new.txt").status).toBe(0);
      expect(runPq(dir, "refresh").status).toBe(0);
      const before = snapshot(dir);
      // The write fails half way through the tree, once: the putting back meets no such failure.
      const failed = atFailpoint(dir, "tree-half:eio-once", ["pop"]);
      expect(failed.stderr).toContain("pop p1 was refused while writing the tree: i/o error");
      expect(failed.stderr).toContain("the files it had written were put back, and nothing was changed");
      expect(failed.status).toBe(14);
      expect(snapshot(dir)).toEqual(before);
      expect(existsSync(join(dir, ".pq", "journal.json"))).toBe(false);
      const next = runPq(dir, "series", "-v");
      expect([next.status, next.stderr]).toEqual([0, ""]);
      expect(next.stdout).toContain("A p1");
      expect(runPq(dir, "pop").status).toBe(0);
      expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\n");
      expect(existsSync(join(dir, "new.txt"))).toBe(false);
    });
  });
});

describe("a truncate the system refuses after the write (a network or FUSE file system: t56 N6)", () => {
  it("puts the file back and calls nothing 'changed while it ran': the half-written file is pq's own", () => {
    inRepo({ "a.txt": "a much longer first version of the file\nwith a second line\n" }, (dir) => {
      expect(runPq(dir, "init").status).toBe(0);
      expect(runPq(dir, "new", "p1").status).toBe(0);
      write(dir, "a.txt", "short\n");
      expect(runPq(dir, "refresh").status).toBe(0);
      expect(runPq(dir, "pop").status).toBe(0);
      const before = snapshot(dir);
      // The push rewrites a.txt shorter: its write goes in, then the truncate fails, once.
      const failed = atFailpoint(dir, "tree-truncate:eio-once", ["push"]);
      expect(failed.status).toBe(14);
      expect(failed.stderr).toContain("the files it had written were put back, and nothing was changed");
      expect(failed.stderr).not.toContain("changed while it ran");
      expect(snapshot(dir)).toEqual(before);
      expect(existsSync(join(dir, ".pq", "backups"))).toBe(false);
    });
  });
});

/** Whether this machine lets chattr +i make a file immutable here (root, on ext4 or xfs). */
function immutableFilesWork(): boolean {
  const dir = tempDir("pq-chattr-");
  try {
    write(dir, "f", "x\n");
    if (spawnSync("chattr", ["+i", join(dir, "f")]).status !== 0) return false;
    spawnSync("chattr", ["-i", join(dir, "f")]);
    return true;
  } finally {
    cleanup(dir);
  }
}

describe("an immutable file the write never got to (t34 F4)", () => {
  it.skipIf(!immutableFilesWork())("is left as it is by the putting back, which then succeeds: refused, nothing waits", () => {
    inRepo({ "a.txt": "a\n", "b.txt": "b\n", "y.txt": "y\n", "z.txt": "z\n" }, (dir) => {
      expect(runPq(dir, "init").status).toBe(0);
      expect(runPq(dir, "new", "p1").status).toBe(0);
      for (const f of ["a.txt", "b.txt", "y.txt", "z.txt"]) write(dir, f, `${f} changed\n`);
      expect(runPq(dir, "refresh").status).toBe(0);
      const before = snapshot(dir);
      try {
        // Half way through the pop's writes, z.txt (written last) is made immutable.
        const failed = atFailpoint(dir, "tree-half:sh", ["pop"], { PQ_FAILPOINT_SH: "chattr +i z.txt" });
        expect(failed.status, failed.stderr).toBe(14);
        expect(failed.stderr).toContain("the files it had written were put back, and nothing was changed");
      } finally {
        spawnSync("chattr", ["-i", join(dir, "z.txt")]);
      }
      expect(snapshot(dir)).toEqual(before);
      expect(existsSync(join(dir, ".pq", "journal.json"))).toBe(false);
    });
  });
});

describe("a directory swapped for a symlink to outside the tree while the tree is written (t34 F1)", () => {
  for (const op of ["pop", "push"] as const) {
    it(`${op}: nothing outside is written; the operation waits, and completes once the directory is back`, () => {
      inRepo({ "a.txt": "a\n", "z.txt": "z\n", "sub/s.txt": "s\n" }, (dir) => {
        expect(runPq(dir, "init").status).toBe(0);
        expect(runPq(dir, "new", "p1").status).toBe(0);
        expect(runPq(dir, "add", "sub/n.txt").status).toBe(0);
        for (const f of ["a.txt", "z.txt", "sub/s.txt", "sub/n.txt"]) write(dir, f, `${f} p1\n`);
        expect(runPq(dir, "refresh").status).toBe(0);
        if (op === "push") expect(runPq(dir, "pop").status).toBe(0);
        const outside = tempDir("pq-outside-");
        write(outside, "s.txt", "OUTSIDE s\n");
        write(outside, "n.txt", "OUTSIDE n\n");
        const moved = `${dir}-sub-moved`;
        // Half way (after a.txt and z.txt: each directory's files are written together), sub/ is swapped.
        const swap = `mv sub ${JSON.stringify(moved)} && ln -s ${JSON.stringify(outside)} sub`;
        const failed = atFailpoint(dir, "tree-half:sh", [op], { PQ_FAILPOINT_SH: swap });
        expect(failed.status, failed.stderr).toBe(7);
        expect(failed.stderr).toContain(`${op} p1 stopped half way: sub/`);
        expect(failed.stderr).toContain("it goes through the symlink sub, made while pq was writing");
        expect(readdirSync(outside).sort()).toEqual(["n.txt", "s.txt"]);
        expect(readFileSync(join(outside, "s.txt"), "utf8")).toBe("OUTSIDE s\n");
        expect(readFileSync(join(outside, "n.txt"), "utf8")).toBe("OUTSIDE n\n");
        expect(existsSync(join(dir, ".pq", "journal.json"))).toBe(true);
        // The way out the refusal gives: the directory back, then any command completes the operation.
        rmSync(join(dir, "sub"));
        renameSync(moved, join(dir, "sub"));
        const next = runPq(dir, "series", "-v");
        expect(next.status, next.stderr).toBe(0);
        expect(next.stderr).toContain(`completed an interrupted operation (${op} p1)`);
        const want = op === "pop" ? { a: "a\n", s: "s\n", n: null } : { a: "a.txt p1\n", s: "sub/s.txt p1\n", n: "sub/n.txt p1\n" };
        expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe(want.a);
        expect(readFileSync(join(dir, "sub/s.txt"), "utf8")).toBe(want.s);
        expect(existsSync(join(dir, "sub/n.txt")) ? readFileSync(join(dir, "sub/n.txt"), "utf8") : null).toBe(want.n);
        cleanup(outside);
      });
    });
  }
});

describe("a finish killed before it moved the branch, then a commit made by hand", () => {
  it("is refused with the way out (git reset --soft), which then completes it", () => {
    inRepo({ "a.txt": "a\n", "u.txt": "u\n" }, (dir) => {
      expect(runPq(dir, "init").status).toBe(0);
      expect(runPq(dir, "new", "p1").status).toBe(0);
      write(dir, "a.txt", "a\np1\n");
      expect(runPq(dir, "refresh").status).toBe(0);
      const base = git(dir, "rev-parse", "HEAD").trim();
      const killed = spawnSync(process.execPath, [PQ, "finish", "-a"], { cwd: dir, env: { ...process.env, PQ_FAILPOINT: "queue-written" } });
      expect(killed.signal).toBe("SIGKILL");
      write(dir, "u.txt", "u\nmine\n");
      git(dir, "commit", "-qm", "mine", "u.txt");
      const stuck = runPq(dir, "top");
      expect(stuck.status).toBe(12);
      expect(stuck.stderr).toContain(`git reset --soft ${base.slice(0, 12)}`);
      git(dir, "reset", "-q", "--soft", base);
      const next = runPq(dir, "series");
      expect(next.status).toBe(0);
      expect(next.stderr).toContain("completed an interrupted operation (finish");
      expect(git(dir, "log", "-1", "--format=%s").trim()).toBe("p1");
      expect(git(dir, "diff", "--cached", "--name-only").trim()).toBe("u.txt");
    });
  });
});

describe("recovery tells pq's own half-written file from an edit (stack-3 #14)", () => {
  it("a prefix of the after version over the before version is pq's write; anything else is an edit", async () => {
    const { halfWritten } = await import("../../src/queue/executor.js");
    // A new file cut short, an in-place rewrite stopped after 3 bytes, and one stopped at 0.
    expect(halfWritten("", null, "whole file\n")).toBe(true);
    expect(halfWritten("who", null, "whole file\n")).toBe(true);
    expect(halfWritten("NEWold text\n", "old old text\n".slice(0, 12), "NEW text\n")).toBe(false);
    expect(halfWritten("NEWold text\n", "xxxold text\n", "NEW text\n")).toBe(true);
    expect(halfWritten("abc", "abc", "abd")).toBe(true);
    // A user's edit is neither.
    expect(halfWritten("who edited\n", null, "whole file\n")).toBe(false);
    expect(halfWritten("NEW", "old text\n", "NEW text\n")).toBe(false);
    expect(halfWritten("x", "old", null)).toBe(false);
  });
});

describe("a file changed while an operation runs, after its plan checked it (safe-6 #14)", () => {
  it("is saved to .pq/backups before the write, the command says where, and the log records it", () => {
    inRepo({ "a.txt": "a\n", "b.txt": "b\n" }, (dir) => {
      expect(runPq(dir, "init").status).toBe(0);
      expect(runPq(dir, "new", "p1").status).toBe(0);
      write(dir, "a.txt", "a\np1 line\n");
      write(dir, "b.txt", "b\np1 line\n");
      expect(runPq(dir, "refresh").status).toBe(0);
      // An autosave lands between the pop's check and its write of a.txt.
      const pop = atFailpoint(dir, "journal-written:sh", ["pop"], { PQ_FAILPOINT_SH: "printf 'a\\np1 line\\nautosaved\\n' > a.txt" });
      expect(pop.status, pop.stderr).toBe(0);
      const saved = /files changed while pop p1 ran were saved in (\S+): the operation wrote its own versions over them/.exec(pop.stderr);
      expect(saved, pop.stderr).not.toBeNull();
      expect(readFileSync(join(saved![1], "a.txt"), "utf8")).toBe("a\np1 line\nautosaved\n");
      expect(existsSync(join(saved![1], "b.txt"))).toBe(false);
      expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\n");
      expect(runPq(dir, "oplog", "--json").stdout).toContain(saved![1]);
    });
  });
});

describe("a symbolic link put where a file was while an operation ran (t32 F6)", () => {
  it("is saved as the link it is, not as a copy of what it points to", () => {
    inRepo({ "a.txt": "a\n" }, (dir) => {
      initWithP1(dir, "a.txt", "a\nA\n");
      const pop = atFailpoint(dir, "planned:sh", ["pop"], { PQ_FAILPOINT_SH: "rm a.txt && ln -s /etc/hostname a.txt" });
      expect(pop.status, pop.stderr).toBe(0);
      const saved = /files changed while pop p1 ran were saved in (\S+):/.exec(pop.stderr);
      expect(saved, pop.stderr).not.toBeNull();
      expect(lstatSync(join(saved![1], "a.txt")).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(saved![1], "a.txt"))).toBe("/etc/hostname");
      // The link was replaced, not written through.
      expect(lstatSync(join(dir, "a.txt")).isSymbolicLink()).toBe(false);
      expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\n");
    });
  });
});

describe("symbolic links and directories put in the tree while an operation ran (t33)", () => {
  /** p1 changes a.txt and adds sub/n.c, which a pop deletes. */
  function p1AddingAFile(dir: string): void {
    initWithP1(dir, "a.txt", "a\nA\n");
    write(dir, "sub/n.c", "new n\n");
    expect(runPq(dir, "add", "sub/n.c").status).toBe(0);
    expect(runPq(dir, "refresh").status).toBe(0);
  }

  it("a refused pop puts the tree back and saves an editor's save to another file first (N1: lost, and 'nothing was changed')", () => {
    inRepo({ "a.txt": "a\n" }, (dir) => {
      p1AddingAFile(dir);
      // A directory where the pop deletes a file (the system refuses the removal), and an editor's save meanwhile.
      const pop = atFailpoint(dir, "planned:sh", ["pop"], { PQ_FAILPOINT_SH: "printf 'edited meanwhile\\n' > a.txt; rm sub/n.c; mkdir sub/n.c" });
      expect(pop.status, pop.stderr).toBe(14);
      const saved = /the tree was put back as it was before it, and files changed while it ran were saved in (\S+) first/.exec(pop.stderr);
      expect(saved, pop.stderr).not.toBeNull();
      expect(readFileSync(join(saved![1], "a.txt"), "utf8")).toBe("edited meanwhile\n");
      // The tree as the stack says it is (p1 applied), the directory left as it is.
      expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\nA\n");
      expect(statSync(join(dir, "sub/n.c")).isDirectory()).toBe(true);
      expect(runPq(dir, "applied").stdout.trim()).toBe("p1");
    });
  });

  it("a dangling symlink where the pop deletes a file is saved as the link it is, live and after a kill (N2)", () => {
    inRepo({ "a.txt": "a\n" }, (dir) => {
      p1AddingAFile(dir);
      const pop = atFailpoint(dir, "planned:sh", ["pop"], { PQ_FAILPOINT_SH: "rm sub/n.c && ln -s /nonexistent/nothere sub/n.c" });
      expect(pop.status, pop.stderr).toBe(0);
      const saved = /were saved in (\S+):/.exec(pop.stderr);
      expect(saved, pop.stderr).not.toBeNull();
      expect(readlinkSync(join(saved![1], "sub/n.c"))).toBe("/nonexistent/nothere");
      // Killed after its journal, then a dangling link where it rewrites a file: the recovery keeps it too.
      expect(runPq(dir, "push").status).toBe(0);
      expect(atFailpoint(dir, "journal-written", ["pop"]).status).not.toBe(0);
      rmSync(join(dir, "a.txt"));
      symlinkSync("/nonexistent/gone", join(dir, "a.txt"));
      const status = runPq(dir, "status");
      expect(status.status, status.stderr).toBe(0);
      const recovered = /saved in (\S+-recover)/.exec(status.stderr);
      expect(recovered, status.stderr).not.toBeNull();
      expect(readlinkSync(join(recovered![1], "a.txt"))).toBe("/nonexistent/gone");
      expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\n");
    });
  });
});

describe("a directory made where an interrupted operation writes a file (safe-6 #17f)", () => {
  it("is named, with the way out; once it is moved away the next command completes the operation", () => {
    inRepo({ "a.txt": "a\n" }, (dir) => {
      initWithP1(dir, "a.txt", "a\nA\n");
      expect(runPq(dir, "pop").status).toBe(0);
      expect(atFailpoint(dir, "journal-written", ["push"]).status).not.toBe(0);
      rmSync(join(dir, "a.txt"));
      write(dir, "a.txt/inner", "precious\n");
      const blocked = runPq(dir, "status");
      expect(blocked.status).toBe(13);
      expect(blocked.stderr).toContain("a.txt is a directory where the interrupted push p1 writes a file (or no file)");
      expect(readFileSync(join(dir, "a.txt/inner"), "utf8")).toBe("precious\n");
      renameSync(join(dir, "a.txt"), join(dir, "moved"));
      expect(runPq(dir, "status").status).toBe(0);
      expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\nA\n");
    });
  });
});

describe("a patch file saved by an editor in the instant pq replaces it (verify-6 N1)", () => {
  // The save lands after the check before the write, in the inode the rename then drops: the
  // failpoint runs it between pq's check and its rename, as an editor's append would.
  const lateSave = { PQ_FAILPOINT_SH: "printf '# my note, saved meanwhile\\n' >> patches/p1" };
  const backupOf = (dir: string, stderr: string) => {
    const saved = /files changed while .* ran were saved in (\S+): the operation wrote its own versions over them/.exec(stderr);
    expect(saved, stderr).not.toBeNull();
    return readFileSync(join(saved![1], "p1"), "utf8");
  };
  for (const args of [["refresh"], ["header", "-m", "new subject"]]) {
    it(`is saved to .pq/backups by ${args[0]}, which says where`, () => {
      inRepo({ "f.txt": "a\nb\n" }, (dir) => {
        initWithP1(dir, "f.txt", "a\nB\n", "-m", "subject");
        write(dir, "f.txt", "A\nB\n");
        const run = atFailpoint(dir, "queue-held:sh", args, lateSave);
        expect(run.status, run.stderr).toBe(0);
        expect(backupOf(dir, run.stderr)).toContain("# my note, saved meanwhile");
        expect(readFileSync(join(dir, "patches/p1"), "utf8")).not.toContain("my note");
        // Nothing of the hold is left beside the patch.
        expect(readdirSync(join(dir, "patches")).sort()).toEqual(["p1", "series"]);
      });
    });
  }
  it("a save made while the plan ran (after it read the patch, before the journal) is saved too (verify-10 Y8)", () => {
    inRepo({ "f.txt": "a\nb\n" }, (dir) => {
      initWithP1(dir, "f.txt", "a\nB\n", "-m", "subject");
      write(dir, "f.txt", "A\nB\n");
      const run = atFailpoint(dir, "planned:sh", ["refresh"], lateSave);
      expect(run.status, run.stderr).toBe(0);
      expect(backupOf(dir, run.stderr)).toContain("# my note, saved meanwhile");
    });
  });
  it("a hold a killed pq left is read by the recovery, and an editor's save into it kept", () => {
    inRepo({ "f.txt": "a\nb\n" }, (dir) => {
      initWithP1(dir, "f.txt", "a\nB\n", "-m", "subject");
      write(dir, "f.txt", "A\nB\n");
      expect(atFailpoint(dir, "queue-written", ["refresh"]).status).not.toBe(0);
      const holds = readdirSync(join(dir, "patches")).filter((name) => name.startsWith("p1.held.tmp-"));
      expect(holds).toHaveLength(1);
      // The editor had the old file open and saves into it after the rename.
      writeFileSync(join(dir, "patches", holds[0]), "# my note, saved into the old file\n", { flag: "a" });
      const next = runPq(dir, "status");
      expect(next.status, next.stderr).toBe(0);
      const saved = /saved in (\S+?recover-queue\S*)/.exec(next.stderr + next.stdout);
      expect(saved, next.stderr).not.toBeNull();
      expect(readFileSync(join(saved![1], "p1"), "utf8")).toContain("# my note, saved into the old file");
      expect(readdirSync(join(dir, "patches")).sort()).toEqual(["p1", "series"]);
    });
  });
});

describe("a refresh's unstaging is part of its transaction (safe-6 #5, #6)", () => {
  it("a killed refresh is completed with it, and undo stages the files again", () => {
    inRepo({ "f.txt": "a\n" }, (dir) => {
      expect(runPq(dir, "init").status).toBe(0);
      expect(runPq(dir, "new", "p1").status).toBe(0);
      write(dir, "f.txt", "a\nA\n");
      write(dir, "n.txt", "N\n");
      git(dir, "add", "f.txt", "n.txt");
      const killed = atFailpoint(dir, "journal-written", ["refresh"]);
      expect(killed.signal).toBe("SIGKILL");
      expect(runPq(dir, "status").stderr).toContain("completed an interrupted operation (refresh p1)");
      const status = () => git(dir, "status", "--porcelain", "--", "f.txt", "n.txt");
      expect(status()).toBe(" M f.txt\n?? n.txt\n");
      expect(runPq(dir, "undo").status).toBe(0);
      expect(status()).toBe("M  f.txt\nA  n.txt\n");
      expect(runPq(dir, "redo").status).toBe(0);
      expect(status()).toBe(" M f.txt\n?? n.txt\n");
    });
  });
});

describe("a journal whose directory became a symlink since (safe-6 #8)", () => {
  it("is named as pq's own, not replayed through the link, and completed once the directory is back", () => {
    inRepo({ "a.txt": "a\n" }, (dir) => {
      expect(runPq(dir, "init").status).toBe(0);
      expect(runPq(dir, "new", "p1").status).toBe(0);
      write(dir, "d/x.txt", "x\n");
      expect(runPq(dir, "add", "d/x.txt").status).toBe(0);
      expect(runPq(dir, "refresh").status).toBe(0);
      expect(runPq(dir, "pop").status).toBe(0);
      const killed = atFailpoint(dir, "journal-written", ["push"]);
      expect(killed.signal).toBe("SIGKILL");
      // Killed before the tree was written: d/ is not there yet, and a symlink takes its place.
      expect(existsSync(join(dir, "d"))).toBe(false);
      const outside = tempDir("pq-outside-");
      symlinkSync(outside, join(dir, "d"));
      const status = runPq(dir, "status");
      expect(status.status).toBe(7);
      expect(status.stderr).toContain("an interrupted operation (push p1) cannot be completed: d/x.txt goes through the symlink d");
      expect(status.stderr).not.toContain("pq never writes");
      expect(readdirSync(outside)).toEqual([]);
      rmSync(join(dir, "d"));
      expect(runPq(dir, "status").stderr).toContain("completed an interrupted operation (push p1)");
      expect(readFileSync(join(dir, "d", "x.txt"), "utf8")).toBe("x\n");
      cleanup(outside);
    });
  });
});

describe("scratch directories a killed pq left in the temporary directory (safe-6 #1)", () => {
  it("are removed when the next one is made", () => {
    inRepo({ "a.txt": "a\n" }, (dir) => {
      // A pid that is surely gone: a process that ran and was reaped.
      const gone = spawnSync("true").pid!;
      const left = join(tmpdir(), `pq-index-${gone}-XyZ123`);
      write(left, "index", "left by a killed pq\n");
      expect(runPq(dir, "init").status).toBe(0);
      expect(runPq(dir, "new", "p1", "-m", "p1").status).toBe(0);
      write(dir, "a.txt", "a\nb\n");
      expect(runPq(dir, "refresh").status).toBe(0);
      expect(runPq(dir, "finish", "-a").status).toBe(0);
      expect(existsSync(left)).toBe(false);
    });
  });
});

describe("a journal with trash copies, in a tree moved since (safe-6 #8)", () => {
  it("is completed in the tree's new place", () => {
    inRepo({ "a.txt": "a\n" }, (dir) => {
      expect(runPq(dir, "init").status).toBe(0);
      expect(runPq(dir, "new", "p1").status).toBe(0);
      expect(runPq(dir, "pop").status).toBe(0);
      expect(atFailpoint(dir, "journal-written", ["delete", "p1"]).signal).toBe("SIGKILL");
      const moved = `${dir}-moved`;
      renameSync(dir, moved);
      try {
        const status = runPq(moved, "status");
        expect(status.stderr).toContain("completed an interrupted operation (delete p1)");
        expect(readdirSync(join(moved, ".pq", "trash")).some((f) => f.endsWith("p1"))).toBe(true);
      } finally {
        renameSync(moved, dir);
      }
    });
  });
});

describe("a trash copy a kill cut short (verify-10 Y1)", () => {
  it("is written again, whole, by the command that completes the operation", () => {
    inRepo({ "a.txt": "a\n" }, (dir) => {
      expect(runPq(dir, "init").status).toBe(0);
      expect(runPq(dir, "new", "p1", "-m", "a patch whose copy must survive").status).toBe(0);
      write(dir, "a.txt", "a\nb\n");
      expect(runPq(dir, "refresh").status).toBe(0);
      expect(runPq(dir, "pop").status).toBe(0);
      const text = readFileSync(join(dir, "patches", "p1"), "latin1");
      expect(atFailpoint(dir, "tree-written", ["delete", "p1"]).signal).toBe("SIGKILL");
      // As the kill left it in the middle of writing the copy: its first bytes only.
      const journal = JSON.parse(readFileSync(join(dir, ".pq", "journal.json"), "utf8")) as { trash: [string, string, string][] };
      const dest = journal.trash[0][1];
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, text.slice(0, 10), "latin1");
      // And the temporary file of a second attempt, killed too (its pid is no process's now).
      writeFileSync(`${dest}.tmp-999999`, text.slice(0, 5), "latin1");
      const status = runPq(dir, "status");
      expect(status.stderr).toContain("completed an interrupted operation (delete p1)");
      expect(readFileSync(dest, "latin1")).toBe(text);
      expect(existsSync(`${dest}.tmp-999999`)).toBe(false);
      expect(existsSync(join(dir, "patches", "p1"))).toBe(false);
    });
  });
});

describe("a pq rebase --abort killed between its transactions (t65 N4)", () => {
  it("is an abort to finish: status says so, --continue refuses without moving anything, --abort finishes it", () => {
    inRepo({ "a.txt": Array.from({ length: 30 }, (_, i) => `${i + 1}\n`).join("") }, (dir) => {
      git(dir, "checkout", "-q", "-b", "up");
      write(dir, "a.txt", readFileSync(join(dir, "a.txt"), "utf8").replace("5\n", "UP\n"));
      git(dir, "commit", "-qam", "up1");
      git(dir, "checkout", "-q", "-");
      const base = git(dir, "rev-parse", "HEAD").trim();
      expect(runPq(dir, "init").status).toBe(0);
      expect(runPq(dir, "new", "p1").status).toBe(0);
      write(dir, "a.txt", readFileSync(join(dir, "a.txt"), "utf8").replace("5\n", "five\n"));
      expect(runPq(dir, "refresh").status).toBe(0);
      const before = snapshot(dir);
      expect(runPq(dir, "rebase", "up").status).toBe(6);
      expect(atFailpoint(dir, "journal-written", ["rebase", "--abort"]).signal).toBe("SIGKILL");
      expect(runPq(dir, "status").stdout).toContain("its --abort was interrupted: pq rebase --abort finishes it");
      const head = git(dir, "rev-parse", "HEAD").trim();
      const goOn = runPq(dir, "rebase", "--continue");
      expect([goOn.status, goOn.stderr]).toEqual([12, expect.stringContaining("a pq rebase --abort was interrupted; the rebase cannot go on")]);
      expect(git(dir, "rev-parse", "HEAD").trim()).toBe(head);
      expect(runPq(dir, "rebase", "--abort").status).toBe(0);
      expect(git(dir, "rev-parse", "HEAD").trim()).toBe(base);
      expect(snapshot(dir)).toEqual(before);
    });
  });
});

describe("pq restore-queue beside another pq's operation (t65 N5)", () => {
  it("is told the tree is locked, and writes nothing", () => {
    inRepo({ "a.txt": "a\n" }, (dir) => {
      expect(runPq(dir, "init").status).toBe(0);
      for (const [name, line] of [
        ["p1", "x"],
        ["p2", "y"],
      ]) {
        expect(runPq(dir, "new", name).status).toBe(0);
        write(dir, "a.txt", readFileSync(join(dir, "a.txt"), "utf8") + `${line}\n`);
        expect(runPq(dir, "refresh").status).toBe(0);
      }
      expect(runPq(dir, "pop").status).toBe(0);
      const during = atFailpoint(dir, "queue-written:sh", ["rename", "p2", "p3"], {
        PQ_FAILPOINT_SH: `"${process.execPath}" "${PQ}" restore-queue > rq.out 2>&1; echo "rc=$?" >> rq.out`,
      });
      expect(during.status).toBe(0);
      const said = readFileSync(join(dir, "rq.out"), "utf8");
      expect(said).toContain("the tree is locked by pid");
      expect(said).toContain("rc=4");
      expect(readdirSync(join(dir, "patches")).sort()).toEqual(["p1", "p3", "series"]);
      // Beside a killed operation's journal: that operation is completed first, by pq status (t66).
      expect(atFailpoint(dir, "journal-written", ["delete", "p3"]).signal).toBe("SIGKILL");
      const beside = runPq(dir, "restore-queue");
      expect([beside.status, beside.stderr]).toEqual([12, expect.stringContaining("an interrupted operation waits to be completed")]);
      expect(runPq(dir, "status").status).toBe(0);
      expect(runPq(dir, "restore-queue").stdout).toContain("nothing to restore");
      expect(readdirSync(join(dir, "patches")).sort()).toEqual(["p1", "series"]);
    });
  });
});
