// The composition root: config → logger → database → Redis → model client → services → Discord
// client → listeners → login. On SIGINT/SIGTERM the same, in reverse, after answers in flight finish.
import { Events } from 'discord.js';
import { Redis } from 'ioredis';
import { commandsByName } from '../commands/index.js';
import { registerCommands } from '../commands/register.js';
import { ConversationService } from './chat/conversation.js';
import { ModelClient } from './chat/model-client.js';
import { SessionStore } from './chat/session-store.js';
import { ConfigError, loadConfig, type Config } from './config/index.js';
import { createDiscordClient } from './discord/client.js';
import { createDmHandler } from './discord/dm-handler.js';
import { createInteractionRouter } from './discord/interactions.js';
import { openDatabase } from './history/orm.js';
import { HistoryRepository } from './history/repository.js';
import { createLogger } from './logger.js';

const SHUTDOWN_GRACE_MS = 15_000;

async function main(config: Config): Promise<void> {
  const logger = createLogger(config);
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));

  const { orm, applied } = await openDatabase(config.DATABASE_URL, { migrate: config.MIGRATE_ON_START });
  logger.info({ applied }, applied.length ? 'migrations applied' : 'database schema up to date');

  // Fail fast instead of queueing forever when Redis is away; the user is told memory is unavailable.
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 5000, lazyConnect: true });
  redis.on('error', (error) => logger.warn({ err: error }, 'redis error'));
  await redis.connect();

  const model = new ModelClient({
    apiKey: config.OPENAI_API_KEY,
    baseURL: config.OPENAI_BASE_URL,
    model: config.OPENAI_MODEL,
    timeoutMs: config.OPENAI_TIMEOUT_MS,
    maxRetries: config.OPENAI_MAX_RETRIES,
    maxReplyTokens: config.MAX_REPLY_TOKENS,
  });
  const sessions = new SessionStore(redis, { prefix: config.REDIS_KEY_PREFIX, ttlSeconds: config.SESSION_TTL_SECONDS });
  const history = new HistoryRepository(orm);
  const conversation = new ConversationService(
    { sessions, model, history, logger },
    { systemPrompt: config.SYSTEM_PROMPT, contextTokenBudget: config.CONTEXT_TOKEN_BUDGET },
  );

  const client = createDiscordClient({ apiUrl: config.DISCORD_API_URL });
  const onMessage = createDmHandler({ conversation, logger }, { maxInputChars: config.MAX_INPUT_CHARS, logMessageContent: config.LOG_MESSAGE_CONTENT });
  const onInteraction = createInteractionRouter(commandsByName, { sessions, history, logger });
  client.on(Events.MessageCreate, onMessage);
  client.on(Events.InteractionCreate, onInteraction);
  client.on(Events.Error, (error) => logger.error({ err: error }, 'discord client error'));
  client.on(Events.Warn, (message) => logger.warn({ discord: message }, 'discord client warning'));
  client.once(Events.ClientReady, async (ready) => {
    try {
      if (config.DEPLOY_COMMANDS_ON_START) await registerCommands(ready.rest, ready.application.id);
    } catch (error) {
      logger.error({ err: error }, 'slash command registration failed; DMs still work');
    }
    logger.info({ event: 'ready', user: ready.user.tag, userId: ready.user.id, model: config.OPENAI_MODEL }, 'ready');
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    client.off(Events.MessageCreate, onMessage);
    client.off(Events.InteractionCreate, onInteraction);
    const drained = await Promise.race([
      conversation.drain().then(() => true),
      new Promise<false>((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS, false).unref()),
    ]);
    if (!drained) logger.warn('gave up waiting for answers in flight');
    await client.destroy();
    await redis.quit().catch(() => redis.disconnect());
    await orm.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  await client.login(config.DISCORD_TOKEN);
}

try {
  await main(loadConfig());
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\nSee .env.example for every setting and its default.\n`);
  } else {
    process.stderr.write(`Start-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
}
