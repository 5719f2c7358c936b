// `npm run commands:deploy`: registers the slash commands without starting the bot.
import { REST } from 'discord.js';
import { allowedModels, ConfigError, loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/logger.js';
import { registerCommands } from './register.js';

try {
  const config = loadConfig();
  const logger = createLogger(config);
  const rest = new REST(config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {}).setToken(config.DISCORD_TOKEN);
  const { applicationId, count } = await registerCommands(rest, { models: allowedModels(config) });
  logger.info({ applicationId, count }, 'slash commands registered');
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : `Could not register commands: ${(error as Error).message}`}\n`);
  process.exitCode = 1;
}
