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
    expect(tables.map((t: { tablename: string }) => t.tablename)).toEqual(['erasures', 'messages', 'mikro_orm_migrations', 'usage_ledger', 'user_settings', 'users']);
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

  it('erases only the caller’s exchanges up to the one they were shown, and their name', async () => {
    const alice = snowflake();
    const bob = snowflake();
    for (let i = 0; i < 3; i++) await history.save(exchange({ discordUserId: alice }), 'alice');
    await history.save(exchange({ discordUserId: bob }), 'bob');
    const { count, newestId } = await history.summary(alice);
    expect(count).toBe(3);
    const later = exchange({ discordUserId: alice, userText: 'written after the question' });
    await history.save(later, 'alice');
    expect(await history.erase(alice, newestId, new Date())).toBe(3);
    const left = await history.page(alice, { kind: 'first' }, 5);
    expect(left.items.map((m) => m.userText)).toEqual(['written after the question']);
    expect(await history.count(bob)).toBe(1);
    const users = await db.orm.em.getConnection().execute<{ id: string; username: string | null }[]>('select id, username from users where id in (?, ?) order by username', [alice, bob]);
    expect(users).toEqual([{ id: bob, username: 'bob' }, { id: alice, username: null }]);
    // With nothing left, the identity row goes too: only the tombstone (id and time) remains.
    expect(await history.erase(alice, left.items[0]!.id, new Date())).toBe(1);
    expect(await db.orm.em.getConnection().execute('select 1 from users where id = ?', [alice])).toEqual([]);
    const tombstone = await db.orm.em.getConnection().execute<Record<string, unknown>[]>('select * from erasures where user_id = ?', [alice]);
    expect(Object.keys(tombstone[0]!).sort()).toEqual(['erased_at', 'user_id']);
  });

  it('does not store an answer to a message sent before the erasure, nor anything of the person with it', async () => {
    const carol = snowflake();
    const sentBefore = new Date(Date.now() - 1000);
    await history.erase(carol, null, new Date());
    expect(await history.save(exchange({ discordUserId: carol, createdAt: sentBefore }), 'carol')).toBe(false);
    expect(await history.count(carol)).toBe(0);
    expect(await db.orm.em.getConnection().execute('select 1 from users where id = ?', [carol])).toEqual([]);
    // A message sent after it is kept as usual.
    expect(await history.save(exchange({ discordUserId: carol, createdAt: new Date(Date.now() + 10) }), 'carol')).toBe(true);
  });

  it('records where an exchange happened: a DM, or a server thread', async () => {
    const dan = snowflake();
    const [guildId, threadId] = [snowflake(), snowflake()];
    await history.save(exchange({ discordUserId: dan, userText: 'in a DM' }));
    await history.save(exchange({ discordUserId: dan, userText: 'in a thread', guildId, channelId: threadId }));
    const rows = await db.orm.em
      .getConnection()
      .execute<{ user_text: string; guild_id: string | null; channel_id: string | null }[]>('select user_text, guild_id, channel_id from messages where user_id = ? order by id', [dan]);
    expect(rows).toEqual([
      { user_text: 'in a DM', guild_id: null, channel_id: null },
      { user_text: 'in a thread', guild_id: guildId, channel_id: threadId },
    ]);
  });
});

describe('attachments in history', () => {
  const files = [
    { name: 'cat.png', type: 'image/png', size: 48_213 },
    { name: 'notes.txt', type: 'text/plain; charset=utf-8', size: 120 },
  ];

  it('keeps each exchange’s attachments (name, type, size) for /history and the exports', async () => {
    const eli = snowflake();
    await history.save(exchange({ discordUserId: eli, userText: 'with files', attachments: files }));
    await history.save(exchange({ discordUserId: eli, userText: 'without' }));
    const page = await history.page(eli, { kind: 'first' }, 5);
    expect(page.items.map((m) => [m.userText, m.attachments])).toEqual([
      ['without', undefined],
      ['with files', files],
    ]);
    const batches = [];
    for await (const batch of history.batches(eli, 10)) batches.push(batch);
    expect(batches[0]!.map((m) => m.attachments)).toEqual([files, undefined]);
  });

  it('stores names PostgreSQL would refuse (U+0000) cleaned, and drops metadata that is no list', async () => {
    const fin = snowflake();
    await history.save(exchange({ discordUserId: fin, attachments: [{ name: 'bad\u0000name.txt', type: 'text/plain', size: 3.7 }] }));
    await history.save(exchange({ discordUserId: fin, attachments: 'not a list' as never }));
    const page = await history.page(fin, { kind: 'first' }, 5);
    expect(page.items.map((m) => m.attachments)).toEqual([undefined, [{ name: 'badname.txt', type: 'text/plain', size: 4 }]]);
  });

  it('removes them with the rows on /clear-history', async () => {
    const gus = snowflake();
    await history.save(exchange({ discordUserId: gus, attachments: files }));
    const { newestId } = await history.summary(gus);
    expect(await history.erase(gus, newestId, new Date())).toBe(1);
    const left = await db.orm.em.getConnection().execute('select attachments from messages where user_id = ?', [gus]);
    expect(left).toEqual([]);
  });

  it('is added to a database that already holds exchanges, which keep no attachments', async () => {
    const old = await createTestDatabase('attach_migration');
    try {
      const migrator = old.orm.migrator;
      await migrator.down({ to: 'Migration20261129120000' }); // this one and any later ones
      const conn = old.orm.em.getConnection();
      expect((await conn.execute(`select column_name from information_schema.columns where table_name = 'messages' and column_name = 'attachments'`)).length).toBe(0);
      const hana = snowflake();
      await conn.execute(`insert into users (id, created_at) values (?, now())`, [hana]);
      await conn.execute(
        `insert into messages (user_id, discord_message_id, user_text, gpt_response, model, created_at) values (?, ?, 'written before', 'answered before', 'gpt-3.5-turbo', now())`,
        [hana, snowflake()],
      );
      expect((await migrator.up()).map((m) => m.name)).toContain('Migration20261129120000');
      const repository = new HistoryRepository(old.orm);
      await repository.save(exchange({ discordUserId: hana, userText: 'written after', attachments: files }));
      const page = await repository.page(hana, { kind: 'first' }, 5);
      expect(page.items.map((m) => [m.userText, m.attachments])).toEqual([
        ['written after', files],
        ['written before', undefined],
      ]);
    } finally {
      await old.drop();
    }
  });
});
