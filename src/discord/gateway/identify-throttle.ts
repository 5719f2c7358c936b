// Discord lets a bot start one gateway session per 5 seconds per bucket (`shard_id % max_concurrency`,
// from GET /gateway/bot's `session_start_limit`); an IDENTIFY sooner is answered Invalid Session and
// still counts against the day's 1,000 session starts (at 1,000 Discord resets the bot's token).
// https://discord.com/developers/docs/events/gateway#rate-limiting
// https://discord.com/developers/docs/events/gateway#session-start-limit-object
// discord.js paces IDENTIFYs within one process only; replicas started together would collide. This
// throttler takes the bucket in Redis: a key set for 5 seconds, so whichever replica holds it may
// identify and every other waits until it expires. It also watches the day's remaining starts and
// refuses to burn the last ones (reconnecting stops with a clear error instead).
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { RedisClient } from '../../redis.js';

// Discord's window, and a margin for the time between taking the bucket and the IDENTIFY arriving.
const IDENTIFY_WINDOW_MS = 5000 + 500;

/** What @discordjs/ws asks of an identify throttler (its IIdentifyThrottler). */
export interface IdentifyThrottler {
  waitForIdentify(shardId: number, signal: AbortSignal): Promise<void>;
}

interface GatewayInfo {
  session_start_limit: { total: number; remaining: number; reset_after: number; max_concurrency: number };
}

export interface IdentifyThrottleDeps {
  redis: RedisClient;
  prefix: string;
  logger: Logger;
  /** How many replicas are alive (each may need a session start). */
  replicas: () => Promise<number>;
  /** Told the remaining session starts whenever they are read. */
  onRemaining?: (remaining: number) => void;
}

/** Builds the throttler for a @discordjs/ws manager (discord.js's `ws.buildIdentifyThrottler`). */
export function redisIdentifyThrottler(deps: IdentifyThrottleDeps) {
  return async (manager: { fetchGatewayInformation(force?: boolean): Promise<GatewayInfo> }): Promise<IdentifyThrottler> => {
    const first = await manager.fetchGatewayInformation();
    const maxConcurrency = Math.max(1, first.session_start_limit.max_concurrency);
    deps.logger.info({ ...first.session_start_limit }, 'gateway session starts left today');
    deps.onRemaining?.(first.session_start_limit.remaining);
    return {
      async waitForIdentify(shardId, signal) {
        const key = `${deps.prefix}identify:${shardId % maxConcurrency}`;
        const token = randomUUID();
        await refuseToBurnTheLast(signal);
        for (;;) {
          signal.throwIfAborted();
          if ((await deps.redis.set(key, token, 'PX', IDENTIFY_WINDOW_MS, 'NX')) === 'OK') return;
          const left = await deps.redis.pttl(key);
          await sleep(Math.max(50, left) + Math.random() * 250, signal);
        }
      },
    };

    /** Waits, without identifying, for as long as only the last few session starts are left. */
    async function refuseToBurnTheLast(signal: AbortSignal): Promise<void> {
      for (let told = false; ; told = true) {
        signal.throwIfAborted();
        const { total, remaining, reset_after: resetAfter } = (await manager.fetchGatewayInformation(true)).session_start_limit;
        deps.onRemaining?.(remaining);
        const floor = Math.max(2 * (await deps.replicas().catch(() => 1)), Math.ceil(total * 0.05));
        if (remaining >= floor) return;
        if (!told) {
          deps.logger.fatal(
            { remaining, total, floor, resetsInMs: resetAfter },
            'Discord allows only a few more gateway session starts today (at 0 it resets the bot token): not reconnecting until the limit resets. Find why the bot keeps reconnecting.',
          );
        }
        // Looked at again when Discord says the starts come back (never sooner than a second), and
        // still not used while they stay low.
        await sleep(Math.max(resetAfter, 1000), signal);
      }
    }
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
