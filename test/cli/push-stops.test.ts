import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, git, makeRepo, pq, read, write } from "../helpers/repo.js";

/** quilt push -a applies up to a patch it cannot take; so does pq, for a refusal of that patch alone. */
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(cleanup));

describe("push -a up to a patch pq refuses", () => {
  it("a missing patch file, or a patch that makes a symlink: the patches before it are pushed, the refusal names it", async () => {
    const tree = makeRepo({ y: "q\n", "src/x.c": "a\n" });
    dirs.push(tree);
    write(tree, "patches/ok.patch", "--- a/y\n+++ b/y\n@@ -1 +1 @@\n-q\n+q1\n");
    write(
      tree,
      "patches/link.patch",
      "diff --git a/src/link b/src/link\nnew file mode 120000\nindex 0000000..1111111\n--- /dev/null\n+++ b/src/link\n@@ -0,0 +1 @@\n+x.c\n\\ No newline at end of file\n",
    );
    write(tree, "patches/series", "ok.patch\nlink.patch\n");
    git(tree, "add", "-A");
    git(tree, "commit", "-qm", "queue");
    await pq(tree, "init");
    const link = await pq(tree, "push", "-a");
    expect(link.code).toBe(7);
    expect(link.err).toContain("link.patch: makes a symlink of src/link");
    // pq import says so when it takes such a patch, not only the push (interop-17 F2).
    const linkFile = join(tree, "..", `link-${Date.now()}.patch`);
    writeFileSync(linkFile, read(tree, "patches/link.patch"));
    dirs.push(linkFile);
    const imported = await pq(tree, "import", "-n", "link-again.patch", linkFile);
    expect([imported.code, imported.err]).toEqual([
      0,
      expect.stringContaining(
        "note: link-again.patch makes or changes a symlink (src/link), which pq push refuses: apply that part with quilt or git apply",
      ),
    ]);
    await pq(tree, "delete", "link-again.patch");
    // And for a submodule's change, which the push refuses too (t84 N3).
    const subFile = join(tree, "..", `sub-${Date.now()}.patch`);
    writeFileSync(
      subFile,
      "diff --git a/sub b/sub\nnew file mode 160000\nindex 0000000..1234567\n--- /dev/null\n+++ b/sub\n@@ -0,0 +1 @@\n+Subproject commit 1234567890123456789012345678901234567890\n",
    );
    dirs.push(subFile);
    const sub = await pq(tree, "import", "-n", "sub.patch", subFile);
    expect([sub.code, sub.err]).toEqual([0, expect.stringContaining("note: sub.patch changes a submodule (sub), which pq push refuses")]);
    await pq(tree, "delete", "sub.patch");
    expect(link.err).toContain("1 patch(es) before it were applied; the top is now ok.patch");
    expect((await pq(tree, "applied")).out).toBe("ok.patch\n");
    expect(read(tree, "y")).toBe("q1\n");
    await pq(tree, "pop", "-a");
    write(tree, "patches/series", "ok.patch\nmissing.patch\n");
    const missing = await pq(tree, "push", "-a");
    expect(missing.code).toBe(3);
    expect(missing.err).toContain("missing.patch is missing (1 patch(es) before it were applied");
    expect((await pq(tree, "applied")).out).toBe("ok.patch\n");
    // Nothing pushed before it: the refusal is the whole push's, nothing changed.
    await pq(tree, "pop", "-a");
    write(tree, "patches/series", "missing.patch\nok.patch\n");
    expect((await pq(tree, "push", "-a")).code).toBe(3);
    expect((await pq(tree, "applied")).out).toBe("");
  });
});
