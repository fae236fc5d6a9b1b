/**
 * Where imported patches come from: patch files, format-patch mails, mboxes, a quilt
 * tree's patches/series, an hg mq queue (.hg/patches with guards).
 */
import { existsSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { PqError } from "../errors.js";
import { parseHeader } from "../mail/header.js";
import { isMbox, patchNameFromSubject, splitMbox } from "../mail/mbox.js";
import { bytesToName } from "../patch/index.js";
import { readText } from "../tree/files.js";
import { headerOf } from "./stack.js";
import { Series } from "./series.js";

export interface ImportItem {
  name: string;
  text: string;
  guards: string[];
  /** quilt's -pN from the series line, when it has one. */
  strip?: number;
}

/** Patch files and mail files/mboxes (one patch per mail). */
export function readPatchFiles(files: string[], opts: { name?: string; taken: Set<string> }): ImportItem[] {
  const items: ImportItem[] = [];
  for (const file of files) {
    const text = readText(file);
    if (text === null) throw new PqError("not-found", `${file} does not exist`);
    const mails = isMbox(text) ? splitMbox(text) : [text];
    for (const mail of mails) {
      let name: string;
      if (opts.name && files.length === 1 && mails.length === 1) name = opts.name;
      else if (mails.length === 1 && !isMbox(text)) name = basename(file);
      else name = patchNameFromSubject(parseHeader(headerOf(mail)).subject ?? "patch", opts.taken);
      opts.taken.add(name);
      items.push({ name, text: mail, guards: [] });
    }
  }
  return items;
}

/** A quilt patches directory (or a tree containing patches/), or an hg mq queue. */
export function readQueueDir(dir: string): ImportItem[] {
  let queue = dir;
  if (existsSync(join(dir, ".hg", "patches", "series"))) queue = join(dir, ".hg", "patches");
  else if (!existsSync(join(dir, "series")) && existsSync(join(dir, "patches", "series"))) queue = join(dir, "patches");
  const raw = readText(join(queue, "series"));
  // UTF-8 text, as quilt and hg write it: patch names are decoded like file names.
  const seriesText = raw === null ? null : bytesToName(raw);
  if (seriesText === null || !statSync(queue).isDirectory()) {
    throw new PqError("not-found", `no series file in ${dir} (looked in it, its patches/ and .hg/patches/)`);
  }
  return Series.parse(seriesText)
    .entries()
    .map((e) => {
      const text = readText(join(queue, e.name));
      if (text === null) throw new PqError("not-found", `${e.name} is listed in ${join(queue, "series")} but its file is missing`);
      return { name: e.name, text, guards: e.guards, ...(e.strip === undefined ? {} : { strip: e.strip }) };
    });
}
