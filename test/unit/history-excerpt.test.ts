import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMBEDS_TOTAL_LIMIT, formatHistoryEmbeds, shorten } from '../../src/discord/history-format.js';
import { repliesFor } from '../../src/discord/replies.js';
import type { StoredExchange } from '../../src/history/repository.js';
import { graphemes, hardText, hasLoneSurrogate } from '../support/text-arbitraries.js';

// Discord's limits for an embed: https://discord.com/developers/docs/resources/message#embed-object-embed-limits
const DESCRIPTION_LIMIT = 4096;
const FOOTER_TEXT_LIMIT = 2048;

const flat = (text: string) => text.replace(/\s+/g, ' ').trim();

describe('history excerpts', () => {
  it('shorten keeps whole characters, ends with an ellipsis only when cut, and stays within its limit', () => {
    fc.assert(
      fc.property(hardText(), fc.integer({ min: 1, max: 700 }), (text, max) => {
        const excerpt = shorten(text, max);
        if (excerpt.length > max || hasLoneSurrogate(excerpt)) return false;
        const whole = flat(text);
        if (whole.length <= max) return excerpt === whole;
        const kept = excerpt.slice(0, -1);
        if (!excerpt.endsWith('…') || !whole.startsWith(kept)) return false;
        // The cut falls between grapheme clusters, unless the first one alone is longer than the excerpt.
        const clusters = graphemes(whole);
        if (clusters[0]!.length >= max) return true;
        const keptClusters = graphemes(kept);
        return keptClusters.every((g, i) => g === clusters[i]);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps an emoji family whole at the edge of an excerpt', () => {
    const family = '👨‍👩‍👧‍👦';
    for (let pad = 0; pad < 12; pad++) {
      const excerpt = shorten('x'.repeat(pad) + family.repeat(3), 20);
      expect(graphemes(excerpt.slice(0, -1)).every((g) => g === 'x' || g === family)).toBe(true);
    }
  });

  it('a /history page of any exchanges fits Discord’s embed limits with no broken character', () => {
    // Repeated short texts: long enough to be cut, and quick to shrink to a readable counterexample.
    const long = fc.tuple(hardText(20), fc.integer({ min: 1, max: 60 })).map(([text, times]) => text.repeat(times));
    const item = fc.record({ userText: long, gptResponse: long });
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 5 }), (texts) => {
        const items: StoredExchange[] = texts.map((t, i) => ({
          ...t,
          id: String(i + 1),
          discordMessageId: String(1_300_000_000_000_000_000n + BigInt(i)),
          model: 'gpt-3.5-turbo',
          totalTokens: 10,
          createdAt: new Date(Date.UTC(2026, 0, 1, 12, i)),
        }));
        const embeds = formatHistoryEmbeds(items, 1, 1, items.length, repliesFor('en-US'));
        const descriptions = embeds.map((e) => e.description!);
        const footer = embeds.at(-1)!.footer!.text;
        return (
          descriptions.every((d) => d.length <= DESCRIPTION_LIMIT && !hasLoneSurrogate(d)) &&
          footer.length <= FOOTER_TEXT_LIMIT &&
          descriptions.reduce((n, d) => n + d.length, footer.length) <= EMBEDS_TOTAL_LIMIT
        );
      }),
      { numRuns: 200 },
    );
  });
});
