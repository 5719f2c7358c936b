// Where the sandbox keeps its data, apart from the bot's own: the database named by DATABASE_URL
// with `_sandbox` appended, on the same server, and Redis keys under REDIS_KEY_PREFIX with
// `-sandbox` appended (`dgpt-sandbox:` by default), on REDIS_URL. `--reset` empties both.
import { Redis } from 'ioredis';
import { configSchema } from '../../src/config/index.js';
import { openDatabase } from '../../src/history/orm.js';

export interface SandboxStorage {
  databaseUrl: string;
  databaseName: string;
  redisUrl: string;
  redisPrefix: string;
}

/** From the environment after `.env` was loaded (the same settings the bot reads). */
export function sandboxStorage(env: Record<string, string | undefined>): SandboxStorage {
  const url = new URL(configSchema.shape.DATABASE_URL.parse(env.DATABASE_URL || undefined));
  const databaseName = `${decodeURIComponent(url.pathname.replace(/^\//, '')) || 'discord_gpt'}_sandbox`;
  url.pathname = `/${encodeURIComponent(databaseName)}`;
  const prefix = configSchema.shape.REDIS_KEY_PREFIX.parse(env.REDIS_KEY_PREFIX || undefined);
  return {
    databaseUrl: url.toString(),
    databaseName,
    redisUrl: configSchema.shape.REDIS_URL.parse(env.REDIS_URL || undefined),
    redisPrefix: `${prefix.replace(/:$/, '')}-sandbox:`,
  };
}

/** Where the data lives, for people (no passwords). */
export function describeStorage(storage: SandboxStorage): string {
  const db = new URL(storage.databaseUrl);
  const redis = new URL(storage.redisUrl);
  return `database ${storage.databaseName} on ${db.host}, Redis keys ${storage.redisPrefix}* on ${redis.host}`;
}

/** Drops the sandbox database and deletes its Redis keys; returns how many keys went. */
export async function resetStorage(storage: SandboxStorage): Promise<number> {
  const admin = new URL(storage.databaseUrl);
  admin.pathname = '/postgres';
  const { orm } = await openDatabase(admin.toString(), { migrate: false });
  try {
    await orm.em.getConnection().execute(`drop database if exists "${storage.databaseName.replaceAll('"', '""')}" with (force)`);
  } finally {
    await orm.close(true);
  }
  const redis = new Redis(storage.redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 5000 });
  redis.on('error', () => undefined); // the command's own rejection says what went wrong
  try {
    let deleted = 0;
    const match = `${storage.redisPrefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    for await (const keys of redis.scanStream({ match, count: 500 }) as AsyncIterable<string[]>) {
      if (keys.length) deleted += await redis.unlink(...keys);
    }
    return deleted;
  } finally {
    redis.disconnect();
  }
}
