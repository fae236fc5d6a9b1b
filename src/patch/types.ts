/**
 * The patch model. All texts are latin1-decoded byte strings (one char per byte), so
 * line endings, encodings and binary data survive exactly.
 */
export interface HunkLine {
  op: " " | "-" | "+";
  /** The line's content including its terminator ("\n", "\r\n"), or none when the patch says "\ No newline at end of file". */
  text: string;
}

export interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** Text after the second "@@" (the function name git shows). */
  section: string;
  lines: HunkLine[];
}

export type FileChangeKind = "modify" | "create" | "delete" | "rename" | "copy";

export interface BinaryBlock {
  kind: "literal" | "delta";
  size: number;
  /** zlib-deflated payload, decoded from base85. */
  data: Uint8Array;
}

export interface BinaryPatch {
  /**
   * null for "Binary files ... differ" with no data: applied as GNU patch does (a new file
   * is created empty, a changed one is left as it is, only an empty file is deleted).
   */
  forward: BinaryBlock | null;
  reverse: BinaryBlock | null;
  /** The no-data line came without a git header (plain `diff`, quilt's `Index:`): GNU patch skips it. */
  plain?: boolean;
}

export interface FilePatch {
  oldPath: string | null;
  newPath: string | null;
  kind: FileChangeKind;
  oldMode?: string;
  newMode?: string;
  similarity?: number;
  /**
   * git's index line. Its mode (`index a..b 100755`) only says what the file was where the
   * patch was made: a patch without old/new mode lines changes content, never the mode, as
   * git apply and GNU patch read it.
   */
  index?: { oldBlob: string; newBlob: string; mode?: string };
  binary?: BinaryPatch;
  hunks: Hunk[];
  /**
   * A plain (non-git) diff whose ---/+++ names differ, like `x.c.orig` and
   * `x.c`: one file, which GNU patch chooses by what exists (see bestName).
   */
  candidates?: string[];
}

export interface ParsedPatch {
  /** Everything before the first file's diff, verbatim (mail headers, description). */
  header: string;
  files: FilePatch[];
}

export interface HunkResult {
  /** 1-based, as GNU patch numbers hunks. */
  index: number;
  /** "eol": matched only with line endings set aside (see `eol`), at any offset and without fuzz; GNU patch fails such a hunk. */
  status: "exact" | "offset" | "eol" | "fuzz" | "failed";
  /** A failed hunk that fits only above where the hunk before it went: the patch's hunks are out of file order (GNU patch: "misordered hunks"). */
  misordered?: boolean;
  /** A failed hunk, in file order, that fits only over lines the hunk before it (this number) changed: the two overlap. */
  overlaps?: number;
  offset: number;
  fuzz: number;
  /**
   * 1-based line where the hunk applied (or was expected, when it failed), numbered as GNU
   * patch numbers it: in the file as the hunks before it left it.
   */
  line?: number;
  /**
   * The hunk matched only with line endings set aside (an LF patch on a CRLF file, or the
   * reverse), which GNU patch and git apply refuse: its added lines took the file's ending.
   */
  eol?: "crlf" | "lf";
}

export interface FileApplyResult {
  ok: boolean;
  /** The new content (null: the file is deleted). When !ok, the hunks that did apply. */
  content: string | null;
  hunks: HunkResult[];
  /** Where each line of `content` starts, when the result was built line by line. */
  index?: { text: string; starts: Int32Array };
  /** `content` as ranges of the old content and added text, when it was built that way. */
  delta?: DeltaPiece[];
}

/** A piece of a patched file: [start, end) of the old content, or added text. */
export type DeltaPiece = readonly [number, number] | string;
