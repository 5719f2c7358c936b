// The running conversation per Discord user, kept in Redis with a sliding expiry.
// Keys carry the user id in a hash tag ({...}) so every key of one user lands on one Redis Cluster slot.
import type { Redis } from 'ioredis';
import type { Turn } from './types.js';

// Gateway replays come within minutes; a day is ample.
const SEEN_TTL_SECONDS = 86_400;

function parseTurns(raw: string | null | undefined): Turn[] | null {
  if (!raw) return null;
  try {
    const turns = JSON.parse(raw) as unknown;
    return Array.isArray(turns) ? (turns as Turn[]) : null;
  } catch {
    return null; // A corrupt session is treated as none: the conversation starts afresh.
  }
}

export interface SessionStoreOptions {
  prefix: string;
  ttlSeconds: number;
}

export class SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly options: SessionStoreOptions,
  ) {}

  key(userId: string): string {
    return `${this.options.prefix}session:{${userId}}`;
  }

  /** The user's turns, or `null` when there is no live session. Reading refreshes the expiry. */
  async load(userId: string): Promise<Turn[] | null> {
    return parseTurns(await this.redis.getex(this.key(userId), 'EX', this.options.ttlSeconds));
  }

  /**
   * Marks an incoming Discord message as taken and loads the session, in one round trip. Returns
   * `null` when the message was already taken, which happens when the gateway replays an event
   * after a resume: it must not be answered twice.
   */
  async claimAndLoad(userId: string, messageId: string): Promise<{ turns: Turn[] | null } | null> {
    const results = await this.redis
      .pipeline()
      .set(this.seenKey(userId, messageId), '1', 'EX', SEEN_TTL_SECONDS, 'NX')
      .getex(this.key(userId), 'EX', this.options.ttlSeconds)
      .exec();
    const [claim, load] = results ?? [];
    if (claim?.[0] || load?.[0]) throw claim?.[0] ?? load?.[0];
    if (claim?.[1] !== 'OK') return null;
    return { turns: parseTurns(load?.[1] as string | null) };
  }

  async save(userId: string, turns: readonly Turn[]): Promise<void> {
    await this.redis.set(this.key(userId), JSON.stringify(turns), 'EX', this.options.ttlSeconds);
  }

  /** Forgets the conversation. Returns whether there was one. */
  async reset(userId: string): Promise<boolean> {
    return (await this.redis.del(this.key(userId))) > 0;
  }

  /**
   * Remembers the language of the person's Discord client. Discord tells it with every slash command
   * but not with DMs, so DM replies use the last one seen (kept 30 days).
   */
  async rememberLocale(userId: string, locale: string): Promise<void> {
    await this.redis.set(this.localeKey(userId), locale, 'EX', 30 * 86_400);
  }

  async locale(userId: string): Promise<string | null> {
    return this.redis.get(this.localeKey(userId));
  }

  private localeKey(userId: string): string {
    return `${this.options.prefix}locale:{${userId}}`;
  }

  private seenKey(userId: string, messageId: string): string {
    return `${this.options.prefix}seen:{${userId}}:${messageId}`;
  }
}
