// Each person's own settings against real PostgreSQL: the user_settings migration applied on a
// database that already holds history (which it leaves as it was), and the store's reads and writes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryRepository } from '../../src/history/repository.js';
import { openDatabase } from '../../src/history/orm.js';
import { PersonSettingsStore } from '../../src/history/person-settings.js';
import { snowflake } from '../support/builders.js';
import { createTestDatabase, dropDatabase, freshDatabaseUrl, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('person_settings');
});
afterAll(() => db?.drop());

describe('the user_settings migration', () => {
  it('applies on a database that already holds history, and leaves the history as it was', async () => {
    const { url, name } = freshDatabaseUrl('settings_migration');
    const { orm } = await openDatabase(url, { migrate: false });
    try {
      await orm.migrator.up({ to: 'Migration20261128170000' });
      const alice = snowflake();
      // Rows as that schema held them (the repository of today writes columns added since).
      const sql = (query: string, params: unknown[]) => orm.em.getConnection().execute(query, params);
      await sql(`insert into users (id, username, created_at) values (?, 'alice', now())`, [alice]);
      for (let i = 0; i < 2; i++) {
        await sql(`insert into messages (user_id, discord_message_id, user_text, gpt_response, model, created_at) values (?, ?, 'q', 'a', 'gpt-3.5-turbo', now())`, [alice, snowflake()]);
      }
      const old = new HistoryRepository(orm);

      expect((await orm.migrator.up()).map((m) => m.name)).toContain('Migration20261128180000');
      expect(await old.count(alice)).toBe(2);
      const store = new PersonSettingsStore(orm);
      expect(await store.modelOf(alice)).toBeNull();
      await store.setModel(alice, 'gpt-4o');
      expect(await store.modelOf(alice)).toBe('gpt-4o');
    } finally {
      await orm.close(true);
      await dropDatabase(name);
    }
  });
});

describe('the person settings store', () => {
  it('keeps one model per person, the latest choice winning', async () => {
    const store = new PersonSettingsStore(db.orm);
    const [ann, ben] = [snowflake(), snowflake()];
    await store.setModel(ann, 'gpt-4o');
    await store.setModel(ann, 'gpt-4.1-mini');
    expect(await store.modelOf(ann)).toBe('gpt-4.1-mini');
    expect(await store.modelOf(ben)).toBeNull();
  });
});
