// Checks on who may use the model and how much: the allow-list (decided when a message is queued) and
// the daily token cap (decided when its turn comes). The cap's counter lives in Redis
// (rate-limiter-flexible), so it holds across processes. The per-minute limit is counted where
// messages are queued (see DmStream.enqueue).
import type { RedisClient } from '../redis.js';
import type { Logger } from 'pino';
import { RateLimiterRedis } from 'rate-limiter-flexible';

export interface GuardOptions {
  prefix: string;
  allowedUserIds: readonly string[];
  dailyTokenCap: number; // 0 = off
}

export class Guards {
  private readonly tokens: RateLimiterRedis | null;
  private readonly allowedIds: Set<string> | null;

  constructor(
    redis: RedisClient,
    private readonly logger: Logger,
    options: GuardOptions,
  ) {
    this.allowedIds = options.allowedUserIds.length ? new Set(options.allowedUserIds) : null;
    this.tokens = options.dailyTokenCap
      ? new RateLimiterRedis({ storeClient: redis, keyPrefix: `${options.prefix}tokens`, points: options.dailyTokenCap, duration: 86_400, useRedisPackage: false })
      : null;
  }

  /** Whether this person may use the bot at all (the allow-list; everyone when it is empty). */
  allowed(userId: string): boolean {
    return !this.allowedIds || this.allowedIds.has(userId);
  }

  /**
   * When the person's token cap frees up, if they have reached it; null when they may go on. Decided
   * when their message's turn comes, since it depends on what their earlier messages spent.
   */
  async tokenCapReached(userId: string): Promise<Date | null> {
    if (!this.tokens) return null;
    try {
      const used = await this.tokens.get(userId);
      return used && used.consumedPoints >= this.tokens.points ? new Date(Date.now() + used.msBeforeNext) : null;
    } catch (error) {
      // Redis is away: the cap cannot be checked. Let the message through; the session store will
      // report the outage to the person if it persists.
      this.logger.warn({ err: error, userId }, 'token cap check failed');
      return null;
    }
  }

  /**
   * The cap's current window as `tokenCapReached` applies it, for /usage: tokens counted so far, the
   * cap, and when the window frees up (null before anything was counted). Null when there is no cap.
   */
  async tokenWindow(userId: string): Promise<{ used: number; cap: number; freesAt: Date | null } | null> {
    if (!this.tokens) return null;
    const used = await this.tokens.get(userId);
    return { used: used?.consumedPoints ?? 0, cap: this.tokens.points, freesAt: used ? new Date(Date.now() + used.msBeforeNext) : null };
  }

  /** Counts the tokens an answer used against the daily cap. */
  async spend(userId: string, tokens: number): Promise<void> {
    if (!this.tokens || tokens <= 0) return;
    await this.tokens.penalty(userId, tokens).catch((error: unknown) => this.logger.warn({ err: error, userId }, 'token count failed'));
  }
}
