// What the person is told about attachments that were left out or cut: one line each, in their
// language, posted just before the answer (or as the whole reply when nothing was left to answer).
import type { Replies } from '../replies.js';

export type AttachmentNote =
  | { kind: 'unsupported' | 'failed' | 'animated'; name: string }
  | { kind: 'no_vision'; name: string; model: string }
  | { kind: 'too_large'; name: string; maxBytes: number }
  | { kind: 'too_many'; name: string; max: number }
  | { kind: 'cut'; name: string; maxChars: number };

const NAME_CHARS = 80;

/** A file name as shown: in code style (it cannot format or mention anything there), shortened. */
export function quotedName(name: string): string {
  const flat = name.replace(/[`\r\n]/g, "'");
  return `\`${flat.length > NAME_CHARS ? `${flat.slice(0, NAME_CHARS - 1)}…` : flat}\``;
}

export function noteLines(r: Replies, notes: readonly AttachmentNote[]): string {
  return notes
    .map((note) => {
      const name = quotedName(note.name);
      switch (note.kind) {
        case 'unsupported':
          return r.attachments.unsupported(name);
        case 'failed':
          return r.attachments.failed(name);
        case 'animated':
          return r.attachments.animated(name);
        case 'no_vision':
          return r.attachments.noVision(name, note.model);
        case 'too_large':
          return r.attachments.tooLarge(name, Math.round((note.maxBytes / 1024 / 1024) * 10) / 10);
        case 'too_many':
          return r.attachments.tooMany(name, note.max);
        case 'cut':
          return r.attachments.cut(name, note.maxChars);
      }
    })
    .join('\n');
}
