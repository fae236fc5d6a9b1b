import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { gitFailed } from "../../src/errors.js";
import { cleanup, git, makeRepo, pq, read, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

describe("a new user's first session (the README's walk-through)", () => {
  it("init, new, edit, refresh, pop, push, fold, reorder, guard, export, and git am of the export", async () => {
    const dir = makeRepo({ greeting: "hello\n", "src/main.c": "int main(void)\n{\n\treturn 0;\n}\n" });
    dirs.push(dir);
    expect((await pq(dir, "init")).code).toBe(0);
    expect((await pq(dir, "new", "fix-greeting", "-m", "Greet the world\n\nA friendlier greeting.")).code).toBe(0);
    write(dir, "greeting", "hello, world\n");
    const refreshed = await pq(dir, "refresh");
    expect(refreshed.out).toContain("refreshed fix-greeting: greeting");

    await pq(dir, "new", "exit-code", "-m", "Return 1");
    write(dir, "src/main.c", "int main(void)\n{\n\treturn 1;\n}\n");
    await pq(dir, "refresh");
    await pq(dir, "new", "comment", "-m", "Add a comment");
    write(dir, "src/main.c", "/* demo */\nint main(void)\n{\n\treturn 1;\n}\n");
    await pq(dir, "refresh");

    const popped = await pq(dir, "pop");
    expect(popped.out).toContain("now at: exit-code");
    expect(read(dir, "src/main.c")).toBe("int main(void)\n{\n\treturn 1;\n}\n");
    expect((await pq(dir, "push")).out).toContain("now at: comment");

    // Reorder and fold: pop to the first patch, move "comment" first, fold it in.
    await pq(dir, "goto", "fix-greeting");
    expect((await pq(dir, "reorder", "comment", "--first")).code).toBe(0);
    expect((await pq(dir, "series")).out).toBe("fix-greeting\ncomment\nexit-code\n");
    const folded = await pq(dir, "fold", "comment");
    expect(folded.code).toBe(0);
    expect((await pq(dir, "series")).out).toBe("fix-greeting\nexit-code\n");

    // Guards: a guarded patch is skipped until its guard is selected.
    await pq(dir, "guard", "exit-code", "+experimental");
    expect((await pq(dir, "push", "-a")).out).toContain("nothing to push");
    await pq(dir, "select", "experimental");
    expect((await pq(dir, "push", "-a")).out).toContain("now at: exit-code");
    const series = JSON.parse((await pq(dir, "series", "--json")).out);
    expect(series.map((r: { state: string }) => r.state)).toEqual(["applied", "applied"]);

    // Export, and apply the export with git am on a fresh clone of the base.
    const out = join(dir, "..", `${dir.split("/").pop()}-export`);
    dirs.push(out);
    expect((await pq(dir, "export", "--dir", out)).code).toBe(0);
    const clone = tempDir();
    dirs.push(clone);
    git(clone, "clone", "-q", dir, ".");
    const mails = readdirSync(out)
      .filter((f) => f.endsWith(".patch"))
      .sort()
      .map((f) => join(out, f));
    git(clone, "am", "-q", ...mails);
    expect(read(clone, "greeting")).toBe(read(dir, "greeting"));
    expect(read(clone, "src/main.c")).toBe("/* demo */\nint main(void)\n{\n\treturn 1;\n}\n");
    expect(git(clone, "log", "--format=%s", "-2")).toBe("Return 1\nGreet the world\n");
    expect(git(clone, "log", "--format=%b", "-1", "HEAD~1")).toContain("A friendlier greeting.");
  });

  it("errors are clear, non-zero, and change nothing", async () => {
    const dir = makeRepo({ "a.txt": "a\n" });
    dirs.push(dir);
    expect((await pq(dir, "push")).code).toBe(3); // no stack yet
    await pq(dir, "init");
    const missing = await pq(dir, "push", "nonexistent");
    expect(missing.code).toBe(3);
    expect(missing.err).toContain("nonexistent is not in the series");
    write(dir, "bad.patch", "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n-a\n+b\n");
    const bad = await pq(dir, "import", "bad.patch");
    expect(bad.code).toBe(7);
    expect(bad.err).toMatch(/hunk .* ends early|truncated/);
    expect(existsSync(join(dir, "patches", "bad.patch"))).toBe(false);
  });

  it("--json refusals are JSON on stdout too (code, message, details, data), as well as text on stderr", async () => {
    const dir = makeRepo({ "a.txt": "a\n" });
    dirs.push(dir);
    await pq(dir, "init");
    const r = await pq(dir, "push", "--json", "nonexistent");
    expect(r.code).toBe(3);
    expect(r.err).toContain("nonexistent is not in the series");
    const parsed = JSON.parse(r.out);
    expect(parsed).toMatchObject({ error: "not-found", exitCode: 3 });
    expect(parsed.message).toContain("nonexistent");
    // Without --json, stdout stays empty.
    expect((await pq(dir, "push", "nonexistent")).out).toBe("");
  });

  it("names a git lock file that is in the way, instead of git's paragraph", () => {
    const e = gitFailed(
      "git update-index",
      "fatal: Unable to create '/x/.git/index.lock': File exists.\n\nAnother git process seems to be running in this repository, e.g.\nan editor opened by 'git commit'.",
    );
    expect(e.message).toBe(
      "git update-index failed: git's lock file /x/.git/index.lock exists (Unable to create '/x/.git/index.lock': File exists.)",
    );
    expect(e.details.join("\n")).toContain("remove /x/.git/index.lock");
    expect(e.data.lock).toBe("/x/.git/index.lock");
    expect(gitFailed("git fetch origin", "fatal: no such remote").message).toBe("git fetch origin failed: fatal: no such remote");
  });

  it("runs as a real command: bin/pq.js --help and a refusal's exit code", () => {
    const bin = resolve("bin/pq.js");
    const help = spawnSync(process.execPath, [bin, "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("pq push");
    const dir = tempDir();
    dirs.push(dir);
    const r = spawnSync(process.execPath, [bin, "init"], { cwd: dir, encoding: "utf8" });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain("not a git work tree");
  });
});

describe("a guard put on an applied patch that the selection now excludes (t77 N5)", () => {
  it("is said by pq guard and by pq status (and its --json), as pq select says it", async () => {
    const dir = makeRepo({ a: "a\n", b: "b\n" });
    dirs.push(dir);
    await pq(dir, "init");
    for (const name of ["p1", "p2"]) {
      expect((await pq(dir, "new", name, "-m", name)).code).toBe(0);
      write(dir, name === "p1" ? "a" : "b", `${name}\n`);
      expect((await pq(dir, "refresh")).code).toBe(0);
    }
    expect((await pq(dir, "select", "xen")).code).toBe(0);
    const guard = await pq(dir, "guard", "p1", "--", "-xen");
    expect([guard.code, guard.out]).toEqual([
      0,
      "p1: -xen\np1 is applied but now guarded (pq select --reapply pops it and pushes back up to where the top was)\n",
    ]);
    expect(JSON.parse((await pq(dir, "guard", "p1", "--json")).out)).toEqual({ name: "p1", guards: ["-xen"], guardedOff: true });
    expect((await pq(dir, "status")).out).toContain(
      "applied but guarded off by the selected guards (xen): p1; pq select --reapply takes it off and pushes back up",
    );
    expect(JSON.parse((await pq(dir, "status", "--json")).out).guardedOff).toEqual(["p1"]);
    // Unguarded again: nothing said.
    expect((await pq(dir, "guard", "p1", "--none")).out).toBe("p1: unguarded\n");
    expect((await pq(dir, "status")).out).not.toContain("guarded off");
  });
});

describe("pq select --reapply (t129 N7)", () => {
  it("pops what the new selection guards off and pushes back up to where the top was, the series' order kept, as hg qselect --reapply", async () => {
    const dir = makeRepo({ a: "a\n", b: "b\n", c: "c\n" });
    dirs.push(dir);
    await pq(dir, "init");
    for (const [name, file] of [
      ["p1", "a"],
      ["p2", "b"],
      ["p3", "c"],
    ]) {
      await pq(dir, "new", name);
      write(dir, file, `${file}\n${name}\n`);
      await pq(dir, "refresh");
    }
    await pq(dir, "pop", "-a");
    await pq(dir, "guard", "p1", "+xen");
    await pq(dir, "guard", "p2", "--", "-xen");
    await pq(dir, "push", "-a");
    expect((await pq(dir, "applied")).out).toBe("p2\np3\n");
    const selected = await pq(dir, "select", "xen");
    expect(selected.out).toContain("applied but now guarded: p2 (pq select --reapply");
    const status = await pq(dir, "status");
    expect(status.out).toContain("pq select --reapply applies it in its place");
    const r = await pq(dir, "select", "--reapply", "xen");
    expect(r.code, r.err).toBe(0);
    expect((await pq(dir, "applied")).out).toBe("p1\np3\n");
    expect(read(dir, "patches/series")).toBe("p1 #+xen\np2 #-xen\np3\n");
    expect(read(dir, "b")).toBe("b\n");
    // Back: the other way round.
    expect((await pq(dir, "select", "--none", "--reapply")).code).toBe(0);
    expect((await pq(dir, "applied")).out).toBe("p2\np3\n");
    // One command, one transaction (t154 N2): one undo takes the selection, the pop and the push back.
    expect((await pq(dir, "oplog")).out.split("\n")[0]).toContain("select --none --reapply");
    expect((await pq(dir, "undo")).code).toBe(0);
    expect([(await pq(dir, "applied")).out, (await pq(dir, "select")).out]).toEqual(["p1\np3\n", "xen\n"]);
    // Killed after its journal: the next command completes the whole of it.
    const killed = spawnSync(process.execPath, [resolve("bin/pq.js"), "select", "--none", "--reapply"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, PQ_FAILPOINT: "journal-written" },
    });
    expect(killed.signal).toBe("SIGKILL");
    expect([(await pq(dir, "applied")).out, (await pq(dir, "select")).out]).toEqual(["p2\np3\n", "no guards selected\n"]);
    expect(read(dir, "b")).toBe("b\np2\n");
  });

  it("over unrefreshed edits names its own way, which works word for word (t157 N7)", async () => {
    const dir = makeRepo({
      f: Array.from({ length: 30 }, (_, i) => `${i + 1}\n`).join(""),
      g: Array.from({ length: 30 }, (_, i) => `${i + 1}\n`).join(""),
    });
    dirs.push(dir);
    await pq(dir, "init");
    for (const [name, file, from, to] of [
      ["p1", "f", "5\n", "five\n"],
      ["p2", "g", "10\n", "ten\n"],
      ["p3", "f", "15\n", "fifteen\n"],
    ]) {
      await pq(dir, "new", name);
      write(dir, file, read(dir, file).replace(`\n${from}`, `\n${to}`));
      await pq(dir, "refresh");
    }
    await pq(dir, "pop", "-a");
    await pq(dir, "guard", "p2", "+g");
    await pq(dir, "push", "-a");
    write(dir, "g", read(dir, "g").replace("\n20\n", "\nmy edit in g\n"));
    const r = await pq(dir, "select", "--reapply", "g");
    expect(r.code, r.err).toBe(5);
    expect(r.err).toContain(
      "or set them aside: git diff -- g > mine.diff, git checkout -- g; then pq select g --reapply, and git apply mine.diff puts them back",
    );
    // Word for word (the edit's line is apart from p2's).
    execFileSync("sh", ["-c", "git diff -- g > mine.diff && git checkout -- g"], { cwd: dir });
    expect((await pq(dir, "select", "g", "--reapply")).code).toBe(0);
    git(dir, "apply", "mine.diff");
    expect([(await pq(dir, "applied")).out, (await pq(dir, "select")).out]).toEqual(["p1\np2\np3\n", "g\n"]);
    expect(read(dir, "g")).toContain("my edit in g\n");
  });

  it("refuses the whole command, nothing changed, when a patch would not apply back with the new selection (t154 N2)", async () => {
    const dir = makeRepo({ f: Array.from({ length: 30 }, (_, i) => `${i + 1}\n`).join("") });
    dirs.push(dir);
    await pq(dir, "init");
    for (const [name, from, to] of [
      ["p1", "3\n", "three\n"],
      ["p2", "10\n", "ten\n"],
      ["p3", "ten\n", "TEN\n"],
      ["p4", "25\n", "x25\n"],
    ]) {
      await pq(dir, "new", name);
      write(dir, "f", read(dir, "f").replace(from, to));
      await pq(dir, "refresh");
    }
    await pq(dir, "guard", "p2", "--", "-lite");
    const before = { f: read(dir, "f"), oplog: (await pq(dir, "oplog")).out };
    const r = await pq(dir, "select", "--reapply", "lite");
    expect(r.code).toBe(6);
    expect(r.err).toContain("p3 does not apply (nothing was changed)");
    expect(r.err).toContain("pq select G ... without --reapply sets the selection alone");
    expect([(await pq(dir, "applied")).out, (await pq(dir, "select")).out, read(dir, "f"), (await pq(dir, "oplog")).out]).toEqual([
      "p1\np2\np3\np4\n",
      "no guards selected\n",
      before.f,
      before.oplog,
    ]);
  });
});
