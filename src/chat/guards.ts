// Checks run before a message reaches the model: the allow-list, the per-minute rate limit and the
// daily token cap. Counters live in Redis (rate-limiter-flexible), so limits hold across processes.
import type { RedisClient } from '../redis.js';
import type { Logger } from 'pino';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

export type GuardResult =
  | { ok: true }
  | { ok: false; reason: 'not_allowed' }
  | { ok: false; reason: 'rate_limited' | 'token_cap'; retryAt: Date };

export interface GuardOptions {
  prefix: string;
  allowedUserIds: readonly string[];
  ratePerMinute: number; // 0 = off
  dailyTokenCap: number; // 0 = off
}

export class Guards {
  private readonly perMinute: RateLimiterRedis | null;
  private readonly tokens: RateLimiterRedis | null;
  private readonly allowed: Set<string> | null;

  constructor(
    redis: RedisClient,
    private readonly logger: Logger,
    options: GuardOptions,
  ) {
    this.allowed = options.allowedUserIds.length ? new Set(options.allowedUserIds) : null;
    this.perMinute = options.ratePerMinute
      ? new RateLimiterRedis({ storeClient: redis, keyPrefix: `${options.prefix}rate`, points: options.ratePerMinute, duration: 60, useRedisPackage: false })
      : null;
    this.tokens = options.dailyTokenCap
      ? new RateLimiterRedis({ storeClient: redis, keyPrefix: `${options.prefix}tokens`, points: options.dailyTokenCap, duration: 86_400, useRedisPackage: false })
      : null;
  }

  /** Decides whether this person's message may go to the model now. Counts it against the rate limit. */
  async admit(userId: string): Promise<GuardResult> {
    if (this.allowed && !this.allowed.has(userId)) return { ok: false, reason: 'not_allowed' };
    try {
      if (this.tokens) {
        const used = await this.tokens.get(userId);
        if (used && used.consumedPoints >= this.tokens.points) {
          return { ok: false, reason: 'token_cap', retryAt: new Date(Date.now() + used.msBeforeNext) };
        }
      }
      if (this.perMinute) await this.perMinute.consume(userId);
      return { ok: true };
    } catch (error) {
      if (error instanceof RateLimiterRes) return { ok: false, reason: 'rate_limited', retryAt: new Date(Date.now() + error.msBeforeNext) };
      // Redis is away: the limit cannot be checked. Let the message through; the session store will
      // report the outage to the person if it persists.
      this.logger.warn({ err: error, userId }, 'rate limit check failed');
      return { ok: true };
    }
  }

  /** Counts the tokens an answer used against the daily cap. */
  async spend(userId: string, tokens: number): Promise<void> {
    if (!this.tokens || tokens <= 0) return;
    await this.tokens.penalty(userId, tokens).catch((error: unknown) => this.logger.warn({ err: error, userId }, 'token count failed'));
  }
}
