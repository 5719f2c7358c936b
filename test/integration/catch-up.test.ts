// The catch-up's bookkeeping against the real Redis: one replica at a time, and work left unfinished
// (the replica stopped or was killed midway) stays pending for the next start to finish.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { REST } from 'discord.js';
import { catchUp, type CatchUpOptions } from '../../src/discord/gateway/catch-up.js';
import type { RawMessage } from '../../src/discord/intake.js';
import { snowflake } from '../support/builders.js';
import { createTestRedis, type TestRedis } from '../support/redis.js';

let r: TestRedis;
beforeAll(async () => {
  r = await createTestRedis('catchup');
});
afterAll(() => r?.cleanup());

const keys = () => ({ lastHandled: `${r.prefix}{dm}:last-handled`, lastHandledAt: `${r.prefix}{dm}:last-handled-at` });
const options = (extra: Partial<CatchUpOptions> = {}): CatchUpOptions => ({
  hours: 24,
  requestsPerSecond: 1000,
  lockKey: `${r.prefix}{gateway}:catch-up`,
  owner: 'me',
  pendingKey: `${r.prefix}{gateway}:catch-up:pending`,
  ...extra,
});

/** Two DM channels, each with one message written after the last one handled. */
async function twoChannels() {
  const channels = [snowflake(), snowflake()];
  const written = new Map<string, RawMessage[]>();
  for (const channel of channels) {
    const last = snowflake();
    await r.redis.hset(keys().lastHandled, channel, `${last} `);
    await r.redis.zadd(keys().lastHandledAt, Date.now() - 60_000, channel);
    written.set(channel, [{ id: snowflake(), channel_id: channel, content: 'missed', timestamp: new Date().toISOString(), author: { id: '1', username: 'a' } } as unknown as RawMessage]);
  }
  const rest = { get: async (route: string) => written.get(route.split('/')[2]!) ?? [] } as unknown as REST;
  return { rest };
}

describe('catching up', () => {
  it('runs on one replica at a time', async () => {
    const { rest } = await twoChannels();
    await r.redis.set(options().lockKey, 'someone-else', 'PX', 5000);
    const result = await catchUp({ redis: r.redis, rest, logger: pino({ level: 'silent' }), keys: keys(), intake: async () => true }, options());
    expect(result).toBeNull();
    await r.redis.del(options().lockKey);
  });

  it('leaves work stopped midway pending, and the next run finishes it and clears the mark', async () => {
    const { rest } = await twoChannels();
    const offered: string[] = [];
    const intake = async (m: RawMessage) => (offered.push(m.channel_id), true);
    const stopped = new AbortController();
    stopped.abort();
    await catchUp({ redis: r.redis, rest, logger: pino({ level: 'silent' }), keys: keys(), intake }, options({ signal: stopped.signal }));
    expect(offered).toEqual([]);
    expect(await r.redis.get(options().pendingKey)).not.toBeNull();
    expect(await r.redis.get(options().lockKey)).toBeNull(); // let go for the next start

    const result = await catchUp({ redis: r.redis, rest, logger: pino({ level: 'silent' }), keys: keys(), intake }, options());
    expect(result?.found).toBeGreaterThanOrEqual(2);
    expect(await r.redis.get(options().pendingKey)).toBeNull();
  });
});
