// Wiring, part 3: the Discord side. The REST client, the bot's identity, the intake (gateway →
// stream), the answerer behind the stream worker, slash commands and buttons, and the gateway.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type APIUser, Events, RESTEvents, Routes } from 'discord.js';
import type { Logger } from 'pino';
import { commandsByName } from '../../commands/index.js';
import type { Config } from '../config/index.js';
import { createAnswerer } from '../discord/answerer.js';
import { DISCORD_CDN_ORIGINS } from '../discord/attachments/download.js';
import { AttachmentReader } from '../discord/attachments/reader.js';
import { createDiscordClient, deliverInteraction, gatewayIntents } from '../discord/client.js';
import { ChannelDirectory } from '../discord/gateway/channels.js';
import { openGateway } from '../discord/gateway/index.js';
import { createIntake } from '../discord/intake.js';
import { createInteractionRouter } from '../discord/interactions.js';
import { STOP_BUTTON, StopButtons } from '../discord/stop-button.js';
import { StreamBudget } from '../discord/stream-budget.js';
import { ExportLimiter } from '../history/export-limiter.js';
import { maskTokens } from '../log-errors.js';
import type { Metrics } from '../ops/metrics.js';
import { CopiesEverywhere } from '../privacy/copies.js';
import { Erasure } from '../privacy/erasure.js';
import { DmWorker } from '../queue/worker.js';
import type { Chat } from './chat.js';
import type { Storage } from './storage.js';

// A message handed out this often without being finished is given up with an apology.
const MAX_DELIVERIES = 5;
// Outcomes that are answers or deliberate refusals, not failures (everything else counts as an error).
const NOT_ERRORS = ['answered', 'stopped', 'empty', 'too_long_input', 'not_allowed', 'rate_limited', 'backlog', 'token_cap', 'moderated', 'answer_moderated', 'voice_message', 'attachments_only'];

/** The REST client, and pictures and files read from Discord's CDN when a message is answered. */
export function openDiscordClient(config: Config, logger: Logger) {
  const client = createDiscordClient({
    token: config.DISCORD_TOKEN,
    apiUrl: config.DISCORD_API_URL,
    globalRequestsPerSecond: config.DISCORD_GLOBAL_RPS,
    requestTimeoutMs: config.DISCORD_REQUEST_TIMEOUT_MS,
  });
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
  return { client, attachments };
}

export async function wireDiscord(
  config: Config,
  logger: Logger,
  metrics: Metrics,
  { storage, chat, discord }: { storage: Storage; chat: Chat; discord: ReturnType<typeof openDiscordClient> },
) {
  const { client, attachments } = discord;
  const { redis, reader, subscriber, stream, history, outbox, personSettings, usage } = storage;
  const { conversation, sessions, guards, lock, models } = chat;
  const prefix = config.REDIS_KEY_PREFIX;
  // Who the bot is: its own messages and mentions (this also checks the token before anything else).
  const me = (await client.rest.get(Routes.user())) as APIUser;
  const consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const onHandled = (outcome: string, seconds?: number) => {
    metrics.messages.inc({ outcome });
    if (!NOT_ERRORS.includes(outcome)) metrics.errors.inc({ kind: outcome });
    if (seconds !== undefined) metrics.answerLatency.observe({ outcome }, seconds);
  };

  // Discord rejected the token (reset or revoked): no request can work until the operator sets the
  // new one, so this replica takes no more messages (they stay on the stream) and reports not ready.
  const token = { rejected: false };
  const onTokenRejected = () => {
    if (token.rejected) return;
    token.rejected = true;
    logger.fatal('Discord rejected the bot token (401): it was reset or revoked. Set DISCORD_TOKEN to the new token and restart. Not taking messages until then; they stay queued.');
    void worker.stop(0);
  };
  // Stop presses reach whichever replica Discord's event went to; the cancel goes over Redis.
  const stops = new StopButtons({ redis, subscriber, logger }, { prefix });
  const copies = new CopiesEverywhere({ redis, subscriber, logger, copies: [attachments] }, { prefix });
  await copies.start(); // another replica's erasure empties this one's picture cache too
  const answer = createAnswerer(
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
      consumer,
    },
  );
  const worker: DmWorker = new DmWorker(
    { stream, reader, subscriber, logger, onRedelivered: () => metrics.redelivered.inc(), handle: answer },
    { consumer, concurrency: config.WORKER_CONCURRENCY, redeliverAfterMs: config.REDELIVER_AFTER_MS, turnStallMs: chat.slowestMessageMs },
  );

  const onInteraction = createInteractionRouter(
    commandsByName,
    {
      sessions,
      history,
      logger,
      settings: {
        sessionTtlSeconds: config.SESSION_TTL_SECONDS,
        model: models[0]!,
        models,
        retentionDays: config.HISTORY_RETENTION_DAYS,
        ownerIds: config.OWNER_IDS,
        logsMessageContent: config.LOG_MESSAGE_CONTENT,
        moderation: config.MODERATION !== 'off',
      },
      exports: new ExportLimiter(redis, { prefix }),
      erasure: new Erasure({ sessions, history, outbox, stream, personSettings, caches: [copies] }),
      usage,
      tokenWindow: (userId) => guards.tokenWindow(userId),
      personSettings,
    },
    (command, outcome) => {
      metrics.commands.inc({ command, outcome });
      if (outcome === 'error') metrics.errors.inc({ kind: 'command' });
    },
    // Interaction tokens live 15 minutes; so does the claim.
    async (id) => (await redis.set(`${prefix}interaction:${id}`, '1', 'EX', 900, 'NX')) === 'OK',
    new Map([[STOP_BUTTON, stops]]),
  );
  client.on(Events.InteractionCreate, (interaction) => void onInteraction(interaction));
  client.on(Events.Error, (error) => logger.error({ err: error }, 'discord client error'));
  client.on(Events.Warn, (message) => logger.warn({ discord: maskTokens(message) }, 'discord client warning'));
  client.rest.on(RESTEvents.RateLimited, (limit) => metrics.discordRateLimited.inc({ global: String(limit.global) }));

  const channels = new ChannelDirectory(client.rest, (channelId, error) => logger.warn({ err: error, channelId }, 'could not tell what a server channel is; a mention there is not answered'));
  const intake = createIntake(
    { stream, rest: client.rest, logger, botId: me.id, channelOf: channels.lookup, onHandled, allowed: (userId) => guards.allowed(userId) },
    { guildMode: config.GUILD_MODE, logMessageContent: config.LOG_MESSAGE_CONTENT, maxInputChars: config.MAX_INPUT_CHARS, ratePerMinute: config.RATE_LIMIT_PER_MINUTE, maxWaiting: config.MAX_WAITING_PER_PERSON },
  );
  const gateway = openGateway(
    {
      token: config.DISCORD_TOKEN,
      rest: client.rest,
      redis,
      logger,
      metrics,
      channels,
      intake,
      interactions: (interaction) => deliverInteraction(client, interaction),
      replicas: () => stream.replicaCount(),
    },
    {
      intents: gatewayIntents(config.GUILD_MODE === 'mention'),
      prefix,
      owner: consumer,
      shards: config.GATEWAY_SHARDS,
      // Two thirds of the visibility timeout, renewed four times per lease: a dead replica's shards are
      // taken over within the timeout, as its messages are.
      shardLeaseMs: Math.round((config.REDELIVER_AFTER_MS * 2) / 3),
      apiHost: config.DISCORD_API_URL ? new URL(config.DISCORD_API_URL).hostname : undefined,
      catchUp: {
        hours: config.CATCH_UP_HOURS,
        // A fifth of the REST budget: answers keep flowing while the bot catches up.
        requestsPerSecond: Math.max(1, Math.floor(config.DISCORD_GLOBAL_RPS / 5)),
        keys: { lastHandled: stream.lastHandledKey, lastHandledAt: stream.lastHandledAtKey },
      },
    },
  );
  return { me, consumer, worker, stops, gateway, token };
}
