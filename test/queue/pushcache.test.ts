/**
 * The push cache's file holds per-patch lines and run lines (a whole push remembered as one
 * object). A warm push asks only for runs, which are found without splitting the whole file;
 * these tests check that the two ways of reading agree.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PushCache } from "../../src/queue/caches.js";
import { cleanup, tempDir } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(cleanup));

const id = (n: number) => n.toString(16).padStart(40, "0");
const run = (n: number) => `{"object":"${id(n)}"}`;
const patchLine = (n: number) => `${id(1000 + n)}.2\t{"files":{"f${n}.c":["${id(2000 + n)}","${id(3000 + n)}"]}}`;

describe("push cache", () => {
  it("finds run lines alone as the whole read finds them: first line, last line without a newline, torn lines", () => {
    const dir = tempDir("pq-pushcache-");
    dirs.push(dir);
    const file = join(dir, "pushcache.log");
    const lines = [
      `run:aaa\t${run(1)}`,
      patchLine(1),
      `run:bbb\t${run(2)}`,
      patchLine(2),
      "run:torn-without-a-tab",
      `run:aaa\t${run(3)}`,
      patchLine(3),
      `run:aaa\t{"object":"not-an-id"}`,
      `run:ccc\t${run(4)}`,
    ];
    writeFileSync(file, lines.join("\n"));
    const runsOnly = new PushCache(file);
    const asked = { aaa: runsOnly.runObjects("run:aaa"), bbb: runsOnly.runObjects("run:bbb"), ccc: runsOnly.runObjects("run:ccc") };
    expect(asked).toEqual({ aaa: [id(3), id(1)], bbb: [id(2)], ccc: [id(4)] });
    expect(runsOnly.lastRunObject()).toBe(id(4));
    // The whole file read (a patch's entries asked for) gives the same runs.
    const whole = new PushCache(file);
    expect(whole.candidates(`${id(1002)}.2`)).toEqual([{ files: { "f2.c": [id(2002), id(3002)] } }]);
    expect({ aaa: whole.runObjects("run:aaa"), bbb: whole.runObjects("run:bbb"), ccc: whole.runObjects("run:ccc") }).toEqual(asked);
    expect(whole.lastRunObject()).toBe(id(4));
    // Runs first, then the whole file: a run added after both reads is found, and written once.
    expect(runsOnly.candidates(`${id(1001)}.2`)).toHaveLength(1);
    runsOnly.addRun("run:ddd", id(5));
    runsOnly.addRun("run:ddd", id(5));
    expect(runsOnly.runObjects("run:ddd")).toEqual([id(5)]);
    expect(runsOnly.lastRunObject()).toBe(id(5));
    runsOnly.flush();
    expect(new PushCache(file).runObjects("run:ddd")).toEqual([id(5)]);
  });

  it("finds the newest run from the file's end as the whole read finds it: torn lines after it, a run only far from the end, none at all", () => {
    const dir = tempDir("pq-pushcache-");
    dirs.push(dir);
    const many = (from: number, n: number) => Array.from({ length: n }, (_, i) => patchLine(from + i));
    const cases: [string, string[]][] = [
      ["torn lines after it", [...many(0, 900), `run:aaa\t${run(7)}`, ...many(900, 5), "run:torn-without-a-tab", `run:bbb\t{"object":"not-an-id"}`]],
      // More than the 64 KB read from the end lies after the run: the whole file is read.
      ["far from the end", [`run:aaa\t${run(8)}`, ...many(0, 1000)]],
      ["none", many(0, 1000)],
      ["the first line", [`run:aaa\t${run(9)}`]],
    ];
    for (const [what, lines] of cases) {
      const file = join(dir, `${what}.log`);
      writeFileSync(file, lines.join("\n") + "\n");
      const whole = new PushCache(file);
      whole.runObjects("run:x");
      expect(new PushCache(file).lastRunObject(), what).toBe(whole.lastRunObject());
    }
    expect(new PushCache(join(dir, "far from the end.log")).lastRunObject()).toBe(id(8));
    expect(new PushCache(join(dir, "torn lines after it.log")).lastRunObject()).toBe(id(7));
  });

  it("reads an empty or missing file as no runs", () => {
    const dir = tempDir("pq-pushcache-");
    dirs.push(dir);
    expect(new PushCache(join(dir, "none.log")).runObjects("run:x")).toEqual([]);
    writeFileSync(join(dir, "empty.log"), "");
    expect(new PushCache(join(dir, "empty.log")).lastRunObject()).toBeNull();
  });
});
