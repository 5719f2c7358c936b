// The gateway subsystem, wired: sessions resumed from Redis where a predecessor left one (sessions.ts),
// replicas taking turns to IDENTIFY (identify-throttle.ts), every event routed (messages to the
// intake, interactions to discord.js's structures, channel events to the thread directory), trouble
// watched (watch.ts), a catch-up over REST after every fresh shard-0 session no other replica covered
// (catch-up.ts), and, for a bot that must shard, shard 0 on every replica with the other shards
// leased among them (shard-leases.ts). Stopping closes resumably and hands the sessions on.
import { WebSocketShardEvents } from '@discordjs/ws';
import { type APIGatewayBotInfo, type APIInteraction, GatewayDispatchEvents, type REST, Routes } from 'discord.js';
import type { Logger } from 'pino';
import type { Metrics } from '../../ops/metrics.js';
import type { RedisClient } from '../../redis.js';
import type { RawMessage } from '../intake.js';
import { catchUp, type CatchUpDeps, type CatchUpOptions } from './catch-up.js';
import type { ChannelDirectory } from './channels.js';
import { GatewayConnection } from './connection.js';
import { redisIdentifyThrottler } from './identify-throttle.js';
import { GatewaySessions } from './sessions.js';
import { ShardLeases } from './shard-leases.js';
import { watchGateway } from './watch.js';

// Discord's close code for a session that would hold too many servers: the bot must shard.
const SHARDING_REQUIRED = 4011;

export interface GatewayDeps {
  token: string;
  rest: REST;
  redis: RedisClient;
  logger: Logger;
  metrics: Metrics;
  channels: ChannelDirectory;
  intake: (message: RawMessage) => Promise<boolean>;
  interactions: (interaction: APIInteraction) => void;
  /** How many replicas are alive (the identify throttler keeps a session start for each; shards are shared among them). */
  replicas: () => Promise<number>;
}

export interface GatewayOptions {
  intents: number;
  prefix: string;
  /** This process, as the holder of its sessions' and shards' leases. */
  owner: string;
  /** The number of shards, or 'auto' for what Discord recommends (GET /gateway/bot). */
  shards: number | 'auto';
  /** How soon a dead replica's shards are taken over. */
  shardLeaseMs: number;
  catchUp: Omit<CatchUpOptions, 'lockKey' | 'owner' | 'pendingKey' | 'signal'> & { keys: CatchUpDeps['keys'] };
  /** The host of DISCORD_API_URL, when the bot talks to a Discord-compatible server other than Discord. */
  apiHost?: string | undefined;
}

/** Discord's gateways (wss://*.discord.gg), or the configured server's own host. */
export function trustedGateway(url: string, apiHost?: string): boolean {
  try {
    const { protocol, hostname } = new URL(url);
    if (apiHost) return hostname === apiHost;
    return protocol === 'wss:' && (hostname === 'discord.gg' || hostname.endsWith('.discord.gg'));
  } catch {
    return false;
  }
}

export interface Gateway {
  connect(): Promise<void>;
  up(): boolean;
  closeForRestart(): Promise<void>;
}

export function openGateway(deps: GatewayDeps, options: GatewayOptions): Gateway {
  const { logger, metrics } = deps;
  const leases = new ShardLeases(deps.redis, { prefix: options.prefix, owner: options.owner, leaseMs: options.shardLeaseMs });
  let shardCount = 1;
  let primary: GatewayConnection | undefined;
  const leased = new Map<number, GatewayConnection>();
  let balancer: NodeJS.Timeout | undefined;
  /** Shards this replica handed on, and until when it leaves them to others. */
  const handedOn = new Map<number, number>();
  let stopping = false;

  const up = () => !!primary?.up() && [...leased.values()].every((c) => c.up());

  function open(shardId: number): GatewayConnection {
    const sessions = new GatewaySessions(deps.redis, {
      prefix: options.prefix,
      owner: options.owner,
      trustedGateway: (url) => trustedGateway(url, options.apiHost),
      onSaveFailed: (error) => logger.warn({ err: error, shardId }, 'gateway session not saved; a restart now would start a new one'),
    });
    const connection = new GatewayConnection({
      token: deps.token,
      rest: deps.rest,
      intents: options.intents,
      sessions,
      logger,
      shardId,
      shardCount,
      buildIdentifyThrottler: redisIdentifyThrottler({
        redis: deps.redis,
        prefix: options.prefix,
        logger,
        replicas: deps.replicas,
        onRemaining: (remaining) => metrics.sessionStartsRemaining.set(remaining),
      }),
      onDispatch: async (payload) => {
        deps.channels.observe(payload);
        if (payload.t === GatewayDispatchEvents.MessageCreate) await deps.intake(payload.d);
        else if (payload.t === GatewayDispatchEvents.InteractionCreate) deps.interactions(payload.d);
      },
    });
    watchGateway(connection.manager, metrics, logger, up);
    connection.manager.on(WebSocketShardEvents.Closed, ({ code }) => {
      if (code === SHARDING_REQUIRED && !stopping && !resharding) void reshard().catch((error: unknown) => logger.fatal({ err: error }, 'could not start the shards Discord requires'));
    });
    // A fresh DM session (READY) starts from now: what was written while no session was open, and no
    // other replica held one, is read back over REST.
    if (shardId === 0) connection.manager.on(WebSocketShardEvents.Ready, () => void catchUpIfNeeded(sessions, Date.now()));
    // A catch-up a predecessor left unfinished is finished even when its session was resumed.
    if (shardId === 0) connection.manager.on(WebSocketShardEvents.Resumed, () => void catchUpIfNeeded(sessions, Date.now(), { onlyPending: true }));
    return connection;
  }

  let catchingUp = false;
  const stopCatchUp = new AbortController();
  const pendingKey = `${options.prefix}{gateway}:catch-up:pending`;
  /** Catches up, unless other replicas held the gateway meanwhile and nothing is left pending. */
  async function catchUpIfNeeded(sessions: GatewaySessions, sessionStart: number, { onlyPending = false } = {}): Promise<void> {
    if (options.catchUp.hours <= 0 || catchingUp || stopping) return;
    catchingUp = true;
    try {
      // Left unfinished by a replica stopped or killed midway: finished now, whoever holds the gateway.
      const pending = await deps.redis.get(pendingKey);
      if (!pending && onlyPending) return;
      if (!pending && (await sessions.othersHolding(0)) > 0) return logger.debug('other replicas held the gateway meanwhile; no catch-up needed');
      const started = Date.now();
      const result = await catchUp(
        { redis: deps.redis, rest: deps.rest, logger, keys: options.catchUp.keys, intake: deps.intake, onFound: () => metrics.caughtUp.inc() },
        { ...options.catchUp, lockKey: `${options.prefix}{gateway}:catch-up`, owner: options.owner, pendingKey, signal: stopCatchUp.signal },
        pending ? Math.max(Number(pending), sessionStart) : sessionStart,
      );
      if (result) logger.info({ ...result, durationMs: Date.now() - started }, 'caught up on messages written while the gateway was away');
      else logger.debug('another replica is catching up');
    } catch (error) {
      logger.error({ err: error }, 'catch-up failed; messages written during the outage may be missing');
    } finally {
      catchingUp = false;
    }
  }

  async function plan(): Promise<number> {
    if (options.shards !== 'auto') return options.shards;
    const info = (await deps.rest.get(Routes.gatewayBot())) as APIGatewayBotInfo;
    return Math.max(1, info.shards);
  }

  /** Closes a shard this replica gives up, then frees its lease for a replica under its share. */
  async function handOn(shardId: number, count: number, connection: GatewayConnection | undefined): Promise<void> {
    await connection?.closeForRestart().catch((error: unknown) => logger.warn({ err: error, shardId }, 'gateway shard not closed cleanly'));
    try {
      await leases.release(shardId, count);
      logger.info({ shardId, shardCount: count }, 'gateway shard handed to another replica');
    } catch (error) {
      logger.warn({ err: error, shardId }, 'gateway shard lease not released; it lapses');
    }
  }

  /** Keeps this replica's share of shards 1…n-1: renews its leases, takes free shards, hands on extra ones. */
  async function balance(): Promise<void> {
    if (shardCount <= 1 || stopping) return;
    const now = Date.now();
    for (const [shardId, until] of handedOn) if (until < now) handedOn.delete(shardId);
    const { lost, gained } = await leases.balance(new Set(leased.keys()), shardCount, new Set(handedOn.keys()));
    // More than its share (replicas joined): one shard a round is handed on, for a replica under its
    // share to take (and resume); not taken back for a while unless nobody does.
    const share = Math.ceil((shardCount - 1) / Math.max(1, await deps.replicas()));
    if (!lost.length && !gained.length && leased.size > share) {
      const extra = Math.max(...leased.keys());
      handedOn.set(extra, now + 2 * options.shardLeaseMs);
      const connection = leased.get(extra);
      leased.delete(extra); // first: its closing must not count as this replica being down
      // Not awaited: the round renews the other shards' leases, which must not wait on a slow close.
      void handOn(extra, shardCount, connection);
    }
    for (const shardId of lost) {
      const connection = leased.get(shardId);
      leased.delete(shardId);
      logger.warn({ shardId, shardCount }, 'gateway shard lease lost; another replica runs it now');
      void connection?.closeForRestart().catch((error: unknown) => logger.warn({ err: error, shardId }, 'gateway shard not closed cleanly'));
    }
    for (const shardId of gained) {
      const connection = open(shardId);
      leased.set(shardId, connection);
      logger.info({ shardId, shardCount }, 'gateway shard taken');
      connection.connect().catch((error: unknown) => logger.error({ err: error, shardId }, 'gateway shard could not connect'));
    }
    metrics.gatewayShards.set(1 + leased.size);
  }

  async function start(): Promise<void> {
    shardCount = await plan();
    metrics.gatewayShards.set(1);
    if (shardCount > 1) logger.info({ shardCount }, 'the bot is sharded: shard 0 here, the others shared among replicas');
    primary = open(0);
    await primary.connect();
    await balance();
    // One round at a time: a hand-on can take longer than the interval.
    let balancing = false;
    balancer = setInterval(() => {
      if (balancing) return;
      balancing = true;
      balance()
        .catch((error: unknown) => logger.warn({ err: error }, 'gateway shards not balanced'))
        .finally(() => (balancing = false));
    }, Math.max(250, options.shardLeaseMs / 4));
    balancer.unref();
  }

  /**
   * Discord requires more shards (4011): start again with the number it recommends now. With a fixed
   * GATEWAY_SHARDS, or no more shards recommended, trying again would only spend session starts.
   */
  let resharding = false;
  async function reshard(): Promise<void> {
    resharding = true;
    try {
      const recommended = options.shards === 'auto' ? await plan() : shardCount;
      if (recommended <= shardCount) {
        logger.fatal({ shardCount, shards: options.shards }, 'Discord requires more gateway shards (close code 4011) than GATEWAY_SHARDS allows, or than it recommends: not reconnecting. Set GATEWAY_SHARDS=auto (or a larger number) and restart.');
        return;
      }
      logger.warn({ shardCount, recommended }, 'Discord requires the bot to shard (close code 4011); starting again with more shards');
      clearInterval(balancer);
      for (const connection of [primary, ...leased.values()]) await connection?.closeForRestart();
      for (const shardId of leased.keys()) await leases.release(shardId, shardCount);
      leased.clear();
      await start();
    } finally {
      resharding = false;
    }
  }

  return {
    connect: start,
    up,
    async closeForRestart() {
      stopping = true;
      stopCatchUp.abort();
      clearInterval(balancer);
      try {
        const closed = await Promise.allSettled([primary, ...leased.values()].map(async (connection) => connection?.closeForRestart()));
        const failed = closed.find((c): c is PromiseRejectedResult => c.status === 'rejected');
        if (failed) throw failed.reason;
      } finally {
        // Whatever became of a session, the shards are free for another replica at once.
        for (const shardId of leased.keys()) await leases.release(shardId, shardCount).catch(() => undefined);
      }
    },
  };
}
