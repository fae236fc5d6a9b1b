import type { CommandModule } from "yargs";

// One module per command. Keep this list sorted; add one import line per command.

export const commands: CommandModule<any, any>[] = [
];
