import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cutIndex, graphemeBoundaryAtOrBefore, truncate } from '../../src/discord/text-cut.js';
import { graphemes, hardText, hasLoneSurrogate } from '../support/text-arbitraries.js';

/** Every grapheme boundary of `text`, found by segmenting all of it. */
function boundaries(text: string): Set<number> {
  const at = new Set([0]);
  let end = 0;
  for (const g of graphemes(text)) at.add((end += g.length));
  return at;
}

describe('cutting text between characters', () => {
  it('finds the same boundary as segmenting the whole text, looking only near the cut', () => {
    fc.assert(
      fc.property(hardText(40), (text) => {
        const all = boundaries(text);
        let expected = 0;
        for (let index = 0; index <= text.length; index++) {
          if (all.has(index)) expected = index;
          if (graphemeBoundaryAtOrBefore(text, index) !== expected) return false;
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it('cuts one character longer than the space between code points, never halving a pair', () => {
    const zalgo = 'a' + '\u{1D167}'.repeat(50);
    for (let max = 1; max < 30; max++) {
      const head = truncate(zalgo, max);
      expect(head.length).toBeGreaterThanOrEqual(max - 1);
      expect(hasLoneSurrogate(head)).toBe(false);
    }
    expect(cutIndex('ab👨‍👩‍👧‍👦', 5)).toBe(2);
  });
});
