// The two services the integration and e2e tests use, checked once before any test runs: each
// missing one is told with the address tried, the setting that names it, and how to get one.
import { Redis } from 'ioredis';
import { openDatabase } from '../../src/history/orm.js';

const WAIT_MS = 5000;

export interface ServiceProblem {
  service: 'PostgreSQL' | 'Redis';
  problem: string;
}

export async function checkTestServices({ pgUrl, redisUrl }: { pgUrl: string; redisUrl: string }): Promise<ServiceProblem[]> {
  const [pg, redis] = await Promise.all([checkPostgres(pgUrl), checkRedis(redisUrl)]);
  return [pg, redis].filter((p): p is ServiceProblem => p !== null);
}

/** One message for all problems found. */
export function describeProblems(problems: ServiceProblem[], { pgUrl, redisUrl }: { pgUrl: string; redisUrl: string }): string {
  const how = {
    PostgreSQL: `Start one (e.g. \`docker run -d --name dgpt-postgres -p 127.0.0.1:5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16-alpine\`), or set TEST_PG_URL to a server whose role may create databases.`,
    Redis: 'Start one (e.g. `docker run -d --name dgpt-redis -p 127.0.0.1:6379:6379 redis:7-alpine`), or set TEST_REDIS_URL to one.',
  };
  const where = { PostgreSQL: `TEST_PG_URL=${shown(pgUrl)}`, Redis: `TEST_REDIS_URL=${shown(redisUrl)}` };
  return [
    'The tests need PostgreSQL and Redis; not running any test, because:',
    ...problems.map((p) => `  - ${p.service} at ${where[p.service]}: ${p.problem}\n    ${how[p.service]}`),
    'See README.md → Troubleshooting.',
  ].join('\n');
}

async function checkPostgres(baseUrl: string): Promise<ServiceProblem | null> {
  const attempt = (async () => {
    const { orm } = await openDatabase(`${baseUrl.replace(/\/$/, '')}/postgres`, { migrate: false });
    try {
      const [role] = await orm.em
        .getConnection()
        .execute<{ name: string; may: boolean }[]>('select rolname as name, (rolcreatedb or rolsuper) as may from pg_roles where rolname = current_user');
      return role?.may ? null : `the role "${role?.name}" may not create databases, and each test file creates its own (ALTER ROLE "${role?.name}" CREATEDB).`;
    } finally {
      await orm.close(true);
    }
  })();
  return withTimeout(attempt, `no answer within ${WAIT_MS / 1000} s.`)
    .catch((error: unknown) => reasonOf(error))
    .then((problem) => (problem ? { service: 'PostgreSQL', problem } : null));
}

async function checkRedis(url: string): Promise<ServiceProblem | null> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: WAIT_MS, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let emitted: unknown;
  redis.on('error', (error) => (emitted = error)); // connect() rejects with a vaguer "Connection is closed."
  try {
    await withTimeout(redis.connect().then(() => redis.ping()), `no answer within ${WAIT_MS / 1000} s.`);
    return null;
  } catch (error) {
    return { service: 'Redis', problem: reasonOf(emitted ?? error) };
  } finally {
    redis.disconnect();
  }
}

function reasonOf(error: unknown): string {
  const codes = [error, (error as { cause?: unknown })?.cause, ...((error as { errors?: unknown[] })?.errors ?? [])].map((e) => (e as { code?: string })?.code);
  if (codes.includes('ECONNREFUSED')) return 'connection refused (nothing listens there).';
  if (codes.includes('ENOTFOUND')) return 'host name not found.';
  return error instanceof Error ? error.message : String(error);
}

function shown(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString().replace(/\/$/, '');
}

function withTimeout<T>(promise: Promise<T>, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), WAIT_MS);
    }),
  ]);
}
