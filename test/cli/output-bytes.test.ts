/**
 * Patch text reaches stdout as the bytes it holds: `pq diff > fix.patch` and `pq show > x`
 * are patches that apply, whether the files are UTF-8 or not. (They were decoded as UTF-8 on
 * the way out: a latin1 byte became U+FFFD, and range-diff printed UTF-8 text twice encoded.)
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanup, makeRepo, pq, write } from "../helpers/repo.js";

const PQ = resolve("bin/pq.js");
const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));

/** stdout of the real CLI, as bytes. */
const stdout = (cwd: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [PQ, ...args], { cwd });
  expect(r.status, String(r.stderr)).toBe(0);
  return r.stdout as Buffer;
};

describe("patch text on stdout", () => {
  it("pq diff and pq show write a latin1 file's bytes as they are", async () => {
    // Files are written as latin1 strings: "\xe9" is the one byte 0xe9.
    const dir = makeRepo({ "menu.txt": "caf\xe9\n" });
    dirs.push(dir);
    expect(readFileSync(join(dir, "menu.txt"))).toEqual(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    await pq(dir, "init");
    await pq(dir, "new", "lait.patch", "-m", "lait");
    write(dir, "menu.txt", "caf\xe9 au lait\n");
    expect((await pq(dir, "refresh")).code).toBe(0);
    const patchFile = readFileSync(join(dir, "patches", "lait.patch"));
    expect(patchFile.includes(Buffer.from("+caf\xe9 au lait\n", "latin1"))).toBe(true);

    expect(stdout(dir, "show", "lait.patch")).toEqual(patchFile);
    const diff = stdout(dir, "diff");
    expect(patchFile.includes(diff.subarray(diff.indexOf("diff --git")))).toBe(true);
    // What pq diff printed applies where the patch does.
    const other = makeRepo({});
    dirs.push(other);
    write(other, "menu.txt", "caf\xe9\n");
    const apply = spawnSync("git", ["apply", "--check", "-"], { cwd: other, input: diff });
    expect(apply.status, String(apply.stderr)).toBe(0);
  });

  it("pq range-diff writes UTF-8 patch lines once encoded", async () => {
    const dir = makeRepo({ "a.c": "one\ntwo\nthree\nfour\nfive\nsix\n" });
    dirs.push(dir);
    await pq(dir, "init", "--shared");
    await pq(dir, "new", "p.patch", "-m", "p");
    // UTF-8 written byte by byte: \xc3\xa9 is é, \xc3\xbc is ü.
    write(dir, "a.c", "one\ntwo\ntrois \xc3\xa9\nfour\nfive\nsix\n");
    await pq(dir, "refresh");
    await pq(dir, "commit", "-m", "one");
    write(dir, "a.c", "one\ntwo\ntrois \xc3\xa9\nfour\ncinq \xc3\xbc\nsix\n");
    await pq(dir, "refresh");
    await pq(dir, "commit", "-m", "two");
    const out = stdout(dir, "range-diff", "HEAD~1", "HEAD");
    expect(out.includes(Buffer.from("cinq \u00fc", "utf8"))).toBe(true);
    expect(out.includes(Buffer.from("cinq \u00c3\u00bc", "utf8"))).toBe(false);
  });
});
