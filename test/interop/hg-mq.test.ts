import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeRepo, pq, read, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

/** Real Mercurial with the mq extension (.ci/run installs Debian's mercurial). */
const hg = (cwd: string, ...args: string[]) =>
  execFileSync("hg", ["--config", "extensions.mq=", "--config", "ui.username=hg user <hg@example.org>", ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, HGPLAIN: "1" },
  });

function hgRepo(files: Record<string, string>): string {
  const dir = tempDir("pq-hg-");
  dirs.push(dir);
  hg(dir, "init");
  for (const [p, c] of Object.entries(files)) write(dir, p, c);
  hg(dir, "add", ...Object.keys(files));
  hg(dir, "commit", "-m", "base");
  return dir;
}

const base = { "arch/irq.c": "int irq;\nint enable;\nint disable;\n" };

describe("hg mq interoperability (real hg)", () => {
  it("a queue made with hg qnew/qrefresh/qguard imports into pq, guards and messages kept, and pushes to hg's tree", async () => {
    const repo = hgRepo(base);
    hg(repo, "qnew", "-U", "-m", "paravirt: first\n\nWhy it matters.", "first.patch");
    write(repo, "arch/irq.c", "int irq;\nint enable_op;\nint disable;\n");
    hg(repo, "qrefresh");
    hg(repo, "qnew", "-m", "xen: second", "second.patch");
    write(repo, "arch/xen.c", "int xen;\n");
    hg(repo, "add", "arch/xen.c");
    hg(repo, "qrefresh");
    hg(repo, "qguard", "second.patch", "+xen");

    const tree = makeRepo(base);
    dirs.push(tree);
    await pq(tree, "init");
    expect((await pq(tree, "import", "--hg", repo)).code).toBe(0);
    expect((await pq(tree, "guard", "second.patch")).out.trim()).toBe("second.patch: +xen");
    expect(JSON.parse((await pq(tree, "header", "first.patch", "--json")).out)).toMatchObject({
      subject: "paravirt: first",
      body: "Why it matters.",
      author: "hg user <hg@example.org>",
    });
    await pq(tree, "select", "xen");
    expect((await pq(tree, "push", "-a")).out).toContain("now at: second.patch");
    for (const f of ["arch/irq.c", "arch/xen.c"]) expect(read(tree, f)).toBe(read(repo, f));

    // import --push with no guard selected: both imported, the first pushed, and the guarded one named
    // (it used to refuse the whole import, as a push of that one patch by name would).
    const other = makeRepo(base);
    dirs.push(other);
    await pq(other, "init");
    const imported = await pq(other, "import", "--hg", repo, "--push");
    expect(imported.code, imported.err).toBe(0);
    expect(imported.out).toContain("now at: first.patch");
    expect(imported.out).toContain("not pushed: second.patch is guarded (+xen) and the selected guards (none) exclude it");
    expect((await pq(other, "series")).out).toBe("first.patch\nsecond.patch\n");
    expect((await pq(other, "applied")).out).toBe("first.patch\n");
  });

  it("a series line a.patch#+xen, which hg reads as a.patch guarded +xen, imports as hg reads it (t122 N12)", async () => {
    const repo = hgRepo(base);
    hg(repo, "qnew", "-m", "xen: guarded", "a.patch");
    write(repo, "arch/irq.c", "int irq;\nint enable_xen;\nint disable;\n");
    hg(repo, "qrefresh");
    hg(repo, "qpop", "-a");
    write(join(repo, ".hg", "patches"), "series", "a.patch#+xen\n");
    expect(hg(repo, "qguard", "-l")).toBe("a.patch: +xen\n");
    const tree = makeRepo(base);
    dirs.push(tree);
    await pq(tree, "init");
    const r = await pq(tree, "import", "--hg", repo);
    expect(r.code, r.err).toBe(0);
    expect((await pq(tree, "guard", "a.patch")).out.trim()).toBe("a.patch: +xen");
  });

  it("guards hg takes (a:b, é) import, select and push as in hg (t129 N1)", async () => {
    const repo = hgRepo(base);
    hg(repo, "qnew", "-m", "guarded", "a.patch");
    write(repo, "arch/irq.c", "int irq;\nint enable_a;\nint disable;\n");
    hg(repo, "qrefresh");
    hg(repo, "qguard", "--", "+a:b", "+é");
    hg(repo, "qpop", "-a");
    hg(repo, "qselect", "a:b");
    expect(hg(repo, "qpush", "-a")).toContain("now at: a.patch");
    const tree = makeRepo(base);
    dirs.push(tree);
    await pq(tree, "init");
    const r = await pq(tree, "import", "--hg", repo);
    expect(r.code, r.err).toBe(0);
    expect((await pq(tree, "guard", "a.patch")).out.trim()).toBe("a.patch: +a:b +é");
    expect((await pq(tree, "select", "a:b")).code).toBe(0);
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect(read(tree, "arch/irq.c")).toContain("enable_a");
    // White space, '#' and a leading sign are refused, as hg refuses them.
    for (const bad of ["a b", "a#b", "+x"]) expect((await pq(tree, "select", bad)).code, bad).toBe(2);
  });

  it("an hg patch whose name has a space comes in with '-' for it, said so (t129 N2)", async () => {
    const repo = hgRepo(base);
    hg(repo, "qnew", "-m", "spaced", "my fix");
    write(repo, "arch/irq.c", "int irq;\nint enable_fix;\nint disable;\n");
    hg(repo, "qrefresh");
    hg(repo, "qguard", "--", "+xen");
    hg(repo, "qpop", "-a");
    const tree = makeRepo(base);
    dirs.push(tree);
    await pq(tree, "init");
    const r = await pq(tree, "import", "--hg", repo);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`hg's "my fix" comes in as my-fix`);
    expect((await pq(tree, "guard", "my-fix")).out.trim()).toBe("my-fix: +xen");
    expect((await pq(tree, "select", "xen")).code).toBe(0);
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    expect(read(tree, "arch/irq.c")).toContain("enable_fix");
  });

  it("pq's queue directory pushes under hg qpush -a, with pq's authors and messages", async () => {
    const tree = makeRepo(base);
    dirs.push(tree);
    await pq(tree, "init");
    await pq(tree, "new", "ops.patch", "-m", "paravirt: ops struct", "-u", "Corin Paravirt <corin.paravirt@example.org>");
    write(tree, "arch/irq.c", "int irq;\nint enable;\nint disable;\nstruct paravirt_ops ops;\n");
    await pq(tree, "refresh");
    await pq(tree, "new", "added.patch", "-m", "add a file");
    write(tree, "arch/new.c", "int n;\n");
    await pq(tree, "refresh", "arch/new.c");

    const repo = hgRepo(base);
    mkdirSync(join(repo, ".hg", "patches"), { recursive: true });
    cpSync(join(tree, "patches"), join(repo, ".hg", "patches"), { recursive: true });
    expect(hg(repo, "qpush", "-a")).toContain("now at: added.patch");
    for (const f of ["arch/irq.c", "arch/new.c"]) expect(read(repo, f)).toBe(read(tree, f));
    expect(hg(repo, "log", "-r", "ops.patch", "--template", "{author}|{desc}")).toBe(
      "Corin Paravirt <corin.paravirt@example.org>|paravirt: ops struct",
    );
  });
});
