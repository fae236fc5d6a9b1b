/**
 * A patch file's header as pq keeps it: git's diffstat goes (stale once the diff changes), the
 * author's notes after "---" stay, and a CRLF header stays CRLF where pq joins it to a diff.
 */
import { describe, expect, it } from "vitest";
import { dropDiffstat, joinHeaderAndDiff } from "../../src/queue/patch-text.js";

const diff = "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+b\n";

describe("dropDiffstat", () => {
  it("keeps blank lines alone after a DEP-3 header's --- (no diffstat there), as quilt refresh does (t98 N1)", () => {
    const header = "Description: Fix b\nAuthor: Ann Example <ann@example.org>\nLast-Update: 2018-10-14\n\n---\n\n";
    expect(dropDiffstat(header)).toBe(header);
    expect(dropDiffstat(header.replace(/\n/g, "\r\n"))).toBe(header.replace(/\n/g, "\r\n"));
  });

  it("drops a diffstat alone after ---", () => {
    const header = "Subject: s\n\nbody\n---\n a.txt | 2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)\n\n";
    expect(dropDiffstat(header)).toBe("Subject: s\n\nbody\n---\n");
  });

  it("drops git's diffstat under the author's notes, and keeps the notes (t44 N9)", () => {
    const header = "Subject: s\n---\nv2: reworded after review\n(keep this note)\n\n a.txt | 2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)\n\n";
    expect(dropDiffstat(header)).toBe("Subject: s\n---\nv2: reworded after review\n(keep this note)\n\n");
    const crlf = header.replaceAll("\n", "\r\n");
    expect(dropDiffstat(crlf)).toBe("Subject: s\r\n---\r\nv2: reworded after review\r\n(keep this note)\r\n\r\n");
  });

  it("keeps notes that only look like a diffstat's lines, with no summary line", () => {
    const header = "Subject: s\n---\nchanged since v1:\n\n a.txt | 2 +-\n";
    expect(dropDiffstat(header)).toBe(header);
  });
});

describe("joinHeaderAndDiff", () => {
  it("puts one blank line between a header and its diff, in the header's own line endings", () => {
    expect(joinHeaderAndDiff("Subject: s\n", diff)).toBe(`Subject: s\n\n${diff}`);
    expect(joinHeaderAndDiff("Subject: s\n\n", diff)).toBe(`Subject: s\n\n${diff}`);
    expect(joinHeaderAndDiff("Subject: s\n---\n", diff)).toBe(`Subject: s\n---\n${diff}`);
    expect(joinHeaderAndDiff("Subject: s\r\n", diff)).toBe(`Subject: s\r\n\r\n${diff}`);
    expect(joinHeaderAndDiff("Subject: s\r\n\r\n", diff)).toBe(`Subject: s\r\n\r\n${diff}`);
    expect(joinHeaderAndDiff("Subject: s\r\n---\r\n", diff)).toBe(`Subject: s\r\n---\r\n${diff}`);
  });
});

describe("dropDiffstat of a changelog between two --- lines, as b4 mails a single patch (t71 N5)", () => {
  it("keeps the changelog as notes and drops the second --- with the diffstat", () => {
    const header = "Subject: s\n\nbody\n---\nChanges in v2:\n- fixed x\n---\n a | 2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)\n\n";
    expect(dropDiffstat(header)).toBe("Subject: s\n\nbody\n---\nChanges in v2:\n- fixed x\n");
    // A first separator with white space after it is one too.
    expect(dropDiffstat("Subject: s\n\nbody\n--- \t\n a | 2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)\n")).toBe("Subject: s\n\nbody\n--- \t\n");
  });
});
