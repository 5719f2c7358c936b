import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTokenCounter } from '../../src/chat/context.js';
import { ConversationService } from '../../src/chat/conversation.js';
import { SessionStore } from '../../src/chat/session-store.js';
import { UserLock } from '../../src/chat/user-lock.js';
import { HistoryRepository } from '../../src/history/repository.js';
import { snowflake } from '../support/builders.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createTestRedis, type TestRedis } from '../support/redis.js';
import { ChatFailure, ScriptedModel } from '../support/scripted-model.js';

const SYSTEM_PROMPT = 'You are a test assistant.';
let db: TestDatabase;
let r: TestRedis;
const countTokens = await loadTokenCounter('gpt-3.5-turbo');

beforeAll(async () => {
  [db, r] = await Promise.all([createTestDatabase('conv'), createTestRedis('conv')]);
});
afterAll(async () => {
  await Promise.all([db?.drop(), r?.cleanup()]);
});

function setup({ ttlSeconds = 3600, budget = 3000 } = {}) {
  const model = new ScriptedModel();
  const sessions = new SessionStore(r.redis, { prefix: r.prefix, ttlSeconds });
  const history = new HistoryRepository(db.orm);
  const conversation = new ConversationService(
    { sessions, model, history, logger: pino({ level: 'silent' }) },
    { systemPrompt: SYSTEM_PROMPT, contextTokenBudget: budget, countTokens },
  );
  const lock = new UserLock(r.redis, { prefix: r.prefix, ttlMs: 5000, waitMs: 10_000 });
  // As the answerer does it: under the person's lock, one message at a time.
  const say = async (userId: string, text: string, messageId = snowflake()) => {
    const lease = await lock.acquire(userId);
    try {
      const reply = await conversation.answer({ userId, messageId, text }, lease);
      await conversation.keep({ userId, messageId, text }, reply); // once shown
      return reply;
    } finally {
      await lease.release();
    }
  };
  return { model, sessions, history, conversation, lock, say };
}

describe('a conversation', () => {
  it('counts the prompt against the person when the request is cut off after it was sent (Stop, Discord refusing)', async () => {
    const counted: { userId: string; tokens: number }[] = [];
    const model = new ScriptedModel();
    model.delayMs = 200;
    const conversation = new ConversationService(
      {
        sessions: new SessionStore(r.redis, { prefix: r.prefix, ttlSeconds: 3600 }),
        model: { model: model.model, complete: async (turns, _onDelta, signal) => {
          const answered = model.complete(turns);
          // The SDK rejects when its request is aborted.
          await new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new Error('Request was aborted.')), { once: true }));
          return answered;
        } },
        history: new HistoryRepository(db.orm),
        logger: pino({ level: 'silent' }),
        onAnswered: (userId, completion) => counted.push({ userId, tokens: completion.usage.totalTokens }),
      },
      { systemPrompt: SYSTEM_PROMPT, contextTokenBudget: 3000, countTokens },
    );
    const lock = new UserLock(r.redis, { prefix: r.prefix, ttlMs: 5000, waitMs: 10_000 });
    const userId = snowflake();
    const lease = await lock.acquire(userId);
    const cut = new AbortController();
    setTimeout(() => cut.abort(), 50);
    await expect(conversation.answer({ userId, messageId: snowflake(), text: 'a long question' }, lease, undefined, cut.signal)).rejects.toThrow();
    await lease.release();
    expect(counted).toHaveLength(1);
    expect(counted[0]!.userId).toBe(userId);
    expect(counted[0]!.tokens).toBeGreaterThan(5); // the system prompt and the question, as counted for the budget
  });

  it('seeds the session with the system prompt on the first message and keeps the turns after', async () => {
    const { model, sessions, say } = setup();
    const user = snowflake();
    const first = await say(user, 'hello');
    expect(first).toMatchObject({ kind: 'answer', text: 'echo: hello', firstMessage: true });
    await say(user, 'and again');
    expect(model.requests[1]).toEqual([
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: 'echo: hello' },
      { role: 'user', content: 'and again' },
    ]);
    expect(await sessions.load(user)).toHaveLength(5);
  });

  it('never mixes two people’s conversations', async () => {
    const { model, say } = setup();
    const [a, b] = [snowflake(), snowflake()];
    await say(a, 'secret of A');
    await say(b, 'hello from B');
    expect(JSON.stringify(model.requests[1])).not.toContain('secret of A');
  });

  it('expires the session after the TTL, refreshed by every message', async () => {
    const { sessions, say } = setup({ ttlSeconds: 2 });
    const user = snowflake();
    await say(user, 'one');
    const ttl = await r.redis.ttl(sessions.key(user));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    await sessions.load(user); // reading slides the expiry
    expect(await r.redis.pttl(sessions.key(user))).toBeGreaterThan(1500);
    await new Promise((resolve) => setTimeout(resolve, 2200));
    expect(await sessions.load(user)).toBeNull();
  });

  it('starts fresh after a reset, while history stays', async () => {
    const { model, sessions, history, say } = setup();
    const user = snowflake();
    await say(user, 'remember me');
    expect(await sessions.reset(user)).toBe(true);
    const after = await say(user, 'who am I?');
    expect(after).toMatchObject({ firstMessage: true });
    expect(model.requests.at(-1)).toEqual([
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: 'who am I?' },
    ]);
    expect(await history.count(user)).toBe(2);
  });

  it('keeps the session within the token budget by dropping the oldest turns', async () => {
    const { model, sessions, say } = setup({ budget: 300 });
    const user = snowflake();
    for (let i = 0; i < 30; i++) await say(user, `message ${i} with a handful of extra words to take up some room`);
    const last = model.requests.at(-1)!;
    expect(last[0]).toEqual({ role: 'system', content: SYSTEM_PROMPT });
    expect(last.at(-1)!.content).toContain('message 29');
    expect(JSON.stringify(last)).not.toContain('message 0 ');
    expect((await sessions.load(user))!.length).toBeLessThan(61);
  });

  it('answers a message that comes back (a replica died before finishing it) with the recorded reply, once', async () => {
    const { model, history, sessions, say } = setup();
    const user = snowflake();
    const id = snowflake();
    const first = await say(user, 'once', id);
    expect(first).toMatchObject({ kind: 'answer', text: 'echo: once', replayed: false });
    expect(await say(user, 'once', id)).toMatchObject({ kind: 'answer', text: 'echo: once', replayed: true });
    expect(model.requests).toHaveLength(1);
    expect(await history.count(user)).toBe(1);
    expect(await sessions.load(user)).toHaveLength(3);
  });

  it('keeps a refusal recorded for a message, and never turns it into an answer later', async () => {
    const { model, conversation, lock, say } = setup();
    const user = snowflake();
    const id = snowflake();
    const lease = await lock.acquire(user);
    await conversation.notice({ userId: user, messageId: id, text: 'x' }, lease, 'rate_limited', 'Slow down');
    await lease.release();
    expect(await say(user, 'x', id)).toMatchObject({ kind: 'notice', outcome: 'rate_limited', text: 'Slow down', replayed: true });
    expect(model.requests).toHaveLength(0);
  });

  it('refuses to write the session for a holder whose lock was taken over', async () => {
    const { model, sessions, conversation, lock } = setup();
    const user = snowflake();
    model.delayMs = 300;
    const stale = await lock.acquire(user);
    const answering = conversation.answer({ userId: user, messageId: snowflake(), text: 'slow' }, stale);
    // The lock expires under the holder (it froze) and another replica takes it.
    await r.redis.del(lock.key(user));
    const fresh = await lock.acquire(user);
    await expect(answering).rejects.toMatchObject({ name: 'LeaseLost' });
    expect(await sessions.load(user)).toBeNull();
    await stale.release();
    expect(await r.redis.get(lock.key(user))).toBe(fresh.token); // releasing a lost lock leaves the new holder's alone
    await fresh.release();
  });

  it('leaves no half-written turn in the session when the model fails', async () => {
    const { model, sessions, say } = setup();
    const user = snowflake();
    await say(user, 'first');
    model.failNext = new ChatFailure('unavailable', 'down');
    await expect(say(user, 'this one fails')).rejects.toMatchObject({ kind: 'unavailable' });
    const turns = await sessions.load(user);
    expect(turns).toHaveLength(3);
    expect(JSON.stringify(turns)).not.toContain('this one fails');
  });

  it('refuses a message that cannot fit the budget even alone', async () => {
    const { model, say } = setup({ budget: 300 });
    await expect(say(snowflake(), 'many words '.repeat(400))).rejects.toMatchObject({ kind: 'too_long' });
    expect(model.requests).toHaveLength(0);
  });
});
