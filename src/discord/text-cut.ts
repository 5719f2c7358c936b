// Where text may be cut for Discord without breaking a character a person sees. An emoji, a flag, a
// family joined by ZWJ (👨‍👩‍👧‍👦 is eleven UTF-16 units) or a letter with its accents is one grapheme
// cluster and stays whole. Only a cluster longer than the limit itself (zalgo text) is cut, between
// code points, which still never leaves half a surrogate pair on screen.
// Limits are counted in UTF-16 units, as String#length does: never fewer than Discord counts.

const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });

const LF = 0x0a;
const CR = 0x0d;

/** A boundary known without segmenting: after a line feed (always), or between two ASCII characters other than CR LF. */
function plainBoundary(text: string, index: number): boolean {
  if (index <= 0 || index >= text.length) return true;
  const before = text.charCodeAt(index - 1);
  if (before === LF) return true;
  const after = text.charCodeAt(index);
  return before < 0x80 && after < 0x80 && !(before === CR && after === LF);
}

/** The last grapheme cluster boundary at or before `index`. */
export function graphemeBoundaryAtOrBefore(text: string, index: number): number {
  if (index >= text.length) return text.length;
  if (plainBoundary(text, index)) return Math.max(0, index);
  // Segment only from the nearest certain boundary: whether `index` is a boundary depends on what
  // precedes it (a run of flags pairs up from its start) and on the code point at `index`.
  let from = index - 1;
  while (!plainBoundary(text, from)) from -= 1;
  return from + segmenter.segment(text.slice(from, index + 2)).containing(index - from)!.index;
}

/** The last code point boundary at or before `index`. */
export function codePointBoundaryAtOrBefore(text: string, index: number): number {
  if (index <= 0) return 0;
  if (index >= text.length) return text.length;
  const low = text.charCodeAt(index);
  const high = text.charCodeAt(index - 1);
  return low >= 0xdc00 && low <= 0xdfff && high >= 0xd800 && high <= 0xdbff ? index - 1 : index;
}

/**
 * Where to cut so the head is at most `index` long: the last grapheme boundary there, or, when no
 * boundary lies after `floor` (a single cluster longer than the space), the last code point boundary.
 */
export function cutIndex(text: string, index: number, floor = 0): number {
  const boundary = graphemeBoundaryAtOrBefore(text, index);
  return boundary > floor ? boundary : codePointBoundaryAtOrBefore(text, index);
}

/** The longest head of `text` at most `max` UTF-16 units long that ends between characters. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, cutIndex(text, max));
}
