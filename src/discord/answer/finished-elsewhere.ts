// A message this replica held may have been finished meanwhile (or erased with everything the person
// asked to forget). The case it is here for: this replica froze (a long GC
// pause, a stopped VM) past the visibility timeout, the other took the message over and answered it,
// and this one, waking, still had it in hand and heard its turn come. Looked at once the person's
// lock is held, so no other replica can be finishing it at that moment: a finished entry is deleted
// from the stream. Otherwise this replica would ask the model again and post a second answer
// (Discord's nonce window might hide that one, but not the doubled turn in the conversation).
import type { Lease } from '../../chat/user-lock.js';
import type { AnswererDeps, MessageHandling } from './types.js';

export async function finishedElsewhere(h: MessageHandling, lease: Lease, deps: Pick<AnswererDeps, 'stream'>): Promise<boolean> {
  if (await deps.stream.isQueued(h.delivery.entryId)) return false;
  await lease.release();
  h.log.info('finished meanwhile (answered by another replica, or erased); nothing left to do');
  return true;
}
