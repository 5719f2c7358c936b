// Faults injected against the real bot: PostgreSQL cut off, Redis killed, Discord and OpenAI
// failing, two bot processes at once, SIGTERM with answers in flight.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorld, type World } from '../support/e2e.js';
import type { FakeUser } from '../support/fake-discord/server.js';
import { OwnRedisServer } from '../support/redis-server.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function ask(w: World, user: FakeUser, text: string) {
  const { message, replies } = await w.ask(user, text);
  return { message, reply: replies[0]! };
}

async function countRows(w: World, userId: string): Promise<string[]> {
  return (await w.storedRows(userId)).map((r) => r.user_text);
}

describe('when PostgreSQL goes away', () => {
  let proxy: TcpProxy;
  let w: World;
  beforeAll(async () => {
    proxy = await new TcpProxy('127.0.0.1', 5432).start();
    w = await startWorld({ pgPort: proxy.port });
  }, 60_000);
  afterAll(async () => {
    proxy.restore();
    await w?.close();
    await proxy?.stop();
  });

  it('still answers, keeps the exchanges in the outbox, and writes each exactly once when it is back', async () => {
    const ann = w.discord.user('ann');
    await ask(w, ann, 'before the outage');
    proxy.cut();
    const during = ['during one', 'during two', 'during three'];
    for (const text of during) expect((await ask(w, ann, text)).reply.content).toBe(`You said: ${text}`);
    expect(await w.redis.redis.llen(`${w.redis.prefix}outbox`)).toBe(3);

    proxy.restore();
    for (let i = 0; i < 100 && (await w.redis.redis.llen(`${w.redis.prefix}outbox`)) > 0; i++) await sleep(100);
    expect(await w.redis.redis.llen(`${w.redis.prefix}outbox`)).toBe(0);
    expect(await countRows(w, ann.id)).toEqual(['before the outage', ...during]);
  });

  it('keeps the outbox across a restart and writes it once on the next start', async () => {
    const ben = w.discord.user('ben');
    proxy.cut();
    await ask(w, ben, 'kept across restart');
    expect(await w.bot.stop('SIGTERM')).toBe(0); // the flush on shutdown fails: the entry stays in Redis
    expect(await w.redis.redis.llen(`${w.redis.prefix}outbox`)).toBe(1);
    proxy.restore();
    const second = await w.launch();
    try {
      for (let i = 0; i < 100 && (await w.redis.redis.llen(`${w.redis.prefix}outbox`)) > 0; i++) await sleep(100);
      expect(await countRows(w, ben.id)).toEqual(['kept across restart']);
      await ask(w, ben, 'after restart');
      expect(await countRows(w, ben.id)).toEqual(['kept across restart', 'after restart']);
    } finally {
      await second.stop();
    }
  });
});

describe('when Redis goes away', () => {
  const server = new OwnRedisServer();
  let w: World;
  beforeAll(async () => {
    await server.start();
    w = await startWorld({ redisUrl: server.url });
  }, 60_000);
  afterAll(async () => {
    await server.start();
    await w?.close();
    await server.stop();
  });

  it('says memory is briefly unavailable, without calling the model, and recovers by itself', async () => {
    const cat = w.discord.user('cat');
    await ask(w, cat, 'hello');
    await server.stop();
    const before = w.openai.requests.length;
    const { reply } = await ask(w, cat, 'are you there?');
    expect(reply.content).toMatch(/memory is briefly unavailable/i);
    expect(w.openai.requests.length).toBe(before);
    await server.start(); // same port, empty data: the conversation starts afresh
    await sleep(2500);
    expect((await ask(w, cat, 'back again')).reply.content).toBe('You said: back again');
  });
});

describe('under failures of Discord and OpenAI', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ env: { OPENAI_TIMEOUT_MS: '1000', OPENAI_MAX_RETRIES: '2' } });
  }, 60_000);
  afterAll(() => w?.close());

  it('retries a reply Discord refused with 500 or 429, and delivers it once', async () => {
    const dan = w.discord.user('dan');
    w.discord.failNext(/^POST \/channels\/\d+\/messages$/, 500, 1);
    expect((await ask(w, dan, 'first')).reply.content).toBe('You said: first');
    w.discord.failNext(/^POST \/channels\/\d+\/messages$/, 429, 1, 0.2);
    expect((await ask(w, dan, 'second')).reply.content).toBe('You said: second');
    await sleep(300);
    expect(w.discord.botMessagesTo(dan).map((m) => m.content)).toEqual(['You said: first', 'You said: second']);
  });

  it('retries a timed-out model call, then tells the person the model is unavailable', async () => {
    const eve = w.discord.user('eve');
    w.openai.reset();
    w.openai.hangNext(3);
    const started = Date.now();
    const { reply } = await ask(w, eve, 'hanging?');
    expect(reply.content).toMatch(/can't reach the AI model/i);
    expect(w.openai.requests).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    expect((await ask(w, eve, 'ok now?')).reply.content).toBe('You said: ok now?');
  });

  it('honours retry-after on a 429 from the model and then answers', async () => {
    const fin = w.discord.user('fin');
    w.openai.reset();
    w.openai.failNext(1, 429, 1);
    const { reply } = await ask(w, fin, 'patience');
    expect(reply.content).toBe('You said: patience');
    expect(w.openai.requests).toHaveLength(2);
    // The SDK waited the second the server asked for before trying again.
    expect(w.openai.requestTimes[1]! - w.openai.requestTimes[0]!).toBeGreaterThanOrEqual(950);
  });

  it('retries when the model drops the connection', async () => {
    const gil = w.discord.user('gil');
    w.openai.reset();
    w.openai.dropNext(1);
    expect((await ask(w, gil, 'dropped?')).reply.content).toBe('You said: dropped?');
    expect(w.openai.requests).toHaveLength(2);
  });
});

describe('with two bot processes on one Redis', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
  }, 60_000);
  afterAll(() => w?.close());

  it('handles ten rapid DMs from one person one at a time, in order, each answered once', async () => {
    const second = await w.launch();
    try {
      await w.discord.waitFor(() => w.discord.connectedSessions === 2, 10_000, 'two gateway sessions');
      w.openai.latencyMs = 30;
      const hal = w.discord.user('hal');
      const texts = Array.from({ length: 10 }, (_, i) => `rapid ${i}`);
      for (const text of texts) w.discord.sendDm(hal, text);
      await w.discord.waitForBotMessages(hal, 10, 0, 20_000);
      await sleep(500);
      // Both processes received every DM; each DM got exactly one answer.
      expect(w.discord.botMessagesTo(hal).map((m) => m.content).sort()).toEqual(texts.map((t) => `You said: ${t}`).sort());
      const session = JSON.parse((await w.redis.redis.get(`${w.redis.prefix}session:{${hal.id}}`))!) as { role: string; content: string }[];
      expect(session).toHaveLength(21);
      expect(session.filter((t) => t.role === 'user').map((t) => t.content)).toEqual(texts);
      expect(await w.storedRows(hal.id)).toHaveLength(10);
      // Both processes took part.
      const answeredBy = [w.bot, second].map((b) => b.logs.filter((l) => l.msg === 'message handled' && l.userId === hal.id && l.outcome === 'answered').length);
      expect(answeredBy[0]! + answeredBy[1]!).toBe(10);
    } finally {
      await second.stop();
    }
  });
});

describe('on SIGTERM with an answer in flight', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
  }, 60_000);
  afterAll(() => w?.close());

  it('finishes the answer, stores it, and exits 0', async () => {
    const ida = w.discord.user('ida');
    w.openai.latencyMs = 1500;
    w.discord.sendDm(ida, 'answer me before you go');
    await w.discord.waitFor(() => w.openai.requests.length > 0, 5000, 'the model request');
    expect(await w.bot.stop('SIGTERM')).toBe(0);
    expect(w.discord.botMessagesTo(ida).map((m) => m.content)).toEqual(['You said: answer me before you go']);
    expect(await countRows(w, ida.id)).toEqual(['answer me before you go']);
  });
});
