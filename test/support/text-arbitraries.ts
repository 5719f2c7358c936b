// Text that is hard to cut: what people and models really write (emoji, families joined by ZWJ,
// flags, accents, Hangul, code fences) plus anything fast-check's Unicode units produce. Shared by
// the property tests of everything that cuts text for Discord.
import fc from 'fast-check';

/** Pieces that each test one way a cut can go wrong. */
const PIECES = [
  'word',
  'a',
  ' ',
  '  ',
  '\n',
  '\n\n',
  '\r\n',
  '\t',
  '😀',
  '🎉',
  '👍🏽', // skin-tone modifier
  '👨‍👩‍👧‍👦', // four people joined by ZWJ: one grapheme, eleven UTF-16 units
  '🏳️‍🌈',
  '🇰🇷',
  '🇯🇵',
  '🇺🇸',
  '🇰', // a lone regional indicator pairs with whatever indicator follows it
  '1️⃣', // keycap
  'e\u0301', // e + combining acute
  ' \u0301', // a combining mark on a space: cutting after the space would orphan it
  'ᄀ\u1161\u11a8', // Hangul 각 spelled in conjoining jamo
  '안녕하세요',
  '漢字',
  'こんにちは',
  'क्षि', // Devanagari conjunct
  'ˋ',
  '…',
];

/** Fences as models write them: on lines of their own. */
const FENCE_LINES = ['\n```ts\n', '\n```\n', '\n~~~\n', '\n````md\n'];
/** Fences anywhere, with whatever follows on their line taken as the language. */
const LOOSE_FENCES = ['`', '```', '```ts\n', '\n```\n', '~~~\n', '`````'];

const ZALGO_MARKS = ['\u0300', '\u0301', '\u0302', '\u0303', '\u0308', '\u0327', '\u0336', '\u034f', '\u0489'];

/** One grapheme carrying many combining marks: the long ones do not fit in a small part. */
export const zalgo = fc
  .tuple(fc.constantFrom('a', 'Z', '가', '😀'), fc.array(fc.constantFrom(...ZALGO_MARKS), { minLength: 1, maxLength: 120, size: 'max' }))
  .map(([base, marks]) => base + marks.join(''));

function parts(fences: readonly string[]) {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...PIECES) },
    { weight: 1, arbitrary: fc.constantFrom(...fences) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 20, maxLength: 200, size: 'max' }) },
    { weight: 1, arbitrary: zalgo },
  );
}

/**
 * A well-formed text of up to `maxParts` hard pieces (lengths spread evenly, so long texts are
 * common). `fences: 'lines'` keeps code fences on lines of their own and nowhere else, so every
 * line that reads as a fence is one.
 */
export function hardText(maxParts = 100, fences: 'loose' | 'lines' = 'loose') {
  const text = fc.array(parts(fences === 'loose' ? LOOSE_FENCES : FENCE_LINES), { maxLength: maxParts, size: 'max' });
  if (fences === 'loose') return text.map((pieces) => pieces.join(''));
  // Stray backticks and tildes from the random strings could otherwise begin a fence mid-text.
  return text.map((pieces) => pieces.map((p) => (FENCE_LINES.includes(p) ? p : p.replace(/[`~]/g, "'"))).join(''));
}

const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });

export function graphemes(text: string): string[] {
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

/** Whether `text` holds half of a surrogate pair: a broken character on screen. */
export function hasLoneSurrogate(text: string): boolean {
  return /\p{Surrogate}/u.test(text);
}
