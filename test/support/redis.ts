// A Redis connection with a key prefix of its own, so parallel test files never see each other's keys.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestRedis {
  redis: Redis;
  prefix: string;
  cleanup(): Promise<void>;
}

export function freshPrefix(label = 'test'): string {
  return `dgpt-${label}-${randomBytes(4).toString('hex')}:`;
}

export async function createTestRedis(label?: string, url = REDIS_URL): Promise<TestRedis> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined); // tests that stop Redis on purpose expect connection errors
  const prefix = freshPrefix(label);
  return {
    redis,
    prefix,
    async cleanup() {
      try {
        const keys = await redis.keys(`${prefix}*`);
        // One key per command: a cluster refuses a DEL of keys in different slots.
        if (keys.length) await redis.pipeline(keys.map((key) => ['del', key])).exec();
      } finally {
        redis.disconnect();
      }
    },
  };
}
