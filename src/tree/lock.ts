/**
 * One pq process per tree. The lock file holds the owner's pid; a lock whose process is
 * gone (killed, crashed) is taken over, and the journal then repairs what it left.
 *
 * The file appears with its pid already in it (written aside, then hard-linked into place,
 * which fails if a lock exists): a lock created empty and filled a moment later was read
 * as "no owner" by a second pq, which removed it and went ahead beside the first.
 */
import {
  closeSync,
  linkSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { PqError } from "../errors.js";

/** Whether a process is running (a zombie, killed and not yet reaped, is not: it will never act again). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  // A killed pq whose parent has not reaped it yet is a zombie: it answers signal 0 but will
  // never release the lock (a shell's `timeout -s KILL` leaves one for a moment).
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no /proc (not Linux): signal 0 is all there is
  }
}

/**
 * Where this process's pids are counted: its pid namespace and host. A pid in a lock written
 * from another (a container sharing the tree, another machine on a network file system) says
 * nothing here: no process of that number here may be the owner alive there (t56 N2: a host pq
 * took over a running container pq's lock and completed its journal under it).
 */
let ownPlace: string | null | undefined;
function pidPlace(): string | null {
  if (ownPlace === undefined) {
    try {
      ownPlace = `${readlinkSync("/proc/self/ns/pid")} ${hostname()}`;
    } catch {
      ownPlace = null; // no /proc (not Linux): pids are taken as this host's, as before
    }
  }
  return ownPlace;
}

/**
 * The running kernel's boot id: the same for every container on it, and a new one after a
 * reboot. A host name alone is no machine's identity (it can be changed while pq runs, or
 * between a kill and the next command: t59 N4), and a pid namespace's name alone is none
 * either (every machine's first namespace has the same inode number).
 */
let ownBoot: string | undefined;
function bootId(): string {
  if (ownBoot === undefined) {
    try {
      ownBoot = readFileSync("/proc/sys/kernel/random/boot_id", "latin1").trim();
    } catch {
      ownBoot = "";
    }
  }
  return ownBoot;
}

/** The lock file's text: the pid, where it counts (see pidPlace), when its process started (see pidReused), and on which boot (see bootId). */
function lockText(): string {
  const place = pidPlace();
  const started = startTicks(process.pid);
  return place === null ? `${process.pid}\n` : `${process.pid}\n${place}\n${started ?? ""}\n${bootId()}\n`;
}

/** The pid namespace part of a place (see pidPlace; a host name holds no space). */
const namespaceOf = (place: string) => place.split(" ")[0];

/**
 * Whether a lock was taken where its pid cannot be looked up from here: another pid namespace
 * of this kernel (a container), or another machine. Written on this kernel's boot, the
 * namespace alone says so (a host name changed since is no other machine); written on another
 * boot or before pq said its boot, the namespace and the host name do (a reboot of this
 * machine keeps both, and the pid's start time then tells the pid was reused).
 */
function fromElsewhere(lock: LockFile): boolean {
  const place = pidPlace();
  if (place === null || lock.place === "") return false;
  if (lock.boot !== "" && lock.boot === bootId()) return namespaceOf(lock.place) !== namespaceOf(place);
  return lock.place !== place;
}

/** The initial pid namespace (the kernel's PROC_PID_INIT_INO): a process in it sees every process of the machine in /proc. */
const INITIAL_PID_NAMESPACE = "pid:[4026531836]";

/**
 * Whether the pid namespace a lock was taken in (a container's, on this kernel's boot) is gone,
 * and its pq with it: a dev container stopped with `docker stop` leaves its lock on the shared
 * tree, which the host then refused for ever as held "there" (t58 N5). Told only from the
 * initial namespace, whose /proc lists every process of the machine, when every process's
 * namespace can be read: as root, or where /proc hides no one's processes (hidepid) and no
 * process refuses its namespace's name. Anywhere else the lock stays another place's.
 */
function lockNamespaceGone(lock: LockFile): boolean {
  const place = pidPlace();
  if (place === null || namespaceOf(place) !== INITIAL_PID_NAMESPACE) return false;
  if (lock.boot === "" || lock.boot !== bootId()) return false;
  const namespace = namespaceOf(lock.place);
  if (!/^pid:\[\d+\]$/.test(namespace) || namespace === INITIAL_PID_NAMESPACE) return false;
  try {
    if (process.getuid?.() !== 0 && /\shidepid=(?!0\b|off\b)/.test(readFileSync("/proc/self/mountinfo", "latin1"))) return false;
    for (const entry of readdirSync("/proc")) {
      // Pid 1 here is the machine's init, in the initial namespace (which may refuse even root the link's name).
      if (!/^\d+$/.test(entry) || entry === "1") continue;
      try {
        if (readlinkSync(`/proc/${entry}/ns/pid`) === namespace) return false;
      } catch (e) {
        // Gone since the listing: no process of that namespace. Any other refusal: cannot tell.
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") return false;
      }
    }
  } catch {
    return false;
  }
  return true;
}

/** When process `pid` started, in clock ticks since boot (/proc/PID/stat's field 22), or null off Linux. */
function startTicks(pid: number): string | null {
  const ticks = statField(pid, 19);
  return /^\d+$/.test(ticks ?? "") ? ticks : null;
}

/**
 * Field `n` of /proc/PID/stat counted after the command's closing parenthesis (the command may
 * hold spaces and parentheses itself: 0 is the state, 1 the parent), or null when it cannot be read.
 */
function statField(pid: number, n: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[n] ?? null;
  } catch {
    return null;
  }
}

/**
 * Whether a lock names a process that is not the one that wrote it: the lock says
 * when its writer started, and a process of that pid that started at another time has only its
 * number (a killed pq's pid reused by any program, node ones included: t56 N3 found such a lock
 * said to be held "by another pq" for ever). No clock is read: both times are the kernel's
 * count since boot. A lock written before pq said when (or off Linux) is judged as before.
 */
function pidReused(lock: LockFile): boolean {
  if (!/^\d+$/.test(lock.started)) return false;
  const now = startTicks(lock.pid);
  return now !== null && now !== lock.started;
}

/** A lock file's lines (see lockText): its pid (NaN: none written yet), and where, when and on which boot its writer ran ("": not said). */
interface LockFile {
  pid: number;
  place: string;
  started: string;
  boot: string;
}

/** The lock file at `path`, read once, or null when it is gone. */
function readLock(path: string): LockFile | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return null; // gone
  }
  const [pid, place = "", started = "", boot = ""] = text.split("\n");
  const n = parseInt(pid, 10);
  return { pid: Number.isFinite(n) ? n : NaN, place, started, boot };
}

function ownerOf(path: string): number | null {
  return readLock(path)?.pid ?? null;
}

/** The pid of another live process holding the lock at `path` (a reader's question: is an operation under way?), or null. */
export function lockHolder(path: string): number | null {
  const lock = readLock(path);
  if (lock === null || Number.isNaN(lock.pid)) return null;
  const { pid } = lock;
  // Taken in another pid namespace or host: its owner may be running there (unless that namespace is gone).
  if (fromElsewhere(lock)) return lockNamespaceGone(lock) ? null : pid;
  if (pid === process.pid || !processAlive(pid) || pidReused(lock)) return null;
  // A pid another program has now (a killed pq's, reused) holds nothing (verify-6 N9).
  return notPq(commandOf(pid)) ? null : pid;
}

/** Whether a process's command is another program's than pq's (pq runs in Node): a lock's pid reused after a kill or a reboot. */
function notPq(command: string | null): boolean {
  return command !== null && !/node/i.test(command);
}

/** Creates the lock file with our pid in it, atomically; false if one exists. */
function create(path: string): boolean {
  const aside = `${path}.${process.pid}`;
  try {
    // Inside the try: a full disk fails this write, and the empty file must not stay behind.
    writeFileSync(aside, lockText());
    linkSync(aside, path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS") throw e;
    // A file system without hard links: exclusive create, then the pid (a short window).
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, lockText());
      closeSync(fd);
      return true;
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw e2;
    }
  } finally {
    rmSync(aside, { force: true });
  }
}

/**
 * Removes what create() of a pq killed in its few microseconds between writing `LOCK.PID` and
 * removing it left behind (t24 F4), and the `NAME.tmp-PID` files of .pq's writes by rename that
 * a kill cut short: such a file of a process that is gone, once this process holds the lock.
 * A live process's is its own business.
 */
function sweepAsideFiles(path: string, lockOnly = false): void {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // only tidying
  }
  for (const name of names) {
    // Also a file written by rename (NAME.tmp-PID: state.json, the journal) that a kill left half made (t27 F6).
    // LOCK.PID (create's) and LOCK.stale-PID (a take-over's, t140 N6).
    const pidText = name.startsWith(prefix)
      ? name.slice(prefix.length).replace(/^stale-/, "")
      : lockOnly
        ? ""
        : (/\.tmp-(\d+)$/.exec(name)?.[1] ?? "");
    if (!/^\d+$/.test(pidText)) continue;
    const pid = Number(pidText);
    try {
      // A directory of that name is no file of pq's (t25 F6): left, and the others still tidied.
      if (pid !== process.pid && !processAlive(pid)) rmSync(join(dir, name), { force: true });
    } catch {
      /* only tidying */
    }
  }
}

/** The command a process runs (Linux's /proc/PID/comm), or null when that cannot be read. */
function commandOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, "latin1").trim();
  } catch {
    return null;
  }
}

const lockedElsewhere = (path: string, pid: number, what: string) =>
  new PqError(
    "locked",
    `${what} is locked by pid ${pid} of another pid namespace or host (a container or another machine sharing it), which pq cannot look up from here`,
    [`wait for the pq running there to finish; if none runs there, remove ${path}`],
    { lock: path, pid, elsewhere: true },
  );

/** The parent of a process (Linux's /proc/PID/stat), or null when that cannot be read. */
function parentOf(pid: number): number | null {
  const parent = Number(statField(pid, 1));
  return Number.isInteger(parent) && parent > 0 ? parent : null;
}

/** Whether `pid` started this process, through any number of programs between them. */
function isAncestor(pid: number): boolean {
  let at: number | null = process.ppid;
  for (let depth = 0; at !== null && at > 1 && depth < 64; depth++) {
    if (at === pid) return true;
    at = parentOf(at);
  }
  return false;
}

const locked = (path: string, pid: number | null, what: string) => {
  // A command a pq runs while it holds the lock (a sync --check's or a ci's --run) that runs pq
  // on the same tree or queue would wait for its own caller, which waits for it (t140 N7): said at once.
  // Only a pq's (Node's): a lock naming the user's shell, which started this pq too, is a dead pq's pid reused (t147 N7).
  if (pid && isAncestor(pid) && !notPq(commandOf(pid)))
    return new PqError(
      "locked",
      `${what} is locked by pid ${pid}, the pq that started this command (through a command it runs, such as a --run of pq ci or pq sync --check)`,
      ["a command pq runs cannot change what that pq holds: run it in a tree on another queue directory, or after that pq is done"],
      { lock: path, pid, ancestor: true },
    );
  // pq runs in Node: a lock whose pid now belongs to another program (the pid reused after a
  // kill or a reboot) is said to be so, not "another pq".
  const command = pid ? commandOf(pid) : null;
  const foreign = notPq(command);
  return new PqError(
    "locked",
    pid
      ? foreign
        ? `${what} is locked by pid ${pid}, which runs ${command}, not pq: a pq that held the lock was killed and its pid reused`
        : `${what} is locked by pid ${pid} (another pq is running)`
      : `${what} is locked (another pq is starting)`,
    [
      foreign
        ? `if no pq is running, remove ${path} and run the command again`
        : `wait for it to finish; if no pq is running, remove ${path}`,
    ],
    { lock: path, ...(pid ? { pid } : {}), ...(command ? { command } : {}), ...(pid && !foreign ? { byPq: true } : {}) },
  );
};

export interface LockOptions {
  /**
   * Remove what dead pqs left in the lock's directory (the lock's aside files, and any file written
   * by rename that a kill left half made) at every take: the default, for .pq/. False: only the
   * lock's own aside files, and only when a dead owner's lock is taken over; a queue directory's
   * other leftovers are a killed operation's, which its recovery reads (a patch file's hold).
   */
  sweep?: boolean;
  /** What the lock keeps, as a refusal names it ("the tree", the default). */
  what?: string;
}

export class TreeLock {
  /** `path` null: no lock file is held (see acquireToRead). */
  private constructor(private path: string | null) {}

  /**
   * A reader's lock (a dry run): taken as any lock is, so that no operation changes the stack
   * while it reads; where the stack's directory cannot be written at all (a read-only checkout,
   * another user's tree), none is taken and the read goes on, as pq status does (verify-10 Y7).
   */
  /** No lock file held (a directory that is not there to hold one). */
  static none(): TreeLock {
    return new TreeLock(null);
  }

  static acquireToRead(path: string, opts: LockOptions = {}): TreeLock {
    try {
      return TreeLock.acquire(path, opts);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EACCES" || code === "EROFS" || code === "EPERM") return new TreeLock(null);
      throw e;
    }
  }

  static acquire(path: string, { sweep = true, what = "the tree" }: LockOptions = {}): TreeLock {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (create(path)) {
        if (sweep || attempt > 0) sweepAsideFiles(path, !sweep);
        return new TreeLock(path);
      }
      const lock = readLock(path);
      if (lock === null) continue; // released meanwhile: try again
      const { pid } = lock;
      if (Number.isNaN(pid)) {
        // No pid: an older pq between creating and filling it, or a crash in that instant.
        const age = Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0);
        if (age < 5000) throw locked(path, null, what);
      } else if (fromElsewhere(lock)) {
        if (!lockNamespaceGone(lock)) throw lockedElsewhere(path, pid, what);
      } else if (pid !== process.pid && processAlive(pid) && !pidReused(lock)) throw locked(path, pid, what); // our own pid: a dead namesake's (pid 1 in a container)
      // Stale: its owner is gone. Moved aside (only one pq can move a given file), and put
      // back if what was moved is not the dead owner's lock after all.
      const moved = `${path}.stale-${process.pid}`;
      try {
        renameSync(path, moved);
      } catch {
        continue; // another pq took it over first
      }
      const movedPid = ownerOf(moved);
      if (!Object.is(movedPid, pid)) {
        try {
          linkSync(moved, path);
        } catch {
          /* a third pq holds it now */
        }
        rmSync(moved, { force: true });
        throw locked(path, movedPid, what);
      }
      rmSync(moved, { force: true });
    }
    // Not a file pq left (a directory, or something it cannot read): trying again would not help.
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory())
      throw new PqError("locked", `${path} is a directory, not pq's lock file`, [
        `remove it (rmdir ${path}) if no pq is running, then try again`,
      ]);
    throw new PqError("locked", `could not take the lock ${path}`, [
      "try again; if it keeps failing, look at what is there and remove it when no pq is running",
    ]);
  }

  release(): void {
    if (this.path !== null) rmSync(this.path, { force: true });
  }
}

/**
 * How long a command waits for another pq's lock before it is refused as locked (exit 4):
 * PQ_LOCK_TIMEOUT seconds, 10 when unset (as hg's ui.timeout and git's
 * core.filesRefLockTimeout let a script choose; 0 refuses at once).
 */
export function lockWaitMs(): number {
  const text = process.env.PQ_LOCK_TIMEOUT;
  if (text === undefined || text.trim() === "") return 10_000;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new PqError("usage", `PQ_LOCK_TIMEOUT=${text} is not a number of seconds`, [
      "set it to how long a command waits for another pq's lock (PQ_LOCK_TIMEOUT=30; 0 refuses at once), or unset it for 10 seconds",
    ]);
  }
  return seconds * 1000;
}

/**
 * Takes a lock with `take`, waiting (polling) while another live pq holds it, until `until`:
 * as hg waits for its lock, a command run while another works (a pq top in a shell prompt, a
 * push right after another) goes on when that one ends, where it had been refused with exit 4
 * (t114, t115 N5, N6). A lock that is no live pq's is refused at once, as before.
 */
export async function takeWaiting(take: () => TreeLock, until = Date.now() + lockWaitMs()): Promise<TreeLock> {
  for (;;) {
    try {
      return take();
    } catch (e) {
      if (!(e instanceof PqError) || e.code !== "locked" || e.data.byPq !== true || Date.now() >= until) throw e;
      await new Promise((done) => setTimeout(done, 20));
    }
  }
}
