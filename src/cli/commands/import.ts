import { operandList } from "../../core/shell-word.js";
import { readUpTo } from "../../tree/files.js";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { quiltAppliedStack } from "../../queue/quilt-takeover.js";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { readPatchFiles, readQueueDir, selectedGuardsOf } from "../../queue/import-sources.js";
import { isGuardName } from "../../queue/series.js";
import { defineCommand, namesStdio, refuseEmptyOptions, refuseNamedTwice } from "../io.js";
import { openStack } from "../open-stack.js";
import { progressSink } from "../progress.js";
import { guardCommentNote, printPushReport } from "../reports.js";
import { PqError } from "../../errors.js";
import { parseNamedPatch } from "../../patch/index.js";
import { isSubmoduleChange, isSymlinkChange } from "../../queue/apply-patch.js";

export default defineCommand({
  command: "import [files..]",
  describe: "add patches after the top: patch files (-: standard input), format-patch mails, mboxes, or a quilt/hg mq queue",
  builder: (y) =>
    y
      .positional("files", { type: "string", array: true, describe: "patch files, format-patch mails or mboxes" })
      .option("name", { alias: "n", type: "string", describe: "name for a single imported patch" })
      .option("quilt", { type: "string", describe: "import a quilt queue (a tree with patches/series, or the patches dir)" })
      .option("hg", { type: "string", describe: "import an hg mq queue (a repo with .hg/patches, or the queue dir)" })
      .option("mbox", { type: "string", array: true, describe: "an mbox of patches (what pq export --mbox writes): the same as naming it" })
      .option("push", { alias: "P", type: "boolean", describe: "push the imported patches" })
      .option("strip", {
        alias: "p",
        type: "number",
        requiresArg: true,
        describe: "path components to strip from the patch files' names (quilt import -p; kept in the series as -pN; default 1)",
      })
      .conflicts("quilt", "hg")
      .conflicts("strip", ["quilt", "hg"]),
  run: async (args, io) => {
    refuseEmptyOptions(args, ["name"]);
    // `--mbox -` reaches here empty too (standard input): only an empty value typed as such is refused.
    if (!namesStdio() && (args.mbox as string[] | undefined)?.some((m) => String(m) === ""))
      throw new PqError("usage", "--mbox needs a value, and its value is empty", [
        "give the mbox file (- for standard input), or leave --mbox out",
      ]);
    const sink = progressSink(io);
    const stack = await openStack(args, io, sink);
    const taken = new Set(stack.series().map((e) => e.name));
    const queueDir = args.quilt ?? args.hg;
    // `--quilt --push DIR`: the option got no value (the next word was a flag), and DIR went to the files.
    if (queueDir !== undefined && !String(queueDir).trim()) {
      const option = args.quilt !== undefined ? "quilt" : "hg";
      throw new PqError("usage", `--${option} needs the queue's directory right after it`, [`pq import --${option} DIR [--push]`]);
    }
    const files = [...((args.files as string[] | undefined) ?? []), ...((args.mbox as string[] | undefined) ?? [])];
    // `pq import -`: a patch or mail on standard input (a mail client's pipe, as git am reads it),
    // read into a file of its own: a plain patch is named stdin.patch (or --name), a mail by its subject.
    let fromStdin: string | null = null;
    if (namesStdio()) {
      fromStdin = mkdtempSync(join(tmpdir(), "pq-stdin-"));
      writeFileSync(
        join(fromStdin, "stdin.patch"),
        readUpTo(
          0,
          STDIN_LIMIT,
          () =>
            new PqError("bad-patch", `standard input holds more than ${STDIN_LIMIT / 1024 / 1024} MiB: no patch series is that large`, [
              "import patch files by name (pq import FILES, --mbox FILE)",
            ]),
        ),
      );
      files.push(join(fromStdin, "stdin.patch"));
    }
    try {
      await importFiles();
    } finally {
      if (fromStdin) rmSync(fromStdin, { recursive: true, force: true });
    }
    async function importFiles(): Promise<void> {
      if (args.name !== undefined && (queueDir || files.length !== 1)) {
        throw new PqError("usage", "--name names one imported patch: give exactly one patch file with it", [
          "import several without --name, then pq rename",
        ]);
      }
      // A queue is a directory: a file named instead is a usage error (it read as the OS refusing a path under it).
      if (queueDir !== undefined && statSync(resolve(io.cwd, queueDir), { throwIfNoEntry: false })?.isDirectory() === false) {
        throw new PqError("usage", `${queueDir} is a file; --${args.quilt !== undefined ? "quilt" : "hg"} takes the queue's directory`, [
          "pq import FILE imports one patch file",
        ]);
      }
      // quilt keeps what it has applied in .pc/: in this very tree those patches are in the files
      // already, and pq would import them as unapplied (a push then fails, or worse, fits twice).
      if (args.quilt !== undefined) {
        const applied = quiltAppliedStack(resolve(io.cwd, args.quilt))?.applied ?? [];
        if (applied.length && resolve(io.cwd, args.quilt) === stack.tree) {
          throw new PqError(
            "refused",
            `quilt has ${applied.length} patch(es) applied in this tree (.pc/applied-patches: ${applied.slice(0, 3).join(", ")}${applied.length > 3 ? ", ..." : ""})`,
            ["run quilt pop -a first, then pq import --quilt . and pq push -a"],
          );
        }
      }
      if (queueDir && files.length) {
        throw new PqError(
          "usage",
          `--${args.quilt !== undefined ? "quilt" : "hg"} imports a whole queue: import the patch files in a second pq import`,
        );
      }
      const skipped: string[] = [];
      refuseNamedTwice(
        files.map((f) => resolve(io.cwd, String(f))),
        "file",
      );
      const items = queueDir
        ? readQueueDir(resolve(io.cwd, queueDir), { hg: args.hg !== undefined })
        : readPatchFiles(
            files.map((f) => resolve(io.cwd, String(f))),
            // A name given as its path from the tree's root is the name in the queue, as for pq new (t59 N2).
            { name: args.name === undefined ? undefined : stack.nameInQueue(String(args.name)), taken, skipped },
          );
      if (args.strip !== undefined) {
        if (!Number.isInteger(args.strip) || args.strip < 0)
          throw new PqError("usage", "-p wants a whole number of path components (0, 1, ...)", ["as quilt import -p: pq import -p0 FILE"]);
        if (args.strip !== 1) for (const item of items) item.strip = args.strip;
      }
      for (const s of skipped) io.out(`skipped ${s}`);
      for (const item of items)
        if (item.renamedFrom !== undefined)
          io.out(`note: hg's "${item.renamedFrom}" comes in as ${item.name} (a series line cannot hold a space in a name)`);
      if (!items.length) throw new PqError("usage", "nothing to import", ["name patch files, --quilt DIR or --hg DIR"]);
      if (args.name !== undefined && items.length !== 1) {
        throw new PqError("usage", `--name names one imported patch, and ${files[0]} holds ${items.length}`, [
          "import them without --name, then pq rename",
        ]);
      }
      // A symlink or submodule patch goes in (quilt and git apply apply it) but pq's push refuses it: said now, not at the push (interop-17 F2).
      for (const item of items) {
        // Only a patch whose text names the symlink or gitlink mode is parsed (an import of a thousand patches parses none).
        if (!item.text.includes(" 120000") && !item.text.includes(" 160000")) continue;
        let links: string[] = [];
        let submodules: string[] = [];
        try {
          const files = parseNamedPatch(item.name, item.text, { strip: item.strip ?? 1 }).files;
          links = files.filter(isSymlinkChange).map((f) => f.newPath ?? f.oldPath ?? "?");
          // A gitlink (a submodule's commit) is refused by push the same way: said here too (t84 N3).
          submodules = files.filter(isSubmoduleChange).map((f) => f.newPath ?? f.oldPath ?? "?");
        } catch {
          continue; // the push says what it cannot read
        }
        if (links.length)
          io.err(
            `note: ${item.name} makes or changes a symlink (${links.slice(0, 3).join(", ")}), which pq push refuses: apply that part with quilt or git apply`,
          );
        if (submodules.length)
          io.err(
            `note: ${item.name} changes a submodule (${submodules.slice(0, 3).join(", ")}), which pq push refuses: move the submodule with git and keep the patch to files`,
          );
      }
      // hg's selection (qselect) goes with its guards, where this stack has none selected: pushed, the queue applies what hg applied (t55 N6).
      const hgSelected = args.hg !== undefined ? selectedGuardsOf(resolve(io.cwd, queueDir!)).filter(isGuardName) : [];
      let selectedNow: string[] = [];
      const report = await stack.insertPatches(items, {
        push: args.push,
        onEvent: sink,
        select: hgSelected,
        onSelected: (guards) => (selectedNow = guards),
      });
      sink.done();
      io.out(
        `imported ${items.length} patch(es): ${items.length > 5 ? `${items[0].name} .. ${items.at(-1)!.name}` : items.map((i) => i.name).join(", ")}`,
      );
      // quilt reads everything after a series line's `#` as a comment; pq (as hg mq) reads `#+g` / `#-g` as guards.
      if (args.quilt !== undefined) {
        for (const item of items.filter((i) => i.guards.length)) io.out(guardCommentNote(item.name, item.guards));
      }
      if (selectedNow.length) io.out(`selected the guards hg's queue had selected (hg qselect): ${selectedNow.join(" ")}`);
      else if (hgSelected.length && hgSelected.join(" ") !== stack.selectedGuards().join(" "))
        io.out(
          `note: hg's queue had ${hgSelected.join(" ")} selected; this stack keeps its own selection (pq select ${operandList(hgSelected)} takes hg's)`,
        );
      if (report) printPushReport(io, report);
      if (args.push) {
        // hg's qpush -a says "skipping NAME - guarded by ...": say which imported patches stayed unapplied and why.
        const applied = new Set(stack.applied());
        const pushable = new Set(stack.pushable());
        const imported = new Set(items.map((i) => i.name));
        const selected = stack.selectedGuards().join(" ") || "none";
        for (const e of stack.series())
          if (imported.has(e.name) && !applied.has(e.name) && !pushable.has(e.name)) {
            io.out(`not pushed: ${e.name} is guarded (${e.guards.join(" ")}) and the selected guards (${selected}) exclude it`);
          }
      }
    }
  },
});

/** What pq import - reads at most: far beyond any patch series, well below what the process can hold. */
const STDIN_LIMIT = 256 * 1024 * 1024;
