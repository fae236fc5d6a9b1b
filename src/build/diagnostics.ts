/** Compiler and linker messages as data: file, line, severity, and (when known) the patch behind the line. */
export interface Diagnostic {
  file: string;
  line: number;
  column?: number;
  severity: "error" | "warning" | "note";
  message: string;
  patch?: string;
}

const GCC_LINE = /^([^:\s][^:]*):(\d+):(?:(\d+):)? (fatal error|error|warning|note): (.*)$/;
/**
 * The assembler's own form (GNU as: `head.S:44: Error: boom`), capitalised where gcc's are not:
 * for the assembly source or any file it includes (a header, an .include'd file: t147 N3).
 */
const GAS_LINE = /^([^:\s][^:]*):(\d+): (Error|Warning): (.*)$/;
const LD_LINE = /^(?:.*\bld(?:\.lld)?: )?(?:[^:]+\.o: in function [^:]+:\s*)?([^:\s][^:]*\.(?:c|S|h)):(\d+):\s*(.*)$/;

export function parseDiagnostics(output: string, blame?: (file: string, line: number) => string | undefined): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const raw of output.split("\n")) {
    const line = raw.trimEnd();
    let m = GCC_LINE.exec(line);
    let d: Diagnostic | null = null;
    if (m) {
      d = {
        file: m[1],
        line: Number(m[2]),
        column: m[3] ? Number(m[3]) : undefined,
        severity: m[4] === "fatal error" ? "error" : (m[4] as Diagnostic["severity"]),
        message: m[5],
      };
    } else if ((m = GAS_LINE.exec(line))) {
      d = { file: m[1], line: Number(m[2]), severity: m[3] === "Error" ? "error" : "warning", message: m[4] };
    } else if ((m = LD_LINE.exec(line)) && /undefined reference|multiple definition|relocation/.test(m[3])) {
      d = { file: m[1], line: Number(m[2]), severity: "error", message: m[3] };
    }
    if (!d) continue;
    const patch = blame?.(d.file, d.line);
    if (patch) d.patch = patch;
    out.push(d);
  }
  return out;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}${d.column ? `:${d.column}` : ""}: ${d.severity}: ${d.message}${d.patch ? `  (last touched by patch ${d.patch})` : ""}`;
}
