// Opening the database the way replicas do at start-up: several at once on a database that does not exist yet.
import { afterAll, expect, it } from 'vitest';
import { migrationsList } from '../../migrations/index.js';
import { openDatabase } from '../../src/history/orm.js';
import { dropDatabase, freshDatabaseUrl } from '../support/database.js';

const { url, name } = freshDatabaseUrl('race');
afterAll(() => dropDatabase(name));

it('lets three replicas start together on a new database: it is created and migrated once, and all three connect', async () => {
  const opened = await Promise.all([openDatabase(url), openDatabase(url), openDatabase(url)]);
  try {
    const applied = opened.flatMap((o) => o.applied);
    const all = migrationsList.map((m) => m.name);
    expect(applied).toEqual(all); // each applied by exactly one of them
    const rows = await opened[0].orm.em.getConnection().execute<{ name: string }[]>('select name from mikro_orm_migrations');
    expect(rows.map((r) => r.name)).toEqual(all);
  } finally {
    await Promise.all(opened.map((o) => o.orm.close(true)));
  }
});
