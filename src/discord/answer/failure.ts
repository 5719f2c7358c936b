// A failure while answering becomes the person's notice (in their language), recorded as the reply
// so a replica taking over sends the same. Whatever was already shown of an interrupted answer stays
// as it was streamed. Redis being away is the exception: nothing can be recorded, so the person is
// told and the message stays on the stream to be answered when Redis is back.
import type { Logger } from 'pino';
import { type IncomingMessage, MessageErased, type Reply } from '../../chat/conversation.js';
import { ChatFailure } from '../../chat/errors.js';
import { isModerationRefusal } from '../../chat/moderation.js';
import { LeaseLost } from '../../chat/session-store.js';
import type { Lease } from '../../chat/user-lock.js';
import type { Replies } from '../replies.js';
import type { ReplyTarget } from '../reply-target.js';
import type { AnswererDeps } from './types.js';

export async function failureNotice(
  error: unknown,
  message: IncomingMessage,
  lease: Lease,
  target: ReplyTarget,
  { replies, log }: { replies: () => Promise<Replies>; log: Logger },
  deps: Pick<AnswererDeps, 'conversation'>,
): Promise<Reply> {
  if (error instanceof LeaseLost || error instanceof MessageErased || target.refusal) throw error;
  // Too long for the budget is the person's message, not a fault of the bot's.
  if (error instanceof ChatFailure && error.kind === 'too_long') log.info({ err: error }, 'message too long for the context budget');
  else if (!isModerationRefusal(error)) log.error({ err: error }, 'message failed'); // moderation.ts logged it
  const r = await replies();
  const text = error instanceof ChatFailure ? r.failure[error.kind] : r.unexpected;
  if (error instanceof ChatFailure && error.kind === 'memory_unavailable') {
    await target.post(text, 'notice');
    throw error;
  }
  return deps.conversation.notice(message, lease, error instanceof ChatFailure ? error.kind : 'error', text);
}
