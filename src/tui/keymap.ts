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
  { keys: "↑↓ j k", what: "move the cursor (the preview when it has focus)", group: "move" },
  { keys: "PgUp PgDn ^b ^f", what: "a page up / down", group: "move" },
  { keys: "g G Home End", what: "first / last patch", group: "move" },
  { keys: "t", what: "cursor to the top applied patch", group: "move" },
  { keys: "/ n N", what: "search name or subject; next / previous match", group: "move", footer: "/ search" },
  { keys: "Tab", what: "focus the series or the preview (one pane when narrow)", group: "view" },
  { keys: "J K ^d ^u", what: "scroll the preview by a line / half a page", group: "view" },
  { keys: "wheel", what: "the mouse wheel scrolls the pane under the pointer", group: "view" },
  { keys: "p o", what: "push / pop one patch", group: "stack", footer: "p/o push/pop" },
  { keys: "P O", what: "push / pop all", group: "stack", footer: "P/O all" },
  { keys: "Enter", what: "goto the patch under the cursor (push or pop to it)", group: "stack", footer: "⏎ goto" },
  { keys: "r", what: "refresh the top patch with the tree's edits", group: "stack", footer: "r refresh" },
  { keys: "u U", what: "undo / redo the last operation", group: "stack" },
  { keys: "c", what: "new patch (asks for a name and a message)", group: "edit", footer: "c new" },
  { keys: "e", what: "edit the message of the patch under the cursor in $EDITOR", group: "edit" },
  { keys: "R", what: "rename the patch under the cursor", group: "edit" },
  { keys: "D", what: "delete the patch under the cursor (unapplied; asks first)", group: "edit" },
  { keys: "F", what: "fold the patch under the cursor into the top patch", group: "edit" },
  { keys: "[ ]", what: "move the patch under the cursor up / down in the series", group: "edit" },
  { keys: "s", what: "set the guards of the patch under the cursor (+a -b)", group: "edit" },
  { keys: "S", what: "select guards (which guarded patches push)", group: "edit" },
  { keys: "b", what: "build and boot the current state (serial log in a pane)", group: "run", footer: "b boot" },
  { keys: "C", what: "run ci over the series (cells fill in as they finish)", group: "run" },
  { keys: "l", what: "show / hide the build, boot and ci pane", group: "run" },
  { keys: "^l", what: "reload the series and status from disk", group: "view" },
  { keys: "?", what: "this help (any key closes it)", group: "view", footer: "? help" },
  { keys: "q", what: "quit", group: "view", footer: "q quit" },
];

export const FOOTER = KEYS.filter((k) => k.footer).map((k) => k.footer!);
