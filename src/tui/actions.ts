/**
 * What each key does to the stack: the same library calls as the CLI commands, run one
 * at a time through useStack's `run` (progress, status line, reload after).
 */
import { childProcess } from "../core/child-process.js";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PqError } from "../errors.js";
import { withTextSaved } from "../core/refused-text.js";
import { parseHeader, trimBody } from "../mail/header.js";
import { headerOf, refuseDiffInMessage } from "../queue/patch-text.js";
import { operandWords, shellWord } from "../core/shell-word.js";
import type { PushReport, Stack } from "../queue/stack.js";
import { nothingToPush, skippedGuarded } from "../queue/queries.js";
import { describeUndo } from "./integrations.js";
import { undoWithSharedNote } from "../collab/undo-note.js";
import { commentCharFor, commentLine, withoutCommentLines } from "../core/comment-lines.js";
import { describePop, describePush, type Operation, type RunOptions } from "./use-stack.js";

export type Suspend = <T>(fn: () => T) => T;

/** The editor a message is edited in: $VISUAL, $EDITOR, else vi. */
export function editorCommand(env = process.env): string {
  return env.VISUAL || env.EDITOR || "vi";
}

/** Opens `text` in the editor (the TUI suspended meanwhile) and returns what was saved; an editor that fails is a refusal. */
export function editText(text: string, suspend: Suspend, env = process.env): string {
  const dir = mkdtempSync(join(tmpdir(), "pq-msg-"));
  const file = join(dir, "MESSAGE");
  try {
    const comment = commentCharFor(text);
    writeFileSync(
      file,
      `${text}\n${commentLine(comment, `Edit the message; the first line is the subject. Lines starting with ${comment} are dropped.`)}`,
      "utf8",
    );
    const r = suspend(() => childProcess().spawnSync(`${editorCommand(env)} "${file}"`, { shell: true, stdio: "inherit" }));
    if (r.error) throw new PqError("usage", `the editor did not start: ${r.error.message}`, ["set $EDITOR to an editor that exists"]);
    if (r.status !== 0) throw new PqError("usage", `the editor exited with ${r.status ?? r.signal}: the message is unchanged`);
    return withoutCommentLines(readFileSync(file, "utf8"), comment).trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function describeWithSkipped(stack: Stack, report: PushReport, all: boolean): string {
  return describePush(
    report,
    skippedGuarded(stack, report, all).map((s) => s.name),
  );
}

export function stackActions(
  stack: Stack,
  run: (label: string, op: Operation, onDone?: () => void, opts?: RunOptions) => Promise<boolean>,
) {
  return {
    push: (onDone?: () => void) =>
      run(
        "push",
        async (onEvent) => {
          const report = await stack.push({ onEvent });
          // Said as pq push says it: a patch skipped below the top, every one applied, guarded off (t54 N7's aside).
          if (!report.pushed.length) throw nothingToPush(stack);
          return describeWithSkipped(stack, report, false);
        },
        onDone,
      ),
    pushAll: (onDone?: () => void) =>
      run("push -a", async (onEvent) => describeWithSkipped(stack, await stack.push({ all: true, onEvent }), true), onDone),
    pop: (onDone?: () => void) => run("pop", async (onEvent) => describePop(await stack.pop({ onEvent })), onDone),
    popAll: (onDone?: () => void) => run("pop -a", async (onEvent) => describePop(await stack.pop({ all: true, onEvent })), onDone),
    goto: (name: string) =>
      run(`goto ${name}`, async (onEvent) => {
        const report = await stack.goto(name, { onEvent });
        // A goto up is a push: its offsets, fuzz and the guarded patches it passed over are said as p's are (tui-8 T7).
        if ("pushed" in report) return describeWithSkipped(stack, report, false);
        return stack.top() ? `now at: ${stack.top()}` : "patch queue now empty";
      }),
    refresh: () =>
      run("refresh", async () => {
        const r = await stack.refresh();
        const extra = r.untracked.length ? ` (untracked, not taken: ${r.untracked.join(", ")})` : "";
        if (r.unchanged) return `${r.name} is unchanged: nothing to refresh${extra}`;
        return `refreshed ${r.name}: ${r.files.length ? r.files.join(", ") : "no changes"}${extra}`;
      }),
    newPatch: (name: string, message: string, onDone?: () => void) =>
      run(
        `new ${name}`,
        async () => {
          await stack.newPatch(name, message ? { message } : {});
          return `created ${name}; now at: ${stack.top()}`;
        },
        onDone,
        { actsOnNoRowShown: true, ...(message ? { typed: message } : {}) },
      ),
    editMessage: (name: string, suspend: Suspend) =>
      run(`edit ${name}`, async () => {
        const text = await stack.readPatch(name);
        const header = parseHeader(headerOf(text));
        const current = [header.subject ?? "", header.body]
          .filter((x) => x !== undefined)
          .join("\n\n")
          .trim();
        const edited = editText(current, suspend);
        if (!edited) return "empty message: unchanged";
        if (edited === current) return `${name}: message unchanged`;
        const [subject, ...rest] = edited.split("\n");
        // The command that opens the saved text again (t130 N3: "run the command again" was e, which opened the old message).
        const again = (saved: string) => `pq header -e -F ${shellWord(saved)} ${operandWords(name)}`;
        try {
          // Checked as typed, so that the refusal counts the lines the user wrote (the blank line after the subject too), as the CLI's header does.
          refuseDiffInMessage(edited, "the edited message");
          await stack.setHeader(name, { ...header, subject, body: trimBody(rest.join("\n")) }, { was: header });
        } catch (e) {
          // Refused (a line that would start the diff): what was typed is kept (tui-8 T1).
          throw withTextSaved(e, edited, again);
        }
        return `${name}: message updated`;
      }),
    rename: (from: string, to: string, onDone?: () => void) =>
      run(
        `rename ${from}`,
        async () => {
          await stack.renamePatch(from, to);
          return `renamed ${from} to ${to}`;
        },
        onDone,
      ),
    remove: (name: string) =>
      run(`delete ${name}`, async () => {
        const kept = await stack.deletePatches([name]);
        return `deleted ${name}${kept.length ? ` (the file is kept in ${kept[0]})` : ""}`;
      }),
    fold: (name: string, onDone?: () => void) =>
      run(
        `fold ${name}`,
        async (onEvent) => {
          const r = await stack.fold([name], { onEvent });
          return `folded ${name} into ${r.name}`;
        },
        onDone,
      ),
    /**
     * One place up (-1) or down (+1) in the series as it is when the move runs: "[[" moves
     * twice, the second from where the first left the patch.
     */
    move: (name: string, by: -1 | 1, onDone?: () => void) =>
      run(
        `move ${name}`,
        async () => {
          const names = stack.series().map((e) => e.name);
          const neighbour = names[names.indexOf(name) + by];
          if (!neighbour) return `${name} is already ${by < 0 ? "first" : "last"}`;
          const where = by < 0 ? { before: neighbour } : { after: neighbour };
          await stack.reorder(name, where);
          return `moved ${name} ${by < 0 ? `before ${neighbour}` : `after ${neighbour}`}`;
        },
        onDone,
      ),
    setGuards: (name: string, text: string) =>
      run(`guard ${name}`, async () => {
        const guards = text.split(/[\s,]+/).filter(Boolean);
        await stack.setGuards(name, guards);
        return guards.length ? `${name}: guards ${guards.join(" ")}` : `${name}: guards cleared`;
      }),
    select: (text: string) =>
      run("select", async () => {
        const guards = text
          .split(/[\s,]+/)
          .filter(Boolean)
          .map((g) => g.replace(/^\+/, ""));
        const stale = await stack.select(guards);
        const now = guards.length ? `selected: ${guards.join(" ")}` : "no guards selected";
        return stale.length ? `${now}; applied but now guarded off: ${stale.join(", ")} (pop them)` : now;
      }),
    undo: () =>
      run("undo", async (onEvent) => {
        const { result, note } = await undoWithSharedNote(
          stack,
          () => stack.undo({ onEvent }),
          (paths) => paths.join(", "),
        );
        return describeUndo(result, "undid") + (note ? `; ${note}` : "");
      }),
    redo: () => run("redo", async (onEvent) => describeUndo(await stack.redo({ onEvent }), "redid")),
  };
}
