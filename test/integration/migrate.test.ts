// `npm run migrate` opens the database the way the bot does (openDatabase) and must let go of it
// when done: a connection left in a pool keeps the script alive until the pool's idle timeout.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/history/orm.js';
import { PG_BASE_URL, dropDatabase, freshDatabaseUrl } from '../support/database.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const created: string[] = [];
afterAll(async () => {
  for (const name of created) await dropDatabase(name);
});

/** Backends connected to the database, as PostgreSQL sees them (a closed client's backend goes within moments). */
async function connectionsTo(name: string): Promise<number> {
  const { orm } = await openDatabase(`${PG_BASE_URL}/postgres`, { migrate: false });
  try {
    for (let attempt = 0; ; attempt++) {
      const [row] = await orm.em.getConnection().execute<{ n: string }[]>('select count(*) as n from pg_stat_activity where datname = ?', [name]);
      const n = Number(row!.n);
      if (n === 0 || attempt >= 20) return n;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await orm.close(true);
  }
}

function migrate(databaseUrl: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ENV_FILE: '/nonexistent/.env', DATABASE_URL: databaseUrl },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }));
}

describe('opening the database', () => {
  it('leaves no connection behind once closed, whether it created the database or found it', async () => {
    const { url, name } = freshDatabaseUrl('open');
    created.push(name);
    await (await openDatabase(url)).orm.close();
    expect(await connectionsTo(name)).toBe(0);
    await (await openDatabase(url)).orm.close();
    expect(await connectionsTo(name)).toBe(0);
  });
});

describe('npm run migrate', () => {
  it('creates and migrates a new database, then finds it up to date, and exits each time', async () => {
    const { url, name } = freshDatabaseUrl('migrate');
    created.push(name);
    const first = await migrate(url);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toMatch(/^Applied \d+ migration\(s\): Migration/);
    const second = await migrate(url);
    expect(second).toMatchObject({ code: 0, stdout: 'Database schema is up to date.\n', stderr: '' });
  });
});
