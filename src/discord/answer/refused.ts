// A message refused when it was queued (not allowed, empty, too long, a voice message, over the
// per-minute limit, too many of the person's messages still waiting): no lock, no turn, no session —
// a notice at most, and the stream entry finished.
import type { Delivery } from '../../queue/dm-stream.js';
import { refusalOf, Undeliverable } from '../refusals.js';
import type { Replies } from '../replies.js';
import { ReplyTarget } from '../reply-target.js';
import { finishUndeliverable } from './undeliverable.js';
import type { AnswererDeps, AnswererOptions, MessageHandling } from './types.js';

export async function answerRefused(h: MessageHandling, refusal: NonNullable<Delivery['refusal']>, deps: AnswererDeps, options: AnswererOptions): Promise<void> {
  const { reason, retryAt, silent } = refusal;
  const target = await ReplyTarget.open(deps.rest, h.job, h.log, { openThread: false });
  try {
    if (!silent) await target.post(refusalText(await h.replies(), reason, retryAt, options.maxInputChars), 'notice');
  } catch (error) {
    const refused = refusalOf(error);
    if (refused instanceof Undeliverable) return await finishUndeliverable(h, refused, deps);
    if (refused) deps.onTokenRejected?.();
    throw refused ?? error;
  }
  await deps.stream.finish(h.delivery);
  h.handled(reason, silent ? { silent: true } : {});
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
    case 'backlog':
      return r.backlogFull;
  }
}
