import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildTree, detectToolchain } from "../../src/build/index.js";
import { depsFromMakefile } from "../../src/build/build.js";
import { assemblerReads, assemblerTextOfC } from "../../src/build/assembler-reads.js";
import { PqError } from "../../src/errors.js";
import { fixtureKernelTree } from "../helpers/kernels.js";
import { cleanup, pq, tempDir } from "../helpers/repo.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach(cleanup));
const cacheDir = tempDir("pq-cache-");
dirs.push(cacheDir);

/** The fixture kernel with blob.S pulling blob.bin ("OK") in by `directive`, and an object cache of its own. */
function blobKernel(directive: string): { tree: string; cache: string } {
  const tree = fixtureKernelTree("pass");
  const cache = tempDir("pq-cache-incbin-");
  dirs.push(tree, cache);
  writeFileSync(join(tree, "blob.bin"), "OK");
  writeFileSync(join(tree, "blob.S"), `\t.section .rodata\n\t.globl pq_blob\npq_blob:\n\t${directive} "blob.bin"\n`);
  const description = JSON.parse(readFileSync(join(tree, "build.json"), "utf8")) as { sources: string[] };
  description.sources.push("blob.S");
  writeFileSync(join(tree, "build.json"), JSON.stringify(description));
  return { tree, cache };
}

describe("pq build", () => {
  it("reads gcc's dependency rules as make does, and keys an object on the data .incbin pulls in (ci-7 #4, #9)", async () => {
    expect(depsFromMakefile("obj.o: main.c include/pq\\ val.h \\\n include/a\\#b.h cost$$.h\n")).toEqual([
      "main.c",
      "include/pq val.h",
      "include/a#b.h",
      "cost$.h",
    ]);
    const named = tempDir("pq-asm-named-");
    dirs.push(named);
    for (const f of ["blob.bin", "macros.inc", "data/blob.bin"]) {
      mkdirSync(join(named, f, ".."), { recursive: true });
      writeFileSync(join(named, f), "");
    }
    // A file in no folder pq knows of: found by the assembler some other way, so no list (compiled every time: t126 N1).
    expect(assemblerReads('\t.incbin "blob.bin"\n', "/nonexistent", [])).toBeNull();
    expect(assemblerReads('\t.incbin "blob.bin"\nasm(".include \\"macros.inc\\"");\n', named, [])).toEqual(["blob.bin", "macros.inc"]);
    // A macro's string pasted into asm(), and an .incbin inside an .include'd file (verify-7 V3).
    expect(assemblerReads('asm(".incbin \\"" "data/blob.bin" "\\"\\n");\n', named, [])).toEqual(["data/blob.bin"]);
    const nest = tempDir("pq-asm-include-");
    dirs.push(nest);
    writeFileSync(join(nest, "blobdata.s"), '\t.incbin "inner.bin"\n');
    writeFileSync(join(nest, "inner.bin"), "");
    expect(assemblerReads('\t.include "blobdata.s"\n', nest, [])).toEqual(["blobdata.s", "inner.bin"]);
    const { tree, cache } = blobKernel(".incbin");
    const first = await buildTree({ tree, cacheDir: cache, stateCache: false });
    expect(first.ok).toBe(true);
    // Only the blob changes: the preprocessed source is the same, and the object must not be.
    writeFileSync(join(tree, "blob.bin"), "NO");
    const second = await buildTree({ tree, cacheDir: cache, stateCache: false });
    expect([second.ok, second.compiled]).toEqual([true, 1]);
    expect(readFileSync(second.kernelPath!).includes("NO")).toBe(true);
    // And back: the first object again, by its dependency record, nothing compiled.
    writeFileSync(join(tree, "blob.bin"), "OK");
    expect((await buildTree({ tree, cacheDir: cache, stateCache: false })).compiled).toBe(0);
  });

  it("sees what the assembler reads however the directive is spelt, and its folders however gcc hands them over (t124 N7)", async () => {
    const blobs = tempDir("pq-asm-folders-");
    dirs.push(blobs);
    mkdirSync(join(blobs, "blobs"));
    writeFileSync(join(blobs, "blobs", "blob.bin"), "A");
    // GAS takes a directive in any case.
    writeFileSync(join(blobs, "m.inc"), "");
    expect(assemblerReads('\t.INCBIN "blobs/blob.bin"\n\t.Include "m.inc"\n', blobs, [])).toEqual(["blobs/blob.bin", "m.inc"]);
    // -Wa,-I,DIR is as's -I DIR, as -Wa,-IDIR is.
    for (const flags of [
      ["-Wa,-Iblobs"],
      ["-Wa,-I,blobs"],
      ["-Wa,--32,-I,blobs"],
      ["-I", "blobs"],
      ["-Wa,-I", "-Wa,blobs"],
      ["-Xassembler", "-Iblobs"],
      ["--include-directory=blobs"],
      ["--include-directory", "blobs"],
    ])
      expect(assemblerReads('\t.incbin "blob.bin"\n', blobs, flags), flags.join(" ")).toEqual(["blobs/blob.bin"]);
    // A name this scan cannot read (an escape as takes): no list, so the object is compiled every time.
    expect(assemblerReads('\t.incbin "bl\\157b.bin"\n', blobs, [])).toBeNull();
    // Built: an upper-case .INCBIN's blob changed alone gives a new object, never the stale one.
    const { tree, cache } = blobKernel(".INCBIN");
    expect((await buildTree({ tree, cacheDir: cache, stateCache: false })).ok).toBe(true);
    writeFileSync(join(tree, "blob.bin"), "NO");
    const second = await buildTree({ tree, cacheDir: cache, stateCache: false });
    expect(second.ok).toBe(true);
    expect(readFileSync(second.kernelPath!).includes("NO")).toBe(true);
  });

  it("sees an .incbin in a C file's asm() however the compiler puts its text together: joined literals, escapes (t155 N2)", async () => {
    const named = tempDir("pq-asm-c-");
    dirs.push(named);
    mkdirSync(join(named, "data"));
    writeFileSync(join(named, "data/blob.bin"), "");
    // Split over two literals (a macro that pastes the directive), with a line marker between; spelt with an escape.
    const split = 'asm(".section .rodata\\n.inc" "bin \\"data/blob.bin\\"\\n"\n# 7 "blob.c"\n  ".previous");\n';
    expect(assemblerTextOfC(split)).toBe('asm(.section .rodata\n.incbin "data/blob.bin"\n.previous);\n');
    expect(assemblerReads(split, named, [], "c")).toEqual(["data/blob.bin"]);
    expect(assemblerReads('asm("\\x2eincbin \\"data/blob.bin\\"");\n', named, [], "c")).toEqual(["data/blob.bin"]);
    expect(assemblerReads('asm("\\056incbin \\"da" "ta/blob.bin\\"");\n', named, [], "c")).toEqual(["data/blob.bin"]);
    // A character literal '"' is no string's start.
    expect(assemblerReads('char q = \'"\'; asm(".inc" "bin \\"data/blob.bin\\"");\n', named, [], "c")).toEqual(["data/blob.bin"]);
    // A directive GAS builds from a macro's argument: nothing to name, compiled every time.
    expect(assemblerReads('.macro m x\n\t.inc\\x "data/blob.bin"\n.endm\n\tm bin\n', named, [])).toBeNull();
    expect(assemblerReads('.macro m d\n\t\\d "data/blob.bin"\n.endm\n\tm .incbin\n', named, [])).toBeNull();
    // Macros that only name symbols (the model's entry.S) leave the scan as it is.
    expect(
      assemblerReads('.macro v num\n\t.globl vector_\\num\nvector_\\num:\n\tpushl $\\num\n.endm\n\t.incbin "data/blob.bin"\n', named, []),
    ).toEqual(["data/blob.bin"]);
    // Built: the blob of a C file's split directive changed alone gives a new object, never the stale one.
    const tree = fixtureKernelTree("pass");
    const cache = tempDir("pq-cache-incbin-c-");
    dirs.push(tree, cache);
    writeFileSync(join(tree, "blob.bin"), "AAAAAAAA");
    writeFileSync(join(tree, "blob.c"), 'asm(".section .rodata\\n.globl pq_blob\\npq_blob:\\n.inc" "bin \\"blob.bin\\"\\n.previous");\n');
    const description = JSON.parse(readFileSync(join(tree, "build.json"), "utf8")) as { sources: string[] };
    description.sources.push("blob.c");
    writeFileSync(join(tree, "build.json"), JSON.stringify(description));
    expect((await buildTree({ tree, cacheDir: cache, stateCache: false })).ok).toBe(true);
    writeFileSync(join(tree, "blob.bin"), "BBBBBBBB");
    const second = await buildTree({ tree, cacheDir: cache, stateCache: false });
    expect([second.ok, second.compiled]).toEqual([true, 1]);
    expect(readFileSync(second.kernelPath!).includes("BBBBBBBB")).toBe(true);
  });

  it("builds, then takes every object from the cache, then recompiles exactly the changed file", async () => {
    const tree = fixtureKernelTree("pass");
    dirs.push(tree);
    const cold = await buildTree({ tree, cacheDir });
    expect(cold.ok).toBe(true);
    expect(cold.compiled).toBe(2);
    expect(readFileSync(cold.kernelPath!).subarray(0, 4).toString("latin1")).toBe("\x7fELF");
    const warm = await buildTree({ tree, cacheDir });
    expect([warm.compiled, warm.cached]).toEqual([0, 2]);
    writeFileSync(join(tree, "main.c"), readFileSync(join(tree, "main.c"), "utf8").replace("smoke=pass", "smoke=pass "));
    const one = await buildTree({ tree, cacheDir });
    expect([one.compiled, one.cached]).toEqual([1, 1]);
    // Touching without changing content recompiles nothing.
    utimesSync(join(tree, "main.c"), new Date(), new Date(Date.now() + 5000));
    expect((await buildTree({ tree, cacheDir })).compiled).toBe(0);
  });

  it("a cached object that no longer matches its checksum (truncated) is compiled again, not linked", async () => {
    const tree = fixtureKernelTree("pass");
    dirs.push(tree);
    const cache = tempDir("pq-cache-sums-");
    dirs.push(cache);
    const cold = await buildTree({ tree, cacheDir: cache, stateCache: false });
    expect(cold.ok).toBe(true);
    const coldImage = readFileSync(cold.kernelPath!);
    const objects = readdirSync(join(cache, "objects")).filter((n) => n.endsWith(".o"));
    expect(objects.length).toBe(2);
    for (const o of objects) truncateSync(join(cache, "objects", o), 10);
    const again = await buildTree({ tree, cacheDir: cache, stateCache: false });
    expect([again.ok, again.compiled]).toEqual([true, 2]);
    expect(readFileSync(again.kernelPath!)).toEqual(coldImage);
  });

  it("the object cache's dependency records hold every variant a source was built in, wherever the tree is: back at a state, nothing is preprocessed", async () => {
    const log = join(tempDir("pq-cc-log-"), "cc.log");
    dirs.push(join(log, ".."));
    const wrapper = join(tempDir("pq-cc-"), "cc");
    dirs.push(join(wrapper, ".."));
    const real = await detectToolchain();
    writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> ${log}\nexec ${real.cc} "$@"\n`, { mode: 0o755 });
    const toolchain = { ...real, cc: wrapper };
    const cache = tempDir("pq-cache-variants-");
    dirs.push(cache);
    const tree = (header: string) => {
      const t = fixtureKernelTree("pass");
      dirs.push(t);
      writeFileSync(join(t, "serial.h"), readFileSync(join(t, "serial.h"), "utf8") + header);
      return t;
    };
    // Two states of a series (a header differs), each built in a new scratch folder, then the first again.
    for (const variant of ["", "/* state two */\n", ""])
      await buildTree({ tree: tree(variant), cacheDir: cache, stateCache: false, toolchain });
    expect(readFileSync(log, "utf8")).toMatch(/ -E /); // the wrapper is the compiler the builds ran
    writeFileSync(log, "");
    const again = await buildTree({ tree: tree("/* state two */\n"), cacheDir: cache, stateCache: false, toolchain });
    expect(again.ok).toBe(true);
    expect(
      readFileSync(log, "utf8")
        .split("\n")
        .filter((l) => / -E /.test(` ${l} `)),
    ).toEqual([]);
  });

  it("a header that appears where the include search looks first is noticed (no stale object), also with --no-cache's state cache off", async () => {
    const tree = fixtureKernelTree("pass");
    dirs.push(tree);
    const main = readFileSync(join(tree, "main.c"), "utf8");
    writeFileSync(join(tree, "main.c"), `#if __has_include("pq-extra.h")\n#include "pq-extra.h"\n#endif\n${main}`);
    for (const stateCache of [true, false]) {
      const cache = tempDir("pq-cache-shadow-");
      dirs.push(cache);
      rmSync(join(tree, "pq-extra.h"), { force: true });
      expect((await buildTree({ tree, cacheDir: cache, stateCache })).ok).toBe(true);
      // Not among the files the first compile read: only a new look at the tree finds it.
      writeFileSync(join(tree, "pq-extra.h"), '#error "the new header is used"\n');
      const second = await buildTree({ tree, cacheDir: cache, stateCache });
      expect(second.ok, `state cache ${stateCache}`).toBe(false);
      expect(second.log).toContain("the new header is used");
    }
  });

  it("build.json may not name paths outside the tree (a patch could otherwise make pq ci write the image anywhere)", async () => {
    const tree = fixtureKernelTree("pass");
    dirs.push(tree);
    const desc = JSON.parse(readFileSync(join(tree, "build.json"), "utf8"));
    symlinkSync(tempDir("pq-outside-include-"), join(tree, "include-link"));
    for (const [field, value] of [
      ["output", "../../../victim"],
      ["output", "/tmp/victim"],
      ["linkerScript", "../kernel.ld"],
      ["ldflags", ["-Map=/tmp/victim.map"]],
      ["cflags", ["-I../outside"]],
      // The preprocessor's own options and a response file (ci-7 #17).
      ["cflags", ["-Wp,-I/tmp/outside"]],
      ["cflags", ["-Wp,-MD,/tmp/victim.d"]],
      ["cflags", ["@/tmp/opts"]],
      ["cflags", ["-Wp,@/tmp/opts"]],
      ["asflags", ["-Wa,@/tmp/opts"]],
      // A folder inside the tree by name that is a symlink out of it (verify-8 W1).
      ["cflags", ["-Iinclude-link"]],
      // Paths glued to -iprefix, -isysroot, -iwithprefix and ld's -T (t43 N3).
      ["cflags", ["-iprefix/tmp/", "-iwithprefixbeforeinc"]],
      ["cflags", ["-isysroot/tmp"]],
      ["cflags", ["-iwithprefix/tmp"]],
      ["ldflags", ["-T/tmp/evil.ld"]],
      ["ldflags", ["-R/tmp/symbols.o"]],
      ["ldflags", ["-c/tmp/script.mri"]],
    ] as const) {
      writeFileSync(join(tree, "build.json"), JSON.stringify({ ...desc, [field]: value }));
      const err = await buildTree({ tree, cacheDir }).catch((e: unknown) => e);
      expect(err, `${field} ${JSON.stringify(value)}`).toBeInstanceOf(PqError);
      expect((err as PqError).code).toBe("unsafe-path");
    }
    // Paths inside the tree pass, attached to their option or not; a dependency file of build.json's own
    // (which displaces pq's) builds too, without a dependency record (ci-7 #18).
    writeFileSync(
      join(tree, "build.json"),
      JSON.stringify({ ...desc, cflags: [...(desc.cflags ?? []), "-Iarch/i386/include", "-isystem", "include", "-Wp,-MD,deps.d"] }),
    );
    expect((await buildTree({ tree, cacheDir })).ok).toBe(true);
    writeFileSync(join(tree, "build.json"), JSON.stringify(desc));
    expect((await buildTree({ tree, cacheDir })).ok).toBe(true);
  });

  it("build.json may not hold flags that make gcc or ld run a program a patch could bring (t127 N2)", async () => {
    const tree = fixtureKernelTree("pass");
    dirs.push(tree);
    const desc = JSON.parse(readFileSync(join(tree, "build.json"), "utf8"));
    const marker = join(tree, "ran");
    writeFileSync(join(tree, "evil.sh"), `#!/bin/sh\necho ran > ${marker}\nexec "$@"\n`, { mode: 0o755 });
    mkdirSync(join(tree, "tools"));
    writeFileSync(join(tree, "tools", "as"), `#!/bin/sh\necho ran > ${marker}\nexit 1\n`, { mode: 0o755 });
    for (const [field, value] of [
      ["cflags", ["-wrapper", "./evil.sh"]],
      ["cflags", ["-Btools/"]],
      ["asflags", ["-B", "tools/"]],
      ["cflags", ["-specs=evil.specs"]],
      ["cflags", ["-fplugin=./evil.so"]],
      ["cflags", ["-Wp,-fplugin=./evil.so"]],
      ["cflags", ["-Xpreprocessor", "-fplugin=./evil.so"]],
      ["cflags", ["-Wl,--plugin,./evil.so"]],
      ["ldflags", ["--plugin", "./evil.so"]],
      ["ldflags", ["-plugin=./evil.so"]],
      // A word pq cannot place is not guessed at.
      ["cflags", ["evil.o"]],
      // A second compile's options, and folders joined to a sysroot or prefix (t132 N5, N1, N2).
      ["cflags", ["-fcompare-debug=-fplugin=./evil.so"]],
      ["cflags", ["--sysroot=", "-I$SYSROOT/tmp"]],
      ["cflags", ["-I", "$SYSROOT/tmp"]],
      ["cflags", ["-iprefix", ".", "-iwithprefix", "./"]],
      ["cflags", ["-I=./"]],
      ["ldflags", ["-L.", "-l:../../x.o"]],
      ["ldflags", ["-l", ":../x.o"]],
    ] as const) {
      writeFileSync(join(tree, "build.json"), JSON.stringify({ ...desc, [field]: value }));
      const err = await buildTree({ tree, cacheDir }).catch((e: unknown) => e);
      expect(err, `${field} ${JSON.stringify(value)}`).toBeInstanceOf(PqError);
      expect((err as PqError).code).toBe("unsafe-path");
      expect((err as PqError).message).toContain("is refused");
      expect(existsSync(marker), `${field} ${JSON.stringify(value)}`).toBe(false);
    }
    // The kernel model's own flags and the usual forms pass.
    writeFileSync(
      join(tree, "build.json"),
      JSON.stringify({
        ...desc,
        cflags: [
          ...(desc.cflags ?? []),
          "-g",
          "-std=gnu11",
          "-Wno-unused",
          "-Werror=format",
          "-march=i386",
          "-D",
          "X=1",
          "-x",
          "c",
          "-Wa,--32",
        ],
        ldflags: [...(desc.ldflags ?? []), "-z", "noexecstack", "--build-id=none", "-m", "elf_i386", "-Map=k.map"],
      }),
    );
    const built = await buildTree({ tree, cacheDir });
    expect(built.ok, built.log).toBe(true);
  });

  it("build.json's file names are never taken for options: a source named @FILE.c (gcc's response file) or -x.c is refused (t136 N2)", async () => {
    const tree = fixtureKernelTree("pass");
    dirs.push(tree);
    const desc = JSON.parse(readFileSync(join(tree, "build.json"), "utf8"));
    const marker = join(tree, "ran");
    // The patch brings the options file and a file named after it: gcc read opts.c's -wrapper as its own options.
    writeFileSync(join(tree, "opts.c"), `'-wrapper' '/bin/sh,-c,echo ran > ${marker}; exec "$0" "$@"' tbl.c\n`);
    writeFileSync(join(tree, "tbl.c"), "int unused_tbl;\n");
    writeFileSync(join(tree, "@opts.c"), "int unused;\n");
    writeFileSync(join(tree, "-x.c"), "int unused_x;\n");
    for (const [field, value, said] of [
      [
        "sources",
        [...desc.sources, "@opts.c"],
        `the source "@opts.c" has a part starting with '@': gcc and ld read such a word as a file of options`,
      ],
      ["sources", [...desc.sources, "-x.c"], `the source "-x.c" has a part starting with '-': gcc and ld read such a word as an option`],
      ["linkerScript", "@opts.c", `the linkerScript "@opts.c" has a part starting with '@'`],
      ["output", "-o.elf", `the output "-o.elf" has a part starting with '-'`],
    ] as const) {
      writeFileSync(join(tree, "build.json"), JSON.stringify({ ...desc, [field]: value }));
      const err = await buildTree({ tree, cacheDir }).catch((e: unknown) => e);
      expect(err, `${field} ${JSON.stringify(value)}`).toBeInstanceOf(PqError);
      expect((err as PqError).code).toBe("unsafe-path");
      expect((err as PqError).message).toContain(said);
      expect(existsSync(marker)).toBe(false);
    }
    // In a folder too (no part of a name is taken so).
    mkdirSync(join(tree, "gen"));
    writeFileSync(join(tree, "gen", "@opts.c"), "int unused_gen;\n");
    writeFileSync(join(tree, "build.json"), JSON.stringify({ ...desc, sources: [...desc.sources, "gen/@opts.c"] }));
    const err = await buildTree({ tree, cacheDir }).catch((e: unknown) => e);
    expect((err as PqError).message).toContain(`the source "gen/@opts.c" has a part starting with '@'`);
    expect(existsSync(marker)).toBe(false);
    // The kernel model's own names build.
    writeFileSync(join(tree, "build.json"), JSON.stringify(desc));
    expect((await buildTree({ tree, cacheDir })).ok).toBe(true);
  });

  it("a build reads no file outside the tree and writes none through a link out of it, and runs no assembler from the tree (t132 N3, N4, N6)", async () => {
    const tree = fixtureKernelTree("pass");
    dirs.push(tree);
    const desc = JSON.parse(readFileSync(join(tree, "build.json"), "utf8"));
    const outside = tempDir("pq-outside-");
    dirs.push(outside);
    writeFileSync(join(outside, "secret.h"), "int outside_secret_7731;\n");
    const main = readFileSync(join(tree, "main.c"), "utf8");
    writeFileSync(join(tree, "main.c"), `#include "${join(outside, "secret.h")}"\n${main}`);
    const read = await buildTree({ tree, cacheDir });
    expect(read.ok).toBe(false);
    expect(read.log).toContain(`reads ${join(outside, "secret.h")}, outside the tree`);
    writeFileSync(join(tree, "main.c"), main);
    // A map file not there yet, under a link that leads out.
    symlinkSync(outside, join(tree, "outlink"));
    writeFileSync(join(tree, "build.json"), JSON.stringify({ ...desc, ldflags: [...(desc.ldflags ?? []), "-Map=outlink/new.map"] }));
    const err = await buildTree({ tree, cacheDir }).catch((e: unknown) => e);
    expect((err as PqError).code).toBe("unsafe-path");
    expect(existsSync(join(outside, "new.map"))).toBe(false);
    // A link that leads nowhere yet (t133 N2).
    symlinkSync(join(outside, "dangling.map"), join(tree, "dang"));
    writeFileSync(join(tree, "build.json"), JSON.stringify({ ...desc, ldflags: [...(desc.ldflags ?? []), "-Map=dang"] }));
    expect(((await buildTree({ tree, cacheDir }).catch((e: unknown) => e)) as PqError).code).toBe("unsafe-path");
    expect(existsSync(join(outside, "dangling.map"))).toBe(false);
    writeFileSync(join(tree, "build.json"), JSON.stringify(desc));
    // The linker script's own file names (t133 N1): INPUT of a file outside the tree.
    const lds = readFileSync(join(tree, desc.linkerScript), "utf8");
    for (const line of [
      `TARGET(binary)\nINPUT(${join(outside, "secret.h")})\n`,
      `INCLUDE "../x.ld"\n`,
      `SEARCH_DIR(/usr/lib)\n`,
      // The sysroot's prefix, which ld joins (t134 N1).
      `TARGET(binary)\nINPUT("=${join(outside, "secret.h")}")\n`,
    ]) {
      writeFileSync(join(tree, desc.linkerScript), `${line}${lds}`);
      const refused = await buildTree({ tree, cacheDir }).catch((e: unknown) => e);
      expect((refused as PqError).code, line).toBe("unsafe-path");
    }
    writeFileSync(join(tree, desc.linkerScript), lds);
    // An `as` of the tree's, with an empty entry in PATH: gcc runs /usr/bin's.
    const marker = join(outside, "as-ran");
    writeFileSync(join(tree, "as"), `#!/bin/sh\necho ran > ${marker}\nexec /usr/bin/as "$@"\n`, { mode: 0o755 });
    const saved = process.env.PATH;
    process.env.PATH = `:${saved}`;
    try {
      const built = await buildTree({ tree, cacheDir: tempDir("pq-cache-as-") });
      expect(built.ok, built.log).toBe(true);
    } finally {
      process.env.PATH = saved;
    }
    expect(existsSync(marker)).toBe(false);
  });

  it("a link that reads a file outside the tree through any script or input ld opens is refused, the image not kept (t137 N2)", async () => {
    const tree = fixtureKernelTree("pass");
    const outside = tempDir("pq-outside-");
    dirs.push(tree, outside);
    const secret = join(outside, "secret.txt");
    writeFileSync(secret, "SECRET-OUTSIDE\n");
    const desc = JSON.parse(readFileSync(join(tree, "build.json"), "utf8"));
    const script = readFileSync(join(tree, desc.linkerScript), "utf8");
    writeFileSync(join(tree, "extra.lds"), `TARGET(binary)\nINPUT(${secret})\nTARGET(elf32-i386)\n`);
    for (const [what, build, lds] of [
      ["an INCLUDEd script", desc, `INCLUDE extra.lds\n${script}`],
      ["a second -T in ldflags", { ...desc, ldflags: [...(desc.ldflags ?? []), "-T", "extra.lds"] }, script],
    ] as const) {
      writeFileSync(join(tree, "build.json"), JSON.stringify(build));
      writeFileSync(join(tree, desc.linkerScript), lds);
      const err = await buildTree({ tree, cacheDir }).catch((e: unknown) => e);
      expect(err, what).toBeInstanceOf(PqError);
      expect((err as PqError).code).toBe("unsafe-path");
      expect((err as PqError).message).toContain(`the link read ${secret}, a file outside the tree`);
    }
    // The tree's own scripts and inputs link as before.
    writeFileSync(join(tree, "build.json"), JSON.stringify(desc));
    writeFileSync(join(tree, desc.linkerScript), script);
    expect((await buildTree({ tree, cacheDir })).ok).toBe(true);
  });

  it("a compile error is a failed build with file:line diagnostics", async () => {
    const tree = fixtureKernelTree("compile-error");
    dirs.push(tree);
    const r = await buildTree({ tree, cacheDir, blame: (file, line) => (file === "main.c" && line === 4 ? "broken.patch" : undefined) });
    expect(r.ok).toBe(false);
    const err = r.diagnostics.find((d) => d.severity === "error")!;
    expect(err.file).toBe("main.c");
    expect(err.line).toBe(4);
    expect(err.patch).toBe("broken.patch");
    expect(r.log).toContain("last touched by patch broken.patch");
    const cli = await pq(tree, "build");
    expect(cli.code).toBe(9);
    expect(cli.err).toContain("main.c:4");
    expect(cli.err).toContain("pq: build failed (1 error(s))\n  fix the tree (each error names the patch that last touched its line)");
  });

  it("a cache folder cleaned while it builds is the system's refusal (exit 14), not a compile error of the tree, and is not remembered (ci-17 F3, F4)", async () => {
    const tree = fixtureKernelTree("pass");
    dirs.push(tree);
    const cache = tempDir("pq-cache-cleaned-");
    dirs.push(cache);
    // A real gcc, run after the cache's objects/ folder was removed (a tmp cleaner, rm -rf ~/.cache/pq): gcc's own error.
    const real = await detectToolchain();
    const bin = tempDir("pq-cc-");
    dirs.push(bin);
    const wrapper = join(bin, "gcc");
    const cleaning = join(bin, "cleaning");
    writeFileSync(cleaning, "");
    writeFileSync(wrapper, `#!/bin/sh\n[ -e '${cleaning}' ] && rm -rf '${cache}/objects'\nexec '${real.cc}' "$@"\n`, { mode: 0o755 });
    const toolchain = { ...real, cc: wrapper };
    const refusal = await buildTree({ tree, cacheDir: cache, toolchain }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(PqError);
    expect((refusal as PqError).exitCode).toBe(14);
    expect((refusal as PqError).message).toMatch(/^the build could not write pq's own files: .*No such file or directory/);
    // Nothing remembered: the same tree, toolchain and cache, the cleaner gone, builds.
    rmSync(cleaning);
    const again = await buildTree({ tree, cacheDir: cache, toolchain });
    expect([again.ok, again.reusedImage]).toEqual([true, false]);
  });

  it("a compiler or linker ended by a signal from outside is the system's refusal (exit 14), not the tree's failed build, and is said (t137 N3)", async () => {
    const real = await detectToolchain();
    const bin = tempDir("pq-cc-killed-");
    dirs.push(bin);
    // The driver itself killed (a timeout, the out-of-memory killer), and gcc saying its cc1 was.
    const killed = join(bin, "gcc-killed");
    writeFileSync(
      killed,
      `#!/bin/sh
case "$*" in *main.c*) kill -KILL $$ ;; esac
exec '${real.cc}' "$@"
`,
      { mode: 0o755 },
    );
    const saysKilled = join(bin, "gcc-says");
    writeFileSync(
      saysKilled,
      `#!/bin/sh
case "$*" in *-c*main.c*) echo 'gcc-says: fatal error: Killed signal terminated program cc1' >&2; echo 'compilation terminated.' >&2; exit 1 ;; esac
exec '${real.cc}' "$@"
`,
      { mode: 0o755 },
    );
    const linkKilled = join(bin, "ld-killed");
    writeFileSync(
      linkKilled,
      `#!/bin/sh
kill -TERM $$
`,
      { mode: 0o755 },
    );
    for (const [toolchain, words] of [
      [
        { ...real, cc: killed },
        /gcc-killed was ended by a signal \(SIGKILL\) while (preprocessing|compiling) main\.c; nothing says the tree is at fault$/,
      ],
      [{ ...real, cc: saysKilled }, /cc1 \(run by gcc-says\) was ended by a signal \(Killed\) while compiling main\.c/],
      [{ ...real, ld: linkKilled }, /ld-killed was ended by a signal \(SIGTERM\) while linking kernel\.elf/],
    ] as const) {
      const tree = fixtureKernelTree("pass");
      const cache = tempDir("pq-cache-killed-");
      dirs.push(tree, cache);
      const refusal = await buildTree({ tree, cacheDir: cache, toolchain }).catch((e: unknown) => e);
      expect(refusal).toBeInstanceOf(PqError);
      expect((refusal as PqError).exitCode).toBe(14);
      expect((refusal as PqError).message).toMatch(words);
      expect((refusal as PqError).details.join("\n")).toContain("run the command again");
      expect(existsSync(join(tree, ".pq/build/kernel.elf"))).toBe(false);
      // Nothing remembered: the real toolchain builds the same tree from the same cache.
      const again = await buildTree({ tree, cacheDir: cache, toolchain: real });
      expect([again.ok, again.reusedImage]).toEqual([true, false]);
    }
    // gcc's words in the tree's own error (an #error's text) are a failed build of the tree (t138 N5).
    const tree = fixtureKernelTree("pass");
    dirs.push(tree);
    writeFileSync(join(tree, "main.c"), `${readFileSync(join(tree, "main.c"), "latin1")}\n#error Killed signal terminated program cc1\n`);
    const failed = await buildTree({ tree, cacheDir });
    expect(failed.ok).toBe(false);
    expect(failed.diagnostics.some((d) => d.severity === "error" && d.message.includes("Killed signal terminated program cc1"))).toBe(true);
    // And in ld's words, which print a linker script's ASSERT message on a line of its own (t139 N4).
    const asserted = fixtureKernelTree("pass");
    dirs.push(asserted);
    const description = JSON.parse(readFileSync(join(asserted, "build.json"), "utf8")) as { linkerScript: string };
    writeFileSync(
      join(asserted, description.linkerScript),
      `${readFileSync(join(asserted, description.linkerScript), "latin1")}\nASSERT(0, "fatal error: Killed signal terminated program cc1")\n`,
    );
    const linkFailed = await buildTree({ tree: asserted, cacheDir });
    expect(linkFailed.ok).toBe(false);
    expect(linkFailed.log).toContain("fatal error: Killed signal terminated program cc1");
  });

  it("a compile ended by a signal beside one that ends well: build.log keeps what the other said (t139 N5)", async () => {
    const real = await detectToolchain();
    const bin = tempDir("pq-cc-beside-");
    const tree = fixtureKernelTree("pass");
    const cache = tempDir("pq-cache-beside-");
    dirs.push(bin, tree, cache);
    writeFileSync(join(tree, "head.S"), `${readFileSync(join(tree, "head.S"), "latin1")}\n.warning "said by the slow neighbour"\n`);
    // main.c's driver killed at once; head.S's compile, beside it, takes a second and ends well.
    const cc = join(bin, "gcc-beside");
    writeFileSync(cc, `#!/bin/sh\ncase "$*" in *main.c*) kill -KILL $$ ;; *-c*head.S*) sleep 1 ;; esac\nexec '${real.cc}' "$@"\n`, {
      mode: 0o755,
    });
    const refusal = await buildTree({ tree, cacheDir: cache, toolchain: { ...real, cc }, jobs: 2 }).catch((e: unknown) => e);
    expect((refusal as PqError).exitCode).toBe(14);
    const log = readFileSync(join(tree, ".pq/build/build.log"), "latin1");
    expect(log).toContain("Warning: said by the slow neighbour");
    expect(log).toContain("gcc-beside was ended by a signal (SIGKILL)");
  });

  it("--json carries the end of a long log and cut messages, saying where the whole log is (t137 N1)", async () => {
    const tree = fixtureKernelTree("pass");
    dirs.push(tree);
    // 120 warnings of 10,000 control bytes: gcc prints each twice (the message and the source line), some 2.4 MB.
    writeFileSync(
      join(tree, "warn.c"),
      Array.from({ length: 120 }, (_, i) => `#warning w${i} ${"\x01".repeat(10_000)}\n`).join("") + "int warn_unused;\n",
    );
    const description = JSON.parse(readFileSync(join(tree, "build.json"), "utf8")) as { sources: string[]; cflags: string[] };
    description.sources.push("warn.c");
    description.cflags = description.cflags.filter((f) => f !== "-Werror");
    writeFileSync(join(tree, "build.json"), JSON.stringify(description));
    const r = await pq(tree, "build", "--json");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as {
      ok: boolean;
      log: string;
      logCut: { chars: number; kept: number; file: string };
      diagnostics: { message: string }[];
    };
    expect(out.ok).toBe(true);
    expect(out.log.length).toBe(1 << 20);
    expect(out.logCut.kept).toBe(1 << 20);
    expect(out.logCut.chars).toBeGreaterThan(2_400_000);
    const whole = readFileSync(out.logCut.file, "utf8");
    expect(whole.length).toBe(out.logCut.chars);
    // build.log's own end: the compiler's last line, not pq's summary of blamed errors (t138 N7).
    expect(whole.endsWith(out.log)).toBe(true);
    expect(out.diagnostics.filter((d) => d.message.startsWith("#warning")).length).toBe(120);
    for (const d of out.diagnostics) expect(d.message.length).toBeLessThanOrEqual(4096 + " [cut]".length);
  });

  it("a dependency record of another shape is taken as none and written again, never an internal error (ci-17 F14)", async () => {
    const tree = fixtureKernelTree("pass");
    dirs.push(tree);
    const cache = tempDir("pq-cache-deps-");
    dirs.push(cache);
    expect((await buildTree({ tree, cacheDir: cache, stateCache: false })).ok).toBe(true);
    const records = readdirSync(join(cache, "deps")).filter((f) => f.endsWith(".json"));
    expect(records.length).toBeGreaterThan(0);
    const shapes = [
      "null",
      "[null]",
      '[{"objectKey":1,"deps":{}}]',
      '{"objectKey":"../x","deps":{}}',
      '[{"objectKey":"' + "a".repeat(64) + '","deps":null}]',
    ];
    records.forEach((f, i) => writeFileSync(join(cache, "deps", f), shapes[i % shapes.length]));
    const again = await buildTree({ tree, cacheDir: cache, stateCache: false });
    expect(again.ok).toBe(true);
    // Written again from the compile: the next build finds every object by its record.
    const third = await buildTree({ tree, cacheDir: cache, stateCache: false });
    expect([third.ok, third.compiled]).toEqual([true, 0]);
  });

  it("the objects and dependency records are pruned too: a killed compile's temporaries go, and a used object counts as recent (ci-17 F7)", async () => {
    const tree = fixtureKernelTree("pass");
    dirs.push(tree);
    const cache = tempDir("pq-cache-prune-");
    dirs.push(cache);
    expect((await buildTree({ tree, cacheDir: cache, stateCache: false })).ok).toBe(true);
    const objects = join(cache, "objects");
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    const leftovers = [join(objects, `${"b".repeat(64)}.o.tmp-123-abcd`), join(cache, "deps", `${"c".repeat(64)}.tmp-123-abcd.d`)];
    for (const f of leftovers) {
      writeFileSync(f, "left by a killed compile");
      utimesSync(f, twoDaysAgo, twoDaysAgo);
    }
    for (const f of readdirSync(objects)) utimesSync(join(objects, f), twoDaysAgo, twoDaysAgo);
    // A new process (the pruning is once per process per folder): pq build in the tree.
    const env = { ...process.env, PQ_CACHE_DIR: cache };
    const built = spawnSync(process.execPath, [resolve("bin/pq.js"), "build"], { cwd: tree, env, encoding: "utf8" });
    expect(built.status, built.stderr).toBe(0);
    for (const f of leftovers) expect(existsSync(f)).toBe(false);
    const used = readdirSync(objects).filter((f) => f.endsWith(".o"));
    expect(used.length).toBeGreaterThan(0);
    for (const f of used) expect(statSync(join(objects, f)).mtimeMs).toBeGreaterThan(twoDaysAgo.getTime() + 86_400_000);
  });

  it("the toolchain's identity holds the assembler gcc runs from PATH, and sees a binary changed in place (ci-7 #3, #16)", async () => {
    const dir = tempDir("pq-as-");
    dirs.push(dir);
    writeFileSync(join(dir, "as"), '#!/bin/sh\nexec /usr/bin/as "$@"\n', { mode: 0o755 });
    const env = { ...process.env, PATH: `${dir}:${process.env.PATH}` };
    const usual = (await detectToolchain()).identity;
    const other = (await detectToolchain(env)).identity;
    expect(other).not.toBe(usual);
    expect(other).toContain(join(dir, "as"));
    // The same process asks again after the assembler changed in place: a new identity.
    writeFileSync(join(dir, "as"), '#!/bin/sh\n# upgraded\nexec /usr/bin/as "$@"\n', { mode: 0o755 });
    expect((await detectToolchain(env)).identity).not.toBe(other);
  });

  it("the toolchain is looked up in PATH's absolute folders alone: a gcc, ld or as in the tree is never run, with '.' or '' on PATH (t135 N6)", async () => {
    const tree = fixtureKernelTree("pass");
    dirs.push(tree);
    const marker = join(tree, "ran");
    for (const tool of ["gcc", "ld", "as", "clang"])
      writeFileSync(join(tree, tool), `#!/bin/sh\necho ${tool} >> ${marker}\nexit 1\n`, { mode: 0o755 });
    const cwd = process.cwd();
    process.chdir(tree);
    try {
      for (const path of [`.:${process.env.PATH}`, `:${process.env.PATH}`, `${process.env.PATH}:.`]) {
        const tc = await detectToolchain({ ...process.env, PATH: path });
        expect(tc.cc.startsWith("/")).toBe(true);
        expect(existsSync(marker), path).toBe(false);
      }
    } finally {
      process.chdir(cwd);
    }
  });

  it("a PATH without a compiler gives a toolchain error naming the package", async () => {
    const empty = tempDir("pq-nopath-");
    dirs.push(empty);
    const err = await detectToolchain({ PATH: empty }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PqError);
    expect((err as PqError).code).toBe("toolchain");
    expect((err as PqError).details.join(" ")).toContain("apt-get install gcc binutils");
  });
});
