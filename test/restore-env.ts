import { afterAll } from "vitest";

/**
 * The test files share their worker processes (isolate: false in vitest.config.ts): what one
 * file sets in process.env (PQ_CACHE_DIR, EDITOR, GIT_CONFIG_GLOBAL) or the directory it
 * changes to must not reach the next file in the same worker. Run before each file.
 */
const env = { ...process.env };
const cwd = process.cwd();

afterAll(() => {
  for (const key of Object.keys(process.env)) if (!(key in env)) delete process.env[key];
  Object.assign(process.env, env);
  if (process.cwd() !== cwd) process.chdir(cwd);
});
