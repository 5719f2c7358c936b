// History retention (HISTORY_RETENTION_DAYS): exchanges older than that are deleted at start-up and
// then every hour. Any replica may do it, one at a time (a Redis lock, SET NX PX, renewed between
// batches), and the hourly passes are shared: a finished pass marks the hour in Redis, so N replicas
// still sweep about once an hour, not N times. Rows go in batches of a few thousand, each its own
// statement, so no long transaction holds up people's new exchanges. A person whose every exchange is gone keeps no name either. The
// usage ledger stays: it holds counts, not words.
import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { type RedisClient, releaseIfOwner, renewIfOwner } from '../redis.js';

const DAY_MS = 86_400_000;

export interface RetentionOptions {
  prefix: string;
  /** 0 keeps history for ever. */
  retentionDays: number;
  intervalMs?: number;
  /** Rows per DELETE statement. */
  batchRows?: number;
  /** How long the lock outlives a replica that died holding it. */
  lockMs?: number;
}

export class HistoryRetention {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly batchRows: number;
  private readonly lockMs: number;

  constructor(
    private readonly deps: { orm: MikroORM; redis: RedisClient; logger: Logger },
    private readonly options: RetentionOptions,
  ) {
    this.intervalMs = options.intervalMs ?? 3_600_000;
    this.batchRows = options.batchRows ?? 5000;
    this.lockMs = options.lockMs ?? 120_000;
  }

  /** Runs a pass now and then every interval; does nothing when history is kept for ever. */
  start(): void {
    if (!this.options.retentionDays) return;
    this.tick({ always: true }); // at start-up whatever the others did: the setting may have just changed
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and lets a pass in progress finish its current batch. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private tick({ always = false } = {}): void {
    if (this.running) return;
    const started = performance.now();
    this.running = this.runOnce(new Date(), { always })
      .then((deleted) => {
        if (deleted === null) return;
        const line = { deleted, retentionDays: this.options.retentionDays, durationMs: Math.round(performance.now() - started) };
        this.deps.logger[deleted > 0 ? 'info' : 'debug'](line, 'old history deleted');
      })
      .catch((error: unknown) => this.deps.logger.warn({ err: error }, 'history retention failed; retried next hour'))
      .finally(() => (this.running = null));
  }

  /**
   * One pass: how many exchanges it deleted, or null when another replica is running one or, unless
   * `always`, finished one within the interval.
   */
  async runOnce(now = new Date(), { always = true } = {}): Promise<number | null> {
    const { redis } = this.deps;
    const key = `${this.options.prefix}retention:lock`;
    const done = `${this.options.prefix}retention:done`;
    const token = randomUUID();
    if ((await redis.set(key, token, 'PX', this.lockMs, 'NX')) !== 'OK') return null;
    try {
      // Looked at under the lock: a pass may have finished just before it was taken.
      if (!always && (await redis.exists(done))) return null;
      const started = Date.now();
      const cutoff = new Date(now.getTime() - this.options.retentionDays * DAY_MS);
      let deleted = 0;
      for (let batch = this.batchRows; batch === this.batchRows && !this.stopped; ) {
        batch = await this.run('delete from messages where id in (select id from messages where created_at < ? order by created_at limit ?)', [cutoff, this.batchRows]);
        deleted += batch;
        // Lost the lock (this replica froze past its expiry): whoever holds it now carries on.
        if (!(await renewIfOwner(redis, key, token, this.lockMs))) return deleted;
      }
      // The name was only kept alongside exchanges. The row itself stays: settings may hang off it.
      for (let batch = this.batchRows; batch === this.batchRows && !this.stopped; ) {
        batch = await this.run(
          'update users set username = null where id in (select id from users u where username is not null and not exists (select 1 from messages m where m.user_id = u.id) limit ?)',
          [this.batchRows],
        );
      }
      // Until a little before the next tick after this pass began (however long it took), so the next
      // hourly tick of whichever replica comes first runs.
      const until = started + Math.round(this.intervalMs * 0.9);
      if (!this.stopped && until > Date.now()) await redis.set(done, String(now.getTime()), 'PXAT', until);
      return deleted;
    } finally {
      await releaseIfOwner(redis, key, token).catch(() => undefined);
    }
  }

  private async run(sql: string, params: unknown[]): Promise<number> {
    const result = await this.deps.orm.em.fork().execute(sql, params, 'run');
    return (result as unknown as { affectedRows: number }).affectedRows;
  }
}
