// The explicit list of slash commands: type-checked and greppable, no file-system scanning.
import clearHistory from './clear-history.js';
import help from './help.js';
import history from './history.js';
import instructions from './instructions.js';
import logout from './logout.js';
import model, { modelDefinition } from './model.js';
import privacy from './privacy.js';
import stats from './stats.js';
import usage from './usage.js';
import type { Command } from './types.js';

export const commands: readonly Command[] = [history, clearHistory, logout, help, usage, model, instructions, privacy, stats];

export const commandsByName = new Map(commands.map((command) => [command.data.name, command]));

/**
 * What is registered with Discord. /model's choices are the operator's allowed models, known only
 * from the settings, so its definition is built here from them rather than at import time.
 */
export function commandDefinitions(settings: { models: readonly string[] }) {
  return commands.map((command) => (command === model ? modelDefinition(settings.models) : command.data).toJSON());
}
