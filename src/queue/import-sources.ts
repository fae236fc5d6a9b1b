/**
 * Where imported patches come from: patch files, format-patch mails, mboxes, a quilt
 * tree's patches/series, an hg mq queue (.hg/patches with guards).
 */
import { existsSync, realpathSync, statSync } from "node:fs";
import { basename, join, relative, resolve, sep } from "node:path";
import { gunzipSync } from "node:zlib";
import { PqError } from "../errors.js";
import { parseHeader } from "../mail/header.js";
import { isMbox, patchNameFromSubject, splitMbox } from "../mail/mbox.js";
import { decodeMail, DIFF_LINE, isCoverLetter } from "../mail/mime.js";
import { bytesToName } from "../patch/index.js";
import { readText, realpathOr } from "../tree/files.js";
import { headerOf } from "./stack.js";
import { Series } from "./series.js";
import { validatePatchName } from "./names.js";
import { leadsOutside } from "../tree/paths.js";
import { shellWord } from "../core/shell-word.js";

import type { ImportItem } from "./ops/series-edit.js";
export type { ImportItem } from "./ops/series-edit.js";

/**
 * Patch files and mail files/mboxes (one patch per mail). A mail's body is decoded as git am
 * decodes it (quoted-printable, base64, an attached diff); a `[PATCH 0/N]` cover letter with
 * no diff is left out and named in `skipped`.
 */
export function readPatchFiles(files: string[], opts: { name?: string; taken: Set<string>; skipped?: string[] }): ImportItem[] {
  const items: ImportItem[] = [];
  for (const file of files) {
    if (existsSync(file) && statSync(file).isDirectory()) {
      throw new PqError("usage", `${file} is a directory`, ["pq import --quilt DIR or --hg DIR imports a whole queue; name patch files otherwise"]);
    }
    refuseNotRegular(file);
    const text = readText(file);
    if (text === null) throw new PqError("not-found", `${file} does not exist`);
    const mails = isMbox(text) ? splitMbox(text) : hgChangesets(text);
    for (const raw of mails) {
      const mail = withInBodyHeaders(decodeMail(raw));
      const subject = parseHeader(headerOf(mail)).subject;
      // The numbering is in the raw Subject: line ("[PATCH 0/3] ..."); parseHeader strips it.
      const rawSubject = /^Subject:[ \t]*(.*)$/im.exec(headerOf(mail))?.[1]?.trim();
      if (isCoverLetter(rawSubject)) {
        opts.skipped?.push(`a cover letter${DIFF_LINE.test(mail) ? " (its interdiff is no patch of the series)" : " (no diff)"}: ${basename(file)}: ${rawSubject}`);
        continue;
      }
      // A mail of an mbox with no diff at all (a reply, a mis-split mbox): git am refuses it as
      // "Patch is empty"; left out and named, not imported as an empty patch.
      if (mails.length > 1 && !DIFF_LINE.test(mail) && !/^GIT binary patch$/m.test(mail)) {
        opts.skipped?.push(`a mail with no diff: ${basename(file)}: ${rawSubject ?? "(no subject)"}`);
        continue;
      }
      let name: string;
      if (opts.name && files.length === 1 && mails.length === 1) name = opts.name;
      else if (mails.length === 1 && !isMbox(text) && !/\.(mbox|eml)$/i.test(file)) name = nameFromFile(file, files.length);
      else name = patchNameFromSubject(subject ?? "patch", opts.taken);
      opts.taken.add(name);
      items.push({ name, text: mail, guards: [] });
    }
  }
  return items;
}

/** A patch named by its file's name, which must be a name pq takes; the refusal names -n, which names it otherwise (t122 N9). */
function nameFromFile(file: string, files: number): string {
  const name = basename(file);
  try {
    validatePatchName(name);
  } catch (e) {
    if (!(e instanceof PqError)) throw e;
    throw new PqError(e.code, `${e.message} (the name of the file ${file})`, [
      ...e.details,
      `pq import -n NAME ${shellWord(file)} names the patch NAME${files > 1 ? " (one file at a time)" : ""}`,
    ], e.data);
  }
  return name;
}

/** An `hg export` of several changesets in one file, one text per changeset (hg import makes one commit of each). */
function hgChangesets(text: string): string[] {
  const starts: number[] = [];
  for (const m of text.matchAll(/^# HG changeset patch\r?$/gm)) starts.push(m.index);
  if (starts.length < 2) return [text];
  return starts.map((at, i) => text.slice(i === 0 ? 0 : at, starts[i + 1] ?? text.length));
}

/**
 * In-body headers, as git am reads them (mailinfo's check_inbody_header): a mail sent by
 * someone other than the author starts its body with "From: Author" (git format-patch --from,
 * git send-email), and may add "Date:" and "Subject:" lines; they replace the mail's own fields,
 * and leave the body. As git: blank lines before them are skipped, a line folded under one is
 * part of it, a "[PATCH] text" line is a Subject:, and a format-patch separator line quoted as
 * ">From <id> Mon Sep 17 00:00:00 2001" is dropped (t74 N3: pq kept all four in the body).
 */
function withInBodyHeaders(mail: string): string {
  const gap = /\r?\n\r?\n/.exec(mail);
  if (!gap) return mail;
  let head = mail.slice(0, gap.index);
  const lines = mail.slice(gap.index + gap[0].length).split(/(?<=\n)/);
  const fields: [string, string][] = [];
  let pending: string | null = null;
  const flush = () => {
    const m = pending === null ? null : /^(From|Date|Subject):[ \t]*([^]*)$/i.exec(pending);
    if (m) fields.push([m[1][0].toUpperCase() + m[1].slice(1).toLowerCase(), m[2]]);
    pending = null;
  };
  // A format-patch separator line dropped (alone, too: t76 N1).
  let dropped = false;
  let at = 0;
  for (; at < lines.length; at++) {
    const line = lines[at].replace(/\r?\n$/, "");
    if (!line.trim()) {
      // Skipped, unless it ends an in-body header being read: then the end of them (the line goes
      // too). A [PATCH] line or a separator is no header being read (t76 N2: git reads a From:
      // after "[PATCH] x" and a blank line as the author).
      if (pending === null) continue;
      flush();
      at++;
      break;
    }
    if (pending !== null && /^[ \t]/.test(line)) {
      pending += line;
      continue;
    }
    flush();
    // (Read here with its quoting ">" taken off when the mail came from an mbox.)
    if (/^>?From\s[0-9a-f]{40} Mon Sep 17 00:00:00 2001$/.test(line)) {
      dropped = true;
      continue;
    }
    if (/^\[PATCH\]\s/.test(line)) {
      fields.push(["Subject", line]);
      continue;
    }
    const named = /^(from|date|subject):[ \t]*(.*)$/i.exec(line);
    // Each field once, and with a value (an empty "From:" is text).
    if (named && named[2].trim() && !fields.some(([f]) => f.toLowerCase() === named[1].toLowerCase())) {
      pending = line;
      continue;
    }
    break;
  }
  flush();
  if (!fields.length && !dropped) return mail;
  for (const [field, value] of fields) {
    const line = `${field}: ${value}`;
    // The header's own field, with any folded continuation lines, is replaced (or the field added).
    const own = new RegExp(`^${field}:.*(?:\\r?\\n[ \\t].*)*$`, "im");
    head = own.test(head) ? head.replace(own, () => line) : `${head}\n${line}`;
  }
  return `${head}\n\n${lines.slice(at).join("")}`;
}

/** Where the queue's series is, from a directory named for --quilt or --hg (see readQueueDir). */
function queueDirIn(dir: string): string {
  let queue = dir;
  // hg's active queue (hg qqueue): .hg/patches.queue names it, and it lives in .hg/patches-NAME.
  const active = readText(join(dir, ".hg", "patches.queue"))?.trim();
  const quiltPatches = process.env.QUILT_PATCHES;
  // hg names a queue by a plain word: one with a folder or '..' in it would lead out of .hg (t131 N3).
  if (active && active !== "patches" && !/[/\\]|\.\./.test(active)) {
    queue = join(dir, ".hg", `patches-${active}`);
    // hg makes the active queue's directory at its first patch: another queue is no stand-in for it (t145 N8).
    if (!existsSync(join(queue, "series")))
      throw new PqError("not-found", `hg's active queue, ${active} (hg qqueue), has no patches yet: ${queue} has no series`, [
        "hg qqueue NAME makes the queue you mean the active one (hg qqueue lists them), then run the import again",
      ]);
  } else if (existsSync(join(dir, ".hg", "patches", "series"))) queue = join(dir, ".hg", "patches");
  else if (!existsSync(join(dir, "series"))) {
    // Where quilt looks in a tree: $QUILT_PATCHES, patches/, and a Debian source package's debian/patches/.
    const found = [quiltPatches, "patches", join("debian", "patches")]
      .filter((p): p is string => Boolean(p))
      .map((p) => resolve(dir, p))
      .find((p) => existsSync(join(p, "series")));
    if (found) queue = found;
  }
  return queue;
}

/**
 * The guards an hg mq queue has selected (hg qselect keeps them in the queue's `guards` file),
 * for an import that takes its guards: pushed with them, the queue applies what hg applied (t55 N6).
 */
export function selectedGuardsOf(dir: string): string[] {
  const text = readText(join(queueDirIn(dir), "guards"));
  return text === null ? [] : bytesToName(text).split(/\s+/).filter(Boolean);
}

/**
 * A queue to import is someone else's (a cloned package, a colleague's repository, an unpacked
 * tarball): a file of it that is a symbolic link leading out of the directory named was read
 * through, and a link to ~/.ssh/id_ed25519 became a patch in the user's queue, ready to be
 * exported or pushed (t127 N6). A link to a file inside the directory (one patch under two names)
 * is read as before.
 */
function refuseLinkOut(dir: string, realDir: string, queue: string, name: string): void {
  const path = join(queue, name);
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return; // no file there: said by the caller
  }
  // Within the directory named, not merely the queue found in it: DIR/patches could itself be a link out (t131 N3).
  const inside = relative(realDir, real);
  if (inside !== "" && !leadsOutside(inside)) return;
  throw new PqError(
    "unsafe-path",
    `${path} leads out of ${dir}${real === path ? "" : " through a symbolic link"}, to ${real}: pq imports no file from outside the queue it is given`,
    ["nothing was imported; put the patch itself there (rm the link, copy the file in) if it is meant to be part of the queue, or take it out of the series"],
    { file: path, target: real },
  );
}

/**
 * A patch file is a regular file: a device or a FIFO (`pq import /dev/zero`, a queue's patch
 * made a link to it) was read until memory ran out, then Node crashed (t127 N12). Standard
 * input is read with a limit instead (see the import command).
 */
function refuseNotRegular(file: string): void {
  const st = statSync(file, { throwIfNoEntry: false });
  if (st && !st.isFile())
    throw new PqError("bad-patch", `${file} is not a regular file (a device, a FIFO or a socket): pq imports patch files`, [
      "for a patch that comes through a pipe, pq import - reads it from standard input",
    ]);
}

/** A quilt patches directory (or a tree containing patches/), or an hg mq queue. */
export function readQueueDir(dir: string, opts: { hg?: boolean } = {}): ImportItem[] {
  const queue = queueDirIn(dir);
  // An hg mq queue's line `a.patch#+xen` is patch a.patch guarded +xen (mq cuts a name at its first
  // '#'); pq's series reads a '#' in a name as a question quilt answers otherwise, and refuses it (t122 N12).
  const asHg = opts.hg || queue.split(sep).includes(".hg");
  // The directory named, by its real path: found once, not for each of a thousand patches.
  const realDir = realpathOr(dir);
  refuseLinkOut(dir, realDir, queue, "series");
  const raw = readText(join(queue, "series"));
  // UTF-8 text, as quilt and hg write it: patch names are decoded like file names.
  const seriesText = raw === null ? null : bytesToName(raw);
  if (seriesText === null || !statSync(queue).isDirectory()) {
    throw new PqError("not-found", `no series file in ${dir} (looked in it, its patches/, debian/patches/, $QUILT_PATCHES and .hg/patches/)`, [
      "name the directory that holds the series file: pq import --quilt DIR (or --hg DIR)",
    ]);
  }
  // Comments (a patch commented out, the reason one is there) stay in the series, where they were.
  // A line `./y.patch` names the file in the queue directory, as quilt reads it.
  let lines = seriesText.replace(/^(?:\.\/)+(?=[^\s#])/gm, "");
  // hg takes a series line's name up to its first '#', spaces and all (hg qnew "my fix"); a
  // quilt-style series cannot hold a space in a name, so such a patch comes in with its spaces
  // as '-', and the import says so (t129 N2: it was read as the option "fix" of "my", exit 7).
  const renamed = new Map<string, string>();
  if (asHg)
    lines = lines
      .split("\n")
      .map((line) => {
        const h = line.indexOf("#");
        const name = (h === -1 ? line : line.slice(0, h)).trim();
        if (!/\s/.test(name)) return line;
        const plain = name.replace(/\s+/g, "-");
        renamed.set(plain, name);
        return h === -1 ? plain : `${plain} ${line.slice(h)}`;
      })
      .join("\n");
  return Series.parse(asHg ? lines.replace(/^(\s*[^\s#]+)#/gm, "$1 #") : lines)
    .annotated()
    .map(({ entry: e, notes }) => {
      if (statSync(join(queue, e.name), { throwIfNoEntry: false })?.isDirectory()) {
        throw new PqError("bad-patch", `${e.name}, listed in ${join(queue, "series")}, is a directory, not a patch file`, [
          "correct the series line (or remove it), then import again",
        ]);
      }
      const file = renamed.get(e.name) ?? e.name;
      refuseLinkOut(dir, realDir, queue, file);
      refuseNotRegular(join(queue, file));
      const raw = readText(join(queue, file));
      if (raw === null) throw new PqError("not-found", `${file} is listed in ${join(queue, "series")} but its file is missing`);
      // quilt reads gzip-, bzip2- and xz-compressed patches: a gzipped one is taken decompressed, under its name without .gz.
      let [name, text] = [e.name, raw];
      if (/\.gz$/.test(e.name)) {
        try {
          text = gunzipSync(Buffer.from(raw, "latin1")).toString("latin1");
          name = e.name.replace(/\.gz$/, "");
        } catch {
          throw new PqError("bad-patch", `${e.name} is not a gzip file, though its name says so`, ["correct the file or its series line, then import again"]);
        }
      } else if (/\.(bz2|xz|lzma|zst)$/.test(e.name)) {
        throw new PqError("unsupported", `${e.name} is compressed, and pq reads only gzip-compressed patches`, [
          `decompress it (bunzip2, unxz), list the result in ${join(queue, "series")}, then import again`,
        ]);
      }
      // The notes carry the series line itself too: kept byte for byte while it reads the same.
      return {
        name,
        text,
        guards: e.guards,
        fromSeries: true,
        ...(e.strip === undefined ? {} : { strip: e.strip }),
        notes,
        ...(renamed.has(e.name) ? { renamedFrom: file } : {}),
      };
    });
}
