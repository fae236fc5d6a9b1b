/**
 * The smoke protocol between a kernel and the host: lines on COM1 starting with "pq: "
 * carry key=value pairs (values may be double-quoted) and bare flags. The last one is the
 * verdict: "pq: smoke=pass|fail|skip [reason=...]" or "pq: panic msg=...".
 */
export type Verdict = "pass" | "fail" | "skip" | "panic" | "hang" | "crash";

export interface ProtocolLine {
  raw: string;
  fields: Record<string, string>;
  flags: string[];
}

export function parseProtocolLine(line: string): ProtocolLine | null {
  const at = line.indexOf("pq: ");
  if (at === -1) return null;
  const rest = line.slice(at + 4).trim();
  const fields: Record<string, string> = {};
  const flags: string[] = [];
  const re = /([A-Za-z0-9_.-]+)=("((?:[^"\\]|\\.)*)"|\S*)|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(rest))) {
    if (m[4] !== undefined) flags.push(m[4]);
    else fields[m[1]] = m[3] !== undefined ? m[3].replace(/\\(.)/g, "$1") : m[2];
  }
  return { raw: line, fields, flags };
}

export interface VerdictLine {
  verdict: Verdict;
  reason?: string;
}

/** The verdict a protocol line carries, if any. */
export function verdictOf(line: ProtocolLine): VerdictLine | null {
  if ("panic" in line.fields || line.flags[0] === "panic") return { verdict: "panic", reason: line.fields.msg ?? line.fields.panic };
  const smoke = line.fields.smoke;
  if (smoke === "pass" || smoke === "fail" || smoke === "skip") return { verdict: smoke, reason: line.fields.reason };
  // A verdict line pq cannot read is the kernel's mistake, said at once: waited for, it was a hang (t85 N4).
  if (smoke !== undefined) return { verdict: "fail", reason: `unknown smoke value "${smoke}" (pq reads pass, fail and skip)` };
  return null;
}
