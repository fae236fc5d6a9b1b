/** An argument as a POSIX shell reads it back: bare when safe, else in single quotes (for a command pq suggests). */
export function shellWord(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
