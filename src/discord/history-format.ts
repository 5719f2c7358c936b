// Turns a page of stored exchanges into one Discord embed. Pure, so its limits are unit-tested:
// an embed description holds at most 4096 characters, and the whole embed at most 6000.
import type { APIEmbed } from 'discord.js';
import type { StoredExchange } from '../history/repository.js';
import { replies } from './replies.js';

export const HISTORY_PAGE_SIZE = 5;
export const EMBED_DESCRIPTION_LIMIT = 4096;
const QUESTION_CHARS = 300;
const ANSWER_CHARS = 450;

export function shorten(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

/** Discord renders `<t:unix:f>` in each reader's own time zone and locale. */
export function discordTimestamp(date: Date): string {
  return `<t:${Math.floor(date.getTime() / 1000)}:f>`;
}

function quote(text: string): string {
  // Escape markdown that would break the layout (code fences, mentions are already inert in embeds).
  return `> ${text.replace(/`/g, 'ˋ')}`;
}

export function formatExchange(item: StoredExchange, questionChars = QUESTION_CHARS, answerChars = ANSWER_CHARS): string {
  return [
    `**${replies.history.you}** · ${discordTimestamp(item.createdAt)}`,
    quote(shorten(item.userText, questionChars)),
    `**${replies.history.bot}**`,
    quote(shorten(item.gptResponse, answerChars)),
  ].join('\n');
}

export function formatHistoryEmbed(items: readonly StoredExchange[], page: number, pages: number, total: number): APIEmbed {
  let budget = 1;
  let description = '';
  // Shrink the excerpts until the page fits; with 5 items this normally succeeds at once.
  for (budget = 1; budget > 0.1; budget -= 0.2) {
    description = items
      .map((item) => formatExchange(item, Math.floor(QUESTION_CHARS * budget), Math.floor(ANSWER_CHARS * budget)))
      .join('\n\n');
    if (description.length <= EMBED_DESCRIPTION_LIMIT) break;
  }
  return {
    title: replies.history.title,
    description: description.slice(0, EMBED_DESCRIPTION_LIMIT),
    footer: { text: replies.history.footer(page, pages, total) },
    color: 0x5865f2,
  };
}

export function pageCount(total: number, pageSize = HISTORY_PAGE_SIZE): number {
  return Math.max(1, Math.ceil(total / pageSize));
}
