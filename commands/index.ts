// The explicit list of slash commands: type-checked and greppable, no file-system scanning.
import clearHistory from './clear-history.js';
import help from './help.js';
import history from './history.js';
import logout from './logout.js';
import privacy from './privacy.js';
import stats from './stats.js';
import usage from './usage.js';
import type { Command } from './types.js';

export const commands: readonly Command[] = [history, clearHistory, logout, help, usage, privacy, stats];

export const commandsByName = new Map(commands.map((command) => [command.data.name, command]));

export function commandDefinitions() {
  return commands.map((command) => command.data.toJSON());
}
