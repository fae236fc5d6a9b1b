/**
 * Every key the TUI knows, in the order the help overlay lists them; `footer` marks
 * the ones the footer always shows.
 */
export interface KeyHelp {
  keys: string;
  what: string;
  group: "move" | "stack" | "edit" | "run" | "view";
  footer?: string;
}

export const KEYS: KeyHelp[] = [
  { keys: "↑↓ j k", what: "move (the preview when it has focus)", group: "move" },
  { keys: "PgUp PgDn ^b ^f", what: "a page up / down", group: "move" },
  { keys: "g G Home End", what: "first / last patch", group: "move" },
  { keys: "t", what: "cursor to the top patch", group: "move" },
  { keys: "/ n N", what: "search names and subjects; next / prev", group: "move", footer: "/ search" },
  { keys: "Tab", what: "focus series / preview", group: "view" },
  { keys: "J K ^d ^u", what: "scroll the preview", group: "view" },
  { keys: "wheel", what: "scrolls the pane under the pointer", group: "view" },
  { keys: "p o", what: "push / pop one patch", group: "stack", footer: "p/o push/pop" },
  { keys: "P O", what: "push / pop all", group: "stack", footer: "P/O all" },
  { keys: "Enter", what: "goto the patch under the cursor", group: "stack", footer: "⏎ goto" },
  { keys: "r", what: "refresh the top patch", group: "stack", footer: "r refresh" },
  { keys: "u U", what: "undo / redo", group: "stack" },
  { keys: "c", what: "new patch (name, message)", group: "edit", footer: "c new" },
  { keys: "e", what: "edit the message in $EDITOR", group: "edit" },
  { keys: "R", what: "rename", group: "edit" },
  { keys: "D", what: "delete (unapplied; asks first)", group: "edit" },
  { keys: "F", what: "fold the patch into the top", group: "edit" },
  { keys: "[ ]", what: "move up / down in the series", group: "edit" },
  { keys: "s", what: "set its guards (+a -b)", group: "edit" },
  { keys: "S", what: "select guards", group: "edit" },
  { keys: "b", what: "build and boot the current state", group: "run", footer: "b boot" },
  { keys: "C", what: "ci over the whole series", group: "run" },
  { keys: "l", what: "show / hide the boot / ci pane", group: "run" },
  { keys: "^l", what: "reload from disk", group: "view" },
  { keys: "!", what: "the last error (or message) in full", group: "view" },
  { keys: "?", what: "this help", group: "view", footer: "? help" },
  { keys: "q", what: "quit", group: "view", footer: "q quit" },
];

/** Keys the series pane acts on: "under the cursor" is implied for e R D F [ ] s. */
export const FOOTER = KEYS.filter((k) => k.footer).map((k) => k.footer!);
