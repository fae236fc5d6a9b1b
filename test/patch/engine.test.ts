import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PqError } from "../../src/errors.js";
import {
  applyFilePatch,
  bestName,
  createFilePatch,
  describeHunkResult,
  diffHunks,
  parsePatch,
  reverseFilePatch,
  type FilePatch,
} from "../../src/patch/index.js";
import { cleanup, git, makeRepo, read, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));
const lines = (n: number, tag = "line") => Array.from({ length: n }, (_, i) => `${tag} ${i + 1}\n`).join("");

/** Apply with GNU patch in a temp dir: the oracle for offsets, fuzz and failures. */
function gnuPatch(original: string, patchText: string, fuzz = 2): { content: string; output: string; ok: boolean } {
  const dir = tempDir("pq-gnu-");
  dirs.push(dir);
  write(dir, "f.txt", original);
  write(dir, "p.diff", patchText);
  const r = spawnSync("patch", ["-p1", `-F${fuzz}`, "--no-backup-if-mismatch", "-r", "-", "-i", "p.diff"], {
    cwd: dir,
    encoding: "latin1",
  });
  return { content: read(dir, "f.txt"), output: r.stdout + r.stderr, ok: r.status === 0 };
}

const only = (text: string): FilePatch => parsePatch(text).files[0];

describe("misordered hunks", () => {
  it("a hunk that fits only above the hunk before it fails as misordered, said as GNU patch says it (interop-17 F3)", () => {
    const text = Array.from({ length: 30 }, (_, i) => `${i + 1}\n`).join("");
    const hunk = (n: number, now: string) =>
      `@@ -${n - 3},7 +${n - 3},7 @@\n${[n - 3, n - 2, n - 1].map((k) => ` ${k}\n`).join("")}-${n}\n+${now}\n${[n + 1, n + 2, n + 3].map((k) => ` ${k}\n`).join("")}`;
    const r = applyFilePatch(text, only(`--- a/f\n+++ b/f\n${hunk(20, "twenty")}${hunk(8, "eight")}`));
    expect(r.hunks.map((h) => [h.status, h.misordered ?? false])).toEqual([
      ["exact", false],
      ["failed", true],
    ]);
    expect(describeHunkResult(r.hunks[1])).toBe(
      "Hunk #2 FAILED at 5 (misordered: it fits only above the hunk before it; put the patch's hunks in file order).",
    );
    // A hunk that fits nowhere is only failed.
    const nowhere = applyFilePatch(
      text,
      only(`--- a/f\n+++ b/f\n${hunk(20, "twenty")}${hunk(8, "eight").replace("-8\n", "-not what line 8 holds\n")}`),
    );
    expect(nowhere.hunks[1]).toMatchObject({ status: "failed" });
    expect(nowhere.hunks[1].misordered).toBeUndefined();
  });

  it("a hunk in file order that reads lines the hunk before it changed fails as overlapping it, not misordered (t94 N4)", () => {
    const text = Array.from({ length: 30 }, (_, i) => `${i + 1}\n`).join("");
    const r = applyFilePatch(text, only("--- a/f\n+++ b/f\n@@ -5,3 +5,3 @@\n 5\n-6\n+6x\n 7\n@@ -6,3 +6,3 @@\n 6\n-7\n+7x\n 8\n"));
    expect(r.hunks[1]).toMatchObject({ status: "failed", overlaps: 1 });
    expect(r.hunks[1].misordered).toBeUndefined();
    expect(describeHunkResult(r.hunks[1])).toBe(
      "Hunk #2 FAILED at 6 (it overlaps hunk #1: lines it reads are ones that hunk changed; git apply refuses such a patch too).",
    );
  });
});

describe("parse", () => {
  it("refuses a file with no diff that is not text (gzip'd, binary), as GNU patch's 'Only garbage', and keeps a description-only patch (ci-17 F9)", () => {
    const diff = "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n";
    const gzipped = execFileSync("gzip", ["-c"], { input: Buffer.from(diff) }).toString("latin1");
    for (const garbage of [gzipped, "\x7fELF\x02\x01\x01\0\0\0", "BZh91AY&SY\x12\x34"]) {
      expect(() => parsePatch(garbage)).toThrow(
        expect.objectContaining({ code: "bad-patch", message: expect.stringContaining("holds no diff and is not text") }),
      );
    }
    expect(parsePatch("Subject: nothing yet\n\nA patch pq new made.\n").files).toEqual([]);
    expect(parsePatch("").files).toEqual([]);
  });

  it("reads git format-patch output: header, new/deleted/renamed/mode, no-newline, signature", () => {
    const dir = makeRepo({ "a.txt": lines(10), "old name.txt": lines(5, "x"), "gone.txt": "bye\n", "run.sh": "#!/bin/sh\n" });
    dirs.push(dir);
    write(dir, "a.txt", lines(10).replace("line 5\n", "five\n") + "tail without newline");
    git(dir, "mv", "old name.txt", "new name.txt");
    git(dir, "rm", "-q", "gone.txt");
    write(dir, "t\u00e9st.txt", "accent\n");
    execFileSync("chmod", ["+x", join(dir, "run.sh")]);
    git(dir, "add", "-A");
    git(dir, "commit", "-qm", "A change\n\nWith a body.\n\nSigned-off-by: Test Author <author@example.org>");
    const out = git(dir, "format-patch", "-1", "--stdout", "-M");
    const p = parsePatch(out);
    expect(p.header).toContain("Subject: [PATCH] A change");
    const byPath = Object.fromEntries(p.files.map((f) => [f.newPath ?? f.oldPath, f]));
    expect(byPath["a.txt"].hunks[0].lines.at(-1)!.text).toBe("tail without newline");
    expect(byPath["new name.txt"]).toMatchObject({ kind: "rename", oldPath: "old name.txt", similarity: 100 });
    expect(byPath["gone.txt"]).toMatchObject({ kind: "delete", newPath: null });
    expect(byPath["run.sh"]).toMatchObject({ oldMode: "100644", newMode: "100755" });
    expect(Object.keys(byPath)).toContain("t\u00e9st.txt");
    // The signature after the last hunk is not read as context.
    expect(p.files.every((f) => f.hunks.every((h) => h.lines.every((l) => !l.text.startsWith("2.39"))))).toBe(true);
  });

  it("reads plain diff -u with timestamps, and refuses damaged patches with a line number", () => {
    const plain =
      "--- a/f.txt\t2024-01-01 10:00:00.000000000 +0000\n+++ b/f.txt\t2024-01-02 10:00:00.000000000 +0000\n@@ -1,2 +1,2 @@\n-a\n+b\n c\n";
    expect(only(plain)).toMatchObject({ oldPath: "f.txt", newPath: "f.txt", kind: "modify" });
    const short = "--- a/f.txt\n+++ b/f.txt\n@@ -1,3 +1,3 @@\n-a\n+b\n";
    expect(() => parsePatch(short)).toThrow(PqError);
    expect(() => parsePatch(short)).toThrow(/ends early/);
    const garbage = "--- a/f.txt\n+++ b/f.txt\n@@ -1,2 +1,2 @@\n-a\n*junk\n c\n";
    expect(() => parsePatch(garbage)).toThrow(/line 5/);
  });

  it("refuses a change it would pass over unread: a hunk with no file header, a normal-format diff (t145 N19, N20)", () => {
    const first = "--- a/a\n+++ b/a\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n";
    const noHeader =
      /the hunk at line (\d+) of the patch \(@@ -3,3 \+3,3 @@\)(?: after line \d+ \([^)]*\), which is no hunk line and ends the file's section above,)? has no file header before it/;
    // The second file's --- line lost (GNU patch applies it to b from the +++ line alone), or both, or a stray line between two hunks.
    for (const [patch, line] of [
      [`${first}+++ b/b\n@@ -3,3 +3,3 @@\n 3\n-4\n+four\n 5\n`, "9"],
      [
        `${first}@@ -3,3 +3,3 @@\n 3\n-4\n+four\n 5\n`.replace(
          "@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n@@",
          "@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\nstray\n@@",
        ),
        "9",
      ],
      [`diff --git a/b b/b\n@@ -3,3 +3,3 @@\n 3\n-4\n+four\n 5\n`, "2"],
    ]) {
      expect(() => parsePatch(patch)).toThrow(expect.objectContaining({ code: "bad-patch", message: expect.stringMatching(noHeader) }));
      expect(() => parsePatch(patch)).toThrow(new RegExp(`line ${line} `));
    }
    // No file header at all, the hunk after a description: not a patch that changes nothing (t156 N8).
    expect(() => parsePatch("Subject: add a line\n\n@@ -1,3 +1,4 @@\n one\n+one and a half\n two\n three\n")).toThrow(
      expect.objectContaining({
        code: "bad-patch",
        message: expect.stringMatching(/the hunk at line 3 of the patch \(@@ -1,3 \+1,4 @@\).* has no file header before it/),
      }),
    );
    // A description alone is still a patch (pq new's empty one).
    expect(parsePatch("Subject: nothing yet\n\nmore words\n").files).toEqual([]);
    // The line that ended the file's section above is named (t146 N6).
    expect(() => parsePatch(`${first}\n@@ -3,3 +3,3 @@\n 3\n-4\n+four\n 5\n`)).toThrow(
      /after line 8 \(a blank line\), which is no hunk line/,
    );
    // A normal diff behind an Index: line (quilt's header without its ==== line), or a plain diff line.
    for (const normal of [
      "Description: old\n\nIndex: a\n5c5\n< 5\n---\n> five\n",
      "diff -Naur a.orig a\n1a2\n> new\n",
      "Index: a\n2d1\n< 2\n",
    ])
      expect(() => parsePatch(normal)).toThrow(
        expect.objectContaining({
          code: "bad-patch",
          message: expect.stringContaining("starts a normal-format diff, which pq does not read"),
        }),
      );
    // A git merge's conflict markers around a hunk (a conflicted git pull in the queue, t144 N6).
    const conflicted = `${first}<<<<<<< HEAD\n@@ -3,3 +3,3 @@\n 3\n-4\n+four\n 5\n=======\n>>>>>>> 78663ed\n`;
    expect(() => parsePatch(conflicted)).toThrow(
      expect.objectContaining({
        code: "bad-patch",
        message: expect.stringContaining("line 8 of the patch (<<<<<<< HEAD) is a merge's conflict marker"),
      }),
    );
    // A conflict block in the description (both sides changed the subject, t146 N2), with or without a diff.
    const block = "<<<<<<< HEAD\nSubject: mine\n=======\nSubject: theirs\n>>>>>>> 78663ed\n\n";
    for (const marked of [`${block}${first}`, block]) {
      expect(() => parsePatch(marked)).toThrow(
        expect.objectContaining({ code: "bad-patch", message: expect.stringContaining("is a merge's conflict marker in its description") }),
      );
    }
    expect(parsePatch(`Quoting git: a line starting <<<<<<< HEAD\n<<<<<<< alone\n\n${first}`).files).toHaveLength(1);
    // A message that shows a whole conflict block (no header field in it) is a message (t148 N2).
    expect(
      parsePatch(`Subject: explain conflicts\n\nA conflict looks like:\n<<<<<<< HEAD\nmine\n=======\ntheirs\n>>>>>>> topic\n\n${first}`)
        .files,
    ).toHaveLength(1);
    // CVS's and svn's own lines between the ==== line and the diff, and svn's binary file, as GNU patch reads them (t146 N5).
    const sep = `${"=".repeat(67)}\n`;
    const cvs = `Index: f.c\n${sep}RCS file: /cvs/proj/f.c,v\nretrieving revision 1.1\ndiff -u -r1.1 f.c\n--- f.c\t1 Jan 2001 00:00:00 -0000\t1.1\n+++ f.c\t2 Jan 2001 00:00:00 -0000\n@@ -1 +1 @@\n-a\n+b\n`;
    expect(parsePatch(cvs, { strip: 0 }).files.map((f) => [f.newPath, f.hunks.length])).toEqual([["f.c", 1]]);
    const svn = `Index: logo.png\n${sep}Cannot display: file marked as a binary type.\nsvn:mime-type = application/octet-stream\nIndex: f.c\n${sep}--- f.c\t(revision 1)\n+++ f.c\t(working copy)\n@@ -1 +1 @@\n-a\n+b\n`;
    const files = parsePatch(svn, { strip: 0 }).files;
    expect(files.map((f) => [f.newPath, Boolean(f.binary?.plain)])).toEqual([
      ["logo.png", true],
      ["f.c", false],
    ]);
    // Inside a hunk, a marker is said as a conflict to resolve, not as counts to fix (t146 N8).
    expect(() => parsePatch("--- a/a\n+++ b/a\n@@ -1,3 +1,3 @@\n 1\n<<<<<<< HEAD\n-2\n+two\n 3\n")).toThrow(
      expect.objectContaining({ details: [expect.stringContaining("resolve the conflict in the patch file by hand")] }),
    );
    // A description that quotes such lines before any diff is a description.
    expect(parsePatch("Fixes the 5c5 case:\n5c5\n< 5\n@@ -1 +1 @@\n").files).toEqual([]);
  });
});

describe("apply, compared with GNU patch", () => {
  const base = lines(40);
  const edited = base.replace("line 10\n", "line ten\n").replace("line 30\n", "line thirty\n");
  const patch = createFilePatch({ oldPath: "f.txt", newPath: "f.txt", oldContent: base, newContent: edited });

  const cases: [string, string][] = [
    ["exact", base],
    ["offset", "new first\nnew second\nnew third\n" + base],
    ["fuzz 1", base.replace("line 7\n", "changed 7\n")],
    ["fuzz 2", base.replace("line 7\n", "changed 7\n").replace("line 8\n", "changed 8\n")],
    ["fails", base.replace(/line (8|9|10|11|12)\n/g, "other\n")],
  ];
  for (const [name, original] of cases) {
    it(`${name}: same bytes and same hunk fates as patch -p1`, () => {
      const mine = applyFilePatch(original, only(patch));
      const gnu = gnuPatch(original, patch);
      expect(mine.ok).toBe(gnu.ok);
      expect(mine.content).toBe(gnu.content);
      for (const h of mine.hunks) {
        if (h.status === "fuzz") expect(gnu.output).toContain(`Hunk #${h.index} succeeded at ${h.line} with fuzz ${h.fuzz}`);
        if (h.status === "offset") expect(gnu.output).toContain(`Hunk #${h.index} succeeded at ${h.line} (offset ${h.offset} line`);
        if (h.status === "failed") expect(gnu.output).toContain(`Hunk #${h.index} FAILED`);
      }
    });
  }

  it("numbers each hunk's line as GNU patch does, in the file as the hunks before it left it (dry-6 #9)", () => {
    // Two hunks, the first removing a line; the file gained two lines on top, and one more above the second hunk.
    const from = lines(60);
    const to = from.replace("line 5\n", "").replace("line 30\n", "line thirty\n").replace("line 50\n", "line fifty\n");
    const p = createFilePatch({ oldPath: "f.txt", newPath: "f.txt", oldContent: from, newContent: to });
    const moved = "x\ny\n" + from.replace("line 40\n", "extra\nline 40\n");
    const failing = "x\ny\n" + from.replace("line 30\n", "other\n");
    for (const target of [moved, failing]) {
      const mine = applyFilePatch(target, only(p));
      const gnu = gnuPatch(target, p);
      const said = mine.hunks.filter((h) => h.status !== "exact").map((h) => describeHunkResult(h));
      const gnuSaid = gnu.output.split("\n").filter((l) => /^Hunk #/.test(l));
      expect(said).toEqual(gnuSaid.map((l) => l.replace(/ \(different line endings\)/, "")));
    }
  });

  it("a 1-context hunk at the top of a file whose trailing context differs applies with fuzz 1, as GNU patch -F1", () => {
    const orig = "first\nsecond\nthird\nfourth\n";
    const p = "--- a/f.txt\n+++ b/f.txt\n@@ -1,3 +1,3 @@\n first\n-second\n+SECOND\n third\n";
    const target = "first\nsecond\nTHIRD\nfourth\n";
    const gnu = gnuPatch(target, p, 1);
    const mine = applyFilePatch(target, only(p), { fuzz: 1 });
    expect(mine.ok).toBe(gnu.ok);
    expect(mine.content).toBe(gnu.content);
    expect(applyFilePatch(target, only(p), { fuzz: 0 }).ok).toBe(false);
    expect(applyFilePatch(orig, only(p), { fuzz: 0 }).content).toBe("first\nSECOND\nthird\nfourth\n");
  });

  it("keeps CRLF and mixed line endings byte-exact, and applies an LF patch to a CRLF file", () => {
    const crlf = "one\r\ntwo\r\nthree\r\nfour\n";
    const next = "one\r\n2\r\nthree\r\nfour\n";
    const p = createFilePatch({ oldPath: "f", newPath: "f", oldContent: crlf, newContent: next });
    expect(applyFilePatch(crlf, only(p)).content).toBe(next);
    const lf = "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n";
    expect(applyFilePatch("one\r\ntwo\r\nthree\r\n", only(lf)).content).toBe("one\r\n2\r\nthree\r\n");
  });

  it("no newline at end of file, on either side", () => {
    const a = "x\ny";
    const b = "x\ny\nz\n";
    const forward = createFilePatch({ oldPath: "f.txt", newPath: "f.txt", oldContent: a, newContent: b });
    expect(forward).toContain("\\ No newline at end of file");
    expect(applyFilePatch(a, only(forward)).content).toBe(b);
    expect(applyFilePatch(b, reverseFilePatch(only(forward))).content).toBe(a);
    expect(gnuPatch(a, forward).content).toBe(b);
  });
});

describe("binary patches", () => {
  it("applies git's literal and delta binary patches byte for byte", () => {
    const dir = makeRepo({});
    dirs.push(dir);
    const blob = Buffer.alloc(3000);
    for (let i = 0; i < blob.length; i++) blob[i] = (i * 7) % 256;
    writeFileSync(join(dir, "fw.bin"), blob);
    git(dir, "add", "-A");
    git(dir, "commit", "-qm", "add blob");
    const literal = git(dir, "format-patch", "-1", "--stdout", "--binary");
    const changed = Buffer.from(blob);
    changed[100] = 1;
    changed[2000] = 2;
    writeFileSync(join(dir, "fw.bin"), changed);
    git(dir, "commit", "-qam", "tweak blob");
    const delta = git(dir, "format-patch", "-1", "--stdout", "--binary");
    const created = applyFilePatch(null, only(literal));
    expect(Buffer.from(created.content!, "latin1").equals(blob)).toBe(true);
    const fp = only(delta);
    expect(fp.binary?.forward?.kind).toBe("delta");
    expect(Buffer.from(applyFilePatch(blob.toString("latin1"), fp).content!, "latin1").equals(changed)).toBe(true);
  });

  it("'Binary files differ' without data applies as GNU patch does: new file empty, changed file kept, only an empty file deleted", () => {
    const nodata = (header: string, from = "a/x.bin", to = "b/x.bin") =>
      only(`diff --git a/x.bin b/x.bin\n${header}Binary files ${from} and ${to} differ\n`);
    expect(applyFilePatch(null, nodata("new file mode 100644\nindex 0000000..89abcde\n", "/dev/null"))).toMatchObject({
      ok: true,
      content: "",
    });
    // GNU patch: "The next patch would create the file x.bin, which already exists!  Applying it anyway." and leaves it.
    expect(applyFilePatch("x\0y", nodata("new file mode 100644\nindex 0000000..89abcde\n", "/dev/null"))).toMatchObject({
      ok: true,
      content: "x\0y",
    });
    expect(applyFilePatch("a\0b", nodata("index 1234567..89abcde 100644\n"))).toMatchObject({ ok: true, content: "a\0b" });
    expect(applyFilePatch(null, nodata("index 1234567..89abcde 100644\n")).ok).toBe(false);
    const del = nodata("deleted file mode 100644\nindex 1234567..0000000\n", "a/x.bin", "/dev/null");
    expect(applyFilePatch("", del)).toMatchObject({ ok: true, content: null });
    expect(applyFilePatch("d\0e", del)).toMatchObject({ ok: false, content: "d\0e" });
    // Without a git header (quilt's Index: sections, plain diff -r): named, but GNU patch skips it.
    const quiltStyle = parsePatch(
      "Index: x.bin\n===================================================================\nBinary files a/x.bin and b/x.bin differ\n",
    );
    expect(quiltStyle.files).toMatchObject([{ newPath: "x.bin", binary: { forward: null, plain: true } }]);
    expect(applyFilePatch(null, quiltStyle.files[0])).toMatchObject({ ok: true, content: null });
    const plain = parsePatch("--- a/t\n+++ b/t\n@@ -1 +1 @@\n-t\n+u\ndiff -urN a/y.bin b/y.bin\nBinary files a/y.bin and b/y.bin differ\n");
    expect(plain.files.map((f) => [f.newPath, Boolean(f.binary?.plain)])).toEqual([
      ["t", false],
      ["y.bin", true],
    ]);
  });
});

describe("plain diffs naming a file two ways", () => {
  it("--- x.c.orig / +++ x.c patches the file GNU patch picks: the one that exists, else the shorter name", () => {
    const p = "--- x.c.orig\n+++ x.c\n@@ -1 +1 @@\n-a\n+b\n";
    const fp = parsePatch(p, { strip: 0 }).files[0];
    expect(fp).toMatchObject({ kind: "modify", candidates: ["x.c.orig", "x.c"] });
    for (const existing of [["x.c", "x.c.orig"], ["x.c.orig"], ["x.c"]]) {
      const dir = tempDir("pq-gnu-names-");
      dirs.push(dir);
      for (const f of existing) write(dir, f, "a\n");
      write(dir, "p.diff", p);
      expect(spawnSync("patch", ["-p0", "-i", "p.diff"], { cwd: dir }).status).toBe(0);
      const patched = existing.find((f) => read(dir, f) === "b\n");
      expect(bestName(fp.candidates!, (f) => existing.includes(f))).toBe(patched);
    }
  });
});

describe("create", () => {
  it("writes patches that git apply and patch -p1 accept, and that reproduce the new text (random edits)", () => {
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let round = 0; round < 60; round++) {
      const old = Array.from({ length: 5 + rand(60) }, (_, i) => `l${i % 7} ${rand(3)}${rand(5) === 0 ? "\r" : ""}\n`);
      const next = [...old];
      for (let e = 0; e < 1 + rand(6); e++) {
        const at = rand(next.length + 1);
        if (rand(2)) next.splice(at, 1);
        else next.splice(at, 0, `new ${round}.${e}\n`);
      }
      let oldText = old.join("");
      let newText = next.join("");
      if (rand(4) === 0) newText = newText.replace(/\n$/, "");
      if (rand(6) === 0) oldText = oldText.replace(/\n$/, "");
      const p = createFilePatch({ oldPath: "f.txt", newPath: "f.txt", oldContent: oldText, newContent: newText });
      if (oldText === newText) continue;
      expect(applyFilePatch(oldText, only(p), { fuzz: 0 }).content).toBe(newText);
      if (round % 10 === 0) {
        const dir = makeRepo({ "f.txt": oldText });
        dirs.push(dir);
        write(dir, "p.diff", p);
        git(dir, "apply", "--check", "p.diff");
        expect(gnuPatch(oldText, p).content).toBe(newText);
      }
    }
  });

  it("round-trips a real git format-patch series", () => {
    const dir = makeRepo({ "src/a.c": lines(50, "int a"), "src/b.c": lines(20, "int b") });
    dirs.push(dir);
    const base = git(dir, "rev-parse", "HEAD").trim();
    for (let k = 0; k < 8; k++) {
      write(dir, "src/a.c", read(dir, "src/a.c").replace(`int a ${k * 5 + 1}\n`, `int a ${k * 5 + 1} /* ${k} */\n`));
      if (k % 3 === 0) write(dir, `src/new${k}.c`, `int n${k};\r\n`);
      git(dir, "add", "-A");
      git(dir, "commit", "-qm", `step ${k}`);
    }
    const out = tempDir("pq-fp-");
    dirs.push(out);
    git(dir, "format-patch", "-q", "-o", out, base);
    const files: Record<string, string | null> = { "src/a.c": lines(50, "int a"), "src/b.c": lines(20, "int b") };
    for (const name of readdirSync(out).sort()) {
      for (const fp of parsePatch(readFileSync(join(out, name), "latin1")).files) {
        const path = (fp.newPath ?? fp.oldPath)!;
        const r = applyFilePatch(files[path] ?? null, fp, { fuzz: 0 });
        expect(r.ok).toBe(true);
        files[path] = r.content;
      }
    }
    for (const [path, content] of Object.entries(files)) expect(content).toBe(read(dir, path));
  });
});

describe("file names", () => {
  // Names git has to quote: UTF-8, control characters with and without a letter escape, quote, backslash, space.
  const names = [
    "\u00e9.txt",
    "dir/\u20ac sp\u00e4ce.txt",
    "tab\there",
    "c\x07\x0b\x0c\rd",
    'q"uo\\te',
    "del\x7f",
    "plain name.txt",
    "\ud83d\ude00.md",
    "trailing space ",
  ];

  it("are quoted exactly as git quotes them (UTF-8 bytes in octal) in diff --git, ---/+++ and rename lines", () => {
    const dir = makeRepo({});
    dirs.push(dir);
    for (const n of names) write(dir, n, "x\n");
    git(dir, "add", "-A");
    const headers = (text: string) => text.split("\n").filter((l) => /^(diff --git|--- |\+\+\+ |rename (from|to) )/.test(l));
    const fromGit = git(dir, "-c", "core.quotePath=true", "diff", "--cached", "--no-renames");
    const mine = [...names]
      .sort()
      .map((n) => createFilePatch({ oldPath: null, newPath: n, oldContent: null, newContent: "x\n" }))
      .join("");
    expect(headers(mine).sort()).toEqual(headers(fromGit).sort());
    git(dir, "commit", "-qm", "names");
    git(dir, "mv", "\u00e9.txt", "\u00e8 moved.txt");
    const renamed = git(dir, "diff", "--cached", "-M");
    const myRename = createFilePatch({ oldPath: "\u00e9.txt", newPath: "\u00e8 moved.txt", oldContent: "x\n", newContent: "x\n" });
    expect(headers(myRename)).toEqual(headers(renamed));
  });

  it("read back from git's quoted headers as the names on disk, and applied by git apply and patch -p1", () => {
    const dir = makeRepo(Object.fromEntries(names.map((n) => [n, "one\n"])));
    dirs.push(dir);
    for (const n of names) write(dir, n, "two\n");
    const fromGit = parsePatch(git(dir, "diff"));
    expect(fromGit.files.map((f) => f.newPath).sort()).toEqual([...names].sort());
    const mine = names.map((n) => createFilePatch({ oldPath: n, newPath: n, oldContent: "one\n", newContent: "two\n" })).join("");
    expect(parsePatch(mine).files.map((f) => f.oldPath)).toEqual(names);
    git(dir, "checkout", "-q", "--", ".");
    write(dir, "p.diff", mine);
    git(dir, "apply", "--check", "p.diff");
    // GNU patch drops a name's trailing spaces (git apply and pq keep them): leave that one out for it.
    const forGnu = names.filter((n) => !n.endsWith(" "));
    write(
      dir,
      "gnu.diff",
      forGnu.map((n) => createFilePatch({ oldPath: n, newPath: n, oldContent: "one\n", newContent: "two\n" })).join(""),
    );
    const r = spawnSync("patch", ["-p1", "--no-backup-if-mismatch", "-i", "gnu.diff"], { cwd: dir, encoding: "latin1" });
    expect(r.status).toBe(0);
    for (const n of forGnu) expect(read(dir, n)).toBe("two\n");
    git(dir, "apply", "--include=trailing*", "p.diff");
    expect(read(dir, "trailing space ")).toBe("two\n");
  });

  it("with other prefixes than a/ b/ and a space, are read from the diff --git line as git apply reads them (t84 N1, N2)", () => {
    // format-patch --src-prefix=old/ --dst-prefix=new/: a new empty file and a mode change have no ---/+++ lines.
    const empty = parsePatch("diff --git old/empty sp.txt new/empty sp.txt\nnew file mode 100644\nindex 0000000..e69de29\n");
    expect(empty.files.map((f) => [f.kind, f.oldPath, f.newPath])).toEqual([["create", null, "empty sp.txt"]]);
    const mode = parsePatch("diff --git old/dir/with space.txt new/dir/with space.txt\nold mode 100644\nnew mode 100755\n");
    expect(mode.files.map((f) => [f.kind, f.oldPath, f.newPath, f.newMode])).toEqual([
      ["modify", "dir/with space.txt", "dir/with space.txt", "100755"],
    ]);
    // A name that cannot be read at all is refused, not taken without one.
    expect(() => parsePatch("diff --git one two three\nnew file mode 100644\nindex 0000000..e69de29\n")).toThrow(PqError);
  });

  it("refuses a damaged quoted name with a PqError", () => {
    expect(() =>
      parsePatch('diff --git "a/x\\q" "b/x\\q"\nnew file mode 100644\n--- /dev/null\n+++ "b/x\\q"\n@@ -0,0 +1 @@\n+x\n'),
    ).toThrow(PqError);
  });
});

describe("the line index an apply hands on", () => {
  it("is the index of its text, for random edits with and without final newlines, applied where they were made and shifted", () => {
    // A seeded generator: the same cases every run.
    let seed = 12345;
    const next = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    const text = (n: number, tag: string) =>
      Array.from({ length: n }, (_, i) => `${tag}${next(4) === 0 ? "" : ` ${i}`}${next(9) === 0 ? "\r" : ""}\n`).join("");
    const dropNewline = (t: string) => (t.endsWith("\n") && next(3) === 0 ? t.slice(0, -1) : t);
    let checked = 0;
    for (let round = 0; round < 300; round++) {
      const oldText = dropNewline(text(1 + next(40), "a"));
      const lines = oldText.split(/(?<=\n)/);
      // Replace, delete and add lines at random places; sometimes change the last line's newline.
      const out: string[] = [];
      for (const line of lines) {
        const roll = next(10);
        if (roll === 0) continue;
        if (roll === 1) out.push(`changed ${next(100)}\n`);
        else out.push(line);
        if (roll === 2) out.push(`added ${next(100)}\n`);
      }
      let newText = out.join("");
      if (next(4) === 0) newText = newText.endsWith("\n") ? newText.slice(0, -1) : newText + "\n";
      if (newText === oldText) continue;
      const fp = parsePatch(createFilePatch({ oldPath: "f.txt", newPath: "f.txt", oldContent: oldText, newContent: newText })).files[0];
      // As made, shifted down, and with lines after it (a line the patch leaves without its newline then lands mid-file).
      const trailing = `${oldText}${oldText.endsWith("\n") ? "" : "\n"}trail 1\ntrail 2\n`;
      for (const base of [oldText, `lead 1\nlead 2\n${oldText}`, trailing]) {
        const r = applyFilePatch(base, fp, { fuzz: 0 });
        if (!r.ok || r.index === undefined) continue;
        const fresh: number[] = [0];
        for (let at = r.index.text.indexOf("\n"); at !== -1 && at + 1 < r.index.text.length; at = r.index.text.indexOf("\n", at + 1))
          fresh.push(at + 1);
        fresh.push(r.index.text.length);
        expect([...r.index.starts]).toEqual(r.index.text.length ? fresh : [0]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(300);
  });
});

describe("a hunk whose new side ends without a newline, applied higher up (verify-12 F4)", () => {
  it("keeps the line's newline where more of the file follows, as GNU patch writes it", () => {
    const original = "x\ny\na\nb\nc\nd\ne\n";
    const patch = "--- a/f.txt\n+++ b/f.txt\n@@ -1,3 +1,3 @@\n a\n b\n-c\n+c\n\\ No newline at end of file\n";
    const gnu = gnuPatch(original, patch);
    expect(gnu.ok).toBe(true);
    const ours = applyFilePatch(original, parsePatch(patch).files[0]);
    expect(ours.ok).toBe(true);
    expect(ours.content).toBe(gnu.content);
    expect(ours.content).toBe("x\ny\na\nb\nc\nd\ne\n");
    // Where it is the end of the file, the newline goes, as the patch says.
    const atEnd = applyFilePatch("a\nb\nc\n", parsePatch(patch).files[0]);
    expect(atEnd.content).toBe("a\nb\nc");
    expect(atEnd.content).toBe(gnuPatch("a\nb\nc\n", patch).content);
  });
});

describe("the diff of a large change (t94 N1)", () => {
  it("of 200,000 lines changed every other line is one hunk that applies, made without Myers' quadratic cost", () => {
    const big = Array.from({ length: 200_000 }, (_, i) => `line ${i + 1} of the big file\n`);
    const changed = big.map((l, i) => (i % 2 ? l.replace("\n", " CHANGED\n") : l));
    const hunks = diffHunks(big.join(""), changed.join(""));
    const r = applyFilePatch(big.join(""), { oldPath: "f", newPath: "f", kind: "modify", hunks }, { fuzz: 0 });
    expect(r.ok && r.content === changed.join("")).toBe(true);
  });

  it("of a large region with no line to cut at (a CRLF conversion, repeated lines) is bounded, and applies (t95 N1)", () => {
    const crlf = Array.from({ length: 20_000 }, (_, i) => `line ${i}\n`);
    const same = Array.from({ length: 50_000 }, () => "same\n");
    const middle = same.map((l, i) => (i >= 15_000 && i < 35_000 ? "other\n" : l));
    const repeated = Array.from({ length: 30_000 }, (_, i) => `rep ${i % 7}\n`);
    for (const [old, neu] of [
      [crlf, crlf.map((l) => l.replace("\n", "\r\n"))],
      [same, middle],
      [repeated, repeated.map((l, i) => (i % 2 ? l.replace("\n", " x\n") : l))],
    ]) {
      const hunks = diffHunks(old.join(""), neu.join(""));
      const r = applyFilePatch(old.join(""), { oldPath: "f", newPath: "f", kind: "modify", hunks }, { fuzz: 0 });
      expect(r.ok && r.content === neu.join("")).toBe(true);
    }
  });

  it("of large files with scattered edits, moved blocks and repeated lines always applies to give the new text", () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let round = 0; round < 6; round++) {
      const old = Array.from({ length: 6000 }, (_, i) => (rand(10) === 0 ? "}\n" : `l${i} ${rand(1000)}\n`));
      const neu = [...old];
      for (let e = 0; e < 400; e++) {
        const at = rand(neu.length);
        const kind = rand(3);
        if (kind === 0) neu.splice(at, 1);
        else if (kind === 1) neu.splice(at, 0, rand(4) === 0 ? "}\n" : `new ${e}\n`);
        else neu[at] = `changed ${e}\n`;
      }
      // A block moved from the start to the end.
      neu.push(...neu.splice(0, 50));
      const hunks = diffHunks(old.join(""), neu.join(""));
      const r = applyFilePatch(old.join(""), { oldPath: "f", newPath: "f", kind: "modify", hunks }, { fuzz: 0 });
      expect(r.ok && r.content === neu.join(""), `round ${round}`).toBe(true);
    }
  });
});
