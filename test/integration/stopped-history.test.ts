// Stopped answers in PostgreSQL: the `stopped` column is added to a database that already holds
// exchanges (all of them finished answers), a stopped exchange is stored as such in the one save
// statement, and /history's pages carry the mark.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryRepository } from '../../src/history/repository.js';
import { exchange, snowflake } from '../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('stopped');
});
afterAll(() => db?.drop());

describe('stopped exchanges', () => {
  it('are marked in a column added to a database that already holds exchanges, which were all finished', async () => {
    const migrator = db.orm.migrator;
    await migrator.down({ to: 'Migration20261129100000' }); // this one and any later ones
    const conn = db.orm.em.getConnection();
    const column = `select column_name from information_schema.columns where table_name = 'messages' and column_name = 'stopped'`;
    expect(await conn.execute(column)).toHaveLength(0);
    const ida = snowflake();
    await conn.execute(`insert into users (id, created_at) values (?, now())`, [ida]);
    await conn.execute(
      `insert into messages (user_id, discord_message_id, user_text, gpt_response, model, created_at) values (?, ?, 'asked before', 'answered before', 'gpt-3.5-turbo', now() - interval '1 minute')`,
      [ida, snowflake()],
    );

    expect((await migrator.up()).map((m) => m.name)).toContain('Migration20261129100000');
    const history = new HistoryRepository(db.orm);
    const stoppedId = snowflake();
    expect(await history.save(exchange({ discordUserId: ida, discordMessageId: stoppedId, userText: 'asked after', gptResponse: 'Once upon', stopped: true }))).toBe(true);
    await history.save(exchange({ discordUserId: ida, userText: 'and then' }));

    const page = await history.page(ida, { kind: 'first' }, 5);
    expect(page.items.map((m) => [m.userText, m.stopped ?? false])).toEqual([
      ['and then', false],
      ['asked after', true],
      ['asked before', false],
    ]);
    // Saved once: a second save of the same message changes nothing.
    expect(await history.save(exchange({ discordUserId: ida, discordMessageId: stoppedId, gptResponse: 'Once upon a time', stopped: false }))).toBe(false);
    expect(await conn.execute('select gpt_response, stopped from messages where discord_message_id = ?', [stoppedId])).toEqual([{ gpt_response: 'Once upon', stopped: true }]);
  });
});
