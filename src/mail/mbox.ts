/**
 * mbox files as git format-patch and mail clients write them: mails separated by
 * "From " lines. A message line that would read as such a separator (a quoted mail's first
 * line) is written as ">From ..." by pq export (escapeFromLines) and read back without its
 * ">" here, so export then import gives the message back; git am keeps the ">". Other
 * ">From " lines stay as they are, as git am (mailsplit without --mboxrd) has them.
 */
/** An mbox's "From <sender> <weekday> ..." line: git format-patch's, b4's ("From git@z ...") and a mail client's. */
export const SEPARATOR = /^From \S+ +(Mon|Tue|Wed|Thu|Fri|Sat|Sun) /;
const ESCAPED_SEPARATOR = /^>(>*From \S+ +(Mon|Tue|Wed|Thu|Fri|Sat|Sun) )/;

export function splitMbox(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  const mails: string[][] = [];
  for (const line of lines) {
    if (SEPARATOR.test(line) || (!mails.length && line.trim())) mails.push([]);
    if (!mails.length) continue;
    mails[mails.length - 1].push(line.replace(ESCAPED_SEPARATOR, "$1"));
  }
  return mails.map((m) => m.join("")).filter((m) => m.trim());
}

/** A mail's lines after its first that would read as an mbox separator, quoted with ">" (see splitMbox). */
export function escapeFromLines(mail: string): string {
  const nl = mail.indexOf("\n");
  if (nl === -1) return mail;
  return mail.slice(0, nl + 1) + mail.slice(nl + 1).replace(/^(>*From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) )/gm, ">$1");
}

export function isMbox(text: string): boolean {
  return SEPARATOR.test(text);
}

/** A file name from a subject, as git format-patch makes them (without the number). */
export function patchNameFromSubject(subject: string, taken: Set<string>): string {
  const base =
    subject
      .replace(/[^A-Za-z0-9._-]+/g, "-")
      .replace(/\.+/g, ".")
      .replace(/^[-.]+|[-.]+$/g, "")
      .slice(0, 52)
      .replace(/[-.]+$/, "") || "patch";
  let name = `${base}.patch`;
  for (let n = 2; taken.has(name); n++) name = `${base}-${n}.patch`;
  taken.add(name);
  return name;
}
