// Splits a long answer into Discord-sized messages (2000 characters each) at natural boundaries:
// paragraphs, then lines, then words, then (only if a single word is too long) anywhere.
// A fenced code block cut in two is closed on the first side and re-opened, with its language, on the next.

export const DISCORD_MESSAGE_LIMIT = 2000;

const FENCE = /^\s*(```+|~~~+)(.*)$/;

/** Returns the opening fence line of the code block still open at the end of `text`, or null. */
function openFenceAtEnd(text: string): string | null {
  let open: string | null = null;
  for (const line of text.split('\n')) {
    const match = FENCE.exec(line);
    if (!match) continue;
    open = open === null ? `${match[1]}${match[2]!.trim()}` : null;
  }
  return open;
}

function cutPoint(text: string, limit: number, min: number): number {
  const window = text.slice(0, limit + 1);
  for (const separator of ['\n\n', '\n', ' ']) {
    const at = window.lastIndexOf(separator, limit - 1);
    // Cutting very early would make many tiny messages; only accept a boundary in the back half.
    if (at >= limit / 2) return at + separator.length;
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
    // Leave room to close a code block we may be inside of.
    const room = limit - 4;
    // Never cut inside the re-opened fence line itself, or the loop would not advance.
    const min = reopen.length + 1;
    let cut = cutPoint(rest, room, min);
    let head = rest.slice(0, cut);
    let fence = openFenceAtEnd(head);
    if (fence && head.length + 4 > limit) {
      cut = cutPoint(rest, room - 4, min);
      head = rest.slice(0, cut);
      fence = openFenceAtEnd(head);
    }
    const closer = fence ? `${head.endsWith('\n') ? '' : '\n'}${fence.match(/^(`+|~+)/)![1]}` : '';
    chunks.push((head + closer).trimEnd() || head);
    rest = rest.slice(cut).replace(/^\n+/, '');
    reopen = fence ?? '';
  }
  return chunks.filter((c) => c.trim().length > 0);
}
