// The handling of one message: a logger carrying who and which message, the person's language for
// notices, and the one log line per message: user id, duration, outcome (never the text unless the
// operator asked for it).
import type { Delivery } from '../../queue/dm-stream.js';
import { type Replies, repliesFor } from '../replies.js';
import type { AnswererDeps, AnswererOptions, MessageHandling } from './types.js';

export function handlingOf(delivery: Delivery, deps: AnswererDeps, options: AnswererOptions): MessageHandling {
  const { job } = delivery;
  const log = deps.logger.child({
    userId: job.userId,
    messageId: job.messageId,
    ...(job.guildId ? { guildId: job.guildId } : {}),
    ...(delivery.deliveries > 1 ? { delivery: delivery.deliveries } : {}),
  });
  const started = performance.now();
  return {
    delivery,
    job,
    log,
    replies: async (): Promise<Replies> => repliesFor(await deps.localeOf?.(job.userId).catch(() => null)),
    handled(outcome, extra = {}) {
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
    },
  };
}
