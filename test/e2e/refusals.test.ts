// People Discord will not let the bot reach, and people who flood it, against the real bot process:
// a refusal for good finishes the message after one request, a reset token stops the replica without
// losing messages, and one person's backlog never holds up anyone else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorld, type World } from '../support/e2e.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a person who blocked the bot', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ env: { REDELIVER_AFTER_MS: '1000' } });
  }, 60_000);
  afterAll(() => w?.close());

  const streamLength = () => w.redis.redis.xlen(`${w.redis.prefix}{dm}:stream`);

  it('costs one refused request per message, is never retried, and is answered at once after unblocking', async () => {
    const blocker = w.discord.user('blocker');
    w.discord.block(blocker);
    const sent = [w.discord.sendDm(blocker, 'are you there?'), w.discord.sendDm(blocker, 'hello?')];
    for (const message of sent) {
      const line = await w.bot.waitForLog((l) => l.msg === 'message handled' && l.messageId === message.id);
      expect(line.outcome).toBe('undeliverable');
    }
    const warned = w.bot.logs.filter((l) => l.level === 40 && l.code === 50007);
    expect(warned.length).toBe(2);
    // Several visibility timeouts later: nothing was taken over, nothing asked again.
    await sleep(3500);
    expect(w.discord.refused.filter((r) => r.path.includes(blocker.dmChannelId)).length).toBe(2);
    expect(await streamLength()).toBe(0);
    expect(w.bot.logs.filter((l) => l.msg === 'taking over an abandoned message').length).toBe(0);

    w.discord.block(blocker, false);
    const { replies } = await w.ask(blocker, 'I unblocked you');
    expect(replies.at(-1)!.content).toBe('You said: I unblocked you');
    // Answered in its turn, not after waiting out a turn the refused messages never gave back.
    expect(w.bot.logs.some((l) => l.userId === blocker.id && /made no progress/.test(String(l.msg)))).toBe(false);
  });
});

describe('a reset bot token', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ env: { REDELIVER_AFTER_MS: '1000' } });
  }, 60_000);
  afterAll(() => w?.close());

  it('stops taking work, keeps the message, and says so in the log and /readyz', async () => {
    const ann = w.discord.user('ann');
    w.discord.resetToken();
    const message = w.discord.sendDm(ann, 'anyone home?');
    const line = await w.bot.waitForLog((l) => l.level >= 50 && /token/i.test(String(l.msg)));
    expect(line.msg).toMatch(/DISCORD_TOKEN/);
    const ready = await fetch(`${w.bot.opsUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: Record<string, boolean> }).checks.discord).toBe(false);
    await sleep(2500);
    // Kept on the stream for a replica with a working token; refused requests stay few.
    expect(await w.redis.redis.xlen(`${w.redis.prefix}{dm}:stream`)).toBe(1);
    expect(w.bot.logs.some((l) => l.msg === 'message handled' && l.messageId === message.id)).toBe(false);
    expect(w.discord.requests.filter((r) => r.method === 'POST' && r.path.includes(ann.dmChannelId)).length).toBeLessThanOrEqual(2);
  });
});

describe('a person who floods the bot', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ env: { WORKER_CONCURRENCY: '10', RATE_LIMIT_PER_MINUTE: '20', STREAM_REPLIES: 'false' } });
  }, 60_000);
  afterAll(() => w?.close());

  it("does not hold up a bystander's answer, and is told about the limit once", async () => {
    w.openai.latencyMs = 500;
    const flooder = w.discord.user('flooder');
    for (let i = 0; i < 120; i++) w.discord.sendDm(flooder, `flood ${i}`);
    await sleep(300); // the flood is on the stream first
    const bystander = w.discord.user('bystander');
    const { replies } = await w.ask(bystander, 'just me');
    expect(replies[0]!.content).toBe('You said: just me');
    // Answered beside the flood, not behind it: the flooder's 20 answers come one at a time (500 ms
    // each), and the bystander's came while at most the first three of them were out.
    const flooderAnswered = () => w.discord.botMessagesTo(flooder).filter((m) => m.content.startsWith('You said')).length;
    expect(flooderAnswered()).toBeLessThanOrEqual(3);

    // The flood: 20 answered in order, then one notice about the limit, the rest refused silently.
    await w.discord.waitFor(() => w.bot.logs.filter((l) => l.msg === 'message handled' && l.userId === flooder.id).length >= 120, 30_000, 'the flood');
    const toFlooder = w.discord.botMessagesTo(flooder);
    const answers = toFlooder.filter((m) => m.content.startsWith('You said'));
    expect(answers.map((m) => m.content)).toEqual(Array.from({ length: 20 }, (_, i) => `You said: flood ${i}`));
    expect(toFlooder.filter((m) => /faster than I can keep up/.test(m.content)).length).toBe(1);
    expect(w.openai.requests.length).toBe(21);
  }, 60_000);
});

describe('a person whose messages pile up over a slow model', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ env: { MAX_WAITING_PER_PERSON: '3', STREAM_REPLIES: 'false' } });
  }, 60_000);
  afterAll(() => w?.close());

  it('answers the first few in order, says once that the rest are left out, and takes new ones once it caught up', async () => {
    w.openai.latencyMs = 400;
    const piler = w.discord.user('piler');
    const sent = Array.from({ length: 6 }, (_, i) => w.discord.sendDm(piler, `pile ${i}`));
    await w.discord.waitFor(() => w.bot.logs.filter((l) => l.msg === 'message handled' && l.userId === piler.id).length >= sent.length, 20_000, 'every message handled');
    const shown = w.discord.botMessagesTo(piler).map((m) => m.content);
    expect(shown.filter((c) => c.startsWith('You said'))).toEqual(['You said: pile 0', 'You said: pile 1', 'You said: pile 2']);
    expect(shown.filter((c) => /still working through your earlier messages/.test(c))).toHaveLength(1);
    expect(w.bot.logs.filter((l) => l.msg === 'message handled' && l.outcome === 'backlog').map((l) => Boolean(l.silent)).sort()).toEqual([false, true, true]);
    expect(w.openai.requests).toHaveLength(3);
    expect((await w.storedRows(piler.id)).map((r) => r.user_text)).toEqual(['pile 0', 'pile 1', 'pile 2']);
    // Caught up: the next message is taken and answered.
    const { replies } = await w.ask(piler, 'one more');
    expect(replies.at(-1)!.content).toBe('You said: one more');
  }, 30_000);
});
