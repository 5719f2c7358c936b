// A message this replica held may be another's by now, or done with: this replica froze (a long GC
// pause, a stopped VM) past the visibility timeout, another took the message over (XAUTOCLAIM makes
// it that consumer's) and answered it or is about to, and this one, waking, still had it in hand and
// heard its turn come. Or the person erased it. Looked at once the person's lock is held: the entry is
// then left alone unless it is still handed to this replica. Asking who holds it, not whether it
// exists, also covers the moment between the other replica letting go of the lock and finishing the
// entry. Otherwise this replica would answer again (a second model call, and the turn twice in the
// conversation; Discord's nonce window might hide the second post, but the bot must not need it).
// A message wrongly left alone stays pending and is taken over again, so nothing is lost.
import type { AnswererDeps, AnswererOptions, MessageHandling } from './types.js';

export async function finishedElsewhere(h: MessageHandling, deps: Pick<AnswererDeps, 'stream'>, options: Pick<AnswererOptions, 'consumer'>): Promise<boolean> {
  const holder = await deps.stream.holderOf(h.delivery.entryId);
  if (holder === options.consumer) return false;
  h.log.info({ heldBy: holder ? 'another replica' : 'nobody' }, 'taken over or finished meanwhile (by another replica, or erased); leaving it');
  return true;
}
