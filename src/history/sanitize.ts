// An exchange as PostgreSQL will take it. A value the columns refuse would fail on every retry and
// hold up the outbox, so each field is fitted before it is written: U+0000 (the text type refuses
// it) dropped, half a surrogate pair replaced by U+FFFD, each string cut to its column (entities.ts),
// each count made a whole number an `integer` column holds, attachment metadata made a clean list.
import { cleanText } from '../chat/clean-text.js';
import type { AttachmentMeta, Exchange } from '../chat/types.js';

const MODEL_CHARS = 100;
const USERNAME_CHARS = 100;
const INTEGER_MAX = 2_147_483_647;

/** Text without U+0000 and without lone surrogates. */
const storableText = cleanText;

/** Storable text of at most `chars` characters as PostgreSQL counts them (code points), cut between code points. */
export function fitToColumn(text: string, chars: number): string {
  const clean = storableText(text);
  if (clean.length <= chars) return clean; // never more code points than UTF-16 units
  let end = 0;
  let count = 0;
  for (const codePoint of clean) {
    if (count === chars) break;
    end += codePoint.length;
    count += 1;
  }
  return clean.slice(0, end);
}

function storableCount(n: number | undefined): number {
  return n !== undefined && Number.isFinite(n) ? Math.min(Math.max(Math.round(n), 0), INTEGER_MAX) : 0;
}

// Discord allows 10 attachments per message; names are at most a few hundred characters.
const ATTACHMENTS = 10;
const ATTACHMENT_NAME_CHARS = 255;
const ATTACHMENT_TYPE_CHARS = 100;

/**
 * Attachment metadata as the jsonb column takes it: a list (anything else, e.g. from a damaged outbox
 * entry, is dropped), names and types cleaned (jsonb refuses U+0000 too) and cut, sizes whole numbers.
 */
function storableAttachments(attachments: unknown): AttachmentMeta[] | undefined {
  if (!Array.isArray(attachments) || attachments.length === 0) return undefined;
  return attachments.slice(0, ATTACHMENTS).map((a: Partial<AttachmentMeta> | null) => ({
    name: fitToColumn(String(a?.name ?? ''), ATTACHMENT_NAME_CHARS),
    type: fitToColumn(String(a?.type ?? ''), ATTACHMENT_TYPE_CHARS),
    size: Number.isFinite(a?.size) ? Math.max(0, Math.round(a!.size!)) : 0,
  }));
}

export function storable(exchange: Exchange, username?: string): { exchange: Exchange; username?: string } {
  const { usage } = exchange;
  const attachments = storableAttachments(exchange.attachments);
  const { attachments: _given, ...rest } = exchange;
  return {
    exchange: {
      ...rest,
      ...(attachments ? { attachments } : {}),
      userText: storableText(exchange.userText),
      gptResponse: storableText(exchange.gptResponse),
      model: fitToColumn(exchange.model, MODEL_CHARS),
      usage: {
        promptTokens: storableCount(usage.promptTokens),
        completionTokens: storableCount(usage.completionTokens),
        totalTokens: storableCount(usage.totalTokens),
        cachedTokens: storableCount(usage.cachedTokens),
      },
    },
    username: username === undefined ? undefined : fitToColumn(username, USERNAME_CHARS),
  };
}
