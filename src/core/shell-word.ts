/** An argument as a POSIX shell reads it back: bare when safe, else in single quotes (for a command pq suggests). */
export function shellWord(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * A patch or file name as the last operand of a pq command pq suggests: quoted as a shell reads it, and after `--` when it
 * starts with a dash, which the option parser would otherwise take for options (`pq goto -dash` printed help: t119 N11).
 * Only for the command's last words: nothing but operands may follow it.
 */
export function operandWords(name: string): string {
  return `${name.startsWith("-") ? "-- " : ""}${shellWord(name)}`;
}

/** Names as a pq command's last operands (see operandWords): after `--` when one of them starts with a dash. */
export function operandList(names: readonly string[]): string {
  return `${names.some((n) => n.startsWith("-")) ? "-- " : ""}${names.map(shellWord).join(" ")}`;
}
