// Answers one message taken from the shared stream, on whichever replica took it. The pipeline:
//   refused when queued? → answerRefused (a notice, nothing else)
//   otherwise: the person's lock → finished elsewhere meanwhile? (nothing to do) → where to reply → read attachments → preface (late answer, notes) →
//   admit (given up, token cap, something to answer) → compose the model's answer (streamed into
//   Discord as it is written) or a failure's notice → show it (and store the exchange meanwhile) →
//   release the lock → finish the stream entry (the person's next message may go).
// Each step can be repeated by another replica if this one dies: the reply is recorded before it is
// shown, and showing finds parts already posted by their nonce, so the person gets one answer.
// A refusal for good from Discord (a blocked person) finishes the message after one request; a
// rejected bot token leaves it on the stream and tells the replica to stop. Each step is in answer/.
import { type IncomingMessage, MessageErased } from '../chat/conversation.js';
import { LeaseLost } from '../chat/session-store.js';
import type { Lease } from '../chat/user-lock.js';
import type { Delivery, DmJob } from '../queue/dm-stream.js';
import { admit } from './answer/admission.js';
import { type ComposedReply, composeAnswer } from './answer/compose.js';
import { failureNotice } from './answer/failure.js';
import { finishedElsewhere } from './answer/finished-elsewhere.js';
import { handlingOf } from './answer/handling.js';
import { lateNote } from './answer/late.js';
import { answerRefused } from './answer/refused.js';
import { showReply } from './answer/show.js';
import type { AnswererDeps, AnswererOptions, MessageHandling } from './answer/types.js';
import { finishUndeliverable } from './answer/undeliverable.js';
import { metaOf } from './attachments/reader.js';
import { readAttachments } from './attachments/step.js';
import { refusalOf, TokenRejected, Undeliverable } from './refusals.js';
import { ReplyTarget } from './reply-target.js';

export type { AnswererDeps, AnswererOptions } from './answer/types.js';

export function createAnswerer(deps: AnswererDeps, options: AnswererOptions) {
  const { conversation, stream } = deps;

  return async function answer(delivery: Delivery, abandoned?: AbortSignal): Promise<void> {
    const h = handlingOf(delivery, deps, options);
    if (delivery.refusal) return answerRefused(h, delivery.refusal, deps, options);

    const message = incomingOf(delivery.job);
    const lease = await deps.lock.acquire(message.userId);
    // This replica is stopping without finishing: free the person at once for the replica taking
    // over (anything this one still tries to record is refused, the lock being gone).
    abandoned?.addEventListener('abort', () => void lease.release(), { once: true });
    if (abandoned?.aborted) return void (await lease.release()); // handed back while waiting for the lock
    const givingUp = delivery.deliveries > options.maxDeliveries;
    if (givingUp) h.log.error({ deliveries: delivery.deliveries }, 'giving up on a message that was handed out too often');
    const doneWriting = deps.streamBudget?.begin();
    let target: ReplyTarget | undefined;
    try {
      if (await finishedElsewhere(h, deps, options)) return;
      target = await ReplyTarget.open(deps.rest, h.job, h.log);
      const attached = givingUp ? { message, preface: '' } : await readAttachments(deps.attachments, h.job, message, { modelFor: () => conversation.modelFor(message.userId), replies: h.replies, log: h.log });
      const preface = (await lateNote(h.job, h.replies)) + attached.preface;
      const reply = await decide(h, attached.message, lease, target, givingUp, preface);
      // Stored while it is being shown (never fails: a lost store is logged), and before the
      // person's next message may start, so their exchanges are stored in the order they wrote them.
      const kept = conversation.keep(message, reply);
      await showReply(reply, target, preface).catch((error: unknown) => {
        // A message handed out too often is finished whatever becomes of its apology.
        if (!givingUp || refusalOf(error)) throw error;
        h.log.warn({ err: error }, 'could not deliver the apology for a message given up');
      });
      if (reply.kind === 'answer' && reply.droppedTurns > 0) h.log.debug({ droppedTurns: reply.droppedTurns }, 'context trimmed');
      await kept;
      await lease.release(); // before the turn moves on: the person's next message finds the lock free
      await stream.finish(delivery);
      void conversation.forget(message).catch(() => undefined); // expires by itself otherwise
      h.handled(reply.kind === 'answer' ? (reply.stopped ? 'stopped' : 'answered') : reply.outcome, reply.replayed ? { replayed: true } : {});
    } catch (error) {
      await settle(h, error, lease, target);
    } finally {
      doneWriting?.();
      await lease.release();
    }
  };

  /** The reply that stands for this message: a refusal's notice, the model's answer, or a failure's notice. */
  async function decide(h: MessageHandling, message: IncomingMessage, lease: Lease, target: ReplyTarget, givingUp: boolean, preface: string): Promise<ComposedReply> {
    try {
      const refused = await admit({ message, givingUp, preface, replies: h.replies, guards: deps.guards });
      if (refused) return await conversation.notice(message, lease, refused.outcome, refused.text);
      return await composeAnswer(message, lease, target, { preface, replies: h.replies, log: h.log }, deps, options);
    } catch (error) {
      return failureNotice(error, message, lease, target, h, deps);
    }
  }

  /** A message that could not be answered: erased meanwhile, refused by Discord for good, or left to another replica. */
  async function settle(h: MessageHandling, error: unknown, lease: Lease, target: ReplyTarget | undefined): Promise<void> {
    if (error instanceof MessageErased) {
      // Erased with everything else the person asked to forget: not answered, not kept.
      await lease.release();
      await stream.finish(h.delivery);
      return h.handled('erased');
    }
    const refusal = target?.refusal ?? refusalOf(error);
    if (refusal instanceof Undeliverable) {
      await lease.release();
      return finishUndeliverable(h, refusal, deps);
    }
    if (refusal instanceof TokenRejected) deps.onTokenRejected?.();
    if (error instanceof LeaseLost) h.log.warn('another replica took this message over; leaving it to that one');
    throw refusal ?? error;
  }
}

/** The message as the conversation core sees it. */
function incomingOf(job: DmJob): IncomingMessage {
  return {
    userId: job.userId,
    username: job.username,
    messageId: job.messageId,
    text: job.text.trim(),
    receivedAt: new Date(job.createdAt),
    // A server thread is a conversation of its own: the answer there never draws on private DMs.
    ...(job.guildId ? { place: { guildId: job.guildId, threadId: job.openThread ? job.messageId : job.channelId } } : {}),
    ...(job.attachments?.length ? { attachments: job.attachments.map(metaOf) } : {}),
  };
}

