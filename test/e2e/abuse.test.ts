// Misuse and bad input against the real bot: limits, the allow-list, empty and over-long messages,
// mentions in model output, and the operations endpoints.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorld, type World } from '../support/e2e.js';
import type { FakeUser } from '../support/fake-discord/server.js';

let w: World;
let limited: FakeUser;
let capped: FakeUser;
let member: FakeUser;
// Notices count toward the per-minute limit too, so each bad-input case writes as someone of its own.
let blank: FakeUser;
let wordy: FakeUser;
let pinger: FakeUser;

beforeAll(async () => {
  w = await startWorld({
    env: (discord) => {
      limited = discord.user('limited');
      capped = discord.user('capped');
      member = discord.user('member');
      [blank, wordy, pinger] = [discord.user('blank'), discord.user('wordy'), discord.user('pinger')];
      return {
        ALLOWED_USER_IDS: [limited.id, capped.id, member.id, blank.id, wordy.id, pinger.id].join(','),
        RATE_LIMIT_PER_MINUTE: '3',
        DAILY_TOKEN_CAP: '400',
        MAX_INPUT_CHARS: '100',
        STREAM_REPLIES: 'false',
      };
    },
  });
}, 60_000);
afterAll(() => w?.close());

async function ask(user: FakeUser, text: string, extra?: Parameters<World['discord']['sendDm']>[2]) {
  const { replies } = await w.ask(user, text, extra);
  return replies[0]!.content;
}

const modelCalls = () => w.openai.requests.length;

describe('limits and access', () => {
  it('politely refuses people who are not on the allow-list, without a model call', async () => {
    const before = modelCalls();
    expect(await ask(w.discord.user('stranger'), 'let me in')).toMatch(/only available to a few people/);
    expect(modelCalls()).toBe(before);
  });

  it('rate-limits one person per minute and says when to try again', async () => {
    for (let i = 0; i < 3; i++) expect(await ask(limited, `quick ${i}`)).toBe(`You said: quick ${i}`);
    const before = modelCalls();
    const refusal = await ask(limited, 'one too many');
    expect(refusal).toMatch(/faster than I can keep up. Try again <t:\d+:R>/);
    const retryAt = Number(/<t:(\d+):R>/.exec(refusal)![1]) * 1000;
    expect(retryAt).toBeGreaterThan(Date.now());
    expect(retryAt).toBeLessThanOrEqual(Date.now() + 61_000);
    expect(modelCalls()).toBe(before);
    // Someone else is not affected.
    expect(await ask(member, 'my turn')).toBe('You said: my turn');
  });

  it('stops a person at the daily token cap', async () => {
    w.openai.setReply('word '.repeat(400).trim()); // ~500 tokens of usage: over the cap of 400 at once
    expect(await ask(capped, 'big answer please')).toMatch(/^word word/);
    w.openai.reset();
    const before = modelCalls();
    expect(await ask(capped, 'another one')).toMatch(/reached today's usage limit/);
    expect(modelCalls()).toBe(before);
  });
});

describe('without streaming', () => {
  it('sends each answer whole, never edited', async () => {
    w.openai.chunkDelayMs = 50;
    const { replies } = await w.ask(member, 'one two three four five six');
    expect(replies).toHaveLength(1);
    expect(replies[0]!.content).toBe('You said: one two three four five six');
    expect(replies[0]!.editedAt).toEqual([]);
    expect(w.openai.requests.at(-1)!.stream).toBeFalsy();
    w.openai.reset();
  });
});

describe('bad input', () => {
  it('answers an empty, sticker-only or attachment-only message with a note and no model call', async () => {
    const before = modelCalls();
    expect(await ask(blank, '', { stickerItems: [{ id: '1', name: 'wave', format_type: 1 }] })).toMatch(/only read text/);
    expect(await ask(blank, '   ')).toMatch(/only read text/);
    expect(modelCalls()).toBe(before);
  });

  it('refuses a message over MAX_INPUT_CHARS with a note and no model call', async () => {
    const before = modelCalls();
    expect(await ask(wordy, 'x'.repeat(101))).toMatch(/over 100 characters/);
    expect(modelCalls()).toBe(before);
  });

  it('never lets model output ping anyone', async () => {
    w.openai.setReply('Hey @everyone and <@123456789012345678>, look!');
    const before = w.discord.botMessagesTo(pinger).length;
    w.discord.sendDm(pinger, 'ping people');
    const [reply] = await w.discord.waitForBotMessages(pinger, 1, before);
    expect(reply!.content).toContain('@everyone');
    expect(reply!.allowedMentions).toEqual({ parse: [] });
    w.openai.reset();
  });
});

describe('operations endpoints', () => {
  it('serves /healthz, /readyz and Prometheus /metrics on 127.0.0.1', async () => {
    expect((await fetch(`${w.bot.opsUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${w.bot.opsUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { discord: true, postgres: true, redis: true } });
    const metrics = await (await fetch(`${w.bot.opsUrl}/metrics`)).text();
    expect(metrics).toMatch(/bot_messages_total\{outcome="answered"\} [1-9]/);
    expect(metrics).toMatch(/bot_messages_total\{outcome="rate_limited"\} 1/);
    expect(metrics).toMatch(/bot_messages_total\{outcome="not_allowed"\} 1/);
    expect(metrics).toMatch(/bot_model_request_seconds_count\{outcome="ok"\} [1-9]/);
    expect(metrics).toMatch(/bot_model_tokens_total\{kind="prompt"\} [1-9]/);
    expect(metrics).toMatch(/bot_outbox_depth 0/);
  });
});
