// Keeps answered exchanges safe while PostgreSQL is away. `save` writes straight through when it
// can; when it cannot, the exchange goes to a durable list in Redis and a background flusher writes
// it later. Writes are idempotent (unique Discord message id), so a retry, a second process or a
// restart can never store one exchange twice.
import type { RedisClient } from '../redis.js';
import type { Logger } from 'pino';
import type { Exchange } from '../chat/types.js';

export interface HistoryWriter {
  save(exchange: Exchange, username?: string): Promise<boolean>;
}

interface Entry {
  exchange: Exchange;
  username?: string;
}

export class HistoryOutbox {
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<number> | null = null;

  constructor(
    private readonly deps: { history: HistoryWriter; redis: RedisClient; logger: Logger },
    private readonly options: { prefix: string; flushIntervalMs: number },
  ) {}

  get key(): string {
    return `${this.options.prefix}outbox`;
  }

  /** Stores the exchange now, or parks it in the outbox. Throws only if both PostgreSQL and Redis fail. */
  async save(exchange: Exchange, username?: string): Promise<'stored' | 'queued'> {
    try {
      await this.deps.history.save(exchange, username);
      return 'stored';
    } catch (error) {
      this.deps.logger.warn({ err: error, messageId: exchange.discordMessageId }, 'history unavailable; exchange queued in outbox');
      await this.deps.redis.rpush(this.key, JSON.stringify({ exchange, username } satisfies Entry));
      return 'queued';
    }
  }

  /** Where exchanges that can never be stored are set aside (so they do not block the others). */
  get deadKey(): string {
    return `${this.options.prefix}outbox:dead`;
  }

  /** Removes every parked exchange of the person, from the outbox and the dead-letter list. Returns how many. */
  async purge(userId: string): Promise<number> {
    let removed = 0;
    for (const key of [this.key, this.deadKey]) {
      for (const raw of await this.deps.redis.lrange(key, 0, -1)) {
        if (ownerOf(raw) === userId) removed += await this.deps.redis.lrem(key, 0, raw);
      }
    }
    return removed;
  }

  depth(): Promise<number> {
    return this.deps.redis.llen(this.key);
  }

  /** Writes queued exchanges, oldest first, until the outbox is empty or PostgreSQL fails again. */
  flush(): Promise<number> {
    this.flushing ??= this.drain().finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async drain(): Promise<number> {
    let written = 0;
    for (;;) {
      const raw = await this.deps.redis.lindex(this.key, 0);
      if (raw === null) return written;
      const entry = JSON.parse(raw) as Entry;
      entry.exchange.createdAt = new Date(entry.exchange.createdAt);
      await this.deps.history.save(entry.exchange, entry.username);
      // Remove exactly this entry (another process may have flushed it already: that is fine).
      await this.deps.redis.lrem(this.key, 1, raw);
      written += 1;
    }
  }

  start(): void {
    const tick = () => {
      this.flush()
        .then((n) => n && this.deps.logger.info({ written: n }, 'outbox flushed'))
        .catch((error: unknown) => this.deps.logger.debug({ err: error }, 'outbox flush postponed'))
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.options.flushIntervalMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function ownerOf(raw: string): string | null {
  try {
    return (JSON.parse(raw) as Entry).exchange.discordUserId;
  } catch {
    return null;
  }
}
