// Erasure against the real PostgreSQL and Redis: everything held about one person's words goes —
// stored rows, name, conversations, recorded replies, language, parked outbox and dead-letter
// entries, queued stream entries — and nothing of anyone else's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { SessionStore } from '../../src/chat/session-store.js';
import { UserLock } from '../../src/chat/user-lock.js';
import { HistoryOutbox } from '../../src/history/outbox.js';
import { HistoryRepository } from '../../src/history/repository.js';
import { CopiesEverywhere } from '../../src/privacy/copies.js';
import { Erasure } from '../../src/privacy/erasure.js';
import { DmStream, type DmJob } from '../../src/queue/dm-stream.js';
import { exchange, snowflake } from '../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createTestRedis, type TestRedis } from '../support/redis.js';

let db: TestDatabase;
let r: TestRedis;
beforeAll(async () => {
  [db, r] = await Promise.all([createTestDatabase('erasure'), createTestRedis('erasure')]);
});
afterAll(async () => {
  await r?.cleanup();
  await db?.drop();
});

function job(userId: string, text: string): DmJob {
  return { messageId: snowflake(), userId, username: 'u', channelId: snowflake(), text, createdAt: Date.now(), queuedAt: Date.now() };
}

describe('erasing a person', () => {
  it('removes their words and name everywhere, and only theirs', async () => {
    const history = new HistoryRepository(db.orm);
    const sessions = new SessionStore(r.redis, { prefix: r.prefix, ttlSeconds: 600 });
    const outbox = new HistoryOutbox({ history, redis: r.redis, logger: pino({ level: 'silent' }) }, { prefix: r.prefix, flushIntervalMs: 1000 });
    const stream = new DmStream(r.redis, { prefix: r.prefix });
    await stream.ensureGroup();
    const erasure = new Erasure({ sessions, history, outbox, stream });
    const lock = new UserLock(r.redis, { prefix: r.prefix, ttlMs: 5000, waitMs: 5000 });
    const [ann, bob] = [snowflake(), snowflake()];

    for (const [who, name] of [[ann, 'ann'], [bob, 'bob']] as const) {
      await history.save(exchange({ discordUserId: who, userText: `${name} stored words` }), name);
      await r.redis.rpush(outbox.key, JSON.stringify({ exchange: exchange({ discordUserId: who, userText: `${name} parked words` }), username: name }));
      await r.redis.rpush(outbox.deadKey, JSON.stringify({ exchange: exchange({ discordUserId: who, userText: `${name} dead words` }), username: name }));
      await stream.enqueue(job(who, `${name} queued words`));
      await stream.enqueue(job(who, `${name} more queued words`));
      const lease = await lock.acquire(who);
      await sessions.commit(lease, snowflake(), { kind: 'notice', outcome: 'x', text: `${name} recorded reply` }, [{ role: 'user', content: `${name} session words` }]);
      await sessions.commit(lease, snowflake(), { kind: 'notice', outcome: 'x', text: `${name} thread reply` }, [{ role: 'user', content: `${name} thread words` }], { place: snowflake() });
      await lease.release();
      await sessions.rememberLocale(who, 'ko');
    }
    const { newestId } = await history.summary(ann);

    expect(await erasure.erase(ann, newestId)).toEqual({ exchanges: 1, parked: 2, queued: 2 });

    const everything: string[] = [];
    for (const key of await r.redis.keys(`${r.prefix}*`)) {
      const type = await r.redis.type(key);
      everything.push(key);
      if (type === 'string') everything.push((await r.redis.get(key)) ?? '');
      if (type === 'hash') everything.push(JSON.stringify(await r.redis.hgetall(key)));
      if (type === 'list') everything.push(...(await r.redis.lrange(key, 0, -1)));
      if (type === 'set') everything.push(...(await r.redis.smembers(key)));
      if (type === 'stream') everything.push(JSON.stringify(await r.redis.xrange(key, '-', '+')));
    }
    const redis = everything.join('\n');
    expect(redis).not.toMatch(/ann /);
    expect(redis).not.toContain(`locale:{${ann}}`);
    for (const words of ['bob parked words', 'bob dead words', 'bob queued words', 'bob session words', 'bob thread words', 'bob recorded reply']) expect(redis).toContain(words);
    expect(await sessions.locale(bob)).toBe('ko');

    const conn = db.orm.em.getConnection();
    expect(await conn.execute('select * from messages where user_id = ?', [ann])).toEqual([]);
    expect(await conn.execute('select * from users where id = ?', [ann])).toEqual([]);
    expect(await history.count(bob)).toBe(1);
    // Their turn moved past the removed messages: the next one does not wait for them.
    await stream.enqueue(job(ann, 'a new message'));
    const next = await stream.nextTurn(ann);
    const reader = r.redis.duplicate();
    const [fresh] = (await stream.read(reader, 'x', 10, 100)).filter((d) => d.job.userId === ann);
    reader.disconnect();
    expect(fresh!.seq).toBe(next);
  });
});

describe('copies of what people sent, held in other replicas’ memory', () => {
  it('are dropped on every replica when one of them erases the person who sent them, and only theirs', async () => {
    const logger = pino({ level: 'silent' });
    const [erased, kept] = [snowflake(), snowflake()];
    const replica = async () => {
      const pictures = new Map([[erased, 2], [kept, 3]]);
      const held = { pictures, forget: (userId: string) => void pictures.delete(userId) };
      const subscriber = r.redis.duplicate();
      const copies = new CopiesEverywhere({ redis: r.redis, subscriber, logger, copies: [held] }, { prefix: r.prefix });
      await copies.start();
      return { held, copies, subscriber };
    };
    const [erasing, other, elsewhere] = [await replica(), await replica(), await replica()];
    try {
      const history = new HistoryRepository(db.orm);
      const sessions = new SessionStore(r.redis, { prefix: r.prefix, ttlSeconds: 600 });
      const outbox = new HistoryOutbox({ history, redis: r.redis, logger }, { prefix: r.prefix, flushIntervalMs: 1000 });
      const stream = new DmStream(r.redis, { prefix: r.prefix });
      await new Erasure({ sessions, history, outbox, stream, caches: [erasing.copies] }).erase(erased, null);
      expect(erasing.held.pictures.has(erased)).toBe(false); // at once, before the erasure returns
      for (let i = 0; i < 100 && (other.held.pictures.has(erased) || elsewhere.held.pictures.has(erased)); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      for (const { held } of [erasing, other, elsewhere]) expect([...held.pictures]).toEqual([[kept, 3]]);
    } finally {
      for (const { subscriber } of [erasing, other, elsewhere]) subscriber.disconnect();
    }
  });
});
