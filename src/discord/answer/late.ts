// A message written while the bot was away (found by a catch-up after an outage, or waiting out a
// long one) is answered with a short line saying the answer comes late.
import type { DmJob } from '../../queue/dm-stream.js';
import type { Replies } from '../replies.js';

// An answer to a message older than this says it comes late.
export const LATE_AFTER_MS = 5 * 60_000;

export async function lateNote(job: DmJob, replies: () => Promise<Replies>): Promise<string> {
  return Date.now() - job.createdAt > LATE_AFTER_MS ? `${(await replies()).lateAnswer}\n\n` : '';
}
