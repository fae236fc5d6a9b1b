/**
 * Which compiler and linker flags build.json may hold. A patch can change build.json, and a
 * shared queue's patches are anyone's with push rights: a flag that makes gcc or ld run or load
 * a program (gcc's -wrapper and -B, a -specs file, -fplugin, ld's --plugin) ran a script the
 * same patch brought, on every `pq build`, `pq ci`, `sync --check` and on the server's gate
 * (t127 N2). So the flags are judged against the forms a freestanding kernel build uses (an
 * allow-list: a flag of a family not named here is refused, not guessed at), and the flags a
 * family holds that run programs are refused by name. Paths the accepted flags carry are
 * checked apart (readBuildDescription: nothing may lead out of the tree).
 */

export type FlagTool = "cc" | "ld";

/** Why a flag is refused, or null when pq passes it on. */
export interface FlagRefusal {
  flag: string;
  why: string;
}

const RUNS_A_PROGRAM =
  "it makes the compiler or linker run or load a program other than its own, which a patch could bring (a patch changes build.json too)";

/** gcc flags that run or load a program of the caller's choosing, by their prefix. */
const CC_RUNNERS = [
  /^-wrapper$/,
  /^-B/,
  /^--?specs(=|$)/,
  /^-fplugin/,
  /^-fuse-ld=/,
  /^-iplugindir/,
  /^-fplugin-arg-/,
  /^--?for-linker/,
  // Its value is a second compile's options, -fplugin= among them (t132 N5).
  /^-fcompare-debug/,
];

/**
 * Folders named relative to a sysroot or a prefix, which gcc and ld join to another value
 * (`--sysroot=` empty and `-I$SYSROOT/abs`, `-iprefix . -iwithprefix ./`, `-I=./` with
 * `--sysroot=.`): the path check sees each half inside the tree and the whole outside it (t132 N1, N2).
 */
const JOINED_PATHS = [/^--?sysroot/, /^-isysroot/, /^-iprefix/, /^-iwithprefix/, /\$SYSROOT/, /^-(I|L|iquote|isystem|idirafter)=/];

/** ld flags that load a program (a plugin shared object). */
const LD_RUNNERS = [/^--?plugin/];

/** gcc driver flags that take the next entry as their value. */
const CC_WITH_VALUE = new Set([
  "-D",
  "-U",
  "-I",
  "-iquote",
  "-isystem",
  "-idirafter",
  "-include",
  "-imacros",
  "-MF",
  "-MT",
  "-MQ",
  "-x",
  "-o",
  "--param",
]);

const PREPROCESSOR_WITH_VALUE: ReadonlySet<string> = new Set(["-MD", "-MMD"]);

/** Flags whose value goes to another tool: judged as that tool's own flag. */
const PASSED_ON: Record<string, FlagTool | "as"> = { "-Xlinker": "ld", "-Xassembler": "as", "-Xpreprocessor": "cc" };

const CC_FORMS = [
  /^-O([0-3sgz]|fast)?$/,
  /^-g[a-z0-9-]*(=[a-z0-9]+)?$/,
  /^-std=[a-z0-9+]+$/,
  // Not -P: the preprocessor's line markers say which files a source read (see includedFiles in build.ts).
  /^-(ansi|pedantic|pedantic-errors|w|W|pipe|undef|C|CC|H|c|S|E|v|s|static|nostdinc|nostdinc\+\+|nostdlib|nostartfiles|nodefaultlibs|trigraphs|traditional|traditional-cpp|save-temps)$/,
  // Warnings (-Wall, -Wno-unused-parameter, -Werror=format): not -Wa, -Wl or -Wp, judged below.
  /^-W(?![alp],)(no-)?[a-z0-9][a-z0-9_+=.-]*$/,
  // Code generation and target options (-ffreestanding, -fno-pic, -mregparm=3, -march=i386).
  /^-f(no-)?[a-z0-9][a-z0-9_+=.,-]*$/,
  /^-m(no-)?[a-z0-9][a-z0-9_+=.,-]*$/,
  /^-[DU]./,
  /^-(I|iquote|isystem|idirafter|include|imacros)./,
  /^-M(D|MD|M|G|P)?$/,
  /^-M[FTQ]./,
  /^-x[a-z+-]+$/,
  /^--param=/,
  /^-o./,
];

const LD_FORMS = [
  /^-z$/,
  /^-z[a-z0-9_=-]+$/,
  /^-m$/,
  /^-m[a-z0-9_]+$/,
  /^-(nostdlib|static|Bstatic|Bdynamic|Bsymbolic|N|n|s|S|x|X|r|M|d|dc|dp|i|q|t|v|V|E|Ur|pie|no-pie)$/,
  /^-O[0-9]?$/,
  /^-[eLlTRco]$/,
  /^-[eLlTRco]./,
  /^-T(text|data|bss|ldata|text-segment)[=]?/,
  /^-Map(=.+)?$/,
  // Long options (--gc-sections, --build-id=none, --no-warn-rwx-segments, -Map=FILE's kin): ld's
  // only long options that load code are its plugins, refused above.
  /^--?[a-z][a-z0-9-]*(=.*)?$/,
];

/** ld flags that take the next entry as their value. */
const LD_WITH_VALUE = new Set(["-z", "-m", "-e", "-L", "-l", "-T", "-R", "-c", "-o", "-Map", "--entry", "--defsym", "--section-start"]);

/** The first flag of `entries` pq will not pass to `tool`, or null. */
export function refusedFlag(entries: readonly string[], tool: FlagTool, alsoWithValue?: ReadonlySet<string>): FlagRefusal | null {
  for (let i = 0; i < entries.length; i++) {
    const flag = entries[i];
    const passedTo = tool === "cc" ? PASSED_ON[flag] : undefined;
    if (passedTo) {
      const value = entries[i + 1];
      if (value === undefined) return { flag, why: "its value is missing (the next entry)" };
      const inner = passedTo === "as" ? null : refusedFlag([value], passedTo);
      if (inner) return { flag: `${flag} ${value}`, why: inner.why };
      i++;
      continue;
    }
    const takesValue = (tool === "cc" ? CC_WITH_VALUE : LD_WITH_VALUE).has(flag) || alsoWithValue?.has(flag) === true;
    if (takesValue) {
      // The value of a folder or library option, in an entry of its own: judged as the glued form is.
      const value = entries[i + 1];
      const joined = value === undefined ? null : tool === "cc" ? ccRefusal(`${flag}${value}`) : ldRefusal(`${flag}${value}`);
      if (value !== undefined && /^-[ILl]$|^-(iquote|isystem|idirafter)$/.test(flag) && joined)
        return { flag: `${flag} ${value}`, why: joined };
    }
    const refusal = takesValue ? null : tool === "cc" ? ccRefusal(flag) : ldRefusal(flag);
    if (refusal) return { flag, why: refusal };
    if (takesValue) {
      if (entries[i + 1] === undefined) return { flag, why: "its value is missing (the next entry)" };
      i++;
    }
  }
  return null;
}

const JOINS_PATHS =
  "it names a folder by a sysroot or prefix that gcc or ld joins to another value, which pq cannot check as one path: name the folder inside the tree itself (-Iinclude)";

function ccRefusal(flag: string): string | null {
  if (CC_RUNNERS.some((r) => r.test(flag))) return RUNS_A_PROGRAM;
  if (JOINED_PATHS.some((r) => r.test(flag))) return JOINS_PATHS;
  // Passed on to the preprocessor (cc1, which loads plugins too), the linker or the assembler.
  const passed = /^-W([pla]),(.*)$/.exec(flag);
  if (passed) {
    const values = passed[2].split(",");
    if (passed[1] === "a") return null; // the assembler runs nothing; its paths are checked as any flag's
    // The preprocessor's -MD and -MMD take the file they write as their value (-Wp,-MD,deps.d).
    const inner = refusedFlag(values, passed[1] === "l" ? "ld" : "cc", passed[1] === "p" ? PREPROCESSOR_WITH_VALUE : undefined);
    return inner ? `${inner.flag}: ${inner.why}` : null;
  }
  return CC_FORMS.some((r) => r.test(flag)) ? null : unknownFlag("cc");
}

function ldRefusal(flag: string): string | null {
  if (LD_RUNNERS.some((r) => r.test(flag))) return RUNS_A_PROGRAM;
  if (JOINED_PATHS.some((r) => r.test(flag))) return JOINS_PATHS;
  // A library by a file name (-l:NAME) is a path ld looks up in every -L folder: a name, no folders (t132 N2).
  if (/^-l:?./.test(flag) && /[/\\]|\.\./.test(flag))
    return "a library named with folders (-l:../x.o) is a path pq cannot check in every -L folder: put the object in the tree and name it there";
  return LD_FORMS.some((r) => r.test(flag)) ? null : unknownFlag("ld");
}

const unknownFlag = (tool: FlagTool) =>
  tool === "cc"
    ? "pq passes on gcc's -O, -g, -std=, -W, -f, -m, -D, -U, -I (and the other include options), -M and -x flags, and -Wa, -Wp, -Wl, -Xassembler, -Xlinker, -Xpreprocessor with values of those kinds; this is none of them"
    : "pq passes on ld's -z, -m, -e, -L, -l, -T, -O, -Map and single-letter flags, and its long --options other than plugins; this is none of them";
