// A real MikroORM error from a failing insert, logged through the bot's logger: its message is the
// statement with the person's text inlined, so only the SQLSTATE, table and constraint may remain.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriverException } from '@mikro-orm/core';
import { Message } from '../../src/history/entities.js';
import { HistoryRepository } from '../../src/history/repository.js';
import { createLogger } from '../../src/logger.js';
import { exchange, snowflake } from '../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const SECRET = 'marigold-lantern-confession-5521';
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('logerrors');
});
afterAll(() => db?.drop());

function logLines(log: (logger: ReturnType<typeof createLogger>) => void): string {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  log(createLogger({ LOG_LEVEL: 'info', DISCORD_TOKEN: 'token-x', OPENAI_API_KEY: 'key-x', DATABASE_URL: db.url, REDIS_URL: 'redis://127.0.0.1:6379' }, stream));
  return lines.join('');
}

describe('a database error in a log line', () => {
  it('keeps the SQLSTATE and the table, never the statement or the values', async () => {
    // A model name over varchar(100): PostgreSQL refuses the whole INSERT, which holds the text.
    const tooLong = exchange({ discordUserId: snowflake(), userText: SECRET, model: 'm'.repeat(101) });
    // The entity manager converts the driver's error into a DriverException (its message holds the statement).
    const em = db.orm.em.fork();
    const converted = await em
      .insert(Message, { user: '1', discordMessageId: snowflake(), userText: SECRET, gptResponse: SECRET, model: tooLong.model, createdAt: new Date() })
      .catch((e: unknown) => e);
    expect(converted).toBeInstanceOf(DriverException);
    expect((converted as Error).message).toContain(SECRET);
    const conn = db.orm.em.getConnection();
    await conn.execute(`create function refuse() returns trigger language plpgsql as $$ begin raise exception 'refused' using detail = new.user_text, table = tg_table_name; end $$`);
    await conn.execute(`create trigger refuse before insert on messages for each row execute function refuse()`);
    const raised = await new HistoryRepository(db.orm).save(exchange({ discordUserId: snowflake(), userText: SECRET })).catch((e: unknown) => e);
    expect((raised as Error).message).toContain(SECRET);
    // The driver's own error, as the query builder hands it on (its message prefixed with the statement).
    const error = await em
      .getConnection()
      .getKnex()
      .raw(`insert into messages (user_id, discord_message_id, user_text, gpt_response, model, created_at) values ('1', '${snowflake()}', '${SECRET}', '${SECRET}', '${tooLong.model}', now())`)
      .catch((e: unknown) => e);
    expect((error as Error).message).toContain(SECRET);

    const output = logLines((log) => {
      log.error({ err: error }, 'history save failed');
      log.error({ err: converted }, 'history save failed');
      log.warn({ err: new Error('history unavailable', { cause: raised }) }, 'history unavailable; exchange queued in outbox');
    });
    expect(output).not.toContain(SECRET);
    expect(output).not.toMatch(/insert into/i);
    const [first, second, third] = output.trim().split('\n').map((l) => JSON.parse(l));
    expect(first.err).toMatchObject({ type: 'DatabaseError', code: '22001' });
    expect(second.err).toMatchObject({ type: 'DriverException', code: '22001' });
    expect(first.err.message).toBeUndefined();
    expect(second.err.message).toBeUndefined();
    expect(third.err.cause).toMatchObject({ code: 'P0001', table: 'messages' });
    expect(third.err.cause.message).toBeUndefined();
  });
});
