/**
 * The patch engine fuzzer's input generator and oracle, shared by the long run
 * (patch-fuzz.mjs, on the compiled dist/ modules) and the short vitest run (on src/).
 * Input i of seed s is a pure function of (s, i, corpus): any failure reproduces alone.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** mulberry32: small, fast, good enough to pick mutations. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  return { next, int, pick: (arr) => arr[int(arr.length)], chance: (p) => next() < p };
}

/** The seed of input i: a hash of (seed, i), so inputs are independent of each other. */
export function inputSeed(seed, i) {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

function walk(dir, keep, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, keep, out);
    else if (keep(name)) out.push(full);
  }
  return out;
}

/** Real git output for the cases hand-written patches rarely have: binary, rename, modes, quoted names, CRLF. */
function gitPatches() {
  const dir = mkdtempSync(join(tmpdir(), "pq-fuzz-corpus-"));
  const git = (...args) =>
    spawnSync("git", args, {
      cwd: dir,
      encoding: "latin1",
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "Fuzz Author",
        GIT_AUTHOR_EMAIL: "fuzz@example.org",
        GIT_COMMITTER_NAME: "Fuzz Author",
        GIT_COMMITTER_EMAIL: "fuzz@example.org",
        GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z",
        GIT_COMMITTER_DATE: "2026-01-01T00:00:00Z",
      },
    }).stdout ?? "";
  const put = (p, c) => {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c, "latin1");
  };
  const out = [];
  try {
    git("init", "-q", "-b", "main");
    const blob = (k) => Array.from({ length: 700 }, (_, i) => String.fromCharCode((i * k) % 256)).join("");
    const text = (n, tag) => Array.from({ length: n }, (_, i) => `${tag} ${i}\n`).join("");
    put("a.txt", text(40, "alpha"));
    put("crlf.txt", text(12, "dos").replace(/\n/g, "\r\n"));
    put("fw.bin", blob(7));
    put("old name.txt", text(20, "moving"));
    put("run.sh", "#!/bin/sh\necho hi\n");
    put("gone.txt", "bye\n");
    git("add", "-A");
    git("commit", "-qm", "base");
    put("a.txt", text(40, "alpha").replace("alpha 5\n", "five\n").replace("alpha 30\n", "thirty\n") + "tail");
    put("crlf.txt", text(12, "dos").replace(/\n/g, "\r\n").replace("dos 3\r\n", "three\r\n"));
    put("fw.bin", blob(11));
    put('\u00e9t\u00e9/\u20ac "q".txt', "quoted\n");
    git("mv", "old name.txt", "new name.txt");
    spawnSync("chmod", ["+x", join(dir, "run.sh")]);
    rmSync(join(dir, "gone.txt"));
    put("new.bin", blob(3));
    git("add", "-A");
    git("commit", "-qm", "everything");
    out.push(git("format-patch", "-1", "--stdout", "--binary", "-M"));
    out.push(git("diff", "HEAD~1", "HEAD", "-M"));
    out.push(git("diff", "HEAD~1", "HEAD", "--no-renames", "--full-index", "--binary"));
    put("fw.bin", blob(13));
    git("commit", "-qam", "delta");
    out.push(git("format-patch", "-1", "--stdout", "--binary"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out.filter(Boolean);
}

const HAND_WRITTEN = [
  "--- a/f.txt\t2024-01-01 10:00:00.000000000 +0000\n+++ b/f.txt\t2024-01-02 10:00:00.000000000 +0000\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n",
  "Index: pkg/f.c\n===================================================================\n--- pkg.orig/f.c\n+++ pkg/f.c\n@@ -1 +1,2 @@\n int a;\n+int b;\n",
  "Index: x.bin\n===================================================================\nBinary files a/x.bin and b/x.bin differ\n",
  "diff --git a/x.bin b/x.bin\nnew file mode 100644\nindex 0000000..0f4ca97\nBinary files /dev/null and b/x.bin differ\n",
  "diff -r 1234567890ab -r ba0987654321 f.txt\n--- a/f.txt\n+++ b/f.txt\n@@ -1,1 +1,1 @@\n-x\n\\ No newline at end of file\n+y\n\\ No newline at end of file\n",
  "diff --git a/a b/b\nsimilarity index 90%\ncopy from a\ncopy to b\n--- a/a\n+++ b/b\n@@ -1,2 +1,2 @@\n-1\n+one\n 2\n",
  'diff --git "a/t\\303\\251st" "b/t\\303\\251st"\nold mode 100644\nnew mode 100755\n',
];

/** Seed patches and the files they apply to (kernel-model), read once. */
export function loadCorpus(root) {
  const files = [
    ...walk(join(root, "queue"), (n) => /\.(patch|diff)$/.test(n)),
    ...walk(join(root, "test", "fixtures"), (n) => /\.(patch|diff|mbox)$/.test(n)),
  ].sort();
  const patches = [...files.map((f) => readFileSync(f, "latin1")), ...HAND_WRITTEN, ...gitPatches()];
  const trees = {};
  for (const f of walk(join(root, "kernel-model"), () => true))
    trees[f.slice(join(root, "kernel-model").length + 1)] = readFileSync(f, "latin1");
  return { patches, trees };
}

const TOKENS = [
  "diff --git a/f.txt b/f.txt",
  'diff --git "a/\\303\\251" "b/\\303\\251"',
  'diff --git "a/x\\q" b/x',
  "diff --git a/x",
  "diff --git a/a b/b c/c",
  "--- a/f.txt",
  "+++ b/f.txt",
  "--- /dev/null",
  "+++ /dev/null",
  '--- "a/\\377\\400"',
  '+++ "b/unterminated',
  "--- a/../../etc/passwd",
  "+++ b/",
  "@@ -1,3 +1,3 @@",
  "@@ -0,0 +1 @@",
  "@@ -1 +0,0 @@",
  "@@ -N +M @@",
  "@@ -4294967296,2 +1,2 @@ section",
  "@@ -1,99999999 +1,99999999 @@",
  "@@@ -1,2 -1,2 +1,3 @@@",
  " context",
  "-removed",
  "+added",
  "",
  "\\ No newline at end of file",
  "new file mode 100644",
  "new file mode 120000",
  "deleted file mode 100755",
  "old mode 100644",
  "new mode 100755",
  "similarity index 100%",
  "dissimilarity index 50%",
  "rename from f.txt",
  "rename to g.txt",
  "rename from ",
  "copy from f.txt",
  "copy to h.txt",
  "index 0000000..e69de29",
  "index 1234567..89abcde 100644",
  "GIT binary patch",
  "literal 0",
  "literal 5",
  "literal 99999999",
  "delta 3",
  "delta 12",
  "HcmV?d00001",
  "zcmV?d00001",
  "Ac",
  "Binary files a/x and b/x differ",
  "Binary files /dev/null and b/x differ",
  "Index: f.txt",
  "===================================================================",
  "From: Fuzz Author <fuzz@example.org>",
  "Subject: [PATCH] fuzz",
  "-- ",
  "2.39.5",
];

function randomText(r, lines) {
  const parts = [];
  for (let k = 0; k < lines; k++) {
    const w = r.int(6);
    parts.push(w === 0 ? "" : w === 1 ? `line ${r.int(20)}` : w === 2 ? `\t${r.int(5)} x` : w === 3 ? "same" : `l${k}`);
    parts[parts.length - 1] += r.chance(0.1) ? "\r\n" : "\n";
  }
  if (r.chance(0.2) && parts.length) parts[parts.length - 1] = parts[parts.length - 1].replace(/\r?\n$/, "");
  return parts.join("");
}

function randomBytes(r, n) {
  let s = "";
  for (let k = 0; k < n; k++) s += r.chance(0.1) ? "\n" : String.fromCharCode(r.chance(0.7) ? 32 + r.int(95) : r.int(256));
  return s;
}

const NUMBERS = [0, 1, 2, 3, 7, 100, 65535, 65536, 2 ** 31, 2 ** 32, 2 ** 53, 1e21];

function mutateLine(r, line) {
  switch (r.int(8)) {
    case 0: // a number elsewhere
      return line.replace(/\d+/, () => String(r.chance(0.5) ? r.pick(NUMBERS) : r.int(50)));
    case 1: // a byte flipped
      if (!line) return line;
      {
        const at = r.int(line.length);
        return line.slice(0, at) + String.fromCharCode(r.int(256)) + line.slice(at + 1);
      }
    case 2:
      return r.pick([" ", "+", "-", "\\", "@", "d", "G", "B", "r"]) + line.slice(1);
    case 3:
      return line.replace(/\n$/, "\r\n");
    case 4:
      return line.slice(0, r.int(line.length + 1));
    case 5:
      return line.replace(/\n$/, "");
    case 6:
      return line.replace(/[a-z]/, r.pick(['"', "\\", "\0", "\xff", "\t", "/"]));
    default:
      return line + r.pick(TOKENS) + "\n";
  }
}

function mutate(r, text, count) {
  const lines = text.split(/(?<=\n)/);
  for (let m = 0; m < count; m++) {
    if (!lines.length) lines.push("\n");
    const at = r.int(lines.length);
    switch (r.int(7)) {
      case 0:
        lines.splice(at, 1);
        break;
      case 1:
        lines.splice(at, 0, lines[r.int(lines.length)]);
        break;
      case 2: {
        const b = r.int(lines.length);
        [lines[at], lines[b]] = [lines[b], lines[at]];
        break;
      }
      case 3:
        lines.splice(at, 0, r.pick(TOKENS) + "\n");
        break;
      case 4:
        lines.length = at; // truncated
        break;
      default:
        lines[at] = mutateLine(r, lines[at]);
    }
  }
  return lines.join("");
}

/** Contents a patched file might have: what the patch expects, near misses, nothing, noise. */
function oldContents(r, fp, trees) {
  const expected = fp.hunks
    .map((h) =>
      h.lines
        .filter((l) => l.op !== "+")
        .map((l) => l.text)
        .join(""),
    )
    .join("");
  const path = fp.oldPath ?? fp.newPath;
  const choices = [
    () => expected,
    () => randomText(r, 3) + expected + randomText(r, 2),
    () => mutate(r, expected, 1 + r.int(3)),
    () => (path && trees[path] !== undefined ? trees[path] : expected),
    () => null,
    () => "",
    () => randomText(r, r.int(30)),
    () => randomBytes(r, r.int(200)),
  ];
  return [r.pick(choices)(), r.pick(choices)()];
}

/** Input i: the patch text and the options it is parsed and applied with. */
export function makeInput(seed, i, corpus) {
  const r = rng(inputSeed(seed, i));
  const kind = r.int(100);
  let text;
  if (kind < 35) text = mutate(r, r.pick(corpus.patches), 1 + r.int(8));
  else if (kind < 45) {
    const a = r.pick(corpus.patches);
    const b = r.pick(corpus.patches);
    text = mutate(r, a.slice(0, r.int(a.length + 1)) + b.slice(r.int(b.length + 1)), r.int(3));
  } else if (kind < 60) text = r.pick(corpus.patches);
  else if (kind < 75)
    text = null; // generated by the engine itself, in runOne
  else if (kind < 92) text = Array.from({ length: 1 + r.int(40) }, () => mutateLine(r, r.pick(TOKENS) + "\n")).join("");
  else text = randomBytes(r, r.int(400));
  return { seed: inputSeed(seed, i), text, strip: r.chance(0.85) ? 1 : r.int(3), fuzz: r.int(4), r };
}

/**
 * Runs one input through parse, apply, reverse, rejects and create. Returns null when every
 * outcome was a success or a PqError, else what went wrong. `E` is the engine (src or dist).
 */
export function runOne(input, corpus, E, PqError) {
  const { r } = input;
  let text = input.text;
  const stage = { name: "generate" };
  const wrongly = (e) => ({ kind: "crash", stage: stage.name, text, message: String(e && e.stack ? e.stack : e) });
  try {
    if (text === null) {
      const oldText = r.chance(0.1) ? randomBytes(r, 300) + "\0" : randomText(r, r.int(40));
      const newText = r.chance(0.1) ? null : mutate(r, oldText, 1 + r.int(5));
      const names = ["f.txt", "dir/sub/g.c", "\u00e9t\u00e9.txt", "sp ace.txt", 'q"\\.txt', "tab\there"];
      stage.name = "create";
      text = E.createFilePatch({
        oldPath: r.chance(0.1) ? null : r.pick(names),
        newPath: newText === null ? null : r.pick(names),
        oldContent: oldText,
        newContent: newText,
      });
      if (r.chance(0.5)) text = mutate(r, text, 1 + r.int(4));
    }
    stage.name = "parse";
    let parsed;
    try {
      parsed = E.parsePatch(text, { strip: input.strip });
    } catch (e) {
      if (e instanceof PqError) return null;
      return wrongly(e);
    }
    for (const fp of parsed.files.slice(0, 40)) {
      for (const old of oldContents(r, fp, corpus.trees)) {
        try {
          stage.name = "apply";
          const res = E.applyFilePatch(old, fp, { fuzz: input.fuzz });
          stage.name = "report";
          for (const h of res.hunks) E.describeHunkResult(h);
          E.formatRejects(fp, res.hunks);
          if (!res.ok) continue;
          stage.name = "reverse";
          const back = E.applyFilePatch(res.content, E.reverseFilePatch(fp), { fuzz: input.fuzz });
          // An exact text application taken back exactly gives the original bytes.
          const exact = !fp.binary && res.hunks.every((h) => h.status === "exact") && !/\r/.test(text) && !/\r/.test(old ?? "");
          if (exact && back.ok && (back.content ?? "") !== (old ?? "")) {
            return {
              kind: "invariant",
              stage: "reverse",
              text,
              old,
              message: `reverse of an exact application does not give back the original: ${JSON.stringify([old, res.content, back.content]).slice(0, 300)}`,
            };
          }
          stage.name = "recreate";
          if (old === null && res.content === null) continue;
          const made = E.createFilePatch({
            oldPath: old === null ? null : "f",
            newPath: res.content === null ? null : "f",
            oldContent: old,
            newContent: res.content,
          });
          stage.name = "reparse";
          const again = E.parsePatch(made).files;
          let content = old;
          for (const f of again) content = E.applyFilePatch(content, f, { fuzz: 0 }).content;
          if (content !== res.content)
            return {
              kind: "invariant",
              stage: "recreate",
              text,
              old,
              message: `createFilePatch output does not reproduce the new content: ${JSON.stringify([old, res.content, made]).slice(0, 300)}`,
            };
        } catch (e) {
          if (e instanceof PqError) continue;
          return wrongly(e);
        }
      }
    }
    return null;
  } catch (e) {
    if (e instanceof PqError) return null;
    return wrongly(e);
  }
}
