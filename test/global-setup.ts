import { spawnSync } from "node:child_process";
import { accessSync, chmodSync, constants, mkdtempSync, readdirSync, rmSync, statSync, statfsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * CLI tests that spawn `node bin/pq.js` (SIGKILL, a real terminal, interop with other
 * tools) need dist/ to match src/: compile and bundle once before the run. tsc still emits when it
 * finds type errors; those are reported by `npm run typecheck`, not here.
 */
export default function setup(): () => void {
  // The suite starts Node (workers, `node bin/pq.js`) thousands of times and makes no TLS
  // connection. Node 20 parses the CA bundle NODE_EXTRA_CA_CERTS names at every start (75-80
  // ms on a machine that sets it, nodejs/node#40524), as bin/pq avoids for users: the
  // workers, forked after this, and everything they start do without it.
  delete process.env.NODE_EXTRA_CA_CERTS;
  // Every temporary directory of the run (the tests' repositories, the texts pq saves on a
  // refusal, git's and gcc's own files) goes under one directory, removed when the run ends:
  // a run left ~150 directories in /tmp before. Workers and what they start inherit TMPDIR.
  // git's housekeeping after a commit, fetch or push (git maintenance run --auto, gc --auto) is two
  // more processes each time, for repositories that live seconds: off for the run, through the
  // environment every git inherits (test/collab/sync.test.ts: 48 -> 42 s). No test is about it.
  Object.assign(process.env, {
    GIT_CONFIG_COUNT: "2",
    GIT_CONFIG_KEY_0: "maintenance.auto",
    GIT_CONFIG_VALUE_0: "false",
    GIT_CONFIG_KEY_1: "gc.auto",
    GIT_CONFIG_VALUE_1: "0",
  });
  const runTemp = mkdtempSync(join(memoryBackedTemp() ?? tmpdir(), "pq-tests-"));
  // As /tmp is: the tests that run pq as another user (test/cli/permissions.test.ts) reach their files through it.
  chmodSync(runTemp, 0o1777);
  process.env.TMPDIR = runTemp;
  const teardown = () => rmSync(runTemp, { recursive: true, force: true, maxRetries: 5 });
  // Long runs started side by side (npm run fuzz with several seeds) build once beforehand.
  if (process.env.PQ_SKIP_BUILD === "1") return teardown;
  // `npm ci` has just built it (CI runs the tests right after): a bundle newer than every input
  // is current, and compiling again would cost every run ~12 s before any test starts.
  if (mtime("dist/bundle/pq.cjs") > Math.max(newest("src"), ...["tsconfig.json", "scripts/bundle.mjs", "package-lock.json"].map(mtime)))
    return teardown;
  const r = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], { encoding: "utf8" });
  if (r.status !== 0) process.stderr.write(`warning: tsc reported errors while building dist/:\n${r.stdout.slice(0, 2000)}\n`);
  // bin/pq.js runs the bundle when there is one: rebuild it too, or tests would run a stale CLI.
  const b = spawnSync(process.execPath, ["scripts/bundle.mjs"], { encoding: "utf8" });
  if (b.status !== 0) throw new Error(`bundling the CLI failed:\n${b.stderr}`);
  return teardown;
}

/**
 * /dev/shm when it is a writable directory with room: the run creates and removes hundreds of
 * thousands of files, and on an ext4 without a journal (this machine's root) every new inode first
 * scans its group's recently deleted ones (recently_deleted, in perf): the whole suite took 423 s with
 * its files in /tmp and 385 s in /dev/shm, all passing in both. No test is about the file system's
 * kind (statcache.test.ts forges whole-second stats rather than mount a file system).
 */
function memoryBackedTemp(): string | undefined {
  try {
    const free = statfsSync("/dev/shm");
    accessSync("/dev/shm", constants.W_OK);
    return free.bavail * free.bsize > 4 * 2 ** 30 ? "/dev/shm" : undefined;
  } catch {
    return undefined;
  }
}

/** A file's modification time in ms, 0 when it is missing. */
function mtime(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;
}

/** The newest modification time of any file under `dir`. */
function newest(dir: string): number {
  let latest = mtime(dir);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : mtime(path));
  }
  return latest;
}
