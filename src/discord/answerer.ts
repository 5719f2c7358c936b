// Answers one message taken from the shared stream, on whichever replica took it:
//   refused when queued? → the notice, nothing else · otherwise: the person's lock → admit (token cap,
//   handed out too often) → the conversation core (streamed into Discord as the model writes) →
//   deliver the recorded reply (and store the exchange meanwhile) → release the lock → finish the
//   stream entry (the person's next message may go).
// Each step can be repeated by another replica if this one dies: the reply is recorded before it is
// delivered, and delivery finds parts already posted by their nonce, so the person gets one answer.
// A refusal for good from Discord (a blocked person) finishes the message after one request; a
// rejected bot token leaves it on the stream and tells the replica to stop.
// One log line per message: user id, duration, outcome (never the text unless allowed).
import type { REST } from 'discord.js';
import type { Logger } from 'pino';
import { type ConversationService, type IncomingMessage, MessageErased, type Reply } from '../chat/conversation.js';
import { ChatFailure } from '../chat/errors.js';
import { isModerationRefusal } from '../chat/moderation.js';
import type { Guards } from '../chat/guards.js';
import { LeaseLost } from '../chat/session-store.js';
import type { Lease } from '../chat/user-lock.js';
import type { Delivery, DmStream } from '../queue/dm-stream.js';
import { metaOf, type AttachmentReader } from './attachments/reader.js';
import { nothingToAnswer, readAttachments } from './attachments/step.js';
import { refusalOf, TokenRejected, Undeliverable } from './refusals.js';
import { type Replies, repliesFor } from './replies.js';
import { ReplyTarget } from './reply-target.js';
import { splitForDiscord } from './split.js';
import type { StreamBudget } from './stream-budget.js';
import type { StopButtons } from './stop-button.js';
import { StreamingReply } from './streaming-reply.js';
import { startTyping } from './typing.js';

// An answer to a message older than this says it comes late.
const LATE_AFTER_MS = 5 * 60_000;

export interface AnswererOptions {
  logMessageContent: boolean;
  /** The longest message accepted (named in the notice refusing a longer one). */
  maxInputChars: number;
  /** Show the answer while it is written (edits at `streamEditIntervalMs`), or only when complete. */
  streamReplies: boolean;
  streamEditIntervalMs: number;
  /** After this many deliveries a message is given up (with an apology): it may be what kills replicas. */
  maxDeliveries: number;
}

export interface AnswererDeps {
  conversation: ConversationService;
  stream: Pick<DmStream, 'finish'>;
  lock: { acquire(userId: string): Promise<Lease> };
  rest: REST;
  logger: Logger;
  /** The language last seen from this person (DMs carry none). */
  localeOf?: (userId: string) => Promise<string | null>;
  guards?: Pick<Guards, 'tokenCapReached'>;
  /** How many messages this replica has in hand (typing is skipped under load). */
  busy: () => number;
  /** Told the outcome of every finished message, and how long it took from being queued (for metrics). */
  onHandled?: (outcome: string, seconds?: number) => void;
  /** Whether streamed words may spend Discord requests now (see stream-budget.ts). */
  streamBudget?: Pick<StreamBudget, 'begin' | 'hasRoom'>;
  /** Discord rejected the bot's token: this replica must stop taking work. */
  onTokenRejected?: () => void;
  /** The Stop button on answers being written, and its presses from any replica (stop-button.ts). */
  stops?: Pick<StopButtons, 'begin'>;
  /** Reads pictures and files sent with a message (attachments/reader.ts). */
  attachments?: AttachmentReader;
}

export function createAnswerer(deps: AnswererDeps, options: AnswererOptions) {
  const { conversation, stream, logger } = deps;

  return async function answer(delivery: Delivery, abandoned?: AbortSignal): Promise<void> {
    const { job } = delivery;
    const log = logger.child({
      userId: job.userId,
      messageId: job.messageId,
      ...(job.guildId ? { guildId: job.guildId } : {}),
      ...(delivery.deliveries > 1 ? { delivery: delivery.deliveries } : {}),
    });
    const started = performance.now();
    // The person's language is only needed for notices, so it is looked up only then.
    const replies = async (): Promise<Replies> => repliesFor(await deps.localeOf?.(job.userId).catch(() => null));
    const handled = (outcome: string, extra: Record<string, unknown> = {}) => {
      const durationMs = Date.now() - job.queuedAt;
      deps.onHandled?.(outcome, durationMs / 1000);
      log.info(
        {
          event: 'message',
          outcome,
          ...extra,
          // From the moment the message was queued; `answerMs` leaves out the wait for its turn.
          durationMs,
          answerMs: Math.round(performance.now() - started),
          ...(options.logMessageContent ? { content: job.text } : { chars: job.text.length }),
        },
        'message handled',
      );
    };
    const undeliverable = async (refusal: Undeliverable) => {
      log.warn({ status: refusal.status, code: refusal.code }, 'Discord refuses replies to this message for good; finishing it');
      await stream.finish(delivery);
      handled('undeliverable');
    };

    // Refused when it was queued: no lock, no turn, no session — a notice at most.
    if (delivery.refusal) {
      const { reason, retryAt, silent } = delivery.refusal;
      const target = await ReplyTarget.open(deps.rest, job, log, { openThread: false });
      try {
        if (!silent) await target.post(refusalText(await replies(), reason, retryAt, options.maxInputChars), 'notice');
      } catch (error) {
        const refusal = refusalOf(error);
        if (refusal instanceof Undeliverable) return await undeliverable(refusal);
        if (refusal) deps.onTokenRejected?.();
        throw refusal ?? error;
      }
      await stream.finish(delivery);
      return handled(reason, silent ? { silent: true } : {});
    }

    const message: IncomingMessage = {
      userId: job.userId,
      username: job.username,
      messageId: job.messageId,
      text: job.text.trim(),
      receivedAt: new Date(job.createdAt),
      // A server thread is a conversation of its own: the answer there never draws on private DMs.
      ...(job.guildId ? { place: { guildId: job.guildId, threadId: job.openThread ? job.messageId : job.channelId } } : {}),
      ...(job.attachments?.length ? { attachments: job.attachments.map(metaOf) } : {}),
    };
    const lease = await deps.lock.acquire(job.userId);
    // This replica is stopping without finishing: free the person at once for the replica taking
    // over (anything this one still tries to record is refused, the lock being gone).
    abandoned?.addEventListener('abort', () => void lease.release(), { once: true });
    let target: ReplyTarget | undefined;
    const givingUp = delivery.deliveries > options.maxDeliveries;
    if (givingUp) log.error({ deliveries: delivery.deliveries }, 'giving up on a message that was handed out too often');
    const doneWriting = deps.streamBudget?.begin();
    try {
      target = await ReplyTarget.open(deps.rest, job, log);
      // Written while the bot was away (found by a catch-up, or waiting out a long outage): said so.
      const preface = Date.now() - job.createdAt > LATE_AFTER_MS ? `${(await replies()).lateAnswer}\n\n` : '';
      // Pictures and files, read for the model that answers; notes on what was left out come first.
      const attached = givingUp ? { message, preface: '' } : await readAttachments(deps.attachments, job, message, { modelFor: () => conversation.modelFor(job.userId), replies, log });
      const reply = await decide(attached.message, lease, target, givingUp, replies, log, preface + attached.preface);
      // Stored while it is being shown (never fails: a lost store is logged), and before the
      // person's next message may start, so their exchanges are stored in the order they wrote them.
      const kept = conversation.keep(message, reply);
      try {
        await deliver(reply, target, preface + attached.preface);
      } catch (error) {
        // A message handed out too often is finished whatever becomes of its apology.
        if (!givingUp || refusalOf(error)) throw error;
        log.warn({ err: error }, 'could not deliver the apology for a message given up');
      }
      if (reply.kind === 'answer' && reply.droppedTurns > 0) log.debug({ droppedTurns: reply.droppedTurns }, 'context trimmed');
      await kept;
      await lease.release(); // before the turn moves on: the person's next message finds the lock free
      await stream.finish(delivery);
      void conversation.forget(message).catch(() => undefined); // expires by itself otherwise
      handled(reply.kind === 'answer' ? (reply.stopped ? 'stopped' : 'answered') : reply.outcome, reply.replayed ? { replayed: true } : {});
    } catch (error) {
      if (error instanceof MessageErased) {
        // Erased with everything else the person asked to forget: not answered, not kept.
        await lease.release();
        await stream.finish(delivery);
        return handled('erased');
      }
      const refusal = target?.refusal ?? refusalOf(error);
      if (refusal instanceof Undeliverable) {
        await lease.release();
        return await undeliverable(refusal);
      }
      if (refusal instanceof TokenRejected) deps.onTokenRejected?.();
      if (error instanceof LeaseLost) log.warn('another replica took this message over; leaving it to that one');
      throw refusal ?? error;
    } finally {
      doneWriting?.();
      await lease.release();
    }
  };

  /** The reply that stands for this message: the model's answer (streamed as it is written) or a notice. */
  async function decide(message: IncomingMessage, lease: Lease, target: ReplyTarget, givingUp: boolean, replies: () => Promise<Replies>, log: Logger, preface: string): Promise<Reply & { streamed?: StreamingReply }> {
    try {
      if (givingUp) {
        return await conversation.notice(message, lease, 'gave_up', (await replies()).unexpected);
      }
      const capFreesAt = await deps.guards?.tokenCapReached(message.userId);
      if (capFreesAt) return await conversation.notice(message, lease, 'token_cap', (await replies()).tokenCap(capFreesAt));
      if (nothingToAnswer(message)) return await conversation.notice(message, lease, 'attachments_only', preface.trim() || (await replies()).emptyMessage);

      let slot = 0;
      // Discord refused the first words for good, or the person pressed Stop: stop the model too.
      const cut = new AbortController();
      const stop = deps.stops?.begin(message, cut, replies);
      // Stop is offered once the model writes (a note shown before its first words has nothing to stop).
      let modelWrites = false;
      // With no request budget to show words as they come (many answers in progress), the model is
      // asked for the whole answer at once: streamed words could not be shown anyway, and parsing
      // them costs CPU every other answer needs.
      const streaming = options.streamReplies && (deps.streamBudget?.hasRoom() ?? true)
        ? new StreamingReply(async (content, button) => target.post(content, slot++, button && stop ? [await stop.row()] : undefined), {
            editIntervalMs: options.streamEditIntervalMs,
            mayStream: () => deps.streamBudget?.hasRoom() ?? true,
            stopButton: () => Boolean(stop) && modelWrites && (deps.streamBudget?.hasRoom() ?? true),
          })
        : null;
      const typing = startTyping(target, () => deps.busy(), log);
      if (preface) streaming?.push(preface);
      const onDelta = streaming
        ? (delta: string) => {
            typing.stop(); // the text itself now shows that the bot is answering
            if (target.refusal) return cut.abort();
            modelWrites = true;
            streaming.push(delta);
          }
        : undefined;
      try {
        const reply = await conversation.answer(message, lease, onDelta, cut.signal);
        return streaming?.started ? { ...reply, streamed: streaming } : reply;
      } finally {
        typing.stop();
        stop?.end();
      }
    } catch (error) {
      if (error instanceof LeaseLost || error instanceof MessageErased || target.refusal) throw error;
      // Too long for the budget is the person's message, not a fault of the bot's.
      if (error instanceof ChatFailure && error.kind === 'too_long') log.info({ err: error }, 'message too long for the context budget');
      else if (!isModerationRefusal(error)) log.error({ err: error }, 'message failed'); // moderation.ts logged it
      const r = await replies();
      const text = error instanceof ChatFailure ? r.failure[error.kind] : r.unexpected;
      if (error instanceof ChatFailure && error.kind === 'memory_unavailable') {
        // Nothing can be recorded: tell the person, and leave the message to be answered when Redis is back.
        await target.post(text, 'notice');
        throw error;
      }
      // Whatever was already shown of an interrupted answer stays as it was streamed.
      return conversation.notice(message, lease, error instanceof ChatFailure ? error.kind : 'error', text);
    }
  }

  async function deliver(reply: Reply & { streamed?: StreamingReply }, target: ReplyTarget, preface: string): Promise<void> {
    if (reply.kind === 'notice') await target.post(reply.text, 'notice');
    else if (reply.streamed) await reply.streamed.finish(preface + reply.text);
    else await target.show(splitForDiscord(preface + reply.text));
  }
}

function refusalText(r: Replies, reason: NonNullable<Delivery['refusal']>['reason'], retryAt: number | undefined, maxInputChars: number): string {
  switch (reason) {
    case 'empty':
      return r.emptyMessage;
    case 'too_long_input':
      return r.inputTooLong(maxInputChars);
    case 'not_allowed':
      return r.notAllowed;
    case 'rate_limited':
      return r.rateLimited(new Date(retryAt ?? Date.now() + 60_000));
    case 'voice_message':
      return r.voiceMessage;
  }
}
