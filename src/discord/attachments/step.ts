// The attachment step of the answer path (answerer.ts): reads a queued message's attachments for the
// model that answers this person, and words the notes about what was left out, which are shown as
// the first lines of the reply. Never throws: at worst the words are answered without the files.
import type { Logger } from 'pino';
import type { IncomingMessage } from '../../chat/conversation.js';
import type { DmJob } from '../../queue/dm-stream.js';
import type { Replies } from '../replies.js';
import { noteLines } from './notes.js';
import type { AttachmentReader } from './reader.js';

export async function readAttachments(
  reader: AttachmentReader | undefined,
  job: DmJob,
  message: IncomingMessage,
  { modelFor, replies, log }: { modelFor: () => Promise<string>; replies: () => Promise<Replies>; log: Logger },
): Promise<{ message: IncomingMessage; preface: string }> {
  if (!reader || !job.attachments?.length) return { message, preface: '' };
  try {
    const read = await reader.read(job, await modelFor(), log);
    return {
      message: { ...message, ...(read.images.length ? { images: read.images } : {}), ...(read.files ? { files: read.files } : {}) },
      preface: read.notes.length ? `${noteLines(await replies(), read.notes)}\n\n` : '',
    };
  } catch (error) {
    log.error({ err: error }, 'attachments could not be read; answering the words alone');
    return { message, preface: '' };
  }
}

/** Whether a message has nothing left for the model: no words, no file and no image it can take. */
export function nothingToAnswer(message: IncomingMessage): boolean {
  return !message.text && !message.files && !message.images?.length;
}
