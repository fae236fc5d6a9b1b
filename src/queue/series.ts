/**
 * The series file, in hg mq's grammar: one patch per line, `#` starts a comment, and
 * guards are written after the name as `#+name` (push only when selected) or `#-name`
 * (skip when selected). Comments and blank lines are kept so a rewrite changes only
 * what the command meant to change.
 */
import { PqError } from "../errors.js";
import { CONFLICT_MARKER } from "../patch/parse.js";
import { bytesToName } from "../patch/paths.js";
import { clashingName, isPlainName, validatePatchName, type QueuePlace } from "./names.js";

export interface SeriesEntry {
  name: string;
  guards: string[]; // "+foo" / "-bar"
  /** quilt's per-patch `-pN` (path components to strip); absent means the default, 1. */
  strip?: number;
}

/** The lines of a series that are not patches, as they travel with one (import, export). */
export interface SeriesNotes {
  before?: string[];
  comment?: string;
  after?: string[];
  /** The patch's line as the series file had it (its spacing, an explicit -p1), written back while it says the same. */
  line?: string;
}

/** `raw`: the line as read, kept while the entry still reads as it did (`canon`): a versioned series keeps its bytes. */
/** `crlf`: whether the line ended in CR LF in the file read; it keeps that ending (ci-7 #13). A line pq adds has none. */
type SeriesLine =
  | { kind: "patch"; entry: SeriesEntry; comment: string; raw?: string; canon?: string; crlf?: boolean }
  | { kind: "other"; text: string; crlf?: boolean };

function listedTwice(name: string, line: number): PqError {
  return new PqError(
    "bad-patch",
    `series line ${line}: ${name} is listed twice`,
    ["remove one of the two lines from the series file (until then the commands that read the series refuse; pq pop -a, which goes by what was applied, still works)"],
    { patch: name, line },
  );
}

/** A patch line as pq writes it. */
function canonicalLine(entry: SeriesEntry, comment: string): string {
  const parts = [entry.name, ...(entry.strip === undefined ? [] : [`-p${entry.strip}`]), ...entry.guards.map((g) => `#${g}`)];
  if (comment) parts.push(comment);
  return parts.join(" ");
}

/** Adds a name and the directories it has ("a/", "a/b/" for a/b/c.patch) to an index (see Series.index). */
function addName(names: Set<string>, dirs: Set<string>, name: string): void {
  names.add(name);
  for (let at = name.indexOf("/"); at !== -1; at = name.indexOf("/", at + 1)) dirs.add(name.slice(0, at + 1));
}

export class Series {
  /** `crlf`: the file's lines mostly end in CR LF, and so do the lines pq adds. */
  private constructor(
    private lines: SeriesLine[],
    private crlf = false,
  ) {}

  /**
   * The queue directory as named from the tree's root ("debian/patches"), asked only when a
   * patch name is not found: quilt takes a patch named by that path (what a shell completes).
   */
  queuePlace: () => QueuePlace | null = () => null;

  /**
   * A series file's text as read (bytes, one char each): UTF-8 names decoded as file names are,
   * as quilt and hg read the file. Series.parse of the bytes themselves would read a UTF-8
   * name as latin1 and refuse its bytes as control characters (tui-22 F2).
   */
  static fromBytes(bytes: string): Series {
    return Series.parse(bytesToName(bytes));
  }

  static parse(text: string): Series {
    const lines: SeriesLine[] = [];
    const raw = text.split("\n");
    if (raw.length && raw[raw.length - 1] === "") raw.pop();
    const seen = new Set<string>();
    let crlfLines = 0;
    raw.forEach((whole, i) => {
      // Most lines are a bare plain name (no guards, options, comment or CR): taken as they are.
      if (isPlainName(whole)) {
        if (seen.has(whole)) throw listedTwice(whole, i + 1);
        seen.add(whole);
        lines.push({ kind: "patch", entry: { name: whole, guards: [] }, comment: "", raw: whole, canon: whole, crlf: false });
        return;
      }
      // A CR LF series (quilt reads one) keeps its endings: only the line pq changes is written anew.
      const crlf = whole.endsWith("\r");
      const line = crlf ? whole.slice(0, -1) : whole;
      // A git merge's marker (a pull in the queue that conflicted in the series): said as that, not as an option (t146 N3).
      if (CONFLICT_MARKER.test(line))
        throw new PqError("bad-patch", `series line ${i + 1} (${line}) is a merge's conflict marker: the series holds both sides of a conflict`, [
          "resolve it in the series file by hand (keep each patch's line once, drop the <<<<<<< ======= >>>>>>> lines); if a git pull in the queue directory left it so and its merge is not committed yet, git merge --abort there and pq sync merges the two versions instead",
        ]);
      const ending = { crlf };
      if (crlf) crlfLines++;
      const hash = line.indexOf("#");
      const body = (hash === -1 ? line : line.slice(0, hash)).trim();
      if (!body) {
        lines.push({ kind: "other", text: line, ...ending });
        return;
      }
      // Most lines are a bare name: no options to split off, no guards or comment.
      const [name, ...opts] = /\s/.test(body) ? body.split(/\s+/) : [body];
      // A '#' inside the first word: quilt reads the whole word as the name (fix-bug#123.patch),
      // hg mq and pq cut it there. Refused with the line, not read as another patch (interop-17 F6).
      const word = line.trimStart().split(/\s/, 1)[0];
      if (word.indexOf("#") > 0) {
        throw new PqError("bad-patch", `series line ${i + 1}: the patch name ${JSON.stringify(word)} holds a '#', where pq and hg mq cut it (quilt takes the whole word)`, [
          `where the patch file is ${word.slice(0, word.indexOf("#"))} (hg mq's reading: the rest a guard or a comment), put a space before the '#' in the series line`,
          "else rename the patch without '#': the file in the queue directory and its line in the series alike (mv OLD NEW; edit series), then run the command again",
        ], { line: i + 1 });
      }
      const strip = opts.length ? parseOptions(opts, name, i + 1) : undefined;
      const after = hash === -1 ? "" : line.slice(hash);
      // hg mq's reading of a guard: + or -, then a name that does not start with + or - (`#++ note`
      // is a comment there, and was a guard "+" nothing could select here: t154 N7).
      const guards = after ? [...after.matchAll(/#([+-][^\s#+-][^\s#]*)/g)].map((m) => m[1]) : [];
      // What is left of the comment stays one: `#+linux only, see #1234` without its guard is
      // `# only, see #1234`, not words quilt and pq would read as options (t38 F7).
      const rest = after ? after.replace(/#[+-][^\s#+-][^\s#]*/g, "").trim() : "";
      const comment = rest && !rest.startsWith("#") ? `# ${rest}` : rest;
      // A series file can come from anyone who shares the queue: its names are checked like typed ones.
      try {
        validatePatchName(name, `series line ${i + 1}: `);
      } catch (e) {
        // A name in the series file itself (written by hand, or by an older pq that took control
        // characters): no pq command reads the series until it is renamed, pq rename included (verify-11 Z7).
        if (!(e instanceof PqError)) throw e;
        // A bad queue file, not a bad command line: the code of a patch pq cannot read (interop-17 F6).
        throw new PqError(e.code === "usage" ? "bad-patch" : e.code, e.message, [
          ...e.details,
          "rename the patch by hand, the file in the queue directory and its line in the series alike (mv OLD NEW; edit series), then run the command again",
        ], e.data);
      }
      if (seen.has(name)) throw listedTwice(name, i + 1);
      seen.add(name);
      const entry: SeriesEntry = strip === undefined ? { name, guards } : { name, guards, strip };
      lines.push({ kind: "patch", entry, comment, raw: line, canon: canonicalLine(entry, comment), ...ending });
    });
    return new Series(lines, crlfLines * 2 > raw.length);
  }

  static empty(): Series {
    return new Series([]);
  }

  /** An empty series whose lines (all added later) end as `like`'s mostly do. */
  static emptyLike(like: Series): Series {
    return new Series([], like.crlf);
  }

  /** An independent copy (editing one leaves the other as it was). */
  clone(): Series {
    const copy = new Series(
      this.lines.map((l) => (l.kind === "patch" ? { ...l, entry: { ...l.entry, guards: [...l.entry.guards] } } : { ...l })),
      this.crlf,
    );
    copy.queuePlace = this.queuePlace;
    return copy;
  }

  entries(): SeriesEntry[] {
    return this.lines.flatMap((l) => (l.kind === "patch" ? [{ ...l.entry, guards: [...l.entry.guards] }] : []));
  }

  /** The patch entries themselves, for reading only (entries() copies each; a push reads a thousand). */
  patchEntries(): readonly Readonly<SeriesEntry>[] {
    // A loop, not flatMap: run once per command, flatMap's array per line cost ~1 ms for 1000 (cold code).
    const entries: SeriesEntry[] = [];
    for (const line of this.lines) if (line.kind === "patch") entries.push(line.entry);
    return entries;
  }

  /** Whether any patch has a guard (asked without copying every entry, as entries() does). */
  hasGuards(): boolean {
    return this.lines.some((l) => l.kind === "patch" && l.entry.guards.length > 0);
  }

  names(): string[] {
    return this.entries().map((e) => e.name);
  }

  has(name: string): boolean {
    return this.index().names.has(name);
  }

  /**
   * The patch names, and each directory one has ("a/" for a/b.patch): built on first use, kept
   * up to date by insertAfter, dropped by remove and rename. A sync's merged series is built by
   * one insertAfter per patch, and each had listed every name (twice) and searched every line:
   * a 10,000-patch merge took 54 s (t60 N9).
   */
  private nameIndex: { names: Set<string>; dirs: Set<string> } | null = null;

  private index(): { names: Set<string>; dirs: Set<string> } {
    if (!this.nameIndex) {
      const names = new Set<string>();
      const dirs = new Set<string>();
      for (const l of this.lines) if (l.kind === "patch") addName(names, dirs, l.entry.name);
      this.nameIndex = { names, dirs };
    }
    return this.nameIndex;
  }

  /** Whether `name` may be a directory of a listed name or have one as its directory (see refuseClash, which says which). */
  private mayClash(name: string): boolean {
    const { names, dirs } = this.index();
    if (dirs.has(`${name}/`)) return true;
    for (let at = name.indexOf("/"); at !== -1; at = name.indexOf("/", at + 1)) if (names.has(name.slice(0, at))) return true;
    return false;
  }

  indexOf(name: string): number {
    return this.names().indexOf(name);
  }

  /**
   * Insert a patch after `after` (or at the start when null). `notes`: lines that come with it
   * from another series (comments and blank lines before it, its end-of-line comment, and
   * after it those that ended that series), kept as quilt keeps them.
   */
  insertAfter(after: string | null, entry: SeriesEntry, notes: SeriesNotes = {}): void {
    if (this.has(entry.name)) throw new PqError("exists", `${entry.name} is already in the series`);
    if (this.mayClash(entry.name)) this.refuseClash(entry.name);
    const at = after === null ? this.firstPatchLine() : this.lineOf(after) + 1;
    const other = (text: string): SeriesLine => ({ kind: "other", text });
    this.lines.splice(
      at,
      0,
      ...(notes.before ?? []).map(other),
      withRaw({ kind: "patch", entry: { ...entry, guards: [...entry.guards] }, comment: notes.comment ?? "" }, notes.line),
      ...(notes.after ?? []).map(other),
    );
    addName(this.nameIndex!.names, this.nameIndex!.dirs, entry.name);
  }

  /**
   * Each patch with the comment and blank lines just before it and its end-of-line comment;
   * the lines after the last patch go with it as `after`.
   */
  annotated(): { entry: SeriesEntry; notes: SeriesNotes }[] {
    const out: { entry: SeriesEntry; notes: SeriesNotes }[] = [];
    let before: string[] = [];
    for (const l of this.lines) {
      if (l.kind === "other") before.push(l.text);
      else {
        const line = l.raw !== undefined && canonicalLine(l.entry, l.comment) === l.canon ? l.raw : undefined;
        out.push({ entry: { ...l.entry, guards: [...l.entry.guards] }, notes: { before, comment: l.comment, ...(line !== undefined ? { line } : {}) } });
        before = [];
      }
    }
    if (before.length && out.length) out[out.length - 1].notes.after = before;
    return out;
  }

  /** The comment and blank lines after the last patch (every line, in a series without patches). */
  trailing(): string[] {
    const last = this.lastPatchLine();
    return this.lines.slice(last + 1).map((l) => (l.kind === "other" ? l.text : ""));
  }

  /** Replaces the lines after the last patch. */
  setTrailing(lines: string[]): void {
    const last = this.lastPatchLine();
    this.lines.splice(last + 1, this.lines.length - last - 1, ...lines.map((text): SeriesLine => ({ kind: "other", text })));
  }

  remove(name: string): void {
    this.lines.splice(this.lineOf(name), 1);
    this.nameIndex = null;
  }

  rename(from: string, to: string): void {
    if (this.has(to)) throw new PqError("exists", `${to} is already in the series`);
    this.refuseClash(to, from);
    const line = this.lines[this.lineOf(from)];
    if (line.kind === "patch") line.entry.name = to;
    this.nameIndex = null;
  }

  setGuards(name: string, guards: string[]): void {
    const line = this.lines[this.lineOf(name)];
    if (line.kind === "patch") line.entry.guards = [...guards];
  }

  /** Move a patch so it follows `after` (null: first). */
  move(name: string, after: string | null): void {
    const line = this.lines[this.lineOf(name)];
    this.lines.splice(this.lineOf(name), 1);
    const at = after === null ? this.firstPatchLine() : this.lineOf(after) + 1;
    this.lines.splice(at, 0, line);
  }

  serialize(): string {
    return this.lines
      .map((l) => {
        const end = (l.crlf ?? this.crlf) ? "\r\n" : "\n";
        if (l.kind === "other") return l.text + end;
        const line = canonicalLine(l.entry, l.comment);
        return (l.raw !== undefined && line === l.canon ? l.raw : line) + end;
      })
      .join("");
  }

  /** `a` and `a/b.patch` cannot both exist: one would have to be a file and a directory. */
  private refuseClash(name: string, leaving?: string): void {
    const other = clashingName(this.names().filter((n) => n !== leaving), name);
    if (other) throw new PqError("exists", `${name} clashes with ${other}: a patch name cannot also be a directory of patches`, ["pick another name"]);
  }

  /** The -pN of every entry that has one (quilt's per-patch strip level), by name. */
  stripLevels(): Map<string, number> {
    const out = new Map<string, number>();
    for (const l of this.lines) if (l.kind === "patch" && l.entry.strip !== undefined) out.set(l.entry.name, l.entry.strip);
    return out;
  }

  /** How many leading path components the patch's file names carry (quilt's -pN; default 1). */
  stripOf(name: string): number {
    const line = this.lines[this.lineOf(name)];
    return line.kind === "patch" ? (line.entry.strip ?? 1) : 1;
  }

  /** A refreshed patch is written with a/ b/ prefixes: its entry loses any other -pN. */
  setStrip(name: string, strip: number): void {
    const line = this.lines[this.lineOf(name)];
    if (line.kind !== "patch") return;
    if (strip === 1) delete line.entry.strip;
    else line.entry.strip = strip;
  }

  private lineOf(name: string): number {
    // From the end: a series built in order inserts after the patch it inserted last (names are unique).
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const line = this.lines[i];
      if (line.kind === "patch" && line.entry.name === name) return i;
    }
    throw new PqError("not-found", `${name} is not in the series`, [], { patch: name });
  }

  private lastPatchLine(): number {
    let i = this.lines.length - 1;
    while (i >= 0 && this.lines[i].kind !== "patch") i--;
    return i;
  }

  private firstPatchLine(): number {
    const i = this.lines.findIndex((l) => l.kind === "patch");
    return i === -1 ? this.lines.length : i;
  }
}

/**
 * The options quilt allows after a patch name (it hands them to GNU patch): `-pN` is kept;
 * the others change how the patch applies in ways pq does not model, so they are refused
 * by name rather than ignored.
 */
function parseOptions(opts: string[], name: string, lineNo: number): number | undefined {
  let strip: number | undefined;
  for (const o of opts) {
    const p = /^-p(\d{1,3})$/.exec(o);
    if (p) {
      strip = Number(p[1]);
      continue;
    }
    const why =
      o === "-R" || o === "--reverse"
        ? "pq does not apply a patch reversed; replace the file with the reversed patch and drop -R"
        : /^(-F|--fuzz)/.test(o)
          ? "a per-patch fuzz is not supported; drop it and use pq push --fuzz N"
          : /^-p/.test(o)
            ? "the strip level must be written -pN with a number, e.g. -p0"
            : "pq understands only -pN after a patch name";
    throw new PqError("bad-patch", `series line ${lineNo}: option ${o} after ${name} is not supported: ${why}`);
  }
  return strip;
}

/**
 * hg mq's rule: an unguarded patch is always pushable; with positive guards it needs one of
 * them selected; any selected negative guard excludes it.
 */
export function isPushable(entry: Readonly<SeriesEntry>, selected: readonly string[]): boolean {
  if (!entry.guards.length) return true;
  const positive = entry.guards.filter((g) => g.startsWith("+")).map((g) => g.slice(1));
  const negative = entry.guards.filter((g) => g.startsWith("-")).map((g) => g.slice(1));
  if (negative.some((g) => selected.includes(g))) return false;
  if (positive.length && !positive.some((g) => selected.includes(g))) return false;
  return true;
}

/**
 * A name pq takes for a guard: hg mq's rule (no white space or '#', and not starting with '+'
 * or '-'), and no control character. A narrower rule of pq's own refused a queue hg made
 * (`#+a:b`, `#+é`: t129 N1), and a guard a colleague's series carried could not be selected
 * (t127 N14). A guard is never run by a shell: advice quotes it.
 */
export function isGuardName(guard: string): boolean {
  return guard !== "" && !/^[+-]/.test(guard) && !/[\s#\x00-\x1f\x7f]/.test(guard);
}

export function validateGuardName(guard: string): void {
  if (!isGuardName(guard)) {
    throw new PqError("usage", `invalid guard name ${JSON.stringify(guard)}: a guard holds no white space or '#', and does not start with '+' or '-' (hg mq's rule)`);
  }
}

/** A new patch line with the series line it came from, when that line reads as the same entry. */
function withRaw(l: Extract<SeriesLine, { kind: "patch" }>, raw: string | undefined): SeriesLine {
  if (raw === undefined) return l;
  const canon = canonicalLine(l.entry, l.comment);
  return canonicalSeriesLine(raw) === canon ? { ...l, raw, canon } : l;
}

/** A series line as pq would write it (the spacing and an explicit -p1 normalised); null for no patch line. */
export function canonicalSeriesLine(raw: string): string | null {
  try {
    const read = Series.parse(`${raw}\n`).annotated()[0];
    return read ? canonicalLine(read.entry, read.notes.comment ?? "") : null;
  } catch {
    return null;
  }
}
