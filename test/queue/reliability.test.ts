/**
 * Regression tests for what a hostile tester found: edits lost, writes where none belong,
 * crashes instead of messages. Each runs on a real temporary git repository.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PqError } from "../../src/errors.js";
import { Stack } from "../../src/queue/stack.js";
import { cleanup, git, makeRepo, pq, read, write, expectPqError } from "../helpers/repo.js";

/** A pid namespace with a process in it (a running container's, made with unshare), or null where unshare cannot make one. */
async function liveNamespace(): Promise<{ namespace: string; stop: () => void } | null> {
  const child = require("node:child_process").spawn("unshare", ["--pid", "--fork", "--kill-child", "--mount-proc", "sh", "-c", "readlink /proc/self/ns/pid; exec sleep 30"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const namespace = await new Promise<string | null>((res) => {
    child.stdout.once("data", (d: Buffer) => res(String(d).trim()));
    child.once("exit", () => res(null));
    child.once("error", () => res(null));
  });
  if (namespace === null || !/^pid:\[\d+\]$/.test(namespace)) {
    child.kill("SIGKILL");
    return null;
  }
  return { namespace, stop: () => child.kill("SIGKILL") };
}

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});
function repo(files: Record<string, string>): string {
  const d = makeRepo(files);
  dirs.push(d);
  return d;
}
const lines = (n: number, tag = "line") => Array.from({ length: n }, (_, i) => `${tag} ${i + 1}\n`).join("");
const PQ = resolve("bin/pq.js");
const runPq = (cwd: string, args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [PQ, ...args], { cwd, encoding: "utf8", env: { ...process.env, ...env } });

/** A directory of its own, no repository (a queue directory several trees use). */
function plainDir(): string {
  const dir = repo({});
  rmSync(join(dir, ".git"), { recursive: true, force: true });
  return dir;
}

/**
 * A live pq-like process (a Node that waits) holding the lock file `path`, written as pq writes
 * one (pid, pid namespace and host, start time); `stop` kills it.
 */
function liveLockHolder(path: string): { pid: number; stop: () => void } {
  const here = `${require("node:fs").readlinkSync("/proc/self/ns/pid")} ${require("node:os").hostname()}`;
  const holder = require("node:child_process").spawn(process.execPath, ["-e", "setTimeout(() => {}, 20000)"], { stdio: "ignore" });
  const stat = readFileSync(`/proc/${holder.pid}/stat`, "latin1");
  const started = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  writeFileSync(path, `${holder.pid}\n${here}\n${started}\n`);
  return { pid: holder.pid, stop: () => holder.kill("SIGKILL") };
}

/** Two trees of one file each with a stack on one queue directory outside both (pq init --queue DIR in each). */
function twoTreesOnOneQueue(files: [Record<string, string>, Record<string, string>] = [{ "f.txt": "base\n" }, { "f.txt": "base\n" }]) {
  const queue = plainDir();
  const trees = files.map((f) => repo(f));
  for (const tree of trees) expect(runPq(tree, ["init", "--queue", queue]).status).toBe(0);
  return { queue, a: trees[0], b: trees[1], trees };
}

/**
 * Damages pq's object packs in place, their sizes whole: flips the byte `offset` into the first
 * copy of each mark in each pack (every copy, with `every`), in `packs` or all of them. Returns
 * how many bytes it flipped.
 */
function flipInPacks(dir: string, marks: string[], opts: { offset: number; every?: boolean; packs?: string[] }): number {
  const objects = join(dir, ".pq/objects");
  let flipped = 0;
  for (const f of opts.packs ?? readdirSync(objects).filter((f) => f.startsWith("pack-"))) {
    const bytes = readFileSync(join(objects, f));
    const before = flipped;
    for (const mark of marks) {
      for (let at = bytes.indexOf(mark); at !== -1; at = opts.every ? bytes.indexOf(mark, at + 1) : -1, flipped++) bytes[at + opts.offset] ^= 0x55;
    }
    if (flipped > before) writeFileSync(join(objects, f), bytes);
  }
  return flipped;
}

describe("edits are never lost", () => {
  it("push refuses over unrefreshed edits to a file the pushed patch changes (and pop -a then loses nothing)", async () => {
    const dir = repo({ "a.txt": lines(20) });
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("one");
    write(dir, "a.txt", read(dir, "a.txt").replace("line 2\n", "line two\n"));
    await stack.refresh();
    await stack.newPatch("two");
    write(dir, "a.txt", read(dir, "a.txt").replace("line 18\n", "line eighteen\n"));
    await stack.refresh();
    await stack.pop();
    write(dir, "a.txt", read(dir, "a.txt").replace("line 10\n", "my edit\n"));
    const e = await expectPqError(stack.push(), "dirty");
    expect(e.data.files).toEqual(["a.txt"]);
    expect(read(dir, "a.txt")).toContain("my edit\n");
    await expectPqError(stack.pop({ all: true }), "dirty");
    expect(read(dir, "a.txt")).toContain("my edit\n");
  });

  it("push refuses over edits since HEAD to a file no applied patch changes, cached push or not, goto too", async () => {
    const dir = repo({ "a.txt": lines(40), "b.txt": lines(5, "b") });
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("one");
    write(dir, "a.txt", read(dir, "a.txt").replace("line 30\n", "thirty\n"));
    await stack.refresh();
    await stack.pop();
    write(dir, "a.txt", read(dir, "a.txt").replace("line 5\n", "my edit\n"));
    // Twice: the second push would be a reuse of the first one's result, were the file unchanged.
    for (const attempt of [() => stack.push(), () => stack.goto("one"), () => stack.push({ dryRun: true })]) {
      const e = await expectPqError(attempt(), "dirty");
      expect(e.data).toMatchObject({ patch: "one", files: ["a.txt"] });
      expect(e.details.join("\n")).toMatch(/set them aside: git diff -- a.txt > mine.diff, git checkout -- a.txt/);
    }
    expect(read(dir, "a.txt")).toContain("my edit\n");
    expect(stack.applied()).toEqual([]);
    // A staged edit is an edit too; an edit elsewhere is not in the way.
    git(dir, "checkout", "a.txt");
    write(dir, "a.txt", read(dir, "a.txt").replace("line 6\n", "staged\n"));
    git(dir, "add", "a.txt");
    await expectPqError(stack.push(), "dirty");
    git(dir, "reset", "-q", "--hard");
    write(dir, "b.txt", "edited b\n");
    await stack.push();
    expect(read(dir, "a.txt")).toContain("thirty\n");
    expect(read(dir, "b.txt")).toBe("edited b\n");
    // With a patch applied, the advice for a file no applied patch changes is still to stash, not a forced pop (which would not touch it).
    await stack.newPatch("bee");
    await stack.refresh({ files: ["b.txt"] });
    await stack.pop();
    write(dir, "b.txt", "edited b again\n");
    const e = await expectPqError(stack.push(), "dirty");
    expect(e.details.join("\n")).not.toContain("pop --force");
    expect(e.details.join("\n")).toContain("set them aside: git diff -- b.txt > mine.diff");
  });

  it("two Stack objects on one tree: the second sees the first one's push before it refreshes", async () => {
    const dir = repo({ "a.txt": lines(10), "b.txt": lines(10, "b") });
    const first = await Stack.init({ tree: dir });
    await first.newPatch("p1");
    write(dir, "a.txt", read(dir, "a.txt").replace("line 1\n", "p1\n"));
    await first.refresh();
    await first.newPatch("p2");
    write(dir, "b.txt", read(dir, "b.txt").replace("b 1\n", "p2\n"));
    await first.refresh();
    await first.pop();
    const tui = await Stack.open({ tree: dir }); // opened now, used later: like the TUI
    await first.push();
    write(dir, "b.txt", read(dir, "b.txt").replace("b 5\n", "more p2\n"));
    await tui.refresh();
    expect(tui.top()).toBe("p2");
    const p1 = read(join(dir, "patches"), "p1");
    expect(p1).not.toContain("more p2");
    expect(read(join(dir, "patches"), "p2")).toContain("+more p2");
  });

  it("a lock whose owner is a zombie (killed, not yet reaped) is taken over", async () => {
    const dir = repo({ "a.txt": "a\n" });
    expect(runPq(dir, ["init"]).status).toBe(0);
    // perl forks a child that exits at once and never waits for it: a zombie for as long as perl sleeps. (A shell
    // that execs sleep after starting the child could reap it first on a loaded machine: readme-15 F10.)
    const parent = require("node:child_process").spawn("perl", ["-e", '$| = 1; my $pid = fork() // die; if ($pid == 0) { exit 0 } print "$pid\\n"; sleep 5'], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    const zombie = await new Promise<number>((res) => parent.stdout.once("data", (d: Buffer) => res(parseInt(String(d), 10))));
    try {
      for (let i = 0; i < 100 && !readFileSync(`/proc/${zombie}/stat`, "latin1").includes(") Z "); i++) await new Promise((r) => setTimeout(r, 20));
      expect(readFileSync(`/proc/${zombie}/stat`, "latin1")).toContain(") Z ");
      writeFileSync(join(dir, ".pq/lock"), `${zombie}\n`);
      const r = runPq(dir, ["new", "after-zombie"]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
    } finally {
      parent.kill("SIGKILL");
    }
  });

  it("a lock taken in another pid namespace or host is never taken over: its owner may run there (t56 N2)", async () => {
    const dir = repo({ "a.txt": "a\n" });
    expect(runPq(dir, ["init"]).status).toBe(0);
    // A pid no process here has (a container's pq, pid 401 there), written with another namespace's name.
    const free = 4_000_000;
    writeFileSync(join(dir, ".pq/lock"), `${free}\npid:[1] elsewhere-host\n`);
    const r = runPq(dir, ["new", "while-a-container-runs"]);
    expect(r.status).toBe(4);
    expect(r.stderr).toContain(`locked by pid ${free} of another pid namespace or host`);
    expect(readFileSync(join(dir, ".pq/lock"), "utf8")).toContain("elsewhere-host");
    // The same dead pid written here (this namespace and host): a stale lock, taken over as before.
    const here = `${require("node:fs").readlinkSync("/proc/self/ns/pid")} ${require("node:os").hostname()}`;
    writeFileSync(join(dir, ".pq/lock"), `${free}\n${here}\n`);
    expect(runPq(dir, ["new", "after-a-stale-lock"]).status).toBe(0);
    expect(existsSync(join(dir, ".pq/lock"))).toBe(false); // released after it
  });

  it("a lock written on this boot in this pid namespace under another host name (renamed since) is judged by its pid (t59 N4)", async () => {
    const dir = repo({ "a.txt": "a\n" });
    expect(runPq(dir, ["init"]).status).toBe(0);
    const namespace = require("node:fs").readlinkSync("/proc/self/ns/pid");
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "latin1").trim();
    const free = 4_000_000;
    // A dead pid under the machine's old name: stale, taken over (it was "another host's" for ever).
    writeFileSync(join(dir, ".pq/lock"), `${free}\n${namespace} old-name\n1\n${boot}\n`);
    const r = runPq(dir, ["new", "after-a-rename-of-the-host"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    // A live pq under the old name: another pq running here, held.
    const other = require("node:child_process").spawn(process.execPath, ["-e", "setTimeout(() => {}, 20000)"], { stdio: "ignore" });
    try {
      const stat = readFileSync(`/proc/${other.pid}/stat`, "latin1");
      const started = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
      writeFileSync(join(dir, ".pq/lock"), `${other.pid}\n${namespace} old-name\n${started}\n${boot}\n`);
      // Refused after PQ_LOCK_TIMEOUT's wait instead of the usual 10 s.
      const held = runPq(dir, ["new", "while-held"], { PQ_LOCK_TIMEOUT: "0.3" });
      expect(held.status).toBe(4);
      expect(held.stderr).toContain(`locked by pid ${other.pid} (another pq is running)`);
    } finally {
      other.kill("SIGKILL");
    }
    // Another boot under another name: another machine, or this one before a reboot and a rename, which pq cannot tell apart.
    writeFileSync(join(dir, ".pq/lock"), `${free}\n${namespace} old-name\n1\nanother-boot\n`);
    expect(runPq(dir, ["new", "after-another-boot"]).stderr).toContain("of another pid namespace or host");
    // Another namespace on this boot that still has processes: a container's, never taken over.
    const container = await liveNamespace();
    if (container !== null) {
      try {
        writeFileSync(join(dir, ".pq/lock"), `${free}\n${container.namespace} ${require("node:os").hostname()}\n1\n${boot}\n`);
        expect(runPq(dir, ["new", "while-a-container-runs"]).stderr).toContain("of another pid namespace or host");
      } finally {
        container.stop();
      }
    }
  });

  it("a lock taken in a container that is gone (its pid namespace has no process left) is taken over from the host (t58 N5)", async () => {
    const dir = repo({ "a.txt": "a\n" });
    expect(runPq(dir, ["init"]).status).toBe(0);
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "latin1").trim();
    const host = require("node:os").hostname();
    // pid:[1] is no namespace any process has: the container was stopped (docker stop killed its pq).
    writeFileSync(join(dir, ".pq/lock"), `2\npid:[1] ${host}\n1\n${boot}\n`);
    const r = runPq(dir, ["new", "after-the-container-went"]);
    // Only the machine's first namespace sees every process; inside a container pq cannot tell, and waits.
    if (require("node:fs").readlinkSync("/proc/self/ns/pid") === "pid:[4026531836]" && process.getuid?.() === 0) {
      expect([r.status, r.stderr]).toEqual([0, ""]);
      expect(existsSync(join(dir, "patches/after-the-container-went"))).toBe(true);
    } else expect([r.status, r.stderr]).toEqual([4, expect.stringContaining("of another pid namespace or host")]);
    // Written on another boot, the same namespace name is another machine's: held.
    writeFileSync(join(dir, ".pq/lock"), `2\npid:[1] ${host}\n1\nanother-boot\n`);
    expect(runPq(dir, ["new", "after-another-boot"]).stderr).toContain("of another pid namespace or host");
  });

  it("a shared queue directory outside the tree keeps its lock files out of its own git status, and a take-over sweeps what killed pqs left (t140 N6)", () => {
    const remote = plainDir();
    git(remote, "init", "-q", "--bare", "-b", "main", ".");
    const seed = repo({ series: "" });
    git(seed, "push", "-q", remote, "HEAD:main");
    const tree = repo({ "f.txt": "base\n" });
    const queue = join(plainDir(), "qs");
    expect(runPq(tree, ["init", "--shared", remote, "--queue", queue]).status).toBe(0);
    // Listed from pq init on, before any command took the lock (t147 N6).
    expect(readFileSync(join(queue, ".git/info/exclude"), "utf8")).toContain("/.pq-lock*\n");
    // What a pq killed in create()'s or a take-over's microsecond windows leaves (pids no process has).
    writeFileSync(join(queue, ".pq-lock.99998"), "99998\n");
    writeFileSync(join(queue, ".pq-lock.stale-99997"), "99997\n");
    expect(runPq(tree, ["new", "a1"]).status).toBe(0);
    const status = git(queue, "status", "--porcelain", "--untracked-files=all");
    expect(status).toContain("a1");
    expect(status).not.toContain(".pq-lock");
    expect(existsSync(join(queue, ".pq-lock.stale-99997"))).toBe(true);
    // A dead pq's lock, taken over: the leftovers of dead pqs go with it.
    writeFileSync(join(queue, ".pq-lock"), "99996\n");
    expect(runPq(tree, ["new", "a2"]).status).toBe(0);
    expect(readdirSync(queue).filter((name) => name.startsWith(".pq-lock"))).toEqual([]);
  });

  it("two trees on one queue directory: a command in one waits for the other's, and neither drops the other's series line (t114 N1)", async () => {
    const { queue, trees } = twoTreesOnOneQueue([{ "a.txt": "a\n" }, { "b.txt": "b\n" }]);
    const run = (cwd: string, args: string[]) =>
      new Promise<{ status: number | null; stderr: string }>((done) => {
        const child = require("node:child_process").spawn(process.execPath, [PQ, ...args], { cwd, stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("close", (status: number | null) => done({ status, stderr }));
      });
    // Both at once, several times: without the queue's lock one tree's series write dropped the other's line in 7-10 tries of 10.
    for (let round = 1; round <= 4; round++) {
      const results = await Promise.all(trees.map((tree, i) => run(tree, ["new", `round${round}-tree${i}`])));
      for (const r of results) expect(r).toEqual({ status: 0, stderr: "" });
    }
    const listed = readFileSync(join(queue, "series"), "utf8").trim().split("\n").sort();
    expect(listed).toEqual([1, 2, 3, 4].flatMap((round) => [`round${round}-tree0`, `round${round}-tree1`]));
    for (const tree of trees) {
      expect(existsSync(join(tree, ".pq/backups"))).toBe(false);
      expect(runPq(tree, ["status"]).status).toBe(0);
    }
    expect(readdirSync(queue).filter((name) => name.startsWith(".pq-lock"))).toEqual([]);
    // A live pq-like holder of the queue's lock: the other tree's command waits for it, then is refused, nothing changed.
    const other = liveLockHolder(join(queue, ".pq-lock"));
    try {
      const series = readFileSync(join(queue, "series"), "utf8");
      const held = runPq(trees[1], ["new", "while-held"], { PQ_LOCK_TIMEOUT: "0.3" });
      expect(held.status).toBe(4);
      expect(held.stderr).toContain(`the queue directory ${queue} is locked by pid ${other.pid} (another pq is running)`);
      expect(held.stderr).toContain(`if no pq is running, remove ${join(queue, ".pq-lock")}`);
      expect(readFileSync(join(queue, "series"), "utf8")).toBe(series);
      expect(existsSync(join(queue, "while-held"))).toBe(false);
      // ci reads a copy of the queue, which does not take the lock along (the copy's stack would wait for its holder).
      const ci = runPq(trees[0], ["ci", "--run", "true"], { PQ_LOCK_TIMEOUT: "0.3" });
      expect(ci.status, ci.stderr).toBe(0);
      expect(ci.stderr).not.toContain("locked");
    } finally {
      other.stop();
    }
    // Its holder gone: taken over.
    expect(runPq(trees[1], ["new", "after-it"]).status).toBe(0);
    // Held by the process that started this pq (a sync --check whose --run runs pq in another tree
    // of the queue: each waited for the other until PQ_LOCK_TIMEOUT, t140 N7): refused at once.
    const stat = readFileSync(`/proc/${process.pid}/stat`, "latin1");
    const here = `${require("node:fs").readlinkSync("/proc/self/ns/pid")} ${require("node:os").hostname()}`;
    writeFileSync(join(queue, ".pq-lock"), `${process.pid}\n${here}\n${stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]}\n`);
    const series = readFileSync(join(queue, "series"), "utf8");
    const own = runPq(trees[1], ["new", "under-its-caller"], { PQ_LOCK_TIMEOUT: "3" });
    expect(own.status).toBe(4);
    expect(own.stderr).toContain(
      `the queue directory ${queue} is locked by pid ${process.pid}, the pq that started this command (through a command it runs, such as a --run of pq ci or pq sync --check)`,
    );
    expect(readFileSync(join(queue, "series"), "utf8")).toBe(series);
    rmSync(join(queue, ".pq-lock"));
    expect(existsSync(join(queue, ".pq-lock"))).toBe(false);
    // A lock naming a shell that started this pq (a dead pq's pid reused) is no pq's: said as such (t147 N7).
    const viaShell = spawnSync("sh", ["-c", `echo $$ > ${join(queue, ".pq-lock")}; "${process.execPath}" "${PQ}" new under-a-shell; echo rc=$?`], {
      cwd: trees[1],
      encoding: "utf8",
      env: { ...process.env, PQ_LOCK_TIMEOUT: "3" },
    });
    expect(viaShell.stdout).toContain("rc=4");
    expect(viaShell.stderr).toMatch(/locked by pid \d+, which runs sh, not pq/);
    rmSync(join(queue, ".pq-lock"));
  });

  it("a pq killed in one tree, another tree's series change meanwhile: completing the operation keeps the other tree's line (t140 N2)", () => {
    for (const failpoint of ["journal-written", "queue-written"]) {
      const { queue, a, b } = twoTreesOnOneQueue();
      expect(runPq(a, ["new", "a1", "-m", "a1"]).status).toBe(0);
      const killed = runPq(a, ["rename", "a1", "a1-renamed"], { PQ_FAILPOINT: failpoint });
      expect(killed.signal).toBe("SIGKILL");
      // The dead pq's queue lock is taken over; its operation waits in a's journal.
      expect(runPq(b, ["new", "b1", "-m", "b1"]).status).toBe(0);
      const completed = runPq(a, ["top"]);
      expect([completed.status, completed.stdout]).toEqual([0, "a1-renamed\n"]);
      expect(completed.stderr).toContain("completed an interrupted operation (rename a1 a1-renamed)");
      expect(completed.stderr).not.toContain("saved");
      expect(readFileSync(join(queue, "series"), "utf8")).toBe("b1\na1-renamed\n");
      expect(existsSync(join(queue, "a1"))).toBe(false);
      expect(existsSync(join(a, ".pq/backups"))).toBe(false);
      // b's stack is whole: its next command works.
      const next = runPq(b, ["new", "b2"]);
      expect([next.status, next.stderr]).toEqual([0, ""]);
    }
  });

  it("a pq killed in one tree, a conflicting series change in another meanwhile: the operation's series is written with the other tree's new patch in it, the file as it was saved (t141 N10)", () => {
    const { queue, a, b } = twoTreesOnOneQueue();
    for (const n of [1, 2, 3, 4]) expect(runPq(a, ["new", `a${n}`]).status).toBe(0);
    expect(runPq(a, ["pop", "-a"]).status).toBe(0);
    expect(runPq(a, ["reorder", "a4", "--first"], { PQ_FAILPOINT: "journal-written" }).signal).toBe("SIGKILL");
    // b reorders too (no merge of two orders) and adds its own patch, applied there.
    expect(runPq(b, ["reorder", "a1", "--last"]).status).toBe(0);
    expect(runPq(b, ["new", "b1", "-m", "b's work"]).status).toBe(0);
    const theirs = readFileSync(join(queue, "series"), "utf8");
    expect(theirs).toBe("b1\na2\na3\na4\na1\n");
    const completed = runPq(a, ["series"]);
    expect(completed.status).toBe(0);
    const saved = /saved in (\S+-recover-queue)/.exec(completed.stderr)?.[1];
    expect(saved, completed.stderr).toBeDefined();
    expect(readFileSync(join(saved!, "series"), "utf8")).toBe(theirs);
    expect(readFileSync(join(queue, "series"), "utf8")).toBe("a4\na1\nb1\na2\na3\n");
    // b's applied patch is still listed: its next command works.
    const next = runPq(b, ["new", "b2"]);
    expect([next.status, next.stderr]).toEqual([0, ""]);
  });

  it("a delete killed in one tree, the same patch renamed in another meanwhile: the renamed patch, applied there, stays listed (t147 N1)", () => {
    const { queue, a, b } = twoTreesOnOneQueue();
    for (const name of ["p", "q"]) expect(runPq(a, ["new", name]).status).toBe(0);
    expect(runPq(a, ["pop", "-a"]).status).toBe(0);
    expect(runPq(b, ["push", "q"]).status).toBe(0);
    expect(runPq(a, ["delete", "q"], { PQ_FAILPOINT: "journal-written" }).signal).toBe("SIGKILL");
    expect(runPq(b, ["rename", "q", "q2"]).status).toBe(0);
    expect(runPq(a, ["series"]).status).toBe(0);
    expect(readFileSync(join(queue, "series"), "utf8")).toBe("p\nq2\n");
    const next = runPq(b, ["new", "r"]);
    expect([next.status, next.stderr]).toEqual([0, ""]);
  });

  it("a pq new killed in one tree, a patch of the same name made and refreshed in another meanwhile: that tree's work stays, the killed one's version is saved (t147 N8)", () => {
    const { queue, a, b } = twoTreesOnOneQueue();
    expect(runPq(a, ["new", "fix", "-m", "a's fix"], { PQ_FAILPOINT: "journal-written" }).signal).toBe("SIGKILL");
    expect(runPq(b, ["new", "fix", "-m", "b's fix"]).status).toBe(0);
    writeFileSync(join(b, "f.txt"), "base\nb's work\n");
    expect(runPq(b, ["refresh"]).status).toBe(0);
    const theirs = readFileSync(join(queue, "fix"), "utf8");
    const completed = runPq(a, ["top"]);
    expect(completed.status).toBe(0);
    const saved = /saved in (\S+-recover-queue-not-written)/.exec(completed.stderr)?.[1];
    expect(saved, completed.stderr).toBeDefined();
    expect(readFileSync(join(saved!, "fix"), "utf8")).toContain("a's fix");
    expect(readFileSync(join(queue, "fix"), "utf8")).toBe(theirs);
    expect(readFileSync(join(queue, "series"), "utf8")).toBe("fix\n");
    expect(runPq(b, ["status"]).stdout).not.toContain("changed in the queue");
  });

  it("a rename killed in one tree, completed over a file made by hand under the new name: the patch is written, the file saved (t148 N1)", () => {
    const tree = repo({ "f.txt": "base\n" });
    expect(runPq(tree, ["init"]).status).toBe(0);
    expect(runPq(tree, ["new", "a", "-m", "a"]).status).toBe(0);
    writeFileSync(join(tree, "f.txt"), "base\nwork\n");
    expect(runPq(tree, ["refresh"]).status).toBe(0);
    const text = readFileSync(join(tree, "patches/a"), "utf8");
    expect(runPq(tree, ["rename", "a", "b"], { PQ_FAILPOINT: "journal-written" }).signal).toBe("SIGKILL");
    writeFileSync(join(tree, "patches/b"), "a note of mine\n");
    const completed = runPq(tree, ["top"]);
    expect([completed.status, completed.stdout]).toEqual([0, "b\n"]);
    expect(readFileSync(join(tree, "patches/b"), "utf8")).toBe(text);
    const saved = /saved in (\S+-recover-queue)\b/.exec(completed.stderr)?.[1];
    expect(readFileSync(join(saved!, "b"), "utf8")).toBe("a note of mine\n");
  });

  it("undo and redo in one tree after another tree changed the shared series take back only their own line (t140 N4)", () => {
    const { queue, a, b } = twoTreesOnOneQueue();
    expect(runPq(a, ["new", "a1"]).status).toBe(0);
    expect(runPq(b, ["new", "b1"]).status).toBe(0);
    const series = () => readFileSync(join(queue, "series"), "utf8");
    expect(series()).toBe("b1\na1\n");
    const undo = runPq(a, ["undo"]);
    expect([undo.status, undo.stderr]).toEqual([0, ""]);
    expect(series()).toBe("b1\n");
    expect(existsSync(join(queue, "a1"))).toBe(false);
    const redo = runPq(a, ["redo"]);
    expect([redo.status, redo.stderr]).toEqual([0, ""]);
    expect(series()).toBe("b1\na1\n");
    expect(existsSync(join(a, ".pq/backups"))).toBe(false);
    const next = runPq(b, ["new", "b2"]);
    expect([next.status, next.stderr]).toEqual([0, ""]);
    // Both trees changed one line: no merge, refused as before, with --force saving the file.
    expect(runPq(a, ["guard", "a1", "+xen"]).status).toBe(0);
    writeFileSync(join(queue, "series"), series().replace("a1 #+xen", "a1 #+vmi"));
    const refused = runPq(a, ["undo"]);
    expect(refused.status).toBe(5);
    expect(refused.stderr).toContain("series (queue)");
  });

  it("pq init refuses a queue directory that is a link out of the tree, naming the --queue that uses where it leads (t140 N10)", () => {
    const queue = plainDir();
    const tree = repo({ "f.txt": "base\n" });
    symlinkSync(queue, join(tree, "patches"));
    const refused = runPq(tree, ["init"]);
    expect(refused.status).toBe(7);
    expect(refused.stderr).toContain(`leads out of the tree, to ${queue}, through a symbolic link`);
    expect(refused.stderr).toContain(`pq init --queue ${queue} uses that directory`);
    expect(existsSync(join(tree, ".pq"))).toBe(false);
    // A link that leads nowhere yet: refused, and the link left as it was (t141 N5: init's clean-up removed it).
    const dangling = repo({ "f.txt": "base\n" });
    symlinkSync(join(queue, "not-yet"), join(dangling, "patches"));
    const nowhere = runPq(dangling, ["init"]);
    expect(nowhere.status).toBe(3);
    expect(nowhere.stderr).toContain(`is a symbolic link to ${join(queue, "not-yet")}, which is not there; nothing was changed`);
    expect(require("node:fs").lstatSync(join(dangling, "patches")).isSymbolicLink()).toBe(true);
    expect(existsSync(join(dangling, ".pq"))).toBe(false);
    // The advice, word for word.
    expect(runPq(tree, ["init", "--queue", queue]).status).toBe(0);
    expect(runPq(tree, ["new", "p"]).status).toBe(0);
    expect(readFileSync(join(queue, "series"), "utf8")).toBe("p\n");
    // pq queue create --dir through such a link too (t141 N8).
    const other = plainDir();
    symlinkSync(other, join(tree, "ql"));
    const create = runPq(tree, ["queue", "create", "q2", "--dir", "ql"]);
    expect(create.status).toBe(7);
    expect(create.stderr).toContain(`pq queue create q2 --dir ${other} makes the queue in that directory itself`);
    expect(runPq(tree, ["queue", "list"]).stdout).not.toContain("q2");
    expect(runPq(tree, ["queue", "create", "q2", "--dir", other]).status).toBe(0);
    expect(runPq(tree, ["queue", "switch", "--pop", "q2"]).status).toBe(0);
    expect(runPq(tree, ["new", "in-q2"]).status).toBe(0);
    expect(readFileSync(join(other, "series"), "utf8")).toBe("in-q2\n");
  });

  it("a pq killed after its queue writes: what another tree wrote since stands, a change that takes the series back included (t141 N1)", () => {
    // b takes back the guard a's killed command had set.
    const one = twoTreesOnOneQueue();
    expect(runPq(one.a, ["new", "a1"]).status).toBe(0);
    expect(runPq(one.a, ["pop"]).status).toBe(0);
    expect(runPq(one.a, ["guard", "a1", "+g"], { PQ_FAILPOINT: "queue-written" }).signal).toBe("SIGKILL");
    expect(runPq(one.b, ["guard", "a1", "--none"]).status).toBe(0);
    const completed = runPq(one.a, ["series"]);
    expect(completed.stderr).toContain("completed an interrupted operation (guard a1 +g)");
    expect(readFileSync(join(one.queue, "series"), "utf8")).toBe("a1\n");
    // b makes a patch of the name a's killed delete took out, and refreshes it.
    const two = twoTreesOnOneQueue();
    expect(runPq(two.a, ["new", "a1", "-m", "a's a1"]).status).toBe(0);
    expect(runPq(two.a, ["pop"]).status).toBe(0);
    expect(runPq(two.a, ["delete", "a1"], { PQ_FAILPOINT: "queue-written" }).signal).toBe("SIGKILL");
    expect(runPq(two.b, ["new", "a1", "-m", "b's own a1"]).status).toBe(0);
    writeFileSync(join(two.b, "f.txt"), "base\nb\n");
    expect(runPq(two.b, ["refresh"]).status).toBe(0);
    const status = runPq(two.a, ["status"]);
    expect(status.stderr).toContain("completed an interrupted operation (delete a1)");
    expect(status.stderr).not.toContain("saved");
    expect(readFileSync(join(two.queue, "series"), "utf8")).toBe("a1\n");
    expect(readFileSync(join(two.queue, "a1"), "utf8")).toContain("b's own a1");
    const next = runPq(two.b, ["new", "b2"]);
    expect([next.status, next.stderr]).toEqual([0, ""]);
  });

  it("undo 2 over another tree's series change between the two operations keeps that change (t141 N4)", () => {
    const { queue, a, b } = twoTreesOnOneQueue();
    expect(runPq(a, ["new", "a1"]).status).toBe(0);
    expect(runPq(b, ["new", "b1"]).status).toBe(0);
    expect(runPq(a, ["new", "a2"]).status).toBe(0);
    const series = () => readFileSync(join(queue, "series"), "utf8");
    expect(series()).toBe("b1\na1\na2\n");
    const undo = runPq(a, ["undo", "2"]);
    expect([undo.status, undo.stderr]).toEqual([0, ""]);
    expect(series()).toBe("b1\n");
    const redo = runPq(a, ["redo", "2"]);
    expect([redo.status, redo.stderr]).toEqual([0, ""]);
    expect(series()).toBe("b1\na1\na2\n");
    const next = runPq(b, ["new", "b2"]);
    expect([next.status, next.stderr]).toEqual([0, ""]);
  });

  it("restore-queue in the second of two trees on one lost queue directory says which of its patches the series does not list, puts no line back, and keeps its own series (t140 N9, t143 N1, N2, t141 N6)", () => {
    const { queue, a, b } = twoTreesOnOneQueue();
    expect(runPq(a, ["new", "a1"]).status).toBe(0);
    expect(runPq(b, ["new", "b1"]).status).toBe(0);
    expect(runPq(b, ["new", "b2"]).status).toBe(0);
    expect(runPq(b, ["pop"]).status).toBe(0);
    rmSync(queue, { recursive: true, force: true });
    expect(runPq(a, ["restore-queue"]).status).toBe(0);
    expect(readFileSync(join(queue, "series"), "utf8")).toBe("a1\n");
    const restored = runPq(b, ["restore-queue"]);
    expect([restored.status, restored.stderr]).toEqual([0, ""]);
    expect(restored.stdout).toContain("note: b1, applied here, is not in the series (another tree using the queue directory restored an older series");
    expect(restored.stdout).toContain("note: the series does not list b2 (deleted or renamed since");
    // b's own last series, which had both of its lines, is kept where the note says (t141 N6's three-tree case: a guard only it had).
    const saved = /this tree's is saved in (\S+)\/series; compare the two/.exec(restored.stdout)?.[1];
    expect(saved, restored.stdout).toBeDefined();
    expect(readFileSync(join(saved!, "series"), "utf8")).toBe("b1\nb2\na1\n");
    expect(readFileSync(join(queue, "series"), "utf8")).toBe("a1\n");
    // With nothing left for it to write back, the same note (t147 N2: it said nothing of the series).
    const secondRestore = runPq(b, ["restore-queue"]);
    expect(secondRestore.stdout).not.toMatch(/^restored /m);
    expect(secondRestore.stdout).toContain("note: the series there is not the one this tree's operations left");
    expect(existsSync(join(queue, "b1"))).toBe(true);
    // The note's way, word for word: the line put back.
    writeFileSync(join(queue, "series"), "b1\na1\n");
    const next = runPq(b, ["new", "b3"]);
    expect([next.status, next.stderr]).toEqual([0, ""]);
    // A rename of b's applied patch by a, refreshed there: no second line for the same change (t143 N1).
    const two = twoTreesOnOneQueue();
    expect(runPq(two.b, ["new", "p", "-m", "p"]).status).toBe(0);
    writeFileSync(join(two.b, "f.txt"), "base\np\n");
    expect(runPq(two.b, ["refresh"]).status).toBe(0);
    expect(runPq(two.a, ["rename", "p", "pr"]).status).toBe(0);
    const again = runPq(two.b, ["restore-queue"]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain("note: p, applied here, is not in the series");
    expect(readFileSync(join(two.queue, "series"), "utf8")).toBe("pr\n");
  });

  it("restore-queue names a listed patch file another tree wrote as that tree's to restore, and says nothing of a series another tree only added to (t147 N5)", () => {
    const { queue, a, b } = twoTreesOnOneQueue();
    expect(runPq(a, ["new", "p"]).status).toBe(0);
    expect(runPq(a, ["pop"]).status).toBe(0);
    rmSync(join(queue, "p"));
    const here = runPq(b, ["restore-queue"]);
    expect(here.status).toBe(0);
    expect(here.stdout).toContain("note: p, listed in the series, has no file, and this tree's pq never wrote it: pq restore-queue in the tree that made it");
    expect(here.stdout).not.toContain("the series there is not the one this tree's operations left");
    expect(existsSync(join(b, ".pq/backups"))).toBe(false);
    // Word for word: the tree that made it writes it back.
    expect(runPq(a, ["restore-queue"]).stdout).toContain("restored 1 file(s)");
    expect(existsSync(join(queue, "p"))).toBe(true);
  });

  it("undo and redo refuse to put on a patch another tree deleted or renamed since (t142 N3)", () => {
    const { a, b } = twoTreesOnOneQueue();
    expect(runPq(a, ["new", "p", "-m", "p"]).status).toBe(0);
    writeFileSync(join(a, "f.txt"), "base\np\n");
    expect(runPq(a, ["refresh"]).status).toBe(0);
    expect(runPq(a, ["pop"]).status).toBe(0);
    expect(runPq(b, ["rename", "p", "p2"]).status).toBe(0);
    const undo = runPq(a, ["undo"]);
    expect(undo.status).toBe(12);
    expect(undo.stderr).toContain("p is no longer in the queue (deleted or renamed since pop p");
    expect(runPq(a, ["status"]).status).toBe(0);
    expect(readFileSync(join(a, "f.txt"), "utf8")).toBe("base\n");
    const push = runPq(a, ["push"]);
    expect([push.status, push.stdout]).toEqual([0, expect.stringContaining("now at: p2")]);
  });

  it("a queue directory made a link out of the tree by hand: the refusal's way out for a link never committed works (t142 N4)", () => {
    const tree = repo({ "f.txt": "base\n" });
    expect(runPq(tree, ["init"]).status).toBe(0);
    expect(runPq(tree, ["new", "p"]).status).toBe(0);
    const out = join(plainDir(), "out");
    require("node:fs").renameSync(join(tree, "patches"), out);
    symlinkSync(out, join(tree, "patches"));
    const refused = runPq(tree, ["series"]);
    expect(refused.status).toBe(7);
    const advice = `a link you made yourself, never committed: rm ${join(tree, "patches")} (the link alone), then mv ${out} ${join(tree, "patches")} puts the queue back in the tree`;
    expect(refused.stderr).toContain(advice);
    rmSync(join(tree, "patches"));
    require("node:fs").renameSync(out, join(tree, "patches"));
    const after = runPq(tree, ["series"]);
    expect([after.status, after.stdout]).toEqual([0, "p\n"]);
  });

  it("the active queue's directory linked out of the tree or gone: queue list, switch and delete still work; create, and a switch with patches applied, refuse (t142 N4)", () => {
    const tree = repo({ "f.txt": "base\n" });
    expect(runPq(tree, ["init"]).status).toBe(0);
    expect(runPq(tree, ["queue", "create", "q7", "--dir", "qd"]).status).toBe(0);
    expect(runPq(tree, ["queue", "switch", "q7"]).status).toBe(0);
    expect(runPq(tree, ["new", "p"]).status).toBe(0);
    const out = join(plainDir(), "out");
    require("node:fs").renameSync(join(tree, "qd"), out);
    symlinkSync(out, join(tree, "qd"));
    // p is applied: switching away would leave it applied from a queue pq cannot read.
    const applied = runPq(tree, ["queue", "switch", "patches"]);
    expect(applied.status).toBe(7);
    expect(applied.stderr).toContain("leads out of the tree");
    const list = runPq(tree, ["queue", "list"]);
    expect([list.status, list.stdout]).toEqual([0, "  patches  (0 patches, patches)\n* q7  (1 patch, qd)\n"]);
    expect(runPq(tree, ["queue", "create", "q8"]).status).toBe(7);
    // Nothing applied (as the link leaves it to the user: the state says nothing is).
    rmSync(join(tree, "qd"));
    require("node:fs").renameSync(out, join(tree, "qd"));
    expect(runPq(tree, ["pop"]).status).toBe(0);
    rmSync(join(tree, "qd"), { recursive: true });
    const back = runPq(tree, ["queue", "switch", "patches"]);
    expect([back.status, back.stdout]).toEqual([0, "now on queue patches\n"]);
    expect(runPq(tree, ["queue", "delete", "q7"]).status).toBe(0);
    expect(runPq(tree, ["queue", "list"]).stdout).toBe("* patches  (0 patches, patches)\n");
    expect(runPq(tree, ["new", "after"]).status).toBe(0);
  });

  it("pq init on the queue inside another tree says that the two are not kept apart (t140 N5)", () => {
    const a = repo({ "f.txt": "base\n" });
    const b = repo({ "f.txt": "base\n" });
    expect(runPq(a, ["init"]).status).toBe(0);
    const shared = runPq(b, ["init", "--queue", join(a, "patches")]);
    expect(shared.status).toBe(0);
    expect(shared.stdout).toContain(`note: ${join(a, "patches")} is the queue inside ${a}, whose commands do not take its lock`);
    // A queue directory of its own: no note.
    const c = repo({ "f.txt": "base\n" });
    expect(runPq(c, ["init", "--queue", plainDir()]).stdout).not.toContain("note:");
  });

  it("queue delete --purge of a queue directory outside the tree waits for its lock, which another tree's pq may hold (t140 N8)", () => {
    const tree = repo({ "f.txt": "base\n" });
    expect(runPq(tree, ["init"]).status).toBe(0);
    const other = join(plainDir(), "q");
    expect(runPq(tree, ["queue", "create", "other", "--dir", other]).status).toBe(0);
    expect(existsSync(join(other, "series"))).toBe(true);
    const holder = liveLockHolder(join(other, ".pq-lock"));
    try {
      const held = runPq(tree, ["queue", "delete", "other", "--purge"], { PQ_LOCK_TIMEOUT: "0.3" });
      expect(held.status).toBe(4);
      expect(held.stderr).toContain(`the queue directory ${other} is locked by pid ${holder.pid}`);
      expect(existsSync(join(other, "series"))).toBe(true);
      expect(runPq(tree, ["queue", "list"]).stdout).toContain("other");
    } finally {
      holder.stop();
    }
    const purged = runPq(tree, ["queue", "delete", "other", "--purge"]);
    expect([purged.status, purged.stderr]).toEqual([0, ""]);
    expect(existsSync(other)).toBe(false);
  });

  it("queue create, switch and delete and restore-queue wait for another live pq's lock, as every other command does (t138 N9)", () => {
    const dir = repo({ "a.txt": "a\n" });
    expect(runPq(dir, ["init"]).status).toBe(0);
    const here = `${require("node:fs").readlinkSync("/proc/self/ns/pid")} ${require("node:os").hostname()}`;
    for (const args of [["queue", "create", "other"], ["queue", "switch", "other"], ["queue", "delete", "patches"], ["restore-queue"]]) {
      // A pq-like holder that ends after a second: the command waits, then takes the lock it left.
      const other = require("node:child_process").spawn(process.execPath, ["-e", "setTimeout(() => {}, 1000)"], { stdio: "ignore" });
      try {
        const stat = readFileSync(`/proc/${other.pid}/stat`, "latin1");
        const started = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
        writeFileSync(join(dir, ".pq/lock"), `${other.pid}\n${here}\n${started}\n`);
        const r = runPq(dir, args, { PQ_LOCK_TIMEOUT: "20" });
        expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(0);
      } finally {
        other.kill("SIGKILL");
      }
    }
  });

  it("PQ_LOCK_TIMEOUT that is no number of seconds is refused as a usage error, naming the variable, with nothing changed", () => {
    const dir = repo({ "a.txt": "a\n" });
    expect(runPq(dir, ["init"]).status).toBe(0);
    for (const value of ["soon", "-1"]) {
      const r = runPq(dir, ["new", "never"], { PQ_LOCK_TIMEOUT: value });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`PQ_LOCK_TIMEOUT=${value} is not a number of seconds`);
    }
    expect(existsSync(join(dir, "patches/never"))).toBe(false);
    expect(runPq(dir, ["new", "now"], { PQ_LOCK_TIMEOUT: "0" }).status).toBe(0);
  });

  it("a lock whose pid now belongs to another process (a killed pq's, reused by a node program) is taken over (t56 N3)", async () => {
    const dir = repo({ "a.txt": "a\n" });
    expect(runPq(dir, ["init"]).status).toBe(0);
    const other = require("node:child_process").spawn(process.execPath, ["-e", "setTimeout(() => {}, 20000)"], { stdio: "ignore" });
    try {
      const stat = readFileSync(`/proc/${other.pid}/stat`, "latin1");
      const started = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
      const here = `${require("node:fs").readlinkSync("/proc/self/ns/pid")} ${require("node:os").hostname()}`;
      // Written by that very process (its start time): held, as another pq running.
      writeFileSync(join(dir, ".pq/lock"), `${other.pid}\n${here}\n${started}\n`);
      // Refused after PQ_LOCK_TIMEOUT's wait instead of the usual 10 s.
      const held = runPq(dir, ["new", "while-held"], { PQ_LOCK_TIMEOUT: "0.3" });
      expect(held.status).toBe(4);
      expect(held.stderr).toContain(`locked by pid ${other.pid}`);
      // Written by a process of the same pid that started at another time: reused, taken over.
      writeFileSync(join(dir, ".pq/lock"), `${other.pid}\n${here}\n${Number(started) - 1}\n`);
      const r = runPq(dir, ["new", "after-reuse"]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
    } finally {
      other.kill("SIGKILL");
    }
  });

  it("concurrent pq new from two processes keep both series entries", async () => {
    const dir = repo({ "a.txt": "a\n" });
    expect(runPq(dir, ["init"]).status).toBe(0);
    const spawnNew = (name: string) =>
      new Promise<number>((res) => {
        const child = require("node:child_process").spawn(process.execPath, [PQ, "new", name], { cwd: dir, stdio: "ignore" });
        child.on("exit", (code: number) => res(code));
      });
    // Twelve at once: a lock file created empty and filled a moment later let a second pq
    // take it as ownerless and go ahead beside the first (seen with 6 in 1 run of 5).
    const codes = await Promise.all(Array.from({ length: 12 }, (_, i) => spawnNew(`c${i}`)));
    const created = codes.filter((c) => c === 0).length;
    // A loser of the lock race is told "locked" (exit 4); no winner's entry may vanish.
    expect(codes.every((c) => c === 0 || c === 4)).toBe(true);
    const series = read(join(dir, "patches"), "series").trim().split("\n").filter(Boolean);
    expect(series).toHaveLength(created);
  });

  it("a command run while another pq's operation is under way waits for it, and reads the stack it left (t114)", async () => {
    const dir = repo({ "a.txt": "a\n" });
    expect(runPq(dir, ["init"]).status).toBe(0);
    expect(runPq(dir, ["new", "p1"]).status).toBe(0);
    expect(runPq(dir, ["pop"]).status).toBe(0);
    /** A pq running `args` held for a second at `failpoint`, once `file` (in .pq/) shows it got there; resolves to its exit code. */
    const held = async (args: string[], failpoint: string, file: string): Promise<Promise<number>> => {
      const child = require("node:child_process").spawn(process.execPath, [PQ, ...args], {
        cwd: dir,
        stdio: "ignore",
        env: { ...process.env, PQ_FAILPOINT: `${failpoint}:sh`, PQ_FAILPOINT_SH: "sleep 1" },
      });
      const exited = new Promise<number>((res) => child.on("exit", (code: number) => res(code)));
      const path = join(dir, ".pq", file);
      for (let i = 0; i < 200 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 10));
      expect(existsSync(path)).toBe(true);
      return exited;
    };
    // The push holds the lock with its journal written, as a long push does. A reader (pq top in
    // a prompt) and a writer had both been refused with exit 4.
    const pushed = await held(["push"], "journal-written", "journal.json");
    const [top, status] = [runPq(dir, ["top"]), runPq(dir, ["new", "p2"])];
    expect(await pushed).toBe(0);
    expect([top.status, top.stdout]).toEqual([0, "p1\n"]);
    expect(status.status).toBe(0);
    expect(read(join(dir, "patches"), "series")).toBe("p1\np2\n");
    // Held while it plans (the lock taken, no journal yet): a writer and a dry run wait too (t115 N5, N6).
    expect(runPq(dir, ["pop", "-a"]).status).toBe(0);
    const planned = await held(["push", "p1"], "planned", "lock");
    const [dry, made] = [runPq(dir, ["push", "--dry-run"]), runPq(dir, ["new", "p3"])];
    expect(await planned).toBe(0);
    expect(dry.status).toBe(0);
    expect([made.status, made.stderr]).toEqual([0, ""]);
    expect(read(join(dir, "patches"), "series")).toBe("p1\np3\np2\n");
    // A goto that waited tells push from pop by the stack the other pq left (t116 N2: it popped to nothing).
    expect(runPq(dir, ["goto", "p3"]).status).toBe(0);
    const popped = await held(["pop", "-a"], "planned", "lock");
    const goto = runPq(dir, ["goto", "p1"]);
    expect(await popped).toBe(0);
    expect(goto.status).toBe(0);
    expect(runPq(dir, ["top"]).stdout).toBe("p1\n");
  });

  it("a staged rename (git mv) is recorded as a rename; pop brings the old file back", async () => {
    const dir = repo({ "old.txt": lines(8) });
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("mv");
    git(dir, "mv", "old.txt", "new.txt");
    const report = await stack.refresh();
    expect(report.files).toEqual(["new.txt", "old.txt"]);
    await stack.pop();
    expect(read(dir, "old.txt")).toBe(lines(8));
    expect(existsSync(join(dir, "new.txt"))).toBe(false);
    await stack.push();
    expect(read(dir, "new.txt")).toBe(lines(8));
    expect(existsSync(join(dir, "old.txt"))).toBe(false);
  });

  it("push --force of a deletion whose hunks fail keeps the file", async () => {
    const dir = repo({ "doomed.txt": lines(5), "a.txt": "a\n" });
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("rm");
    git(dir, "rm", "-q", "doomed.txt");
    await stack.refresh();
    await stack.pop();
    write(dir, "doomed.txt", lines(5).replace("line 3\n", "changed upstream\n"));
    git(dir, "commit", "-qam", "upstream");
    await stack.push({ force: true });
    expect(read(dir, "doomed.txt")).toContain("changed upstream");
    expect(existsSync(join(dir, "doomed.txt.rej"))).toBe(true);
  });

  it("deleting patches whose names flatten alike (x/p and x_p) keeps each in the trash", async () => {
    const dir = repo({ "a.txt": "a\n" });
    await pq(dir, "init");
    await pq(dir, "new", "x/p", "-m", "slash");
    await pq(dir, "new", "x_p", "-m", "underscore");
    await pq(dir, "pop", "-a");
    const r = await pq(dir, "delete", "x/p", "x_p");
    expect(r.code, r.err).toBe(0);
    const trash = join(dir, ".pq", "trash");
    const kept = readdirSync(trash).map((f) => readFileSync(join(trash, f), "utf8"));
    expect(kept).toHaveLength(2);
    expect(kept.some((t) => t.includes("Subject: slash"))).toBe(true);
    expect(kept.some((t) => t.includes("Subject: underscore"))).toBe(true);
  });

  it("an operation whose log line cannot be written says it was done (exit 13), and the next command logs it; other system refusals exit 14", async () => {
    const dir = repo({ "a.txt": "a\n" });
    await pq(dir, "init");
    const oplog = join(dir, ".pq", "oplog");
    rmSync(oplog, { force: true });
    mkdirSync(oplog);
    const r = await pq(dir, "new", "p1");
    expect(r.code).toBe(13);
    expect(r.err).toContain("new p1 was done, but could not be added to the operation log");
    rmSync(oplog, { recursive: true });
    const next = await pq(dir, "series");
    expect(next.code, next.err).toBe(0);
    expect(next.out).toContain("p1");
    expect(readFileSync(oplog, "utf8")).toContain('"op":"new p1"');
    const system = await pq(dir, "export", "--dir", join(dir, "a.txt", "out"));
    expect(system.code).toBe(14);
    // An operating system's refusal says what to do next (undo-5 #9).
    expect(system.err).toContain("a file stands where a directory is needed on that path: move it away");
  });

  it("pq export into the queue directory is refused", async () => {
    const dir = repo({ "a.txt": "a\n" });
    await pq(dir, "init");
    await pq(dir, "new", "x");
    write(dir, "a.txt", "b\n");
    await pq(dir, "refresh");
    const seriesBefore = read(join(dir, "patches"), "series");
    const r = await pq(dir, "export", "--dir", "patches");
    expect(r.code).toBe(2);
    expect(read(join(dir, "patches"), "series")).toBe(seriesBefore);
    // Nor with --quilt or --mbox, nor through a symlink, nor into git's own files.
    symlinkSync(join(dir, "patches"), join(dir, "alias"));
    const config = read(join(dir, ".git"), "config");
    for (const args of [["--quilt", "patches"], ["--mbox", "patches/series"], ["--dir", "alias"], ["--quilt", "alias/sub"], ["--mbox", ".git/config"], ["--mbox", ".pq/state.json"]]) {
      const refused = await pq(dir, "export", "-a", ...args);
      expect(refused.code, args.join(" ")).toBe(2);
      expect(refused.err).toContain("exporting there would overwrite");
    }
    expect(read(join(dir, "patches"), "series")).toBe(seriesBefore);
    expect(read(join(dir, ".git"), "config")).toBe(config);
    expect((await pq(dir, "export", "--mbox", "out.mbox")).code).toBe(0);
    // An existing mbox or another queue's series is not replaced without --force.
    const again = await pq(dir, "export", "--mbox", "out.mbox");
    expect(again.code).toBe(12);
    expect(again.err).toContain("out.mbox exists; the export would overwrite it");
    write(dir, "other/series", "theirs.patch\n");
    expect((await pq(dir, "export", "--quilt", "other")).code).toBe(12);
    expect(read(join(dir, "other"), "series")).toBe("theirs.patch\n");
    expect((await pq(dir, "export", "--quilt", "other", "--force")).code).toBe(0);
    expect(read(join(dir, "other"), "series")).toBe("x\n");
    // The same export again overwrites nothing that differs: taken.
    expect((await pq(dir, "export", "--quilt", "other")).code).toBe(0);
    // Nor any other file it would write: here a file named like the patch (interop-5 #39).
    write(dir, "notes/x", "my only copy\n");
    const clobber = await pq(dir, "export", "--quilt", "notes");
    expect(clobber.code).toBe(12);
    expect(clobber.err).toContain("would overwrite a file that holds something else");
    expect(read(join(dir, "notes"), "x")).toBe("my only copy\n");
    expect(existsSync(join(dir, "notes", "series"))).toBe(false);
    // --dir --force over an earlier export: its mails the new series leaves out go (interop-5 #7), and the refusal
    // before it names them; a file the series lists that pq did not write (a git format-patch mail, a gbp-pq patch)
    // stays (t122 N5: deleted without a word).
    const pqMail = "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\nFrom: A <a@example.org>\nSubject: [PATCH] gone\n\n";
    write(dir, "mails/0002-gone.patch", pqMail);
    write(dir, "mails/0003-mine.patch", "From 4f3a9c0e1d2b3a4f5e6d7c8b9a0f1e2d3c4b5a69 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] my work\n");
    write(dir, "mails/series", "0001-x.patch\n0002-gone.patch\n0003-mine.patch\n");
    const refusedDir = await pq(dir, "export", "--dir", "mails");
    expect(refusedDir.code).toBe(12);
    expect(refusedDir.err).toContain("and remove 1 mail(s) an earlier pq export wrote that the new series leaves out");
    expect(refusedDir.err).toContain("0002-gone.patch");
    const forced = await pq(dir, "export", "--dir", "mails", "--force");
    expect(forced.code).toBe(0);
    expect(forced.out).toContain("removed 1 mail(s) of the earlier export that the series no longer lists");
    expect(readdirSync(join(dir, "mails")).sort()).toEqual(["0001-x.patch", "0003-mine.patch", "series"]);
    // An mbox into a directory: said so, not EISDIR (interop-5 #34).
    expect((await pq(dir, "export", "--mbox", "mails", "--force")).code).toBe(2);
  });
});

describe("no write where none belongs", () => {
  // Patch texts are bytes (held one per character): a name is written as its UTF-8 bytes.
  const evil = (path: string) => `--- /dev/null\n+++ b/${Buffer.from(path, "utf8").toString("latin1")}\n@@ -0,0 +1 @@\n+#!/bin/sh\n`;
  const invisible = [".git\u200c/hooks/x", ".g\u200cit/x", ".GIT\ufeff/x", "sub/.g\u206fit/x"];
  for (const path of ["vendor/.git/hooks/post-checkout", ".GIT/hooks/pre-commit", "sub/.Git/config", "git~1/config", ".git./config", "x/.git ./y", ...invisible]) {
    it(`refuses ${path}`, async () => {
      const dir = repo({ "a.txt": "a\n" });
      const stack = await Stack.init({ tree: dir });
      await stack.insertPatches([{ name: "evil", text: evil(path), guards: [] }]);
      await expectPqError(stack.push(), "unsafe-path");
      expect(readdirSync(dir).sort()).toEqual([".git", ".pq", "a.txt", "patches"]);
    });
  }

  it("a directory replaced by a symlink since its paths were recorded: cached push, refresh, diff, pop and undo read and write nothing through it", async () => {
    const outside = join(repo({}), "out");
    write(outside, "f.txt", "outside\n");
    const dir = repo({ "d/f.txt": "hello\n" });
    await pq(dir, "init");
    await pq(dir, "new", "p");
    write(dir, "d/f.txt", "patched\n");
    await pq(dir, "refresh");
    await pq(dir, "pop");
    await pq(dir, "push");
    // Applied: d swapped for a link to a directory outside the tree.
    git(dir, "mv", "d", "d.real");
    symlinkSync(outside, join(dir, "d"));
    for (const args of [["refresh"], ["diff"], ["pop"], ["pop", "--force"]]) {
      const r = await pq(dir, ...args);
      expect(r.code, args.join(" ")).toBe(7);
      expect(r.err).toContain("d/f.txt goes through the symlink d");
    }
    expect(read(dir, "patches/p")).not.toContain("outside");
    // status reports what it cannot read instead of refusing: the stack stays visible.
    const status = await pq(dir, "status", "--json");
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out)).toMatchObject({ top: "p", pending: [], unreadable: { data: { file: "d/f.txt", symlink: "d" } } });
    expect((await pq(dir, "status")).out).toContain("unrefreshed changes unknown: d/f.txt goes through the symlink d");
    // Popped, then the link: the cached push and the undo of the pop refuse too.
    rmSync(join(dir, "d"));
    git(dir, "mv", "d.real", "d");
    expect((await pq(dir, "pop")).code).toBe(0);
    git(dir, "mv", "d", "d.real");
    symlinkSync(outside, join(dir, "d"));
    for (const args of [["push"], ["undo"]]) expect((await pq(dir, ...args)).code, args.join(" ")).toBe(7);
    expect(readFileSync(join(outside, "f.txt"), "utf8")).toBe("outside\n");
  });

  it("a journal naming paths outside the tree is not replayed (exit 13), and writes nothing", async () => {
    const dir = repo({ "a.txt": "a\n" });
    await pq(dir, "init");
    const id = "0".repeat(40);
    for (const [tree, queue, trash] of [
      [[["../owned.txt", null, id]], [], []],
      [[], [["../../owned.txt", null, id]], []],
      [[], [], [["p", join(dir, "..", "owned.txt"), id]]],
    ]) {
      writeFileSync(join(dir, ".pq", "journal.json"), JSON.stringify({ id: "x", op: "push", tree, queue, trash, state: [id, id] }));
      const r = await pq(dir, "series");
      expect(r.code).toBe(13);
      expect(r.err).toContain("pq never writes such a journal");
      expect(existsSync(join(dir, "..", "owned.txt"))).toBe(false);
    }
  });

  it("an unreadable journal is dropped with what is known, and kept aside (undo-5 #9)", async () => {
    const dir = repo({ "a.txt": "a\n" });
    await pq(dir, "init");
    writeFileSync(join(dir, ".pq", "journal.json"), '{"bad":');
    const r = await pq(dir, "series");
    expect(r.code).toBe(0);
    expect(r.err).toContain("dropped an unreadable journal");
    const kept = readdirSync(join(dir, ".pq")).filter((f) => f.startsWith("journal.json.unreadable-"));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(dir, ".pq", kept[0]), "utf8")).toBe('{"bad":');
    expect(existsSync(join(dir, ".pq", "journal.json"))).toBe(false);
    const missing = await pq(dir, "series", "--tree", join(dir, "..", `no-such-dir-${Date.now()}`));
    expect(missing.code).toBe(3);
    expect(missing.err).toContain("does not exist");
  });

  it("an untracked file where a cached push or an undo must make a directory: refused before the journal, the file kept", async () => {
    const dir = repo({ "a.txt": "a\n" });
    await pq(dir, "init");
    await pq(dir, "new", "nd");
    write(dir, "newdir/deep/x", "deep\n");
    await pq(dir, "add", "newdir/deep/x");
    await pq(dir, "refresh");
    await pq(dir, "pop");
    write(dir, "newdir", "user file\n");
    for (const args of [["push"], ["undo"]]) {
      const r = await pq(dir, ...args);
      expect(r.code, r.err).toBe(5);
      expect(r.err).toContain("newdir is a file, and");
      expect(existsSync(join(dir, ".pq", "journal.json"))).toBe(false);
    }
    expect(read(dir, "newdir")).toBe("user file\n");
    expect((await pq(dir, "series")).code).toBe(0);
  });

  it("the push cache tells strip levels apart: the same bytes with -p2 patch another file", async () => {
    const dir = repo({ "dir/f.txt": "hello\n", "f.txt": "hello\n" });
    await pq(dir, "init");
    await pq(dir, "new", "fix");
    write(dir, "dir/f.txt", "bye\n");
    await pq(dir, "refresh");
    await pq(dir, "pop");
    write(dir, "patches/series", "fix -p2\n");
    expect((await pq(dir, "push")).code).toBe(0);
    expect([read(dir, "f.txt"), read(dir, "dir/f.txt")]).toEqual(["bye\n", "hello\n"]);
  });

  it("refuses a patch that writes into the queue directory inside the tree", async () => {
    const dir = repo({ "a.txt": "a\n" });
    const stack = await Stack.init({ tree: dir });
    await stack.insertPatches([{ name: "sneaky", text: "--- a/patches/series\n+++ b/patches/series\n@@ -1 +1,2 @@\n sneaky\n+other\n", guards: [] }]);
    await expectPqError(stack.push(), "unsafe-path");
    expect(read(join(dir, "patches"), "series")).toBe("sneaky\n");
  });
});

describe("file names that are not UTF-8", () => {
  // pq names files by their UTF-8 decoding; a latin1 name cannot be named exactly, so it is
  // refused where it enters, rather than written (or recorded) under another name.
  it("a patch naming a latin1 file is refused at import; nothing is written", async () => {
    const dir = repo({ "a.txt": "a\n" });
    const stack = await Stack.init({ tree: dir });
    const text = 'diff --git "a/caf\\351.txt" "b/caf\\351.txt"\nnew file mode 100644\n--- /dev/null\n+++ "b/caf\\351.txt"\n@@ -0,0 +1 @@\n+hi\n';
    const e = await expectPqError(stack.insertPatches([{ name: "latin1", text, guards: [] }]), "unsafe-path");
    expect(e.message).toContain('"caf\\351.txt"');
    expect(readdirSync(dir).sort()).toEqual([".git", ".pq", "a.txt", "patches"]);
    // The same bytes unquoted (+++ b/caf\xe9.txt), through the CLI.
    const file = join(dir, ".git", "latin1.patch");
    writeFileSync(file, "--- /dev/null\n+++ b/caf\xe9.txt\n@@ -0,0 +1 @@\n+hi\n", "latin1");
    const imported = runPq(dir, ["import", file]);
    expect(imported.status).toBe(7);
    expect(imported.stderr).toMatch(/not UTF-8/);
    expect(stack.series()).toEqual([]);
  });

  it("pq add and refresh refuse a latin1 file in the tree instead of dropping it silently", async () => {
    const dir = repo({ "a.txt": "a\n" });
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("p");
    const name = Buffer.from("na\xefve", "latin1");
    writeFileSync(Buffer.concat([Buffer.from(dir + "/"), name]), "x\n");
    const added = runPq(dir, ["add", Buffer.from("na\xefve", "latin1").toString("latin1")]);
    expect(added.stderr).not.toMatch(/\n\s+at /);
    git(dir, "add", "-A");
    const refreshed = runPq(dir, ["refresh"]);
    expect(refreshed.status).toBe(7);
    expect(refreshed.stderr).toMatch(/is not valid UTF-8; nothing was changed/);
    expect(read(join(dir, "patches"), "p")).not.toMatch(/^diff/m);
  });
});

describe("damage and bad input get messages, not stack traces", () => {
  it("a truncated object pack: pop rebuilds the lost versions from the patches", async () => {
    const dir = repo({ "a.txt": lines(10) });
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("p");
    write(dir, "a.txt", read(dir, "a.txt").replace("line 4\n", "line four\n"));
    await stack.refresh();
    for (const f of readdirSync(join(dir, ".pq/objects"))) if (f.startsWith("pack-")) truncateSync(join(dir, ".pq/objects", f), 0);
    const r = runPq(dir, ["pop"]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.status).toBe(0);
    expect(read(dir, "a.txt")).toBe(lines(10));
    expect(runPq(dir, ["push"]).status).toBe(0);
    expect(read(dir, "a.txt")).toContain("line four\n");
  });

  it("a damaged object pack (a flipped byte, its size whole): push applies the patches again, as its dry run said (t39 F2)", async () => {
    const dir = repo({ "a.txt": lines(10), "b.txt": lines(10) });
    const stack = await Stack.init({ tree: dir });
    const packs = () => readdirSync(join(dir, ".pq/objects")).filter((f) => f.startsWith("pack-"));
    const damaged: string[] = [];
    for (const [name, file] of [
      ["p", "a.txt"],
      ["q", "b.txt"],
    ]) {
      await stack.newPatch(name);
      write(dir, file, read(dir, file).replace("line 4\n", `line four (${name})\n`));
      const before = new Set(packs());
      await stack.refresh();
      // The pack p's refresh wrote: the version its push reuses is in it.
      if (name === "p") damaged.push(...packs().filter((f) => !before.has(f)));
    }
    expect(runPq(dir, ["pop", "-a"]).status).toBe(0);
    expect(damaged.length).toBeGreaterThan(0);
    // One byte of a.txt's version after p, the result a push reuses, where that pack stores it.
    flipInPacks(dir, ["line four (p)\n"], { packs: damaged, offset: 5 });
    expect(runPq(dir, ["push", "-a", "--dry-run"]).status).toBe(0);
    const r = runPq(dir, ["push", "-a"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(read(dir, "a.txt")).toContain("line four (p)\n");
    expect(read(dir, "b.txt")).toContain("line four (q)\n");
    expect(runPq(dir, ["pop", "-a"]).status).toBe(0);
    expect(read(dir, "a.txt")).toBe(lines(10));
  });

  it("a damaged copy of a version the tree holds: a refresh with nothing to take reads the tree, and says unchanged (t41 N7)", async () => {
    const dir = repo({ "a.txt": lines(10) });
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("p");
    write(dir, "a.txt", read(dir, "a.txt").replace("line 4\n", "line four (p)\n"));
    await stack.refresh();
    flipInPacks(dir, ["line four (p)\n"], { offset: 5 });
    const r = runPq(dir, ["refresh"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("p is unchanged");
    expect(r.status).toBe(0);
  });

  it("every pack damaged and an edit to a lower patch's file: the refresh rebuilds that file's version from HEAD and the patches (t42 N8)", async () => {
    const dir = repo({ "a.txt": lines(10), "b.txt": lines(10) });
    const stack = await Stack.init({ tree: dir });
    for (const [name, file] of [
      ["p", "a.txt"],
      ["q", "a.txt"],
      ["r", "b.txt"],
    ]) {
      await stack.newPatch(name);
      write(dir, file, read(dir, file).replace(`line ${name === "q" ? 8 : 4}\n`, `line (${name})\n`));
      await stack.refresh();
    }
    // Every stored copy of a.txt's versions after p and after q, and of its version below.
    const flipped = flipInPacks(dir, ["line (p)\n", "line (q)\n", "line 4\n"], { every: true, offset: 2 });
    expect(flipped).toBeGreaterThan(2);
    // a.txt is p's and q's; r is on top. Its version after q is what the edit is diffed against.
    write(dir, "a.txt", `${read(dir, "a.txt")}edited under r\n`);
    const r = runPq(dir, ["refresh"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("refreshed r: a.txt, b.txt");
    const patch = read(join(dir, "patches"), "r");
    expect(patch).toContain("+edited under r\n");
    expect(patch).not.toContain("+line (p)");
    expect(patch).not.toContain("+line (q)");
    expect(runPq(dir, ["pop", "-a"]).status).toBe(0);
    expect(read(dir, "a.txt")).toBe(lines(10));
    expect(runPq(dir, ["push", "-a"]).status).toBe(0);
    expect(read(dir, "a.txt")).toBe(`${lines(10).replace("line 4\n", "line (p)\n").replace("line 8\n", "line (q)\n")}edited under r\n`);
  });

  it("a truncated pack whose versions cannot be rebuilt: a clear refusal, nothing written", async () => {
    const dir = repo({ "a.txt": lines(10) });
    const stack = await Stack.init({ tree: dir });
    await stack.newPatch("p");
    write(dir, "a.txt", read(dir, "a.txt").replace("line 4\n", "line four\n"));
    await stack.refresh();
    writeFileSync(join(dir, "patches/p"), "Subject: gone\n"); // and the patch text is lost too
    for (const f of readdirSync(join(dir, ".pq/objects"))) if (f.startsWith("pack-")) truncateSync(join(dir, ".pq/objects", f), 0);
    const r = runPq(dir, ["pop"]);
    expect(r.status).toBe(13);
    expect(r.stderr).toContain("missing from pq's object store");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(read(dir, "a.txt")).toContain("line four\n");
    expect(existsSync(join(dir, ".pq/journal.json"))).toBe(false);
  });

  it("bad input: long names, directories, damaged state, bad options, empty imports", async () => {
    const dir = repo({ "a.txt": "a\n" });
    expect(runPq(dir, ["init"]).status).toBe(0);
    const noTrace = (r: ReturnType<typeof runPq>) => expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
    const long = runPq(dir, ["new", "x".repeat(300)]);
    expect(long.status).toBe(2);
    noTrace(long);
    mkdirSync(join(dir, "somedir"));
    const imp = runPq(dir, ["import", "somedir"]);
    expect(imp.status).toBe(2);
    noTrace(imp);
    writeFileSync(join(dir, "nodiff.patch"), "just words\n\nno diff here\n");
    const empty = runPq(dir, ["import", "nodiff.patch"]);
    expect(empty.status).toBe(7);
    expect(empty.stderr).toContain("contains no diff");
    for (const fuzz of ["9", "abc", "-1", "1.5", "", " "]) expect(runPq(dir, ["push", "--fuzz", fuzz]).status).toBe(2);
    expect(runPq(dir, ["new", "g"]).status).toBe(0);
    expect(runPq(dir, ["guard", "g", "--", "-neg", "+pos"]).stdout).toContain("g: -neg +pos");
    const emptyMsg = runPq(dir, ["header", "g", "-e"], { EDITOR: "truncate -s 0" });
    expect(emptyMsg.status).toBe(2);
    expect(emptyMsg.stderr).toContain("empty");
    expect(read(join(dir, "patches"), "g")).toContain("Subject: g");
    const state = JSON.parse(readFileSync(join(dir, ".pq/state.json"), "utf8"));
    delete state.applied[0].files;
    writeFileSync(join(dir, ".pq/state.json"), JSON.stringify(state));
    const damaged = runPq(dir, ["series"]);
    expect(damaged.status).toBe(13);
    noTrace(damaged);
  });

  it("paths given from a subdirectory are taken relative to it, as git does", async () => {
    const dir = repo({ "sub/a.txt": "a\n" });
    expect(runPq(dir, ["init"]).status).toBe(0);
    expect(runPq(dir, ["new", "p"]).status).toBe(0);
    write(dir, "sub/new.txt", "new\n");
    const r = runPq(join(dir, "sub"), ["add", "new.txt"]);
    expect(r.stdout).toContain("added sub/new.txt");
    expect(runPq(join(dir, "sub"), ["refresh"]).status).toBe(0);
    expect(read(join(dir, "patches"), "p")).toContain("b/sub/new.txt");
    const touching = runPq(join(dir, "sub"), ["patches", "new.txt"]);
    expect(touching.stdout).toMatch(/^A p /m);
  });

  it("git's conventions: --version, help CMD, a misspelt command", () => {
    const dir = repo({ "a.txt": "a\n" });
    expect(runPq(dir, ["--version"]).stdout).toMatch(/^pq \d+\.\d+\.\d+/);
    expect(runPq(dir, ["help", "push"]).stdout).toContain("pq push [target]");
    expect(runPq(dir, ["help", "ci", "merge"]).stdout).toContain("pq ci merge <reports..>"); // a subcommand's own (t62 N7)
    const typo = runPq(dir, ["psuh"]);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain("'psuh' is not a pq command");
    expect(typo.stderr).toContain("Did you mean push?");
  });
});
