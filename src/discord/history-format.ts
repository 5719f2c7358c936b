// Turns stored exchanges into what Discord shows on a /history page: one embed per exchange (the
// whole history as files is history-export.ts). Pure, so Discord's limit is unit-tested: all embeds
// of one message hold at most 6000 characters together (one excerpt pair stays far below the 4096 of
// a single description).
import type { APIEmbed } from 'discord.js';
import type { AttachmentMeta } from '../chat/types.js';
import type { StoredExchange } from '../history/repository.js';
import { quotedName } from './attachments/notes.js';
import type { Replies } from './replies.js';
import { truncate } from './text-cut.js';

export const HISTORY_PAGE_SIZE = 5;
export const EMBEDS_TOTAL_LIMIT = 6000;
const QUESTION_CHARS = 300;
const ANSWER_CHARS = 700;

export function shorten(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${truncate(flat, max - 1).trimEnd()}…`;
}

/** Discord renders `<t:unix:f>` in each reader's own time zone and locale. */
export function discordTimestamp(date: Date): string {
  return `<t:${Math.floor(date.getTime() / 1000)}:f>`;
}

function quote(text: string): string {
  // Backticks would open code spans across the excerpt; a look-alike keeps the text readable.
  return `> ${text.replace(/`/g, 'ˋ')}`;
}

export function formatExchange(item: StoredExchange, r: Replies, questionChars = QUESTION_CHARS, answerChars = ANSWER_CHARS): string {
  return [
    `**${r.history.you}** · ${discordTimestamp(item.createdAt)}${item.channelId ? ` · ${r.history.inThread(item.channelId)}` : ''}`,
    quote(shorten(item.userText, questionChars)),
    ...(item.attachments?.length ? [r.history.attached(attachmentList(item.attachments))] : []),
    `**${r.history.bot}**${item.stopped ? ` ${r.history.stopped}` : ''}`,
    quote(shorten(item.gptResponse, answerChars)),
  ].join('\n');
}

/** Bytes as people read them: 120 B, 47 KB, 3.2 MB. */
export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The files of an exchange, named (in code style, so a name formats nothing) with their sizes. */
export function attachmentList(attachments: readonly AttachmentMeta[]): string {
  return attachments.map((a) => `${quotedName(a.name)} (${fileSize(a.size)})`).join(', ');
}

/** One embed per exchange, newest first; the last carries the page counter. */
export function formatHistoryEmbeds(items: readonly StoredExchange[], page: number, pages: number, total: number, r: Replies): APIEmbed[] {
  const footer = r.history.footer(page, pages, total);
  // Shrink the excerpts until the whole page fits Discord's 6000-character budget for embeds.
  for (let scale = 1; ; scale -= 0.1) {
    const embeds: APIEmbed[] = items.map((item) => ({
      description: formatExchange(item, r, Math.floor(QUESTION_CHARS * scale), Math.floor(ANSWER_CHARS * scale)),
      color: 0x5865f2,
    }));
    embeds.at(-1)!.footer = { text: footer };
    const size = embeds.reduce((n, e) => n + (e.description?.length ?? 0), footer.length);
    if (size <= EMBEDS_TOTAL_LIMIT || scale <= 0.15) return embeds;
  }
}

export function pageCount(total: number, pageSize = HISTORY_PAGE_SIZE): number {
  return Math.max(1, Math.ceil(total / pageSize));
}
