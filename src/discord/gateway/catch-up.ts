// After an outage no session could be resumed for (every replica down longer than Discord keeps a
// session), the messages written meanwhile were never sent to the bot. They are still in their
// channels: for each channel that had a message handled within CATCH_UP_HOURS, read what came after
// the last one handled (oldest first) and give it to the intake, which decides as for any message and
// puts it on the stream once (an offer is kept once per message id). Reads are paced to a share of
// the REST budget, so answers keep flowing meanwhile.
// https://discord.com/developers/docs/resources/message#get-channel-messages
import { Routes, type REST } from 'discord.js';
import type { Logger } from 'pino';
import type { RedisClient } from '../../redis.js';
import type { RawMessage } from '../intake.js';

// Discord returns at most 100 messages a request.
const PAGE = 100;

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
  /** REST requests per second this may spend. */
  requestsPerSecond: number;
}

export async function catchUp(deps: CatchUpDeps, options: CatchUpOptions): Promise<{ channels: number; found: number }> {
  const { redis, rest, keys } = deps;
  const since = Date.now() - options.hours * 3_600_000;
  // Older marks can no longer lead anywhere: dropped (they hold ids and times only).
  const old = await redis.zrangebyscore(keys.lastHandledAt, '-inf', `(${since}`);
  if (old.length) {
    await redis.zrem(keys.lastHandledAt, ...old);
    await redis.hdel(keys.lastHandled, ...old);
  }
  const channels = await redis.zrangebyscore(keys.lastHandledAt, since, '+inf');
  const gap = 1000 / Math.max(0.1, options.requestsPerSecond);
  let found = 0;
  for (const channelId of channels) {
    const mark = await redis.hget(keys.lastHandled, channelId);
    if (!mark) continue;
    const [lastId, guildId] = mark.split(' ');
    let after = lastId!;
    for (;;) {
      const started = Date.now();
      let page: RawMessage[];
      try {
        page = (await rest.get(Routes.channelMessages(channelId), { query: new URLSearchParams({ after, limit: String(PAGE) }) })) as RawMessage[];
      } catch (error) {
        deps.logger.warn({ err: error, channelId }, 'could not read a channel to catch up; skipping it');
        break;
      }
      // Newest first from Discord; people's messages are answered in the order they wrote them.
      const oldestFirst = page.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
      for (const message of oldestFirst) {
        if (Date.parse(message.timestamp) < since) continue;
        if (await deps.intake(guildId ? { ...message, guild_id: guildId } : message)) {
          found += 1;
          deps.onFound?.();
        }
      }
      await new Promise((r) => setTimeout(r, Math.max(0, gap - (Date.now() - started))));
      if (page.length < PAGE) break;
      after = oldestFirst.at(-1)!.id;
    }
  }
  return { channels: channels.length, found };
}
