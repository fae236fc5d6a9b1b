/**
 * The body of a patch mail as git mailinfo reads it: a quoted-printable or base64 body is
 * decoded, and a multipart mail (`git format-patch --attach`, a mailer's attachment) becomes
 * its text part followed by the attached diff. Everything is bytes in latin1 strings, as in
 * the rest of pq: a decoded UTF-8 body stays UTF-8 bytes, and a message in another charset
 * becomes UTF-8 (the diff keeps its bytes).
 */

import { PqError } from "../errors.js";
import { isUtf8 } from "node:buffer";
import { decodeCharset } from "./charset.js";
import { mixedUtf8 } from "./header.js";

/** A line a diff starts with (git's, a plain diff -u's, quilt's Index:): whether a mail's text holds a diff, and where. */
export const DIFF_LINE = /^(diff --git |--- \S|Index: )/m;

interface Part {
  headers: Map<string, string>;
  body: string;
}

/** A mail (headers, blank line, body) as header fields (lower-cased names, unfolded) and body. */
function splitPart(text: string): Part {
  const m = /\r?\n\r?\n/.exec(text);
  const head = m ? text.slice(0, m.index) : text;
  const body = m ? text.slice(m.index + m[0].length) : "";
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function decodeQuotedPrintable(body: string): string {
  return body.replace(/=\r?\n/g, "").replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** A part's body with its Content-Transfer-Encoding undone (7bit, 8bit and binary are as they are). */
function decodedBody(part: Part): string {
  const encoding = (part.headers.get("content-transfer-encoding") ?? "").toLowerCase();
  if (encoding === "quoted-printable") return decodeQuotedPrintable(part.body);
  if (encoding === "base64") return Buffer.from(part.body.replace(/[^A-Za-z0-9+/=]/g, ""), "base64").toString("latin1");
  return part.body;
}

const UTF8_OR_ASCII = /^(utf-?8|us-ascii|ascii)$/;

function charsetOf(contentType: string): string | null {
  const m = /;\s*charset="?([^";\s]+)"?/i.exec(contentType);
  return m ? m[1].toLowerCase() : null;
}

/**
 * A message written in another charset than UTF-8 (charset=ISO-8859-1), as UTF-8 bytes, as git
 * mailinfo re-encodes it: pq reads messages as UTF-8. Only the message: the diff after it keeps
 * its bytes. A charset Node does not know leaves the body as it is.
 */
function messageAsUtf8(body: string, charset: string | null): string {
  const at = body.search(DIFF_LINE);
  const message = at === -1 ? body : body.slice(0, at);
  if (!/[\x80-\xff]/.test(message)) return body;
  // Declared UTF-8 (or ASCII) stays as it is; with no charset at all, text that is not UTF-8 is
  // read as ISO-8859-1, as git mailinfo reads an unlabelled 8-bit message (verify-16 F3).
  if (charset && UTF8_OR_ASCII.test(charset)) return body;
  const bytes = Buffer.from(message, "latin1");
  if (!charset && isUtf8(bytes)) return body;
  // Unlabelled: each UTF-8 character kept, each other byte read as ISO-8859-1, as git am does (t74 N1).
  const text = charset ? decodeCharset(bytes, charset) : mixedUtf8(message);
  if (text === null) return body;
  return Buffer.from(text, "utf8").toString("latin1") + (at === -1 ? "" : body.slice(at));
}

/**
 * Header lines with raw 8-bit bytes that are not UTF-8 (a latin1 mailer's `From: Ren\xe9`), as
 * UTF-8 bytes read in the message's charset, as git mailinfo converts them; MIME encoded-words
 * are plain ASCII and decoded later. Lines that are UTF-8 already stay as they are.
 */
function headersAsUtf8(head: string, charset: string | null): string {
  // Not a mail (no From: or Subject: field): a plain patch, whose "Index:" line is no header.
  if (!/[\x80-\xff]/.test(head) || !/^(from|subject):/im.test(head)) return head;
  // As the message: in its declared charset, else (none, or UTF-8 that is not) ISO-8859-1, as git mailinfo does.
  const declared = charset && !UTF8_OR_ASCII.test(charset) ? charset : "iso-8859-1";
  const lines = head.split("\n");
  // Only a mail's header fields (and their continuation lines), up to the first line that is
  // neither: a plain patch has no header, and its file names keep their bytes.
  let field = false;
  let ended = false;
  return lines
    .map((line, i) => {
      // An mbox's "From <id> <date>" line opens the header.
      if (i === 0 && line.startsWith("From ")) return line;
      field = !ended && (/^[\x21-\x39\x3b-\x7e]+:/.test(line) || (field && /^[ \t]/.test(line)));
      if (!field) {
        ended = true;
        return line;
      }
      const bytes = Buffer.from(line, "latin1");
      const text = !/[\x80-\xff]/.test(line) || isUtf8(bytes) ? null : charset ? decodeCharset(bytes, declared) : mixedUtf8(line);
      return text === null ? line : Buffer.from(text, "utf8").toString("latin1");
    })
    .join("\n");
}

function boundaryOf(contentType: string): string | null {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : null;
}

/**
 * How deep multiparts may nest: a mailer's attachment is two levels, git mailinfo stops at five.
 * A mail nested thousands deep ran the parser out of stack, an internal error (t127 N8).
 */
const MAX_MULTIPART_DEPTH = 16;

/** The parts of a multipart body (nested multiparts flattened), in order. */
function partsOf(body: string, boundary: string, depth = 1): Part[] {
  if (depth > MAX_MULTIPART_DEPTH)
    throw new PqError("bad-patch", `the mail's MIME parts nest more than ${MAX_MULTIPART_DEPTH} deep: pq reads no mail built so`, [
      "import the patch itself (save the diff to a file: pq import FILE)",
    ]);
  const parts: Part[] = [];
  const quoted = boundary.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const chunks = body.split(new RegExp(`^--${quoted}(?:--)?[ \\t]*\\r?$\\n?`, "m"));
  // chunks[0] is the preamble ("This is a multi-part message in MIME format."), the last the
  // epilogue; a mail without its closing boundary ends its last part instead, as git mailinfo reads it.
  const closed = new RegExp(`^--${quoted}--[ \\t]*\\r?$`, "m").test(body);
  for (const chunk of closed ? chunks.slice(1, -1) : chunks.slice(1)) {
    const part = splitPart(chunk);
    const inner = boundaryOf(part.headers.get("content-type") ?? "");
    if (inner && /^multipart\//i.test(part.headers.get("content-type") ?? "")) parts.push(...partsOf(part.body, inner, depth + 1));
    else parts.push(part);
  }
  return parts;
}

const HEADER_FIELDS_DROPPED = /^(content-type|content-transfer-encoding|mime-version|content-disposition):/i;

/** The mail's own header lines, without the MIME fields that described the body decoded here. */
function headerLines(mail: string): string {
  const m = /\r?\n\r?\n/.exec(mail);
  const head = m ? mail.slice(0, m.index) : mail;
  const kept: string[] = [];
  let dropping = false;
  for (const line of head.split(/\n/)) {
    if (/^[ \t]/.test(line)) {
      if (!dropping) kept.push(line);
      continue;
    }
    dropping = HEADER_FIELDS_DROPPED.test(line);
    if (!dropping) kept.push(line);
  }
  return kept.join("\n");
}

/**
 * The mail with its body decoded, ready for the patch parser; the mail itself when there is
 * nothing to decode (no MIME, or 7bit/8bit text).
 */
export function decodeMail(mail: string): string {
  const top = splitPart(mail);
  const contentType = top.headers.get("content-type") ?? "";
  const boundary = /^multipart\//i.test(contentType) ? boundaryOf(contentType) : null;
  if (boundary) {
    const parts = partsOf(top.body, boundary);
    const text = (p: Part) => /^text\/plain/i.test(p.headers.get("content-type") ?? "text/plain");
    const attached = (p: Part) =>
      /attachment|filename=/i.test(`${p.headers.get("content-disposition") ?? ""} ${p.headers.get("content-type") ?? ""}`);
    const isDiff = (p: Part) =>
      /^(text\/x-(patch|diff)|text\/x-diff|application\/x-patch)/i.test(p.headers.get("content-type") ?? "") ||
      DIFF_LINE.test(decodedBody(p));
    const message = parts.find((p) => text(p) && !attached(p) && !/^diff --git /m.test(decodedBody(p)));
    const diffs = parts.filter((p) => p !== message && isDiff(p));
    if (!message && !diffs.length) return mail;
    const partCharset = (p: Part) => charsetOf(p.headers.get("content-type") ?? "");
    // The charset the message is in: its own part's, else that of the text part that holds both message and diff.
    const messageCharset = message ? partCharset(message) : (diffs.filter(text).map(partCharset).find(Boolean) ?? null);
    const messageText = message ? messageAsUtf8(decodedBody(message), messageCharset) : "";
    // A text part holding the message and the diff: its message (before the diff) in UTF-8 too.
    const diffText = (p: Part) => (text(p) ? messageAsUtf8(decodedBody(p), partCharset(p)) : decodedBody(p));
    const body = [message ? messageText.replace(/\s+$/, "") + "\n" : "", ...diffs.map(diffText)].join("\n");
    return `${headersAsUtf8(headerLines(mail), messageCharset)}\n\n${body}`;
  }
  const encoding = (top.headers.get("content-transfer-encoding") ?? "").toLowerCase();
  const charset = charsetOf(contentType);
  if (encoding !== "quoted-printable" && encoding !== "base64") {
    // No charset and not a mail (a plain patch: no From: or Subject:): its bytes as they are.
    const isMail = top.headers.has("from") || top.headers.has("subject");
    const converted = charset || isMail ? messageAsUtf8(top.body, charset) : top.body;
    const head = headerLines(mail);
    const headUtf8 = headersAsUtf8(head, charset);
    return converted === top.body && headUtf8 === head ? mail : `${headUtf8}\n\n${converted}`;
  }
  return `${headersAsUtf8(headerLines(mail), charset)}\n\n${messageAsUtf8(decodedBody(top), charset)}`;
}

/**
 * A `[PATCH 0/N]` cover letter: the series' introduction, never a patch of it, whatever it
 * carries (git format-patch --interdiff puts a diff between two versions of the series in it).
 */
export function isCoverLetter(subject: string | undefined): boolean {
  // No '[' inside the tag either: a subject of 100,000 '[' was scanned to its end from each one (t127 N9: 20 s).
  return /\[[^\][]*\b0+\/\d+\]/.test(subject ?? "");
}
