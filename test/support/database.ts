// A throwaway PostgreSQL database per test file: created and migrated through the bot's own
// `openDatabase`, dropped afterwards.
import { randomBytes } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { openDatabase } from '../../src/history/orm.js';

export const PG_BASE_URL = process.env.TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432';

export interface TestDatabase {
  url: string;
  name: string;
  orm: MikroORM;
  drop(): Promise<void>;
}

export function freshDatabaseUrl(label = 'test'): { url: string; name: string } {
  const name = `dgpt_${label}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  return { url: `${PG_BASE_URL}/${name}`, name };
}

export async function createTestDatabase(label?: string): Promise<TestDatabase> {
  const { url, name } = freshDatabaseUrl(label);
  const { orm } = await openDatabase(url);
  return {
    url,
    name,
    orm,
    async drop() {
      await orm.close(true);
      await dropDatabase(name);
    },
  };
}

export async function dropDatabase(name: string): Promise<void> {
  const { orm } = await openDatabase(`${PG_BASE_URL}/postgres`, { migrate: false });
  try {
    await orm.em.getConnection().execute(`drop database if exists "${name}" with (force)`);
  } finally {
    await orm.close(true);
  }
}
