/**
 * What an undo says of the versions it saved aside (UndoReport.betweenBackup), in the CLI and
 * the TUI alike: edits a refresh had taken, or ones a pop --force had saved (t117 N8: it named
 * a refresh where the range had none).
 */
export function betweenBackupNote(dir: string): string {
  return `edits that operations it took back had taken or saved (a refresh, a pop --force), which this undo wrote over, were saved in ${dir}`;
}
