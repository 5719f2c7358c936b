// Discord refuses replies to this message for good (the person blocked the bot, the channel is gone):
// the message is finished after that one refused request, with one warn line naming the code.
import type { Undeliverable } from '../refusals.js';
import type { AnswererDeps, MessageHandling } from './types.js';

export async function finishUndeliverable(h: MessageHandling, refusal: Undeliverable, deps: Pick<AnswererDeps, 'stream'>): Promise<void> {
  h.log.warn({ status: refusal.status, code: refusal.code }, 'Discord refuses replies to this message for good; finishing it');
  await deps.stream.finish(h.delivery);
  h.handled('undeliverable');
}
