import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, git, makeRepo, pq, read, snapshot, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

const hasQuilt = spawnSync("quilt", ["--version"]).status === 0;
const quilt = (cwd: string, ...args: string[]) =>
  execFileSync("quilt", args, { cwd, encoding: "utf8", env: { ...process.env, QUILT_PATCHES: "patches", QUILTRC: "/dev/null" } });

const base = { "drivers/serial.c": Array.from({ length: 30 }, (_, i) => `serial line ${i}\n`).join(""), "README": "model\n" };

describe("quilt interoperability (real quilt)", () => {
  it("quilt is installed (by .ci/run)", () => {
    expect(hasQuilt).toBe(true);
  });

  it("a queue made by quilt imports into pq and pushes to the tree quilt makes", async () => {
    const qdir = makeRepo(base);
    dirs.push(qdir);
    quilt(qdir, "new", "one.patch");
    quilt(qdir, "add", "drivers/serial.c");
    write(qdir, "drivers/serial.c", read(qdir, "drivers/serial.c").replace("serial line 3\n", "serial line three\n"));
    quilt(qdir, "refresh");
    quilt(qdir, "new", "two.patch");
    quilt(qdir, "add", "README", "NEWFILE");
    write(qdir, "README", "model kernel\n");
    write(qdir, "NEWFILE", "new\n");
    quilt(qdir, "refresh");
    const quiltTop = snapshot(qdir);

    const tree = makeRepo(base);
    dirs.push(tree);
    await pq(tree, "init");
    const imported = await pq(tree, "import", "--quilt", qdir, "--push");
    expect(imported.code).toBe(0);
    expect(imported.out).toContain("now at: two.patch");
    const mine = snapshot(tree);
    for (const f of ["drivers/serial.c", "README", "NEWFILE"]) expect(mine[f]).toBe(quiltTop[f]);
  });

  it("pq's queue directory pushes under quilt", async () => {
    const tree = makeRepo(base);
    dirs.push(tree);
    await pq(tree, "init");
    await pq(tree, "new", "first.patch", "-m", "First");
    write(tree, "drivers/serial.c", read(tree, "drivers/serial.c").replace("serial line 10\n", "serial line ten\n"));
    await pq(tree, "refresh");
    await pq(tree, "new", "second.patch", "-m", "Second");
    write(tree, "added.c", "int x;\n");
    await pq(tree, "refresh", "added.c");
    const pqTop = snapshot(tree);

    const other = makeRepo(base);
    dirs.push(other);
    execFileSync("cp", ["-r", join(tree, "patches"), join(other, "patches")]);
    const out = quilt(other, "push", "-a");
    expect(out).toContain("Now at patch second.patch");
    const quiltTree = snapshot(other);
    for (const f of ["drivers/serial.c", "added.c"]) expect(quiltTree[f]).toBe(pqTop[f]);
    git(other, "status", "--short");
  });

  it("a queue with names in directories: quilt's pushes under pq, and pq export --quilt pushes under quilt, to the same tree", async () => {
    const qdir = makeRepo(base);
    dirs.push(qdir);
    quilt(qdir, "new", "bugfix/serial/one.patch");
    quilt(qdir, "add", "drivers/serial.c");
    write(qdir, "drivers/serial.c", read(qdir, "drivers/serial.c").replace("serial line 3\n", "serial line three\n"));
    quilt(qdir, "refresh");
    quilt(qdir, "new", "features/all/two.patch");
    quilt(qdir, "add", "README");
    write(qdir, "README", "model kernel\n");
    quilt(qdir, "refresh");
    const quiltTop = snapshot(qdir);

    const tree = makeRepo(base);
    dirs.push(tree);
    await pq(tree, "init");
    expect((await pq(tree, "import", "--quilt", qdir, "--push")).out).toContain("now at: features/all/two.patch");
    for (const f of ["drivers/serial.c", "README"]) expect(snapshot(tree)[f]).toBe(quiltTop[f]);

    const other = makeRepo(base);
    dirs.push(other);
    expect((await pq(tree, "export", "--quilt", join(other, "patches"))).code).toBe(0);
    expect(quilt(other, "push", "-a")).toContain("Now at patch features/all/two.patch");
    const again = snapshot(other);
    for (const f of ["drivers/serial.c", "README"]) expect(again[f]).toBe(quiltTop[f]);
  });
});
