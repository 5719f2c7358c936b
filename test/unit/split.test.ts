import { describe, expect, it } from 'vitest';
import { DISCORD_MESSAGE_LIMIT, splitForDiscord } from '../../src/discord/split.js';

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
});
