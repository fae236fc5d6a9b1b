/**
 * pq's interactive view: the series (windowed) beside a preview of the patch under the
 * cursor, a build/boot/ci pane on demand, a status line and the most used keys. Every
 * action is one key (`?` lists them) and calls the same library operations as the CLI.
 */
import React, { useCallback, useEffect, useMemo, useReducer, useRef, useState } from "react";
import { Box, Text, useApp, type Key } from "ink";
import type { Stack } from "../queue/stack.js";
import { validatePatchName } from "../queue/names.js";
import { stackActions, type Suspend } from "./actions.js";
import { errorLines, errorView, type ErrorView } from "./error-view.js";
import { wrapCells } from "./cells.js";
import { HelpOverlay, helpLayout, type OverlayText } from "./help-overlay.js";
import { storedVerdicts, syncStatus, type Badges } from "./integrations.js";
import type { SharedStatus } from "../collab/status.js";
import { LogPane } from "./log-pane.js";
import { PreviewPane } from "./preview-pane.js";
import { Prompt, promptKey, typeInto, type PromptState } from "./prompt.js";
import { SeriesPane, windowStart } from "./series-pane.js";
import { HeaderBar, STATUS_LINES, StatusBar } from "./status-bar.js";
import { makeTheme } from "./theme.js";
import { useHeaders } from "./use-headers.js";
import { stateChain, useJobs } from "./use-jobs.js";
import { usePreview } from "./use-preview.js";
import { useStack, type StackView } from "./use-stack.js";
import { parseMouse, useTerminalInput, useTerminalSize } from "./use-terminal.js";
import { findMatch } from "./search.js";
import { PASTE_END, PASTE_START, pastedLine, splitChunk } from "./key-chunk.js";
import { refuseDirectoryName } from "../queue/ops/context.js";

export interface AppProps {
  stack: Stack;
  /** Runs `fn` with the terminal handed over (for $EDITOR); run.tsx leaves ink's screen meanwhile. */
  suspend?: Suspend;
  env?: NodeJS.ProcessEnv;
  /** Shown in the status line at start (an interrupted operation the opening completed). */
  startMessage?: string | null;
}

/** One-pane layout below this width. */
export const WIDE = 100;
/** The smallest terminal the layout fits in (header, five rows, the status lines, the keys). */
export const MIN_ROWS = 11;
export const MIN_COLUMNS = 30;

/** This long with nothing more of an open paste, the status line says it is open, and Ctrl-C ends it (see handleKey). */
const PASTE_PAUSE_MS = 1000;

export function App({ stack, suspend = (fn) => fn(), env = process.env, startMessage = null }: AppProps) {
  const { exit } = useApp();
  const theme = useMemo(() => makeTheme(env), [env]);
  const size = useTerminalSize();
  const { view, run, reload, say, keyPressed, quit, running, inTurn } = useStack(stack, startMessage);
  const [badges, setBadges] = useState<Badges>(new Map());
  const jobs = useJobs(stack, setBadges);
  const actions = useMemo(() => stackActions(stack, run), [stack, run]);
  const [sync, setSync] = useState<SharedStatus | null>(null);
  // In a ref too, so a key after Tab in the same input chunk already sees the new focus.
  const focusRef = useRef<"series" | "preview">("series");
  const focus = focusRef.current;
  const setFocus = (f: "series" | "preview") => {
    focusRef.current = f;
    redraw();
  };
  /** The overlay in the panes' place: the keys (?), or the last error in full (!). */
  const [help, setHelp] = useState<false | "keys" | "error">(false);
  const [helpOffset, setHelpOffset] = useState(0);
  const promptRef = useRef<PromptState | null>(null);
  const prompt = promptRef.current;
  const [search, setSearch] = useState<string | null>(null);
  const [showLog, setShowLog] = useState(false);
  const [, redraw] = useReducer((x: number) => x + 1, 0);
  // ^l, and the return from $EDITOR: the screen may hold what another program wrote, and ink
  // writes only what changed since its last frame. An empty frame for a moment makes the next
  // one a full repaint (tui-8 T5: after the editor, a refused frame stayed blank).
  const [blank, setBlank] = useState(false);
  useEffect(() => {
    if (!blank) return;
    // Longer than a frame at ink's 60 fps, so the empty one is written, not merged away.
    const timer = setTimeout(() => setBlank(false), 40);
    return () => clearTimeout(timer);
  }, [blank]);
  const suspendAndRepaint: Suspend = (fn) => {
    try {
      return suspend(fn);
    } finally {
      setBlank(true);
    }
  };

  // Layout: one line spare so ink never takes the clear-the-whole-screen path.
  const rows = Math.max(10, size.rows - 1);
  // Below this the frame would be taller than the terminal and its top (the header, the cursor row) scroll away.
  const tooSmall = size.rows < MIN_ROWS || size.columns < MIN_COLUMNS;
  const wide = size.columns >= WIDE;
  const paneHeight = rows - 1 - (STATUS_LINES + 1);
  // Help and the whole last message take the status lines' rows too: at 30x11 the panes' height
  // left the help one line a page (tui-22 F6).
  const overlayHeight = rows - 1;
  const seriesWidth = wide ? Math.floor(size.columns * 0.5) : size.columns;
  const previewWidth = wide ? size.columns - seriesWidth - 1 : size.columns;
  const logHeight = jobs.job && showLog ? Math.max(5, Math.floor(paneHeight * (wide ? 0.5 : 0.4))) : 0;
  const seriesHeight = wide ? paneHeight : paneHeight - logHeight;
  const previewHeight = paneHeight - logHeight;
  const page = Math.max(1, (focus === "series" || !wide ? seriesHeight : previewHeight) - 2);

  // Navigation lives in a ref: several keys in one input chunk each see the previous one's effect.
  const topIndex = view.topIndex;
  const nav = useRef<{
    cursor: number;
    offset: number;
    preview: number;
    follow: { name: string | null; after: number } | null;
    /** The rows last drawn and the patch the cursor was on in them. */
    drawn: { rows: StackView["rows"]; name: string | null } | null;
  } | null>(null);
  if (!nav.current) {
    const cursor = Math.max(0, topIndex);
    nav.current = { cursor, offset: Math.max(0, cursor - Math.floor(seriesHeight / 2)), preview: 0, follow: null, drawn: null };
  }
  const n = nav.current;
  // Only rows read after the operation say where the followed patch went.
  if (n.follow && view.generation > n.follow.after) {
    const i = view.rows.findIndex((r) => r.name === n.follow!.name);
    if (i !== -1) n.cursor = i;
    n.follow = null;
  } else if (n.drawn && n.drawn.rows !== view.rows && n.drawn.name !== null && view.rows[n.cursor]?.name !== n.drawn.name) {
    // New rows (another terminal added, finished or reordered patches): the cursor stays on its
    // patch, not on its row number, so Enter, D or F act on the patch it was on (tui-8 T22).
    const i = view.rows.findIndex((r) => r.name === n.drawn!.name);
    if (i !== -1) n.cursor = i;
  }
  n.cursor = Math.max(0, Math.min(n.cursor, view.rows.length - 1));
  n.drawn = { rows: view.rows, name: view.rows[n.cursor]?.name ?? null };
  n.offset = windowStart(n.cursor, n.offset, Math.max(1, seriesHeight - 1), view.rows.length);
  const current = view.rows[n.cursor] ?? null;

  const visibleNames = view.rows.slice(n.offset, n.offset + seriesHeight).map((r) => r.name);
  const { headers, version: headersVersion } = useHeaders(stack, visibleNames, view.generation);
  const preview = usePreview(stack, current?.name ?? null, {
    applied: current?.state === "applied",
    isTop: !!current && current.name === view.top,
    pending: view.status?.pending.length ?? 0,
    width: previewWidth,
    generation: view.generation,
    enabled: wide || focus === "preview",
  });

  useEffect(() => {
    void syncStatus(stack).then(setSync);
    // The stored verdicts say which states they still describe (Stack.ciVerdicts checks each
    // patch below); a build + boot badge of this session holds while its state does (stateChain).
    // While a job runs, its cells arriving are kept too.
    const stored = storedVerdicts(stack);
    setBadges((b) => {
      if (jobs.running.current) return new Map([...stored, ...b]);
      const live = [...b].filter(([name]) => jobs.bootChains.current.get(name) === stateChain(stack, name));
      return new Map([...stored, ...live]);
    });
  }, [stack, view.generation]);

  const setCursor = useCallback(
    (to: number, resetPreview = true) => {
      const c = Math.max(0, Math.min(to, Math.max(0, view.rows.length - 1)));
      if (c !== nav.current!.cursor && resetPreview) nav.current!.preview = 0;
      nav.current!.cursor = c;
      // The patch the cursor is on now, in the rows the keys moved it over: new rows arriving
      // before the next frame keep it there (t86 N1: keys of one burst were taken back to the
      // patch of the last frame drawn, and Enter's goto was followed by a cursor elsewhere).
      const drawn = nav.current!.drawn;
      if (drawn) nav.current!.drawn = { rows: drawn.rows, name: drawn.rows[c]?.name ?? null };
      redraw();
    },
    [view.rows.length],
  );
  const scrollPreview = (delta: number) => {
    nav.current!.preview = Math.max(0, Math.min(nav.current!.preview + delta, Math.max(0, preview.lines.length - (previewHeight - 1))));
    redraw();
  };
  const move = (delta: number) => (focusRef.current === "preview" ? scrollPreview(delta) : setCursor(nav.current!.cursor + delta));

  const ask = (label: string, onSubmit: (v: string) => void, initial = "", oneKey = false) => {
    promptRef.current = { spec: { label, onSubmit, ...(oneKey ? { oneKey } : {}) }, value: initial };
    redraw();
  };
  /**
   * `c`: a name, then a message. A name pq would refuse (one in the series already, a space,
   * '..', a control character) is refused at the name prompt (tui-8 T16), which opens again
   * with it, so that what is typed next goes into the prompt, not to the keys (verify-11 Z2).
   */
  const askNewPatch = (initial: string) =>
    ask(
      "new patch name:",
      (patch) => {
        if (!patch) return;
        let refusal: ErrorView | null = null;
        if (view.rows.some((r) => r.name === patch))
          refusal = { code: "exists", message: `${patch} is already in the series`, details: ["pick another name"] };
        else {
          try {
            validatePatchName(patch);
            // A directory of patches of that name: refused now, not after the message is typed (t57 N4).
            refuseDirectoryName(stack.queueDir, patch);
          } catch (e) {
            refusal = errorView(e);
          }
        }
        if (refusal) {
          say(null, refusal);
          return askNewPatch(patch);
        }
        ask(`message for ${patch}:`, (message) => void actions.newPatch(patch, message, follow(patch)));
      },
      initial,
    );
  const promptInput = (p: PromptState, input: string, key: Key) => {
    const outcome = promptKey(p, input, key);
    if (outcome) promptRef.current = null;
    if (outcome === "submit") p.spec.onSubmit(p.value);
    redraw();
  };

  const doSearch = (term: string, dir: 1 | -1) => {
    if (!term) return;
    const from = nav.current!.cursor;
    void findMatch(stack, view.rows, headers, term, from, dir).then((i) => {
      if (i === null) say(`no patch matches /${term}`);
      else {
        setCursor(i);
        say(`/${term}: ${view.rows[i].name}`);
      }
    });
  };

  const startJob = (which: "buildAndBoot" | "ci") => {
    setShowLog(true);
    // In turn with push and pop: the job builds the state the keys before it left.
    inTurn(() => jobs[which]()).then(
      (msg) => (msg === null ? say("busy: a build, boot or ci run is still going") : say(msg)),
      (e) => say(null, errorView(e)),
    );
  };

  /** After the operation, before its new rows render: keep the cursor on this patch. */
  const generation = useRef(view.generation);
  generation.current = view.generation;
  const follow = (name: string | null) => () => {
    nav.current!.follow = { name, after: generation.current };
  };

  /** A cursor on the top patch stays on the top as pushes and pops move it. */
  const followTop = () => {
    const onTop = !!view.top && view.rows[nav.current!.cursor]?.name === view.top;
    return () => {
      if (onTop && stack.top()) nav.current!.follow = { name: stack.top(), after: generation.current };
    };
  };

  /** The last error (else the last message), whole, for the overlay `!` opens (the status lines show what fits). */
  const overlayText: OverlayText | undefined =
    help === "error" && view.error
      ? { title: "the last error", lines: errorLines(view.error, size.columns - 2).map((text) => ({ text })) }
      : help === "error" && view.message
        ? { title: "the last message", lines: wrapCells(`✓ ${view.message}`, size.columns - 2, "  ").map((text) => ({ text })) }
        : undefined;

  /** Text between the terminal's bracketed-paste marks, while a paste is arriving (null otherwise). */
  const pasteRef = useRef<string | null>(null);
  /**
   * Set from a paste's end mark to the end of the read that brought it: pasted text that held an
   * end mark of its own (tmux's paste-buffer -p passes it on) went on after it, in the same read,
   * and ran as keys (tui-8 T21). What a person types comes in a later read.
   */
  const pasteTailRef = useRef(false);

  /** When the paste under way last brought text (see PASTE_PAUSE_MS). */
  const pasteAtRef = useRef(0);
  const pasteTimer = useRef<NodeJS.Timeout | null>(null);
  /** Until when input is taken as the rest of a paste Ctrl-C ended (0: not since one). */
  const afterPasteRef = useRef(0);
  /** The first key read after such a pause, held for the rest of its read (see handleKey). */
  const afterPasteKey = useRef<{ input: string; key: Key; burst: boolean } | null>(null);
  /** A paste brought text: after a pause with nothing more, the status line says one is open and how to end it. */
  const notePasteOpen = () => {
    pasteAtRef.current = Date.now();
    if (pasteTimer.current) clearTimeout(pasteTimer.current);
    pasteTimer.current = setTimeout(() => {
      pasteTimer.current = null;
      if (pasteRef.current !== null)
        say(`a paste is open (${pasteRef.current.length} characters, no end mark yet): its text is not run as keys; Ctrl-C ends it`);
    }, PASTE_PAUSE_MS);
    pasteTimer.current.unref?.();
  };

  /** Pasted text: typed into an open prompt, else said and dropped. */
  const takePaste = (text: string, unended = false) => {
    if (promptRef.current) {
      typeInto(promptRef.current, pastedLine(text));
      redraw();
    } else say(`a paste of ${text.length} characters${unended ? " with no end mark (ended by Ctrl-C)" : ""} was not taken as keys`);
  };

  const handleKey = (input: string, key: Key): void => {
    // A paste (run.tsx turns bracketed paste on) is text, whatever it holds: typed into an open
    // prompt (its line breaks as spaces, nothing submitted), never run as keys. Only the
    // terminal's marks say what is a paste: keys typed ahead or sent in one burst ("cnewp",
    // Enter, "msg", Enter) are keys, Enters included.
    if (input === PASTE_START) {
      pasteRef.current = "";
      afterPasteRef.current = 0;
      notePasteOpen();
      return;
    }
    // After Ctrl-C ended an open paste, the rest of that paste may still come (t58 N1: it ran as
    // keys), at any time (t59 N1: after a second stall): dropped until its end mark comes; a key
    // within a second of the last dropped input is dropped; after that a key alone in its read is
    // a key, and one that came with others in the same read (ink hands a read over key by key,
    // in one tick) is more of the paste.
    if (afterPasteRef.current) {
      if (input === PASTE_END) {
        afterPasteRef.current = 0;
        return;
      }
      if (afterPasteKey.current) {
        afterPasteKey.current.burst = true;
        return;
      }
      const dropRest = () => {
        afterPasteRef.current = Date.now() + PASTE_PAUSE_MS;
        say("the rest of the paste Ctrl-C ended was not taken as keys (keys act again after a second of quiet)");
      };
      if (Date.now() < afterPasteRef.current) return dropRest();
      const alone = { input, key, burst: false };
      afterPasteKey.current = alone;
      setImmediate(() => {
        afterPasteKey.current = null;
        if (alone.burst) return dropRest();
        afterPasteRef.current = 0;
        handleKey(alone.input, alone.key);
      });
      return;
    }
    // A start mark no end mark followed (a terminal that did not bracket text holding one, an end
    // lost on the way) had swallowed every later key, q and Ctrl-C included (t54 N10). A paste's
    // data may also pause mid-way (a slow ssh link): ending it at the pause ran the rest as keys
    // (t57 N2). So a pause only says that a paste is open, and Ctrl-C after it ends the paste.
    if (pasteRef.current !== null && input !== PASTE_END && key.ctrl && input === "c" && Date.now() - pasteAtRef.current > PASTE_PAUSE_MS) {
      const text = pasteRef.current;
      pasteRef.current = null;
      afterPasteRef.current = Date.now() + PASTE_PAUSE_MS;
      takePaste(text, true);
      return;
    }
    // A paste's end mark with no paste begun (what a paste that held the mark left): no key.
    if (input === PASTE_END && pasteRef.current === null) return;
    // What follows a paste's end in the same read is the rest of a paste that held an end mark.
    if (pasteTailRef.current && pasteRef.current === null) pasteRef.current = "";
    if (pasteRef.current !== null) {
      if (input !== PASTE_END) {
        pasteRef.current += key.return ? "\n" : key.tab ? "\t" : input;
        notePasteOpen();
        return;
      }
      const text = pasteRef.current;
      pasteRef.current = null;
      if (!pasteTailRef.current) {
        pasteTailRef.current = true;
        setImmediate(() => {
          pasteTailRef.current = false;
          // A tail with no end mark of its own: still pasted text, taken (or not) as the paste was.
          const tail = pasteRef.current;
          pasteRef.current = null;
          if (tail) takePaste(tail);
        });
      }
      if (text) takePaste(text);
      return;
    }
    // Too small to show the cursor row: only quitting, nothing acts on a patch unseen.
    if (tooSmall) {
      if (input === "q" || (key.ctrl && input === "c")) void quit().then(() => exit());
      return;
    }
    if (help) {
      // A help that does not fit scrolls; any other key closes it.
      const { maxOffset } = helpLayout(size.columns, overlayHeight, overlayText);
      const down = key.downArrow || input === "j" || input === " " || key.pageDown;
      const up = key.upArrow || input === "k" || key.pageUp;
      if (maxOffset && (down || up))
        setHelpOffset((o) =>
          Math.min(maxOffset, Math.max(0, o + (down ? 1 : -1) * (key.pageDown || key.pageUp || input === " " ? 10 : 1))),
        );
      else {
        setHelp(false);
        setHelpOffset(0);
      }
      return;
    }
    const mouse = parseMouse(input);
    if (mouse) {
      if (!mouse.wheel) return;
      const delta = mouse.wheel === "down" ? 3 : -3;
      if (wide && mouse.x > seriesWidth) scrollPreview(delta);
      else if (!wide && focus === "preview") scrollPreview(delta);
      else setCursor(nav.current!.cursor + delta);
      return;
    }
    if (input.length > 1 && !key.ctrl && !key.meta) {
      // Keys that arrive in one chunk ("jjj", "[[", tmux send-keys "pp") come as one string.
      const keys = splitChunk(input);
      if (keys.length > 1) {
        for (const [k, flags] of keys) handleKey(k, flags);
        return;
      }
      [input, key] = keys[0] ?? [input, key];
    }
    // Ctrl-C quits from a prompt too.
    if (key.ctrl && input === "c") promptRef.current = null;
    if (promptRef.current) return promptInput(promptRef.current, input, key);
    // The row under the cursor now: an earlier key of the same chunk may have moved it.
    const row = view.rows[nav.current!.cursor] ?? null;
    const name = row?.name ?? null;
    if (input === "q" || (key.ctrl && input === "c")) {
      // The screen stays until a running operation ends; queued ones are dropped.
      if (running()) say("quitting when the running operation ends (operations queued after it are dropped)");
      void quit().then(() => exit());
    } else if (input === "?") setHelp("keys");
    else if (input === "!") {
      // A long message (where a recovery saved edits, a long patch name) is cut on its line: ! shows it whole too (tui-8 T10).
      if (view.error || view.message) setHelp("error");
      else say("no error or message to show");
    } else if (key.escape) {
      setShowLog(false);
      say(null);
    } else if (key.tab) setFocus(focusRef.current === "series" ? "preview" : "series");
    else if (key.upArrow || input === "k") move(-1);
    else if (key.downArrow || input === "j") move(1);
    else if (key.pageDown || (key.ctrl && input === "f")) move(page);
    else if (key.pageUp || (key.ctrl && input === "b")) move(-page);
    else if (input === "J") scrollPreview(1);
    else if (input === "K") scrollPreview(-1);
    else if (key.ctrl && input === "d") scrollPreview(Math.floor(previewHeight / 2));
    else if (key.ctrl && input === "u") scrollPreview(-Math.floor(previewHeight / 2));
    else if (key.home || input === "g") setCursor(0);
    else if (key.end || input === "G") setCursor(view.rows.length - 1);
    else if (input === "t") setCursor(Math.max(0, topIndex));
    else if (input === "/")
      ask("search /", (term) => {
        setSearch(term || null);
        doSearch(term, 1);
      });
    else if (input === "n" && search) doSearch(search, 1);
    else if (input === "N" && search) doSearch(search, -1);
    else if (key.ctrl && input === "l") {
      setBlank(true);
      void reload("reloaded");
    } else if (input === "l") setShowLog((s) => !s);
    else if (input === "p") void actions.push(followTop());
    else if (input === "o") void actions.pop(followTop());
    else if (input === "P") void actions.pushAll(followTop());
    else if (input === "O") void actions.popAll(followTop());
    else if (key.return && name) void actions.goto(name);
    else if (input === "r") void actions.refresh();
    else if (input === "u") void actions.undo();
    else if (input === "U") void actions.redo();
    else if (input === "c") askNewPatch("");
    else if (input === "e" && name) void actions.editMessage(name, suspendAndRepaint);
    else if (input === "R" && name) ask(`rename ${name} to:`, (to) => to && to !== name && void actions.rename(name, to, follow(to)), name);
    else if (input === "D" && name && row?.state === "applied")
      say(null, { code: "refused", message: `${name} is applied`, details: ["pop it first (o pops the top), then delete it"] });
    else if (input === "D" && name)
      ask(
        `delete ${name}? (y deletes, any other key keeps it)`,
        // Kept is said too, in place of whatever the status line said before (tui-22 F6).
        (v) => (/^y$/i.test(v) ? void actions.remove(name) : say(`kept ${name}: nothing was deleted`)),
        "",
        true,
      );
    else if (input === "F" && name) void actions.fold(name, follow(view.top));
    else if (input === "[" && name && nav.current!.cursor > 0) void actions.move(name, -1, follow(name));
    else if (input === "]" && name && nav.current!.cursor < view.rows.length - 1) void actions.move(name, 1, follow(name));
    else if (input === "s" && name)
      ask(`guards for ${name} (+a -b, empty clears):`, (g) => void actions.setGuards(name, g), row!.guards.join(" "));
    else if (input === "S") ask("select guards (empty selects none):", (g) => void actions.select(g), view.selected.join(" "));
    else if (input === "b") startJob("buildAndBoot");
    else if (input === "C") startJob("ci");
  };
  // The handler of the latest render, through a ref: keys must never act on a stale cursor.
  const handler = useRef(handleKey);
  handler.current = handleKey;
  const onInput = useCallback(
    (input: string, key: Key) => {
      keyPressed();
      handler.current(input, key);
    },
    [keyPressed],
  );
  useTerminalInput(onInput);

  const log =
    jobs.job && showLog ? <LogPane job={jobs.job} width={wide ? previewWidth : size.columns} height={logHeight} theme={theme} /> : null;
  const series = (
    <SeriesPane
      rows={view.rows}
      cursor={n.cursor}
      offset={n.offset}
      height={seriesHeight}
      width={seriesWidth}
      top={view.top}
      selected={view.selected}
      // An applied patch the series no longer lists has no row (t59 N3: "series 4/3"); the title line counts it apart.
      applied={view.appliedCount - (view.unlisted?.length ?? 0)}
      headers={headers}
      headersVersion={headersVersion}
      badges={badges}
      focused={focus === "series"}
      search={search}
      theme={theme}
    />
  );
  const previewPane = (
    <PreviewPane
      preview={preview}
      offset={n.preview}
      height={previewHeight}
      width={previewWidth}
      focused={focus === "preview"}
      theme={theme}
    />
  );

  if (blank) return null;
  if (tooSmall) {
    return (
      <Text wrap="wrap">
        pq tui needs at least {MIN_COLUMNS}x{MIN_ROWS}; this terminal is {size.columns}x{size.rows}. Make it bigger, or q to quit.
      </Text>
    );
  }
  return (
    <Box flexDirection="column" width={size.columns} height={rows}>
      <HeaderBar view={view} queue={stack.queueDir} sync={sync} width={size.columns} theme={theme} />
      {help ? (
        <HelpOverlay width={size.columns} height={overlayHeight} theme={theme} offset={helpOffset} text={overlayText} />
      ) : wide ? (
        <Box flexDirection="row" height={paneHeight}>
          {series}
          <Box width={1} />
          <Box flexDirection="column" width={previewWidth}>
            {previewPane}
            {log}
          </Box>
        </Box>
      ) : (
        <Box flexDirection="column" height={paneHeight}>
          {focus === "series" ? series : previewPane}
          {log}
        </Box>
      )}
      {help ? null : (
        <StatusBar
          view={view}
          sync={sync}
          width={size.columns}
          theme={theme}
          prompt={prompt ? <Prompt state={prompt} theme={theme} width={size.columns} /> : null}
        />
      )}
    </Box>
  );
}
