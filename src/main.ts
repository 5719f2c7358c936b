// The composition root, as a recipe: config → logger → health port → storage (PostgreSQL, Redis) →
// the conversation core → Discord (REST, answerer, commands, gateway) → ready → the stream worker.
// Each subsystem is wired in src/app/. Every replica runs the same: its gateway session puts incoming
// messages on the shared Redis stream, and its worker answers what it takes from there.
// On SIGINT/SIGTERM: stop taking messages, finish those in hand, hand the gateway session on, then
// close in reverse order.
import { type APIApplication, Routes } from 'discord.js';
import { registerCommands } from '../commands/register.js';
import { buildChat } from './app/chat.js';
import { openDiscordClient, wireDiscord } from './app/discord.js';
import { openStorage } from './app/storage.js';
import { ConfigError, loadConfig, type Config } from './config/index.js';
import { shareRequestBudget } from './discord/request-budget.js';
import { createLogger } from './logger.js';
import { listenOps } from './ops/http.js';
import { Metrics } from './ops/metrics.js';
import { StartupProgress } from './ops/start-up.js';

async function main(config: Config, startup: StartupProgress): Promise<void> {
  const logger = createLogger(config);
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));

  // The health port first: a second replica on this machine with the same settings stops here,
  // before migrating or connecting to anything.
  if (config.HTTP_PORT) startup.begin('http', logger);
  const ops = config.HTTP_PORT ? await listenOps({ host: config.HTTP_HOST, port: config.HTTP_PORT === 'auto' ? 0 : config.HTTP_PORT }) : null;
  if (ops) logger.info({ host: config.HTTP_HOST, port: ops.port }, 'health and metrics listening');

  const storage = await openStorage(config, logger, startup, () => metrics.outboxDeadLetters.inc());
  const metrics: Metrics = new Metrics({ outboxDepth: () => storage.outbox.depth(), queueDepth: () => storage.stream.depth(), inHand: () => bot.worker.held });
  const discord = openDiscordClient(config, logger);
  const chat = await buildChat(config, logger, metrics, storage, discord.attachments);
  startup.begin('discord', logger);
  const bot = await wireDiscord(config, logger, metrics, { storage, chat, discord });

  storage.outbox.start();
  storage.retention.start();
  ops?.serve({
    metrics,
    checks: {
      // Every shard connected, and a token Discord accepts.
      discord: () => Promise.resolve(bot.gateway.up() && !bot.token.rejected),
      postgres: () => storage.orm.isConnected(),
      redis: async () => (await storage.redis.ping()) === 'PONG',
    },
  });

  // Assigned once at the end of start-up; `let` so a signal before then finds it undefined, not in its TDZ.
  // eslint-disable-next-line prefer-const
  let budget: { retire(): Promise<void> } | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // The gateway session stays open while the messages in hand finish: new DMs still reach the
    // stream (for the other replicas, or this one's next start), and commands are still answered.
    const finished = await bot.worker.stop(config.SHUTDOWN_GRACE_MS);
    if (!finished) logger.warn('gave up waiting for answers in flight; another replica will take them over');
    // Only now: while it finished its answers it still used its share of Discord's budget.
    await budget?.retire();
    // Resumable: the next process to start resumes the session, and Discord replays what came meanwhile.
    await bot.gateway.closeForRestart().catch((error: unknown) => logger.warn({ err: error }, 'gateway session not handed over; the next start opens a new one'));
    discord.client.removeAllListeners();
    storage.outbox.stop();
    bot.stops.stop();
    await storage.retention.stop();
    await storage.outbox.flush().catch((error: unknown) => logger.warn({ err: error }, 'outbox kept for the next start'));
    ops?.server.close();
    await discord.client.destroy();
    await storage.redis.quit().catch(() => storage.redis.disconnect());
    await storage.orm.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  await bot.gateway.connect();
  startup.done();
  try {
    if (config.DEPLOY_COMMANDS_ON_START) {
      const application = (await discord.client.rest.get(Routes.currentApplication())) as APIApplication;
      await registerCommands(discord.client.rest, { models: chat.models }, application.id);
    }
  } catch (error) {
    logger.error({ err: error }, 'slash command registration failed; DMs still work');
  }
  await bot.stops.start();
  await bot.worker.start();
  logger.info({ consumer: bot.consumer, concurrency: config.WORKER_CONCURRENCY }, 'taking messages from the shared stream');
  budget = await shareRequestBudget({ rest: discord.client.rest, stream: storage.stream, logger }, { consumer: bot.consumer, total: config.DISCORD_GLOBAL_RPS });
  // Last: 'ready' means this replica answers, not only that its gateway session is up.
  logger.info({ event: 'ready', user: bot.me.username, userId: bot.me.id, model: chat.models[0] }, 'ready');
}

let startup: StartupProgress | undefined;
try {
  const config = loadConfig();
  startup = new StartupProgress(config);
  await main(config, startup);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\nSee .env.example for every setting and its default.\n`);
  } else {
    // The component that failed, where it was looked for, and the setting to change (README: Troubleshooting).
    process.stderr.write(`Start-up failed: ${startup ? startup.explain(error) : error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
}
