// Splits a long answer into Discord-sized messages (2000 characters each) at natural boundaries:
// paragraphs, then lines, then words, then (only if a single word is too long) anywhere — but never
// inside a character a person sees (text-cut.ts). Whitespace at a cut is dropped.
// A fenced code block cut in two is closed on the first side and re-opened, with its language, on the next.
import { cutIndex } from './text-cut.js';

export const DISCORD_MESSAGE_LIMIT = 2000;

const FENCE = /^\s*(```+|~~~+)(.*)$/;
/** Longest fence line carried over to the next part (marker and language); longer ones lose the language. */
const CARRIED_FENCE_CHARS = 16;

/** Returns the opening fence (marker and language) of the code block still open at the end of `text`, or null. */
function openFenceAtEnd(text: string): string | null {
  let open: string | null = null;
  for (const line of text.split('\n')) {
    const match = FENCE.exec(line);
    if (!match) continue;
    // Discord reads only the first word of the info string as the language.
    open = open === null ? `${match[1]}${match[2]!.trim().split(/\s/, 1)[0]}` : null;
  }
  return open;
}

/**
 * The fence to close here and re-open on the next part, if that leaves most of a part for text.
 * Re-opening a fence line that takes up the part would never get through the text.
 */
function carriedFence(fence: string | null, limit: number): string | null {
  if (fence === null) return null;
  const carried = fence.length <= CARRIED_FENCE_CHARS ? fence : /^(`+|~+)/.exec(fence)![1]!;
  return carried.length <= limit / 4 - 1 ? carried : null;
}

function cutPoint(text: string, limit: number, min: number): number {
  const window = text.slice(0, limit + 1);
  for (const separator of ['\n\n', '\n', ' ']) {
    const at = window.lastIndexOf(separator, limit - 1);
    // Cutting very early would make many tiny messages; only accept a boundary in the back half.
    if (at >= limit / 2 && at > min) return at + separator.length;
  }
  for (const separator of ['\n', ' ']) {
    const at = window.lastIndexOf(separator, limit - 1);
    if (at > min) return at + separator.length;
  }
  return limit;
}

export function splitForDiscord(text: string, limit = DISCORD_MESSAGE_LIMIT): string[] {
  const chunks: string[] = [];
  let rest = text;
  let reopen = '';
  while (rest.length) {
    rest = reopen ? `${reopen}\n${rest}` : rest;
    if (rest.length <= limit) {
      chunks.push(rest);
      break;
    }
    // Never cut inside the re-opened fence line itself, or the loop would not advance.
    const min = reopen.length + 1;
    // Leave room to close a code block we may be inside of (a newline and ```); a longer fence
    // marker takes more, so try again with less room until the closed part fits.
    let room = limit - 4;
    let cut: number, head: string, fence: string | null, closer: string;
    for (;;) {
      cut = cutIndex(rest, cutPoint(rest, room, min), min);
      head = rest.slice(0, cut);
      fence = carriedFence(openFenceAtEnd(head), limit);
      closer = fence ? `${head.endsWith('\n') ? '' : '\n'}${/^(`+|~+)/.exec(fence)![1]}` : '';
      if (head.length + closer.length <= limit) break;
      room -= head.length + closer.length - limit;
    }
    chunks.push((head + closer).trimEnd() || head);
    rest = rest.slice(cut).replace(/^\n+/, '');
    reopen = fence ?? '';
  }
  return chunks.filter((c) => c.trim().length > 0);
}
