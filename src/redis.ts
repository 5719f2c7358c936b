// The Redis connection: one server (REDIS_URL), or a Redis Cluster reached through any of its nodes
// (REDIS_CLUSTER=true). Keys are designed for a cluster: everything a script or pipeline touches at
// once shares a hash tag (`{<user id>}` for one person's state, `{dm}` for the shared stream).
import { Cluster, Redis, type RedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

export function connectRedis(url: string, options: { cluster: boolean } & RedisOptions): RedisClient {
  const { cluster, ...redisOptions } = options;
  if (!cluster) return new Redis(url, redisOptions);
  const seed = new URL(url);
  return new Cluster([{ host: seed.hostname, port: Number(seed.port || 6379) }], {
    lazyConnect: redisOptions.lazyConnect ?? false,
    redisOptions: {
      ...redisOptions,
      ...(seed.username ? { username: decodeURIComponent(seed.username) } : {}),
      ...(seed.password ? { password: decodeURIComponent(seed.password) } : {}),
      ...(seed.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  });
}

// A key held by an owner (a lock, a lease): renewed or let go only by the owner that set it, so a
// holder whose key lapsed and was taken by another never touches the new holder's.
const RENEW_IF_OWNER = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_IF_OWNER = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** Extends `key` by `ms` if `owner` still holds it; says whether it did. */
export async function renewIfOwner(redis: RedisClient, key: string, owner: string, ms: number): Promise<boolean> {
  return (await redis.eval(RENEW_IF_OWNER, 1, key, owner, ms)) === 1;
}

/** Deletes `key` if `owner` still holds it. */
export async function releaseIfOwner(redis: RedisClient, key: string, owner: string): Promise<void> {
  await redis.eval(RELEASE_IF_OWNER, 1, key, owner);
}
