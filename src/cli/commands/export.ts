import {
  accessSync,
  constants,
  existsSync,
  lstatSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { shellWord } from "../../core/shell-word.js";
import { nameToBytes } from "../../patch/paths.js";
import { makeDirs, readText, removeDeadTemporaries, writeAtomic } from "../../tree/files.js";
import { basename, dirname, join, resolve } from "node:path";
import { PqError } from "../../errors.js";
import { failpoint } from "../../core/failpoint.js";
import { formatMail, localMailDate, notesOf, parseHeaderKeepingFields } from "../../mail/header.js";
import { flattenName } from "../../queue/names.js";
import { firstSymlink } from "../../tree/paths.js";
import { canonicalSeriesLine } from "../../queue/series.js";
import { diffOf, headerOf } from "../../queue/stack.js";
import { dropDiffstat, joinHeaderAndDiff, subjectOrName } from "../../queue/patch-text.js";
import { bestName, formatHunk, parsePatch } from "../../patch/index.js";
import { defineCommand, namesStdio, type CliIO } from "../io.js";
import type { Stack } from "../../queue/stack.js";
import { openStack } from "../open-stack.js";
import { defaultAuthor } from "../../queue/ops/context.js";

export default defineCommand({
  command: "export [patches..]",
  describe: "write patches (default: the applied ones) as format-patch mails in a directory, one mbox, or a quilt series",
  builder: (y) =>
    y
      .positional("patches", { type: "string", array: true, describe: "names (default: every applied patch)" })
      .option("dir", { alias: "o", type: "string", describe: "directory for numbered mails plus a series file" })
      .option("mbox", { type: "string", describe: "write one mbox file instead (-: on standard output, for git am)" })
      .option("quilt", { type: "string", describe: "write a quilt queue: DIR/series and the patch files under their names" })
      .option("all", { alias: "a", type: "boolean", describe: "every patch in the series, applied or not" })
      .option("force", {
        alias: "f",
        type: "boolean",
        describe:
          "overwrite an existing mbox, or the files already in DIR (mails, series); --dir --force also removes the mails an earlier pq export wrote that its series lists and the new one leaves out",
      }),
  run: async (args, io) => {
    const stack = await openStack(args, io);
    // Through the stack: a patch named by its path from the tree's root is taken too (t57 N7).
    const names = ((args.patches as string[] | undefined)?.map(String) ?? []).length
      ? (args.patches as string[]).map((n) => stack.resolve(String(n)))
      : args.all
        ? stack.series().map((e) => e.name)
        : stack.applied();
    if (!names.length) throw new PqError("refused", "nothing to export: no patch is applied", ["name patches, or use --all"]);
    // `--mbox -`: the mbox on standard output, as git format-patch --stdout, for a pipe into git am.
    if (args.mbox === "" && namesStdio() && args.dir === undefined && args.quilt === undefined) {
      await noteUnrefreshed(stack, names, io);
      io.outBytes((await buildMails(stack, names, io)).map((m) => m.text).join(""));
      return;
    }
    if ([args.dir, args.mbox, args.quilt].filter((a) => a !== undefined).length !== 1) {
      throw new PqError("usage", "say where, once: --dir DIR, --mbox FILE or --quilt DIR");
    }
    const where = String(args.quilt ?? args.mbox ?? args.dir);
    if (!where.trim())
      throw new PqError("usage", `--${args.quilt !== undefined ? "quilt" : args.mbox !== undefined ? "mbox" : "dir"} names no place`, [
        "give a directory (or, for --mbox, a file)",
      ]);
    // Refused before anything is read or written: a file in a directory that does not exist or cannot be written.
    if (args.mbox !== undefined) {
      const parent = dirname(resolve(io.cwd, where));
      try {
        accessSync(parent, constants.W_OK);
      } catch {
        throw new PqError("system", `--mbox ${where}: cannot write into ${parent} (it does not exist or is not writable)`, [
          "name a file in a directory that exists",
        ]);
      }
    }
    const target = resolve(io.cwd, where);
    refuseOwnPlace(stack, target, String(args.quilt ?? args.mbox ?? args.dir));
    if (args.mbox === undefined && statSync(target, { throwIfNoEntry: false })?.isDirectory() === false) {
      throw new PqError("usage", `${where} is a file; --${args.quilt !== undefined ? "quilt" : "dir"} writes into a directory`, [
        "name a new or existing directory (pq export --mbox FILE writes one file)",
      ]);
    }
    if (args.mbox !== undefined && statSync(target, { throwIfNoEntry: false })?.isDirectory()) {
      throw new PqError("usage", `${where} is a directory; --mbox writes one file`, [
        "name a file (pq export --dir DIR writes one mail per patch into a directory)",
      ]);
    }
    // Written by rename, an mbox replaces what is at its path: a symlink (its target never
    // written), a FIFO (its reader gets nothing), a device node (t69 N7: /dev/full became a
    // regular file). Only a regular file is replaced, and only with --force.
    const there = args.mbox !== undefined ? lstatSync(target, { throwIfNoEntry: false }) : undefined;
    if (there && !there.isFile()) {
      const what = there.isSymbolicLink()
        ? "a symbolic link"
        : there.isFIFO()
          ? "a FIFO"
          : there.isCharacterDevice() || there.isBlockDevice()
            ? "a device node"
            : "not a regular file";
      throw new PqError(
        "refused",
        `${target} is ${what}; pq export --mbox writes a regular file in its place, even with --force`,
        [
          `nothing was written; name a regular file${there.isSymbolicLink() ? ` (the link's target itself, if that is the file meant)` : ""}, or pq export --mbox - to write the mbox to standard output`,
        ],
        { file: target },
      );
    }
    // An mbox would be replaced without a word, as cp would.
    if (args.mbox !== undefined && !args.force && existsSync(target)) {
      throw new PqError(
        "refused",
        `${target} exists; the export would overwrite it`,
        ["pick another place, or pq export --force to overwrite"],
        {
          file: target,
        },
      );
    }
    await noteUnrefreshed(stack, names, io);
    if (args.quilt !== undefined) return void (await exportQuilt(stack, names, target, io, Boolean(args.force)));
    const mails = await buildMails(stack, names, io);
    if (args.mbox) {
      removeDeadTemporariesOf(resolve(io.cwd, args.mbox));
      writeAtomic(resolve(io.cwd, args.mbox), mails.map((m) => m.text).join(""));
      io.out(`wrote ${mails.length} mail(s) to ${args.mbox}`);
    } else {
      const dir = target;
      const files = [
        ...mails.map((m) => ({ path: join(dir, m.file), text: m.text })),
        // The series is bytes: UTF-8 names as such (t23 F4: written as latin1, a CJK name lost its high bits).
        { path: join(dir, "series"), text: nameToBytes(mails.map((m) => m.file).join("\n") + "\n") },
      ];
      // An export --force over an earlier one: its mails the new series does not list go, or
      // `git am DIR/*.patch` would apply patches that are no longer in the export. Only mails pq
      // wrote (its From line): a git format-patch mail or a gbp-pq queue's patch listed there is
      // someone's work, kept (t122 N5: both were deleted without a word).
      const earlier = readText(join(dir, "series"));
      const stale = earlierMailsLeftOut(dir, earlier, new Set(mails.map((m) => m.file)));
      refuseOverwrites(files, Boolean(args.force), stale);
      makeDirs(dir);
      // Every file written whole under a temporary name first (a killed export leaves no cut mail:
      // safe-6 #9), the earlier export's series removed, then the mails renamed into place and the
      // series written last: an export killed among the renames has no series, where a series of
      // the earlier export had stood by a mix of its mails and the new ones (t87 N1).
      const temporaries: [string, string][] = [];
      try {
        for (const f of files) {
          removeDeadTemporariesOf(f.path);
          const tmp = `${f.path}.tmp-${process.pid}`;
          writeFileSync(tmp, f.text, "latin1");
          temporaries.push([tmp, f.path]);
        }
      } catch (e) {
        for (const [tmp] of temporaries) rmSync(tmp, { force: true });
        throw e;
      }
      rmSync(join(dir, "series"), { force: true });
      for (const old of stale) rmSync(join(dir, old), { force: true });
      for (const [tmp, path] of temporaries) {
        renameSync(tmp, path);
        failpoint("export-renamed");
      }
      io.out(`wrote ${mails.length} mail(s) and a series file to ${args.dir}`);
      if (stale.length) io.out(`removed ${stale.length} mail(s) of the earlier export that the series no longer lists: ${someOf(stale)}`);
    }
  },
});

/**
 * A quilt queue quilt itself can push: the patch files under their names (directories and
 * all) and a series listing them. Applied patches are written as they apply now (no fuzz
 * left for quilt to find); guards are kept as hg mq's `#+g` comments, which quilt ignores.
 */
async function exportQuilt(stack: Stack, names: string[], dir: string, io: CliIO, force: boolean): Promise<void> {
  const entries = new Map(stack.series().map((e) => [e.name, e]));
  const notes = new Map(stack.annotatedSeries().map((a) => [a.entry.name, a.notes]));
  const applied = new Set(stack.applied());
  const lines: string[] = [];
  const files: { path: string; text: string }[] = [];
  for (const name of names) {
    files.push({ path: join(dir, name), text: await asItApplies(stack, name, await stack.readPatch(name), entries.get(name)?.strip) });
    const entry = entries.get(name);
    // An applied patch is written as pq regenerates it (a/ b/ prefixes, -p1); any other keeps its text and so its -pN.
    const strip = applied.has(name) && !stack.appliedRecords().find((r) => r.name === name)?.needsRefresh ? undefined : entry?.strip;
    // The series' comments go with the patch they stand by (a commented-out patch, a note on why one is there).
    const note = notes.get(name) ?? {};
    lines.push(...(note.before ?? []));
    const line = [
      name,
      ...(strip !== undefined && strip !== 1 ? [`-p${strip}`] : []),
      ...(entry?.guards ?? []).map((g) => `#${g}`),
      ...(note.comment ? [note.comment] : []),
    ].join(" ");
    // The queue's own line, byte for byte, when it says the same (a versioned debian/patches/series keeps its diff small);
    // an explicit -p1 says what no option says (t154 N12: "one.patch<TAB>-p1   # note" was respelt).
    const sameWithP1 = (strip ?? 1) === 1 ? [name, "-p1", ...line.split(" ").slice(1)].join(" ") : line;
    const canonical = note.line !== undefined ? canonicalSeriesLine(note.line) : undefined;
    lines.push(note.line !== undefined && (canonical === line || canonical === sameWithP1) ? note.line : line);
    lines.push(...(note.after ?? []));
  }
  files.push({ path: join(dir, "series"), text: nameToBytes(lines.map((l) => `${l}\n`).join("")) });
  // A folder of a patch's name that is a symbolic link in DIR (a package's debian/patches/bugfix ->
  // elsewhere) was written through, out of DIR, an existing file there replaced with --force (t127 N15).
  for (const name of names) {
    const folders = name.split("/").slice(0, -1);
    const link = firstSymlink(dir, folders);
    if (link !== null)
      throw new PqError(
        "unsafe-path",
        `${join(dir, ...folders.slice(0, link))} is a symbolic link: ${name} would be written through it, wherever it leads`,
        [
          `nothing was written; export into a directory whose folders are its own (remove the link, or export --quilt into another directory)`,
        ],
        { patch: name, link: join(dir, ...folders.slice(0, link)) },
      );
  }
  refuseOverwrites(files, force);
  // quilt applies with GNU patch, which refuses git's binary diffs: said before the user finds out.
  const binary = names.filter((name, i) => /^GIT binary patch$/m.test(files[i].text));
  if (binary.length)
    io.err(
      `note: ${someOf(binary)} ${binary.length === 1 ? "holds a git binary diff" : "hold git binary diffs"}, which quilt (GNU patch) cannot apply; git apply and pq can`,
    );
  // GNU patch takes a git diff's names from its ---/+++ lines; a change with no hunk (a rename,
  // a mode change, an empty file made or removed) has none, and the diff --git line cannot be
  // split where a name has a space (interop-5 #26). Renames and mode changes cannot be written
  // any other way that GNU patch 2.7 applies, so the export says so.
  const spaced = names.filter((name, i) => hunklessOnSpacedName(files[i].text));
  if (spaced.length)
    io.err(
      `note: ${someOf(spaced)} ${spaced.length === 1 ? "changes a file" : "change files"} whose name has a space without a hunk (a rename, a mode change, an empty file), which quilt (GNU patch) cannot apply; git apply and pq can`,
    );
  for (const f of files) {
    makeDirs(dirname(f.path));
    removeDeadTemporariesOf(f.path);
    writeAtomic(f.path, f.text);
  }
  io.out(`wrote ${names.length} patch(es) and a quilt series to ${dir}`);
  // quilt reads "#+xen" as a comment and pushes every patch: the ones this stack's guards keep out too (t129 N8).
  const guarded = names.filter((name) => entries.get(name)?.guards.length);
  if (guarded.length)
    io.err(
      `note: ${someOf(guarded)} ${guarded.length === 1 ? "has" : "have"} guards, written as hg mq writes them (#+g), which quilt reads as comments: quilt push -a applies ${guarded.length === 1 ? "it" : "them"} whatever is selected`,
    );
}

/** Whether a patch has a git diff without hunks (and not binary) on a path with a space in it. */
function hunklessOnSpacedName(text: string): boolean {
  let parsed;
  try {
    parsed = parsePatch(text);
  } catch {
    return false; // not readable as a patch: the export writes it as it is, with nothing to say of it
  }
  return parsed.files.some((f) => !f.hunks.length && !f.binary && [f.oldPath, f.newPath].some((p) => p?.includes(" ")));
}

/**
 * An export writes over nothing that holds something else (another queue's series, a mail or
 * patch of an earlier export, a file of the tree named like a patch) unless --force: the same
 * bytes again are no loss. Checked for every file before the first is written.
 */
function refuseOverwrites(files: { path: string; text: string }[], force: boolean, removes: string[] = []): void {
  if (force) return;
  const clobbered = files
    .filter(({ path, text }) => {
      const st = statSync(path, { throwIfNoEntry: false });
      return st !== undefined && (!st.isFile() || readText(path) !== text);
    })
    .map(({ path }) => path);
  if (!clobbered.length) return;
  const alsoRemoves = removes.length
    ? `, and remove ${removes.length} mail(s) an earlier pq export wrote that the new series leaves out (${someOf(removes)})`
    : "";
  throw new PqError(
    "refused",
    `the export would overwrite ${clobbered.length === 1 ? "a file that holds" : `${clobbered.length} files that hold`} something else: ${someOf(clobbered)}${alsoRemoves}; nothing was written`,
    [
      `pick another (or a new) directory, or pq export --force to overwrite ${clobbered.length === 1 ? "it" : "them"}${removes.length ? " and remove those mails" : ""}`,
    ],
    { files: clobbered, ...(removes.length ? { removes } : {}) },
  );
}

/**
 * A mail's file name from its patch's name, cut to 64 bytes as git format-patch cuts its names
 * (format.filenameMaxLength): a long patch name (pq takes up to 200 bytes a part) made a file
 * name the file system refused (t122 N1). The number before it keeps the names apart.
 */
function mailFileStem(stem: string): string {
  const flat = Buffer.from(flattenName(stem), "utf8");
  if (flat.length <= 64) return flattenName(stem);
  // Cut on a character's first byte, never inside a UTF-8 sequence.
  let end = 64;
  while (end > 0 && (flat[end] & 0xc0) === 0x80) end--;
  return flat.subarray(0, end).toString("utf8");
}

/** The first line of every mail pq writes (as git format-patch --zero-commit writes it). */
const PQ_MAIL_FROM = "From 0000000000000000000000000000000000000000 ";

/** Mails an earlier series in DIR lists, numbered as pq numbers them and written by pq, that the new export does not write. */
function earlierMailsLeftOut(dir: string, earlier: string | null, written: ReadonlySet<string>): string[] {
  if (earlier === null) return [];
  return earlier.split("\n").filter((old) => {
    if (!/^\d{4}-[^/]*\.patch$/.test(old) || written.has(old)) return false;
    let head: string | null = null;
    try {
      head = readFileSync(join(dir, old), "latin1").slice(0, PQ_MAIL_FROM.length);
    } catch {
      return false;
    }
    return head === PQ_MAIL_FROM;
  });
}

/** A path with its symlinks resolved, also when its last parts do not exist yet. */
function realPath(path: string): string {
  const rest: string[] = [];
  let at = path;
  for (;;) {
    try {
      return join(realpathSync(at), ...rest.reverse());
    } catch {
      const parent = dirname(at);
      if (parent === at) return path;
      rest.push(basename(at));
      at = parent;
    }
  }
}

/**
 * An export never writes into the queue directory, pq's state or git's (a --mbox over the
 * series, a --dir or --quilt onto the queue, through a symlink or not): the queue would be lost.
 */
function refuseOwnPlace(stack: Stack, target: string, typed: string): void {
  const real = realPath(target);
  const own = [stack.queueDir, join(stack.tree, ".pq"), join(stack.tree, ".git")].map(realPath);
  if (own.some((parent) => real === parent || real.startsWith(parent + "/"))) {
    throw new PqError(
      "usage",
      `${typed} is in the queue directory or pq's or git's own: exporting there would overwrite the series and patches`,
      ["export into a new directory, e.g. pq export --dir out"],
    );
  }
}

/** A plain diff read with strip level `strip`, written again with git's a/ and b/ names (-p1). */
function asGitPaths(text: string, strip: number, tree: string): string {
  const parsed = parsePatch(text, { strip });
  if (parsed.files.some((f) => f.binary)) return text;
  const diff = parsed.files
    .map((f) => {
      const chosen = f.candidates?.length ? bestName(f.candidates, (p) => existsSync(join(tree, p))) : null;
      const oldPath = f.kind === "create" ? "/dev/null" : `a/${chosen ?? f.oldPath}`;
      const newPath = f.kind === "delete" ? "/dev/null" : `b/${chosen ?? f.newPath}`;
      return `--- ${oldPath}\n+++ ${newPath}\n${f.hunks.map(formatHunk).join("")}`;
    })
    .join("");
  return joinHeaderAndDiff(headerOf(text), diff);
}

/** The mails of an export, numbered, each as git format-patch writes one (notes on a missing author said on stderr). */
/**
 * A diff without the signature a mail it came from ended with ("-- " and git's version after
 * its last hunk): the mail pq writes signs itself, and an import and export of the same mail
 * added a signature each time (t74 N6). Only a last line that is no diff line goes (a removed
 * line "- " is written "-- " too).
 */
function withoutSignature(diff: string): string {
  return diff.replace(/\n-- \n(?![ +\-\\@])[^\n]*\n(?:\n)*$/, "\n");
}

/**
 * A patch as it applies now (see Stack.currentPatchText), in its own file's spelling when that
 * makes the same change: a name hg mq wrote as raw UTF-8 came out C-quoted, which hg then took
 * for a file named with the quotes and escapes (t69 N3); index lines and the function names
 * of hunk headers stay the file's own too.
 */
async function asItApplies(stack: Stack, name: string, raw: string, strip: number | undefined): Promise<string> {
  const current = await stack.currentPatchText(name);
  return current !== raw && (strip ?? 1) === 1 && sameChange(raw, current) ? raw : current;
}

/** Whether two patches make the same change (paths, kinds, modes, hunks' lines, binary data), however they spell names and index lines. */
function sameChange(a: string, b: string): boolean {
  const key = (text: string) =>
    JSON.stringify(
      parsePatch(text).files.map((f) => [
        f.oldPath,
        f.newPath,
        f.kind,
        f.oldMode ?? null,
        f.newMode ?? null,
        f.binary ?? null,
        f.hunks.map((h) => [h.oldStart, h.oldLines, h.newStart, h.newLines, h.lines]),
      ]),
    );
  try {
    return key(a) === key(b);
  } catch {
    return false; // one does not parse: the change as it applies now is mailed
  }
}

async function buildMails(stack: Stack, names: string[], io: CliIO): Promise<{ file: string; text: string }[]> {
  const mails: { file: string; text: string }[] = [];
  const stripOf = new Map(stack.series().map((e) => [e.name, e.strip]));
  const isApplied = new Set(stack.applied());
  // A patch without an author (a plain diff, quilt's) is mailed as the exporting user's, as
  // quilt mail and hg export do: git am would commit whatever the From: line says.
  let exporter: string | undefined | null = null;
  const unauthored: string[] = [];
  // "Binary files a/x and b/x differ" carries no data: the mail cannot carry that change either
  // (push applied it as quilt does: a new file empty, a changed one left as it was).
  const dataless: string[] = [];
  const cutMessages: string[] = [];
  for (const [i, name] of names.entries()) {
    const raw = await stack.readPatch(name);
    if (/^Binary files .* differ\r?$/m.test(raw)) dataless.push(name);
    // Applied patches are written as they apply now, so git am reproduces this tree exactly.
    // An unapplied patch with another strip level than git am's -p1 (a quilt -p0 entry) gets
    // a/ and b/ names, or git am would look for the wrong files.
    const strip = stripOf.get(name);
    const applied = isApplied.has(name);
    const text =
      !applied && strip !== undefined && strip !== 1 ? asGitPaths(raw, strip, stack.tree) : await asItApplies(stack, name, raw, strip);
    const stem = name.replace(/\.(patch|diff)$/, "");
    // Fields a mail has no header for (DEP-3's Origin:, Bug-Debian:, Last-Update:) go into its message, as gbp pq writes them.
    const kept = dropDiffstat(headerOf(text));
    const header = parseHeaderKeepingFields(kept);
    if (!header.author) {
      exporter ??= await defaultAuthor(await stack.repo());
      if (exporter) header.author = exporter;
      unauthored.push(name);
    }
    // A message line git am takes for the end of the message or a diff's start: said, as the CRLF note says what git am needs (t154 N11).
    const cut = header.body.split("\n").find((l) => /^(---(\s|$)|diff -|Index: )/.test(l));
    if (cut !== undefined) cutMessages.push(`${name} (${JSON.stringify(cut.slice(0, 30))})`);
    // A patch without a date (a plain diff, quilt's) is dated when its file was last written:
    // the same export again is the same mails, not mails "that hold something else" (t62 N3).
    if (!header.date) header.date = localMailDate(statSync(join(stack.queueDir, name), { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    const num = String(i + 1).padStart(4, "0");
    mails.push({
      file: `${num}-${mailFileStem(stem)}.patch`,
      // The notes after "---" (a v2 changelog, links) are where a mail carries them, for reviewers.
      text: formatMail({ ...header, subject: subjectOrName(header.subject, name) }, withoutSignature(diffOf(text)), {
        index: i + 1,
        total: names.length,
        notes: notesOf(kept),
      }),
    });
  }
  if (dataless.length) {
    io.err(
      `note: ${someOf(dataless, 4)} ${dataless.length === 1 ? "has" : "have"} binary changes without data ("Binary files ... differ"): the mails cannot carry them (a new file goes as empty, a changed one not at all); make the patch again with git diff --binary`,
    );
  }
  // git am drops a mail's CRs unless told to keep them: say which mails carry CRLF lines.
  const crlf = names.filter((_, i) => /\r\n/.test(diffOf(mails[i].text)));
  if (crlf.length) {
    io.err(
      `note: ${namedOrCounted(crlf)} ${crlf.length === 1 ? "changes" : "change"} lines that end in CRLF: where git stores those CRs (no eol conversion in the checkout), apply the mails with git am --keep-cr`,
    );
  }
  if (unauthored.length) {
    io.err(
      `note: ${namedOrCounted(unauthored)} ${unauthored.length === 1 ? "has" : "have"} no author: mailed as ${exporter ?? "Unknown <unknown@unknown>"} (pq header NAME -u "Name <email>" sets one)`,
    );
  }
  // A tree that is a folder of its repository (a package in a larger one): the mails' paths are the
  // tree's, as its patches are, and git am in a clone applies them from the repository's top,
  // where it fails or patches a file of the same name there (t154 N6).
  const prefix = (await stack.repo())?.prefix ?? "";
  if (prefix && mails.length) {
    io.err(
      `note: this tree is ${prefix.replace(/\/$/, "")}/ of its git repository, and the mails' paths are the tree's: in a clone of the repository, apply them with git am --directory=${shellWord(prefix.replace(/\/$/, ""))}`,
    );
  }
  if (cutMessages.length) {
    io.err(
      `note: ${someOf(cutMessages, 4)}: ${cutMessages.length === 1 ? "its message has a line" : "their messages have lines"} git am takes for the message's end or a diff's start, and the commit's message stops there; indent such a line (pq header NAME -e) to keep the message whole`,
    );
  }
  // git am stops at a mail without a diff (interop-17 F11): said, as the CRLF note says what git am needs.
  const empty = names.filter((_, i) => !diffOf(mails[i].text).trim());
  if (empty.length) {
    io.err(
      `note: ${namedOrCounted(empty)} ${empty.length === 1 ? "changes" : "change"} nothing (no diff): git am stops at such a mail, where git am --allow-empty makes it an empty commit and git am --skip leaves it out`,
    );
  }
  return mails;
}

/** Changes not refreshed into the top patch are in no export (as git format-patch ignores the work tree): said, so a series is not sent without its last fix. */
async function noteUnrefreshed(stack: Stack, names: string[], io: CliIO): Promise<void> {
  const applied = new Set(stack.applied());
  if (!names.some((n) => applied.has(n))) return;
  const top = stack.top();
  const { pending, changedInQueue = [] } = await stack.status();
  if (top && names.includes(top) && pending.length)
    io.err(
      `note: ${someOf(pending)} ${pending.length === 1 ? "has" : "have"} changes not refreshed into ${top}: they are not in the export (pq refresh first)`,
    );
  // An applied patch is exported as it applies here: a newer version in the queue (a pull, a hand edit) is not it (t44 N7).
  const changed = changedInQueue.filter((n) => names.includes(n));
  if (changed.length)
    io.err(
      `note: ${someOf(changed)} changed in the queue since ${changed.length === 1 ? "it was" : "they were"} pushed: the export has the version${changed.length === 1 ? "" : "s"} applied in this tree, not the queue's (pop below ${changed.length === 1 ? "it" : "them"} and push back up to apply the queue's, then export)`,
    );
}

/** The first `max` names, and "..." when there are more: the notes and refusals of an export. */
function someOf(names: string[], max = 5): string {
  return `${names.slice(0, max).join(", ")}${names.length > max ? ", ..." : ""}`;
}

/** Up to four names, else how many patches. */
function namedOrCounted(names: string[]): string {
  return names.length <= 4 ? names.join(", ") : `${names.length} patches`;
}

/** What a killed export left beside a file it writes (writeAtomic's NAME.tmp-PID of a pid that is gone; verify-6 N5). */
function removeDeadTemporariesOf(path: string): void {
  removeDeadTemporaries(dirname(path), (name) => name === basename(path));
}
