export { bootKernel, DEFAULT_BOOT_TIMEOUT_MS, type BootOptions, type BootResult } from "./boot.js";
export { BootPool } from "./pool.js";
export { parseProtocolLine, verdictOf, type ProtocolLine, type Verdict } from "./protocol.js";
