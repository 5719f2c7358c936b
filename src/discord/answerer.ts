// Answers one message taken from the shared stream, on whichever replica took it:
//   wait for the person's turn → their lock → validate and admit → the conversation core (streamed
//   into Discord as the model writes) → deliver the recorded reply → finish the stream entry.
// Each step can be repeated by another replica if this one dies: the reply is recorded before it is
// delivered, and delivery finds parts already posted by their nonce, so the person gets one answer.
// One log line per message: user id, duration, outcome (never the text unless allowed).
import type { REST } from 'discord.js';
import type { Logger } from 'pino';
import type { ConversationService, IncomingMessage, Reply } from '../chat/conversation.js';
import { ChatFailure } from '../chat/errors.js';
import type { Guards } from '../chat/guards.js';
import { LeaseLost } from '../chat/session-store.js';
import type { Lease } from '../chat/user-lock.js';
import type { Delivery, DmStream } from '../queue/dm-stream.js';
import { type Replies, repliesFor } from './replies.js';
import { ReplyTarget } from './reply-target.js';
import { splitForDiscord } from './split.js';
import { StreamingReply } from './streaming-reply.js';

export interface AnswererOptions {
  maxInputChars: number;
  logMessageContent: boolean;
  /** Show the answer while it is written (edits at `streamEditIntervalMs`), or only when complete. */
  streamReplies: boolean;
  streamEditIntervalMs: number;
  /** After this many deliveries a message is given up (with an apology): it may be what kills replicas. */
  maxDeliveries: number;
  /** How long a message waits for an earlier one of the same person that makes no progress. */
  orderStallMs: number;
}

export interface AnswererDeps {
  conversation: ConversationService;
  stream: Pick<DmStream, 'waitTurn' | 'finish'>;
  lock: { acquire(userId: string): Promise<Lease> };
  rest: REST;
  logger: Logger;
  /** The language last seen from this person (DMs carry none). */
  localeOf?: (userId: string) => Promise<string | null>;
  guards?: Pick<Guards, 'admit'>;
  /** How many messages this replica has in hand (typing is skipped under load). */
  busy: () => number;
  /** Told the outcome of every finished message (for metrics). */
  onHandled?: (outcome: string) => void;
}

// Discord shows "typing…" for about 10 seconds per call. It is only sent when the model has not
// started answering within TYPING_DELAY_MS: a fast answer needs no indicator, and every REST call
// counts against the bot's global 50 requests per second.
// Under load the typing indicator is skipped altogether: answers get the request budget.
const TYPING_REFRESH_MS = 8000;
const TYPING_DELAY_MS = 250;
const TYPING_MAX_BUSY = 20;

type Validation = { ok: true; text: string } | { ok: false; outcome: 'empty' | 'too_long_input' };

function validateInput(content: string, maxInputChars: number): Validation {
  const text = content.trim();
  if (!text) return { ok: false, outcome: 'empty' };
  if (text.length > maxInputChars) return { ok: false, outcome: 'too_long_input' };
  return { ok: true, text };
}

export function createAnswerer(deps: AnswererDeps, options: AnswererOptions) {
  const { conversation, stream, logger, guards } = deps;

  return async function answer(delivery: Delivery, abandoned?: AbortSignal): Promise<void> {
    const { job } = delivery;
    const log = logger.child({
      userId: job.userId,
      messageId: job.messageId,
      ...(job.guildId ? { guildId: job.guildId } : {}),
      ...(delivery.deliveries > 1 ? { delivery: delivery.deliveries } : {}),
    });
    const message: IncomingMessage = { userId: job.userId, username: job.username, messageId: job.messageId, text: job.text, receivedAt: new Date(job.createdAt) };
    // The person's language is only needed for notices, so it is looked up only then.
    const replies = async (): Promise<Replies> => repliesFor(await deps.localeOf?.(job.userId).catch(() => null));

    if (!(await stream.waitTurn(delivery, options.orderStallMs))) {
      log.warn('an earlier message of this person made no progress; answering this one without waiting');
    }
    const started = performance.now();
    const lease = await deps.lock.acquire(job.userId);
    // This replica is stopping without finishing: free the person at once for the replica taking
    // over (anything this one still tries to record is refused, the lock being gone).
    abandoned?.addEventListener('abort', () => void lease.release(), { once: true });
    let typing: NodeJS.Timeout | undefined;
    const stopTyping = () => clearTimeout(typing); // clears the delay and the refresh interval alike
    try {
      const target = await ReplyTarget.open(deps.rest, job, log);
      let slot = 0;
      const streaming = options.streamReplies ? new StreamingReply((content) => target.post(content, slot++), options.streamEditIntervalMs) : null;

      const decide = async (): Promise<Reply> => {
        if (delivery.deliveries > options.maxDeliveries) {
          log.error({ deliveries: delivery.deliveries }, 'giving up on a message that was handed out too often');
          return conversation.notice(message, lease, 'gave_up', (await replies()).unexpected);
        }
        const input = validateInput(job.text, options.maxInputChars);
        if (!input.ok) {
          const r = await replies();
          return conversation.notice(message, lease, input.outcome, input.outcome === 'empty' ? r.emptyMessage : r.inputTooLong(options.maxInputChars));
        }
        // Admitted (and counted) on the first delivery only; a redelivered message was admitted then.
        const admitted = guards && delivery.deliveries === 1 ? await guards.admit(job.userId) : { ok: true as const };
        if (!admitted.ok) {
          const r = await replies();
          const text =
            admitted.reason === 'not_allowed' ? r.notAllowed : admitted.reason === 'rate_limited' ? r.rateLimited(admitted.retryAt) : r.tokenCap(admitted.retryAt);
          return conversation.notice(message, lease, admitted.reason, text);
        }
        const showTyping = () => void target.typing().catch((error: unknown) => log.debug({ err: error }, 'typing failed'));
        typing = setTimeout(() => {
          if (deps.busy() > TYPING_MAX_BUSY) return;
          showTyping();
          typing = setInterval(showTyping, TYPING_REFRESH_MS);
        }, TYPING_DELAY_MS);
        const onDelta = streaming
          ? (delta: string) => {
              stopTyping(); // the text itself now shows that the bot is answering
              streaming.push(delta);
            }
          : undefined;
        try {
          return await conversation.answer({ ...message, text: input.text }, lease, onDelta);
        } finally {
          stopTyping();
        }
      };

      let reply: Reply;
      try {
        reply = await decide();
      } catch (error) {
        if (error instanceof LeaseLost) throw error;
        log.error({ err: error }, 'message failed');
        const r = await replies();
        const text = error instanceof ChatFailure ? r.failure[error.kind] : r.unexpected;
        if (error instanceof ChatFailure && error.kind === 'memory_unavailable') {
          // Nothing can be recorded: tell the person, and leave the message to be answered when Redis is back.
          await target.post(text, 'notice');
          throw error;
        }
        // Whatever was already shown of an interrupted answer stays as it was streamed.
        reply = await conversation.notice(message, lease, error instanceof ChatFailure ? error.kind : 'error', text);
      }
      const outcome = reply.kind === 'answer' ? 'answered' : reply.outcome;
      if (reply.kind === 'notice') await target.post(reply.text, 'notice');
      else if (streaming?.started) await streaming.finish(reply.text);
      else await target.show(splitForDiscord(reply.text));
      if (reply.kind === 'answer' && reply.droppedTurns > 0) log.debug({ droppedTurns: reply.droppedTurns }, 'context trimmed');

      await stream.finish(delivery);
      await conversation.forget(message).catch(() => undefined); // expires by itself otherwise
      deps.onHandled?.(outcome);
      log.info(
        {
          event: 'message',
          outcome,
          ...(reply.replayed ? { replayed: true } : {}),
          // From the moment the message was queued; `answerMs` leaves out the wait for its turn.
          durationMs: Date.now() - job.queuedAt,
          answerMs: Math.round(performance.now() - started),
          ...(options.logMessageContent ? { content: job.text } : { chars: job.text.length }),
        },
        'message handled',
      );
    } catch (error) {
      if (error instanceof LeaseLost) log.warn('another replica took this message over; leaving it to that one');
      throw error;
    } finally {
      stopTyping();
      await lease.release();
    }
  };
}
