// The usage ledger and history retention against real PostgreSQL and Redis: the migration applied on a
// database that already holds history, the ledger's upsert and reads, and retention deleting old
// exchanges in batches, one replica at a time, while the ledger stays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { MikroORM } from '@mikro-orm/postgresql';
import { HistoryRepository } from '../../src/history/repository.js';
import { openDatabase } from '../../src/history/orm.js';
import { HistoryRetention } from '../../src/history/retention.js';
import { UsageLedger } from '../../src/history/usage-ledger.js';
import { exchange, snowflake } from '../support/builders.js';
import { createTestDatabase, dropDatabase, freshDatabaseUrl, type TestDatabase } from '../support/database.js';
import { createTestRedis, type TestRedis } from '../support/redis.js';

const DAY = 86_400_000;
const logger = pino({ level: 'silent' });

let db: TestDatabase;
let redis: TestRedis;
let history: HistoryRepository;
let ledger: UsageLedger;

beforeAll(async () => {
  [db, redis] = await Promise.all([createTestDatabase('usage'), createTestRedis('usage')]);
  history = new HistoryRepository(db.orm);
  ledger = new UsageLedger(db.orm);
});
afterAll(async () => {
  await db?.drop();
  await redis?.cleanup();
});

const sql = async <T = Record<string, unknown>[]>(orm: MikroORM, query: string, params: unknown[] = []): Promise<T> => (await orm.em.getConnection().execute(query, params)) as T;
const retention = (days: number, batchRows = 5000) => new HistoryRetention({ orm: db.orm, redis: redis.redis, logger }, { prefix: redis.prefix, retentionDays: days, batchRows });
const usage = (promptTokens: number, completionTokens: number, cachedTokens = 0) => ({ promptTokens, completionTokens, totalTokens: promptTokens + completionTokens, cachedTokens });

describe('the usage-ledger migration', () => {
  it('applies on a database that already holds history, and starts the ledger from it', async () => {
    const { url, name } = freshDatabaseUrl('ledger_migration');
    const { orm } = await openDatabase(url, { migrate: false });
    try {
      await orm.migrator.up({ to: 'Migration20261128150000' });
      const alice = snowflake();
      // Rows as that schema held them (the repository of today writes columns added since).
      await sql(orm, `insert into users (id, username, created_at) values (?, 'alice', now())`, [alice]);
      for (const [prompt, completion, cached, at] of [
        [10, 5, 2, '2026-11-01T23:30:00Z'],
        [20, 7, 0, '2026-11-01T10:00:00Z'],
        [1, 1, 0, '2026-11-02T00:30:00Z'],
      ] as const) {
        await sql(
          orm,
          `insert into messages (user_id, discord_message_id, user_text, gpt_response, model, prompt_tokens, completion_tokens, total_tokens, cached_tokens, created_at) values (?, ?, 'q', 'a', 'gpt-3.5-turbo', ?, ?, ?, ?, ?)`,
          [alice, snowflake(), prompt, completion, prompt + completion, cached, at],
        );
      }

      expect((await orm.migrator.up()).map((m) => m.name)).toContain('Migration20261128170000');
      const rows = await sql<{ day: string; prompt_tokens: string; completion_tokens: string; cached_tokens: string; requests: number }[]>(
        orm,
        `select to_char(day, 'YYYY-MM-DD') as day, prompt_tokens, completion_tokens, cached_tokens, requests from usage_ledger where user_id = ? order by day`,
        [alice],
      );
      expect(rows.map((r) => ({ ...r, prompt_tokens: Number(r.prompt_tokens), completion_tokens: Number(r.completion_tokens), cached_tokens: Number(r.cached_tokens) }))).toEqual([
        { day: '2026-11-01', prompt_tokens: 30, completion_tokens: 12, cached_tokens: 2, requests: 2 },
        { day: '2026-11-02', prompt_tokens: 1, completion_tokens: 1, cached_tokens: 0, requests: 1 },
      ]);
      expect(await new HistoryRepository(orm).count(alice)).toBe(3);
    } finally {
      await orm.close(true);
      await dropDatabase(name);
    }
  });
});

describe('the usage ledger', () => {
  it('adds up each person’s tokens by UTC day and model, and reads today and this month', async () => {
    const alice = snowflake();
    const bob = snowflake();
    const now = new Date('2026-11-28T12:00:00Z');
    await ledger.record(alice, 'gpt-4o-mini', usage(100, 20, 40), now);
    await ledger.record(alice, 'gpt-4o-mini', usage(50, 10), new Date('2026-11-28T00:00:01Z'));
    await ledger.record(alice, 'gpt-4o', usage(7, 3), now);
    await ledger.record(alice, 'gpt-4o-mini', usage(1000, 1000), new Date('2026-11-27T23:59:59Z')); // yesterday, UTC
    await ledger.record(alice, 'gpt-4o-mini', usage(5000, 5000), new Date('2026-10-31T23:59:59Z')); // last month
    await ledger.record(bob, 'gpt-4o-mini', usage(9, 9), now);

    const mine = await ledger.person(alice, now);
    expect(mine.today).toEqual({ promptTokens: 157, completionTokens: 33, cachedTokens: 40, requests: 3 });
    expect(mine.month).toEqual({ promptTokens: 1157, completionTokens: 1033, cachedTokens: 40, requests: 4 });
    const rows = await sql<{ n: string }[]>(db.orm, 'select count(*) as n from usage_ledger where user_id = ?', [alice]);
    expect(Number(rows[0]!.n)).toBe(4); // one row per day and model
  });

  it('reads zero for someone who never asked anything', async () => {
    const zero = { promptTokens: 0, completionTokens: 0, cachedTokens: 0, requests: 0 };
    expect(await ledger.person(snowflake())).toEqual({ today: zero, month: zero });
  });

  it('counts people, exchanges and tokens by model, today and over 30 days, for the operator', async () => {
    const { url, name } = freshDatabaseUrl('stats');
    const { orm } = await openDatabase(url);
    try {
      const own = new UsageLedger(orm);
      const store = new HistoryRepository(orm);
      const now = new Date('2026-11-28T12:00:00Z');
      const [a, b, c] = [snowflake(), snowflake(), snowflake()];
      await own.record(a, 'm1', usage(10, 1), now);
      await own.record(b, 'm1', usage(20, 2), now);
      await own.record(b, 'm2', usage(30, 3), now);
      await own.record(c, 'm1', usage(40, 4), new Date(now.getTime() - 10 * DAY));
      await own.record(c, 'm1', usage(999, 999), new Date(now.getTime() - 31 * DAY)); // outside 30 days
      await store.save(exchange({ discordUserId: a, createdAt: new Date(now.getTime() - 1000) }));
      await store.save(exchange({ discordUserId: c, createdAt: new Date(now.getTime() - 10 * DAY) }));
      await store.save(exchange({ discordUserId: c, createdAt: new Date(now.getTime() - 40 * DAY) }));

      const stats = await own.stats(now);
      expect(stats.today).toEqual({
        people: 2,
        storedExchanges: 1,
        models: [
          { model: 'm1', people: 2, requests: 2, promptTokens: 30, completionTokens: 3, cachedTokens: 0 },
          { model: 'm2', people: 1, requests: 1, promptTokens: 30, completionTokens: 3, cachedTokens: 0 },
        ],
      });
      expect(stats.last30Days).toEqual({
        people: 3,
        storedExchanges: 2,
        models: [
          { model: 'm1', people: 3, requests: 3, promptTokens: 70, completionTokens: 7, cachedTokens: 0 },
          { model: 'm2', people: 1, requests: 1, promptTokens: 30, completionTokens: 3, cachedTokens: 0 },
        ],
      });
    } finally {
      await orm.close(true);
      await dropDatabase(name);
    }
  });
});

describe('history retention', () => {
  it('deletes exchanges older than the retention in batches, and the names of people with none left, and keeps the ledger', async () => {
    const gone = snowflake();
    const stays = snowflake();
    const old = new Date(Date.now() - 40 * DAY);
    for (let i = 0; i < 7; i++) await history.save(exchange({ discordUserId: gone, createdAt: old }), 'gone_user');
    await ledger.record(gone, 'gpt-3.5-turbo', usage(5, 3), old);
    await history.save(exchange({ discordUserId: stays, createdAt: old }), 'stays_user');
    await history.save(exchange({ discordUserId: stays, userText: 'recent', createdAt: new Date(Date.now() - 29 * DAY) }), 'stays_user');

    expect(await retention(30, 3).runOnce()).toBe(8);
    expect(await history.count(gone)).toBe(0);
    expect(await history.count(stays)).toBe(1);
    const users = await sql<{ id: string; username: string | null }[]>(db.orm, 'select id, username from users where id in (?, ?) order by username', [gone, stays]);
    expect(users).toEqual([
      { id: stays, username: 'stays_user' },
      { id: gone, username: null },
    ]);
    const ledgerRows = await sql<{ n: string }[]>(db.orm, 'select count(*) as n from usage_ledger where user_id = ?', [gone]);
    expect(Number(ledgerRows[0]!.n)).toBe(1);
    // Nothing is left to delete the next time.
    expect(await retention(30, 3).runOnce()).toBe(0);
  });

  it('runs on one replica at a time', async () => {
    const who = snowflake();
    for (let i = 0; i < 3; i++) await history.save(exchange({ discordUserId: who, createdAt: new Date(Date.now() - 100 * DAY) }));
    const results = await Promise.all([retention(30, 1).runOnce(), retention(30, 1).runOnce(), retention(30, 1).runOnce()]);
    expect(results.filter((r) => r === null).length).toBeGreaterThanOrEqual(2); // the others found the lock held
    expect(results.find((r) => r !== null)).toBe(3);
    expect(await history.count(who)).toBe(0);
    expect(await redis.redis.keys(`${redis.prefix}*lock*`)).toEqual([]); // the lock was let go
  });

  it('shares the hourly passes between replicas: after one finished, the others skip the hour, but not at start-up', async () => {
    await redis.redis.del(`${redis.prefix}retention:done`);
    const who = snowflake();
    const [first, second] = [retention(30, 10), retention(30, 10)];
    expect(await first.runOnce(new Date(), { always: false })).toBe(0);
    await history.save(exchange({ discordUserId: who, createdAt: new Date(Date.now() - 100 * DAY) }));
    expect(await second.runOnce(new Date(), { always: false })).toBeNull(); // swept this hour already
    expect(await history.count(who)).toBe(1);
    expect(await second.runOnce()).toBe(1); // a start-up pass runs whatever the others did
    expect(await history.count(who)).toBe(0);
    await redis.redis.del(`${redis.prefix}retention:done`); // the hour is over
    await history.save(exchange({ discordUserId: who, createdAt: new Date(Date.now() - 100 * DAY) }));
    expect(await second.runOnce(new Date(), { always: false })).toBe(1);
  });
});
