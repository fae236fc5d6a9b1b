/**
 * Patch headers: the message and authorship above a diff. Reads git format-patch mails,
 * hg export's "# HG changeset patch" headers, quilt/hg mq "From:/Subject:" top lines and
 * plain descriptions; writes git-style headers that quilt, hg mq and git am all read.
 * Texts are latin1-decoded bytes like everywhere in pq; header values are decoded from
 * UTF-8 and RFC 2047 words for people, and encoded back when written.
 */
import { childProcess } from "../core/child-process.js";
import { startsDiff } from "../patch/parse.js";
import { escapeFromLines, SEPARATOR } from "./mbox.js";
import { decodeCharset } from "./charset.js";
import { PqError } from "../errors.js";

export interface PatchHeader {
  author?: string;
  date?: string;
  subject?: string;
  /** The description after the subject, trimmed; Signed-off-by lines included. */
  body: string;
  hg?: { user?: string; date?: string; nodeId?: string; parent?: string };
  /**
   * The committer of the commit pq uncommit made this patch from, as git writes it ("Name
   * <mail> 1614814567 +0530"): pq finish of the unchanged patch commits it the same way, so
   * uncommit then finish gives back the very same commit. A refresh that changes the patch drops it.
   */
  committer?: string;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A header's bytes (a latin1 string) as text: UTF-8, and a line that is not UTF-8 as ISO-8859-1,
 * as git am reads unlabelled 8-bit text. A DEP-3 Author: or an hg # User in latin1 (old Debian
 * and hg queues have them) had its bytes replaced by U+FFFD on every way out: header, export,
 * finish (t69 N2).
 */
function toUtf8(latin1: string): string {
  if (!/[\x80-\xff]/.test(latin1)) return latin1;
  const asUtf8 = (line: string): string | null => {
    try {
      return strictUtf8.decode(Buffer.from(line, "latin1"));
    } catch {
      return null;
    }
  };
  return asUtf8(latin1) ?? mixedUtf8(latin1);
}

/**
 * Bytes (a latin1 string) that are UTF-8 in part: each whole UTF-8 sequence decoded, every other
 * byte taken as ISO-8859-1 (a line with a UTF-8 name and a latin1 one had its UTF-8 read as
 * latin1 too: t71 N4).
 */
export function mixedUtf8(latin1: string): string {
  let out = "";
  for (let i = 0; i < latin1.length;) {
    const c = latin1.charCodeAt(i);
    const length = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 1;
    if (c >= 0x80 && length > 1 && i + length <= latin1.length) {
      let sequence: string | null = null;
      try {
        sequence = strictUtf8.decode(Buffer.from(latin1.slice(i, i + length), "latin1"));
      } catch {
        sequence = null;
      }
      if (sequence !== null) {
        out += sequence;
        i += length;
        continue;
      }
    }
    out += latin1[i];
    i++;
  }
  return out;
}
const toLatin1 = (utf8: string) => Buffer.from(utf8, "utf8").toString("latin1");

/** RFC 2047 encoded words (=?UTF-8?q?...?= / =?UTF-8?b?...?=) as git format-patch writes them. */
export function decodeWords(value: string): string {
  return value.replace(/=\?([^?]+)\?([qQbB])\?([^?]*)\?=(\s+(?==\?))?/g, (_m, charset: string, enc: string, data: string) => {
    const utf8 = /utf-?8/i.test(charset);
    const bytes = enc.toLowerCase() === "b" ? Buffer.from(data, "base64") : qBytes(data, utf8);
    return utf8 ? bytes.toString("utf8") : (decodeCharset(bytes, charset) ?? bytes.toString("latin1"));
  });
}

/**
 * The bytes of a "Q"-encoded word's text: `_` a space, `=XX` a byte. Characters beyond ASCII
 * there are text already (a quoted-printable body decoded before its in-body From: is read, as
 * git mailinfo does it): in a UTF-8 word their UTF-8 bytes, else their own code (t76 N6: each
 * was taken as one byte, and `Zöe` became `Z\ufffde`).
 */
function qBytes(data: string, utf8: boolean): Buffer {
  const out: number[] = [];
  for (let i = 0; i < data.length; i++) {
    const ch = data[i];
    const hex = ch === "=" ? /^[0-9A-Fa-f]{2}/.exec(data.slice(i + 1, i + 3)) : null;
    if (hex) {
      out.push(parseInt(hex[0], 16));
      i += 2;
    } else if (ch === "_") out.push(0x20);
    else {
      const code = data.codePointAt(i)!;
      if (code > 0xffff) i++;
      if (code < 0x80 || (!utf8 && code <= 0xff)) out.push(code);
      else out.push(...Buffer.from(String.fromCodePoint(code), "utf8"));
    }
  }
  return Buffer.from(out);
}

/**
 * A header value as RFC 2047 encoded words, as git format-patch writes them: each word at most
 * 75 characters (split between characters, never inside one's UTF-8 bytes), the words on
 * folded lines, so no line of a long subject passes RFC 5322's 998 characters.
 */
function encodeWord(value: string): string {
  if (!/[^\x20-\x7e]/.test(value)) return value;
  const words: string[] = [];
  let q = "";
  for (const ch of value) {
    let piece = "";
    for (const b of Buffer.from(ch, "utf8"))
      piece +=
        b >= 0x21 && b <= 0x7e && b !== 0x3d && b !== 0x3f && b !== 0x5f
          ? String.fromCharCode(b)
          : b === 0x20
            ? "_"
            : `=${b.toString(16).toUpperCase().padStart(2, "0")}`;
    // 75 in all: "=?UTF-8?q?" and "?=" leave 63 for the text.
    if (q.length + piece.length > 63) {
      words.push(q);
      q = "";
    }
    q += piece;
  }
  words.push(q);
  return words.map((w) => `=?UTF-8?q?${w}?=`).join("\n ");
}

/**
 * Author "Name <mail>" for a From: line, the name quoted where a mail parser needs it. `encoded`:
 * a non-ASCII name as RFC 2047 words, as git format-patch writes mails; else raw UTF-8, as hg
 * mq, quilt and git am read a patch file's 8-bit headers.
 */
/**
 * An author as git takes one, name and address: "Name <email>"; a bare address (an old mail's
 * `From: bob@example.org`, the name then the address, as git am makes it) and RFC 822's
 * "email (Name)" as git mailinfo reads them; a name alone (DEP-3's `Author: Jane Upstream`) with
 * an empty address, which git commit-tree and git am take. finish committed such a patch as the
 * user running it, and export wrote a From: git am refused (t154 N5).
 */
export function authorIdentity(author: string): { name: string; email: string } {
  // An RFC 5322 comment after the address ("John Doe <jd@example.org> (work)") is dropped, as git mailinfo drops it (t157 N5).
  const a = author.trim().replace(/^(.*<[^>]*>)\s*\([^()]*\)$/, "$1");
  const angle = /^(.*?)\s*<([^>]*)>$/.exec(a);
  if (angle) return { name: angle[1].trim() || angle[2], email: angle[2] };
  const commented = /^(\S+@\S+)\s*\((.*)\)$/.exec(a);
  if (commented) return { name: commented[2].trim() || commented[1], email: commented[1] };
  if (/^\S+@\S+$/.test(a)) return { name: a, email: a };
  return { name: a, email: "" };
}

function authorField(author: string, encoded: boolean): string {
  const m = /^(.*?)\s*<([^>]*)>$/.exec(author);
  if (!m) return encoded ? encodeWord(author) : author;
  const name =
    encoded && /[^\x20-\x7e]/.test(m[1]) ? encodeWord(m[1]) : /[()<>@,;:\\".[\]]/.test(m[1]) ? `"${m[1].replace(/["\\]/g, "\\$&")}"` : m[1];
  return `${name} <${m[2]}>`;
}

function decodeAuthor(value: string): string {
  const decoded = decodeWords(value.trim());
  const m = /^"((?:[^"\\]|\\.)*)"\s*(<.*>)$/.exec(decoded);
  return m ? `${m[1].replace(/\\(.)/g, "$1")} ${m[2]}` : decoded;
}

/**
 * A mail's subject without what the mail added, as git am --keep-non-patch cleans it (mailinfo's
 * cleanup_space and cleanup_subject): white space runs made one space; then, from the start,
 * "Re:", spaces and colons dropped, and brackets holding "PATCH" ([RFC PATCH v2 1/3]) dropped
 * wherever they come among the leading ones. Other brackets stay: a subject written as
 * "[media] fix" is the patch's own (pq writes no [PATCH] into its files). pq had dropped "Fwd:"
 * and kept runs of spaces, which git am does not (t69 N5).
 */
function stripPatchTag(subject: string): string {
  let s = subject.replace(/\s+/g, " ");
  let at = 0;
  while (at < s.length) {
    const c = s[at];
    if ((c === "r" || c === "R") && s.length > at + 3 && (s[at + 1] === "e" || s[at + 1] === "E") && s[at + 2] === ":") {
      s = s.slice(0, at) + s.slice(at + 3);
      continue;
    }
    if (c === " " || c === ":") {
      s = s.slice(0, at) + s.slice(at + 1);
      continue;
    }
    if (c !== "[") break;
    const end = s.indexOf("]", at);
    if (end === -1) break;
    if (end - at + 1 >= 7 && s.slice(at, end + 1).includes("PATCH")) {
      s = s.slice(0, at) + s.slice(end + 1);
      continue;
    }
    at = end + 1;
    if (s[at] === " ") at++;
  }
  return s.trim() || subject.replace(/\s+/g, " ").trim();
}

/**
 * git format-patch's and mbox's "From <id> <date>" line, which comes before a mail's headers.
 * A date with its time (b4's "From git@z Thu Jan  1 00:00:00 1970", a mail client's "From
 * ann@example.org Tue Jan  2 10:00:00 2024") is one too: it was read as the subject, and the
 * mail's From: and Subject: as its message (t154 N1).
 */
function isMboxSeparator(line: string | undefined): boolean {
  return (
    line !== undefined && ((/^From \S+ /.test(line) && !line.includes(":")) || /^From [0-9a-f]{40} /.test(line) || SEPARATOR.test(line))
  );
}

interface HeaderField {
  /** Lower case. */
  key: string;
  /** The first line's value. */
  value: string;
  /** The field's lines as written: its own and its continuation lines. */
  lines: string[];
}

/**
 * The block of Key: value fields (each with its indented continuation lines) from `start`,
 * up to the first line that is not one or, in a mail's header, a trailer (Signed-off-by: and
 * the like, which belong to its message); `end`: the line after it. In a DEP-3 header every
 * field of the block is one: `Reviewed-By:` is a DEP-3 field, and taking it for the message's
 * start put it and the fields after it (`Last-Update:`) in the description, which refresh -m
 * and header -m then replaced (t38 F4).
 */
function headerFields(lines: string[], start = 0): { fields: HeaderField[]; end: number } {
  const all = fieldBlock(lines, start, false);
  const block = isDep3(all.fields) ? all : fieldBlock(lines, start, true);
  // A paragraph of "word: text" lines none of which is a patch header's field is the message:
  // the kernel's subjects read so ("mm: fix leak"), and a quilt patch's description lost its
  // first line to a field named "mm" (t125 N6).
  return block.fields.some((f) => HEADER_FIELD.test(f.key)) ? block : { fields: [], end: start };
}

/** The fields of a mail's or a DEP-3 header (and hg's, quilt's and git's own additions), lower case. */
const HEADER_FIELD =
  /^(from|to|cc|date|subject|description|author|origin|bug(-[a-z]+)?|forwarded|applied-upstream|last-update|reviewed-by|acked-by|signed-off-by|message-id|in-reply-to|references|mime-version|content-[a-z-]+|x-[a-z0-9-]+|patch-name|index)$/;

function fieldBlock(lines: string[], start: number, trailersEnd: boolean): { fields: HeaderField[]; end: number } {
  const fields: HeaderField[] = [];
  let i = start;
  for (; i < lines.length; i++) {
    const m = /^([A-Za-z][A-Za-z0-9-]*):\s?(.*)$/.exec(lines[i]);
    // Cc: is a mail's own header field too (git send-email writes one to every list mail), where
    // the block is a mail's (it has a From: or a To:) and no trailer follows it in the block: there
    // it was taken for the message's start, and the subject and date after it went into the
    // message (t76 N5). Followed by a Signed-off-by:, it is a trailer of the message, kept (t78 N1).
    const mailCc =
      m !== null && /^cc$/i.test(m[1]) && fields.some((f) => f.key === "from" || f.key === "to") && !trailerFollows(lines, i + 1);
    if (!m || (trailersEnd && !mailCc && /^(Signed-off-by|Acked-by|Reviewed-by|Cc|Tested-by)$/i.test(m[1]))) break;
    const field = { key: m[1].toLowerCase(), value: m[2], lines: [lines[i]] };
    while (i + 1 < lines.length && /^[ \t]/.test(lines[i + 1]) && lines[i + 1].trim()) field.lines.push(lines[++i]);
    fields.push(field);
  }
  return { fields, end: i };
}

/** Whether a trailer (Signed-off-by: and the like) comes in the block of fields from line `from` on. */
function trailerFollows(lines: string[], from: number): boolean {
  for (let i = from; i < lines.length; i++) {
    const m = /^([A-Za-z][A-Za-z0-9-]*):/.exec(lines[i]);
    if (m) {
      if (/^(Signed-off-by|Acked-by|Reviewed-by|Tested-by)$/i.test(m[1])) return true;
    } else if (!/^[ \t]\S/.test(lines[i])) return false;
  }
  return false;
}

/** Fields a DEP-3 header has and a mail's does not (https://dep-team.pages.debian.net/deps/dep3/). */
const DEP3_ONLY_FIELDS = new Set(["origin", "forwarded", "last-update", "applied-upstream", "bug", "bug-debian", "bug-ubuntu"]);
/** Fields only a mail's header has. */
const MAIL_ONLY_FIELDS = new Set(["date", "message-id", "in-reply-to", "references", "mime-version", "content-type"]);

/** Debian's DEP-3 form: a Description: field (the message) and no Subject:. */
function isDep3(fields: HeaderField[]): boolean {
  return fields.some((f) => f.key === "description") && !fields.some((f) => f.key === "subject");
}

/** Whether a header is DEP-3's (see isDep3), read as parseHeader reads its fields. */
export function isDep3Header(header: string): boolean {
  return isDep3(headerFields(toUtf8(header).replace(/\r\n/g, "\n").split("\n")).fields);
}

/** A header with these field lines added at the end of its fields, each once (a line it has already is not written again). */
export function withFields(header: string, fields: string[]): string {
  const lines = header.split("\n");
  const have = new Set(lines.map((line) => line.trim()));
  const add = [...new Set(fields)].filter((field) => !have.has(field.trim()));
  if (!add.length) return header;
  // The fields end at the first blank line or the "---" of the notes after them.
  const end = lines.findIndex((line) => line.trim() === "" || endsDescription(line));
  lines.splice(end === -1 ? lines.length : end, 0, ...add);
  return lines.join("\n");
}

/** Reads the header part of a patch file (everything before its first diff). */
export function parseHeader(text: string): PatchHeader {
  const lines = toUtf8(text).replace(/\r\n/g, "\n").split("\n");
  const h: PatchHeader = { body: "" };
  let i = isMboxSeparator(lines[0]) ? 1 : 0;

  if (lines[i] === "# HG changeset patch") {
    h.hg = {};
    for (i++; i < lines.length && lines[i].startsWith("# "); i++) {
      const m = /^# (User|Date|Node ID|Parent)\s+(.*)$/.exec(lines[i]);
      if (!m) continue;
      if (m[1] === "User") h.author = h.hg.user = m[2].trim();
      else if (m[1] === "Date") h.hg.date = m[2].trim();
      else if (m[1] === "Node ID") h.hg.nodeId = m[2].trim();
      else if (m[1] === "Parent" && !h.hg.parent) h.hg.parent = m[2].trim();
    }
    if (h.hg.date) h.date = hgDateToRfc(h.hg.date);
    return withMessage(h, lines.slice(i));
  }

  // Mail-style headers (git format-patch, quilt, hg mq): Key: value lines, possibly folded.
  // Debian's DEP-3 headers name the same things Author: and Description: (whose indented
  // continuation lines are the long description).
  let longDescription: string[] | null = null;
  const { fields, end } = headerFields(lines, i);
  // DEP-3's own aliases, From: and Subject:, in a header with fields only DEP-3 has and none only a
  // mail has: the Subject:'s indented lines are the long description, not a folded subject (t145 N11).
  const subjectAsDescription =
    i === 0 && fields.some((f) => DEP3_ONLY_FIELDS.has(f.key)) && !fields.some((f) => MAIL_ONLY_FIELDS.has(f.key)) && !isDep3(fields);
  for (const { key: field, value: first, lines: fieldLines } of fields) {
    const key = subjectAsDescription && field === "subject" ? "description" : field;
    const continuation = fieldLines.slice(1).map((l) => l.trim());
    const value = key === "description" ? first : [first, ...continuation].join(" ");
    if (key === "from") h.author = decodeAuthor(value);
    else if (key === "author" && h.author === undefined) h.author = decodeAuthor(value);
    else if (key === "date") h.date = value.trim();
    else if (key === "subject") h.subject = stripPatchTag(decodeWords(value));
    else if (key === "description" && h.subject === undefined) {
      h.subject = decodeWords(value).trim();
      // Debian's rule (Policy 5.6.13, which DEP-3 follows): a continuation line drops the one space
      // that marks it, " ." is a blank line, and a line of more spaces keeps the rest, verbatim (a
      // command or code shown in the description: t122 N6 lost its indentation).
      longDescription = trimBlankEnds(fieldLines.slice(1).map((l) => l.replace(/^[ \t]/, "").trimEnd())).map((l) => (l === "." ? "" : l));
    } else if (key === "x-committer") h.committer = decodeWords(value).trim();
  }
  i = end;
  if (fields.length && lines[i] === "") i++;
  const rest = lines.slice(i);
  if (longDescription !== null) {
    const after = bodyOf(rest);
    return { ...h, body: [longDescription.join("\n"), after].filter(Boolean).join("\n\n") };
  }
  return h.subject !== undefined ? { ...h, body: bodyOf(rest) } : withMessage(h, rest);
}

/**
 * A message's body without its blank lines before and its white space after: the first line's
 * indentation stays (a trim took it, and an indented "--- " line meant to stay text became the
 * line that ends the description: t69 N1).
 */
export function trimBody(text: string): string {
  return text.replace(/^(?:[ \t\r]*\n)+/, "").trimEnd();
}

/** First paragraph line is the subject, the rest the body. */
function withMessage(h: PatchHeader, lines: string[]): PatchHeader {
  const body = bodyOf(lines).split("\n");
  while (body.length && !body[0].trim()) body.shift();
  const subject = body.shift()?.trim();
  return { ...h, subject: subject ? stripPatchTag(subject) : h.subject, body: trimBody(body.join("\n")) };
}

/**
 * Whether a line ends a patch's description as git am reads a mail (mailinfo's patchbreak): "---"
 * and nothing but white space after it (the line before a diffstat), or "--- " and a word (a
 * diff without a header). A message line like "--- see below" was kept by pq, and lost with
 * everything after it by git am of the export (t69 N1).
 */
/** The lines without the blank ones they start and end with. */
function trimBlankEnds(lines: string[]): string[] {
  let start = 0;
  let end = lines.length;
  while (start < end && !lines[start].trim()) start++;
  while (end > start && !lines[end - 1].trim()) end--;
  return lines.slice(start, end);
}

export function endsDescription(line: string): boolean {
  return /^---[ \t\v\f\r]*$/.test(line) || /^--- [^ \t\n\v\f\r]/.test(line);
}

/** The description ends at the "---" line before a diffstat. */
function bodyOf(lines: string[]): string {
  const end = lines.findIndex((l, i) => endsDescription(l) || startsDiff(l, lines[i + 1] ?? ""));
  return trimBody((end === -1 ? lines : lines.slice(0, end)).join("\n"));
}

function hgDateToRfc(hgDate: string): string {
  const m = /^(\d+)\s+(-?\d+)$/.exec(hgDate);
  if (!m) return hgDate;
  // hg's offset is seconds west of UTC.
  return rfcDate(Number(m[1]), -Number(m[2]) / 60);
}

/** A time (seconds since the epoch) as a mail's Date: field, at `offsetMin` minutes east of UTC. */
function rfcDate(seconds: number, offsetMin: number): string {
  const local = new Date((seconds + offsetMin * 60) * 1000);
  const sign = offsetMin >= 0 ? "+" : "-";
  const abs = Math.abs(offsetMin);
  const tz = `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}${String(abs % 60).padStart(2, "0")}`;
  return local.toUTCString().replace("GMT", tz);
}

/**
 * A time (now, or `ms`) as a mail's Date: field in this machine's time zone, as git writes an
 * author date (t93 N7: pq wrote +0000 whatever TZ said, and a finished commit then had a UTC
 * author date beside a local committer date).
 */
export function localMailDate(ms = Date.now()): string {
  const seconds = Math.floor(ms / 1000);
  return rfcDate(seconds, posixZoneOffset(seconds) ?? -new Date(ms).getTimezoneOffset());
}

/**
 * The offset (minutes east of UTC) at `seconds` of a TZ Node's ICU reads as UTC though libc
 * does not: a POSIX rule with minutes, DST rules or a quoted name (IST-5:30,
 * CET-1CEST,M3.5.0,M10.5.0/3, <+0545>-5:45), which git and date(1) honour. Asked of date(1),
 * only then; null where Node's own reading stands (t95 N4: such patches were dated +0000).
 */
function posixZoneOffset(seconds: number): number | null {
  const tz = process.env.TZ;
  if (!tz || !/[0-9]/.test(tz) || Intl.DateTimeFormat().resolvedOptions().timeZone !== "UTC") return null;
  const r = childProcess().spawnSync("date", ["-d", `@${seconds}`, "+%z"], { encoding: "utf8" });
  const m = /^([+-])(\d\d)(\d\d)$/.exec(String(r.stdout ?? "").trim());
  return m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : null;
}

/** The header pq writes at the top of a patch file: "From/Date/Subject", a blank line, the body. */
export function formatHeader(h: PatchHeader): string {
  let text = "";
  if (h.author) text += `From: ${authorField(h.author, false)}\n`;
  if (h.date) text += `Date: ${h.date}\n`;
  if (h.committer) text += `X-Committer: ${h.committer}\n`;
  text += `Subject: ${h.subject ?? ""}\n\n`;
  if (h.body.trim()) text += trimBody(h.body) + "\n";
  // No "---" separator: hg mq would take it into the commit message; git am and quilt
  // find the end of the message at the diff anyway (exported mails do get one).
  return toLatin1(text);
}

/**
 * The fields DEP-3 (and gbp pq, which writes them into git format-patch headers) gives a patch:
 * in a mail's header they are the patch's, where its others (MIME-Version:, Message-Id:, To:)
 * are its transport's.
 */
const PATCH_FIELD = /^(origin|bug(-.+)?|forwarded|applied-upstream|last-update|reviewed-by|acked-by|author|patch-name|gbp(-.+)?)$/;

/**
 * A header's fields that PatchHeader does not hold (Origin:, Bug-Debian:, Forwarded:,
 * Last-Update:, a second Author:), one line each, as UTF-8: a fold keeps them in the message
 * of the patch it folds in, and a mail export in the message it sends. All of a DEP-3 header's;
 * of a mail's, the DEP-3 ones (a Debian queue's git format-patch headers carry Origin: and
 * Bug-Debian-Security:, which a fold dropped: t38 F3).
 */
export function unmodelledFields(header: string): string[] {
  const lines = toUtf8(header).replace(/\r\n/g, "\n").split("\n");
  if (isMboxSeparator(lines[0])) lines.shift();
  const { fields } = headerFields(lines);
  const dep3 = isDep3(fields);
  const modelled = new Set(["from", "subject", "date", "description", "x-committer"]);
  let authorSeen = !dep3; // a mail's author is its From:, so any Author: is another one
  const out: string[] = [];
  for (const f of fields) {
    if (f.key === "author" && !authorSeen) authorSeen = true;
    else if (!modelled.has(f.key) && (dep3 || PATCH_FIELD.test(f.key))) out.push(f.lines.map((l) => l.trim()).join(" "));
  }
  return out;
}

/** A header as parseHeader reads it, with its unmodelled fields (unmodelledFields) kept as the message's last paragraph. */
export function parseHeaderKeepingFields(header: string): PatchHeader {
  const parsed = parseHeader(header);
  const extra = unmodelledFields(header);
  return extra.length ? { ...parsed, body: [parsed.body, extra.join("\n")].filter(Boolean).join("\n\n") } : parsed;
}

/**
 * `next` written over an existing header, keeping what pq does not model: a DEP-3 header
 * (Description:, Author:, Origin:, Bug-Debian:, Forwarded:, Last-Update:, notes after "---")
 * stays DEP-3, a mail header keeps its other fields, and a field whose value did not change
 * keeps its bytes. A header with no fields (a plain description, quilt's) or an hg one is
 * written afresh by formatHeader.
 */
/** Whether two headers say the same message: the subject, and the body without its blank lines around (its first line's indent counts). */
export function sameMessage(a: PatchHeader, b: PatchHeader): boolean {
  return (a.subject ?? "") === (b.subject ?? "") && trimBody(a.body) === trimBody(b.body);
}

/** Whether two headers say the same of a patch: its message, author, date and committer. */
export function sameHeader(a: PatchHeader, b: PatchHeader): boolean {
  return (
    sameMessage(a, b) &&
    (a.author ?? "") === (b.author ?? "") &&
    (a.date ?? "") === (b.date ?? "") &&
    (a.committer ?? "") === (b.committer ?? "")
  );
}

export function rewriteHeader(original: string, next: PatchHeader): string {
  const crlf = original.includes("\r\n");
  const lines = original.replace(/\r\n/g, "\n").split("\n");
  if (lines.at(-1) === "") lines.pop();
  const before = isMboxSeparator(lines[0]) ? [lines.shift()!] : [];
  const { fields, end: i } = headerFields(lines);
  const old = parseHeader(original);
  // Nothing changes: the header stays byte for byte (a no-op header -m had rewritten a plain description as Subject: and dropped its notes: t78 N3, N4).
  if (sameHeader(old, next)) return original;
  if (lines[0] === "# HG changeset patch") return rewriteHgHeader(before, lines, old, next, crlf);
  if (!fields.length) {
    // A plain description (quilt's): written anew, with the notes after its "---" kept (t78 N3).
    const dashes = lines.findIndex((l) => endsDescription(l));
    const notes = dashes === -1 ? [] : lines.slice(dashes);
    const kept = notes.slice(1).some((l) => l.trim()) ? `${notes.join("\n")}\n` : "";
    return formatHeader(next) + kept;
  }
  const rest = lines.slice(i);
  // What follows the description: a "---" line and the notes after it (a diffstat was dropped before).
  const dashes = rest.findIndex((l) => endsDescription(l));
  const bodyLines = dashes === -1 ? rest : rest.slice(0, dashes);
  const notes = dashes === -1 ? [] : rest.slice(dashes);
  const dep3 = isDep3(fields);
  // DEP-3's own separator, a lone "---" between the fields and the diff, stays too (ci-7 #6).
  const keptNotes = notes.slice(1).some((l) => l.trim()) || (dep3 && notes.length) ? notes : [];
  const messageChanged = !sameMessage(old, next);
  const l1 = (utf8: string) => toLatin1(utf8);
  const out: string[] = [...before];
  let authorDone = false;
  let dateDone = false;
  for (const f of fields) {
    if (f.key === "description" && dep3 && messageChanged) {
      out.push(l1(`Description: ${next.subject ?? ""}`));
      const body = next.body.trim() ? trimBody(next.body).split("\n") : [];
      // A line of "." alone has no way into the field: it reads back as a blank line (Debian's " .").
      const dot = body.findIndex((line) => line.trim() === ".");
      if (dot !== -1)
        throw new PqError(
          "usage",
          // Named by its text, not a line number: the message as typed may or may not have had a blank line after the subject (t125 N7).
          `the message's body has a line of "." alone (after "${([...body.slice(0, dot)].reverse().find((line) => line.trim()) ?? next.subject ?? "").trim()}"), which a DEP-3 Description: cannot hold (it reads back as a blank line)`,
          ["write something beside the dot, or leave the line blank"],
        );
      for (const line of body) out.push(l1(line.trim() ? ` ${line}` : " ."));
    } else if (f.key === "subject" && messageChanged) out.push(`Subject: ${l1(next.subject ?? "")}`);
    else if ((f.key === "from" || (f.key === "author" && dep3)) && !authorDone) {
      authorDone = true;
      if (next.author === undefined) continue;
      const keep =
        f.key === "from" ? old.author === next.author : decodeAuthor(toUtf8(f.lines.join(" ").replace(/^Author:\s?/i, ""))) === next.author;
      out.push(...(keep ? f.lines : [f.key === "from" ? `From: ${l1(authorField(next.author, false))}` : l1(`Author: ${next.author}`)]));
    } else if (f.key === "date" && !dateDone) {
      dateDone = true;
      if (next.date === undefined) continue;
      out.push(...(next.date === old.date ? f.lines : [`Date: ${next.date}`]));
    } else if (f.key === "x-committer") {
      if (next.committer !== undefined) out.push(...(next.committer === old.committer ? f.lines : [l1(`X-Committer: ${next.committer}`)]));
    } else out.push(...f.lines);
  }
  if (!authorDone && next.author !== undefined)
    out.splice(before.length, 0, dep3 ? l1(`Author: ${next.author}`) : `From: ${l1(authorField(next.author, false))}`);
  if (!dateDone && next.date !== undefined && !dep3) out.push(`Date: ${next.date}`);
  // A subject read from the first line of the description stays there unless the message changes.
  if (!dep3 && messageChanged && !fields.some((f) => f.key === "subject")) out.push(`Subject: ${l1(next.subject ?? "")}`);
  // The description: a mail header's is the text after the fields; a DEP-3 one's is in Description:.
  if (!messageChanged) out.push(...bodyLines);
  else if (!dep3) out.push("", ...(next.body.trim() ? l1(trimBody(next.body)).split("\n") : []));
  while (out.length && out.at(-1) === "") out.pop();
  if (keptNotes.length) {
    // The blank lines the header had before its "---" stay: a DEP-3 header's one between its fields and the separator went at every header -m or -u (t98 N2).
    let gap = bodyLines.length;
    while (gap > 0 && bodyLines[gap - 1] === "") gap--;
    out.push(...bodyLines.slice(gap).map(() => ""), ...keptNotes);
  } else while (out.length && out.at(-1) === "") out.pop();
  const text = out.join("\n") + "\n";
  return crlf ? text.replace(/\n/g, "\r\n") : text;
}

/**
 * An hg changeset header (`# HG changeset patch`, `# User`, `# Date`, `# Parent`...) with the
 * fields that changed written in its own form, and every other line kept: a patch from hg mq
 * stays one hg reads (hg's # User is raw UTF-8). A date changed to one hg's form cannot hold
 * (not RFC 2822) keeps hg's line.
 */
function rewriteHgHeader(before: string[], lines: string[], old: PatchHeader, next: PatchHeader, crlf: boolean): string {
  let end = 1;
  while (end < lines.length && lines[end].startsWith("# ")) end++;
  const hg = lines.slice(0, end);
  const l1 = (utf8: string) => toLatin1(utf8);
  if (next.author && next.author !== old.author) {
    const at = hg.findIndex((l) => l.startsWith("# User "));
    if (at === -1) hg.splice(1, 0, l1(`# User ${next.author}`));
    else hg[at] = l1(`# User ${next.author}`);
  }
  const when = next.date && next.date !== old.date ? Date.parse(next.date) : NaN;
  const zone = /([+-])(\d\d)(\d\d)\s*$/.exec(next.date ?? "");
  if (!Number.isNaN(when)) {
    // hg's offset is seconds west of UTC.
    const west = zone ? -(zone[1] === "-" ? -1 : 1) * (Number(zone[2]) * 3600 + Number(zone[3]) * 60) : 0;
    const line = `# Date ${Math.floor(when / 1000)} ${west}`;
    const at = hg.findIndex((l) => l.startsWith("# Date "));
    if (at === -1) hg.splice(1, 0, line);
    else hg[at] = line;
  }
  const messageChanged = !sameMessage(old, next);
  const message = messageChanged
    ? l1([next.subject ?? "", ...(next.body.trim() ? ["", trimBody(next.body)] : [])].join("\n")).split("\n")
    : lines.slice(end);
  while (message.length && message.at(-1) === "") message.pop();
  const text = [...before, ...hg, ...message].join("\n") + "\n";
  return crlf ? text.replace(/\n/g, "\r\n") : text;
}

/**
 * A trailer line (Signed-off-by:) added to a DEP-3 header: after its fields and description,
 * before its "---" notes, where DEP-3 puts such fields; null for any other header (the
 * trailer then goes at the end of the message).
 */
export function addDep3Trailer(header: string, trailer: string): string | null {
  const crlf = header.includes("\r\n");
  const lines = header.replace(/\r\n/g, "\n").split("\n");
  if (lines.at(-1) === "") lines.pop();
  const { fields, end } = headerFields(lines);
  if (!isDep3(fields)) return null;
  const dashes = lines.findIndex((l, i) => i >= end && endsDescription(l));
  let at = dashes === -1 ? lines.length : dashes;
  while (at > end && lines[at - 1] === "") at--;
  lines.splice(at, 0, toLatin1(trailer));
  const text = lines.join("\n") + "\n";
  return crlf ? text.replace(/\n/g, "\r\n") : text;
}

/** A git format-patch style mail (the form `git am` reads). */
/**
 * The notes of a header after its "---" line (a v2 changelog, links, git's Notes:), as bytes
 * (latin1, as the patch file holds them); "" when there are none. A diffstat is dropped before (dropDiffstat).
 */
export function notesOf(header: string): string {
  const lines = header.replace(/\r\n/g, "\n").split("\n");
  const { end } = headerFields(lines);
  const dashes = lines.findIndex((l, i) => i >= end && endsDescription(l));
  if (dashes === -1) return "";
  // A "--- words" line that ended the description keeps its words in the notes, and the lone
  // "---" a diffstat stood under (dropped before) is no note (t76 N4: finish committed the line
  // without its words and the second "---", and uncommit refused the commit).
  const words = lines[dashes].replace(/^---[ \t]*/, "");
  const rest = lines.slice(dashes + 1);
  while (rest.length && !rest.at(-1)!.trim()) rest.pop();
  if (rest.length && /^---[ \t]*$/.test(rest.at(-1)!)) rest.pop();
  return [...(words.trim() ? [words] : []), ...rest].join("\n").replace(/^\n+|\s+$/g, "");
}

/** `notes`: what goes between the mail's "---" and its diff (see notesOf), as bytes. */
export function formatMail(h: PatchHeader, diff: string, opts: { index?: number; total?: number; notes?: string } = {}): string {
  const tag = opts.total && opts.total > 1 ? `[PATCH ${opts.index}/${opts.total}]` : "[PATCH]";
  let text = `From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n`;
  const id = authorIdentity(h.author ?? "Unknown <unknown@unknown>");
  text += `From: ${authorField(`${id.name} <${id.email}>`, true)}\n`;
  text += `Date: ${h.date ?? localMailDate()}\n`;
  text += `Subject: ${tag} ${encodeWord(h.subject ?? "")}\n`;
  if (/[^\x00-\x7f]/.test(h.body + (h.author ?? "") + (h.subject ?? "")))
    text += "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n";
  text += "\n";
  if (h.body.trim()) text += trimBody(h.body) + "\n";
  text += "---\n";
  // A message line that reads as an mbox separator would cut the mail in two (git am: "Patch is empty").
  return (
    escapeFromLines(toLatin1(text) + (opts.notes ? `${opts.notes}\n\n` : "\n")) + diff + (diff.endsWith("\n") ? "" : "\n") + "-- \npq\n\n"
  );
}
