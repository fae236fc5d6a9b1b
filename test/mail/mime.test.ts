/**
 * Patch mails as mailers send them: quoted-printable, base64, attachments, cover letters.
 * The references are what git am makes of the same mail, run here on a scratch repository.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { authorIdentity, formatMail, parseHeader, rewriteHeader, unmodelledFields } from "../../src/mail/header.js";
import { splitMbox } from "../../src/mail/mbox.js";
import { decodeMail, isCoverLetter } from "../../src/mail/mime.js";
import { cleanup, git, makeRepo, pq, read, tempDir, write } from "../helpers/repo.js";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) cleanup(dirs.pop()!);
});

const qpMail = `From 1234567890abcdef1234567890abcdef12345678 Mon Sep 17 00:00:00 2001
From: Test User <test@example.org>
Date: Wed, 2 Dec 2026 17:18:52 +0000
Subject: [PATCH] add config
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

Add a config file with caf=C3=A9.

---
diff --git a/conf b/conf
new file mode 100644
--- /dev/null
+++ b/conf
@@ -0,0 +1,2 @@
+x =3D 1
+name =3D caf=C3=A9 and a long line soft-wrapped by the mail=
er here
`;

function base64Mail(): string {
  const body = "Add a file.\n\n---\ndiff --git a/conf b/conf\nnew file mode 100644\n--- /dev/null\n+++ b/conf\n@@ -0,0 +1 @@\n+hello\n";
  const encoded = Buffer.from(body).toString("base64").replace(/.{76}/g, "$&\n");
  return `From 1234567890abcdef1234567890abcdef12345678 Mon Sep 17 00:00:00 2001
From: Test User <test@example.org>
Date: Wed, 2 Dec 2026 17:18:52 +0000
Subject: [PATCH] b64
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: base64

${encoded}
`;
}

/** The tree pq makes of a mail next to the one git am makes of it. */
async function pqAndGitAm(mail: string, files: string[], base: Record<string, string> = { base: "base\n" }) {
  const dir = tempDir();
  dirs.push(dir);
  writeFileSync(join(dir, "mail.eml"), mail, "latin1");
  const mine = makeRepo(base);
  const theirs = makeRepo(base);
  dirs.push(mine, theirs);
  await pq(mine, "init");
  const imported = await pq(mine, "import", join(dir, "mail.eml"));
  expect(imported.code, imported.err).toBe(0);
  expect((await pq(mine, "push")).code).toBe(0);
  execFileSync("git", ["am", "-q", join(dir, "mail.eml")], { cwd: theirs });
  for (const f of files) expect(read(mine, f), f).toBe(read(theirs, f));
  return { mine, theirs };
}

describe("mail bodies decoded as git am decodes them", () => {
  it("quoted-printable: the file gets the decoded bytes, soft line breaks joined, the message decoded", async () => {
    const { mine, theirs } = await pqAndGitAm(qpMail, ["conf"]);
    expect(read(mine, "conf")).toBe("x = 1\nname = caf\u00c3\u00a9 and a long line soft-wrapped by the mailer here\n");
    const header = (await pq(mine, "header")).out;
    expect(header).toContain("Add a config file with caf");
    expect(header).not.toContain("=C3");
    expect(git(theirs, "log", "-1", "--format=%b")).toContain("caf");
  });

  it("a message in ISO-8859-1 becomes UTF-8, as git mailinfo re-encodes it; the diff keeps its bytes (interop-5 #9)", () => {
    const mail =
      "From: Ada Tester <ada@example.org>\nSubject: [PATCH] fix\nMIME-Version: 1.0\nContent-Type: text/plain; charset=ISO-8859-1\nContent-Transfer-Encoding: 8bit\n\nMessage body: d\xe9j\xe0 vu.\n---\ndiff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1 +1 @@\n-a\n+caf\xe9\n";
    const decoded = decodeMail(mail);
    expect(Buffer.from(decoded, "latin1").toString("utf8")).toContain("Message body: d\u00e9j\u00e0 vu.");
    expect(decoded).toContain("+caf\xe9\n");
    expect(decoded).not.toContain("Content-Type");
    // UTF-8 (or no charset) is left as it is.
    expect(decodeMail(mail.replace("ISO-8859-1", "UTF-8"))).toBe(mail.replace("ISO-8859-1", "UTF-8"));
  });

  it("raw 8-bit From: and Subject: in the message's charset become UTF-8 as git am makes them; UTF-8 ones stay (readme-15 F9)", () => {
    const mail =
      "From: Ren\xe9 Example <rene@example.org>\nSubject: [PATCH] caf\xe9 fix\nMIME-Version: 1.0\nContent-Type: text/plain; charset=ISO-8859-1\nContent-Transfer-Encoding: 8bit\n\nd\xe9j\xe0 vu\n---\ndiff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1 +1 @@\n-a\n+b\n";
    const decoded = Buffer.from(decodeMail(mail), "latin1").toString("utf8");
    expect(decoded).toContain("From: Ren\u00e9 Example <rene@example.org>\n");
    expect(decoded).toContain("Subject: [PATCH] caf\u00e9 fix\n");
    expect(decoded).toContain("d\u00e9j\u00e0 vu\n");
    // A header that is UTF-8 already (a mailer that wrote it so) is not read as latin1 again.
    const utf8Subject = mail.replace("caf\xe9", Buffer.from("caf\u00e9", "utf8").toString("latin1"));
    expect(Buffer.from(decodeMail(utf8Subject), "latin1").toString("utf8")).toContain("Subject: [PATCH] caf\u00e9 fix\n");
  });

  it("reads windows-1252's quotes and euro sign, a multipart mail's one text part, and unlabelled 8-bit text as git am does (verify-16 F3, F6)", () => {
    const diff = "---\ndiff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1 +1 @@\n-a\n+b\n";
    const utf8 = (mail: string) => Buffer.from(decodeMail(mail), "latin1").toString("utf8");
    // windows-1252 (Node's TextDecoder reads it as ISO-8859-1): the body's “q” € as git am makes them.
    const cp1252 = `From: A <a@example.org>\nSubject: [PATCH] it\x92s\nContent-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: 8bit\n\nbody \x93q\x94 \x80\n${diff}`;
    expect(utf8(cp1252)).toContain("body \u201cq\u201d \u20ac\n");
    expect(utf8(cp1252)).toContain("Subject: [PATCH] it\u2019s\n");
    // One text part that holds the message and the diff, its charset on the part.
    const multipart = `From: Ren\xe9 Multi <r@example.org>\nSubject: [PATCH] caf\xe9\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="BB"\n\n--BB\nContent-Type: text/plain; charset=ISO-8859-1\nContent-Transfer-Encoding: 8bit\n\nd\xe9j\xe0 vu\n${diff}--BB--\n`;
    const decoded = utf8(multipart);
    expect(decoded).toContain("From: Ren\u00e9 Multi <r@example.org>\n");
    expect(decoded).toContain("Subject: [PATCH] caf\u00e9\n");
    expect(decoded).toContain("d\u00e9j\u00e0 vu\n");
    // No charset at all, 8-bit that is not UTF-8: ISO-8859-1.
    const unlabelled = `From: Ren\xe9 <r@example.org>\nSubject: [PATCH] caf\xe9\n\nd\xe9j\xe0\n${diff}`;
    expect(utf8(unlabelled)).toContain("From: Ren\u00e9 <r@example.org>\nSubject: [PATCH] caf\u00e9\n\nd\u00e9j\u00e0\n");
    // ...and the diff keeps its bytes in each.
    expect(decodeMail(unlabelled)).toContain("+b\n");
    // A plain patch (no mail header) keeps every byte: its latin1 file name is refused later, not renamed here.
    const plain = "Index: caf\xe9.txt\n--- /dev/null\n+++ b/caf\xe9.txt\n@@ -0,0 +1 @@\n+hi\n";
    expect(decodeMail(plain)).toBe(plain);
  });

  it("base64: the patch is the decoded diff, not an empty patch", async () => {
    const { mine } = await pqAndGitAm(base64Mail(), ["conf"]);
    expect(read(mine, "conf")).toBe("hello\n");
  });

  it("format-patch --attach: the text part is the message, the attachment the diff", async () => {
    const src = makeRepo({ f: "1\n2\n3\n" });
    dirs.push(src);
    execFileSync("git", ["-C", src, "commit", "-qam", "x", "--allow-empty"]);
    writeFileSync(join(src, "f"), "1\ntwo\n3\n");
    execFileSync("git", ["-C", src, "commit", "-qam", "change two", "-m", "Body line."]);
    const mail = execFileSync("git", ["-C", src, "format-patch", "-q", "--attach", "-1", "--stdout"], { encoding: "latin1" });
    const decoded = decodeMail(mail);
    expect(decoded).not.toContain("multi-part message");
    expect(decoded).not.toMatch(/^Content-Type:/im);
    const { mine } = await pqAndGitAm(mail, ["f"], { f: "1\n2\n3\n" });
    expect(read(mine, "f")).toBe("1\ntwo\n3\n");
    const header = (await pq(mine, "header")).out;
    expect(header).toContain("change two");
    expect(header).toContain("Body line.");
    expect(header).not.toContain("Content-Type");
  });

  it("a multipart mail without its closing boundary keeps its last part, the diff (interop-5 #36)", () => {
    const mail =
      'From: X <x@example.org>\nSubject: multipart\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="BB"\n\n--BB\nContent-Type: text/plain\n\nmsg\n--BB\nContent-Type: text/x-patch\n\ndiff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1 +1 @@\n-a\n+b\n';
    const decoded = decodeMail(mail);
    expect(decoded).toContain("msg\n");
    expect(decoded).toContain("diff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1 +1 @@\n-a\n+b\n");
  });

  it("a message line that reads as an mbox separator is quoted in the mail and read back whole (interop-5 #4)", () => {
    const body = "The v1 mail began:\nFrom 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\nend";
    const mail = formatMail({ author: "A <a@example.org>", subject: "Subj", body }, "--- a/a\n+++ b/a\n@@ -1 +1 @@\n-a\n+b\n");
    expect(mail.split("\n").filter((l) => /^From \S+ +Mon /.test(l))).toHaveLength(1);
    const back = splitMbox(mail + mail);
    expect(back).toHaveLength(2);
    expect(parseHeader(back[0]).body).toBe(body);
  });

  it("a subject loses the mail's Re: and [RFC PATCH v2 1/3] tags, as git am drops them, and keeps its own [subsystem] tag (interop-5 #17)", () => {
    expect(parseHeader("From: A <a@example.org>\nSubject: Re: [RFC PATCH v2 1/1] mm: fix it\n\n").subject).toBe("mm: fix it");
    expect(parseHeader("From: A <a@example.org>\nSubject: [PATCH] [media] fix it\n\n").subject).toBe("[media] fix it");
  });

  it("b4's and a mail client's mbox From lines (a date with its time) come before the mail's headers, as git am reads them (t154 N1)", async () => {
    const mail = (first: string) =>
      `${first}\nFrom: Rene Tester <rene@example.org>\nDate: Tue, 2 Jan 2024 10:00:00 +0100\nSubject: [PATCH] base: say more\n\nBody text.\n---\ndiff --git a/base b/base\n--- a/base\n+++ b/base\n@@ -1 +1 @@\n-base\n+base and more\n`;
    for (const first of ["From git@z Thu Jan  1 00:00:00 1970", "From rene@example.org Tue Jan  2 10:00:00 2024"]) {
      const { mine, theirs } = await pqAndGitAm(mail(first), ["base"]);
      expect((await pq(mine, "series")).out.trim(), first).toBe("base-say-more.patch");
      const header = (await pq(mine, "header")).out;
      expect(header).toContain("Author: Rene Tester <rene@example.org>");
      expect(header).toContain("    base: say more\n\n    Body text.");
      expect(header).not.toContain("From git@z");
      expect(git(theirs, "log", "-1", "--format=%an <%ae>|%s")).toBe("Rene Tester <rene@example.org>|base: say more\n");
    }
  });

  it("a [PATCH 0/N] cover letter without a diff is skipped and named", async () => {
    expect(isCoverLetter("[PATCH 0/3] the series")).toBe(true);
    expect(isCoverLetter("[PATCH 1/3] one")).toBe(false);
    // One with an interdiff (git format-patch --interdiff) is a cover letter too (interop-5 #29).
    expect(isCoverLetter("[PATCH v2 0/2] odd")).toBe(true);
    // A tag is read up to its own ']', never across another '[' (t127 N9: each '[' of 100,000 was scanned to the end).
    expect(isCoverLetter(`${"[".repeat(100_000)}x`)).toBe(false);
    expect(isCoverLetter("[x [PATCH 0/3] y")).toBe(true);
    const dir = tempDir();
    dirs.push(dir);
    writeFileSync(join(dir, "0000-cover.patch"), "From: Test User <test@example.org>\nSubject: [PATCH 0/1] the series\n\nBlurb.\n");
    writeFileSync(join(dir, "0001-one.patch"), qpMail);
    const tree = makeRepo({ base: "base\n" });
    dirs.push(tree);
    await pq(tree, "init");
    const r = await pq(tree, "import", join(dir, "0000-cover.patch"), join(dir, "0001-one.patch"));
    expect(r.code).toBe(0);
    expect(r.out).toContain("skipped a cover letter (no diff): 0000-cover.patch: [PATCH 0/1] the series");
    expect((await pq(tree, "series")).out).toBe("add-config.patch\n");
  });
});

describe("a mail whose MIME parts nest thousands deep (t127 N8)", () => {
  it("is refused as a bad patch (exit 7), nothing imported, not an internal error", async () => {
    const dir = makeRepo({ greeting: "hello\n" });
    dirs.push(dir);
    await pq(dir, "init");
    const depth = 3000;
    let mail =
      "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\nFrom: M <m@example.org>\nSubject: [PATCH] deep\nMIME-Version: 1.0\n" +
      'Content-Type: multipart/mixed; boundary="b0"\n\n';
    for (let i = 0; i < depth; i++) mail += `--b${i}\nContent-Type: multipart/mixed; boundary="b${i + 1}"\n\n`;
    mail += `--b${depth}\nContent-Type: text/plain\n\nmsg\n---\ndiff --git a/greeting b/greeting\n--- a/greeting\n+++ b/greeting\n@@ -1 +1 @@\n-hello\n+deep\n\n`;
    for (let i = depth; i >= 0; i--) mail += `--b${i}--\n`;
    const where = tempDir("pq-deep-");
    dirs.push(where);
    const file = join(where, "deep.mbox");
    writeFileSync(file, mail);
    const r = await pq(dir, "import", "--mbox", file);
    expect([r.code, r.err]).toEqual([7, expect.stringContaining("nest more than 16 deep")]);
    expect(read(dir, "patches/series")).toBe("");
  });
});

describe("Debian's DEP-3 patch headers", () => {
  it("Reviewed-By: is a field of a DEP-3 header, not the start of its message: a new message keeps it and the fields after it (t38 F4)", () => {
    const header =
      "Description: fix renamed LV detection\n Longer text.\nAuthor: Upstream Dev <up@example.org>\nForwarded: yes\nReviewed-By: Rita Roe <rita@example.org>\nLast-Update: 2023-02-25\n---\n";
    const parsed = parseHeader(header);
    expect(parsed.body).toBe("Longer text.");
    expect(rewriteHeader(header, { ...parsed, subject: "fix renamed LV detection (v2)" })).toBe(
      header.replace("detection", "detection (v2)"),
    );
    // In a mail's header a trailer still starts the message, as git reads it.
    expect(parseHeader("From: A <a@example.org>\nSubject: s\nReviewed-by: R <r@example.org>\n").body).toBe(
      "Reviewed-by: R <r@example.org>",
    );
  });

  it("a new message or author keeps the blank line between a DEP-3 header's fields and its --- notes (t98 N2)", () => {
    const header =
      "Description: Fix b\n Longer text.\nAuthor: Ann Example <ann@example.org>\nLast-Update: 2018-10-14\n\n---\n notes for reviewers\n\n";
    const parsed = parseHeader(header);
    expect(rewriteHeader(header, { ...parsed, subject: "Fix b better", body: "" })).toBe(
      "Description: Fix b better\nAuthor: Ann Example <ann@example.org>\nLast-Update: 2018-10-14\n\n---\n notes for reviewers\n\n",
    );
    expect(rewriteHeader(header, { ...parsed, author: "Bob Example <bob@example.org>" })).toBe(
      header.replace("Ann Example <ann", "Bob Example <bob"),
    );
    // tar's layout: nothing after the --- but a blank line, kept too (t101 N1), CRLF as well.
    const bare = "Description: Fix b\nAuthor: Ann Example <ann@example.org>\n\n---\n\n";
    expect(rewriteHeader(bare, { ...parseHeader(bare), subject: "Fix b better" })).toBe(bare.replace("Fix b", "Fix b better"));
    const crlf = bare.replace(/\n/g, "\r\n");
    expect(rewriteHeader(crlf, { ...parseHeader(crlf), author: "Bob Example <bob@example.org>" })).toBe(
      crlf.replace("Ann Example <ann", "Bob Example <bob"),
    );
  });

  it("the DEP-3 fields of a git format-patch header (gbp pq's form) are the patch's, a mail's transport fields are not (t38 F3)", () => {
    const header =
      "From: Dev <dev@example.org>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: Fix prefixes\nOrigin: https://example.org/c/1\nBug-Debian: https://bugs.example.org/2\nBug-Debian-Security: https://security.example.org/CVE-2099-0001\nMessage-Id: <1@example.org>\nMIME-Version: 1.0\n\nWhy.\n";
    expect(unmodelledFields(header)).toEqual([
      "Origin: https://example.org/c/1",
      "Bug-Debian: https://bugs.example.org/2",
      "Bug-Debian-Security: https://security.example.org/CVE-2099-0001",
    ]);
  });

  it("a new message keeps the lone --- that separates the fields from the diff (ci-7 #6)", () => {
    const header = "Description: Fix foo\nAuthor: Upstream Dev <up@example.org>\nLast-Update: 2026-01-01\n---\n";
    expect(rewriteHeader(header, { ...parseHeader(header), subject: "Fix foo again", body: "" })).toBe(
      header.replace("Fix foo", "Fix foo again"),
    );
  });

  it("Author: and Description: are the author and message; refresh keeps the notes after ---, export carries them", async () => {
    const q = tempDir();
    dirs.push(q);
    write(
      q,
      "patches/dep3.patch",
      "Description: Fix the thing\n The long description,\n .\n second paragraph.\nAuthor: Jane Roe <jane@example.org>\nForwarded: not-needed\n---\nNotes for the Debian maintainer, kept by quilt refresh.\n\nIndex: pkg/f\n===================================================================\n--- pkg.orig/f\n+++ pkg/f\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n",
    );
    write(q, "patches/series", "dep3.patch\n");
    const tree = makeRepo({ f: Array.from({ length: 10 }, (_, i) => `${i + 1}\n`).join("") });
    dirs.push(tree);
    await pq(tree, "init");
    expect((await pq(tree, "import", "--quilt", q)).code).toBe(0);
    expect((await pq(tree, "push")).code).toBe(0);
    const header = (await pq(tree, "header")).out;
    expect(header).toContain("Author: Jane Roe <jane@example.org>");
    expect(header).toContain("Fix the thing");
    expect(header).toContain("second paragraph.");
    write(tree, "f", read(tree, "f").replace("7\n", "seven\n"));
    expect((await pq(tree, "refresh")).code).toBe(0);
    const text = read(join(tree, "patches"), "dep3.patch");
    expect(text).toContain("Notes for the Debian maintainer, kept by quilt refresh.");
    expect(text).toContain("+seven");
    const mails = join(q, "mails");
    expect((await pq(tree, "export", "--dir", mails)).code).toBe(0);
    const mail = read(mails, "0001-dep3.patch");
    expect(mail).toContain("From: Jane Roe <jane@example.org>");
    expect(mail).toContain("Subject: [PATCH] Fix the thing");
    // Fields a mail has no header for go into its message.
    expect(mail).toContain("\nForwarded: not-needed\n");
  });

  it("DEP-3's Subject: alias: its indented lines are the long description, as Description:'s are, not a folded subject (t145 N11)", () => {
    const dep3 = parseHeader(
      "From: Dep Alias <dep@example.org>\nSubject: Short subject via Subject field\n Long description line.\nOrigin: other, https://example.org/x\nLast-Update: 2026-01-01\n\n",
    );
    expect([dep3.author, dep3.subject, dep3.body]).toEqual([
      "Dep Alias <dep@example.org>",
      "Short subject via Subject field",
      "Long description line.",
    ]);
    // A mail's folded Subject: stays one subject.
    const mail = parseHeader(
      "From: Ann Example <ann@example.org>\nDate: Mon, 7 Dec 2026 10:00:00 +0000\nSubject: [PATCH] a long\n subject\nOrigin: upstream\n\nbody\n",
    );
    expect([mail.subject, mail.body]).toEqual(["a long subject", "body"]);
  });

  it("refresh -m, refresh -s, header -u and fold keep a DEP-3 header DEP-3, with every field pq does not model", async () => {
    const fields =
      "Author: Bob Roe <bob@example.org>\nOrigin: upstream, https://example.org/c/123\nBug-Debian: https://bugs.example.org/1\nLast-Update: 2023-01-01\n";
    const dep3 = (subject: string, from: string, to: string) =>
      `Description: ${subject}\n Longer text.\nAuthor: Jane Roe <jane@example.org>\n${fields}---\nNotes after the dashes.\n--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n 1\n-${from}\n+${to}\n 3\n`;
    const tree = makeRepo({ f: "1\n2\n3\n4\n5\n6\n" });
    dirs.push(tree);
    git(tree, "config", "user.name", "Sam Signer");
    git(tree, "config", "user.email", "sam@example.org");
    write(tree, "debian/patches/one.patch", dep3("Fix two", "2", "two"));
    write(
      tree,
      "debian/patches/two.patch",
      dep3("Fix two again", "two", "TWO").replace("Last-Update: 2023-01-01", "Last-Update: 2024-02-02"),
    );
    write(tree, "debian/patches/series", "one.patch\ntwo.patch\n");
    git(tree, "add", "-A");
    git(tree, "commit", "-qm", "queue");
    await pq(tree, "init", "--queue", "debian/patches");
    expect((await pq(tree, "push")).code).toBe(0);
    const patch = () => read(tree, "debian/patches/one.patch");
    expect((await pq(tree, "refresh", "-m", "Fix two properly")).code).toBe(0);
    expect(patch()).toMatch(
      new RegExp(`^Description: Fix two properly\nAuthor: Jane Roe <jane@example.org>\n${fields}---\nNotes after the dashes.\n`),
    );
    expect((await pq(tree, "header", "-u", "Carol Roe <carol@example.org>", "one.patch")).code).toBe(0);
    expect(patch()).toMatch(new RegExp(`^Description: Fix two properly\nAuthor: Carol Roe <carol@example.org>\n${fields}---\n`));
    expect((await pq(tree, "refresh", "-s")).code).toBe(0);
    expect(patch()).toContain(`${fields}Signed-off-by: Sam Signer <sam@example.org>\n---\nNotes after the dashes.\n`);
    // Among the fields, the sign-off is found again: a second -s adds none.
    expect((await pq(tree, "refresh", "-s")).code).toBe(0);
    expect(patch().split("Signed-off-by: Sam Signer").length).toBe(2);
    // The folded patch's own fields stay fields, among the header's, before its notes (t125 N14); the same ones are not written twice.
    expect((await pq(tree, "fold", "two.patch")).code).toBe(0);
    expect(patch()).toMatch(/^Description: Fix two properly\n/);
    expect(patch()).toContain(
      "Last-Update: 2023-01-01\nSigned-off-by: Sam Signer <sam@example.org>\nLast-Update: 2024-02-02\n---\nNotes after the dashes.\n",
    );
    expect(patch().split("Origin: upstream").length).toBe(2);
    expect(patch()).toContain("+TWO\n");
  });

  it("a header with fields but no Subject: keeps its first description line as the subject when only the author changes", () => {
    const header = "From: Jane Roe <jane@example.org>\n\nFix the frobnicator\n\nIt frobbed twice.\n";
    const next = { ...parseHeader(header), author: "Bob Roe <bob@example.org>" };
    const text = rewriteHeader(header, next);
    expect(text).toBe("From: Bob Roe <bob@example.org>\n\nFix the frobnicator\n\nIt frobbed twice.\n");
    expect(parseHeader(text)).toMatchObject({ subject: "Fix the frobnicator", body: "It frobbed twice." });
  });

  it("a mail's transport headers (MIME-Version:, Message-Id:) are not taken into an exported mail's message", async () => {
    const tree = makeRepo({ f: "1\n2\n3\n" });
    dirs.push(tree);
    await pq(tree, "init");
    write(
      tree,
      "patches/mail.patch",
      "From: Jane Roe <jane@example.org>\nSubject: [PATCH] Fix two\nMessage-Id: <1@example.org>\nMIME-Version: 1.0\n\nWhy.\n---\n--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n 1\n-2\n+two\n 3\n",
    );
    write(tree, "patches/series", "mail.patch\n");
    expect((await pq(tree, "push")).code).toBe(0);
    const out = tempDir("pq-mails-");
    dirs.push(out);
    expect((await pq(tree, "export", "--dir", out)).code).toBe(0);
    const mail = read(out, "0001-mail.patch");
    expect(mail).toContain("\nWhy.\n");
    expect(mail).not.toContain("Message-Id: <1@example.org>");
  });
});

describe("authors not written as Name <email> (t154 N5)", () => {
  it("are read as git reads them: finish commits them, and export mails them in a From: git am takes", async () => {
    expect(authorIdentity("Jane Upstream")).toEqual({ name: "Jane Upstream", email: "" });
    expect(authorIdentity("bob@example.org")).toEqual({ name: "bob@example.org", email: "bob@example.org" });
    expect(authorIdentity("bob@example.org (Bob Old)")).toEqual({ name: "Bob Old", email: "bob@example.org" });
    expect(authorIdentity("Ann Example <ann@example.org>")).toEqual({ name: "Ann Example", email: "ann@example.org" });
    expect(authorIdentity("John Doe <jd@example.org> (work)")).toEqual({ name: "John Doe", email: "jd@example.org" });
    const dir = makeRepo({ "a.txt": "a = 1\nb = 1\nline3\n" });
    const clone = tempDir();
    dirs.push(dir, clone);
    write(
      dir,
      "patches/dep3.patch",
      "Description: set a to 2\nAuthor: Jane Upstream\n\n--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n-a = 1\n+a = 2\n b = 1\n",
    );
    write(
      dir,
      "patches/old.patch",
      "From: bob@example.org (Bob Old)\nSubject: set b to 2\n\n--- a/a.txt\n+++ b/a.txt\n@@ -2,2 +2,2 @@\n-b = 1\n+b = 2\n line3\n",
    );
    write(dir, "patches/series", "dep3.patch\nold.patch\n");
    await pq(dir, "init");
    expect((await pq(dir, "push", "-a")).code).toBe(0);
    expect((await pq(dir, "export", "--mbox", join(clone, "all.mbox"))).code).toBe(0);
    const theirs = join(clone, "repo");
    execFileSync("git", ["clone", "-q", dir, theirs]);
    execFileSync("git", ["am", "-q", join(clone, "all.mbox")], { cwd: theirs });
    expect(git(theirs, "log", "-2", "--format=%an <%ae>|%s")).toBe("Bob Old <bob@example.org>|set b to 2\nJane Upstream <>|set a to 2\n");
    expect((await pq(dir, "finish", "-a")).code).toBe(0);
    expect(git(dir, "log", "-2", "--format=%an <%ae>|%s")).toBe("Bob Old <bob@example.org>|set b to 2\nJane Upstream <>|set a to 2\n");
  });
});

describe("8-bit bytes that are not UTF-8 in a DEP-3 or hg header (t69 N2)", () => {
  // Patch files are read as latin1 strings (one character per byte): these hold ISO-8859-1 bytes.
  const dep3 = "Description: dep3 l\xe4tin\nAuthor: J\xf6rg Dep <jorg@example.org>\nOrigin: vendor\n\n";
  const hg = "# HG changeset patch\n# User Hg L\xe4tin <hg@example.org>\n# Date 1700000000 0\nhg m\xe9ssage\n\n";
  it("are read as ISO-8859-1, as git am reads unlabelled 8-bit text, and UTF-8 lines stay UTF-8", () => {
    expect(parseHeader(dep3)).toMatchObject({ author: "Jörg Dep <jorg@example.org>", subject: "dep3 lätin" });
    expect(parseHeader(hg)).toMatchObject({ author: "Hg Lätin <hg@example.org>", subject: "hg méssage" });
    const mixed = `Description: UTF-8 ${Buffer.from("Zoë", "utf8").toString("latin1")}\nAuthor: J\xf6rg Dep <jorg@example.org>\n\n`;
    expect(parseHeader(mixed)).toMatchObject({ author: "Jörg Dep <jorg@example.org>", subject: "UTF-8 Zoë" });
  });
  it("keep their bytes when another field is rewritten, and a mail of the patch says them in UTF-8", () => {
    const rewritten = rewriteHeader(dep3, { ...parseHeader(dep3), subject: "new subject" });
    expect(rewritten).toContain("Author: J\xf6rg Dep <jorg@example.org>");
    expect(formatMail(parseHeader(dep3), "")).toContain("From: =?UTF-8?q?J=C3=B6rg_Dep?= <jorg@example.org>");
  });
});

describe("a mail's subject cleaned as git am cleans it (t69 N5)", () => {
  it("gives git am --keep-non-patch's subject (brackets without PATCH kept)", () => {
    const subjects = [
      "  [PATCH]   spaced \t  subject  ",
      "Fwd: [PATCH] fwd",
      "Re: [PATCH v2 03/10] net: fix",
      "RE: re: [RFC PATCH] two",
      "[PATCH]fix",
      ":: [PATCH] colons",
      "[PATCH] [net-next] double",
      "[net-next] [PATCH] x",
      "[media] fix",
      "[RFC] y",
      "Re: [PATCH] Re: deep",
    ];
    for (const subject of subjects) {
      const am = makeRepo({ "a.c": "a\n" });
      dirs.push(am);
      const mail = `From: Ann Example <ann@example.org>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: ${subject}\n\nbody\n---\ndiff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n@@ -1 +1 @@\n-a\n+b\n`;
      writeFileSync(join(am, "m.eml"), mail);
      execFileSync("git", ["am", "-q", "--keep-non-patch", "m.eml"], { cwd: am });
      expect(parseHeader(mail).subject, subject).toBe(git(am, "log", "-1", "--format=%s").trim());
    }
  });
});

describe("a header line with UTF-8 and latin1 bytes both (t71 N4)", () => {
  it("keeps each UTF-8 character and reads only the other bytes as ISO-8859-1", () => {
    const utf8 = Buffer.from("Zoë", "utf8").toString("latin1");
    expect(parseHeader(`Description: ${utf8} and J\xf6rg\nAuthor: A <a@example.org>\n\n`).subject).toBe("Zoë and Jörg");
  });
});

describe("an unlabelled mail whose lines mix UTF-8 and latin1 bytes (t74 N1)", () => {
  it("keeps each UTF-8 character and reads each other byte as ISO-8859-1, as git am does", () => {
    const mail =
      "From: Ann Example <ann@example.org>\nSubject: mixed M\xc3\xbcller J\xf6rg\n\nbody M\xc3\xbcller and J\xf6rg\n---\ndiff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n@@ -1 +1 @@\n-a\n+b\n";
    const decoded = decodeMail(mail);
    const utf8 = (text: string) => Buffer.from(text, "utf8").toString("latin1");
    expect(decoded).toContain(`Subject: mixed ${utf8("Müller Jörg")}`);
    expect(decoded).toContain(`body ${utf8("Müller and Jörg")}`);
  });
});

describe("a Cc: line in a patch header's block of fields (t76 N5, t78 N1)", () => {
  it("is a mail's header when no trailer follows it, and a trailer of the message when one does", () => {
    const mail =
      "From: Ann Example <ann@example.org>\nTo: list@example.org\nCc: Other <o@example.org>\nSubject: [PATCH] s\nDate: Tue, 14 Nov 2023 22:13:20 +0100\n\nbody\n";
    expect(parseHeader(mail)).toMatchObject({ subject: "s", body: "body" });
    const quilt =
      "From: Ann Example <ann@example.org>\nSubject: fix the thing\nCc: stable@example.org # 6.1.x\nSigned-off-by: Ann Example <ann@example.org>\n\n";
    expect(parseHeader(quilt).body).toBe("Cc: stable@example.org # 6.1.x\nSigned-off-by: Ann Example <ann@example.org>");
  });
});

describe("a header rewritten with nothing changed, and a plain description's notes (t78 N3, N4)", () => {
  it("stays byte for byte; a changed one keeps the notes after its ---", () => {
    const plain = "fix the thing\n\nLonger text.\n---\nv2: renamed the helper\nnote line\n";
    expect(rewriteHeader(plain, parseHeader(plain))).toBe(plain);
    const changed = rewriteHeader(plain, { ...parseHeader(plain), subject: "fix it better" });
    expect(changed).toContain("Subject: fix it better\n");
    expect(changed).toContain("---\nv2: renamed the helper\nnote line\n");
  });
});

describe("a header edit that changes nothing, or only an indent (t80 N1, N5)", () => {
  it("leaves the patch file byte for byte, diffstat too; an indent taken away is a change", async () => {
    const tree = makeRepo({ a: "a\n" });
    dirs.push(tree);
    expect((await pq(tree, "init")).code).toBe(0);
    const text =
      "Subject: s\n\n  indented body\n---\n a | 2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)\n\ndiff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1 +1 @@\n-a\n+b\n";
    write(tree, "patches/p", text);
    write(tree, "patches/series", "p\n");
    expect((await pq(tree, "header", "p", "-m", "s\n\n  indented body")).code).toBe(0);
    expect(read(join(tree, "patches"), "p")).toBe(text);
    expect((await pq(tree, "header", "p", "-m", "s\n\nindented body")).code).toBe(0);
    expect(read(join(tree, "patches"), "p")).toContain("\n\nindented body\n");
  });
});
