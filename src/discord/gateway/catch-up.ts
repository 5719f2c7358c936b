// After an outage no session could be resumed for (every replica down longer than Discord keeps a
// session), the messages written meanwhile were never sent to the bot. They are still in their
// channels: for each channel that had a message handled within CATCH_UP_HOURS, read what came after
// the last one handled (oldest first) and give it to the intake, which decides as for any message and
// puts it on the stream once (an offer is kept once per message id). Reads are paced to a share of
// the REST budget, so answers keep flowing meanwhile.
// https://discord.com/developers/docs/resources/message#get-channel-messages
import { Routes, type REST } from 'discord.js';
import type { Logger } from 'pino';
import { type RedisClient, releaseIfOwner, renewIfOwner } from '../../redis.js';
import type { RawMessage } from '../intake.js';

// Discord returns at most 100 messages a request. A channel is read up to when the new session began
// (the gateway delivers what comes after), and a busy server channel at most this many pages.
const PAGE = 100;
const MAX_PAGES_PER_CHANNEL = 10;
// One catch-up at a time across replicas (replicas coming back together would each read everything),
// through a lock its holder renews as it reads; a killed holder's lapses within LOCK_MS.
const LOCK_MS = 60_000;
const DISCORD_EPOCH = 1_420_070_400_000n;

export interface CatchUpDeps {
  redis: RedisClient;
  rest: REST;
  logger: Logger;
  /** Where the stream keeps, per channel, the newest message handled and when (see DmStream). */
  keys: { lastHandled: string; lastHandledAt: string };
  /** Puts a message on the stream if it is for the bot and not there yet; says whether it did. */
  intake: (message: RawMessage) => Promise<boolean>;
  /** Told of each message found that was missing from the stream. */
  onFound?: () => void;
}

export interface CatchUpOptions {
  hours: number;
  /** The key of the lock that lets one replica catch up at a time, and this replica's name in it. */
  lockKey: string;
  owner: string;
  /**
   * Set while a catch-up is unfinished (to the time it reads up to): a replica stopped or killed
   * midway leaves it, and the next start finishes the work even if it resumes its session.
   */
  pendingKey: string;
  /** Stops reading (this replica is shutting down); what is left stays pending. */
  signal?: AbortSignal;
  /** REST requests per second this may spend. */
  requestsPerSecond: number;
}

export async function catchUp(deps: CatchUpDeps, options: CatchUpOptions, until = Date.now()): Promise<{ channels: number; found: number } | null> {
  const { redis, keys } = deps;
  if ((await redis.set(options.lockKey, options.owner, 'PX', LOCK_MS, 'NX')) !== 'OK') return null;
  let finished = false;
  try {
    await redis.set(options.pendingKey, String(until), 'PX', options.hours * 3_600_000 || LOCK_MS);
    const since = until - options.hours * 3_600_000;
    // Older marks can no longer lead anywhere: dropped (they hold ids and times only).
    const old = await redis.zrangebyscore(keys.lastHandledAt, '-inf', `(${since}`);
    if (old.length) {
      await redis.zrem(keys.lastHandledAt, ...old);
      await redis.hdel(keys.lastHandled, ...old);
    }
    const channels = await redis.zrangebyscore(keys.lastHandledAt, since, '+inf');
    const marks = channels.length ? await redis.hmget(keys.lastHandled, ...channels) : [];
    // DMs first: a busy server channel never holds up the people who wrote to the bot directly.
    const inServer = (mark: string | null | undefined) => Boolean(mark?.split(' ')[1]);
    const order = channels.map((channelId, i) => ({ channelId, mark: marks[i] })).sort((a, b) => Number(inServer(a.mark)) - Number(inServer(b.mark)));
    const before = ((BigInt(until) - DISCORD_EPOCH) << 22n).toString(); // the snowflake of `until`
    const gap = 1000 / Math.max(0.1, options.requestsPerSecond);
    let found = 0;
    for (const { channelId, mark } of order) {
      if (options.signal?.aborted) return { channels: channels.length, found };
      if (!mark) continue;
      await renewIfOwner(redis, options.lockKey, options.owner, LOCK_MS);
      const [lastId, guildId] = mark.split(' ');
      found += await readChannel(deps, channelId, lastId!, guildId || undefined, { since, before, gap, pages: guildId ? MAX_PAGES_PER_CHANNEL : Infinity });
    }
    finished = true;
    return { channels: channels.length, found };
  } finally {
    if (finished) await redis.del(options.pendingKey);
    await releaseIfOwner(redis, options.lockKey, options.owner);
  }
}

/** Reads a channel after `after` and up to `before`, oldest first, offering each message to the intake. */
async function readChannel(deps: CatchUpDeps, channelId: string, after: string, guildId: string | undefined, limits: { since: number; before: string; gap: number; pages: number }): Promise<number> {
  let found = 0;
  for (let page = 0; page < limits.pages; page += 1) {
    const started = Date.now();
    let messages: RawMessage[];
    try {
      messages = (await deps.rest.get(Routes.channelMessages(channelId), { query: new URLSearchParams({ after, limit: String(PAGE) }) })) as RawMessage[];
    } catch (error) {
      deps.logger.warn({ err: error, channelId }, 'could not read a channel to catch up; skipping it');
      break;
    }
    // Newest first from Discord; people's messages are answered in the order they wrote them.
    const oldestFirst = messages.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    for (const message of oldestFirst) {
      if (BigInt(message.id) >= BigInt(limits.before)) return found; // the gateway has these
      if (Date.parse(message.timestamp) < limits.since) continue;
      if (await deps.intake(guildId ? { ...message, guild_id: guildId } : message)) {
        found += 1;
        deps.onFound?.();
      }
    }
    await new Promise((r) => setTimeout(r, Math.max(0, limits.gap - (Date.now() - started))));
    if (messages.length < PAGE) break;
    after = oldestFirst.at(-1)!.id;
  }
  return found;
}
