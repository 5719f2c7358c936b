// The composition root: config → logger → database → Redis → model client → services → Discord
// client → listeners → login → stream worker. Every replica runs the same: its gateway session puts
// incoming messages on the shared Redis stream, and its worker answers what it takes from there.
// On SIGINT/SIGTERM: stop taking messages, finish those in hand, then close in reverse order.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type APIApplication, type APIUser, Events, type Interaction, RESTEvents, Routes } from 'discord.js';
import { commandsByName } from '../commands/index.js';
import { registerCommands } from '../commands/register.js';
import { loadTokenCounter } from './chat/context.js';
import { ConversationService } from './chat/conversation.js';
import { Guards } from './chat/guards.js';
import { ModelClient } from './chat/model-client.js';
import { moderationPolicy } from './chat/moderation.js';
import { SessionStore } from './chat/session-store.js';
import { UserLock } from './chat/user-lock.js';
import { allowedModels, ConfigError, loadConfig, type Config } from './config/index.js';
import { createDiscordClient, deliverInteraction, gatewayIntents } from './discord/client.js';
import { ChannelDirectory } from './discord/gateway/channels.js';
import { openGateway } from './discord/gateway/index.js';
import { createAnswerer } from './discord/answerer.js';
import { DISCORD_CDN_ORIGINS } from './discord/attachments/download.js';
import { AttachmentReader } from './discord/attachments/reader.js';
import { createIntake } from './discord/intake.js';
import { shareRequestBudget } from './discord/request-budget.js';
import { StreamBudget } from './discord/stream-budget.js';
import { STOP_BUTTON, StopButtons } from './discord/stop-button.js';
import { createInteractionRouter } from './discord/interactions.js';
import { openDatabase } from './history/orm.js';
import { HistoryOutbox } from './history/outbox.js';
import { ExportLimiter } from './history/export-limiter.js';
import { PersonSettingsStore } from './history/person-settings.js';
import { HistoryRepository } from './history/repository.js';
import { HistoryRetention } from './history/retention.js';
import { UsageLedger } from './history/usage-ledger.js';
import { maskTokens } from './log-errors.js';
import { createLogger } from './logger.js';
import { listenOps } from './ops/http.js';
import { Metrics } from './ops/metrics.js';
import { StartupProgress } from './ops/start-up.js';
import { Erasure } from './privacy/erasure.js';
import { DmStream } from './queue/dm-stream.js';
import { DmWorker } from './queue/worker.js';
import { connectRedis } from './redis.js';

// A message handed out this often without being finished is given up with an apology.
const MAX_DELIVERIES = 5;

async function main(config: Config, startup: StartupProgress): Promise<void> {
  const logger = createLogger(config);
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));

  // The health port first: a second replica on this machine with the same settings stops here,
  // before migrating or connecting to anything.
  if (config.HTTP_PORT) startup.begin('http', logger);
  const ops = config.HTTP_PORT ? await listenOps({ host: config.HTTP_HOST, port: config.HTTP_PORT }) : null;
  if (ops) logger.info({ host: config.HTTP_HOST, port: ops.port }, 'health and metrics listening');

  startup.begin('database', logger);
  const { orm, applied } = await openDatabase(config.DATABASE_URL, { migrate: config.MIGRATE_ON_START });
  logger.info({ applied }, applied.length ? 'migrations applied' : 'database schema up to date');

  // Fail fast instead of queueing forever when Redis is away; the user is told memory is unavailable.
  const redis = connectRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER, maxRetriesPerRequest: 1, connectTimeout: 5000, lazyConnect: true });
  redis.on('error', (error) => logger.warn({ err: error }, 'redis error'));
  startup.begin('redis', logger, redis);
  // A cluster whose nodes cannot be reached would be retried forever: start-up gives up instead.
  await Promise.race([
    redis.connect(),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`Redis at ${new URL(config.REDIS_URL).host} did not answer within 10 s`)), 10_000).unref()),
  ]);

  const history = new HistoryRepository(orm);
  // What each person chose for themselves (/model); the first allowed model is everyone's default.
  const personSettings = new PersonSettingsStore(orm);
  const models = allowedModels(config);
  // Counts only, no words (/usage, /stats); written as each answer arrives, never holding it up.
  const usage = new UsageLedger(orm);
  const retention = new HistoryRetention({ orm, redis, logger }, { prefix: config.REDIS_KEY_PREFIX, retentionDays: config.HISTORY_RETENTION_DAYS });
  const outbox = new HistoryOutbox({ history, redis, logger, onDeadLetter: () => metrics.outboxDeadLetters.inc() }, { prefix: config.REDIS_KEY_PREFIX, flushIntervalMs: config.OUTBOX_FLUSH_INTERVAL_MS });
  const stream = new DmStream(redis, { prefix: config.REDIS_KEY_PREFIX });
  const metrics = new Metrics({ outboxDepth: () => outbox.depth(), queueDepth: () => stream.depth(), inHand: () => worker.held });
  const guards = new Guards(redis, logger, { prefix: config.REDIS_KEY_PREFIX, allowedUserIds: config.ALLOWED_USER_IDS, dailyTokenCap: config.DAILY_TOKEN_CAP });
  const model = new ModelClient({
    apiKey: config.OPENAI_API_KEY,
    baseURL: config.OPENAI_BASE_URL,
    model: models[0]!,
    timeoutMs: config.OPENAI_TIMEOUT_MS,
    maxRetries: config.OPENAI_MAX_RETRIES,
    maxReplyTokens: config.MAX_REPLY_TOKENS,
    promptCacheKey: config.OPENAI_PROMPT_CACHE_KEY,
    observe: (seconds, outcome) => metrics.modelLatency.observe({ outcome }, seconds),
  });
  const sessions = new SessionStore(redis, { prefix: config.REDIS_KEY_PREFIX, ttlSeconds: config.SESSION_TTL_SECONDS });
  // The longest a message can legitimately hold up the next one of the same person: every model
  // attempt timing out, plus a takeover after its replica died.
  const slowestMessageMs = config.OPENAI_TIMEOUT_MS * (config.OPENAI_MAX_RETRIES + 1) + 2 * config.REDELIVER_AFTER_MS + 30_000;
  // The lock is renewed while held, so its TTL only decides how soon a dead replica's lock frees.
  const lock = new UserLock(redis, { prefix: config.REDIS_KEY_PREFIX, ttlMs: config.REDELIVER_AFTER_MS, waitMs: slowestMessageMs });
  const conversation = new ConversationService(
    {
      sessions,
      model,
      history: outbox,
      logger,
      settings: personSettings,
      // An image of an earlier turn is fetched again when a request includes it (image-memory.ts).
      images: { load: (image) => attachments.load(image) },
      moderation: moderationPolicy(config, (stage, flagged) => (flagged ? flagged.forEach((category) => metrics.moderationFlagged.inc({ stage, category })) : metrics.moderationFailures.inc({ stage }))),
      onAnswered: (userId, completion) => {
        metrics.tokens.inc({ kind: 'prompt' }, completion.usage.promptTokens);
        metrics.tokens.inc({ kind: 'completion' }, completion.usage.completionTokens);
        metrics.tokens.inc({ kind: 'cached' }, completion.usage.cachedTokens ?? 0);
        void guards.spend(userId, completion.usage.totalTokens);
        usage.record(userId, completion.model, completion.usage).catch((error: unknown) => logger.warn({ err: error, userId }, 'usage ledger not updated'));
      },
    },
    {
      systemPrompt: config.SYSTEM_PROMPT,
      contextTokenBudget: config.CONTEXT_TOKEN_BUDGET,
      countTokens: await loadTokenCounter(models[0]!),
      models: { allowed: models, counterFor: loadTokenCounter },
      vision: { mode: config.OPENAI_VISION, memoryTurns: config.IMAGE_MEMORY_TURNS },
    },
  );

  const client = createDiscordClient({
    token: config.DISCORD_TOKEN,
    apiUrl: config.DISCORD_API_URL,
    globalRequestsPerSecond: config.DISCORD_GLOBAL_RPS,
    requestTimeoutMs: config.DISCORD_REQUEST_TIMEOUT_MS,
  });
  // Pictures and files people send: downloaded from Discord's CDN only when a message is answered.
  const attachments = new AttachmentReader(
    { rest: client.rest, logger },
    {
      vision: config.OPENAI_VISION,
      detail: config.IMAGE_DETAIL,
      maxAttachments: config.MAX_ATTACHMENTS,
      maxAttachmentBytes: config.MAX_ATTACHMENT_BYTES,
      maxImageBytes: config.MAX_IMAGE_BYTES,
      maxFileChars: config.MAX_FILE_CHARS,
      timeoutMs: config.ATTACHMENT_TIMEOUT_MS,
      origins: [...DISCORD_CDN_ORIGINS, ...(config.DISCORD_API_URL ? [new URL(config.DISCORD_API_URL).origin] : [])],
    },
  );
  // Who the bot is: its own messages and mentions (also checks the token before anything else).
  startup.begin('discord', logger);
  const me = (await client.rest.get(Routes.user())) as APIUser;
  const channels = new ChannelDirectory(client.rest);
  const onHandled = (outcome: string, seconds?: number) => {
    countOutcome(metrics, outcome);
    if (seconds !== undefined) metrics.answerLatency.observe({ outcome }, seconds);
  };
  const onMessage = createIntake(
    { stream, rest: client.rest, logger, botId: me.id, channelOf: channels.lookup, onHandled, allowed: (userId) => guards.allowed(userId) },
    { guildMode: config.GUILD_MODE, logMessageContent: config.LOG_MESSAGE_CONTENT, maxInputChars: config.MAX_INPUT_CHARS, ratePerMinute: config.RATE_LIMIT_PER_MINUTE },
  );
  // The blocking read holds its connection, so it gets one of its own.
  const reader = connectRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER, maxRetriesPerRequest: null, connectTimeout: 5000 });
  reader.on('error', (error) => logger.debug({ err: error }, 'redis reader error'));
  const subscriber = connectRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER, maxRetriesPerRequest: null, connectTimeout: 5000 });
  subscriber.on('error', (error) => logger.debug({ err: error }, 'redis subscriber error'));
  // Stop presses reach whichever replica Discord's event went to; the cancel goes over Redis.
  const stops = new StopButtons({ redis, subscriber, logger }, { prefix: config.REDIS_KEY_PREFIX });
  // Discord rejected the token (reset or revoked): no request can work until the operator sets the
  // new one, so this replica takes no more messages (they stay on the stream) and reports not ready.
  let tokenRejected = false;
  const onTokenRejected = () => {
    if (tokenRejected) return;
    tokenRejected = true;
    logger.fatal('Discord rejected the bot token (401): it was reset or revoked. Set DISCORD_TOKEN to the new token and restart. Not taking messages until then; they stay queued.');
    void worker.stop(0);
  };
  const consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const worker: DmWorker = new DmWorker(
    {
      stream,
      reader,
      subscriber,
      logger,
      onRedelivered: () => metrics.redelivered.inc(),
      handle: createAnswerer(
        {
          conversation,
          stream,
          lock,
          rest: client.rest,
          logger,
          guards,
          localeOf: (userId) => sessions.locale(userId),
          busy: () => worker.busy,
          onHandled,
          onTokenRejected,
          streamBudget: new StreamBudget(client.rest, config.STREAM_EDIT_INTERVAL_MS),
          attachments,
          stops,
        },
        {
          maxInputChars: config.MAX_INPUT_CHARS,
          logMessageContent: config.LOG_MESSAGE_CONTENT,
          streamReplies: config.STREAM_REPLIES,
          streamEditIntervalMs: config.STREAM_EDIT_INTERVAL_MS,
          maxDeliveries: MAX_DELIVERIES,
        },
      ),
    },
    { consumer, concurrency: config.WORKER_CONCURRENCY, redeliverAfterMs: config.REDELIVER_AFTER_MS, turnStallMs: slowestMessageMs },
  );
  const settings = {
    sessionTtlSeconds: config.SESSION_TTL_SECONDS,
    model: models[0]!,
    models,
    retentionDays: config.HISTORY_RETENTION_DAYS,
    ownerIds: config.OWNER_IDS,
    logsMessageContent: config.LOG_MESSAGE_CONTENT,
  };
  const onInteraction = createInteractionRouter(
    commandsByName,
    {
      sessions,
      history,
      logger,
      settings,
      exports: new ExportLimiter(redis, { prefix: config.REDIS_KEY_PREFIX }),
      erasure: new Erasure({ sessions, history, outbox, stream, personSettings }),
      usage,
      tokenWindow: (userId) => guards.tokenWindow(userId),
      personSettings,
    },
    (command, outcome) => {
      metrics.commands.inc({ command, outcome });
      if (outcome === 'error') metrics.errors.inc({ kind: 'command' });
    },
    // Interaction tokens live 15 minutes; so does the claim.
    async (id) => (await redis.set(`${config.REDIS_KEY_PREFIX}interaction:${id}`, '1', 'EX', 900, 'NX')) === 'OK',
    new Map([[STOP_BUTTON, stops]]),
  );
  const gateway = openGateway(
    {
      token: config.DISCORD_TOKEN,
      rest: client.rest,
      redis,
      logger,
      metrics,
      channels,
      intake: onMessage,
      interactions: (interaction) => deliverInteraction(client, interaction),
      replicas: () => stream.replicaCount(),
    },
    {
      intents: gatewayIntents(config.GUILD_MODE === 'mention'),
      prefix: config.REDIS_KEY_PREFIX,
      owner: consumer,
      shards: config.GATEWAY_SHARDS,
      shardLeaseMs: config.REDELIVER_AFTER_MS,
      catchUp: {
        hours: config.CATCH_UP_HOURS,
        requestsPerSecond: Math.max(1, Math.floor(config.DISCORD_GLOBAL_RPS / 5)),
        keys: { lastHandled: stream.lastHandledKey, lastHandledAt: stream.lastHandledAtKey },
      },
    },
  );
  const onInteractionEvent = (interaction: Interaction) => void onInteraction(interaction);
  client.on(Events.InteractionCreate, onInteractionEvent);
  client.on(Events.Error, (error) => logger.error({ err: error }, 'discord client error'));
  client.on(Events.Warn, (message) => logger.warn({ discord: maskTokens(message) }, 'discord client warning'));
  client.rest.on(RESTEvents.RateLimited, (limit) => metrics.discordRateLimited.inc({ global: String(limit.global) }));

  outbox.start();
  retention.start();
  ops?.serve({
    metrics,
    checks: {
      // Every shard connected (isReady() stays true while one reconnects), and a token Discord accepts.
      discord: () => Promise.resolve(gateway.up() && !tokenRejected),
      postgres: () => orm.isConnected(),
      redis: async () => (await redis.ping()) === 'PONG',
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
    const finished = await worker.stop(config.SHUTDOWN_GRACE_MS);
    if (!finished) logger.warn('gave up waiting for answers in flight; another replica will take them over');
    // Only now: while it finished its answers it still used its share of Discord's budget.
    await budget?.retire();
    // Resumable: the next process to start resumes the session, and Discord replays what came meanwhile.
    await gateway.closeForRestart().catch((error: unknown) => logger.warn({ err: error }, 'gateway session not handed over; the next start opens a new one'));
    client.off(Events.InteractionCreate, onInteractionEvent);
    outbox.stop();
    stops.stop();
    await retention.stop();
    await outbox.flush().catch((error: unknown) => logger.warn({ err: error }, 'outbox kept for the next start'));
    ops?.server.close();
    await client.destroy();
    await redis.quit().catch(() => redis.disconnect());
    await orm.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  await gateway.connect();
  startup.done();
  try {
    if (config.DEPLOY_COMMANDS_ON_START) await registerCommands(client.rest, { models }, ((await client.rest.get(Routes.currentApplication())) as APIApplication).id);
  } catch (error) {
    logger.error({ err: error }, 'slash command registration failed; DMs still work');
  }
  logger.info({ event: 'ready', user: me.username, userId: me.id, model: models[0] }, 'ready');
  await stops.start();
  await worker.start();
  logger.info({ consumer, concurrency: config.WORKER_CONCURRENCY }, 'taking messages from the shared stream');

  budget = await shareRequestBudget({ rest: client.rest, stream, logger }, { consumer, total: config.DISCORD_GLOBAL_RPS });
}

function countOutcome(metrics: Metrics, outcome: string): void {
  metrics.messages.inc({ outcome });
  if (!['answered', 'empty', 'too_long_input', 'not_allowed', 'rate_limited', 'token_cap', 'moderated', 'answer_moderated', 'stopped', 'voice_message', 'attachments_only'].includes(outcome)) {
    metrics.errors.inc({ kind: outcome });
  }
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
