import { describe, expect, it } from 'vitest';
import { EMBED_DESCRIPTION_LIMIT, discordTimestamp, formatHistoryEmbed, pageCount, shorten } from '../../src/discord/history-format.js';
import type { StoredExchange } from '../../src/history/repository.js';

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
    expect(shorten('a much longer sentence', 10).length).toBeLessThanOrEqual(10);
  });

  it("uses Discord's own timestamp markup", () => {
    expect(discordTimestamp(new Date(Date.UTC(2026, 0, 1)))).toBe('<t:1767225600:f>');
  });

  it('shows each exchange in order with a page counter', () => {
    const items = [exchange(3), exchange(2), exchange(1)];
    const embed = formatHistoryEmbed(items, 2, 7, 33);
    expect(embed.footer?.text).toBe('Page 2 of 7 · 33 exchanges');
    const d = embed.description!;
    expect(d.indexOf('question 3')).toBeLessThan(d.indexOf('question 2'));
    expect(d.indexOf('question 2')).toBeLessThan(d.indexOf('question 1'));
    expect(d).toContain('…');
  });

  it('stays inside the embed limit even with huge messages', () => {
    const items = Array.from({ length: 5 }, (_, i) => exchange(i, 2000));
    const embed = formatHistoryEmbed(items, 1, 1, 5);
    expect(embed.description!.length).toBeLessThanOrEqual(EMBED_DESCRIPTION_LIMIT);
    for (let i = 0; i < 5; i++) expect(embed.description).toContain(`question ${i}`);
  });

  it('counts pages', () => {
    expect([0, 1, 5, 6, 11].map((n) => pageCount(n, 5))).toEqual([1, 1, 1, 2, 3]);
  });
});
