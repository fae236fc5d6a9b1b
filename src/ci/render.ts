/** The CI report as a text matrix, JUnit XML, and a self-contained HTML page. */
import { cellWidth, padCells } from "../core/cells.js";
import { quotedLog } from "../core/log-tail.js";
import { FAILING, RUN_COLUMN, failedCells, reusedCells, type CiReport, type Cell, type Outcome } from "./report.js";

const LABEL: Record<Outcome, string> = {
  pass: "PASS",
  fail: "FAIL",
  skip: "skip",
  panic: "PANIC",
  hang: "HANG",
  crash: "CRASH",
  "build-error": "BUILD",
};

function cellAt(report: CiReport, state: number, backend: string): Cell | undefined {
  return report.cells.find((c) => c.state === state && c.backend === backend);
}

export function renderMatrix(report: CiReport): string {
  // By terminal cells: a name of CJK characters or emoji takes two a character (t23 F10).
  const nameWidth = Math.max(12, ...report.states.map((s) => cellWidth(s.patch ?? "(base tree)") + 4));
  const lines: string[] = [];
  lines.push(`${"state".padEnd(nameWidth)} ${report.backends.map((b) => b.padEnd(7)).join(" ")}`);
  for (const s of report.states) {
    const name = `${String(s.index).padStart(2)}  ${s.patch ?? "(base tree)"}`;
    const row = report.backends.map((b) => {
      const c = cellAt(report, s.index, b);
      return (c ? `${LABEL[c.outcome]}${c.reused ? "*" : ""}${c.flaky ? "~" : ""}` : "-").padEnd(7);
    });
    lines.push(`${padCells(name, nameWidth)} ${row.join(" ")}`);
  }
  const failed = failedCells(report);
  const counts = report.cells.reduce<Record<string, number>>((acc, c) => ((acc[c.outcome] = (acc[c.outcome] ?? 0) + 1), acc), {});
  lines.push("");
  lines.push(
    `${report.cells.length} cells: ${Object.entries(counts)
      .map(([k, v]) => `${v} ${k}`)
      .join(", ")}`,
  );
  const reused = reusedCells(report).length;
  if (reused)
    lines.push(
      `* reused: ${reused} of ${report.cells.length} cells were judged before (same kernel image, backend, command line, limit and emulator) and not booted again`,
    );
  const flaky = report.cells.filter((c) => c.flaky);
  if (flaky.length)
    lines.push(
      `~ flaky: ${flaky.length} cell(s) whose kernel image gave different verdicts on different boots (${flaky[0].flaky!.join(" and ")} for state ${flaky[0].state} on ${flaky[0].backend}); such a cell shows the worst and is booted again on every run (pq ci --repeat N boots each image N times)`,
    );
  if (failed.length) {
    const f = failed[0];
    const s = report.states[f.state];
    lines.push(
      `first failure: state ${f.state} (${s.patch ?? "base tree"}${s.author ? `, ${s.author}` : ""}) ${f.backend === RUN_COLUMN ? "by the command" : `on ${f.backend}`}: ${LABEL[f.outcome]}${f.reason ? ` - ${f.reason}` : ""}`,
    );
    if (f.log) lines.push(quotedLog(f.log, 15));
  }
  return lines.join("\n");
}

// XML 1.0 has no way to write most control characters, even escaped: a kernel's panic text
// can hold any byte, so they are shown as \xNN (in attributes) or dropped (in CDATA).
const xml = (s: string) =>
  s
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)
    .replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);
// Control characters are not allowed in XML 1.0 even inside CDATA.
const cdata = (s: string) => `<![CDATA[${s.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, "").replace(/]]>/g, "]]]]><![CDATA[>")}]]>`;

export function renderJUnit(report: CiReport): string {
  const failures = report.cells.filter((c) => c.outcome === "fail" || c.outcome === "panic").length;
  const errors = report.cells.filter((c) => c.outcome === "hang" || c.outcome === "crash" || c.outcome === "build-error").length;
  const skipped = report.cells.filter((c) => c.outcome === "skip").length;
  const time = (report.cells.reduce((t, c) => t + (c.ms ?? 0), 0) / 1000).toFixed(3);
  let out = `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="pq ci" tests="${report.cells.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${time}">\n`;
  out += `  <testsuite name="pq ci" tests="${report.cells.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${time}">\n`;
  for (const c of report.cells) {
    const s = report.states[c.state];
    const classname = `state-${String(c.state).padStart(2, "0")}.${(s.patch ?? "base").replace(/\.(patch|diff)$/, "")}`;
    out += `    <testcase classname="${xml(classname)}" name="${xml(c.backend)}" time="${((c.ms ?? 0) / 1000).toFixed(3)}"`;
    if (c.outcome === "pass" && !c.reused) {
      out += "/>\n";
      continue;
    }
    out += ">\n";
    // Whether this run booted the cell or reused an earlier verdict of the same image.
    if (c.reused)
      out += `      <properties><property name="pq.reused" value="true"/>${c.image ? `<property name="pq.image" value="${xml(c.image)}"/>` : ""}</properties>\n`;
    else if (c.flaky) out += `      <properties><property name="pq.flaky" value="${xml(c.flaky.join(","))}"/></properties>\n`;
    if (c.outcome === "pass") {
      out += "    </testcase>\n";
      continue;
    }
    const message = xml(`${LABEL[c.outcome]}${c.reason ? `: ${c.reason}` : ""}`);
    if (c.outcome === "skip") out += `      <skipped message="${message}"/>\n`;
    else {
      const tag = c.outcome === "fail" || c.outcome === "panic" ? "failure" : "error";
      out += `      <${tag} message="${message}" type="${c.outcome}">${cdata(c.log ?? "")}</${tag}>\n`;
    }
    out += "    </testcase>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

const COLOURS: Record<Outcome, string> = {
  pass: "#2da44e",
  fail: "#cf222e",
  skip: "#d0d7de",
  panic: "#8250df",
  hang: "#bf8700",
  crash: "#a40e26",
  "build-error": "#e16f24",
};

export function renderHtml(report: CiReport): string {
  const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);
  const failed = failedCells(report).length;
  const rows = report.states
    .map((s) => {
      const cells = report.backends
        .map((b) => {
          const c = cellAt(report, s.index, b);
          if (!c) return `<td class="none">-</td>`;
          const title = `${b}: ${LABEL[c.outcome]}${c.reason ? ` - ${c.reason}` : ""}${c.reused ? " (reused: this image was judged before, not booted again)" : ""}${c.flaky ? ` (flaky: boots of this image gave ${c.flaky.join(" and ")})` : ""}`;
          const log = c.log && FAILING.has(c.outcome) ? `<details><summary>log</summary><pre>${esc(c.log)}</pre></details>` : "";
          const mark = c.reused ? `<div class="reused">reused</div>` : c.flaky ? `<div class="reused">flaky</div>` : "";
          return `<td class="${c.reused ? "cell reused" : "cell run"}" style="background:${COLOURS[c.outcome]}" title="${esc(title)}"><span>${LABEL[c.outcome]}</span>${mark}${log}</td>`;
        })
        .join("");
      const who = s.author ? `<div class="who">${esc(s.author)}</div>` : "";
      return `<tr><th><div class="idx">${s.index}</div><div class="name">${esc(s.patch ?? "(base tree)")}</div>${s.subject ? `<div class="subj">${esc(s.subject)}</div>` : ""}${who}</th>${cells}</tr>`;
    })
    .join("\n");
  const reused = reusedCells(report).length;
  const legend =
    (Object.keys(COLOURS) as Outcome[]).map((o) => `<span class="key" style="background:${COLOURS[o]}">${LABEL[o]}</span>`).join(" ") +
    ` <span class="key reused-key">reused</span> ${reused} of ${report.cells.length} cells reused from the cache, ${report.cells.length - reused} run`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pq ci: ${failed ? `${failed} failing` : "all passing"}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1f2328}
h1{font-size:20px}table{border-collapse:separate;border-spacing:3px}
th{text-align:left;font-weight:normal;padding:4px 10px;background:#f6f8fa;border-radius:4px;max-width:32em}
th .idx{float:left;width:2em;color:#656d76}th .name{font-family:ui-monospace,monospace;font-weight:600}
th .subj{color:#424a53}th .who{color:#656d76;font-size:12px}
td{min-width:6em;text-align:center;color:#fff;font-weight:600;border-radius:4px;vertical-align:top;padding:6px}
td pre{text-align:left;color:#1f2328;background:#fff;padding:6px;max-width:60em;overflow:auto;font-size:12px}
thead th{background:none;text-align:center;font-weight:600}.key{color:#fff;padding:2px 8px;border-radius:3px;font-size:12px}
td.reused{background-image:repeating-linear-gradient(135deg,rgba(255,255,255,.22) 0 6px,transparent 6px 12px)}
td .reused{font-size:11px;font-weight:400;opacity:.9}.reused-key{color:#1f2328;border:1px dashed #656d76}
</style></head><body>
<h1>pq ci: ${report.states.length} ${report.states.length === 1 ? "state" : "states"} × ${report.backends.length} ${report.backends.length === 1 ? "backend" : "backends"}, ${failed ? `<span style="color:#cf222e">${failed} failing</span>` : "all passing"}</h1>
<p>${legend}</p>
<table><thead><tr><th></th>${report.backends.map((b) => `<th>${esc(b)}</th>`).join("")}</tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
