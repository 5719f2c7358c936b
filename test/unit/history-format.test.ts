import { describe, expect, it } from 'vitest';
import {
  EMBEDS_TOTAL_LIMIT,
  discordTimestamp,
  formatHistoryEmbeds,
  pageCount,
  shorten,
} from '../../src/discord/history-format.js';
import { repliesFor } from '../../src/discord/replies.js';
import type { StoredExchange } from '../../src/history/repository.js';

const en = repliesFor('en-US');
const exchange = (i: number, size = 20): StoredExchange => ({
  id: String(i),
  discordMessageId: String(1_000_000_000_000_000_000n + BigInt(i)),
  userText: `question ${i} `.repeat(size),
  gptResponse: `answer ${i} `.repeat(size * 3),
  model: 'gpt-3.5-turbo',
  totalTokens: 10,
  createdAt: new Date(Date.UTC(2026, 0, 1, 12, i)),
});

describe('history page formatting', () => {
  it('shortens with an ellipsis only when needed', () => {
    expect(shorten('short', 10)).toBe('short');
    expect(shorten('a much longer sentence', 10)).toBe('a much lo…');
  });

  it("uses Discord's own timestamp markup", () => {
    expect(discordTimestamp(new Date(Date.UTC(2026, 0, 1)))).toBe('<t:1767225600:f>');
  });

  it('shows one embed per exchange, in the order given, with the page counter on the last', () => {
    const embeds = formatHistoryEmbeds([exchange(3), exchange(2), exchange(1)], 2, 7, 33, en);
    expect(embeds).toHaveLength(3);
    expect(embeds.map((e) => /question (\d)/.exec(e.description!)![1])).toEqual(['3', '2', '1']);
    expect(embeds[2]!.footer?.text).toBe('Page 2 of 7 · 33 exchanges');
    expect(embeds[0]!.footer).toBeUndefined();
    expect(embeds[0]!.description).toContain('<t:');
  });

  it('stays inside the 6000-character limit for all embeds even with huge messages', () => {
    const embeds = formatHistoryEmbeds(Array.from({ length: 5 }, (_, i) => exchange(i, 2000)), 1, 1, 5, en);
    const size = embeds.reduce((n, e) => n + e.description!.length + (e.footer?.text.length ?? 0), 0);
    expect(size).toBeLessThanOrEqual(EMBEDS_TOTAL_LIMIT);
    embeds.forEach((e, i) => expect(e.description).toContain(`question ${i}`));
    embeds.forEach((e) => expect(e.description).toContain('…'));
  });

  it('speaks Korean for a Korean client', () => {
    const embeds = formatHistoryEmbeds([exchange(1)], 1, 3, 11, repliesFor('ko'));
    expect(embeds[0]!.footer?.text).toBe('3쪽 중 1쪽 · 대화 11개');
    expect(embeds[0]!.description).toContain('**나**');
  });

  it('counts pages', () => {
    expect([0, 1, 5, 6, 11].map((n) => pageCount(n, 5))).toEqual([1, 1, 1, 2, 3]);
  });
});

describe('attachments on a history page', () => {
  it('names each file with its size under the question, safely quoted', () => {
    const item = { ...exchange(1, 1), attachments: [{ name: 'cat.png', type: 'image/png', size: 48_213 }, { name: 'a`b.txt', type: 'text/plain', size: 120 }] };
    const [embed] = formatHistoryEmbeds([item], 1, 1, 1, en);
    expect(embed!.description).toContain('📎 Attached: `cat.png` (47 KB), `a\'b.txt` (120 B)');
    const [plain] = formatHistoryEmbeds([exchange(2, 1)], 1, 1, 1, en);
    expect(plain!.description).not.toContain('📎');
  });
});
