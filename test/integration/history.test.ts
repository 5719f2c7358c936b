import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryRepository } from '../../src/history/repository.js';
import { exchange, snowflake } from '../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let history: HistoryRepository;

beforeAll(async () => {
  db = await createTestDatabase('history');
  history = new HistoryRepository(db.orm);
});
afterAll(() => db?.drop());

describe('history in PostgreSQL', () => {
  it('applies the migrations on an empty database, with the index /history needs', async () => {
    const conn = db.orm.em.getConnection();
    const tables = await conn.execute<{ tablename: string }[]>(`select tablename from pg_tables where schemaname = 'public' order by tablename`);
    expect(tables.map((t: { tablename: string }) => t.tablename)).toEqual(['messages', 'mikro_orm_migrations', 'users']);
    const indexes = await conn.execute<{ indexdef: string }[]>(`select indexdef from pg_indexes where tablename = 'messages'`);
    expect(indexes.map((i: { indexdef: string }) => i.indexdef).join('\n')).toMatch(/\(user_id, id\)/);
    // Running again applies nothing.
    expect(await db.orm.migrator.up()).toEqual([]);
  });

  it('keeps Discord ids exact, beyond 2^53', async () => {
    const userId = '1234567890123456789';
    const messageId = '1234567890123456799';
    await history.save(exchange({ discordUserId: userId, discordMessageId: messageId }));
    const page = await history.page(userId, { kind: 'first' }, 5);
    expect(page.items[0]!.discordMessageId).toBe(messageId);
  });

  it('stores an exchange once per Discord message id', async () => {
    const userId = snowflake();
    const e = exchange({ discordUserId: userId, userText: 'only once' });
    expect(await history.save(e)).toBe(true);
    expect(await history.save({ ...e, gptResponse: 'a replayed answer' })).toBe(false);
    expect(await history.count(userId)).toBe(1);
    const page = await history.page(userId, { kind: 'first' }, 5);
    expect(page.items[0]).toMatchObject({ userText: 'only once', gptResponse: 'hi there', model: 'gpt-3.5-turbo', totalTokens: 8 });
  });

  it('lists only the caller’s exchanges, newest first, page by page', async () => {
    const alice = snowflake();
    const bob = snowflake();
    for (let i = 1; i <= 12; i++) await history.save(exchange({ discordUserId: alice, userText: `alice ${i}` }));
    await history.save(exchange({ discordUserId: bob, userText: 'bob secret' }));

    const first = await history.page(alice, { kind: 'first' }, 5);
    expect(first.items.map((m) => m.userText)).toEqual(['alice 12', 'alice 11', 'alice 10', 'alice 9', 'alice 8']);
    expect(first).toMatchObject({ hasOlder: true, hasNewer: false });

    const second = await history.page(alice, { kind: 'before', id: first.items.at(-1)!.id }, 5);
    expect(second.items.map((m) => m.userText)).toEqual(['alice 7', 'alice 6', 'alice 5', 'alice 4', 'alice 3']);
    const third = await history.page(alice, { kind: 'before', id: second.items.at(-1)!.id }, 5);
    expect(third.items.map((m) => m.userText)).toEqual(['alice 2', 'alice 1']);
    expect(third.hasOlder).toBe(false);

    const back = await history.page(alice, { kind: 'after', id: third.items[0]!.id }, 5);
    expect(back.items.map((m) => m.userText)).toEqual(second.items.map((m) => m.userText));
    expect(back.hasNewer).toBe(true);

    const everything = [...first.items, ...second.items, ...third.items].map((m) => m.userText);
    expect(everything).not.toContain('bob secret');
  });

  it('clears only the caller’s exchanges and says how many', async () => {
    const alice = snowflake();
    const bob = snowflake();
    for (let i = 0; i < 3; i++) await history.save(exchange({ discordUserId: alice }));
    await history.save(exchange({ discordUserId: bob }));
    expect(await history.clear(alice)).toBe(3);
    expect(await history.count(alice)).toBe(0);
    expect(await history.count(bob)).toBe(1);
    expect(await history.clear(alice)).toBe(0);
  });
});
