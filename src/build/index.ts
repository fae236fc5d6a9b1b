export {
  buildTree,
  defaultCacheDir,
  readBuildDescription,
  requireBuildDescription,
  type BuildDescription,
  type BuildOptions,
  type BuildResult,
} from "./build.js";
export { detectToolchain, type Toolchain } from "./toolchain.js";
export { formatDiagnostic, parseDiagnostics, type Diagnostic } from "./diagnostics.js";
