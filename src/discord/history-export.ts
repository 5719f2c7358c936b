// The whole history as downloadable files (Markdown or JSON), built from batches of rows one file at
// a time, each file within Discord's upload limit, grouped into messages (see exportLimits). An
// exchange is never split between files, so every file is whole UTF-8 and every JSON file is a
// valid array on its own (history-1.json, history-2.json, … each hold consecutive exchanges, oldest
// first; a history that fits one file is history.json). Only an exchange larger than a whole file
// is cut, with a note saying so.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { StoredExchange } from '../history/repository.js';
import { attachmentList } from './history-format.js';
import type { Replies } from './replies.js';

export type ExportFormat = 'markdown' | 'json';

export interface ExportFile {
  name: string;
  data: Buffer;
  /** How many exchanges this file holds. */
  exchanges: number;
  /** No file follows this one. */
  last: boolean;
}

/** Discord's per-file upload limit when an interaction does not carry its own `attachment_size_limit`. */
const DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024;
// Discord: "The maximum request size when sending a message is 25 MiB"; the rest is left for the
// JSON part and the multipart framing.
const REQUEST_FILE_BYTES = 25 * 1024 * 1024 - 64 * 1024;
// Discord: "Maximum number of attachments in a message reached (10)".
const FILES_PER_MESSAGE = 10;
// What one message may hold unless a single file is larger: an export keeps one message in memory.
const MESSAGE_BYTES = 10 * 1024 * 1024;

/**
 * How large one file may be and how many go in one message, for the limit Discord sent with the
 * interaction. Small files share a message (up to ten); files near 10 MiB go one per message, so an
 * export holds about one file's bytes at a time.
 */
export function exportLimits(attachmentSizeLimit: number | null | undefined): { fileBytes: number; filesPerMessage: number } {
  const limit = attachmentSizeLimit && attachmentSizeLimit > 0 ? attachmentSizeLimit : DEFAULT_ATTACHMENT_LIMIT;
  const fileBytes = Math.min(limit, REQUEST_FILE_BYTES);
  return { fileBytes, filesPerMessage: Math.max(1, Math.min(FILES_PER_MESSAGE, Math.floor(MESSAGE_BYTES / fileBytes))) };
}

interface Layout {
  extension: string;
  head: string;
  separator: string;
  tail: string;
  entry(item: StoredExchange, cutNote?: string): string;
}

function layoutFor(format: ExportFormat, r: Replies): Layout {
  if (format === 'json') {
    return {
      extension: 'json',
      head: '[\n',
      separator: ',\n',
      tail: '\n]\n',
      // JSON strings hold no raw line breaks, so indenting every line of the object is safe.
      entry: (i, cut) =>
        `  ${JSON.stringify(
          {
            time: i.createdAt.toISOString(),
            you: i.userText,
            ...(i.attachments?.length ? { attachments: i.attachments } : {}),
            bot: i.gptResponse,
            ...(i.stopped ? { stopped: true } : {}),
            model: i.model,
            tokens: i.totalTokens,
            discordMessageId: i.discordMessageId,
            ...(cut ? { cut } : {}),
          },
          null,
          2,
        ).replace(/\n/g, '\n  ')}`,
    };
  }
  return {
    extension: 'md',
    head: `# ${r.history.fileTitle}\n\n`,
    separator: '\n',
    tail: '',
    entry: (i, cut) =>
      [
        `## ${i.createdAt.toISOString()}`,
        '',
        `**${r.history.you}:**`,
        '',
        i.userText,
        '',
        ...(i.attachments?.length ? [r.history.attached(attachmentList(i.attachments)), ''] : []),
        `**${r.history.bot}** (${i.model})${i.stopped ? ` ${r.history.stopped}` : ''}:`,
        '',
        i.gptResponse,
        '',
        ...(cut ? [`> ${cut}`, ''] : []),
      ].join('\n'),
  };
}

/** The first `n` UTF-16 units of `text`, one fewer if `n` would split a surrogate pair. */
function prefix(text: string, n: number): string {
  if (n >= text.length) return text;
  const code = text.charCodeAt(n - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? n - 1 : n);
}

/** The exchange encoded whole, or, if it cannot fit in `room` bytes, with both texts cut as little as possible and a note. */
function encodeWithin(layout: Layout, item: StoredExchange, room: number, cutNote: string): Buffer {
  const whole = Buffer.from(layout.entry(item), 'utf8');
  if (whole.length <= room) return whole;
  const capped = (n: number) => Buffer.from(layout.entry({ ...item, userText: prefix(item.userText, n), gptResponse: prefix(item.gptResponse, n) }, cutNote), 'utf8');
  // The largest cap on each text's length that fits: a short text stays whole, the long one is cut.
  let [low, high] = [0, Math.max(item.userText.length, item.gptResponse.length)];
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (capped(mid).length <= room) low = mid;
    else high = mid - 1;
  }
  const cut = capped(low);
  if (cut.length > room) throw new Error(`An export file of ${room} bytes cannot hold even an empty exchange`);
  return cut;
}

/**
 * Turns batches of exchanges (oldest first) into files of at most `maxBytes`, one at a time: a file
 * is handed out as soon as the next exchange would not fit, so only one file is held here.
 */
export async function* exportFiles(
  batches: AsyncIterable<readonly StoredExchange[]>,
  { format, maxBytes, r }: { format: ExportFormat; maxBytes: number; r: Replies },
): AsyncGenerator<ExportFile> {
  const layout = layoutFor(format, r);
  const [head, separator, tail] = [layout.head, layout.separator, layout.tail].map((s) => Buffer.from(s, 'utf8')) as [Buffer, Buffer, Buffer];
  const room = maxBytes - head.length - tail.length;
  const cutNote = r.history.exportCut(maxBytes);
  let parts: Buffer[] = [];
  let used = 0;
  let made = 0;
  const close = (last: boolean): ExportFile => {
    made += 1;
    const exchanges = parts.length;
    const body = parts.flatMap((part, i) => (i === 0 ? [part] : [separator, part]));
    const file = { name: last && made === 1 ? `history.${layout.extension}` : `history-${made}.${layout.extension}`, data: Buffer.concat([head, ...body, tail]), exchanges, last };
    [parts, used] = [[], 0];
    return file;
  };
  for await (const batch of batches) {
    for (const item of batch) {
      const entry = encodeWithin(layout, item, room, cutNote);
      if (parts.length > 0 && used + separator.length + entry.length > room) yield close(false);
      used += (parts.length > 0 ? separator.length : 0) + entry.length;
      parts.push(entry);
    }
    // Encoding a batch is synchronous work: let timers, heartbeats and other people's messages in.
    await nextTurn();
  }
  if (parts.length > 0) yield close(true);
}

/** Groups files into messages of at most `filesPerMessage`; the message with the last file is marked. */
export async function* exportMessages(files: AsyncIterable<ExportFile>, filesPerMessage: number): AsyncGenerator<{ files: ExportFile[]; last: boolean }> {
  let pending: ExportFile[] = [];
  for await (const file of files) {
    pending.push(file);
    if (file.last || pending.length === filesPerMessage) {
      yield { files: pending, last: file.last };
      pending = [];
    }
  }
}
