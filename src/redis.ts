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
