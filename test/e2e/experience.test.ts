// What talking to the bot feels like: streamed answers, long conversations, /history as embeds
// and as a file, /help, and Korean for a Korean Discord client.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startWorld, type World } from '../support/e2e.js';

let w: World;
beforeAll(async () => {
  w = await startWorld({ env: { CONTEXT_TOKEN_BUDGET: '400' } });
}, 60_000);
afterAll(() => w?.close());
beforeEach(() => w.openai.reset());

describe('streaming', () => {
  it('shows the answer as it is written, about one edit a second, ending exactly on the model’s text', async () => {
    const ann = w.discord.user('ann');
    const answer = Array.from({ length: 16 }, (_, i) => `word${i}`).join(' ');
    w.openai.setReply(answer);
    w.openai.latencyMs = 300;
    w.openai.chunkDelayMs = 200; // 16 pieces over ~3.2 s
    const { replies } = await w.ask(ann, 'stream please');
    expect(replies).toHaveLength(1);
    const reply = replies[0]!;
    expect(reply.content).toBe(answer);
    // It was edited while the model wrote: more than one version, each a prefix of the next.
    expect(reply.revisions.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < reply.revisions.length; i++) expect(reply.revisions[i]!.startsWith(reply.revisions[i - 1]!)).toBe(true);
    expect(reply.revisions[0]!.length).toBeLessThan(answer.length);
    // Steady pace: edits at least ~a second apart, except the final one that completes the text.
    const times = [reply.createdAt, ...reply.editedAt];
    for (let i = 1; i < times.length - 1; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(950);
    expect(w.discord.typing.get(ann.dmChannelId)).toBeGreaterThan(0);
  });

  it('moves on to a new message when one fills up', async () => {
    const ben = w.discord.user('ben');
    const answer = Array.from({ length: 700 }, (_, i) => `token${i}`).join(' ');
    w.openai.setReply(answer);
    w.openai.chunkDelayMs = 2;
    const { replies } = await w.ask(ben, 'a very long one');
    expect(replies.length).toBe(Math.ceil(answer.length / 1996));
    for (const m of replies) expect(m.content.length).toBeLessThanOrEqual(2000);
    expect(replies.map((m) => m.content).join(' ')).toBe(answer);
    expect(w.discord.violations).toEqual([]);
  });
});

describe('long conversations', () => {
  it('keeps answering when old turns no longer fit, and /history still has everything', async () => {
    const cy = w.discord.user('cy');
    const texts = Array.from({ length: 12 }, (_, i) => `turn ${i}: ${'some filler words to use up the small budget '.repeat(2)}`.trim());
    for (const text of texts) expect((await w.ask(cy, text)).replies[0]!.content).toBe(`You said: ${text}`);
    const last = w.openai.requestsContaining('turn 11:')[0]!;
    expect(JSON.stringify(last.messages)).not.toContain('turn 0:');
    const rows = await w.discord.waitFor(() => {
      const run = w.discord.runCommand(cy, 'history');
      return run;
    });
    await rows.responded();
    const page = await w.discord.waitFor(() => (rows.response().original?.embeds.length ? rows.response().original : null));
    expect(JSON.stringify(page.embeds)).toContain('12 exchanges');
  });
});
