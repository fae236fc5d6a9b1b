/**
 * What the assembler reads besides the source: `.incbin` data and `.include` files. gcc -MD
 * does not list them and the preprocessed text does not hold their bytes, so an object keyed on
 * that text alone outlived a change to the blob (ci-7 #4). The scan reads the text as the
 * assembler will see it; where it cannot name what a directive reads, it says so (null), and the
 * object is compiled every time rather than handed back stale.
 */
import { existsSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { readText } from "../tree/files.js";

/**
 * The files the assembler reads for one source, as paths relative to the tree, or null when a
 * directive's file cannot be named. `preprocessed`: gcc -E's output; `language`: "c" for a C
 * file (its asm() strings are what the assembler gets, joined and unescaped as the compiler
 * makes them), "asm" for a .S file (its text is the assembler's input). Looked up as GAS does:
 * the build's directory, then the -I folders.
 */
export function assemblerReads(preprocessed: string, tree: string, flags: string[], language: "c" | "asm" = "asm"): string[] | null {
  const dirs = ["", ...includeFolders(flags)];
  const found = new Set<string>();
  let unknown = false;
  const scan = (text: string, depth: number) => {
    // GAS takes a directive in any case (.INCBIN, .Include: t124 N7). The escaped quotes are C's
    // (an asm() line as the source spells it, which the "asm" reading of a file may hold).
    const directives = [...text.matchAll(/\.(incbin|include)\b/gi)].length;
    // A directive name GAS puts together from a macro's argument (`.inc\x`, `\dir "f"`) reads a
    // file with no `.incbin` in the text at all.
    if (builtByMacro(text)) unknown = true;
    let read = 0;
    for (const m of text.matchAll(/\.(incbin|include)\s+\\?"(?:"\s*")*([^"\\]+)\\?"/gi)) {
      read++;
      const name = m[2];
      const located = isAbsolute(name) ? name : dirs.map((d) => join(d, name)).find((p) => existsSync(resolve(tree, p)));
      // Not in any folder pq knows of: the assembler finds it through one pq does not read (a flag
      // spelt another way), so the object is not keyed on it (t126 N1: served stale).
      if (located === undefined) {
        unknown = true;
        continue;
      }
      if (found.has(located)) continue;
      found.add(located);
      // An .include'd file's own .incbin and .include lines are read by the assembler too.
      if (m[1].toLowerCase() === "include" && depth < 8) {
        const included = readText(resolve(tree, located));
        if (included !== null) scan(included, depth + 1);
      }
    }
    // A directive whose file this scan cannot name (an escape in the name, a name a macro builds):
    // the object is not keyed on what it reads.
    if (read < directives) unknown = true;
  };
  scan(language === "c" ? assemblerTextOfC(preprocessed) : preprocessed, 0);
  return unknown ? null : [...found].sort();
}

/**
 * Whether GAS may build a directive's name from a macro's argument: the text defines a macro
 * (.macro, .irp, .irpc) and has a directive or statement whose name takes an argument in
 * (`.inc\x`, `.inc&x` under .altmacro, a statement that starts with `\x`).
 */
function builtByMacro(text: string): boolean {
  if (!/\.(macro|irpc?)\b/i.test(text)) return false;
  return /(^|[\s;])\.[A-Za-z_][\w.$]*[\\&]/m.test(text) || /^[ \t]*(?:[\w.$]+:[ \t]*)?[\\&]/m.test(text);
}

/** C's simple escapes, as the compiler turns them into characters. */
const SIMPLE_ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", a: "\x07", b: "\b", f: "\f", v: "\v", e: "\x1b" };

/**
 * A preprocessed C file as far as the assembler is concerned: every run of adjacent string
 * literals joined and unescaped, as the compiler makes them before it hands an asm()
 * statement's text to the assembler; the code between them left as it is. A directive split
 * over two literals (`".inc" "bin \"f\""`, as a macro that pastes one makes) or spelt with
 * escapes (`"\x2eincbin"`) was not seen, and a stale object was linked (t155 N2).
 */
export function assemblerTextOfC(text: string): string {
  const out: string[] = [];
  let copied = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "'") {
      // A character literal ('"' is no string's start); a lone quote is copied as it is.
      const literal = /'(?:\\(?:x[0-9A-Fa-f]+|[0-7]{1,3}|.)|[^'\\\n])'/y;
      literal.lastIndex = i;
      i = literal.test(text) ? literal.lastIndex : i + 1;
      continue;
    }
    if (c !== '"') {
      i++;
      continue;
    }
    out.push(text.slice(copied, i));
    let content = "";
    // One literal, then each one that follows with only blanks and line markers between.
    for (;;) {
      const { value, end } = readStringLiteral(text, i + 1);
      content += value;
      const next = /(?:\s|^#[^\n]*\n)*/my;
      next.lastIndex = end;
      next.test(text);
      if (text[next.lastIndex] !== '"') {
        i = end;
        break;
      }
      i = next.lastIndex;
    }
    out.push(content);
    copied = i;
  }
  out.push(text.slice(copied));
  return out.join("");
}

/** Where a run of a literal's plain characters stops: its end, an escape, or a line's end (an unclosed literal). */
const LITERAL_STOP = /["\\\n]/g;

/** The characters of a C string literal whose text starts at `from` (after its quote), and where it ends (after its closing quote). */
function readStringLiteral(text: string, from: number): { value: string; end: number } {
  let value = "";
  let i = from;
  while (i < text.length && text[i] !== '"' && text[i] !== "\n") {
    if (text[i] !== "\\") {
      LITERAL_STOP.lastIndex = i;
      const to = LITERAL_STOP.exec(text)?.index ?? text.length;
      value += text.slice(i, to);
      i = to;
      continue;
    }
    const e = text[i + 1] ?? "";
    if (/[0-7]/.test(e)) {
      const digits = /^[0-7]{1,3}/.exec(text.slice(i + 1, i + 4))![0];
      value += String.fromCharCode(parseInt(digits, 8));
      i += 1 + digits.length;
    } else if (e === "x" && /[0-9A-Fa-f]/.test(text[i + 2] ?? "")) {
      const digits = /^[0-9A-Fa-f]+/.exec(text.slice(i + 2))![0];
      value += String.fromCharCode(parseInt(digits.slice(-2), 16));
      i += 2 + digits.length;
    } else if ((e === "u" || e === "U") && /^[0-9A-Fa-f]+/.test(text.slice(i + 2, i + (e === "u" ? 6 : 10)))) {
      const digits = text.slice(i + 2, i + (e === "u" ? 6 : 10));
      value += String.fromCodePoint(Math.min(parseInt(digits, 16), 0x10ffff));
      i += 2 + digits.length;
    } else {
      value += SIMPLE_ESCAPES[e] ?? e;
      i += 2;
    }
  }
  return { value, end: text[i] === '"' ? i + 1 : i };
}

/**
 * The folders the assembler looks in: gcc's -I (which a .S file's assembler sees through cpp's
 * search too) and the assembler's own (-Wa,-IDIR, -Wa,-I,DIR, -Xassembler -IDIR), in one word or two (gcc hands each
 * comma-separated word to as: t124 N7, `-Wa,-I,blobs` was read as a folder ",blobs"; t125 N8, "-I", "blobs" as none).
 */
function includeFolders(flags: string[]): string[] {
  // The words as the assembler (and gcc's own -I) sees them: -Wa,a,b is a and b; -Xassembler x is x.
  const words: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    if (flags[i].startsWith("-Wa,")) words.push(...flags[i].slice(4).split(","));
    else if (flags[i] === "-Xassembler" && i + 1 < flags.length) words.push(flags[++i]);
    else words.push(flags[i]);
  }
  const folders: string[] = [];
  // -I DIR in two words too, as gcc and as both take it (t125 N8: "-I", "blobs" in build.json).
  for (let i = 0; i < words.length; i++) {
    // gcc's long spelling too, --include-directory[=]DIR (t126 N1).
    if ((words[i] === "-I" || words[i] === "--include-directory") && i + 1 < words.length) folders.push(words[++i]);
    else if (words[i].startsWith("--include-directory=")) folders.push(words[i].slice("--include-directory=".length));
    else if (words[i].startsWith("-I") && words[i].length > 2) folders.push(words[i].slice(2));
  }
  return folders;
}
