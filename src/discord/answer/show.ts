// Shows the reply that stands for the message: a notice, the end of a streamed answer (the last
// edits), or a whole answer split for Discord; the preface lines (late answer, attachment notes)
// come first.
import { splitForDiscord } from '../split.js';
import type { ReplyTarget } from '../reply-target.js';
import type { ComposedReply } from './compose.js';

export async function showReply(reply: ComposedReply, target: ReplyTarget, preface: string): Promise<void> {
  if (reply.kind === 'notice') await target.post(reply.text, 'notice');
  else if (reply.streamed) await reply.streamed.finish(preface + reply.text);
  else await target.show(splitForDiscord(preface + reply.text));
}
