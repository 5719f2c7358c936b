import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DISCORD_MESSAGE_LIMIT, splitForDiscord } from '../../src/discord/split.js';
import { graphemes, hardText, hasLoneSurrogate } from '../support/text-arbitraries.js';

const paragraph = (n: number) => `Paragraph ${n}. ` + 'Some words that make up a sentence. '.repeat(20).trim();

function fencesBalanced(chunk: string): boolean {
  return (chunk.match(/^```/gm) ?? []).length % 2 === 0;
}

describe('splitForDiscord', () => {
  it('leaves a short reply alone', () => {
    expect(splitForDiscord('hello')).toEqual(['hello']);
  });

  it('splits at paragraph boundaries, every part within 2000 characters, nothing lost', () => {
    const text = Array.from({ length: 8 }, (_, i) => paragraph(i)).join('\n\n');
    const parts = splitForDiscord(text);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(DISCORD_MESSAGE_LIMIT);
    for (const part of parts) expect(part.startsWith('Paragraph')).toBe(true);
    expect(parts.join('\n\n')).toBe(text);
  });

  it('falls back to words when there are no line breaks', () => {
    const text = 'word '.repeat(1000).trim();
    const parts = splitForDiscord(text);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(DISCORD_MESSAGE_LIMIT);
      expect(part.startsWith('word')).toBe(true);
      expect(part.endsWith('word')).toBe(true);
    }
    expect(parts.join(' ')).toBe(text);
  });

  it('cuts a single giant word hard rather than failing', () => {
    const parts = splitForDiscord('x'.repeat(4500));
    expect(parts.map((p) => p.length)).toEqual([1996, 1996, 508]);
  });

  it('keeps a code block valid on both sides of a split', () => {
    const code = Array.from({ length: 150 }, (_, i) => `  console.log("line ${i}");`).join('\n');
    const text = `Here is the code:\n\n\`\`\`ts\n${code}\n\`\`\`\n\nThat is all.`;
    const parts = splitForDiscord(text);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(DISCORD_MESSAGE_LIMIT);
      expect(fencesBalanced(part)).toBe(true);
    }
    expect(parts[1]!.startsWith('```ts\n')).toBe(true);
    // Every code line arrives exactly once.
    const all = parts.join('\n');
    for (let i = 0; i < 150; i++) expect(all.split(`line ${i}"`).length - 1).toBe(1);
  });

  it('handles a code block with one enormous line', () => {
    const text = '```\n' + 'y'.repeat(5000) + '\n```';
    const parts = splitForDiscord(text);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(DISCORD_MESSAGE_LIMIT);
      expect(fencesBalanced(part)).toBe(true);
    }
    expect(parts.join('').replace(/[`\n]/g, '')).toBe('y'.repeat(5000));
  });

  it('gets through a code block whose opening line is longer than a message', () => {
    const text = '```ts' + ' '.repeat(1500) + 'title\n' + 'y '.repeat(1500) + '\n```';
    const parts = splitForDiscord(text);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(DISCORD_MESSAGE_LIMIT);
      expect(fencesBalanced(part)).toBe(true);
    }
    expect(parts[1]!.startsWith('```ts\n')).toBe(true);
    expect(parts.join('').replace(/[`\s]|ts|title/g, '')).toBe('y'.repeat(1500));
  });

  it('closes a code block with a longer fence within the limit', () => {
    const fence = '`'.repeat(12);
    const parts = splitForDiscord(`${fence}md\n${'y '.repeat(1500)}\n${fence}`);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(DISCORD_MESSAGE_LIMIT);
      expect(part.split(fence).length - 1).toBe(2);
    }
  });
});

const FENCE_LINE = /^\s*(```+|~~~+)(.*)$/;

/** What a reader sees of `text`: its grapheme clusters, leaving out whitespace and code-fence lines (the splitter adds and drops those). */
function visibleGraphemes(text: string): string[] {
  return text
    .split(/\r?\n|\r/)
    .filter((line) => !FENCE_LINE.test(line))
    .flatMap((line) => graphemes(line).filter((g) => g.trim() !== ''));
}

const limits = fc.oneof(fc.constant(DISCORD_MESSAGE_LIMIT), fc.integer({ min: 40, max: 400 }));

describe('splitForDiscord on any text', () => {
  it('never leaves half a surrogate pair and keeps every part within the limit', () => {
    fc.assert(
      fc.property(hardText(), limits, (text, limit) =>
        splitForDiscord(text, limit).every((part) => !hasLoneSurrogate(part) && part.length <= limit && part.trim() !== ''),
      ),
      { numRuns: 300 },
    );
  });

  it('loses nothing but whitespace and never splits a grapheme cluster that fits in a part', () => {
    fc.assert(
      fc.property(hardText(100, 'lines'), limits, (text, limit) => {
        // A cluster longer than a quarter part (zalgo) may be cut between code points, so it is
        // compared code point by code point; every other cluster must arrive whole.
        const written = visibleGraphemes(text).flatMap((g) => (g.length > limit / 4 ? [...g] : [g]));
        const whole = new Set(written);
        const shown = splitForDiscord(text, limit)
          .flatMap(visibleGraphemes)
          .flatMap((g) => (whole.has(g) ? [g] : [...g]));
        return shown.length === written.length && shown.every((g, i) => g === written[i]);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps an emoji family whole at the very edge of a part', () => {
    const family = '👨‍👩‍👧‍👦';
    for (let pad = 1990; pad <= 2000; pad++) {
      const parts = splitForDiscord('x'.repeat(pad) + family.repeat(3));
      expect(parts.join('')).toBe('x'.repeat(pad) + family.repeat(3));
      for (const part of parts) expect(part.length).toBeLessThanOrEqual(DISCORD_MESSAGE_LIMIT);
      expect(parts.flatMap(graphemes).every((g) => g === 'x' || g === family)).toBe(true);
    }
  });

  it('cuts a zalgo character longer than a message between code points', () => {
    // Combining marks outside the BMP, so a cut by UTF-16 index could halve one.
    const zalgoChar = 'a' + '\u{1D167}'.repeat(2500);
    const parts = splitForDiscord(zalgoChar);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.join('')).toBe(zalgoChar);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(DISCORD_MESSAGE_LIMIT);
      expect(hasLoneSurrogate(part)).toBe(false);
    }
  });
});
