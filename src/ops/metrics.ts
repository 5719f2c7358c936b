// Prometheus metrics (prom-client), in a registry of our own so tests and several bots in one
// process never collide.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly messages = new Counter({ name: 'bot_messages_total', help: 'Direct messages handled, by outcome', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly commands = new Counter({ name: 'bot_commands_total', help: 'Slash commands and button clicks handled', labelNames: ['command', 'outcome'] as const, registers: [this.registry] });
  readonly modelLatency = new Histogram({
    name: 'bot_model_request_seconds',
    help: 'Time from sending a request to the model to its full answer',
    labelNames: ['outcome'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64],
    registers: [this.registry],
  });
  readonly answerLatency = new Histogram({
    name: 'bot_answer_seconds',
    help: 'Time from a message being queued to its reply being shown (the wait for the person\'s earlier messages included), by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64],
    registers: [this.registry],
  });
  readonly tokens = new Counter({ name: 'bot_model_tokens_total', help: 'Tokens used, by kind', labelNames: ['kind'] as const, registers: [this.registry] });
  readonly errors = new Counter({ name: 'bot_errors_total', help: 'Failures, by kind', labelNames: ['kind'] as const, registers: [this.registry] });
  readonly gatewayEvents = new Counter({ name: 'bot_gateway_events_total', help: 'Gateway dispatches received, by type', labelNames: ['type'] as const, registers: [this.registry] });
  readonly gatewayTrouble = new Counter({
    name: 'bot_gateway_trouble_total',
    help: 'Gateway reconnects, close codes, invalid sessions and resumes, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly sessionStartsRemaining = new Gauge({
    name: 'bot_gateway_session_starts_remaining',
    help: "Gateway session starts Discord still allows today (session_start_limit.remaining; at 0 Discord resets the bot's token)",
    registers: [this.registry],
  });
  readonly gatewaySessions = new Counter({
    name: 'bot_gateway_sessions_total',
    help: 'Gateway sessions opened (identify) or carried on (resume: after a reconnect or by a restarted process)',
    labelNames: ['how'] as const,
    registers: [this.registry],
  });
  readonly gatewayUp = new Gauge({ name: 'bot_gateway_up', help: 'Whether every shard this replica holds is connected (1) or not (0)', registers: [this.registry] });
  readonly gatewayShards = new Gauge({ name: 'bot_gateway_shards_held', help: 'Gateway shards this replica holds a session for', registers: [this.registry] });
  readonly caughtUp = new Counter({ name: 'bot_gateway_caught_up_total', help: 'Messages found over REST after a gateway outage and put on the stream', registers: [this.registry] });
  readonly redelivered = new Counter({ name: 'bot_messages_redelivered_total', help: 'Messages taken over from a replica that stopped answering them', registers: [this.registry] });
  readonly outboxDeadLetters = new Counter({
    name: 'bot_outbox_dead_letters_total',
    help: 'Exchanges PostgreSQL refused for good, set aside in the outbox dead letters',
    registers: [this.registry],
  });
  // From discord.js's `rateLimited` event: it fires whenever a request waits for a limit, whether a
  // 429 set it, a bucket's headers said it was spent, or the bot-wide requests per second ran out.
  readonly discordRateLimited = new Counter({
    name: 'bot_discord_rate_limited_total',
    help: 'Discord requests held back for a rate limit (after a 429, a spent bucket, or the global limit), by whether the limit was global',
    labelNames: ['global'] as const,
    registers: [this.registry],
  });
  // MODERATION: what the moderation endpoint flagged (stage input or answer), and checks that got no verdict.
  readonly moderationFlagged = new Counter({
    name: 'bot_moderation_flagged_total',
    help: 'Texts the moderation endpoint flagged, by stage (input, answer) and category',
    labelNames: ['stage', 'category'] as const,
    registers: [this.registry],
  });
  readonly moderationFailures = new Counter({
    name: 'bot_moderation_failures_total',
    help: 'Moderation checks that got no verdict (MODERATION_FAIL decides what follows), by stage',
    labelNames: ['stage'] as const,
    registers: [this.registry],
  });
  readonly outboxDepth: Gauge;
  readonly queueDepth: Gauge;
  readonly inHand: Gauge;

  constructor(sources: { outboxDepth: () => Promise<number>; queueDepth: () => Promise<number>; inHand: () => number }) {
    collectDefaultMetrics({ register: this.registry });
    this.outboxDepth = this.gauge('bot_outbox_depth', 'Answered exchanges waiting for PostgreSQL', sources.outboxDepth);
    this.queueDepth = this.gauge('bot_queue_depth', 'Messages on the shared stream, waiting or being answered (all replicas)', sources.queueDepth);
    this.inHand = this.gauge('bot_messages_in_hand', 'Messages this replica is answering or holding for their turn', () => Promise.resolve(sources.inHand()));
  }

  /** A gauge read when scraped; -1 when its source cannot answer (Redis away). */
  private gauge(name: string, help: string, read: () => Promise<number>): Gauge {
    return new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        this.set(await read().catch(() => -1));
      },
    });
  }
}
