import { appendFileSync, readdirSync, readFileSync, statSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { PqError } from "../../src/errors.js";
import { indexLines } from "../../src/patch/apply.js";
import { applyFilePatch, parsePatch } from "../../src/patch/index.js";
import { sha1, type FileStat } from "../../src/tree/files.js";
import { decodeDelta, differingMiddle, encodeDelta, ObjectStore } from "../../src/tree/objects.js";
import { cleanup, tempDir } from "../helpers/repo.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));
const store = () => {
  const dir = tempDir("pq-objects-");
  dirs.push(dir);
  return new ObjectStore(join(dir, "objects"));
};
const numbered = (n: number, tag = "line") => Array.from({ length: n }, (_, i) => `${tag} ${i + 1}\n`).join("");

/** A patch changing line `at` of a numbered file (1-based), as a version's next version would. */
function patchLine(at: number, text: string): string {
  return `--- a/f\n+++ b/f\n@@ -${at},1 +${at},1 @@\n-line ${at}\n+${text}\n`;
}

describe("object store deltas", () => {
  it("stores a patched version as a delta against its base and reads back the exact bytes, also after a reopen", () => {
    const objects = store();
    let content = numbered(2000);
    let id = objects.put(content);
    const ids = [id];
    const contents = [content];
    for (let k = 1; k <= 20; k++) {
      const fp = parsePatch(patchLine(k * 50, `changed ${k} \u00e9`)).files[0];
      const r = applyFilePatch(content, fp, { index: indexLines(content) });
      expect(r.ok).toBe(true);
      id = objects.putDelta(r.content!, id, r.delta!);
      expect(id).toBe(sha1(r.content!));
      content = r.content!;
      ids.push(id);
      contents.push(content);
    }
    objects.flush();
    // Twenty versions of a 2000-line file take little more than one: deltas, a whole copy every few.
    const dir = objects.dir;
    const packBytes = readdirSync(dir)
      .filter((f) => f.startsWith("pack-"))
      .reduce((n, f) => n + readFileSync(join(dir, f)).length, 0);
    expect(packBytes).toBeLessThan(contents[0].length * 5);
    const index = readFileSync(join(dir, "index"), "latin1");
    expect(index.split("\n").filter((l) => l.split(" ").length === 5).length).toBeGreaterThan(10);
    objects.close();
    const reopened = new ObjectStore(dir);
    ids.forEach((i, k) => expect(reopened.get(i)).toBe(contents[k]));
  });

  it("a damaged base makes its deltas read as damaged, never as wrong content", () => {
    const objects = store();
    const base = numbered(500);
    const baseId = objects.put(base);
    objects.flush();
    const r = applyFilePatch(base, parsePatch(patchLine(10, "ten")).files[0]);
    const id = objects.putDelta(r.content!, baseId, r.delta!);
    objects.flush();
    objects.close();
    const basePack = readdirSync(objects.dir).find(
      (f) => f.startsWith("pack-") && readFileSync(join(objects.dir, f), "latin1").startsWith("line 1\n"),
    )!;
    const bytes = readFileSync(join(objects.dir, basePack), "latin1");
    writeFileSync(join(objects.dir, basePack), bytes.replace("line 20\n", "line 2O\n"), "latin1");
    const reopened = new ObjectStore(objects.dir);
    expect(() => reopened.get(id)).toThrow(PqError);
    // A truncated base pack: the delta is not present (a cached push would store it again).
    truncateSync(join(objects.dir, basePack), 10);
    expect(new ObjectStore(objects.dir).present(id)).toBe(false);
  });

  it("keeps a version whole when the delta would not be smaller", () => {
    const objects = store();
    const baseId = objects.put("a\n");
    const id = objects.putDelta("b\n", baseId, ["b\n"]);
    objects.flush();
    const line = readFileSync(join(objects.dir, "index"), "latin1")
      .split("\n")
      .find((l) => l.startsWith(id))!;
    expect(line.split(" ")).toHaveLength(4);
    expect(new ObjectStore(objects.dir).get(id)).toBe("b\n");
  });

  it("two stores of one process flushing in one millisecond write packs of their own", () => {
    const first = store();
    const now = vi.spyOn(Date, "now").mockReturnValue(1_700_000_000_000);
    try {
      const one = first.put("one\n");
      first.flush();
      first.close();
      const second = new ObjectStore(first.dir);
      const two = second.put("two\n");
      second.flush();
      second.close();
      const reopened = new ObjectStore(first.dir);
      expect([reopened.get(one), reopened.get(two)]).toEqual(["one\n", "two\n"]);
    } finally {
      now.mockRestore();
    }
  });

  it("reads an index with torn and damaged lines as the lines that are whole, a later whole line winning", () => {
    const objects = store();
    const contents = ["one\n", "two\n", "three\n", "four\n"];
    const ids = contents.map((c) => objects.put(c));
    objects.flush();
    objects.close();
    const indexFile = join(objects.dir, "index");
    const lines = readFileSync(indexFile, "latin1").split("\n").filter(Boolean);
    const lineOf = (id: string) => lines.find((l) => l.startsWith(id))!;
    // A crash tore a later line for ids[0] (the earlier one stays good), then the next
    // operation appended after the torn text, gluing its first line to it; then garbage.
    const [id0, pack0] = lineOf(ids[0]).split(" ");
    const glued = `${ids[3]} ${pack0} 999`;
    const rest = lines.filter((l) => !l.startsWith(ids[3]));
    writeFileSync(indexFile, rest.join("\n") + "\n", "latin1");
    appendFileSync(indexFile, `${id0} ${pack0} 12` + `${glued}\n` + "zz not a line at all, but long enough to look like one\n", "latin1");
    appendFileSync(indexFile, `${lineOf(ids[2])}\n`, "latin1");
    // Torn last: the line of a fifth object, its length cut short and no newline.
    const fifth = "five, long enough that its length has two digits\n";
    const extra = new ObjectStore(objects.dir);
    const id5 = extra.put(fifth);
    extra.flush();
    extra.close();
    const full = readFileSync(indexFile, "latin1");
    writeFileSync(indexFile, full.slice(0, full.length - 2), "latin1");
    expect(new ObjectStore(objects.dir).has(id5)).toBe(false);
    const reopened = new ObjectStore(objects.dir);
    expect(reopened.get(ids[0])).toBe(contents[0]);
    expect(reopened.get(ids[1])).toBe(contents[1]);
    expect(reopened.get(ids[2])).toBe(contents[2]);
    // ids[3]'s only line was glued to a torn one: not in the index, so stored again by a put.
    expect(reopened.has(ids[3])).toBe(false);
    expect(reopened.put(contents[3])).toBe(ids[3]);
    reopened.flush();
    expect(new ObjectStore(objects.dir).get(ids[3])).toBe(contents[3]);
  });

  it("reads each index line as the whole-line pattern does, on 2,000 random and damaged lines", () => {
    const objects = store();
    objects.put("x\n");
    objects.flush();
    objects.close();
    let seed = 11;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor((seed / 2147483648) * n);
    };
    const hex = (n: number) => Array.from({ length: n }, () => "0123456789abcdef"[random(16)]).join("");
    const pattern = /^([0-9a-f]{40}) ([^ \n]+) (\d+) (\d+)(?: ([0-9a-f]{40}))?$/;
    const fields = () => {
      const f = [`pack-${hex(3)}`, String(random(100000)), String(random(5000))];
      if (random(3) === 0) f.push(hex(40));
      // Damage: a field emptied, a letter in a number, a short base, a doubled or trailing space, an extra field.
      switch (random(8)) {
        case 0:
          f[random(f.length)] = "";
          break;
        case 1:
          f[1 + random(2)] += "e";
          break;
        case 2:
          f.push(hex(39));
          break;
        case 3:
          return f.join("  ");
        case 4:
          return f.join(" ") + " ";
        case 5:
          f.push(hex(40), hex(40));
          break;
      }
      return f.join(" ");
    };
    const lines = Array.from({ length: 2000 }, () => `${hex(40)} ${fields()}`);
    appendFileSync(join(objects.dir, "index"), lines.join("\n") + "\n", "latin1");
    const reopened = new ObjectStore(objects.dir);
    let whole = 0;
    for (const line of lines) {
      const expected = pattern.test(line);
      if (expected) whole++;
      expect(reopened.has(line.slice(0, 40)), line).toBe(expected);
    }
    expect(whole).toBeGreaterThan(300);
    expect(whole).toBeLessThan(1700);
  });

  it("differingMiddle: the pieces rebuild the text from any base, sharing the common start and end", () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor((seed / 2147483648) * n);
    };
    const alphabet = "ab\n";
    const word = (n: number) => Array.from({ length: n }, () => alphabet[random(3)]).join("");
    for (let k = 0; k < 400; k++) {
      // Lengths around the 4096-character blocks, edits at the start, the end, the middle, none.
      const base = word([0, 1, 4095, 4096, 4097, 9000][random(6)] + random(3));
      const at = random(base.length + 1);
      const cut = random(Math.min(20, base.length - at) + 1);
      const text = base.slice(0, at) + word(random(5)) + base.slice(at + cut);
      const pieces = differingMiddle(base, text);
      const decoded = pieces.length ? decodeDelta(encodeDelta(pieces)!, base) : "";
      expect(decoded).toBe(text);
      const copied = pieces.reduce((n, p) => n + (typeof p === "string" ? 0 : p[1] - p[0]), 0);
      expect(copied).toBeGreaterThanOrEqual(Math.min(base.length, text.length) - 25);
    }
  });

  it("encodes and decodes pieces, refusing a delta that reaches outside its base", () => {
    const base = "0123456789";
    const data = encodeDelta([[0, 3], "xy\nz", [7, 10]])!;
    expect(decodeDelta(data, base)).toBe("012xy\nz789");
    expect(decodeDelta("c5,11\n", base)).toBeNull();
    expect(decodeDelta("i9\nab", base)).toBeNull();
    expect(decodeDelta("q\n", base)).toBeNull();
  });
});

describe("sha1", () => {
  it("gives each long text its own id, asked in any order (the last few are remembered)", () => {
    const texts = Array.from({ length: 7 }, (_, i) => numbered(3000, `t${i}`));
    const ids = texts.map((t) => createHash("sha1").update(t, "latin1").digest("hex"));
    for (const i of [0, 1, 0, 2, 3, 4, 5, 6, 0, 6, 1]) {
      expect(sha1(texts[i])).toBe(ids[i]);
      // An equal copy that is another string.
      expect(sha1(`${texts[i]}x`.slice(0, -1))).toBe(ids[i]);
    }
  });
});

describe("bytes for a write", () => {
  it("reads each object right into the reused buffer, checks it, and leaves bytes() its own copies", () => {
    const objects = store();
    const texts = [numbered(5000, "big"), numbered(3, "small"), numbered(9000, "bigger"), numbered(40, "mid")];
    const ids = texts.map((t) => objects.put(t));
    objects.flush();
    objects.close();
    const reader = new ObjectStore(objects.dir);
    for (const [i, id] of ids.entries()) expect(reader.bytesForWrite(id).toString()).toBe(texts[i]);
    expect(ids.map((id) => reader.bytes(id).toString())).toEqual(texts);
    // A changed byte in the pack (so no longer sealed): refused, not written.
    const pack = join(
      objects.dir,
      readdirSync(objects.dir).find((f) => f.startsWith("pack-"))!,
    );
    writeFileSync(pack, readFileSync(pack, "latin1").replace("mid 7\n", "mid 8\n"), "latin1");
    expect(() => new ObjectStore(objects.dir).bytesForWrite(ids[3])).toThrow(PqError);
  });
});

describe("sealed packs", () => {
  /** A store with two whole objects of the same length in one flushed pack, reopened. */
  function sealedPair() {
    const objects = store();
    const a = numbered(300, "alpha");
    const b = numbered(300, "bravo");
    const ids = [objects.put(a), objects.put(b)];
    objects.flush();
    objects.close();
    const pack = readdirSync(objects.dir).find((f) => f.startsWith("pack-"))!;
    return { dir: objects.dir, pack, a, b, ids };
  }
  const seals = (dir: string) => readFileSync(join(dir, "seals"), "latin1");

  it("records each flushed pack with its identity and the SHA-1 of its index lines", () => {
    const { dir, pack, ids, a, b } = sealedPair();
    const [line] = seals(dir).trim().split("\n");
    const [name, identity, linesAt, linesLength, linesSha1] = line.split(" ");
    expect(name).toBe(pack);
    expect(identity.split(":")).toHaveLength(4);
    const index = readFileSync(join(dir, "index"), "latin1");
    expect(sha1(index.slice(Number(linesAt), Number(linesAt) + Number(linesLength)))).toBe(linesSha1);
    const reopened = new ObjectStore(dir);
    expect(reopened.verify(ids[0])).toBe(true);
    expect([reopened.get(ids[0]), reopened.get(ids[1])]).toEqual([a, b]);
  });

  it("a pack written to since it was sealed is hashed again, even with its mtime set back", () => {
    const { dir, pack, ids } = sealedPair();
    const file = join(dir, pack);
    const { mtime, atime } = statSync(file);
    writeFileSync(file, readFileSync(file, "latin1").replace("alpha 7\n", "alpha 8\n"), "latin1");
    utimesSync(file, atime, mtime);
    const reopened = new ObjectStore(dir);
    expect(reopened.verify(ids[0])).toBe(false);
    expect(() => new ObjectStore(dir).get(ids[0])).toThrow(PqError);
    expect(new ObjectStore(dir).get(ids[1])).toBe(numbered(300, "bravo"));
  });

  it("an index line changed since the seal (another object's offset) reads as damaged, never as the other content", () => {
    const { dir, ids } = sealedPair();
    const index = readFileSync(join(dir, "index"), "latin1");
    const [lineA, lineB] = ids.map((id) => index.split("\n").find((l) => l.startsWith(id))!);
    writeFileSync(join(dir, "index"), index.replace(lineA, `${ids[0]} ${lineB.split(" ").slice(1).join(" ")}`), "latin1");
    expect(() => new ObjectStore(dir).get(ids[0])).toThrow(PqError);
    // The same line appended after the sealed ones is outside the seal: hashed, and refused too.
    writeFileSync(join(dir, "index"), index + `${ids[0]} ${lineB.split(" ").slice(1).join(" ")}\n`, "latin1");
    expect(() => new ObjectStore(dir).get(ids[0])).toThrow(PqError);
  });

  it("remembers a check of the index lines by the index file's stat, and hashes them again once the index is written", () => {
    const { dir, ids, a } = sealedPair();
    // The stack passes its stat cache; a map of the same contract here, counting what is recorded.
    const memory = new Map<string, [stamp: string, value: string]>();
    const stampOf = (st: FileStat) => `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    let recorded = 0;
    const stamps = {
      lookup: (key: string, st: FileStat) => (memory.get(key)?.[0] === stampOf(st) ? memory.get(key)![1] : undefined),
      record: (key: string, st: FileStat, value: string) => {
        recorded++;
        memory.set(key, [stampOf(st), value]);
      },
    };
    expect(new ObjectStore(dir, stamps).get(ids[0])).toBe(a);
    expect(recorded).toBe(1);
    expect(new ObjectStore(dir, stamps).get(ids[0])).toBe(a);
    expect(recorded).toBe(1);
    // A line swapped for another object's: the index's stat changed, so its lines are hashed, and the read refused.
    const index = readFileSync(join(dir, "index"), "latin1");
    const [lineA, lineB] = ids.map((id) => index.split("\n").find((l) => l.startsWith(id))!);
    writeFileSync(join(dir, "index"), index.replace(lineA, `${ids[0]} ${lineB.split(" ").slice(1).join(" ")}`), "latin1");
    expect(() => new ObjectStore(dir, stamps).get(ids[0])).toThrow(PqError);
    expect(recorded).toBe(1);
  });

  it("a torn or garbled seals file seals nothing and loses nothing", () => {
    const { dir, ids, a } = sealedPair();
    writeFileSync(join(dir, "seals"), seals(dir).slice(0, 30) + "\nnot a seal\n", "latin1");
    expect(new ObjectStore(dir).get(ids[0])).toBe(a);
  });

  it("trusts exactly what the seal says: a pack rewritten and re-sealed by hand is read without the hash check", () => {
    // Not a feature: this pins down where the check is skipped (an identical inode, size, mtime,
    // ctime and index lines), so that a change widening it shows here.
    const { dir, pack, ids } = sealedPair();
    const file = join(dir, pack);
    writeFileSync(file, readFileSync(file, "latin1").replace("alpha 7\n", "alpha 8\n"), "latin1");
    const st = statSync(file);
    const [, , ...rest] = seals(dir).trim().split(" ");
    writeFileSync(join(dir, "seals"), `${pack} ${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs} ${rest.join(" ")}\n`, "latin1");
    expect(new ObjectStore(dir).get(ids[0])).toBe(numbered(300, "alpha").replace("alpha 7\n", "alpha 8\n"));
  });
});

describe("line index", () => {
  it("a result's index is the index of its content, so the next patch can reuse it", () => {
    const texts = ["", "a", "a\n", "a\r\nb\n", "x\ny", numbered(30)];
    for (const t of texts) {
      const idx = indexLines(t);
      const lines = Array.from({ length: idx.starts.length - 1 }, (_, k) => t.slice(idx.starts[k], idx.starts[k + 1]));
      expect(lines.join("")).toBe(t);
      lines.slice(0, -1).forEach((l) => expect(l.endsWith("\n")).toBe(true));
    }
    let content = numbered(30);
    let index = indexLines(content);
    for (const k of [3, 17, 30]) {
      const r = applyFilePatch(content, parsePatch(patchLine(k, `new ${k}`)).files[0], { index });
      expect(r.ok).toBe(true);
      expect(Array.from(r.index!.starts)).toEqual(Array.from(indexLines(r.content!).starts));
      content = r.content!;
      index = r.index!;
    }
    expect(content).toBe(numbered(30).replace("line 3\n", "new 3\n").replace("line 17\n", "new 17\n").replace("line 30\n", "new 30\n"));
  });
});

describe("a long-lived store", () => {
  it("reads an object another process stored after it had read the index (the TUI's store, a pq run beside it)", () => {
    const dir = tempDir("pq-objects-shared-");
    dirs.push(dir);
    const mine = new ObjectStore(dir);
    const first = mine.put("first version\n");
    mine.flush();
    expect(mine.get(first)).toBe("first version\n");
    const other = new ObjectStore(dir);
    const second = other.put("second version, stored by another process\n");
    other.flush();
    expect(mine.get(second)).toBe("second version, stored by another process\n");
    expect(mine.get(first)).toBe("first version\n");
    expect(() => mine.get("0".repeat(40))).toThrow(/missing or damaged/);
  });
});
