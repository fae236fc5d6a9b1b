/**
 * Every mutating command is one transaction: killed (SIGKILL, through PQ_FAILPOINT) at
 * each point of its execution, the next pq command finds the journal, completes it, and
 * the tree, the queue, the state and the git branch are exactly what an uninterrupted run
 * leaves. The kill landing mid-operation is asserted (the journal is there afterwards).
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, git, makeRepo, pq, snapshot, tempDir, write } from "../helpers/repo.js";

const PQ = resolve("bin/pq.js");
const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));

function pqRun(cwd: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [PQ, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, EDITOR: "true", GIT_AUTHOR_DATE: "2020-01-01T00:00:00Z", GIT_COMMITTER_DATE: "2020-01-01T00:00:00Z", ...env },
  });
}

/** pqRun's environment, for a pq run in this process (the uninterrupted reference run needs no process of its own). */
async function inProcess(cwd: string, args: string[]) {
  const pinned: Record<string, string> = { EDITOR: "true", GIT_AUTHOR_DATE: "2020-01-01T00:00:00Z", GIT_COMMITTER_DATE: "2020-01-01T00:00:00Z" };
  const saved = Object.fromEntries(Object.keys(pinned).map((k) => [k, process.env[k]]));
  Object.assign(process.env, pinned);
  try {
    return await pq(cwd, ...args);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const lines = (n: number, tag = "line") => Array.from({ length: n }, (_, i) => `${tag} ${i + 1}\n`).join("");

/** A stack with p1, p2 applied and p3, p4 unapplied, plus an edit to refresh. */
function fixture(): string {
  const dir = makeRepo({ "a.txt": lines(40), "b.txt": lines(10, "b") });
  dirs.push(dir);
  const ok = (args: string[]) => expect(pqRun(dir, args).status, args.join(" ")).toBe(0);
  ok(["init"]);
  for (const [i, at] of [5, 15, 25, 35].entries()) {
    ok(["new", `p${i + 1}`, "-m", `patch ${i + 1}`]);
    write(dir, "a.txt", readFileSync(join(dir, "a.txt"), "latin1").replace(`line ${at}\n`, `line ${at} by p${i + 1}\n`));
    ok(["refresh"]);
  }
  ok(["pop", "p2"]);
  write(dir, "extra.patch", "From: Extra <extra@example.org>\nSubject: extra\n\n--- a/b.txt\n+++ b/b.txt\n@@ -1,2 +1,2 @@\n-b 1\n+b one\n b 2\n");
  return dir;
}

/** Everything a command may change, with the parts that depend on the clock left out. */
function observe(dir: string) {
  const files = snapshot(dir);
  for (const k of Object.keys(files)) if (k.startsWith("patches/")) files[k] = files[k].replace(/^Date: .*$/m, "Date: -");
  const state = JSON.parse(readFileSync(join(dir, ".pq/state.json"), "utf8"));
  for (const a of state.applied) delete a.hash;
  const trashDir = join(dir, ".pq/trash");
  const trash = existsSync(trashDir) ? readdirSync(trashDir).map((n) => readFileSync(join(trashDir, n), "latin1").replace(/^Date: .*$/m, "")).sort() : [];
  return {
    files,
    state,
    trash,
    log: git(dir, "log", "--format=%s %T"),
    index: git(dir, "ls-files", "-s"),
    oplog: readFileSync(join(dir, ".pq/oplog"), "utf8").trim().split("\n").length,
  };
}

const commands: [string, string[]][] = [
  ["new", ["new", "p9", "-m", "ninth"]],
  ["refresh", ["refresh"]],
  ["revert", ["revert", "a.txt"]],
  ["remove", ["remove", "a.txt"]],
  ["push", ["push"]],
  ["push -a", ["push", "-a"]],
  ["pop", ["pop"]],
  ["goto", ["goto", "p4"]],
  ["fold", ["fold", "p3"]],
  ["rename", ["rename", "p3", "third"]],
  ["delete", ["delete", "p4"]],
  ["reorder", ["reorder", "p4", "--before", "p3"]],
  ["guard", ["guard", "p3", "+xen"]],
  ["select", ["select", "xen"]],
  ["header", ["header", "p2", "-m", "new subject"]],
  ["import --push", ["import", "extra.patch", "--push"]],
  ["finish", ["finish", "p1"]],
  ["undo", ["undo"]],
  ["absorb", ["absorb"]],
  ["uncommit", ["uncommit"]],
];

const allPoints = ["journal-written", "tree-written", "queue-written", "git-moved", "state-written", "oplog-appended"];
/** Every point for the commands that write everything; three spread out for the rest (time). */
const pointsFor = (label: string) =>
  ["push -a", "finish", "undo"].includes(label)
    ? allPoints
    : label === "uncommit"
      ? ["journal-written", "git-moved", "oplog-appended"]
      : // Series-only edits write no tree: the journal and the queue files are their two steps.
        ["rename", "reorder", "guard", "select", "header"].includes(label)
        ? ["journal-written", "queue-written"]
        : ["journal-written", "queue-written", "oplog-appended"];

describe("SIGKILL at every point of every mutating command", () => {
  let template: string;
  beforeAll(() => {
    template = fixture();
  });
  for (const [label, args] of commands) {
    it(`${label}: completed by the next command, exactly as an uninterrupted run`, async () => {
      const base = tempDir();
      dirs.push(base);
      cpSync(template, base, { recursive: true });
      // An unrefreshed edit for refresh to take (and revert to drop).
      if (label === "refresh" || label === "revert") write(base, "a.txt", readFileSync(join(base, "a.txt"), "latin1").replace("line 1\n", "line one\n"));
      // An edit to a line p1 added, for absorb to move into p1.
      if (label === "absorb") write(base, "a.txt", readFileSync(join(base, "a.txt"), "latin1").replace("line 5 by p1\n", "line 5 by P1\n"));
      // A commit on the branch for uncommit to turn into a patch.
      if (label === "uncommit") {
        write(base, "c.txt", "c\n");
        git(base, "add", "c.txt");
        git(base, "commit", "-q", "-m", "add c");
      }
      const reference = tempDir();
      dirs.push(reference);
      cpSync(base, reference, { recursive: true });
      const done = await inProcess(reference, args);
      expect(done.code, done.err).toBe(0);
      const expected = observe(reference);
      for (const point of pointsFor(label)) {
        const victim = tempDir();
        dirs.push(victim);
        cpSync(base, victim, { recursive: true });
        const killed = pqRun(victim, args, { PQ_FAILPOINT: point });
        expect(killed.signal, `${label} at ${point}: ${killed.stderr}`).toBe("SIGKILL");
        expect(existsSync(join(victim, ".pq/journal.json")), `journal left by ${label} at ${point}`).toBe(true);
        // The next command runs in this process (the kill needed a process of its own; the replay does not).
        const next = await pq(victim, "series");
        expect(next.code, next.err).toBe(0);
        expect(existsSync(join(victim, ".pq/journal.json"))).toBe(false);
        expect(observe(victim), `${label} killed at ${point}`).toEqual(expected);
      }
    });
  }
});
