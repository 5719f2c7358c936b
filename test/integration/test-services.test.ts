// The check that runs before any test (test/support/global-setup.ts): without PostgreSQL or Redis the
// run stops at once with one message naming each missing service, the address tried and how to get it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/history/orm.js';
import { freePort } from '../support/bot-process.js';
import { PG_BASE_URL } from '../support/database.js';
import { REDIS_URL } from '../support/redis.js';
import { checkTestServices, describeProblems } from '../support/services.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('the services check', () => {
  it('finds nothing wrong with the services these tests run on', async () => {
    expect(await checkTestServices({ pgUrl: PG_BASE_URL, redisUrl: REDIS_URL })).toEqual([]);
  });

  it('names each missing service, the setting and address tried, and how to get one; never a password', async () => {
    const [pgPort, redisPort] = [await freePort(), await freePort()];
    const services = { pgUrl: `postgresql://postgres:hunter2@127.0.0.1:${pgPort}`, redisUrl: `redis://127.0.0.1:${redisPort}` };
    const problems = await checkTestServices(services);
    expect(problems.map((p) => p.service)).toEqual(['PostgreSQL', 'Redis']);
    const message = describeProblems(problems, services);
    expect(message).toContain(`PostgreSQL at TEST_PG_URL=postgresql://postgres:***@127.0.0.1:${pgPort}: connection refused`);
    expect(message).toContain(`Redis at TEST_REDIS_URL=redis://127.0.0.1:${redisPort}: connection refused`);
    expect(message).toContain('docker run -d --name dgpt-postgres -p 127.0.0.1:5432:5432');
    expect(message).toContain('docker run -d --name dgpt-redis -p 127.0.0.1:6379:6379');
    expect(message).not.toContain('hunter2');
  });

  it('tells a role that may not create databases how to fix it', async () => {
    const role = `dgpt_nocreate_${randomBytes(3).toString('hex')}`;
    const { orm } = await openDatabase(`${PG_BASE_URL}/postgres`, { migrate: false });
    const sql = orm.em.getConnection();
    await sql.execute(`create role ${role} login nocreatedb`);
    try {
      const url = new URL(PG_BASE_URL);
      url.username = role;
      const problems = await checkTestServices({ pgUrl: url.toString(), redisUrl: REDIS_URL });
      expect(problems).toEqual([{ service: 'PostgreSQL', problem: `the role "${role}" may not create databases, and each test file creates its own (ALTER ROLE "${role}" CREATEDB).` }]);
    } finally {
      await sql.execute(`drop role ${role}`);
      await orm.close(true);
    }
  });

  it('stops a test run before any test, with that message', async () => {
    const [pgPort, redisPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', 'test/integration/history.test.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TEST_PG_URL: `postgresql://postgres@127.0.0.1:${pgPort}`, TEST_REDIS_URL: `redis://127.0.0.1:${redisPort}` },
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(output).toContain('The tests need PostgreSQL and Redis; not running any test, because:');
    expect(output).toContain(`PostgreSQL at TEST_PG_URL=postgresql://postgres@127.0.0.1:${pgPort}: connection refused`);
    expect(output).toContain(`Redis at TEST_REDIS_URL=redis://127.0.0.1:${redisPort}: connection refused`);
    expect(output).not.toMatch(/ECONNREFUSED|MaxRetriesPerRequestError|Test Files/);
  });
});
