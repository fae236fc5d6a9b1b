/**
 * mbox files as git format-patch and mail clients write them: mails separated by
 * "From " lines. A ">From " line stays as it is, as git am (mailsplit without --mboxrd) and
 * pq export --mbox, which quotes nothing, have it: export then import gives the message back.
 */
const SEPARATOR = /^From \S+ +(Mon|Tue|Wed|Thu|Fri|Sat|Sun) /;

export function splitMbox(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  const mails: string[][] = [];
  for (const line of lines) {
    if (SEPARATOR.test(line) || (!mails.length && line.trim())) mails.push([]);
    if (!mails.length) continue;
    mails[mails.length - 1].push(line);
  }
  return mails.map((m) => m.join("")).filter((m) => m.trim());
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
