/**
 * pq tui in a real terminal: tmux runs `node bin/pq.js tui` (the built CLI) on a
 * 1000-patch series with the top at 500; keys go in with send-keys, the screen comes
 * back with capture-pane, and the tree and queue are checked on disk at the end.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, tempDir } from "../helpers/repo.js";
import { notesAfter, patchName, seriesRepo } from "../helpers/series.mjs";

const PQ = resolve("bin/pq.js");
const socket = `pq-e2e-${process.pid}`;
const session = "pq";
const tmux = (...args: string[]) => execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
const screen = () => tmux("capture-pane", "-p", "-t", session);
const keys = (...k: string[]) => tmux("send-keys", "-t", session, ...k);

async function waitFor(want: RegExp, ms = 20_000): Promise<string> {
  const until = Date.now() + ms;
  for (;;) {
    const s = screen();
    if (want.test(s)) return s;
    if (Date.now() > until) throw new Error(`the terminal never showed ${want}:\n${s}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const dirs: string[] = [];
afterAll(() => {
  spawnSync("tmux", ["-L", socket, "kill-server"]);
  while (dirs.length) cleanup(dirs.pop()!);
});

describe("pq tui in a real terminal (tmux)", () => {
  it("moves, pages, pushes, pops, refreshes and shows help on a 1000-patch series", async () => {
    const dir = seriesRepo(1000);
    dirs.push(dir);
    const pq = (...args: string[]) => execFileSync(process.execPath, [PQ, ...args], { cwd: dir, encoding: "utf8" });
    pq("init");
    pq("goto", "500");
    // Patch 503 will not apply: its removed line is not in notes.txt.
    const broken = join(dir, "patches", patchName(503));
    writeFileSync(
      broken,
      readFileSync(broken, "latin1").replace("-version = 502 (build 502)", "-version = 502 (a line nobody wrote)"),
      "latin1",
    );

    // The shell line after the TUI reports its exit code on the normal screen.
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "40", "-c", dir, `node ${PQ} tui; echo "pq exited $?"; sleep 60`);
    // Waited for until both panes show it: the list's cursor row and the preview are drawn in separate frames.
    let s = await waitFor(/^(?=[^]*▶> +500 A 00500-change-500\.patch)(?=[^]*change number 500 of the series)/);
    expect(s).toMatch(/▶> +500 A 00500-change-500\.patch/);
    expect(s).toMatch(/500\/1000 applied/);
    expect(s).toMatch(/series 500\/1000 · \d+ above · \d+ below/);
    // The preview of the top patch, with its diffstat and diff (it loads a moment after the series).
    s = await waitFor(/notes\.txt \|\s+2 \+-/);
    expect(s).toMatch(/\+version = 500 \(build 500\)/);

    // The mouse wheel (an SGR report, as a terminal sends it with mouse mode on) moves the cursor.
    tmux("send-keys", "-t", session, "-l", "\x1b[<65;10;10M");
    s = await waitFor(/▶ +503 U/);
    tmux("send-keys", "-t", session, "-l", "\x1b[<64;10;10M");
    s = await waitFor(/▶> +500 A/);

    keys("NPage");
    s = await waitFor(/▶ +5[3-4]\d U/);
    keys("PPage");
    s = await waitFor(/▶> +500 A/);

    // Two pushes sent in one call arrive in one input chunk: both happen, in order.
    keys("p", "p");
    s = await waitFor(/502\/1000 applied/);
    keys("o");
    s = await waitFor(/✓ popped 1; now at: 00501-change-501\.patch/);
    s = await waitFor(/501\/1000 applied/);
    expect(readFileSync(join(dir, "notes.txt"), "latin1")).toBe(notesAfter(501));

    // An edit made outside the TUI shows up as unrefreshed; r takes it into the top patch.
    appendFileSync(join(dir, "p/501.txt"), "edited in another window\n");
    s = await waitFor(/unrefreshed: p\/501\.txt/);
    keys("r");
    s = await waitFor(/✓ refreshed 00501-change-501\.patch: notes\.txt, p\/501\.txt/);
    expect(readFileSync(join(dir, "patches", patchName(501)), "latin1")).toMatch(/^\+edited in another window$/m);

    // Push all stops at the patch that does not apply: the file and hunk are on screen.
    keys("P");
    s = await waitFor(/✗ 00503-change-503\.patch does not apply \(1 patch\(es\) before it were applied/);
    s = await waitFor(/notes\.txt: Hunk #1 FAILED/);
    s = await waitFor(/502\/1000 applied/);

    keys("?");
    s = await waitFor(/pq tui keys/);
    expect(s).toMatch(/push \/ pop one patch/);
    keys("Escape");
    s = await waitFor(/series 502\/1000/);
    expect(s).not.toMatch(/pq tui keys/);

    keys("q");
    s = await waitFor(/pq exited 0/);
    // The alternate screen is gone: the shell's screen is back, without the TUI's frame.
    expect(s).not.toMatch(/series 502\/1000/);

    expect(pq("top").trim()).toBe(patchName(502));
    expect(readFileSync(join(dir, "notes.txt"), "latin1")).toBe(notesAfter(502));
    expect(readFileSync(join(dir, "p/501.txt"), "latin1")).toBe("file 501\nsecond line\nedited in another window\n");
    expect(readFileSync(join(dir, "p/502.txt"), "latin1")).toBe("file 502\nsecond line\n");
    expect(pq("status")).toMatch(/applied 502, unapplied 498/);
  });

  it("draws in colour, and without any under NO_COLOR", async () => {
    const dir = seriesRepo(20);
    dirs.push(dir);
    execFileSync(process.execPath, [PQ, "init"], { cwd: dir });
    execFileSync(process.execPath, [PQ, "goto", "10"], { cwd: dir });
    // capture-pane -e keeps the escape codes: colours are SGR 30-37/90-97, 40-47, 38;/48;.
    const colours = /\x1b\[[0-9;]*\b(3[0-7]|9[0-7]|4[0-7]|38;|48;)/;
    for (const [name, env, coloured] of [
      ["colour", "", true],
      ["nocolour", "NO_COLOR=1 ", false],
    ] as const) {
      tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "30", "-c", dir, `${env}node ${PQ} tui; sleep 60`);
      const until = Date.now() + 20_000;
      let s = "";
      // The preview loads a moment after the series pane: wait for both.
      while (!(/change number 10 of the series/.test(s) && /-version = \x1b\[[0-9;]*7m9\b/.test(s)) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 50));
        s = tmux("capture-pane", "-p", "-e", "-t", name);
      }
      expect(s.replace(/\x1b\[[0-9;]*m/g, "")).toMatch(/▶> +10 A/);
      expect(colours.test(s)).toBe(coloured);
      // The changed words of the -/+ pair are highlighted (inverse), colours or not.
      expect(s).toMatch(/-version = \x1b\[[0-9;]*7m9\b/);
      tmux("send-keys", "-t", name, "q");
    }
  });

  it("killed (SIGTERM), gives the shell its screen back without mouse reports", async () => {
    const dir = seriesRepo(5);
    dirs.push(dir);
    execFileSync(process.execPath, [PQ, "init"], { cwd: dir });
    tmux("new-session", "-d", "-s", "term", "-x", "100", "-y", "30", "-c", dir, `node ${PQ} tui; echo "pq exited $?"; sleep 60`);
    const until = Date.now() + 20_000;
    while (!/0\/5 applied/.test(tmux("capture-pane", "-p", "-t", "term")) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    const pid = tmux("display", "-p", "-t", "term", "#{pane_pid}").trim();
    // The shell's child: node running pq tui.
    const node = execFileSync("pgrep", ["-P", pid], { encoding: "utf8" }).trim().split("\n")[0];
    process.kill(Number(node), "SIGTERM");
    const end = Date.now() + 10_000;
    while (!/pq exited 143/.test(tmux("capture-pane", "-p", "-t", "term")) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(tmux("capture-pane", "-p", "-t", "term")).toContain("pq exited 143");
    expect(tmux("display", "-p", "-t", "term", "#{alternate_on} #{mouse_any_flag}").trim()).toBe("0 0");
  });

  it("crashed (SIGSEGV, SIGKILL: no chance to clean up), has the launcher give the shell its screen back (tui-22 F1)", async () => {
    const dir = seriesRepo(5);
    dirs.push(dir);
    execFileSync(process.execPath, [PQ, "init"], { cwd: dir });
    const launcher = resolve("bin/pq");
    // SIGSEGV and SIGKILL to the TUI's node; SIGTERM to the launcher, the pid a user's shell knows, which
    // passes it on (t23 F6: it ended only the launcher). `--tree DIR tui` is the TUI too (t23 F7).
    for (const [signal, status, target] of [
      ["SIGSEGV", 139, "node"],
      ["SIGKILL", 137, "node"],
      ["SIGTERM", 143, "launcher"],
    ] as const) {
      const name = `crash${status}`;
      const command = status === 137 ? `${launcher} --tree ${dir} tui` : `${launcher} tui`;
      // The terminal's settings before and after: put back as they were, not as stty sane makes them (t130 N4).
      const settings = tempDir("pq-stty-");
      dirs.push(settings);
      tmux(
        "new-session",
        "-d",
        "-s",
        name,
        "-x",
        "100",
        "-y",
        "30",
        "-c",
        dir,
        `stty -ixon; stty -g > ${settings}/before; ${command}; echo "pq exited $?"; stty -g > ${settings}/after; sleep 60`,
      );
      const until = Date.now() + 20_000;
      while (!/0\/5 applied/.test(tmux("capture-pane", "-p", "-t", name)) && Date.now() < until)
        await new Promise((r) => setTimeout(r, 50));
      expect(tmux("display", "-p", "-t", name, "#{alternate_on} #{mouse_any_flag}").trim()).toBe("1 1");
      // The pane's shell runs bin/pq (sh), which runs node.
      const pid = tmux("display", "-p", "-t", name, "#{pane_pid}").trim();
      const launcherPid = execFileSync("pgrep", ["-P", pid], { encoding: "utf8" }).trim().split("\n")[0];
      const node = execFileSync("pgrep", ["-P", launcherPid], { encoding: "utf8" }).trim().split("\n")[0];
      process.kill(Number(target === "node" ? node : launcherPid), signal);
      const end = Date.now() + 10_000;
      while (!new RegExp(`pq exited ${status}`).test(tmux("capture-pane", "-p", "-t", name)) && Date.now() < end)
        await new Promise((r) => setTimeout(r, 50));
      const after = tmux("capture-pane", "-p", "-t", name);
      expect(after).toContain(`pq exited ${status}`);
      // A TERM the TUI handles itself: it gave the terminal back, nothing more is said.
      if (signal === "SIGTERM") expect(after).not.toContain("ended abnormally");
      else expect(after).toContain(`pq: the TUI ended abnormally (exit ${status}); the terminal was put back`);
      expect(tmux("display", "-p", "-t", name, "#{alternate_on} #{mouse_any_flag}").trim()).toBe("0 0");
      const written = Date.now() + 5_000;
      while (!existsSync(join(settings, "after")) && Date.now() < written) await new Promise((r) => setTimeout(r, 50));
      expect(readFileSync(join(settings, "after"), "utf8"), signal).toBe(readFileSync(join(settings, "before"), "utf8"));
      // The TUI itself is gone, not left running without its launcher.
      expect(spawnSync("kill", ["-0", node]).status).not.toBe(0);
    }
  });

  it("in a terminal too small for the layout, says so and acts on no key but q; back to size, draws again", async () => {
    const dir = seriesRepo(5);
    dirs.push(dir);
    execFileSync(process.execPath, [PQ, "init"], { cwd: dir });
    tmux("new-session", "-d", "-s", "small", "-x", "80", "-y", "30", "-c", dir, `node ${PQ} tui; echo "pq exited $?"; sleep 60`);
    const waitIn = async (want: RegExp) => {
      const until = Date.now() + 20_000;
      let s = "";
      while (!want.test((s = tmux("capture-pane", "-p", "-t", "small"))) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(s).toMatch(want);
    };
    await waitIn(/0\/5 applied/);
    tmux("resize-window", "-t", "small", "-x", "80", "-y", "6");
    await waitIn(/needs at least 30x11; this terminal is 80x6/);
    tmux("send-keys", "-t", "small", "P");
    await new Promise((r) => setTimeout(r, 300));
    tmux("resize-window", "-t", "small", "-x", "80", "-y", "30");
    await waitIn(/0\/5 applied/);
    expect(execFileSync(process.execPath, [PQ, "applied"], { cwd: dir, encoding: "utf8" }).trim()).toBe("");
    tmux("send-keys", "-t", "small", "q");
    await waitIn(/pq exited 0/);
  });

  it("refuses to start without a terminal", () => {
    const dir = seriesRepo(3);
    dirs.push(dir);
    execFileSync(process.execPath, [PQ, "init"], { cwd: dir });
    const r = spawnSync(process.execPath, [PQ, "tui"], { cwd: dir, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/pq tui needs a terminal/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});
