// Keeps answered exchanges safe while PostgreSQL is away. `save` writes straight through when it
// can; when it cannot, the exchange goes to a durable list in Redis and a background flusher writes
// it later. Writes are idempotent (unique Discord message id), so a retry, a second process or a
// restart can never store one exchange twice. The list is shared by everyone, oldest first, so an
// exchange PostgreSQL refuses for good is set aside (dead letters) rather than block the rest.
import type { RedisClient } from '../redis.js';
import type { Logger } from 'pino';
import type { Exchange } from '../chat/types.js';

/** Tries of an exchange PostgreSQL refuses before it is set aside. */
const PERMANENT_TRIES = 3;

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
    private readonly deps: {
      history: HistoryWriter;
      redis: RedisClient;
      logger: Logger;
      /** Called once per exchange set aside, with the SQLSTATE PostgreSQL refused it with (none for an unreadable entry). */
      onDeadLetter?: (sqlState: string | undefined) => void;
    },
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

  deadLetters(): Promise<number> {
    return this.deps.redis.llen(this.deadKey);
  }

  /**
   * Writes queued exchanges, oldest first, until the outbox is empty or PostgreSQL fails in a way
   * worth retrying later (it is away). One it refuses for good is set aside and the flush goes on.
   */
  flush(): Promise<number> {
    this.flushing ??= this.drain().finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async drain(): Promise<number> {
    let written = 0;
    for (;;) {
      const raw = await this.deps.redis.lindex(this.key, 0);
      if (raw === null) return written;
      const entry = parseEntry(raw);
      const refusal = entry ? await this.write(entry) : { sqlState: undefined };
      if (refusal) {
        await this.setAside(raw, entry, refusal.sqlState);
        continue;
      }
      // Remove exactly this entry (another process may have flushed it already: that is fine).
      await this.deps.redis.lrem(this.key, 1, raw);
      written += 1;
    }
  }

  /**
   * Writes one entry; null once written, or PostgreSQL's refusal after it refused the entry
   * PERMANENT_TRIES times in a row (a row it refuses once may be fine a moment later, e.g. its user
   * deleted in between). Throws on a failure worth retrying later, which ends the flush.
   */
  private async write(entry: Entry): Promise<{ sqlState: string } | null> {
    for (let tries = 1; ; tries++) {
      try {
        await this.deps.history.save(entry.exchange, entry.username);
        return null;
      } catch (error) {
        const sqlState = refusalFor(error);
        if (sqlState === null) throw error;
        if (tries >= PERMANENT_TRIES) return { sqlState };
      }
    }
  }

  /**
   * Moves an entry to the dead letters, unchanged, so an operator can move it back once the cause is
   * fixed. Copied first, then removed: a crash in between leaves it in both lists, never in neither.
   */
  private async setAside(raw: string, entry: Entry | null, sqlState: string | undefined): Promise<void> {
    await this.deps.redis.rpush(this.deadKey, raw);
    if ((await this.deps.redis.lrem(this.key, 1, raw)) === 0) {
      // Another process set it aside (or purged it) meanwhile: take back this copy.
      await this.deps.redis.lrem(this.deadKey, -1, raw);
      return;
    }
    this.deps.logger.warn(
      { messageId: entry?.exchange.discordMessageId, userId: entry?.exchange.discordUserId, sqlState },
      'exchange can never be stored; set aside in the outbox dead letters',
    );
    this.deps.onDeadLetter?.(sqlState);
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

/**
 * The SQLSTATE of a refusal PostgreSQL will repeat for the same row — class 22 (data exception: a
 * value it cannot take) or class 23 (integrity constraint violation) — or null for a failure worth
 * retrying later (connection lost, server shutting down, too many connections, …). MikroORM's
 * DriverException carries the driver's code: pg's SQLSTATE is `code`; some drivers use `sqlState`.
 */
function refusalFor(error: unknown): string | null {
  if (typeof error !== 'object' || error === null) return null;
  const { sqlState, code } = error as { sqlState?: unknown; code?: unknown };
  const state = typeof sqlState === 'string' ? sqlState : code;
  return typeof state === 'string' && /^2[23][0-9A-Z]{3}$/.test(state) ? state : null;
}

/** The entry, or null if it is no exchange at all (it could never be written). */
function parseEntry(raw: string): Entry | null {
  let entry: Entry;
  try {
    entry = JSON.parse(raw) as Entry;
  } catch {
    return null;
  }
  const e = entry?.exchange;
  if (typeof e !== 'object' || e === null || typeof e.usage !== 'object' || e.usage === null) return null;
  const strings = [e.discordUserId, e.discordMessageId, e.userText, e.gptResponse, e.model];
  if (!strings.every((value) => typeof value === 'string')) return null;
  e.createdAt = new Date(e.createdAt);
  return Number.isNaN(e.createdAt.getTime()) ? null : entry;
}

function ownerOf(raw: string): string | null {
  try {
    return (JSON.parse(raw) as Entry).exchange.discordUserId;
  } catch {
    return null;
  }
}
