// The outbox against the real PostgreSQL and Redis: one exchange PostgreSQL can never take must not
// hold back the others parked behind it, while an outage still stops the flush until it is over.
import type { MikroORM } from '@mikro-orm/postgresql';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Exchange } from '../../src/chat/types.js';
import { HistoryOutbox, type HistoryWriter } from '../../src/history/outbox.js';
import { openDatabase } from '../../src/history/orm.js';
import { HistoryRepository } from '../../src/history/repository.js';
import { exchange, snowflake } from '../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createTestRedis, type TestRedis } from '../support/redis.js';
import { TcpProxy } from '../support/tcp-proxy.js';

let db: TestDatabase;
let r: TestRedis;
let history: HistoryRepository;
let proxy: TcpProxy;
let throughProxy: MikroORM;

beforeAll(async () => {
  [db, r] = await Promise.all([createTestDatabase('outbox'), createTestRedis('outbox')]);
  history = new HistoryRepository(db.orm);
  proxy = await new TcpProxy('127.0.0.1', Number(new URL(db.url).port || 5432)).start();
  const url = new URL(db.url);
  url.port = String(proxy.port);
  ({ orm: throughProxy } = await openDatabase(url.toString(), { migrate: false }));
  // Two ways PostgreSQL refuses a row for good: a constraint (class 23) and a data exception (class 22).
  const conn = db.orm.em.getConnection();
  await conn.execute(`alter table messages add constraint refuses_check check (user_text <> 'refused by a check')`);
  await conn.execute(`create function refuse_row() returns trigger language plpgsql as $$
    begin
      if new.user_text = 'refused by a trigger' then raise exception 'refused' using errcode = '22023'; end if;
      return new;
    end $$`);
  await conn.execute(`create trigger refuse_row before insert on messages for each row execute function refuse_row()`);
});
afterAll(async () => {
  await throughProxy?.close(true);
  await proxy?.stop();
  await r?.cleanup();
  await db?.drop();
});

beforeEach(async () => {
  for (const list of ['outbox', 'outbox:dead']) await r.redis.del(`${r.prefix}${list}`);
});

/** PostgreSQL as the outbox sees it during an outage. */
const unreachable: HistoryWriter = {
  save: () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })),
};

function outboxWith(writer: HistoryWriter) {
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const deadLetters: string[] = [];
  const outbox = new HistoryOutbox(
    { history: writer, redis: r.redis, logger, onDeadLetter: (sqlState) => void deadLetters.push(sqlState ?? 'none') },
    { prefix: r.prefix, flushIntervalMs: 60_000 },
  );
  return { outbox, logs, deadLetters };
}

/** Parks the exchanges as an outage would, oldest first. */
async function park(...exchanges: [Exchange, string?][]): Promise<void> {
  const { outbox } = outboxWith(unreachable);
  for (const [e, username] of exchanges) expect(await outbox.save(e, username)).toBe('queued');
}

async function storedTexts(userId: string): Promise<string[]> {
  const rows = await db.orm.em.getConnection().execute<{ user_text: string }[]>('select user_text from messages where user_id = ? order by id', [userId]);
  return rows.map((row) => row.user_text);
}

async function parked(key: string): Promise<Exchange[]> {
  return (await r.redis.lrange(key, 0, -1)).map((raw) => (JSON.parse(raw) as { exchange: Exchange }).exchange);
}

describe('the outbox', () => {
  it('stores an exchange with U+0000, half an emoji and over-long names, cleaned and fitted to its columns', async () => {
    const ann = snowflake();
    await park([
      exchange({ discordUserId: ann, userText: 'before\u0000after \uD83D', gptResponse: 'a\u0000b\uDE00c', model: 'm'.repeat(99) + '😀😀' }),
      'n'.repeat(98) + '👍🏽👍🏽',
    ]);
    const { outbox } = outboxWith(history);

    expect(await outbox.flush()).toBe(1);

    const rows = await db.orm.em.getConnection().execute<{ user_text: string; gpt_response: string; model: string; username: string }[]>(
      'select user_text, gpt_response, model, username from messages join users on users.id = messages.user_id where user_id = ?',
      [ann],
    );
    expect(rows).toEqual([
      // PostgreSQL counts a column's length in characters: the cut keeps whole code points.
      { user_text: 'beforeafter \uFFFD', gpt_response: 'ab\uFFFDc', model: 'm'.repeat(99) + '😀', username: 'n'.repeat(98) + '👍🏽' },
    ]);
    expect(await outbox.depth()).toBe(0);
    expect(await outbox.deadLetters()).toBe(0);
  });

  it('keeps an exchange’s attachment metadata through the outbox, and a name with U+0000 cleaned', async () => {
    const ann = snowflake();
    const attachments = [
      { name: 'cat\u0000.png', type: 'image/png', size: 48_213 },
      { name: 'notes.txt', type: 'text/plain', size: 120 },
    ];
    await park([exchange({ discordUserId: ann, attachments })]);
    expect((await parked(`${r.prefix}outbox`))[0]!.attachments).toEqual(attachments);
    const { outbox } = outboxWith(history);
    expect(await outbox.flush()).toBe(1);
    const rows = await db.orm.em.getConnection().execute<{ attachments: unknown }[]>('select attachments from messages where user_id = ?', [ann]);
    expect(rows).toEqual([{ attachments: [{ name: 'cat.png', type: 'image/png', size: 48_213 }, attachments[1]] }]);
  });

  it.each([
    ['a check constraint', 'refused by a check', '23514'],
    ['a data exception', 'refused by a trigger', '22023'],
  ])('sets aside an exchange refused for good (%s) after three tries, and writes the ones behind it', async (_, refusedText, sqlState) => {
    const [ann, bob, cat] = [snowflake(), snowflake(), snowflake()];
    const refused = exchange({ discordUserId: bob, userText: refusedText });
    await park([exchange({ discordUserId: ann, userText: 'ann before' })], [refused, 'bob'], [exchange({ discordUserId: cat, userText: 'cat after' })]);
    let tries = 0;
    const counting: HistoryWriter = {
      save: (e, username) => {
        if (e.discordMessageId === refused.discordMessageId) tries += 1;
        return history.save(e, username);
      },
    };
    const { outbox, logs, deadLetters } = outboxWith(counting);

    expect(await outbox.flush()).toBe(2);

    expect(await storedTexts(ann)).toEqual(['ann before']);
    expect(await storedTexts(cat)).toEqual(['cat after']);
    expect(await storedTexts(bob)).toEqual([]);
    expect(tries).toBe(3);
    expect(await outbox.depth()).toBe(0);
    expect(await outbox.deadLetters()).toBe(1);
    expect((await parked(outbox.deadKey)).map((e) => e.discordMessageId)).toEqual([refused.discordMessageId]);
    expect(deadLetters).toEqual([sqlState]);
    const warnings = logs.filter((line) => line.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ messageId: refused.discordMessageId, userId: bob, sqlState });
    expect(JSON.stringify(logs)).not.toContain('refused by');
  });

  it('sets aside an entry that is no exchange at all', async () => {
    const ann = snowflake();
    await r.redis.rpush(`${r.prefix}outbox`, '{"exchange": broken');
    await park([exchange({ discordUserId: ann, userText: 'after the broken one' })]);
    const { outbox, deadLetters } = outboxWith(history);

    expect(await outbox.flush()).toBe(1);

    expect(await storedTexts(ann)).toEqual(['after the broken one']);
    expect(await r.redis.lrange(outbox.deadKey, 0, -1)).toEqual(['{"exchange": broken']);
    expect(deadLetters).toEqual(['none']);  });

  it('stops at an outage, keeps everything in order, and writes it all once PostgreSQL is back', async () => {
    const ann = snowflake();
    await park([exchange({ discordUserId: ann, userText: 'one' })], [exchange({ discordUserId: ann, userText: 'two' })]);
    const { outbox, deadLetters } = outboxWith(new HistoryRepository(throughProxy));

    proxy.cut();
    await expect(outbox.flush()).rejects.toThrow();
    expect((await parked(outbox.key)).map((e) => e.userText)).toEqual(['one', 'two']);
    expect(await outbox.deadLetters()).toBe(0);

    proxy.restore();
    expect(await outbox.flush()).toBe(2);
    expect(await storedTexts(ann)).toEqual(['one', 'two']);
    expect(deadLetters).toEqual([]);
  });

  it('forgets everything parked or set aside for one person, and only for them', async () => {
    const [ann, bob] = [snowflake(), snowflake()];
    await park([exchange({ discordUserId: ann, userText: 'ann one' })], [exchange({ discordUserId: bob, userText: 'bob one' })], [exchange({ discordUserId: ann, userText: 'ann two' })]);
    const { outbox } = outboxWith(history);
    for (const who of [ann, bob]) await r.redis.rpush(outbox.deadKey, JSON.stringify({ exchange: exchange({ discordUserId: who, userText: 'set aside' }) }));

    expect(await outbox.purge(ann)).toBe(3);

    expect((await parked(outbox.key)).map((e) => e.discordUserId)).toEqual([bob]);
    expect((await parked(outbox.deadKey)).map((e) => e.discordUserId)).toEqual([bob]);
    expect(await outbox.purge(ann)).toBe(0);
  });
});
