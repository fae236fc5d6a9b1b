/**
 * Colours for the TUI. NO_COLOR (https://no-color.org) turns every colour off; the
 * cursor, markers and inverse highlights keep the screen readable without them.
 */
export interface Theme {
  color: (name: string) => string | undefined;
  enabled: boolean;
}

export function makeTheme(env: NodeJS.ProcessEnv = process.env): Theme {
  const enabled = !("NO_COLOR" in env && env.NO_COLOR !== "");
  return { enabled, color: (name) => (enabled ? name : undefined) };
}
