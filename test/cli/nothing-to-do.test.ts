import { afterEach, describe, expect, it } from "vitest";
import { cleanup, makeRepo, pq, read, write } from "../helpers/repo.js";

/** quilt's and hg's loop idioms (`while pq push; do make || break; done`) need "nothing to do" to be a refusal. */
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(cleanup));

describe("push and pop with nothing to do", () => {
  it("refuse with exit 12 (pop -a and push -a stay repeatable), naming guarded patches and an unapplied target", async () => {
    const tree = makeRepo({ "a.txt": "a\n" });
    dirs.push(tree);
    await pq(tree, "init");
    const pop = await pq(tree, "pop");
    expect([pop.code, pop.err]).toEqual([12, expect.stringContaining("no patches applied")]);
    expect((await pq(tree, "pop", "-a")).code).toBe(0);
    await pq(tree, "new", "p1");
    const push = await pq(tree, "push");
    expect([push.code, push.err]).toEqual([12, expect.stringContaining("every patch is applied (top: p1)")]);
    expect((await pq(tree, "push", "-a")).code).toBe(0);
    await pq(tree, "pop");
    const target = await pq(tree, "pop", "p1");
    expect([target.code, target.err]).toEqual([12, expect.stringContaining("p1 is not applied")]);
    await pq(tree, "guard", "p1", "+xen");
    const guarded = await pq(tree, "push");
    expect([guarded.code, guarded.err]).toEqual([12, expect.stringContaining("guarded off by the selected guards: p1")]);
    // The loop idiom ends.
    let rounds = 0;
    await pq(tree, "select", "xen");
    while ((await pq(tree, "push")).code === 0 && rounds < 5) rounds++;
    expect(rounds).toBe(1);
  });

  it("a patch unguarded below the top (skipped while guarded off) is named, with the way to apply it", async () => {
    const tree = makeRepo({ "a.txt": "a\n", "b.txt": "b\n" });
    dirs.push(tree);
    await pq(tree, "init");
    await pq(tree, "new", "p1");
    await pq(tree, "new", "p2");
    await pq(tree, "pop", "-a");
    await pq(tree, "guard", "p1", "+xen");
    await pq(tree, "push", "-a");
    expect((await pq(tree, "applied")).out).toBe("p2\n");
    await pq(tree, "guard", "--none", "p1");
    const push = await pq(tree, "push");
    expect(push.code).toBe(12);
    expect(push.err).toContain("p1 is unapplied below it (skipped while guarded off, or added there)");
    expect(push.err).toContain("pq push --move p1");
    expect((await pq(tree, "next")).out + (await pq(tree, "next")).err).toContain("unapplied below it: p1");
    // push -a (what one runs after pq select) and status say it too (t44 N10).
    const all = await pq(tree, "push", "-a");
    expect(all.code).toBe(0);
    expect(all.out).toContain(
      "p1 is unapplied below the top (skipped while guarded off, or added there): pq select --reapply applies it in its place (the series' order kept), or pq push --move p1 moves it on top",
    );
    expect((await pq(tree, "status")).out).toContain("p1 is unapplied below the top");
    // The first way, word for word: p1 in its place, the series as it was.
    expect((await pq(tree, "select", "--reapply")).code).toBe(0);
    expect((await pq(tree, "applied")).out).toBe("p1\np2\n");
    expect(read(tree, "patches/series")).toBe("p1\np2\n");
  });
});

describe("pq pop NAME of a patch below the top that is not applied (t154 N13)", () => {
  it("names the way that applies it in its place, which works word for word", async () => {
    const tree = makeRepo({ f: Array.from({ length: 30 }, (_, i) => `${i + 1}\n`).join("") });
    dirs.push(tree);
    await pq(tree, "init");
    for (const [name, line] of [
      ["p1", "5"],
      ["p2", "10"],
      ["p3", "15"],
    ]) {
      await pq(tree, "new", name);
      write(tree, "f", read(tree, "f").replace(`\n${line}\n`, `\n${line} ${name}\n`));
      await pq(tree, "refresh");
    }
    await pq(tree, "pop", "-a");
    await pq(tree, "guard", "p2", "+debug");
    await pq(tree, "push", "-a");
    const pop = await pq(tree, "pop", "p2");
    expect(pop.code).toBe(12);
    expect(pop.err).toContain("p2 is not applied (it is below the top, p3)");
    expect(pop.err).not.toContain("pq push to apply it");
    expect(pop.err).toContain("pq select G --reapply, with its guard G selected, applies it in its place");
    expect((await pq(tree, "select", "debug", "--reapply")).code).toBe(0);
    expect((await pq(tree, "applied")).out).toBe("p1\np2\np3\n");
  });
});
