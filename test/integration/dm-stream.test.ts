// The shared stream on a real Redis: one entry per Discord message however many replicas offer it,
// per-person turns, takeover of abandoned entries, heartbeats, and a clean leave.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { DmStream, type Delivery, type DmJob } from '../../src/queue/dm-stream.js';
import { snowflake } from '../support/builders.js';
import { createTestRedis, type TestRedis } from '../support/redis.js';

let r: TestRedis;
let reader: Redis;
beforeAll(async () => {
  r = await createTestRedis('stream');
  reader = r.redis.duplicate();
});
afterAll(async () => {
  reader?.disconnect();
  await r?.cleanup();
});

function job(userId: string, text = 'hi'): DmJob {
  return { messageId: snowflake(), userId, username: 'u', channelId: snowflake(), text, createdAt: Date.now(), queuedAt: Date.now() };
}

async function fresh(): Promise<DmStream> {
  const stream = new DmStream(r.redis, { prefix: `${r.prefix}${snowflake()}:` });
  await stream.ensureGroup();
  return stream;
}

describe('the shared stream', () => {
  it('keeps one entry per Discord message, however many replicas offer it', async () => {
    const stream = await fresh();
    const j = job(snowflake());
    const offers = await Promise.all([stream.enqueue(j), stream.enqueue(j), stream.enqueue({ ...j, queuedAt: 1 })]);
    expect(offers.filter(Boolean)).toHaveLength(1);
    expect(await stream.depth()).toBe(1);
    const [delivery] = await stream.read(reader, 'a', 10, 100);
    expect(delivery).toMatchObject({ seq: 1, deliveries: 1, job: { messageId: j.messageId, text: 'hi' } });
    expect(await stream.read(reader, 'b', 10, 100)).toEqual([]); // handed to one consumer only
  });

  it('numbers each person’s messages and publishes the turn when one is finished', async () => {
    const stream = await fresh();
    const [ann, ben] = [snowflake(), snowflake()];
    for (const j of [job(ann, 'a1'), job(ben, 'b1'), job(ann, 'a2')]) await stream.enqueue(j);
    const [a1, b1, a2] = await stream.read(reader, 'x', 10, 100);
    expect([a1!.seq, b1!.seq, a2!.seq]).toEqual([1, 1, 2]);
    expect(await stream.nextTurn(ben)).toBe(1); // another person is not held up
    expect(await stream.nextTurn(ann)).toBe(1); // a2 must wait
    const subscriber = r.redis.duplicate();
    const heard: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => heard.push(message));
    await subscriber.subscribe(stream.turnsChannel);
    await stream.finish(a1!);
    expect(await stream.nextTurn(ann)).toBe(2);
    for (let i = 0; i < 50 && !heard.length; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(heard).toEqual([`${ann} 2`]);
    subscriber.disconnect();
    // Finished entries are acknowledged and deleted.
    expect(await stream.depth()).toBe(2);
    expect(((await r.redis.xpending(stream.key, stream.group)))[0]).toBe(2);
  });

  it('refuses over-limit messages when queued: one with a notice per window, the rest silently, and none takes a turn', async () => {
    const stream = await fresh();
    const user = snowflake();
    for (let i = 0; i < 5; i++) await stream.enqueue(job(user, `m${i}`), { ratePerMinute: 2 });
    await stream.enqueue(job(user, ''), { refusal: 'empty', ratePerMinute: 2 }); // counted too, and over the limit
    const deliveries = await stream.read(reader, 'x', 10, 100);
    expect(deliveries.map((d) => [d.seq, d.refusal?.reason ?? null, d.refusal?.silent ?? false])).toEqual([
      [1, null, false],
      [2, null, false],
      [0, 'rate_limited', false],
      [0, 'rate_limited', true],
      [0, 'rate_limited', true],
      [0, 'rate_limited', true],
    ]);
    const retryAt = deliveries[2]!.refusal!.retryAt!;
    expect(retryAt).toBeGreaterThan(Date.now());
    expect(retryAt).toBeLessThanOrEqual(Date.now() + 60_000);
    // A refusal decided at intake keeps its reason when under the limit.
    const other = snowflake();
    await stream.enqueue(job(other, ''), { refusal: 'empty', ratePerMinute: 2 });
    const [empty] = await stream.read(reader, 'x', 10, 100);
    expect(empty).toMatchObject({ seq: 0, refusal: { reason: 'empty' } });
  });

  it('refuses a message while the person already has the most allowed waiting: one notice until the backlog frees up, and no turn taken', async () => {
    const stream = await fresh();
    const [user, other] = [snowflake(), snowflake()];
    for (let i = 0; i < 5; i++) await stream.enqueue(job(user, `m${i}`), { maxWaiting: 2 });
    await stream.enqueue(job(other, 'not held up'), { maxWaiting: 2 });
    const deliveries = await stream.read(reader, 'x', 10, 100);
    expect(deliveries.map((d) => [d.job.text, d.seq, d.refusal?.reason ?? null, d.refusal?.silent ?? false])).toEqual([
      ['m0', 1, null, false],
      ['m1', 2, null, false],
      ['m2', 0, 'backlog', false],
      ['m3', 0, 'backlog', true],
      ['m4', 0, 'backlog', true],
      ['not held up', 1, null, false],
    ]);
    // The first is answered: one place frees up, the next message takes it and the turn after m1.
    await stream.finish(deliveries[0]!);
    for (const refused of deliveries.slice(2, 5)) await stream.finish(refused);
    await stream.enqueue(job(user, 'm5'), { maxWaiting: 2 });
    await stream.enqueue(job(user, 'm6'), { maxWaiting: 2 });
    const later = await stream.read(reader, 'x', 10, 100);
    expect(later.map((d) => [d.job.text, d.seq, d.refusal?.reason ?? null, d.refusal?.silent ?? false])).toEqual([
      ['m5', 3, null, false],
      // Full again: a new episode, so a new notice.
      ['m6', 0, 'backlog', false],
    ]);
    expect(await stream.nextTurn(user)).toBe(2);
  });

  it('does not count waiting messages that left the stream without being finished (trimmed, evicted)', async () => {
    const stream = await fresh();
    const user = snowflake();
    for (let i = 0; i < 3; i++) await stream.enqueue(job(user, `w${i}`), { maxWaiting: 2 });
    const held = await stream.read(reader, 'x', 10, 100);
    expect(held.map((d) => d.refusal?.reason ?? null)).toEqual([null, null, 'backlog']);
    await r.redis.xtrim(stream.key, 'MAXLEN', 0); // gone, as an operator's XTRIM or an eviction would leave it
    await stream.enqueue(job(user, 'after'), { maxWaiting: 2 });
    const [after] = await stream.read(reader, 'x', 10, 100);
    expect(after).toMatchObject({ job: { text: 'after' }, seq: 3 });
    expect(after!.refusal).toBeUndefined();
  });

  it('does not tell the person again each time one place frees up near the limit, only once the backlog is down to half', async () => {
    const stream = await fresh();
    const user = snowflake();
    const offer = async (text: string) => {
      await stream.enqueue(job(user, text), { maxWaiting: 4 });
      const [d] = await stream.read(reader, 'x', 1, 100);
      return d!;
    };
    const accepted = [await offer('a0'), await offer('a1'), await offer('a2'), await offer('a3')];
    expect((await offer('over')).refusal).toEqual({ reason: 'backlog' });
    await stream.finish(accepted.shift()!); // 3 waiting
    expect((await offer('a4')).refusal).toBeUndefined();
    expect((await offer('over again')).refusal).toEqual({ reason: 'backlog', silent: true }); // the same episode
    for (const d of accepted.splice(0, 3)) await stream.finish(d); // 1 waiting (a4)
    expect((await offer('a5')).refusal).toBeUndefined(); // down to half: the episode is over
    await offer('a6');
    await offer('a7');
    expect((await offer('over at last')).refusal).toEqual({ reason: 'backlog' }); // a new one, told again
  });

  it('hands an entry nobody touched for the timeout to another consumer, counting the deliveries', async () => {
    const stream = await fresh();
    await stream.enqueue(job(snowflake()));
    const [first] = await stream.read(reader, 'dead', 10, 100);
    expect(await stream.claimIdle('alive', 200, 10)).toEqual([]); // not idle long enough yet
    await new Promise((resolve) => setTimeout(resolve, 250));
    const [taken] = await stream.claimIdle('alive', 200, 10);
    expect(taken).toMatchObject({ entryId: first!.entryId, seq: first!.seq, deliveries: 2 });
    // The dead consumer's heartbeat no longer holds it: it is told the entry is gone.
    expect(await stream.heartbeat('dead', [first!.entryId])).toEqual([first!.entryId]);
    expect(await stream.heartbeat('alive', [first!.entryId])).toEqual([]);
  });

  it('keeps an entry with a live heartbeat from being taken over', async () => {
    const stream = await fresh();
    await stream.enqueue(job(snowflake()));
    const [mine] = await stream.read(reader, 'busy', 10, 100);
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await stream.heartbeat('busy', [mine!.entryId]);
    }
    expect(await stream.claimIdle('other', 200, 10)).toEqual([]);
  });

  it('drops an entry it cannot read instead of handing it out forever', async () => {
    const stream = await fresh();
    await r.redis.xadd(stream.key, '*', 'job', 'not json');
    await stream.enqueue(job(snowflake(), 'fine'));
    const deliveries = await stream.read(reader, 'x', 10, 100);
    expect(deliveries.map((d) => d.job.text)).toEqual(['fine']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await stream.depth()).toBe(1);
  });

  it('lets a consumer leave the group only when it holds nothing', async () => {
    const stream = await fresh();
    await stream.enqueue(job(snowflake()));
    const [held] = (await stream.read(reader, 'leaving', 10, 100)) as [Delivery];
    expect(await stream.leave('leaving')).toBe(false);
    await stream.finish(held);
    expect(await stream.leave('leaving')).toBe(true);
    const consumers = (await r.redis.xinfo('CONSUMERS', stream.key, stream.group)) as unknown[];
    expect(consumers).toHaveLength(0);
  });
});
