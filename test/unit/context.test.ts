import { describe, expect, it } from 'vitest';
import { caching, countTokens, fitToBudget, loadTokenCounter, TRIM_TO_SHARE } from '../../src/chat/context.js';
import type { Turn } from '../../src/chat/types.js';

const count = await loadTokenCounter('gpt-3.5-turbo');
const system: Turn = { role: 'system', content: 'You are helpful.' };
const pair = (i: number): Turn[] => [
  { role: 'user', content: `question number ${i} about something fairly specific` },
  { role: 'assistant', content: `answer number ${i} with a few more words in it than the question` },
];

describe('token counting', () => {
  it('counts with the real tokenizer, not characters/4', () => {
    // "hello world" is 2 cl100k tokens; a chars/4 guess would say 3.
    expect(count({ role: 'user', content: 'hello world' })).toBe(2 + 4);
    // A long run of one repeated character collapses into few tokens.
    expect(count({ role: 'user', content: 'a'.repeat(400) })).toBeLessThan(100);
  });
});

describe('token caching', () => {
  it('tokenizes a turn once and keeps the count on it', () => {
    let calls = 0;
    const counted = caching((t) => (calls++, t.content.length));
    const turn: Turn = { role: 'user', content: 'abc' };
    expect(counted(turn) + counted(turn)).toBe(6);
    expect(calls).toBe(1);
    expect(turn.tokens).toBe(3);
  });

  it('uses o200k for gpt-4o-class models', async () => {
    const o200k = await loadTokenCounter('gpt-4o-mini');
    // The two encodings split this differently; both are real counts, not a length guess.
    const text = { role: 'user' as const, content: 'Übermäßig große Schmetterlinge fliegen über Düsseldorf 😀' };
    expect(o200k(text)).not.toBe(count(text));
  });
});

describe('fitToBudget', () => {
  it('keeps everything when it fits', () => {
    const turns = [system, ...pair(1), { role: 'user', content: 'next' } as Turn];
    const fit = fitToBudget(turns, 1000, count);
    expect(fit).toMatchObject({ ok: true, dropped: 0 });
    if (fit.ok) expect(fit.turns).toEqual(turns);
  });

  it('drops the oldest turns first, keeping the system prompt and the new message', () => {
    const history = Array.from({ length: 20 }, (_, i) => pair(i)).flat();
    const newest: Turn = { role: 'user', content: 'the newest message' };
    const turns = [system, ...history, newest];
    const budget = 200;
    const fit = fitToBudget(turns, budget, count);
    expect(fit.ok).toBe(true);
    if (!fit.ok) return;
    expect(fit.turns[0]).toEqual(system);
    expect(fit.turns.at(-1)).toEqual(newest);
    expect(fit.dropped).toBeGreaterThan(0);
    expect(countTokens(fit.turns, count)).toBeLessThanOrEqual(budget);
    expect(fit.tokens).toBe(countTokens(fit.turns, count));
    // What is kept is the most recent stretch, unbroken.
    const kept = fit.turns.slice(1, -1);
    expect(kept).toEqual(history.slice(history.length - kept.length));
  });

  it('never keeps an answer whose question was dropped', () => {
    const history = Array.from({ length: 10 }, (_, i) => pair(i)).flat();
    for (let budget = 60; budget < 400; budget += 7) {
      const fit = fitToBudget([system, ...history, { role: 'user', content: 'now' }], budget, count);
      if (fit.ok && fit.turns.length > 2) expect(fit.turns[1]!.role).toBe('user');
    }
  });

  it('reports a message that cannot fit even alone', () => {
    const fit = fitToBudget([system, { role: 'user', content: 'word '.repeat(500) }], 100, count);
    expect(fit.ok).toBe(false);
    if (!fit.ok) expect(fit.tokens).toBeGreaterThan(100);
  });

  it('trims in blocks, down to a share of the budget, so the next requests start the same way', () => {
    const budget = 400;
    let session: Turn[] = [system];
    const prompts: Turn[][] = [];
    for (let i = 0; i < 40; i++) {
      const fit = fitToBudget([...session, { role: 'user', content: `question number ${i} about something fairly specific` }], budget, count);
      if (!fit.ok) throw new Error('did not fit');
      expect(countTokens(fit.turns, count)).toBeLessThanOrEqual(budget);
      if (fit.dropped) expect(countTokens(fit.turns, count)).toBeLessThanOrEqual(Math.floor(budget * TRIM_TO_SHARE));
      prompts.push(fit.turns);
      session = [...fit.turns, { role: 'assistant', content: `answer number ${i} with a few more words in it than the question` }];
    }
    // Most requests extend the previous one exactly (same start), not only the system prompt.
    const extending = prompts.slice(1).filter((p, i) => JSON.stringify(p.slice(0, prompts[i]!.length)) === JSON.stringify(prompts[i])).length;
    expect(extending / (prompts.length - 1)).toBeGreaterThan(0.6);
    // With one-turn-at-a-time trimming, no request would extend the previous one once the budget is reached.
    const trims = prompts.filter((p, i) => i > 0 && p.length <= prompts[i - 1]!.length).length;
    expect(trims).toBeLessThan(10);
  });
});

describe('images in the budget', () => {
  const image = (name: string) => ({ name, width: 4000, height: 3000, detail: 'high' as const, source: { channelId: '1', messageId: '2', attachmentId: '3', url: 'https://cdn.discordapp.com/x' } });
  const withImage = (i: number): Turn => ({ role: 'user', content: `look at picture ${i}`, images: [image(`cat${i}.png`)] });

  it('counts an image by OpenAI’s rule for the model: 765 tokens for a 4000×3000 photo on gpt-4o', async () => {
    const gpt4o = await loadTokenCounter('gpt-4o');
    const text = gpt4o({ role: 'user', content: 'look at picture 1' });
    expect(gpt4o(withImage(1))).toBe(text + 85 + 4 * 170);
  });

  it('swaps older images for placeholders before dropping any turn, and keeps the newest image', async () => {
    const gpt4o = await loadTokenCounter('gpt-4o');
    const turns: Turn[] = [system, withImage(1), { role: 'assistant', content: 'a cat' }, withImage(2), { role: 'assistant', content: 'another cat' }, withImage(3)];
    const fit = fitToBudget(turns, 1200, gpt4o);
    expect(fit).toMatchObject({ ok: true, dropped: 0 });
    if (!fit.ok) return;
    expect(fit.turns.map((t) => t.content)).toEqual([system.content, 'look at picture 1\n[image: cat1.png]', 'a cat', 'look at picture 2\n[image: cat2.png]', 'another cat', 'look at picture 3']);
    expect(fit.turns.at(-1)!.images).toHaveLength(1);
    expect(fit.turns.slice(0, -1).some((t) => t.images?.length)).toBe(false);
    expect(fit.tokens).toBeLessThanOrEqual(1200);
  });
});
